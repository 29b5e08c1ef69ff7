/*
 * test_utf8.c -- util/utf8: what counts as a valid character (RFC 3629: overlong forms,
 * surrogates, code points above U+10FFFF, truncated sequences and NUL refused) and the
 * cleaner's output, one '?' per bad byte, valid characters kept whole.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "util/mem.h"
#include "util/utf8.h"

/* utf8_clean of the n bytes at s, compared with want (static storage for the message). */
static void
clean_is(const char *s, size_t n, const char *want)
{
    size_t len = 0;
    char *out = utf8_clean(s, n, &len);

    ck_assert_uint_eq(len, n);
    ck_assert_uint_eq(strlen(out), n);
    ck_assert_str_eq(out, want);
    ck_assert(utf8_valid(out, len));
    mem_free(out);
}

START_TEST(valid_characters)
{
    ck_assert_uint_eq(utf8_char_len("a", 1), 1);
    ck_assert_uint_eq(utf8_char_len("\xc3\xa9", 2), 2);             /* U+00E9 */
    ck_assert_uint_eq(utf8_char_len("\xe2\x82\xac", 3), 3);         /* U+20AC */
    ck_assert_uint_eq(utf8_char_len("\xf0\x9f\x98\x80", 4), 4);     /* U+1F600 */
    ck_assert_uint_eq(utf8_char_len("\xf4\x8f\xbf\xbf", 4), 4);     /* U+10FFFF, the last */
    ck_assert_uint_eq(utf8_char_len("\xef\xbf\xbe", 3), 3);         /* U+FFFE: a noncharacter, still valid */
    ck_assert_uint_eq(utf8_char_len("\xc3\xa9zz", 4), 2);           /* only the first character counts */
    ck_assert(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    ck_assert(utf8_valid("", 0));
}
END_TEST

START_TEST(overlong_forms)
{
    ck_assert_uint_eq(utf8_char_len("\xc0\xaf", 2), 0);             /* '/' in two bytes */
    ck_assert_uint_eq(utf8_char_len("\xc1\xbf", 2), 0);
    ck_assert_uint_eq(utf8_char_len("\xe0\x80\xaf", 3), 0);
    ck_assert_uint_eq(utf8_char_len("\xe0\x9f\xbf", 3), 0);         /* U+07FF in three bytes */
    ck_assert_uint_eq(utf8_char_len("\xf0\x80\x80\xaf", 4), 0);
    ck_assert_uint_eq(utf8_char_len("\xf0\x8f\xbf\xbf", 4), 0);     /* U+FFFF in four bytes */
    ck_assert_uint_eq(utf8_char_len("\xc0\x80", 2), 0);             /* "modified UTF-8" NUL */
    clean_is("a\xc0\xafz", 4, "a??z");
}
END_TEST

START_TEST(surrogates_and_beyond)
{
    ck_assert_uint_eq(utf8_char_len("\xed\xa0\x80", 3), 0);         /* U+D800 */
    ck_assert_uint_eq(utf8_char_len("\xed\xbf\xbf", 3), 0);         /* U+DFFF */
    ck_assert_uint_eq(utf8_char_len("\xed\x9f\xbf", 3), 3);         /* U+D7FF is fine */
    ck_assert_uint_eq(utf8_char_len("\xf4\x90\x80\x80", 4), 0);     /* U+110000 */
    ck_assert_uint_eq(utf8_char_len("\xf5\x80\x80\x80", 4), 0);
    ck_assert_uint_eq(utf8_char_len("\xf8\x88\x80\x80\x80", 5), 0); /* old five-byte form */
    ck_assert_uint_eq(utf8_char_len("\xff", 1), 0);
    ck_assert_uint_eq(utf8_char_len("\x80", 1), 0);                 /* a stray continuation byte */
    clean_is("\xed\xa0\x80x", 4, "???x");
}
END_TEST

START_TEST(truncated_sequences)
{
    ck_assert_uint_eq(utf8_char_len("\xe2\x82", 2), 0);
    ck_assert_uint_eq(utf8_char_len("\xe2\x82\xac", 2), 0);         /* the length given is what counts */
    ck_assert_uint_eq(utf8_char_len("\xf0\x9f\x98", 3), 0);
    ck_assert_uint_eq(utf8_char_len("", 0), 0);
    ck_assert(!utf8_valid("ok\xe2\x82", 4));
    clean_is("\xe2\x82" "a", 3, "??a");
    clean_is("end\xf0\x9f\x98", 6, "end???");
    /* A valid character right after a broken one survives. */
    clean_is("\xe2\xc3\xa9", 3, "?\xc3\xa9");
}
END_TEST

START_TEST(nul_bytes)
{
    ck_assert_uint_eq(utf8_char_len("\0", 1), 0);
    ck_assert(!utf8_valid("a\0b", 3));
    clean_is("a\0b", 3, "a?b");
    clean_is("\0", 1, "?");
}
END_TEST

START_TEST(clean_keeps_valid_text)
{
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 <b>\t\r\n";

    clean_is(s, strlen(s), s);
    clean_is("", 0, "");
    clean_is("x\xffy\xc3\xa9", 5, "x?y\xc3\xa9");
}
END_TEST

/* A cut never splits a character: the length drops back to the last boundary. */
START_TEST(cut_at_boundaries)
{
    const char *s = "ab\xc3\xa9\xe2\x82\xac";    /* a b e-acute euro: 2 + 2 + 3 bytes */

    ck_assert_uint_eq(utf8_cut(s, 7, 10), 7);
    ck_assert_uint_eq(utf8_cut(s, 7, 7), 7);
    ck_assert_uint_eq(utf8_cut(s, 7, 6), 4);
    ck_assert_uint_eq(utf8_cut(s, 7, 5), 4);
    ck_assert_uint_eq(utf8_cut(s, 7, 3), 2);
    ck_assert_uint_eq(utf8_cut(s, 7, 0), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("utf8");

    tcase_add_test(tc, valid_characters);
    tcase_add_test(tc, cut_at_boundaries);
    tcase_add_test(tc, overlong_forms);
    tcase_add_test(tc, surrogates_and_beyond);
    tcase_add_test(tc, truncated_sequences);
    tcase_add_test(tc, nul_bytes);
    tcase_add_test(tc, clean_keeps_valid_text);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
