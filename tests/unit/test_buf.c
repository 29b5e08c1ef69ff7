/*
 * test_buf.c -- growable buffers: growth, NUL termination, binary data, limits.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"

START_TEST(append_grows_and_terminates)
{
    BUF *b = buf_new(1);

    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(buf_append_str(b, "abc"), 0);
    ck_assert_uint_eq(buf_len(b), 3000);
    ck_assert_int_eq(buf_cstr(b)[3000], '\0');
    ck_assert(strncmp(buf_cstr(b) + 2997, "abc", 3) == 0);
    buf_free(b);
}
END_TEST

START_TEST(binary_data_keeps_nuls)
{
    BUF *b = buf_new(4);
    static const char data[] = {'a', '\0', 'b', '\0', 'c'};

    buf_append(b, data, sizeof(data));
    ck_assert_uint_eq(buf_len(b), 5);
    ck_assert(memcmp(buf_data(b), data, 5) == 0);
    buf_free(b);
}
END_TEST

START_TEST(printf_appends_and_grows)
{
    BUF *b = buf_new(2);
    char big[300];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_printf(b, "%d-", 42);
    buf_printf(b, "%s", big);
    ck_assert_uint_eq(buf_len(b), 3 + 299);
    ck_assert(strncmp(buf_cstr(b), "42-xxx", 6) == 0);
    buf_free(b);
}
END_TEST

START_TEST(limit_refuses_without_change)
{
    BUF *b = buf_new(4);

    buf_set_limit(b, 5);
    ck_assert_int_eq(buf_append_str(b, "1234"), 0);
    ck_assert_int_eq(buf_append_str(b, "56"), -1);
    ck_assert_str_eq(buf_cstr(b), "1234");
    ck_assert_int_eq(buf_printf(b, "%s", "xy"), -1);
    ck_assert_str_eq(buf_cstr(b), "1234");
    ck_assert_int_eq(buf_append_char(b, '5'), 0);
    ck_assert_str_eq(buf_cstr(b), "12345");
    buf_free(b);
}
END_TEST

START_TEST(truncate_reset_steal)
{
    BUF *b = buf_new(8);
    size_t len;
    char *s;

    buf_append_str(b, "hello world");
    buf_truncate(b, 5);
    ck_assert_str_eq(buf_cstr(b), "hello");
    buf_truncate(b, 50);
    ck_assert_uint_eq(buf_len(b), 5);
    buf_reset(b);
    ck_assert_uint_eq(buf_len(b), 0);
    ck_assert_str_eq(buf_cstr(b), "");
    buf_append_str(b, "kept");
    s = buf_steal(b, &len);
    ck_assert_uint_eq(len, 4);
    ck_assert_str_eq(s, "kept");
    mem_free(s);
}
END_TEST

START_TEST(asprintf_formats_any_length)
{
    char *s = buf_asprintf("%s:%d: %s", "/etc/postgate.conf", 3, "unknown key");
    char *long_s;

    ck_assert_str_eq(s, "/etc/postgate.conf:3: unknown key");
    mem_free(s);
    long_s = buf_asprintf("%0500d", 7);
    ck_assert_uint_eq(strlen(long_s), 500);
    ck_assert_int_eq(long_s[499], '7');
    mem_free(long_s);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");

    tcase_add_test(tc, append_grows_and_terminates);
    tcase_add_test(tc, binary_data_keeps_nuls);
    tcase_add_test(tc, printf_appends_and_grows);
    tcase_add_test(tc, limit_refuses_without_change);
    tcase_add_test(tc, truncate_reset_steal);
    tcase_add_test(tc, asprintf_formats_any_length);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
