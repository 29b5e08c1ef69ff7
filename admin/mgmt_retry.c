/*
 * mgmt_retry.c -- sending failed and held messages again (doc/api.md "Retrying
 * messages"): one message at once (POST …/messages/{id}/retry), or every message a list
 * filter matches (POST …/messages/retry?status=HardFail&…), marked for postgate-worker's
 * `retries` job, which sends them at worker.retry_rate per second so a bulk retry never
 * floods Postfix's queue. What a retry does is lib/mail/retry.c's.
 *
 * Must never: retry a message of a server the principal may not change (members and up;
 * another organization's server is 404), or mark more than RETRY_BULK_MAX at once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/message.h"
#include "mail/retry.h"
#include "mgmt_messages.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define RETRY_BULK_MAX 10000
#define RETRY_BULK_DEFAULT 1000
#define RETRY_PAGE 500

static void
mgmt_v2_message_retry(HTTP_REQUEST *req, void *arg)
{
    static const char *const none[] = {NULL};
    unsigned long long server_id = 0, id = 0;
    DB_ROWS rows = {0};
    char *why = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || mgmt_read_optional_body(&c, none) != 0)
        goto out;
    if (!mgmt_parse_id(http_path_arg(req, 2), &id)) {
        mgmt_reply_not_found(&c, "message");
        goto out;
    }
    ret = retry_message(c.db, c.req->cfg, c.m->seal, server_id, id, c.p.email, &why);
    if (ret == RETRY_NOT_FOUND) {
        mgmt_reply_not_found(&c, "message");
    } else if (ret == RETRY_NOT_RETRYABLE) {
        mgmt_reply_conflict(&c, "NotRetryable", why, NULL);
    } else if (ret < 0 || ret == RETRY_INJECT_FAILED) {
        msg_warn("user %llu: retrying message %llu of server %llu: %s", c.p.user_id, id, server_id,
                 ret < 0 ? db_error(c.db) : why);
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure",
                        ret < 0 ? "The database failed; nothing changed. Try again." : why);
    } else if ((ret = message_get_row(c.db, server_id, id, &rows)) <= 0) {
        mgmt_reply_db(&c, "message reload", ret < 0 ? ret : DB_ERR_PERM);
    } else {
        msg_info("user %llu: retried message %llu of server %llu", c.p.user_id, id, server_id);
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "message", mgmt_message_summary(rows.v)));
    }
out:
    mem_free(why);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* Marks what the filter matches, newest first, page by page, at most max rows looked at.
 * *marked_r gets the marked count. < 0 on a database error. */
static int
mark_matching(MGMT_CALL *c, MESSAGE_QUERY *q, long long max, long long *matched_r, long long *marked_r)
{
    char cursor[32];
    int ret;

    *matched_r = *marked_r = 0;
    while (*matched_r < max) {
        DB_ROWS rows = {0};
        const MESSAGE_ROW *m;
        size_t n;

        q->limit = (unsigned) (max - *matched_r < RETRY_PAGE ? max - *matched_r : RETRY_PAGE);
        if ((ret = message_search(c->db, q, &rows)) <= 0) {
            db_rows_free(&rows);
            return ret;
        }
        m = rows.v;
        n = rows.n;
        for (size_t i = 0; i < n; i++) {
            if ((ret = retry_mark(c->db, q->server_id, m[i].id)) < 0) {
                db_rows_free(&rows);
                return ret;
            }
            *marked_r += ret;
        }
        *matched_r += (long long) n;
        q->before_id = m[n - 1].id;
        ret = message_created_at(c->db, q->server_id, q->before_id, cursor);
        db_rows_free(&rows);
        if (ret <= 0)
            return ret;
        q->before_created = cursor;
        if (n < q->limit)
            break;
    }
    return 0;
}

static void
mgmt_v2_messages_retry(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"max", NULL};
    unsigned long long server_id = 0;
    char since[32], until[32];
    long long max = RETRY_BULK_DEFAULT, matched, marked;
    MESSAGE_QUERY q = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || mgmt_read_optional_body(&c, known) != 0)
        goto out;
    mgmt_messages_filter(&c, server_id, &q, since, until);
    if (c.body && mgmt_field_int(&c, "max", 1, RETRY_BULK_MAX, &max) == 0)
        max = RETRY_BULK_DEFAULT;
    if (q.status == NULL && q.message_id == NULL && q.rcpt_to == NULL)
        mgmt_field_error(&c, "status", "is needed (or to, or message_id): a bulk retry names what it retries, "
                         "e.g. status=HardFail");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = mark_matching(&c, &q, max, &matched, &marked)) < 0) {
        mgmt_reply_db(&c, "bulk retry", ret);
        goto out;
    }
    msg_info("user %llu: asked a bulk retry of server %llu: %lld message%s matched, %lld marked for the retries job",
             c.p.user_id, server_id, matched, matched == 1 ? "" : "s", marked);
    mgmt_reply_ok(&c, MHD_HTTP_ACCEPTED, json_pack("{s:I, s:I, s:I}", "matched", (json_int_t) matched, "marked",
                                                   (json_int_t) marked, "rate_per_second",
                                                   (json_int_t) c.req->cfg->worker_retry_rate));
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_retry_routes[] = {
    {"POST", "/api/v2/organizations/{}/servers/{}/messages/retry", mgmt_v2_messages_retry},
    {"POST", "/api/v2/organizations/{}/servers/{}/messages/{}/retry", mgmt_v2_message_retry},
    {NULL, NULL, NULL},
};
