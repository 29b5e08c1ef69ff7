/*
 * test_ipchoice.c -- mail/ipchoice: rule patterns (addresses, "@domain", domains; case;
 * no subdomains), when a rule applies (from matches, or to matches every recipient), and
 * the weighted choice: exact shares over every value, zero weights never chosen unless all
 * are zero, and token hashes spreading random tokens by the weights.
 */
#include "config.h"

#include <stdio.h>

#include "mail/ipchoice.h"
#include "unit.h"

START_TEST(patterns)
{
    ck_assert_int_eq(ipchoice_pattern_match("news@example.com", "news@example.com"), 1);
    ck_assert_int_eq(ipchoice_pattern_match("NEWS@Example.COM", "news@example.com"), 1);
    ck_assert_int_eq(ipchoice_pattern_match("news@example.com", "bignews@example.com"), 0);
    ck_assert_int_eq(ipchoice_pattern_match("@example.com", "anyone@EXAMPLE.com"), 1);
    ck_assert_int_eq(ipchoice_pattern_match("@example.com", "anyone@sub.example.com"), 0);
    ck_assert_int_eq(ipchoice_pattern_match("example.com", "a@example.com"), 1);
    ck_assert_int_eq(ipchoice_pattern_match("example.com", "a@sub.example.com"), 0);
    ck_assert_int_eq(ipchoice_pattern_match("example.com", "a@notexample.com"), 0);
    ck_assert_int_eq(ipchoice_pattern_match("example.com", "example.com"), 0);
    ck_assert_int_eq(ipchoice_pattern_match("", "a@example.com"), 0);
}
END_TEST

START_TEST(rules)
{
    const char *one[] = {"a@vip.example"};
    const char *mixed[] = {"a@vip.example", "b@other.example"};
    const char *both[] = {"a@vip.example", "b@VIP.example"};

    ck_assert_int_eq(ipchoice_rule_applies("x.example\nnews@example.com", NULL, "news@example.com", one, 1), 1);
    ck_assert_int_eq(ipchoice_rule_applies("x.example\r\nexample.com\n", NULL, "app@example.com", one, 1), 1);
    ck_assert_int_eq(ipchoice_rule_applies("x.example", NULL, "news@example.com", one, 1), 0);
    ck_assert_int_eq(ipchoice_rule_applies(NULL, "vip.example", "news@example.com", one, 1), 1);
    ck_assert_int_eq(ipchoice_rule_applies(NULL, "vip.example", "news@example.com", both, 2), 1);
    ck_assert_int_eq(ipchoice_rule_applies(NULL, "vip.example", "news@example.com", mixed, 2), 0);
    ck_assert_int_eq(ipchoice_rule_applies(NULL, "vip.example\nother.example", "n@example.com", mixed, 2), 1);
    ck_assert_int_eq(ipchoice_rule_applies(NULL, "vip.example", "news@example.com", one, 0), 0);
    ck_assert_int_eq(ipchoice_rule_applies(NULL, NULL, "news@example.com", one, 1), 0);
}
END_TEST

START_TEST(weights)
{
    const long long w[] = {100, 0, 50, 25};
    const long long zero[] = {0, 0, 0};
    size_t count[4] = {0};

    /* Every value of one period: the shares are exact. */
    for (unsigned long long r = 0; r < 175 * 4; r++)
        count[ipchoice_pick(w, 4, r)]++;
    ck_assert_uint_eq(count[0], 400);
    ck_assert_uint_eq(count[1], 0);
    ck_assert_uint_eq(count[2], 200);
    ck_assert_uint_eq(count[3], 100);
    ck_assert_uint_eq(ipchoice_pick(w, 4, 99), 0);
    ck_assert_uint_eq(ipchoice_pick(w, 4, 100), 2);
    ck_assert_uint_eq(ipchoice_pick(w, 4, 174), 3);
    ck_assert_uint_eq(ipchoice_pick(zero, 3, 4), 1);
    ck_assert_uint_eq(ipchoice_pick(w, 1, 12345), 0);
}
END_TEST

START_TEST(token_hash_spreads)
{
    const long long w[] = {100, 50};
    size_t count[2] = {0};
    char token[17];

    for (int i = 0; i < 3000; i++) {
        snprintf(token, sizeof(token), "t%015d", i * 7919);
        count[ipchoice_pick(w, 2, ipchoice_hash(token))]++;
    }
    /* 2000:1000 expected; 25.8 is one standard deviation. */
    ck_assert_uint_ge(count[0], 1900);
    ck_assert_uint_le(count[0], 2100);
    ck_assert_uint_eq(ipchoice_hash("abc"), ipchoice_hash("abc"));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ipchoice");
    TCase *tc = tcase_create("ipchoice");

    tcase_add_test(tc, patterns);
    tcase_add_test(tc, rules);
    tcase_add_test(tc, weights);
    tcase_add_test(tc, token_hash_spreads);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
