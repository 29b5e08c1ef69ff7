/*
 * test_scan.c -- the answer parsers of the spamd and clamd clients: verdict, score,
 * threshold and rules from a REPORT answer (with wrapped descriptions and negative
 * points), refusals and malformed answers as errors; clamd's OK / FOUND / ERROR lines.
 * scan.t runs the real daemons.
 */
#include "config.h"

#include <string.h>

#include "mail/clamd.h"
#include "mail/spamd.h"
#include "unit.h"
#include "util/mem.h"

static const char report[] =
    "SPAMD/1.1 0 EX_OK\r\n"
    "Content-length: 512\r\n"
    "Spam: True ; 1002.5 / 5.0\r\n"
    "\r\n"
    "Spam detection software, running on the system \"host\", has\r\n"
    "identified this incoming email as possible spam.\r\n"
    "\r\n"
    "Content analysis details:   (1002.5 points, 5.0 required)\r\n"
    "\r\n"
    " pts rule name              description\r\n"
    "---- ---------------------- --------------------------------------------------\r\n"
    "1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email\r\n"
    " 2.7 MISSING_DATE           Missing Date: header\r\n"
    "-0.0 NO_RELAYS              Informational: message was not relayed via SMTP\r\n"
    " 0.0 HTML_MESSAGE           BODY: HTML included in message\r\n"
    "                            (continued description line)\r\n"
    "-0.2 BAYES_00 BODY: Bayes spam probability is 0 to 1%\r\n";

START_TEST(spamd_report)
{
    SPAMD_RESULT r;
    char *error = NULL;

    ck_assert_int_eq(spamd_parse_answer(report, strlen(report), &r, &error), 0);
    ck_assert_int_eq(r.is_spam, 1);
    ck_assert(r.score > 1002.4 && r.score < 1002.6);
    ck_assert(r.threshold > 4.9 && r.threshold < 5.1);
    ck_assert_uint_eq(r.nrules, 5);
    ck_assert_str_eq(r.rules[0].name, "GTUBE");
    ck_assert(r.rules[0].score > 999.9);
    ck_assert_str_eq(r.rules[2].name, "NO_RELAYS");
    ck_assert_str_eq(r.rules[4].name, "BAYES_00");
    ck_assert(r.rules[4].score < -0.1);
}
END_TEST

START_TEST(spamd_errors)
{
    static const char refused[] = "SPAMD/1.0 76 Bad header line: (EOF)\r\n";
    static const char no_verdict[] = "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n";
    static const char bad_verdict[] = "SPAMD/1.1 0 EX_OK\r\nSpam: True 12\r\n\r\n";
    static const char garbage[] = "HTTP/1.1 200 OK\r\n\r\n";
    static const char ham[] = "SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.1 / 5.0\r\n\r\n";
    const char *bad[] = {refused, no_verdict, bad_verdict, garbage, ""};
    SPAMD_RESULT r;
    char *error;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        error = NULL;
        ck_assert_int_eq(spamd_parse_answer(bad[i], strlen(bad[i]), &r, &error), -1);
        ck_assert_ptr_nonnull(error);
        mem_free(error);
    }
    ck_assert_int_eq(spamd_parse_answer(ham, strlen(ham), &r, &error), 0);
    ck_assert_int_eq(r.is_spam, 0);
    ck_assert_uint_eq(r.nrules, 0);
}
END_TEST

START_TEST(clamd_answers)
{
    char *virus = NULL, *error = NULL;

    ck_assert_int_eq(clamd_parse_answer("stream: OK", &virus, &error), 0);
    ck_assert_ptr_null(virus);
    ck_assert_int_eq(clamd_parse_answer("stream: Win.Test.EICAR_HDB-1 FOUND\n", &virus, &error), 1);
    ck_assert_str_eq(virus, "Win.Test.EICAR_HDB-1");
    mem_free(virus);
    ck_assert_int_eq(clamd_parse_answer("INSTREAM size limit exceeded. ERROR", &virus, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "size limit"));
    mem_free(error);
    error = NULL;
    ck_assert_int_eq(clamd_parse_answer("", &virus, &error), -1);
    mem_free(error);
    error = NULL;
    ck_assert_int_eq(clamd_parse_answer("stream: FOUND", &virus, &error), -1);
    mem_free(error);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("scan");
    TCase *tc = tcase_create("scan");

    tcase_add_test(tc, spamd_report);
    tcase_add_test(tc, spamd_errors);
    tcase_add_test(tc, clamd_answers);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
