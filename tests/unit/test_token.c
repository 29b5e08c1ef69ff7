/*
 * test_token.c -- random tokens: length, alphabet, no repeats, no visible bias;
 * UUID format; SHA-256 digests against a known vector; password hashing.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "unit.h"
#include "util/mem.h"
#include "util/password.h"
#include "util/token.h"

START_TEST(tokens_have_length_and_alphabet)
{
    char t[65];

    ck_assert_int_eq(token_generate(t, 16, TOKEN_ALNUM), 0);
    ck_assert_uint_eq(strlen(t), 16);
    for (int i = 0; i < 16; i++)
        ck_assert(isalnum((unsigned char) t[i]));
    ck_assert_int_eq(token_generate(t, 8, TOKEN_LOWER_ALNUM), 0);
    for (int i = 0; i < 8; i++)
        ck_assert(islower((unsigned char) t[i]) || isdigit((unsigned char) t[i]));
    ck_assert_int_eq(token_generate(t, 4, ""), -1);
}
END_TEST

START_TEST(tokens_do_not_repeat)
{
    char a[25], b[25];

    for (int i = 0; i < 200; i++) {
        token_generate(a, 24, TOKEN_ALNUM);
        token_generate(b, 24, TOKEN_ALNUM);
        ck_assert_str_ne(a, b);
    }
}
END_TEST

/* 62 symbols do not divide 256: without rejection sampling the first 8 would be
 * drawn 5/4 as often. Over 620,000 draws each symbol expects 10,000. */
START_TEST(tokens_are_not_biased)
{
    static char t[620001];
    long counts[256] = {0};
    long lo = 1 << 30, hi = 0;

    ck_assert_int_eq(token_generate(t, sizeof(t) - 1, TOKEN_ALNUM), 0);
    for (size_t i = 0; i < sizeof(t) - 1; i++)
        counts[(unsigned char) t[i]]++;
    for (const char *c = TOKEN_ALNUM; *c; c++) {
        long n = counts[(unsigned char) *c];

        lo = n < lo ? n : lo;
        hi = n > hi ? n : hi;
    }
    ck_assert_int_gt(lo, 9400);
    ck_assert_int_lt(hi, 10600);
}
END_TEST

START_TEST(uuid_format)
{
    char u[37], v[37];

    ck_assert_int_eq(token_uuid(u), 0);
    token_uuid(v);
    ck_assert_uint_eq(strlen(u), 36);
    ck_assert(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
    ck_assert_int_eq(u[14], '4');
    ck_assert(strchr("89ab", u[19]) != NULL);
    ck_assert_str_ne(u, v);
}
END_TEST

START_TEST(sha256_known_vector)
{
    char out[65];

    token_sha256_hex("abc", 3, out);
    ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert(token_equal("same", "same", 4));
    ck_assert(!token_equal("same", "sane", 4));
}
END_TEST

START_TEST(password_hash_and_verify)
{
    char hash[PASSWORD_HASH_MAX];
    char hash2[PASSWORD_HASH_MAX];
    char *why = NULL;

    ck_assert_int_eq(password_hash("correct horse", hash, sizeof(hash), &why), 0);
    ck_assert(strncmp(hash, "$argon2id$", 10) == 0);
    ck_assert(strstr(hash, "correct horse") == NULL);
    ck_assert_int_eq(password_verify(hash, "correct horse"), 1);
    ck_assert_int_eq(password_verify(hash, "correct horsf"), 0);
    ck_assert_int_eq(password_verify("plaintext", "plaintext"), -1);
    /* Salted: the same password hashes differently. */
    password_hash("correct horse", hash2, sizeof(hash2), &why);
    ck_assert_str_ne(hash, hash2);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("token");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, tokens_have_length_and_alphabet);
    tcase_add_test(tc, tokens_do_not_repeat);
    tcase_add_test(tc, tokens_are_not_biased);
    tcase_add_test(tc, uuid_format);
    tcase_add_test(tc, sha256_known_vector);
    tcase_add_test(tc, password_hash_and_verify);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
