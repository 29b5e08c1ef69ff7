/*
 * test_cte.c -- lib/mail/cte: which encoding a Content-Transfer-Encoding value names,
 * quoted-printable read as leniently as mail readers read it, written with lines of at
 * most 76 characters (a line of exactly 76 kept whole), and both codecs round-tripping
 * arbitrary bytes.
 */
#include "config.h"

#include <string.h>

#include "mail/cte.h"
#include "unit.h"
#include "util/buf.h"

/* The decoding of a NUL-terminated body as a string (static storage). */
static const char *
dec(CTE enc, const char *body)
{
    static char out[512];
    BUF *b = cte_decode(enc, body, strlen(body));

    ck_assert_ptr_nonnull(b);
    ck_assert_uint_lt(buf_len(b), sizeof(out));
    memcpy(out, buf_data(b), buf_len(b));
    out[buf_len(b)] = '\0';
    buf_free(b);
    return out;
}

static const char *
enc(CTE e, const char *data, const char *eol)
{
    static char out[512];
    BUF *b = buf_new(64);

    cte_encode(b, e, data, strlen(data), eol);
    ck_assert_uint_lt(buf_len(b), sizeof(out));
    memcpy(out, buf_data(b), buf_len(b));
    out[buf_len(b)] = '\0';
    buf_free(b);
    return out;
}

START_TEST(names)
{
    ck_assert_int_eq(cte_of(NULL), CTE_IDENTITY);
    ck_assert_int_eq(cte_of(""), CTE_IDENTITY);
    ck_assert_int_eq(cte_of(" 7bit"), CTE_IDENTITY);
    ck_assert_int_eq(cte_of("8BIT"), CTE_IDENTITY);
    ck_assert_int_eq(cte_of("binary (raw)"), CTE_IDENTITY);
    ck_assert_int_eq(cte_of(" Quoted-Printable\r\n"), CTE_QP);
    ck_assert_int_eq(cte_of("base64;"), CTE_BASE64);
    ck_assert_int_eq(cte_of("x-uuencode"), CTE_OTHER);
    ck_assert_int_eq(cte_of("quoted-printable-but-much-longer-than-any-name"), CTE_OTHER);
    ck_assert_ptr_null(cte_decode(CTE_IDENTITY, "x", 1));
    ck_assert_ptr_null(cte_decode(CTE_OTHER, "x", 1));
}
END_TEST

START_TEST(qp_decoding_is_lenient)
{
    ck_assert_str_eq(dec(CTE_QP, "a=3Db=3dc"), "a=b=c");              /* lower-case hex read */
    ck_assert_str_eq(dec(CTE_QP, "x==3D"), "x==");                    /* a stray "=" kept */
    ck_assert_str_eq(dec(CTE_QP, "=ZZ=4"), "=ZZ=4");
    ck_assert_str_eq(dec(CTE_QP, "soft=\r\nbreak= \t\nand=\nend="), "softbreakandend");
    ck_assert_str_eq(dec(CTE_QP, "hard\r\nbreak\n"), "hard\r\nbreak\n");
    ck_assert_str_eq(dec(CTE_QP, "caf=C3=A9"), "caf\xC3\xA9");
}
END_TEST

START_TEST(qp_encoding)
{
    char line[200], want[200];

    ck_assert_str_eq(enc(CTE_QP, "a=b\tc \nend \r\nx\t", "\r\n"), "a=3Db\tc=20\r\nend=20\r\nx=09");
    ck_assert_str_eq(enc(CTE_QP, "caf\xC3\xA9\n", "\n"), "caf=C3=A9\n");
    ck_assert_str_eq(enc(CTE_QP, "\t\ra", "\n"), "\t=0Da");
    /* 76 characters stay one line; 77 are broken after 75 and a soft-break "=". */
    memset(line, 'x', 76);
    line[76] = '\0';
    ck_assert_str_eq(enc(CTE_QP, line, "\r\n"), line);
    line[76] = 'y';
    line[77] = '\0';
    memset(want, 'x', 75);
    memcpy(want + 75, "=\r\nxy", 6);
    ck_assert_str_eq(enc(CTE_QP, line, "\r\n"), want);
    /* An escape is not split by a soft break. */
    memset(line, 'x', 74);
    memcpy(line + 74, "=z", 3);
    memset(want, 'x', 74);
    memcpy(want + 74, "=\n=3Dz", 7);
    ck_assert_str_eq(enc(CTE_QP, line, "\n"), want);
}
END_TEST

START_TEST(round_trips)
{
    unsigned seed = 7;

    for (int round = 0; round < 200; round++) {
        char data[300];
        size_t len = (size_t) (round % 300);

        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            data[i] = round % 2 ? "ab \t\r\n=."[(seed >> 16) % 8] : (char) (seed >> 16);
        }
        for (int e = 0; e < 2; e++) {
            CTE kind = e ? CTE_BASE64 : CTE_QP;
            BUF *coded = buf_new(64), *back;
            const char *p, *end;

            cte_encode(coded, kind, data, len, "\r\n");
            for (p = buf_cstr(coded), end = p + buf_len(coded); p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = (size_t) ((nl ? nl : end) - p);

                ck_assert_uint_le(n - (nl && n && p[n - 1] == '\r'), 76);
                p = nl ? nl + 1 : end;
            }
            back = cte_decode(kind, buf_cstr(coded), buf_len(coded));
            /* quoted-printable writes every line end as eol: compare with CRLF made of bare LF. */
            if (kind == CTE_QP) {
                BUF *want = buf_new(len + 8);

                for (size_t i = 0; i < len; i++) {
                    if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
                        buf_append_char(want, '\r');
                    buf_append_char(want, data[i]);
                }
                ck_assert_uint_eq(buf_len(back), buf_len(want));
                ck_assert_int_eq(memcmp(buf_data(back), buf_data(want), buf_len(want)), 0);
                buf_free(want);
            } else {
                ck_assert_uint_eq(buf_len(back), len);
                ck_assert_int_eq(memcmp(buf_data(back), data, len), 0);
            }
            buf_free(coded);
            buf_free(back);
        }
    }
}
END_TEST

START_TEST(base64_bodies)
{
    ck_assert_str_eq(dec(CTE_BASE64, "aGVs\r\nbG8=\r\n"), "hello");
    ck_assert_str_eq(dec(CTE_BASE64, "aGVs*bG8"), "hello");                /* junk ignored */
    ck_assert_str_eq(enc(CTE_BASE64, "hello", "\r\n"), "aGVsbG8=");        /* no last eol */
    ck_assert_str_eq(enc(CTE_IDENTITY, "as\nis", "\r\n"), "as\nis");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cte");
    TCase *tc = tcase_create("cte");

    tcase_add_test(tc, names);
    tcase_add_test(tc, qp_decoding_is_lenient);
    tcase_add_test(tc, qp_encoding);
    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, base64_bodies);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
