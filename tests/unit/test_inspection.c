/*
 * test_inspection.c -- the signed spam/virus verdict header (lib/mail/inspection.c):
 * made and verified round trip; folding, line ends and re-wrapped body lines do not
 * matter; a changed field, another body, another key or a missing MAC is refused;
 * finding the header in a raw header block; the per-server status and the row fields;
 * Postal's decimal format. spam.t runs it through the real milter and worker.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/inspection.h"
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

static const char body[] = "Hello,\r\nthe minutes are on the wiki.\r\n";

static void
sample(INSPECTION *in)
{
    memset(in, 0, sizeof(*in));
    in->spam_checked = 1;
    in->spam_score = 7.35;
    snprintf(in->rules[0].name, sizeof(in->rules[0].name), "GTUBE");
    in->rules[0].score = 1000;
    snprintf(in->rules[1].name, sizeof(in->rules[1].name), "NO_RELAYS");
    in->rules[1].score = -0.001;
    in->nrules = 2;
    in->threat_checked = 1;
    inspection_add_server(in, 12, 1);
    inspection_add_server(in, 13, 0);
    inspection_add_server(in, 12, 0);   /* once per server: ignored */
}

START_TEST(round_trip)
{
    INSPECTION in, out;
    char *value;

    sample(&in);
    value = inspection_header_make(key, &in, body, strlen(body));
    ck_assert(value[0] == ' ');
    ck_assert_ptr_nonnull(strstr(value, "mac="));
    ck_assert_int_eq(inspection_header_verify(key, value, body, strlen(body), &out), 1);
    ck_assert_int_eq(out.spam_checked, 1);
    ck_assert(out.spam_score > 7.34 && out.spam_score < 7.36);
    ck_assert_uint_eq(out.nrules, 2);
    ck_assert_str_eq(out.rules[1].name, "NO_RELAYS");
    ck_assert(out.rules[1].score < 0);
    ck_assert_int_eq(out.threat_checked, 1);
    ck_assert_int_eq(out.threat, 0);
    ck_assert_uint_eq(out.nservers, 2);
    ck_assert_str_eq(inspection_spam_status(&out, 12), "Spam");
    ck_assert_str_eq(inspection_spam_status(&out, 13), "NotSpam");
    ck_assert_str_eq(inspection_spam_status(&out, 14), "NotChecked");
    mem_free(value);
}
END_TEST

START_TEST(unchecked_and_infected)
{
    INSPECTION in = {0}, out;
    char *value;

    in.threat_checked = 1;
    in.threat = 1;
    snprintf(in.threat_details, sizeof(in.threat_details), "Eicar;Test Sig");
    value = inspection_header_make(key, &in, body, strlen(body));
    ck_assert_ptr_nonnull(strstr(value, "spam=unchecked"));
    ck_assert_int_eq(inspection_header_verify(key, value, body, strlen(body), &out), 1);
    ck_assert_int_eq(out.spam_checked, 0);
    ck_assert_int_eq(out.threat, 1);
    ck_assert_str_eq(out.threat_details, "Eicar_Test_Sig");
    ck_assert_str_eq(inspection_spam_status(&out, 12), "NotChecked");
    mem_free(value);
}
END_TEST

START_TEST(transport_changes_do_not_matter)
{
    static const char rewrapped[] = "Hello,\nthe minutes are\r\n on the wiki.";
    INSPECTION in, out;
    char *value;
    BUF *folded = buf_new(256);

    sample(&in);
    value = inspection_header_make(key, &in, body, strlen(body));
    /* Refolded differently, CRLF instead of LF. */
    for (const char *p = value; *p; p++) {
        if (*p == '\n')
            buf_append_str(folded, "\r\n");
        else
            buf_append_char(folded, *p);
        if (*p == ',')
            buf_append_str(folded, "\r\n ");
    }
    ck_assert_int_eq(inspection_header_verify(key, buf_cstr(folded), rewrapped, strlen(rewrapped), &out), 1);
    ck_assert_uint_eq(out.nrules, 2);
    buf_free(folded);
    mem_free(value);
}
END_TEST

START_TEST(forgeries_refused)
{
    INSPECTION in, out;
    char *value, *p;

    sample(&in);
    value = inspection_header_make(key, &in, body, strlen(body));
    ck_assert_int_eq(inspection_header_verify(other, value, body, strlen(body), &out), 0);
    ck_assert_int_eq(inspection_header_verify(key, value, "other content", 13, &out), 0);
    ck_assert_uint_eq(out.nservers, 0);         /* nothing half-filled */
    p = strstr(value, "12:S");
    ck_assert_ptr_nonnull(p);
    p[3] = 'N';
    ck_assert_int_eq(inspection_header_verify(key, value, body, strlen(body), &out), 0);
    p[3] = 'S';
    ck_assert_int_eq(inspection_header_verify(key, value, body, strlen(body), &out), 1);
    *strstr(value, ";") = '\0';
    ck_assert_int_eq(inspection_header_verify(key, value, body, strlen(body), &out), 0);
    ck_assert_int_eq(inspection_header_verify(key, " v=1; spam=1; mac=", body, strlen(body), &out), 0);
    ck_assert_int_eq(inspection_header_verify(key, "", body, strlen(body), &out), 0);
    mem_free(value);
}
END_TEST

START_TEST(found_in_headers)
{
    INSPECTION in, out;
    char *value, *block, *forged;

    sample(&in);
    value = inspection_header_make(key, &in, body, strlen(body));
    ck_assert_int_eq(inspection_from_headers(key, "From: a@b\r\nSubject: x\r\n", 23, body, strlen(body), &out), 0);
    forged = buf_asprintf("From: a@b\r\nx-postgate-inspection: v=1; spam=0; mac=%064d\r\n", 0);
    ck_assert_int_eq(inspection_from_headers(key, forged, strlen(forged), body, strlen(body), &out), -1);
    /* A forged one before the genuine one: the genuine one is found. */
    block = buf_asprintf("%sX-Postgate-Inspection:%s\r\nSubject: x\r\n", forged, value);
    ck_assert_int_eq(inspection_from_headers(key, block, strlen(block), body, strlen(body), &out), 1);
    ck_assert_str_eq(inspection_spam_status(&out, 12), "Spam");
    mem_free(block);
    mem_free(forged);
    mem_free(value);
}
END_TEST

START_TEST(row_fields)
{
    INSPECTION in;
    MESSAGE_INSPECTION row;
    char *checks;

    sample(&in);
    inspection_row(&in, 13, &row, &checks);
    ck_assert_str_eq(row.spam_status, "NotSpam");
    ck_assert_int_eq(row.inspected, 1);
    ck_assert_int_eq(row.threat, 0);
    ck_assert_ptr_null(row.threat_details);
    ck_assert_ptr_nonnull(checks);
    ck_assert_ptr_nonnull(strstr(checks, "\"code\":\"GTUBE\""));
    ck_assert_ptr_eq(row.spam_checks, checks);
    mem_free(checks);
    memset(&in, 0, sizeof(in));
    inspection_row(&in, 13, &row, &checks);
    ck_assert_str_eq(row.spam_status, "NotChecked");
    ck_assert_int_eq(row.inspected, 0);
    ck_assert_ptr_null(checks);
}
END_TEST

START_TEST(decimals)
{
    char out[32];

    inspection_decimal(5, 2, out);
    ck_assert_str_eq(out, "5.0");
    inspection_decimal(7.35, 2, out);
    ck_assert_str_eq(out, "7.35");
    inspection_decimal(1000.5, 2, out);
    ck_assert_str_eq(out, "1000.5");
    inspection_decimal(-0.001, 3, out);
    ck_assert_str_eq(out, "-0.001");
    inspection_decimal(-0.001, 2, out);
    ck_assert_str_eq(out, "0.0");
    inspection_safe_name("Win.Test.EICAR_HDB-1 \r\n%s", out, sizeof(out));
    ck_assert_str_eq(out, "Win.Test.EICAR_HDB-1____s");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("inspection");
    TCase *tc = tcase_create("header");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, unchecked_and_infected);
    tcase_add_test(tc, transport_changes_do_not_matter);
    tcase_add_test(tc, forgeries_refused);
    tcase_add_test(tc, found_in_headers);
    tcase_add_test(tc, row_fields);
    tcase_add_test(tc, decimals);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
