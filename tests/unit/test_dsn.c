/*
 * test_dsn.c -- the DSN parser (lib/mail/dsn.c) on golden files: tests/data/dsn/NAME.eml
 * and tests/data/arf/NAME.eml in, NAME.ref (a dump of what was found) expected out. The
 * samples: a DSN the private Postfix of bounces.t generated (postfix-hardfail), a
 * hand-written RFC 3464 report in Exchange's style, Exim's classic plain-text bounce, an
 * auto-reply, a delay notice and malformed input; RFC 5965 feedback reports (an abuse
 * complaint, a not-spam report); then every prefix of every sample and random pieces (no crash, no
 * overread under ASan). Set DSN_REGENERATE=1 to write a missing .ref.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "mail/address.h"
#include "mail/dsn.h"
#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"

static BUF *
read_file(const char *name, const char *ext, int must)
{
    const char *top = getenv("top_srcdir");
    char chunk[4096], *path;
    size_t n;
    FILE *fp;
    BUF *b;

    ck_assert_msg(top != NULL, "top_srcdir is not set by the test harness");
    path = buf_asprintf("%s/tests/data/%s.%s", top, name, ext);
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

static const char *
str(const char *s)
{
    return s ? s : "-";
}

/* What the parser found, one "key: value" a line. */
static BUF *
dump(const DSN *d)
{
    static const char *const kinds[] = {"not-bounce", "report", "plain", "complaint"};
    const DSN_RCPT *f = dsn_failed_rcpt(d, NULL);
    BUF *b = buf_new(1024);

    buf_printf(b, "kind: %s\n", kinds[d->kind]);
    buf_printf(b, "reporting-mta: %s\n", str(d->reporting_mta));
    buf_printf(b, "postfix-queue-id: %s\n", str(d->postfix_queue_id));
    buf_printf(b, "message-id: %s\n", str(d->orig_message_id));
    buf_printf(b, "x-postal-msgid: %s\n", str(d->postal_msgid));
    for (size_t i = 0; i < d->nrcpts; i++) {
        const DSN_RCPT *r = &d->rcpts[i];

        buf_printf(b, "rcpt %zu: final=%s original=%s action=%s status=%s remote-mta=%s\n", i,
                   str(r->final_recipient), str(r->original_recipient), str(r->action), str(r->status),
                   str(r->remote_mta));
        buf_printf(b, "rcpt %zu diagnostic: %s\n", i, str(r->diagnostic));
    }
    buf_printf(b, "failed: %s hard=%d\n", f ? str(f->final_recipient) : "-", dsn_rcpt_is_hard(f));
    if (d->feedback.type)
        buf_printf(b, "feedback: type=%s user-agent=%s mail-from=%s rcpt-to=%s arrival=%s source-ip=%s\n",
                   d->feedback.type, str(d->feedback.user_agent), str(d->feedback.original_mail_from),
                   str(d->feedback.original_rcpt_to), str(d->feedback.arrival_date), str(d->feedback.source_ip));
    return b;
}

static const struct golden {
    const char *name;
    const char *envelope_from;
} golden[] = {
    {"dsn/postfix-hardfail", ""}, {"dsn/exchange", ""}, {"dsn/exim-plain", ""}, {"dsn/autoreply", ""},
    {"dsn/delayed", ""}, {"dsn/malformed", NULL}, {"arf/abuse", ""}, {"arf/not-spam", ""},
};
#define NGOLDEN (sizeof(golden) / sizeof(golden[0]))

static void
setup(void)
{
    address_init();
}

START_TEST(golden_files)
{
    const struct golden *g = &golden[_i];
    BUF *in = read_file(g->name, "eml", 1), *ref = read_file(g->name, "ref", 0), *got;
    DSN *d = dsn_parse(buf_data(in), buf_len(in), g->envelope_from);

    got = dump(d);
    if (ref == NULL && getenv("DSN_REGENERATE")) {
        char *path = buf_asprintf("%s/tests/data/%s.ref", getenv("top_srcdir"), g->name);
        FILE *fp = fopen(path, "wb");

        ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
        fwrite(buf_data(got), 1, buf_len(got), fp);
        fclose(fp);
        mem_free(path);
        ref = read_file(g->name, "ref", 1);
    }
    ck_assert_msg(ref != NULL, "%s.ref is missing", g->name);
    ck_assert_msg(buf_len(got) == buf_len(ref) && memcmp(buf_data(got), buf_data(ref), buf_len(ref)) == 0,
                  "%s: got\n%s\nexpected\n%s", g->name, buf_cstr(got), buf_cstr(ref));
    buf_free(got);
    buf_free(ref);
    buf_free(in);
    dsn_free(d);
}
END_TEST

static DSN *
parse_sample(const char *name, const char *envelope_from)
{
    BUF *in = read_file(name, "eml", 1);
    DSN *d = dsn_parse(buf_data(in), buf_len(in), envelope_from);

    buf_free(in);
    return d;
}

/* The facts the golden files must show, said once more where a reader sees them. */
START_TEST(what_matters)
{
    DSN *d = parse_sample("dsn/exchange", "");
    const DSN_RCPT *r = dsn_failed_rcpt(d, "NOBODY@corp.example.net");

    ck_assert_int_eq(d->kind, DSN_REPORT);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->status, "5.1.10");
    ck_assert_str_eq(r->final_recipient, "nobody@corp.example.net");
    ck_assert_str_eq(r->diagnostic, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup");
    ck_assert_str_eq(d->postal_msgid, "xyzrp0123456789a");
    ck_assert_str_eq(d->orig_message_id, "<original-1234@example.com>");
    ck_assert_int_eq(dsn_rcpt_is_hard(r), 1);
    dsn_free(d);

    d = parse_sample("dsn/exim-plain", "");
    ck_assert_int_eq(d->kind, DSN_PLAIN);
    ck_assert_str_eq(d->postal_msgid, "xyzrp0123456789b");      /* lower-cased */
    ck_assert_str_eq(d->orig_message_id, "<welcome-42@example.com>");
    ck_assert_str_eq(dsn_failed_rcpt(d, NULL)->status, "5.1.1");
    ck_assert_str_eq(dsn_failed_rcpt(d, NULL)->final_recipient, "gone@remote.example");
    dsn_free(d);

    d = parse_sample("dsn/postfix-hardfail", "");
    ck_assert_int_eq(d->kind, DSN_REPORT);
    ck_assert_ptr_nonnull(d->postfix_queue_id);
    ck_assert_ptr_nonnull(d->postal_msgid);
    ck_assert_int_eq(dsn_rcpt_is_hard(dsn_failed_rcpt(d, NULL)), 1);
    dsn_free(d);

    d = parse_sample("dsn/autoreply", "");
    ck_assert_int_eq(d->kind, DSN_NOT_BOUNCE);
    dsn_free(d);
    d = parse_sample("dsn/delayed", "");
    ck_assert_int_eq(d->kind, DSN_NOT_BOUNCE);
    ck_assert_ptr_null(dsn_failed_rcpt(d, NULL));
    dsn_free(d);
}
END_TEST

/* An RFC 5965 abuse report is a complaint, never a bounce, with the returned message's
 * token; a not-spam report is neither; a complaint type only in a text part counts for
 * nothing. */
START_TEST(feedback_reports)
{
    const char *text_only = "From: fbl@x\r\nContent-Type: multipart/report; report-type=feedback-report; "
        "boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFeedback-Type: abuse\r\n"
        "X-Postal-MsgID: abc\r\n--b--\r\n";
    DSN *d = parse_sample("arf/abuse", "");

    ck_assert_int_eq(d->kind, DSN_COMPLAINT);
    ck_assert_str_eq(d->feedback.type, "abuse");
    ck_assert_str_eq(d->feedback.user_agent, "MailboxProviderFBL/2.1");
    ck_assert_str_eq(d->feedback.original_rcpt_to, "reader@mailbox-provider.test");
    ck_assert_str_eq(d->feedback.source_ip, "198.51.100.20");
    ck_assert_str_eq(d->reporting_mta, "fbl.mailbox-provider.test");
    ck_assert_str_eq(d->postal_msgid, "ab12cd34ef56gh78");
    ck_assert_str_eq(d->orig_message_id, "<a1b2c3d4@shop.test>");
    ck_assert_ptr_null(dsn_failed_rcpt(d, NULL));
    dsn_free(d);

    d = parse_sample("arf/not-spam", "");
    ck_assert_int_eq(d->kind, DSN_NOT_BOUNCE);
    ck_assert_str_eq(d->feedback.type, "not-spam");
    dsn_free(d);

    d = dsn_parse(text_only, strlen(text_only), "");
    ck_assert_int_ne(d->kind, DSN_COMPLAINT);
    ck_assert_ptr_null(d->feedback.type);
    dsn_free(d);
}
END_TEST

/* A plain-text message from a person that quotes our header is no bounce, even with
 * the null sender, unless it carries a failure code and no auto-reply mark. */
START_TEST(plain_needs_a_daemon)
{
    const char *person = "From: bob@remote.example\r\nSubject: re: hi\r\n\r\n> X-Postal-MsgID: abc\r\nthanks\r\n";
    const char *coded = "From: bob@remote.example\r\nSubject: failure\r\n\r\n550 5.1.1 no such user\r\n"
        "> X-Postal-MsgID: abc\r\n";
    const char *vacation = "From: bob@remote.example\r\nSubject: Out of Office\r\n\r\n550 5.1.1 x\r\n"
        "> X-Postal-MsgID: abc\r\n";
    DSN *d;

    d = dsn_parse(person, strlen(person), "");
    ck_assert_int_eq(d->kind, DSN_NOT_BOUNCE);
    dsn_free(d);
    d = dsn_parse(coded, strlen(coded), "bob@remote.example");
    ck_assert_int_eq(d->kind, DSN_NOT_BOUNCE);
    dsn_free(d);
    d = dsn_parse(coded, strlen(coded), "");
    ck_assert_int_eq(d->kind, DSN_PLAIN);
    ck_assert_str_eq(d->postal_msgid, "abc");
    dsn_free(d);
    d = dsn_parse(vacation, strlen(vacation), "");
    ck_assert_int_eq(d->kind, DSN_NOT_BOUNCE);
    dsn_free(d);
    d = dsn_parse(NULL, 0, NULL);
    ck_assert_int_eq(d->kind, DSN_NOT_BOUNCE);
    dsn_free(d);
}
END_TEST

/* Long fields are cut to DSN_MAX_FIELD bytes of valid UTF-8; recipients to DSN_MAX_RCPTS. */
START_TEST(limits)
{
    BUF *b = buf_new(1 << 16);
    DSN *d;

    buf_append_str(b, "From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; report-type=delivery-status; "
                   "boundary=\"b\"\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n");
    for (int i = 0; i < DSN_MAX_RCPTS + 20; i++)
        buf_printf(b, "Final-Recipient: rfc822; r%d@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n", i);
    buf_append_str(b, "Final-Recipient: rfc822; long@example.net\r\nAction: failed\r\nDiagnostic-Code: smtp; ");
    for (int i = 0; i < 3000; i++)
        buf_append_str(b, "\xc3\xa9");
    buf_append_str(b, "\r\n--b--\r\n");
    d = dsn_parse(buf_data(b), buf_len(b), "");
    ck_assert_int_eq(d->kind, DSN_REPORT);
    ck_assert_uint_eq(d->nrcpts, DSN_MAX_RCPTS);
    ck_assert_str_eq(d->rcpts[DSN_MAX_RCPTS - 1].final_recipient, "r99@example.net");
    dsn_free(d);
    buf_reset(b);
    buf_append_str(b, "From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; report-type=delivery-status; "
                   "boundary=\"b\"\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
                   "Final-Recipient: rfc822; long@example.net\r\nAction: failed\r\nDiagnostic-Code: smtp; ");
    for (int i = 0; i < 3000; i++)
        buf_append_str(b, "\xc3\xa9");
    buf_append_str(b, "\r\n--b--\r\n");
    d = dsn_parse(buf_data(b), buf_len(b), "");
    ck_assert_uint_eq(d->nrcpts, 1);
    ck_assert_uint_le(strlen(d->rcpts[0].diagnostic), DSN_MAX_FIELD);
    ck_assert_msg(g_utf8_validate(d->rcpts[0].diagnostic, -1, NULL), "diagnostic is valid UTF-8");
    dsn_free(d);
    /* Found by fuzz_dsn: a returned Message-ID of 1,000 bytes came back as 1,002 with its
     * brackets, over the contract's DSN_MAX_FIELD. */
    buf_reset(b);
    buf_append_str(b, "From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; report-type=delivery-status; "
                   "boundary=\"b\"\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
                   "Final-Recipient: rfc822; r@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
                   "--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <");
    for (int i = 0; i < 1200; i++)
        buf_append_str(b, "m");
    buf_append_str(b, "@example.org>\r\n\r\n--b--\r\n");
    d = dsn_parse(buf_data(b), buf_len(b), "");
    ck_assert_ptr_nonnull(d->orig_message_id);
    ck_assert_uint_eq(strlen(d->orig_message_id), DSN_MAX_FIELD);
    ck_assert_int_eq(d->orig_message_id[0], '<');
    ck_assert_int_eq(d->orig_message_id[DSN_MAX_FIELD - 1], '>');
    dsn_free(d);
    buf_free(b);
}
END_TEST

START_TEST(malformed_never_crashes)
{
    unsigned seed = 4242;

    for (size_t g = 0; g < NGOLDEN; g++) {
        BUF *in = read_file(golden[g].name, "eml", 1);
        size_t step = buf_len(in) > 3000 ? 5 : 1;

        for (size_t len = 0; len <= buf_len(in); len += step) {
            char *copy = mem_alloc(len + 1);
            DSN *d;

            memcpy(copy, buf_data(in), len);        /* exactly len bytes readable */
            d = dsn_parse(copy, len, "");
            dsn_free(d);
            mem_free(copy);
        }
        buf_free(in);
    }
    for (int round = 0; round < 400; round++) {
        static const char *const pieces[] = {
            "Content-Type: multipart/report; boundary=b\r\n", "Content-Type: message/delivery-status\r\n",
            "Content-Type: text/rfc822-headers\r\n", "Content-Type: message/rfc822\r\n", "--b\r\n", "--b--\r\n",
            "\r\n", "\n", "Final-Recipient: rfc822; x@y\r\n", "Action: failed\r\n", "Status: 5.1.1\r\n",
            "X-Postal-MsgID: abc\r\n", " folded\r\n", "Content-Transfer-Encoding: base64\r\n", "====", "\xff",
            "From: MAILER-DAEMON@x\r\n", "5.", ";", ":", "<", ">", "\0",
        };
        BUF *b = buf_new(256);
        int n = (int) (rand_r(&seed) % 80);
        DSN *d;

        for (int i = 0; i < n; i++) {
            const char *p = pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];

            buf_append(b, p, *p ? strlen(p) : 1);
        }
        d = dsn_parse(buf_data(b), buf_len(b), round % 2 ? "" : NULL);
        dsn_free(d);
        buf_free(b);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("dsn");
    TCase *tc = tcase_create("dsn");

    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, golden_files, 0, (int) NGOLDEN);
    tcase_add_test(tc, what_matters);
    tcase_add_test(tc, feedback_reports);
    tcase_add_test(tc, plain_needs_a_daemon);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, malformed_never_crashes);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
