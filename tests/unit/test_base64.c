/*
 * test_base64.c -- util/base64: RFC 4648's test vectors both ways, the URL alphabet with
 * and without padding, MIME line wrapping, strict decoding refusing garbage, and the
 * lenient modes (Postal's API v1 reading, RFC 2045 bodies) accepting only what they name.
 */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"

/* RFC 4648 section 10. */
static const char *const vectors[][2] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};
#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* The decoding of in under flags as a string, or NULL when refused (static storage). */
static const char *
dec(const char *in, int flags)
{
    static char out[256];
    size_t len;
    unsigned char *bytes = base64_decode_str(in, flags, &len);

    if (bytes == NULL)
        return NULL;
    ck_assert_uint_lt(len, sizeof(out));
    ck_assert_uint_eq(bytes[len], '\0');
    memcpy(out, bytes, len + 1);
    mem_free(bytes);
    return out;
}

START_TEST(rfc4648_vectors)
{
    for (size_t i = 0; i < NVECTORS; i++) {
        char *e = base64_encode(vectors[i][0], strlen(vectors[i][0]), 0);

        ck_assert_str_eq(e, vectors[i][1]);
        ck_assert_uint_eq(strlen(e), BASE64_ENCODED_LEN(strlen(vectors[i][0])));
        mem_free(e);
        ck_assert_str_eq(dec(vectors[i][1], 0), vectors[i][0]);
    }
}
END_TEST

START_TEST(url_alphabet_and_padding)
{
    static const unsigned char bytes[] = {0xfb, 0xff, 0xbf, 0xfe};
    char *e;

    e = base64_encode(bytes, sizeof(bytes), 0);
    ck_assert_str_eq(e, "+/+//g==");
    mem_free(e);
    e = base64_encode(bytes, sizeof(bytes), BASE64_URL);
    ck_assert_str_eq(e, "-_-__g==");
    mem_free(e);
    e = base64_encode(bytes, sizeof(bytes), BASE64_URL | BASE64_NOPAD);
    ck_assert_str_eq(e, "-_-__g");
    mem_free(e);
    e = base64_encode("foobar", 6, BASE64_NOPAD);  /* nothing to strip */
    ck_assert_str_eq(e, "Zm9vYmFy");
    mem_free(e);

    /* Each alphabet only where allowed. */
    ck_assert_ptr_nonnull(dec("-_-__g", BASE64_URL));
    ck_assert_ptr_null(dec("+/+//g==", BASE64_URL));
    ck_assert_ptr_null(dec("-_-__g==", 0));
    ck_assert_ptr_nonnull(dec("+_-/_g==", BASE64_ANY));
    /* Padding is optional, but when present must complete the group. */
    ck_assert_str_eq(dec("Zg", 0), "f");
    ck_assert_str_eq(dec("Zm8", 0), "fo");
    ck_assert_ptr_null(dec("Zg=", 0));
    ck_assert_ptr_null(dec("Zm8==", 0));
}
END_TEST

START_TEST(strict_refuses_garbage)
{
    static const char *const bad[] = {
        "Z", "Zm9vY", "Zg===", "Zg==Zg==", "Zm9v!", "Zm 9v", "Zm9v\n", "====", "Zh==", "Zm9=",
        "Zm\xc3\xa9v",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(dec(bad[i], 0) == NULL, "accepted \"%s\"", bad[i]);
    /* An embedded NUL ends nothing: it is not base64. */
    {
        BUF *b = buf_new(16);

        ck_assert_int_eq(base64_decode(b, "Zm\0v", 4, 0), -1);
        buf_free(b);
    }
}
END_TEST

START_TEST(binary_round_trip)
{
    unsigned char bytes[10000];
    BUF *b = buf_new(16);
    char *e;

    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char) (i * 7 + i / 256);
    for (size_t len = 0; len < sizeof(bytes); len += len < 10 ? 1 : 997) {
        for (int flags = 0; flags <= (BASE64_URL | BASE64_NOPAD); flags++) {
            e = base64_encode(bytes, len, flags);
            buf_reset(b);
            ck_assert_int_eq(base64_decode(b, e, strlen(e), flags & BASE64_URL), 0);
            ck_assert_uint_eq(buf_len(b), len);
            ck_assert(memcmp(buf_data(b), bytes, len) == 0);
            mem_free(e);
        }
    }
    buf_free(b);
}
END_TEST

START_TEST(lines_for_mime)
{
    unsigned char bytes[120];
    BUF *b = buf_new(16), *back = buf_new(16);
    const char *s;

    memset(bytes, 'x', sizeof(bytes));
    ck_assert_int_eq(base64_encode_lines(b, bytes, sizeof(bytes), 76, "\r\n"), 0);
    s = buf_cstr(b);
    /* 120 bytes = 160 characters: 76 + 76 + 8, no line end after the last. */
    ck_assert_uint_eq(buf_len(b), 160 + 2 * 2);
    ck_assert(memcmp(s + 76, "\r\n", 2) == 0 && memcmp(s + 154, "\r\n", 2) == 0);
    ck_assert_uint_eq(strlen(strrchr(s, '\n') + 1), 8);
    /* Strict decoding refuses the line ends; the white space mode reads them. */
    ck_assert_int_eq(base64_decode(back, s, buf_len(b), 0), -1);
    buf_reset(back);
    ck_assert_int_eq(base64_decode(back, s, buf_len(b), BASE64_SPACE), 0);
    ck_assert_uint_eq(buf_len(back), sizeof(bytes));
    ck_assert(memcmp(buf_data(back), bytes, sizeof(bytes)) == 0);
    buf_reset(b);
    ck_assert_int_eq(base64_encode_lines(b, "", 0, 76, "\n"), 0);
    ck_assert_uint_eq(buf_len(b), 0);
    buf_free(b);
    buf_free(back);
}
END_TEST

/* Postal's API v1 reading: either alphabet, white space, padding 0-2 wherever the end is. */
START_TEST(lax)
{
    int f = BASE64_ANY | BASE64_SPACE | BASE64_LAX;

    ck_assert_str_eq(dec(" Zm9v\r\nYmFy ", f), "foobar");
    ck_assert_str_eq(dec("Zg = =", f), "f");
    ck_assert_str_eq(dec("Zm9v==", f), "foo");
    ck_assert_str_eq(dec("Zh", f), "f");          /* unused bits set */
    ck_assert_ptr_null(dec("Zg===", f));
    ck_assert_ptr_null(dec("Zg==Zg", f));
    ck_assert_ptr_null(dec("Zm9vY", f));
    ck_assert_ptr_null(dec("Zm9v*", f));
}
END_TEST

/* RFC 2045 bodies: what is not base64 is ignored, the first '=' ends the data. */
START_TEST(mime_bodies)
{
    BUF *b = buf_new(16);
    const char *in = "Zm9v\r\nYm*Fy\r\n!Zg==\r\nZm9v";

    ck_assert_int_eq(base64_decode(b, in, strlen(in), BASE64_MIME), 0);
    ck_assert_str_eq(buf_cstr(b), "foobarf");
    buf_reset(b);
    ck_assert_int_eq(base64_decode(b, "Zm9vY", 5, BASE64_MIME), 0);   /* lone character dropped */
    ck_assert_str_eq(buf_cstr(b), "foo");
    buf_free(b);
}
END_TEST

START_TEST(limit_is_an_error)
{
    BUF *b = buf_new(16);

    buf_set_limit(b, 4);
    ck_assert_int_eq(base64_decode(b, "Zm9vYmFy", 8, 0), -1);
    buf_reset(b);
    ck_assert_int_eq(base64_decode(b, "Zm9v", 4, 0), 0);
    buf_reset(b);
    ck_assert_int_eq(base64_encode_buf(b, "foo", 3, 0), 0);
    buf_reset(b);
    ck_assert_int_eq(base64_encode_buf(b, "foob", 4, 0), -1);
    buf_free(b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("base64");
    TCase *tc = tcase_create("base64");

    tcase_add_test(tc, rfc4648_vectors);
    tcase_add_test(tc, url_alphabet_and_padding);
    tcase_add_test(tc, strict_refuses_garbage);
    tcase_add_test(tc, binary_round_trip);
    tcase_add_test(tc, lines_for_mime);
    tcase_add_test(tc, lax);
    tcase_add_test(tc, mime_bodies);
    tcase_add_test(tc, limit_is_an_error);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
