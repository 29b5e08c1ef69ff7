/*
 * test_forward.c -- the X-Postgate-Forward header (lib/mail/forward.c): made and verified
 * round trip, folded or not; refused when forged, made under another key, for another
 * recipient, expired, or changed in any field. The report rule (lib/mail/senderauth.c):
 * SPF pass, or a valid DKIM signature aligned with the sender's organizational domain;
 * nothing else. The sender-authentication fields of the inspection header round trip.
 * endpoints.t runs all of it through the real Postfix, milter and worker.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/forward.h"
#include "mail/inspection.h"
#include "mail/senderauth.h"
#include "unit.h"
#include "util/mem.h"

static char *dir;
static SEAL_KEY *key, *other;

static SEAL_KEY *
new_key(const char *name)
{
    char *path = buf_asprintf("%s/%s", dir, name), *error = NULL;
    SEAL_KEY *k;

    ck_assert_int_eq(seal_key_create(path, &error), 0);
    k = seal_key_load(path, &error);
    ck_assert_ptr_nonnull(k);
    mem_free(path);
    return k;
}

static void
setup(void)
{
    dir = unit_tmpdir();
    key = new_key("a.key");
    other = new_key("b.key");
}

static void
teardown(void)
{
    seal_key_free(key);
    seal_key_free(other);
    unit_rmtree(dir);
    mem_free(dir);
}

static FORWARD_INFO
sample(void)
{
    FORWARD_INFO fi = {.kind = FORWARD_KIND_FORWARD, .server_id = 12, .message_id = 345, .time = 1700000000};

    snprintf(fi.rcpt, sizeof(fi.rcpt), "someone@example.net");
    snprintf(fi.token, sizeof(fi.token), "abcdefgh12345678");
    return fi;
}

START_TEST(forward_round_trip)
{
    FORWARD_INFO fi = sample(), out;
    char *v = forward_header_make(key, &fi), *folded;
    const char *why;

    ck_assert_int_eq(forward_header_verify(key, v, "someone@example.net", 1700000010, &out, &why), 1);
    ck_assert_int_eq(out.kind, FORWARD_KIND_FORWARD);
    ck_assert_uint_eq(out.server_id, 12);
    ck_assert_uint_eq(out.message_id, 345);
    ck_assert_str_eq(out.token, "abcdefgh12345678");
    /* Case of the recipient, a leading space and folding as Postfix passes it. */
    folded = buf_asprintf(" %.*s\n\t%s", 40, v, v + 40);
    ck_assert_int_eq(forward_header_verify(key, folded, "SomeOne@Example.NET", 1700000010, &out, &why), 1);
    mem_free(folded);
    fi.kind = FORWARD_KIND_REPORT;
    mem_free(v);
    v = forward_header_make(key, &fi);
    ck_assert_int_eq(forward_header_verify(key, v, "someone@example.net", 1700000010, &out, &why), 1);
    ck_assert_int_eq(out.kind, FORWARD_KIND_REPORT);
    mem_free(v);
}
END_TEST

START_TEST(forward_forgeries_refused)
{
    FORWARD_INFO fi = sample(), out;
    char *v = forward_header_make(key, &fi), *changed;
    const char *why;

    ck_assert_int_eq(forward_header_verify(other, v, "someone@example.net", 1700000010, &out, &why), 0);
    ck_assert_str_eq(why, "bad MAC");
    ck_assert_int_eq(forward_header_verify(key, v, "other@example.net", 1700000010, &out, &why), 0);
    ck_assert_str_eq(why, "made for another recipient");
    ck_assert_int_eq(forward_header_verify(key, v, "someone@example.net", 1700000000 + FORWARD_MAX_AGE + 1, &out,
                                           &why), 0);
    ck_assert_str_eq(why, "expired");
    ck_assert_int_eq(forward_header_verify(key, v, "someone@example.net", 1700000000 - 3600, &out, &why), 0);
    /* Another server (a replay for another tenant): the MAC no longer holds. */
    changed = mem_strdup(v);
    memcpy(strstr(changed, "server=12"), "server=13", 9);
    ck_assert_int_eq(forward_header_verify(key, changed, "someone@example.net", 1700000010, &out, &why), 0);
    mem_free(changed);
    ck_assert_int_eq(forward_header_verify(key, "", "someone@example.net", 1700000010, &out, &why), 0);
    ck_assert_int_eq(forward_header_verify(key, "v=1; kind=forward; mac=00", "someone@example.net", 1700000010, &out,
                                           &why), 0);
    ck_assert_uint_eq(out.server_id, 0);
    mem_free(v);
}
END_TEST

START_TEST(alignment)
{
    ck_assert_int_eq(senderauth_aligned("example.org", "example.org"), 1);
    ck_assert_int_eq(senderauth_aligned("EXAMPLE.org", "example.ORG"), 1);
    ck_assert_int_eq(senderauth_aligned("mail.example.org", "example.org"), 1);
    ck_assert_int_eq(senderauth_aligned("example.org", "bounces.example.org"), 1);
    ck_assert_int_eq(senderauth_aligned("example.org", "example.net"), 0);
    ck_assert_int_eq(senderauth_aligned("example.org", "evil-example.org"), 0);
    /* A public suffix is nobody's organization. */
    ck_assert_int_eq(senderauth_aligned("a.co.uk", "b.co.uk"), 0);
    ck_assert_int_eq(senderauth_aligned("a.co.uk", "co.uk"), 0);
    ck_assert_int_eq(senderauth_aligned("", "example.org"), 0);
    ck_assert_int_eq(senderauth_aligned("example.org", NULL), 0);
}
END_TEST

START_TEST(report_rule)
{
    char why[300];

    ck_assert_int_eq(senderauth_report_allowed("a@example.org", "pass", "none", "", "rp.example.net", why, sizeof(why)), 1);
    ck_assert_str_eq(why, "the sender passed SPF");
    ck_assert_int_eq(senderauth_report_allowed("a@example.org", "fail", "pass", "example.org", "rp.example.net", why, sizeof(why)), 1);
    ck_assert_int_eq(senderauth_report_allowed("a@mail.example.org", "none", "pass", "example.org", "rp.example.net", why, sizeof(why)),
                     1);
    ck_assert_int_eq(senderauth_report_allowed("a@example.org", "none", "fail", "example.org", "rp.example.net", why, sizeof(why)), 0);
    ck_assert_str_eq(why, "the sender was not authenticated (SPF none, DKIM fail)");
    ck_assert_int_eq(senderauth_report_allowed("a@example.org", "softfail", "pass", "example.net", "rp.example.net", why, sizeof(why)),
                     0);
    ck_assert_ptr_nonnull(strstr(why, "not aligned"));
    ck_assert_int_eq(senderauth_report_allowed("a@example.org", "temperror", "temperror", "", "rp.example.net", why, sizeof(why)), 0);
    ck_assert_int_eq(senderauth_report_allowed("a@example.org", NULL, NULL, NULL, "rp.example.net", why, sizeof(why)), 0);
    ck_assert_str_eq(why, "the sender was not authenticated (SPF unchecked, DKIM unchecked)");
    ck_assert_int_eq(senderauth_report_allowed("a@example.org", "neutral", "none", "", "rp.example.net", why, sizeof(why)), 0);
    /* Unchecked mail from this installation's return path came from postgate itself. */
    ck_assert_int_eq(senderauth_report_allowed("abcdefgh12345678@rp.example.net", NULL, NULL, NULL, "rp.example.net",
                                               why, sizeof(why)), 1);
    /* Checked (from the Internet) it needs SPF or DKIM like any sender. */
    ck_assert_int_eq(senderauth_report_allowed("abcdefgh12345678@rp.example.net", "fail", "none", "",
                                               "rp.example.net", why, sizeof(why)), 0);
    ck_assert_int_eq(senderauth_report_allowed("a@other.example", NULL, NULL, NULL, "rp.example.net", why,
                                               sizeof(why)), 0);
}
END_TEST

START_TEST(inspection_carries_auth)
{
    static const char body[] = "Hello\r\n";
    INSPECTION in, out;
    char *v;

    memset(&in, 0, sizeof(in));
    snprintf(in.spf, sizeof(in.spf), "pass");
    snprintf(in.dkim, sizeof(in.dkim), "fail");
    snprintf(in.dkim_domain, sizeof(in.dkim_domain), "example.org");
    v = inspection_header_make(key, &in, body, strlen(body));
    ck_assert_int_eq(inspection_header_verify(key, v, body, strlen(body), &out), 1);
    ck_assert_str_eq(out.spf, "pass");
    ck_assert_str_eq(out.dkim, "fail");
    ck_assert_str_eq(out.dkim_domain, "example.org");
    ck_assert_int_eq(out.spam_checked, 0);
    mem_free(v);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("forward");
    TCase *tc = tcase_create("forward");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, forward_round_trip);
    tcase_add_test(tc, forward_forgeries_refused);
    tcase_add_test(tc, alignment);
    tcase_add_test(tc, report_rule);
    tcase_add_test(tc, inspection_carries_auth);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
