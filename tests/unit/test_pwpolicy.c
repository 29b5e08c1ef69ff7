/*
 * test_pwpolicy.c -- the password policy (lib/mail/pwpolicy.c): each rule refuses with its
 * name and sentence, lengths count characters and follow the configuration, the breached
 * list matches whatever the case and skips comments, the shipped list (data/) loads, and
 * an unreadable list is an error naming the key and the file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "mail/pwpolicy.h"
#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"

static char *dir;

static const PWPOLICY_RULES poste = {.min_length = 10, .require_upper = 1, .require_lower = 1,
                                     .require_digit = 1, .require_symbol = 1};

static void
setup(void)
{
    dir = unit_tmpdir();
}

static void
teardown(void)
{
    unit_rmtree(dir);
    mem_free(dir);
}

static PWPOLICY *
policy(const PWPOLICY_RULES *r, const char *list_text)
{
    char *path = list_text ? unit_write_file(dir, "list.txt", list_text) : NULL, *error = NULL;
    PWPOLICY *p = pwpolicy_new(r, path, &error);

    ck_assert_msg(p != NULL, "pwpolicy_new: %s", error ? error : "");
    mem_free(path);
    return p;
}

/* The rule that refuses pw, or "" when it is accepted; the sentence is checked to exist. */
static const char *
refusal(const PWPOLICY *p, const char *pw)
{
    const char *rule = NULL, *reason = NULL;

    if (pwpolicy_check(p, pw, &rule, &reason) == 0)
        return "";
    ck_assert_ptr_nonnull(rule);
    ck_assert_ptr_nonnull(reason);
    ck_assert(strncmp(reason, "password ", 9) == 0);
    return rule;
}

START_TEST(each_rule)
{
    PWPOLICY *p = policy(&poste, NULL);
    const char *rule, *reason;

    ck_assert_str_eq(refusal(p, "Correct-H0rse"), "");
    ck_assert_str_eq(refusal(p, "Sh0rt-pw!"), PWPOLICY_RULE_MIN_LENGTH);
    ck_assert_str_eq(refusal(p, "lower-case-only-1"), PWPOLICY_RULE_UPPER);
    ck_assert_str_eq(refusal(p, "UPPER-CASE-ONLY-1"), PWPOLICY_RULE_LOWER);
    ck_assert_str_eq(refusal(p, "No-Digits-Here"), PWPOLICY_RULE_DIGIT);
    ck_assert_str_eq(refusal(p, "NoSymbols1234"), PWPOLICY_RULE_SYMBOL);
    ck_assert_str_eq(refusal(p, ""), PWPOLICY_RULE_MIN_LENGTH);
    /* A space and a non-ASCII character are symbols. */
    ck_assert_str_eq(refusal(p, "Correct H0rse"), "");
    ck_assert_str_eq(refusal(p, "Correct\xc3\xa9H0rse"), "");
    /* The sentences name the rule. */
    ck_assert_int_eq(pwpolicy_check(p, "Sh0rt-pw!", &rule, &reason), -1);
    ck_assert_str_eq(reason, "password must be at least 10 characters");
    ck_assert_int_eq(pwpolicy_check(p, "NoSymbols1234", &rule, &reason), -1);
    ck_assert(strstr(reason, "symbol") != NULL);
    ck_assert_int_eq(pwpolicy_check(p, "No-Digits-Here", &rule, &reason), -1);
    ck_assert_str_eq(reason, "password must contain a digit");
    ck_assert_str_eq(pwpolicy_describe(p), "at least 10 characters mixing upper case, lower case, digits and symbols");
    pwpolicy_free(p);
}
END_TEST

START_TEST(length_counts_characters)
{
    PWPOLICY *p = policy(&poste, NULL);
    BUF *b = buf_new(2048);

    /* Nine characters in 13 bytes: too short, though over 10 bytes. */
    ck_assert_str_eq(refusal(p, "Ab1-\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x"), PWPOLICY_RULE_MIN_LENGTH);
    /* Ten characters: long enough. */
    ck_assert_str_eq(refusal(p, "Ab1-\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9xy"), "");
    /* Over 1024 bytes: refused as too long. */
    buf_append_str(b, "Aa1-");
    while (buf_len(b) <= 1024)
        buf_append_char(b, 'x');
    ck_assert_str_eq(refusal(p, buf_cstr(b)), PWPOLICY_RULE_MAX_LENGTH);
    buf_truncate(b, 1024);
    ck_assert_str_eq(refusal(p, buf_cstr(b)), "");
    buf_free(b);
    pwpolicy_free(p);
}
END_TEST

START_TEST(configurable_rules)
{
    PWPOLICY_RULES r = {.min_length = 16};
    PWPOLICY *p = policy(&r, NULL);
    const char *rule, *reason;

    /* No classes required: only the length counts. */
    ck_assert_str_eq(refusal(p, "fifteen-chars-x"), PWPOLICY_RULE_MIN_LENGTH);
    ck_assert_int_eq(pwpolicy_check(p, "fifteen-chars-x", &rule, &reason), -1);
    ck_assert_str_eq(reason, "password must be at least 16 characters");
    ck_assert_str_eq(refusal(p, "sixteen-chars-xy"), "");
    ck_assert_str_eq(refusal(p, "aaaaaaaaaaaaaaaa"), "");
    ck_assert_str_eq(pwpolicy_describe(p), "at least 16 characters");
    pwpolicy_free(p);

    r = (PWPOLICY_RULES) {.min_length = 4, .require_digit = 1};
    p = policy(&r, NULL);
    ck_assert_str_eq(refusal(p, "abc"), PWPOLICY_RULE_MIN_LENGTH);
    ck_assert_str_eq(refusal(p, "abcd"), PWPOLICY_RULE_DIGIT);
    ck_assert_str_eq(refusal(p, "abc4"), "");
    ck_assert_str_eq(pwpolicy_describe(p), "at least 4 characters mixing digits");
    pwpolicy_free(p);
}
END_TEST

START_TEST(breached_list)
{
    PWPOLICY *p = policy(&poste, "# a comment: Comment-L1ne!\n\nSummer-2024!\r\nWinter-2024!\nsummer-2024!\n"
                                 "#Hash-Start-1\ndragon\nZebra-Last-9!");
    const char *rule, *reason;

    /* Duplicates that differ only in case count once. */
    ck_assert_uint_eq(pwpolicy_breached_count(p), 4);
    ck_assert_str_eq(refusal(p, "Summer-2024!"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "sUMMER-2024!"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "wINTER-2024!"), PWPOLICY_RULE_BREACHED);
    /* A last line without a newline is an entry too; a CR before the newline is not part of one. */
    ck_assert_str_eq(refusal(p, "Zebra-Last-9!"), PWPOLICY_RULE_BREACHED);
    ck_assert_int_eq(pwpolicy_check(p, "Summer-2024!", &rule, &reason), -1);
    ck_assert_str_eq(reason, "password is on the list of breached passwords");
    /* Comments are not entries; near misses are not matches. */
    ck_assert_str_eq(refusal(p, "Comment-L1ne!"), "");
    ck_assert_str_eq(refusal(p, "Hash-Start-1!"), "");
    ck_assert_str_eq(refusal(p, "Summer-2024!!"), "");
    ck_assert_str_eq(refusal(p, "Summer-2025!"), "");
    /* A listed password with digits or symbols added around it is refused too ... */
    ck_assert_str_eq(refusal(p, "Dragon-2024!"), PWPOLICY_RULE_BREACHED);
    ck_assert_int_eq(pwpolicy_check(p, "2024-DRAGoN-!!", &rule, &reason), -1);
    ck_assert_str_eq(rule, PWPOLICY_RULE_BREACHED);
    ck_assert(strstr(reason, "digits or symbols") != NULL);
    /* ... but not a password that merely contains one with letters beside it. */
    ck_assert_str_eq(refusal(p, "xDragon-2024!"), "");
    ck_assert_str_eq(refusal(p, "Dragon-2024!x"), "");
    ck_assert_str_eq(refusal(p, "Dragon-Fly-2024!"), "");
    /* The shape rules come first: a short listed password fails on its length. */
    pwpolicy_free(p);
    p = policy(&poste, "Aa1-\n");
    ck_assert_str_eq(refusal(p, "aA1-"), PWPOLICY_RULE_MIN_LENGTH);
    pwpolicy_free(p);
}
END_TEST

/* The list shipped in data/ loads, and the passwords people reach for first are on it. */
START_TEST(shipped_list)
{
    const char *top = getenv("top_srcdir");
    char *path = buf_asprintf("%s/data/breached-passwords.txt", top ? top : "../.."), *error = NULL;
    PWPOLICY_RULES r = {.min_length = 1};
    PWPOLICY *p = pwpolicy_new(&r, path, &error);

    ck_assert_msg(p != NULL, "%s", error ? error : "");
    ck_assert_uint_gt(pwpolicy_breached_count(p), 3000);
    ck_assert_str_eq(refusal(p, "password"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "PassWord1"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "123456"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "basketball"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "Correct-H0rse-Battery"), "");
    /* The file's own header is comments, not passwords. */
    ck_assert_str_eq(refusal(p, "#!comment:"), "");
    /* Under the default rules, the dressed-up forms of listed passwords. */
    r = poste;
    pwpolicy_free(p);
    p = pwpolicy_new(&r, path, &error);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(refusal(p, "Password123!"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "Basketball-2024!"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "!!1Dragon1!!"), PWPOLICY_RULE_BREACHED);
    ck_assert_str_eq(refusal(p, "Adm1n-pass-phrase"), "");
    ck_assert_str_eq(refusal(p, "Demo-0123456789abcdef01234567-9"), "");
    pwpolicy_free(p);
    mem_free(path);
}
END_TEST

START_TEST(from_config)
{
    char *conf = unit_write_file(dir, "postgate.conf", "passwords: { min_length = 12; require_symbol = false; "
                                 "breached_list = \"/nonexistent/list.txt\"; };\n");
    char *error = NULL;
    PGCONF *cfg = conf_load(conf, 0, &error);
    PWPOLICY *p;

    ck_assert_msg(cfg != NULL, "%s", error ? error : "");
    ck_assert_ptr_null(pwpolicy_from_config(cfg, &error));
    ck_assert_msg(strstr(error, "passwords.breached_list") && strstr(error, "/nonexistent/list.txt")
                  && strstr(error, "No such file"), "%s", error);
    mem_free(error);
    error = NULL;
    conf_unref(cfg);

    mem_free(conf);
    conf = unit_write_file(dir, "postgate.conf", "passwords: { min_length = 12; require_symbol = false; "
                           "breached_list = \"\"; };\n");
    cfg = conf_load(conf, 0, &error);
    ck_assert_msg(cfg != NULL, "%s", error ? error : "");
    p = pwpolicy_from_config(cfg, &error);
    ck_assert_msg(p != NULL, "%s", error ? error : "");
    ck_assert_str_eq(refusal(p, "NoSymbol1x"), PWPOLICY_RULE_MIN_LENGTH);
    ck_assert_str_eq(refusal(p, "NoSymbol1xyz"), "");
    ck_assert_str_eq(refusal(p, "password"), PWPOLICY_RULE_MIN_LENGTH);
    ck_assert_uint_eq(pwpolicy_breached_count(p), 0);
    pwpolicy_free(p);
    conf_unref(cfg);
    mem_free(conf);

    /* The defaults are poste.io's rule. */
    cfg = conf_load(NULL, 1, &error);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(cfg->passwords_min_length, 10);
    ck_assert(cfg->passwords_require_upper && cfg->passwords_require_lower && cfg->passwords_require_digit
              && cfg->passwords_require_symbol);
    ck_assert(strstr(cfg->passwords_breached_list, "/breached-passwords.txt") != NULL);
    conf_unref(cfg);
}
END_TEST

START_TEST(unreadable_list)
{
    PWPOLICY_RULES r = poste;
    char *error = NULL;

    ck_assert_ptr_null(pwpolicy_new(&r, dir, &error));
    ck_assert_msg(strstr(error, "not a regular file") != NULL, "%s", error);
    mem_free(error);
    error = NULL;
    r.min_length = 0;
    ck_assert_ptr_null(pwpolicy_new(&r, NULL, &error));
    mem_free(error);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pwpolicy");
    TCase *tc = tcase_create("pwpolicy");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, each_rule);
    tcase_add_test(tc, length_counts_characters);
    tcase_add_test(tc, configurable_rules);
    tcase_add_test(tc, breached_list);
    tcase_add_test(tc, shipped_list);
    tcase_add_test(tc, from_config);
    tcase_add_test(tc, unreadable_list);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
