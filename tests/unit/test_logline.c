/*
 * test_logline.c -- the maillog line parser (worker/logline.c) on lines captured from
 * Postfix 3.7.11's maillog_file in maillog.t (smtp-sink, a STARTTLS receiver answering
 * 450/550, queue expiry), plus the variants Postfix writes that the harness does not
 * produce (orig_to, relay=none, quoted local parts, RFC 3339 stamps) and broken input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logline.h"
#include "unit.h"
#include "util/mem.h"

/* 2026-11-22 17:00:00 UTC: the year the samples' stamps lack. */
#define NOW ((time_t) 1795366800)

static LOGLINE ll;
static char *copy;

static LOGLINE_KIND
parse(const char *line)
{
    mem_free(copy);
    copy = mem_strdup(line);
    return logline_parse(copy, NOW, &ll);
}

static void
setup(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
}

static void
teardown(void)
{
    mem_free(copy);
    copy = NULL;
}

START_TEST(sent_to_sink)
{
    ck_assert_int_eq(parse("Nov 22 16:44:10 postgate postfix/smtp[17523]: 4jXZfL2hm4z1bY0l: to=<someone@example.net>, "
                           "relay=127.0.0.1[127.0.0.1]:22766, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, "
                           "status=sent (250 2.0.0 Ok)"), LOGLINE_DELIVERY);
    ck_assert_str_eq(ll.service, "smtp");
    ck_assert_uint_eq(ll.pid, 17523);
    ck_assert_str_eq(ll.queue_id, "4jXZfL2hm4z1bY0l");
    ck_assert_str_eq(ll.to, "someone@example.net");
    ck_assert_ptr_null(ll.orig_to);
    ck_assert_str_eq(ll.relay, "127.0.0.1[127.0.0.1]:22766");
    ck_assert_double_eq_tol(ll.delay, 0.02, 1e-9);
    ck_assert_str_eq(ll.dsn, "2.0.0");
    ck_assert_str_eq(ll.status, "sent");
    ck_assert_str_eq(ll.text, "250 2.0.0 Ok");
    /* Nov 22 16:44:10 2026 UTC */
    ck_assert_int_eq((long long) ll.when, 1795365850LL);
}
END_TEST

START_TEST(sent_with_queued_as)
{
    ck_assert_int_eq(parse("Nov 22 16:44:00 postgate postfix/smtp[17092]: 4jXZf83bb5z1bZJk: to=<ok@codes.test>, "
                           "relay=127.0.0.1[127.0.0.1]:30617, delay=0.1, delays=0.01/0/0.09/0, dsn=2.0.0, "
                           "status=sent (250 2.0.0 Ok: queued as CODES1)"), LOGLINE_DELIVERY);
    ck_assert_str_eq(ll.text, "250 2.0.0 Ok: queued as CODES1");
    ck_assert_double_eq_tol(ll.delay, 0.1, 1e-9);
}
END_TEST

START_TEST(deferred_and_bounced)
{
    size_t len;
    const char *r;

    ck_assert_int_eq(parse("Nov 22 16:44:23 postgate postfix/smtp[18697]: 4jXZf92grBz1bZJm: to=<soft@codes.test>, "
                           "relay=127.0.0.1[127.0.0.1]:30617, delay=22, delays=22/0/0.09/0, dsn=4.2.0, "
                           "status=deferred (host 127.0.0.1[127.0.0.1] said: 450 4.2.0 <soft@codes.test>: Recipient "
                           "address rejected: try again later (in reply to RCPT TO command))"), LOGLINE_DELIVERY);
    ck_assert_str_eq(ll.status, "deferred");
    ck_assert_str_eq(ll.dsn, "4.2.0");
    ck_assert_double_eq_tol(ll.delay, 22, 1e-9);
    ck_assert_str_eq(ll.text, "host 127.0.0.1[127.0.0.1] said: 450 4.2.0 <soft@codes.test>: Recipient address "
                     "rejected: try again later (in reply to RCPT TO command)");
    r = logline_reply(ll.text, &len);
    ck_assert_uint_eq(len, strlen("450 4.2.0 <soft@codes.test>: Recipient address rejected: try again later"));
    ck_assert(strncmp(r, "450 4.2.0 <soft@codes.test>: Recipient address rejected: try again later", len) == 0);

    ck_assert_int_eq(parse("Nov 22 16:44:02 postgate postfix/smtp[17190]: 4jXZfB2wRVz1bZJs: to=<hard@codes.test>, "
                           "relay=127.0.0.1[127.0.0.1]:30617, delay=0.11, delays=0.01/0.01/0.09/0.01, dsn=5.1.1, "
                           "status=bounced (host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <hard@codes.test>: Recipient "
                           "address rejected: User unknown (in reply to RCPT TO command))"), LOGLINE_DELIVERY);
    ck_assert_str_eq(ll.status, "bounced");
    ck_assert_str_eq(ll.dsn, "5.1.1");
    r = logline_reply(ll.text, &len);
    ck_assert(strncmp(r, "550 5.1.1 <hard@codes.test>: Recipient address rejected: User unknown", len) == 0);
    ck_assert_uint_eq(len, strlen("550 5.1.1 <hard@codes.test>: Recipient address rejected: User unknown"));
}
END_TEST

START_TEST(expired_and_removed)
{
    ck_assert_int_eq(parse("Nov 22 16:44:23 postgate postfix/qmgr[18676]: 4jXZf92grBz1bZJm: "
                           "from=<QJJ0E5Q3Dby7e1An@rp.postgate.test>, status=expired, returned to sender"),
                     LOGLINE_EXPIRED);
    ck_assert_str_eq(ll.service, "qmgr");
    ck_assert_str_eq(ll.queue_id, "4jXZf92grBz1bZJm");
    ck_assert_str_eq(ll.status, "expired");
    /* postsuper -e (Postfix 3.7's words). */
    ck_assert_int_eq(parse("Dec 06 02:24:44 postgate postfix/qmgr[10568]: 4jhpw9490Zz1bZgZ: "
                           "from=<a@example.org>, status=force-expired, returned to sender"), LOGLINE_EXPIRED);
    ck_assert_str_eq(ll.queue_id, "4jhpw9490Zz1bZgZ");
    ck_assert_str_eq(ll.status, "force-expired");
    /* The queue manager's other from= lines are not expiry. */
    ck_assert_int_eq(parse("Nov 22 16:44:22 postgate postfix/qmgr[18676]: 4jXZfX553rz1bZLN: "
                           "from=<eJgXEtZrjhfAWVEB@rp.postgate.test>, size=445, nrcpt=2 (queue active)"), LOGLINE_OTHER);
    ck_assert_ptr_null(ll.queue_id);
    ck_assert_int_eq(parse("Nov 22 16:44:23 postgate postfix/qmgr[18676]: 4jXZf92grBz1bZJm: removed"), LOGLINE_REMOVED);
    ck_assert_str_eq(ll.queue_id, "4jXZf92grBz1bZJm");
}
END_TEST

START_TEST(refused)
{
    /* Postfix 3.7 cleanup, header_checks REJECT (applied after the milters' changes). */
    ck_assert_int_eq(parse("Dec  4 21:20:01 postgate postfix/cleanup[4711]: 4jXZf92grBz1bZJm: reject: header "
                           "X-Refuse-Me: yes from localhost[127.0.0.1]; from=<a@x.test> to=<b@y.test> "
                           "proto=ESMTP helo=<client>: 5.7.1 refused by test"), LOGLINE_REFUSED);
    ck_assert_str_eq(ll.queue_id, "4jXZf92grBz1bZJm");
    ck_assert_str_eq(ll.service, "cleanup");
    /* milter_header_checks REJECT on a header our milter added (logged so by Postfix 3.7). */
    ck_assert_int_eq(parse("Dec 04 21:18:23 postgate postfix/cleanup[23957]: 4jh49C3gP9z1bYcT: milter-header-reject: "
                           "header X-Postal-MsgID: 191q87yhwbekk10c from localhost[127.0.0.1]; from=<app@example.com> "
                           "to=<someone@example.net> proto=ESMTP helo=<vm>: 5.7.1 refused by refused.t"),
                     LOGLINE_REFUSED);
    ck_assert_str_eq(ll.queue_id, "4jh49C3gP9z1bYcT");
    ck_assert_int_eq(parse("Dec  4 21:20:01 h postfix/cleanup[4711]: 3F2A81C0D7: milter-reject: END-OF-MESSAGE "
                           "from localhost[127.0.0.1]: 5.7.1 no; from=<a@x.test> to=<b@y.test> proto=ESMTP"),
                     LOGLINE_REFUSED);
    ck_assert_int_eq(parse("Dec  4 21:20:01 h postfix/cleanup[4711]: 3F2A81C0D7: discard: header X-A: b from "
                           "localhost[127.0.0.1]; from=<a@x.test> to=<b@y.test> proto=ESMTP helo=<c>: gone"),
                     LOGLINE_REFUSED);
    ck_assert_int_eq(parse("Dec  4 21:20:01 h postfix/smtpd[4700]: 3F2A81C0D7: milter-reject: END-OF-MESSAGE "
                           "from localhost[127.0.0.1]: 5.7.1 no; from=<a@x.test> to=<b@y.test> proto=ESMTP"),
                     LOGLINE_REFUSED);
    ck_assert_str_eq(ll.queue_id, "3F2A81C0D7");
    /* One recipient refused after the queue ID exists: the message may still be accepted. */
    ck_assert_int_eq(parse("Dec  4 21:20:01 h postfix/smtpd[4700]: 3F2A81C0D7: reject: RCPT from "
                           "localhost[127.0.0.1]: 550 5.1.1 <c@y.test>: Recipient address rejected; "
                           "from=<a@x.test> to=<c@y.test> proto=ESMTP helo=<c>"), LOGLINE_OTHER);
    ck_assert_ptr_null(ll.queue_id);
    ck_assert_int_eq(parse("Dec  4 21:20:01 h postfix/smtpd[4700]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: "
                           "554 5.7.1 no; from=<a@x.test> to=<c@y.test> proto=ESMTP helo=<c>"), LOGLINE_OTHER);
    ck_assert_int_eq(parse("Dec  4 21:20:01 h postfix/cleanup[4711]: 3F2A81C0D7: warning: header X-A: b"),
                     LOGLINE_OTHER);
}
END_TEST

START_TEST(tls_connection)
{
    ck_assert_int_eq(parse("Nov 22 16:44:23 postgate postfix/smtp[18691]: Untrusted TLS connection established to "
                           "127.0.0.1[127.0.0.1]:30617: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
                           "key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"),
                     LOGLINE_TLS);
    ck_assert_uint_eq(ll.pid, 18691);
    ck_assert_str_eq(ll.service, "smtp");
    ck_assert_str_eq(ll.peer, "127.0.0.1[127.0.0.1]:30617");
    ck_assert_int_eq(parse("Jan  5 01:02:03 mx postfix/smtp[77]: Verified TLS connection established to "
                           "mx.example.com[2001:db8::25]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384"), LOGLINE_TLS);
    ck_assert_str_eq(ll.peer, "mx.example.com[2001:db8::25]:25");
    ck_assert_int_eq(parse("Jan  5 01:02:03 mx postfix/smtp[77]: Fancy TLS connection established to x[1.2.3.4]:25: x"),
                     LOGLINE_OTHER);
}
END_TEST

START_TEST(other_lines)
{
    static const char *const lines[] = {
        "Nov 22 16:35:55 postgate postfix/postfix-script[25780]: starting the Postfix mail system",
        "Nov 22 16:35:55 postgate postfix/master[25782]: daemon started -- version 3.7.11, configuration /etc/postfix",
        "Nov 22 16:35:55 postgate postfix/smtpd[25799]: connect from localhost[127.0.0.1]",
        "Nov 22 16:44:23 postgate postfix/cleanup[18686]: 4jXZfb16MXz1bYWM: message-id=<4jXZfb16MXz1bYWM@postgate.test>",
        "Nov 22 16:44:23 postgate postfix/bounce[18703]: 4jXZf92grBz1bZJm: sender non-delivery notification: 4jXZfb16MXz1bYWM",
        "Nov 22 16:44:23 postgate postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[1.2.3.4]: 554 5.7.1 <a@b>: Relay access denied; "
            "from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
        /* broken: cut off, no status, bad time, no pid, empty */
        "Nov 22 16:44:02 postgate postfix/smtp[17190]: 4jXZfB2wRVz1bZJs: to=<hard@codes.test",
        "Nov 22 16:44:02 postgate postfix/smtp[17190]: 4jXZfB2wRVz1bZJs: to=<hard@codes.test>, relay=x, delay=1",
        "Nov 22 16:44:02 postgate postfix/smtp[17190]: 4jXZfB2wRVz1bZJs: to=<a@b>, relay=x, delay=-1, dsn=2.0.0, status=sent (ok)",
        "Xyz 22 16:44:02 postgate postfix/smtp[17190]: 4jXZfB2wRVz1bZJs: to=<a@b>, relay=x, delay=1, dsn=2.0.0, status=sent (ok)",
        "Nov 22 16:44:02 postgate postfix/smtp: 4jXZfB2wRVz1bZJs: to=<a@b>, relay=x, delay=1, dsn=2.0.0, status=sent (ok)",
        "Nov 22 16:44:02 postgate postfix/smtp[1]: 4jX!: to=<a@b>, relay=x, delay=1, dsn=2.0.0, status=sent (ok)",
        "Nov 22 16:44:02 postgate postfix/smtp[1]: 4jXZfB2wRVz1bZJs: to=<>, relay=x, delay=1, dsn=2.0.0, status=sent (ok)",
        "",
        "Nov",
        "Nov 22 16:44:02",
    };

    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        ck_assert_msg(parse(lines[i]) == LOGLINE_OTHER, "line %zu: %s", i, lines[i]);
        ck_assert_ptr_null(ll.queue_id);
    }
}
END_TEST

START_TEST(variants)
{
    size_t len;
    const char *r;

    /* orig_to (an alias or canonical rewrite), relay=none, a connection error. */
    ck_assert_int_eq(parse("Nov 22 16:44:02 h postfix/smtp[9]: 4jXZfB2wRVz1bZJs: to=<b@x.test>, orig_to=<a@x.test>, "
                           "relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to "
                           "mx.x.test[192.0.2.1]:25: Connection timed out)"), LOGLINE_DELIVERY);
    ck_assert_str_eq(ll.to, "b@x.test");
    ck_assert_str_eq(ll.orig_to, "a@x.test");
    ck_assert_str_eq(ll.relay, "none");
    r = logline_reply(ll.text, &len);
    ck_assert_ptr_eq(r, ll.text);
    ck_assert_uint_eq(len, strlen(ll.text));
    /* a quoted local part with a comma, a space and '>'; conn_use; another service name */
    ck_assert_int_eq(parse("Nov 22 16:44:02 h postfix-out/lmtp[9]: 3F2A81C0D7: to=<\"a, b>c\"@x.test>, "
                           "relay=x.test[private/lmtp], conn_use=2, delay=0.5, delays=0/0/0/0.5, dsn=2.0.0, "
                           "status=sent (250 2.0.0 <\"a, b>c\"@x.test> (fine) Saved)"), LOGLINE_DELIVERY);
    ck_assert_str_eq(ll.service, "lmtp");
    ck_assert_str_eq(ll.queue_id, "3F2A81C0D7");
    ck_assert_str_eq(ll.to, "\"a, b>c\"@x.test");
    ck_assert_str_eq(ll.relay, "x.test[private/lmtp]");
    ck_assert_str_eq(ll.text, "250 2.0.0 <\"a, b>c\"@x.test> (fine) Saved");
    /* no reason text at all */
    ck_assert_int_eq(parse("Nov 22 16:44:02 h postfix/discard[9]: 4jXZfB2wRVz1bZJs: to=<a@x.test>, relay=none, "
                           "delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent"), LOGLINE_DELIVERY);
    ck_assert_str_eq(ll.text, "");
    /* RFC 3339 time stamps (rsyslog's format) */
    ck_assert_int_eq(parse("2026-11-22T17:44:10.123456+01:00 postgate postfix/smtp[17523]: 4jXZfL2hm4z1bY0l: "
                           "to=<someone@example.net>, relay=r, delay=0.02, delays=0/0/0/0, dsn=2.0.0, status=sent (ok)"),
                     LOGLINE_DELIVERY);
    ck_assert_int_eq((long long) ll.when, 1795365850LL);
    /* a reply without the "(in reply to ...)" tail */
    r = logline_reply("host h[1.2.3.4] said: 421 4.7.0 go away", &len);
    ck_assert(strncmp(r, "421 4.7.0 go away", len) == 0 && len == strlen("421 4.7.0 go away"));
}
END_TEST

START_TEST(year_and_queue_ids)
{
    /* Read on New Year's Day, a stamp from Dec 31 belongs to the year before. */
    char line[] = "Dec 31 23:59:59 h postfix/qmgr[1]: 4jXZf92grBz1bZJm: removed";

    ck_assert_int_eq(logline_parse(line, (time_t) 1798761610, &ll), LOGLINE_REMOVED);   /* 2027-01-01 00:00:10 */
    ck_assert_int_eq((long long) ll.when, 1798761599LL);                                 /* 2026-12-31 23:59:59 */
    ck_assert(logline_queue_id_valid("3F2A81C0D7"));
    ck_assert(logline_queue_id_valid("4jXZf92grBz1bZJm"));
    ck_assert(!logline_queue_id_valid("3F2A"));
    ck_assert(!logline_queue_id_valid("4jXZ-92grBz1bZJm"));
    ck_assert(!logline_queue_id_valid("0123456789012345678901234567890123"));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("logline");
    TCase *tc = tcase_create("logline");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sent_to_sink);
    tcase_add_test(tc, sent_with_queued_as);
    tcase_add_test(tc, deferred_and_bounced);
    tcase_add_test(tc, expired_and_removed);
    tcase_add_test(tc, refused);
    tcase_add_test(tc, tls_connection);
    tcase_add_test(tc, other_lines);
    tcase_add_test(tc, variants);
    tcase_add_test(tc, year_and_queue_ids);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
