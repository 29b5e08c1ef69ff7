/*
 * test_mimewalk.c -- lib/mail/mimewalk: which parts of a message the walk hands over
 * (leaf text parts that are not attachments, at any depth of multiparts it can delimit)
 * and that everything else comes out byte for byte; a callback's -1 stops the walk.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mail/address.h"
#include "mail/mimewalk.h"
#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"

typedef struct seen {
    char names[512];                    /* "subtype@depth " per call */
    int stop_at;                        /* return -1 on this call (1-based), 0: never */
    int calls;
} SEEN;

/* Records the part and replaces its body by "[subtype]". */
static int
record(void *arg, const MIMEWALK_PART *part, BUF *out)
{
    SEEN *seen = arg;
    const char *sub = mimewalk_part_is(part, "text", "html") ? "html"
                    : mimewalk_part_is(part, "text", "plain") ? "plain" : "other";
    size_t n = strlen(seen->names);

    ck_assert(mimewalk_part_is(part, "text", "*"));
    snprintf(seen->names + n, sizeof(seen->names) - n, "%s@%d ", sub, part->depth);
    if (++seen->calls == seen->stop_at)
        return -1;
    buf_append_str(out, "[");
    buf_append_str(out, sub);
    buf_append_str(out, "]");
    return 1;
}

static const char nested[] =
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative;\r\n boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "plain text\r\n"
    "--alt\r\n"
    "Content-Type: TEXT/HTML\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<p>html</p>\r\n"
    "--alt--\r\n"
    "--outer\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Disposition: attachment; filename=a.txt\r\n"
    "\r\n"
    "attached\r\n"
    "--outer\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "png\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Content-Type: text/plain\r\n\r\ninner\r\n"
    "--outer\r\n"
    "Content-Type: text/csv\r\n"
    "\r\n"
    "a,b\r\n"
    "--outer--\r\n"
    "epilogue\r\n";

/* nested with the first n handed-over bodies replaced by what record() writes. */
static char *
expected(size_t n)
{
    BUF *b = buf_new(sizeof(nested));
    const char *p = nested;
    static const char *const from[] = {"plain text", "<p>html</p>", "a,b"};
    static const char *const to[] = {"[plain]", "[html]", "[other]"};

    for (size_t i = 0; i < n; i++) {
        const char *at = strstr(p, from[i]);

        buf_append(b, p, (size_t) (at - p));
        buf_append_str(b, to[i]);
        p = at + strlen(from[i]);
    }
    buf_append_str(b, p);
    return buf_steal(b, NULL);
}

START_TEST(parts_handed_over)
{
    SEEN seen = {0};
    BUF *out = buf_new(64);
    char *want = expected(3);

    ck_assert_int_eq(mimewalk_body("multipart/mixed; boundary=outer", NULL, nested, strlen(nested), record, &seen, out),
                     0);
    ck_assert_str_eq(seen.names, "plain@2 html@2 other@1 ");
    ck_assert_str_eq(buf_cstr(out), want);
    mem_free(want);
    buf_free(out);
}
END_TEST

START_TEST(stop_copies_the_rest)
{
    SEEN seen = {.stop_at = 2};
    BUF *out = buf_new(64);
    char *want = expected(1);

    ck_assert_int_eq(mimewalk_body("multipart/mixed; boundary=outer", NULL, nested, strlen(nested), record, &seen, out),
                     -1);
    ck_assert_str_eq(seen.names, "plain@2 html@2 ");       /* not the text/csv part after them */
    ck_assert_str_eq(buf_cstr(out), want);
    mem_free(want);
    buf_free(out);
}
END_TEST

START_TEST(left_alone)
{
    static const char *const bodies[][3] = {
        /* Content-Type, Content-Transfer-Encoding, body */
        {"multipart/mixed; boundary=outer", "base64", nested},          /* encoded multipart */
        {"multipart/mixed; boundary=nowhere", NULL, nested},            /* no delimiter */
        {"multipart/mixed", NULL, nested},                              /* no boundary */
        {"application/pdf", NULL, "%PDF"},
    };

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        SEEN seen = {0};
        BUF *out = buf_new(64);

        ck_assert_int_eq(mimewalk_body(bodies[i][0], bodies[i][1], bodies[i][2], strlen(bodies[i][2]), record, &seen,
                                       out), 0);
        ck_assert_int_eq(seen.calls, 0);
        ck_assert_str_eq(buf_cstr(out), bodies[i][2]);
        buf_free(out);
    }
}
END_TEST

START_TEST(top_level_and_headers)
{
    static const char msg[] = "Subject: x\r\nContent-Type: text/html;\r\n\tcharset=utf-16\r\nX-A: 1\r\n\r\nbody";
    size_t hlen, body_at;
    char *v;
    SEEN seen = {0};
    BUF *out = buf_new(64);

    ck_assert_int_eq(mimewalk_split_headers(msg, strlen(msg), &hlen, &body_at), 1);
    ck_assert_str_eq(msg + body_at, "body");
    ck_assert_int_eq(mimewalk_split_headers("A: b\r\n", 6, &hlen, &body_at), 0);
    v = mimewalk_header(msg, hlen, "content-type");
    ck_assert_str_eq(v, " text/html;\tcharset=utf-16");
    ck_assert_int_eq(mimewalk_body(v, NULL, "body", 4, record, &seen, out), 0);
    ck_assert_str_eq(buf_cstr(out), "[html]");
    ck_assert_str_eq(seen.names, "html@0 ");
    mem_free(v);
    ck_assert_ptr_null(mimewalk_header(msg, hlen, "X-B"));
    buf_reset(out);
    ck_assert_int_eq(mimewalk_body(NULL, NULL, "no header: text/plain", 21, record, &seen, out), 0);
    ck_assert_str_eq(buf_cstr(out), "[plain]");
    buf_free(out);
}
END_TEST

/* The charset rule, seen from a callback. */
static int
charset_check(void *arg, const MIMEWALK_PART *part, BUF *out)
{
    *(int *) arg = mimewalk_part_ascii_compatible(part);
    return 0;
}

START_TEST(ascii_compatible_charsets)
{
    static const char *const yes[] = {"text/plain", "text/plain; charset=utf-8", "text/html; charset=iso-8859-1"};
    static const char *const no[] = {"text/plain; charset=UTF-16LE", "text/plain; charset=utf-7",
                                     "text/html; charset=iso-2022-jp"};
    BUF *out = buf_new(16);
    int r;

    for (size_t i = 0; i < 3; i++) {
        r = -1;
        mimewalk_body(yes[i], NULL, "x", 1, charset_check, &r, out);
        ck_assert_int_eq(r, 1);
        r = -1;
        mimewalk_body(no[i], NULL, "x", 1, charset_check, &r, out);
        ck_assert_int_eq(r, 0);
    }
    ck_assert_str_eq(buf_cstr(out), "xxxxxx");
    buf_free(out);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("mimewalk");
    TCase *tc = tcase_create("mimewalk");

    address_init();
    tcase_add_test(tc, parts_handed_over);
    tcase_add_test(tc, stop_copies_the_rest);
    tcase_add_test(tc, left_alone);
    tcase_add_test(tc, top_level_and_headers);
    tcase_add_test(tc, ascii_compatible_charsets);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
