/*
 * test_track.c -- the link rewriter and open pixel (lib/mail/track.c) against golden
 * files: tests/data/track/NAME.eml in, NAME.ref expected out (the whole message), with
 * link tokens from a deterministic source. Also: the links recorded (decoded URLs, one
 * per distinct URL), X-AMP, a failing token source, nothing to do, and malformed input
 * (every truncation of every golden file, random bytes, very deep nesting) never crashing.
 *
 * TRACK_REGENERATE=1 in the environment writes NAME.ref files that are missing (for a
 * new case; read them before committing).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/address.h"
#include "mail/track.h"
#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

static int token_counter;

static int
test_token(void *arg, char out[TRACK_TOKEN_LEN + 1])
{
    snprintf(out, TRACK_TOKEN_LEN + 1, "LINK%012d", ++token_counter);
    return 0;
}

static int
failing_token(void *arg, char out[TRACK_TOKEN_LEN + 1])
{
    return -1;
}

static TRACK_SETTINGS
settings(int plain)
{
    TRACK_SETTINGS s = {
        .host = "click.example.com", .ssl = 1, .server_token = "srvtok", .message_token = "MSGTOKEN00000001",
        .track_clicks = 1, .track_loads = 1, .track_plain = plain,
        .excluded_domains = "example.org\nunsubscribe.example.net", .token_fn = test_token,
    };

    token_counter = 0;
    return s;
}

static BUF *
read_file(const char *name, const char *ext, int must)
{
    const char *top = getenv("top_srcdir");
    char *path;
    FILE *fp;
    BUF *b;
    char chunk[4096];
    size_t n;

    ck_assert_msg(top != NULL, "top_srcdir is not set by the test harness");
    path = buf_asprintf("%s/tests/data/track/%s.%s", top, name, ext);
    fp = fopen(path, "rb");
    if (fp == NULL) {
        ck_assert_msg(!must, "%s: %s", path, strerror(errno));
        mem_free(path);
        return NULL;
    }
    b = buf_new(4096);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(b, chunk, n);
    fclose(fp);
    mem_free(path);
    return b;
}

static void
write_ref(const char *name, const BUF *data)
{
    char *path = buf_asprintf("%s/tests/data/track/%s.ref", getenv("top_srcdir"), name);
    FILE *fp = fopen(path, "wb");

    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    fwrite(buf_data(data), 1, buf_len(data), fp);
    fclose(fp);
    fprintf(stderr, "wrote %s\n", path);
    mem_free(path);
}

/* The golden cases; names starting with "plain" also track text/plain parts. */
static const char *const golden[] = {
    "qp", "base64", "nested", "entities", "notrack", "excluded", "amp-skip", "malformed", "plain", "nobody",
    "crlf-8bit",
};
#define NGOLDEN (sizeof(golden) / sizeof(golden[0]))

START_TEST(golden_files)
{
    const char *name = golden[_i];
    TRACK_SETTINGS s = settings(strncmp(name, "plain", 5) == 0);
    BUF *in = read_file(name, "eml", 1), *ref = read_file(name, "ref", 0), *got;
    TRACK_RESULT r;
    int ret = track_rewrite_message(&s, buf_data(in), buf_len(in), &r);

    ck_assert_int_ge(ret, 0);
    got = ret == 1 ? r.body : in;
    if (ref == NULL && getenv("TRACK_REGENERATE")) {
        write_ref(name, got);
        ref = read_file(name, "ref", 1);
    }
    ck_assert_msg(ref != NULL, "%s.ref is missing", name);
    if (buf_len(got) != buf_len(ref) || memcmp(buf_data(got), buf_data(ref), buf_len(ref)) != 0) {
        size_t i = 0;

        while (i < buf_len(got) && i < buf_len(ref) && buf_data(got)[i] == buf_data(ref)[i])
            i++;
        ck_abort_msg("%s: output differs from %s.ref at byte %zu: got \"%.60s\"", name, name, i,
                     buf_cstr(got) + i);
    }
    /* Every link recorded has the tracking URL in the output (base64 parts aside). */
    for (size_t k = 0; k < r.nlinks && strcmp(name, "base64") != 0; k++) {
        char *u = buf_asprintf("https://click.example.com/srvtok/%s", r.links[k].token);

        ck_assert_msg(memmem(buf_data(got), buf_len(got), u, strlen(u)) != NULL, "%s: %s not in output", name, u);
        mem_free(u);
    }
    track_result_free(&r);
    buf_free(in);
    buf_free(ref);
}
END_TEST

static TRACK_RESULT
rewrite(const char *name, int plain)
{
    TRACK_SETTINGS s = settings(plain);
    BUF *in = read_file(name, "eml", 1);
    TRACK_RESULT r;

    ck_assert_int_eq(track_rewrite_message(&s, buf_data(in), buf_len(in), &r), 1);
    buf_free(in);
    return r;
}

static const char *
url_of(const TRACK_RESULT *r, const char *token)
{
    for (size_t i = 0; i < r->nlinks; i++)
        if (strcmp(r->links[i].token, token) == 0)
            return r->links[i].url;
    return NULL;
}

START_TEST(links_recorded)
{
    TRACK_RESULT r = rewrite("entities", 0);
    char hash[65];

    /* Entities decoded, surrounding white space and embedded line breaks gone. */
    ck_assert_str_eq(url_of(&r, "LINK000000000001"), "https://shop.example.com/p?a=1&b=2&c=3");
    ck_assert_str_eq(url_of(&r, "LINK000000000002"), "https://shop.example.com/q?x=\"y\"&z=<1>");
    ck_assert_str_eq(url_of(&r, "LINK000000000003"), "https://shop.example.com/unquoted?a=1&b=2");
    ck_assert_str_eq(url_of(&r, "LINK000000000004"), "https://shop.example.com/spaced/path?q=1");
    ck_assert_str_eq(url_of(&r, "LINK000000000005"), "http://shop.example.com/single");
    ck_assert_uint_eq(r.nlinks, 5);
    token_sha256_hex(r.links[0].url, strlen(r.links[0].url), hash);
    ck_assert_str_eq(r.links[0].url_hash, hash);
    track_result_free(&r);

    /* The same URL in two places (and in both parts) is one link. */
    r = rewrite("qp", 0);
    ck_assert_uint_eq(r.nlinks, 3);
    ck_assert_str_eq(url_of(&r, "LINK000000000001"), "https://www.example.com/welcome?utm=mail&id=42");
    track_result_free(&r);

    /* Excluded domains and their subdomains keep their links; look-alikes do not. */
    r = rewrite("excluded", 0);
    for (size_t i = 0; i < r.nlinks; i++) {
        ck_assert_msg(strstr(r.links[i].url, "example.org/") == NULL || strstr(r.links[i].url, "notexample.org/"),
                      "excluded URL tracked: %s", r.links[i].url);
        ck_assert_msg(strstr(r.links[i].url, "unsubscribe.example.net") == NULL, "excluded URL tracked: %s",
                      r.links[i].url);
    }
    ck_assert_uint_eq(r.nlinks, 2);
    track_result_free(&r);

    /* Plain text: trailing punctuation and unbalanced brackets are not part of a URL. */
    r = rewrite("plain", 1);
    ck_assert_str_eq(url_of(&r, "LINK000000000001"), "https://www.example.com/docs");
    ck_assert_str_eq(url_of(&r, "LINK000000000002"), "https://en.example.com/wiki/Mail_(protocol)");
    ck_assert_str_eq(url_of(&r, "LINK000000000003"), "http://www.example.com/a?b=1&c=2");
    ck_assert_uint_eq(r.nlinks, 3);
    track_result_free(&r);
}
END_TEST

START_TEST(skip_and_nothing_to_do)
{
    TRACK_SETTINGS s = settings(0);
    const char *html = "<html><body><a href=\"https://a.example.com/\">a</a></body></html>";
    TRACK_RESULT r;

    ck_assert_int_eq(track_skip_header("skip"), 1);
    ck_assert_int_eq(track_skip_header(" Skip\r\n"), 1);
    ck_assert_int_eq(track_skip_header("skipper"), 0);
    ck_assert_int_eq(track_skip_header(NULL), 0);
    ck_assert_int_eq(track_skip_header("no"), 0);

    /* Neither clicks nor loads: untouched. */
    s.track_clicks = s.track_loads = 0;
    ck_assert_int_eq(track_rewrite(&s, "text/html", NULL, html, strlen(html), &r), 0);
    ck_assert_ptr_null(r.body);
    ck_assert_uint_eq(r.nlinks, 0);
    track_result_free(&r);

    /* Loads only: the pixel before </body>, links left. */
    s.track_loads = 1;
    ck_assert_int_eq(track_rewrite(&s, "text/html; charset=utf-8", "7bit", html, strlen(html), &r), 1);
    ck_assert_str_eq(buf_cstr(r.body), "<html><body><a href=\"https://a.example.com/\">a</a><img "
                     "src=\"https://click.example.com/img/srvtok/MSGTOKEN00000001\" alt=\"\" width=\"1\" "
                     "height=\"1\" border=\"0\" style=\"width:1px;height:1px;border:0\"></body></html>");
    track_result_free(&r);

    /* Plain text is left alone unless asked for; other types always. */
    s.track_clicks = 1;
    ck_assert_int_eq(track_rewrite(&s, NULL, NULL, "see https://a.example.com/\n", 27, &r), 0);
    track_result_free(&r);
    ck_assert_int_eq(track_rewrite(&s, "application/octet-stream", NULL, html, strlen(html), &r), 0);
    track_result_free(&r);
    ck_assert_int_eq(track_rewrite(&s, "text/html; charset=utf-16", NULL, html, strlen(html), &r), 0);
    track_result_free(&r);
    ck_assert_int_eq(track_rewrite(&s, "text/html", "x-uuencode", html, strlen(html), &r), 0);
    track_result_free(&r);

    /* http (no ssl). */
    s.ssl = 0;
    s.track_loads = 0;
    ck_assert_int_eq(track_rewrite(&s, "text/html", NULL, html, strlen(html), &r), 1);
    ck_assert_str_eq(buf_cstr(r.body), "<html><body><a href=\"http://click.example.com/srvtok/LINK000000000001\">a</a>"
                     "</body></html>");
    track_result_free(&r);
}
END_TEST

START_TEST(token_source_fails)
{
    TRACK_SETTINGS s = settings(0);
    const char *html = "<a href=\"https://a.example.com/\">a</a>";
    TRACK_RESULT r;

    s.token_fn = failing_token;
    ck_assert_int_eq(track_rewrite(&s, "text/html", NULL, html, strlen(html), &r), -1);
    ck_assert_ptr_null(r.body);
    ck_assert_uint_eq(r.nlinks, 0);
    track_result_free(&r);
    /* The real source. */
    s.token_fn = NULL;
    ck_assert_int_eq(track_rewrite(&s, "text/html", NULL, html, strlen(html), &r), 1);
    ck_assert_uint_eq(r.nlinks, 1);
    ck_assert_uint_eq(strlen(r.links[0].token), 16);
    ck_assert_uint_eq(strspn(r.links[0].token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), 16);
    track_result_free(&r);
}
END_TEST

/* Every prefix of every golden message, and random bytes: no crash, no ASan report. */
START_TEST(malformed_never_crashes)
{
    unsigned seed = 12345;

    for (size_t g = 0; g < NGOLDEN; g++) {
        BUF *in = read_file(golden[g], "eml", 1);
        size_t step = buf_len(in) > 4000 ? 7 : 1;

        for (size_t len = 0; len <= buf_len(in); len += step) {
            TRACK_SETTINGS s = settings(1);
            TRACK_RESULT r;
            char *copy = mem_alloc(len + 1);

            memcpy(copy, buf_data(in), len);    /* exactly len bytes readable: ASan sees overreads */
            ck_assert_int_ge(track_rewrite_message(&s, copy, len, &r), 0);
            track_result_free(&r);
            mem_free(copy);
        }
        buf_free(in);
    }
    for (int round = 0; round < 300; round++) {
        static const char *const pieces[] = {
            "<a href=", "\"", "'", "https://x.example.com/", "&amp;", "&#", "</body>", "<body>", "<!--", "-->",
            "\r\n", "\n", "--b\r\n", "--b--\r\n", "Content-Type: text/html\r\n", "=", "=3D", "=\r\n", "http+notrack://",
            "<script>", "<template>", "<table><a href=y>", "\xff\xfe", "<img src=", ">", "<", " ", "\0",
        };
        BUF *b = buf_new(256);
        TRACK_SETTINGS s = settings(1);
        TRACK_RESULT r;
        int n = (int) (rand_r(&seed) % 60);

        for (int i = 0; i < n; i++) {
            const char *p = pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];

            buf_append(b, p, *p ? strlen(p) : 1);
        }
        ck_assert_int_ge(track_rewrite(&s, round % 3 == 0 ? "multipart/mixed; boundary=b" : "text/html",
                                       round % 2 ? "quoted-printable" : NULL, buf_data(b), buf_len(b), &r), 0);
        track_result_free(&r);
        ck_assert_int_ge(track_rewrite(&s, "text/html", "base64", buf_data(b), buf_len(b), &r), 0);
        track_result_free(&r);
        buf_free(b);
    }
}
END_TEST

START_TEST(deep_nesting)
{
    TRACK_SETTINGS s = settings(0);
    BUF *b = buf_new(1 << 20);
    TRACK_RESULT r;

    for (int i = 0; i < 20000; i++)
        buf_append_str(b, "<div>");
    buf_append_str(b, "<a href=\"https://deep.example.com/\">x</a>");
    ck_assert_int_eq(track_rewrite(&s, "text/html", NULL, buf_data(b), buf_len(b), &r), 1);
    ck_assert_uint_eq(r.nlinks, 1);
    track_result_free(&r);
    buf_reset(b);
    /* Multipart nesting deeper than followed: left alone past the limit, no crash. */
    for (int i = 0; i < 100; i++)
        buf_printf(b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i + 1);
    ck_assert_int_ge(track_rewrite(&s, "multipart/mixed; boundary=b0", NULL, buf_data(b), buf_len(b), &r), 0);
    track_result_free(&r);
    buf_free(b);
}
END_TEST

/* Found by fuzz_track: gumbo reported an attribute value whose length ran past the
 * buffer, and the bounds check computed raw + length (a pointer overflow, UBSan abort). */
START_TEST(attribute_length_past_the_end)
{
    TRACK_SETTINGS s = settings(0);
    BUF *in = read_file("regress-attr-length", "eml", 1);
    TRACK_RESULT r;

    ck_assert_int_ge(track_rewrite_message(&s, buf_data(in), buf_len(in), &r), 0);
    track_result_free(&r);
    buf_free(in);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("track");
    TCase *tc = tcase_create("track");

    address_init();     /* g_mime_init */
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, golden_files, 0, (int) NGOLDEN);
    tcase_add_test(tc, links_recorded);
    tcase_add_test(tc, skip_and_nothing_to_do);
    tcase_add_test(tc, token_source_fails);
    tcase_add_test(tc, malformed_never_crashes);
    tcase_add_test(tc, deep_nesting);
    tcase_add_test(tc, attribute_length_past_the_end);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
