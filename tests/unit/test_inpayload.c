/*
 * test_inpayload.c -- Postal's incoming HTTP endpoint payloads (lib/mail/inpayload.c):
 * reply stripping, the Rails-style form encoding, the Hash and RawMessage objects of a
 * multipart message; and the RFC 3464 report of lib/mail/ndr.c.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "mail/address.h"
#include "mail/inpayload.h"
#include "mail/mime.h"
#include "mail/ndr.h"
#include "unit.h"
#include "util/mem.h"

static const char message[] =
    "From: Sender <sender@example.org>\r\nTo: route@in.example\r\nSubject: Hello\r\n"
    "Reply-To: replies@example.org\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNew text\r\n\r\n"
    "On Mon, 1 Jan 2024, Bob <bob@example.org> wrote:\r\n> old\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n";

static void
strip_case(const char *in, const char *body, const char *replies)
{
    char *b, *r;

    inpayload_strip_replies(in, &b, &r);
    ck_assert_str_eq(b, body);
    if (replies == NULL)
        ck_assert_ptr_null(r);
    else
        ck_assert_str_eq(r, replies);
    mem_free(b);
    mem_free(r);
}

START_TEST(strip_replies)
{
    strip_case("Hi\r\n\r\nOn Tue, 2 Jan 2024, A <a@b> wrote:\r\n> x\r\n", "Hi", "On Tue, 2 Jan 2024, A <a@b> wrote:\n> x");
    strip_case("Hi\n> quoted\n", "Hi", "> quoted");
    strip_case("Hi\n-----Original Message-----\nFrom: x\n", "Hi", "-----Original Message-----\nFrom: x");
    strip_case("Hi\nFrom: Bob\nSent: Monday\nold", "Hi", "From: Bob\nSent: Monday\nold");
    strip_case("Hi\n-- \nsig", "Hi", "-- \nsig");
    strip_case("On second thought, no.\n", "On second thought, no.", NULL);
    strip_case("Hi\nOn Mon, Bob Example <bob@example.org>\nwrote:\n> x", "Hi", "On Mon, Bob Example <bob@example.org>\nwrote:\n> x");
    strip_case("  just text  ", "just text", NULL);
}
END_TEST

START_TEST(form_encoding)
{
    json_t *o = json_pack("{s:s, s:i, s:b, s:n, s:[{s:s, s:s}, {s:s}], s:{s:s}}", "subject", "a b&c=d", "size", 12,
                          "bounce", 0, "cc", "attachments", "filename", "x[1].txt", "data", "AA+/", "filename", "y",
                          "meta", "k", "v");
    size_t len;
    char *f = inpayload_form_encode(o, &len);

    ck_assert_str_eq(f, "subject=a+b%26c%3Dd&size=12&bounce=false&cc=&attachments%5B%5D%5Bfilename%5D=x%5B1%5D.txt"
                     "&attachments%5B%5D%5Bdata%5D=AA%2B%2F&attachments%5B%5D%5Bfilename%5D=y&meta%5Bk%5D=v");
    ck_assert_uint_eq(len, strlen(f));
    mem_free(f);
    json_decref(o);
}
END_TEST

START_TEST(hash_and_raw)
{
    INPAYLOAD_MESSAGE m = {.id = 7, .token = "tok", .rcpt_to = "route@in.example", .mail_from = "sender@example.org",
                           .subject = "Hello", .message_id = "<m@x>", .timestamp = "1700000000.250000", .size = 10,
                           .spam_status = "NotSpam", .bounce = 0, .received_with_ssl = -1,
                           .raw = message, .raw_len = sizeof(message) - 1};
    INPAYLOAD_OPTIONS opt = {.strip_replies = 1, .include_attachments = 1};
    json_t *o = inpayload_object(&m, &opt), *a;
    const char *ct;
    size_t len;
    char *body;

    ck_assert_int_eq(json_integer_value(json_object_get(o, "id")), 7);
    ck_assert_str_eq(json_string_value(json_object_get(o, "plain_body")), "New text");
    ck_assert_str_eq(json_string_value(json_object_get(o, "replies_from_plain_body")),
                     "On Mon, 1 Jan 2024, Bob <bob@example.org> wrote:\n> old");
    ck_assert_str_eq(json_string_value(json_object_get(o, "reply_to")), "replies@example.org");
    ck_assert(json_is_null(json_object_get(o, "cc")));
    ck_assert(json_is_null(json_object_get(o, "received_with_ssl")));
    ck_assert(json_is_false(json_object_get(o, "bounce")));
    ck_assert(json_real_value(json_object_get(o, "timestamp")) == 1700000000.25);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "attachment_quantity")), 1);
    a = json_array_get(json_object_get(o, "attachments"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(a, "filename")), "a.bin");
    ck_assert_str_eq(json_string_value(json_object_get(a, "data")), "AAEC");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "size")), 3);
    json_decref(o);

    opt.raw_format = 1;
    body = inpayload_build(&m, &opt, &len, &ct);
    ck_assert_str_eq(ct, "application/json");
    o = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(json_object_size(o), 6);
    ck_assert(json_is_true(json_object_get(o, "base64")));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "size")), (json_int_t) (sizeof(message) - 1));
    json_decref(o);
    mem_free(body);

    opt.form = 1;
    body = inpayload_build(&m, &opt, &len, &ct);
    ck_assert_str_eq(ct, "application/x-www-form-urlencoded");
    ck_assert_ptr_nonnull(strstr(body, "&base64=true&"));
    mem_free(body);
}
END_TEST

START_TEST(report)
{
    NDR n = {.reporting_mta = "mx.example", .sender = "sender@example.org", .recipient = "route@in.example",
             .status = "5.0.0", .diagnostic = "HTTP 404\r\nInjected: header", .details = "Received a 404",
             .original = message, .original_len = sizeof(message) - 1};
    size_t len;
    char *r = ndr_build(&n, &len);

    ck_assert_ptr_nonnull(strstr(r, "Content-Type: multipart/report; report-type=delivery-status;"));
    ck_assert_ptr_nonnull(strstr(r, "\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "\r\nFinal-Recipient: rfc822; route@in.example\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "\r\nAction: failed\r\nStatus: 5.0.0\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "\r\nDiagnostic-Code: X-Postgate; HTTP 404  Injected: header\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "Content-Type: text/rfc822-headers\r\n\r\nFrom: Sender <sender@example.org>\r\n"));
    ck_assert_ptr_null(strstr(r, "New text"));          /* the header only, never the body */
    for (size_t i = 0; i < len; i++)                    /* no bare LF */
        if (r[i] == '\n')
            ck_assert_int_eq(r[i - 1], '\r');
    mem_free(r);
    ck_assert_int_eq(ndr_wanted(""), 0);
    ck_assert_int_eq(ndr_wanted("MAILER-DAEMON@example.org"), 0);
    ck_assert_int_eq(ndr_wanted("someone@example.org"), 1);
}
END_TEST

/* Found by fuzz_mime: an empty attachment part made mime.c pass GMime's NULL data to
 * memcpy (undefined behaviour; the sanitizer build aborted). */
START_TEST(empty_attachment)
{
    static const char raw[] = "From: a@example.org\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment; filename=\"empty.bin\"\r\n\r\n"
        "--b--\r\n";
    MIME_PARSED *p = mime_parse(raw, sizeof(raw) - 1, 0);

    ck_assert_uint_eq(p->nfiles, 1);
    ck_assert_str_eq(p->files[0].filename, "empty.bin");
    ck_assert_uint_eq(p->files[0].len, 0);
    ck_assert_str_eq((const char *) p->files[0].data, "");
    mime_parsed_free(p);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("inpayload");
    TCase *tc = tcase_create("inpayload");

    address_init();
    tcase_add_test(tc, strip_replies);
    tcase_add_test(tc, form_encoding);
    tcase_add_test(tc, hash_and_raw);
    tcase_add_test(tc, report);
    tcase_add_test(tc, empty_attachment);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
