/*
 * delivery.c -- delivery results and hold expiry (delivery.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mail/delivery.h"
#include "mail/event.h"
#include "mail/suppression.h"
#include "util/mem.h"

#define DETAILS_HOLD_EXPIRED "The message was held and not released before its hold expired, so it was not sent."

int
delivery_queue_id_known(DB *db, const char *queue_id)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT 1 FROM messages WHERE postfix_queue_id = ? LIMIT 1",
                       DB_ARGS(DB_STR(queue_id)));

    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
delivery_forget_refused(DB *db, const char *queue_id)
{
    int ret = db_exec(db, "DELETE r FROM raw_messages r JOIN messages m ON r.id = m.raw_message_id "
                      "AND r.created_day = m.raw_message_day WHERE m.postfix_queue_id = ? AND m.status = 'Pending'",
                      DB_ARGS(DB_STR(queue_id)));

    if (ret < 0)
        return ret;
    return db_exec(db, "DELETE FROM messages WHERE postfix_queue_id = ? AND status = 'Pending'",
                   DB_ARGS(DB_STR(queue_id)));
}

static const char *
event_of(const char *status)
{
    if (strcmp(status, DELIVERY_SENT) == 0)
        return EVENT_MESSAGE_SENT;
    if (strcmp(status, DELIVERY_SOFTFAIL) == 0)
        return EVENT_MESSAGE_DELAYED;
    return EVENT_MESSAGE_DELIVERY_FAILED;
}

/* The rows of (queue_id, rcpt) a log line may change, locked: id, server_id, rcpt_to, token,
 * scope, then from FOUND_EVENT_COLUMN what the event's message object shows. */
#define FOUND_EVENT_COLUMN 5

static int
find_rows(DB *db, const DELIVERY_ATTEMPT *a, const char *rcpt, DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT id, server_id, rcpt_to, token, scope, " EVENT_MESSAGE_COLUMNS
                    " FROM messages WHERE postfix_queue_id = ? "
                    "AND rcpt_to = ? AND status NOT IN ('Held', 'HoldCancelled') "
                    "AND (? = 0 OR status IN ('Pending', 'SoftFail')) ORDER BY id FOR UPDATE",
                    DB_ARGS(DB_STR(a->queue_id), DB_STR(rcpt), DB_INT(a->only_unfinished)));
}

/* The delivery event of found row i (its message object from the row itself). */
static int
queue_event(DB *db, const DB_RESULT *found, size_t i, unsigned long long server_id, const DELIVERY_ATTEMPT *a,
            double timestamp)
{
    json_t *message = event_message_object_from(found, i, FOUND_EVENT_COLUMN), *payload;
    int ret;

    if (message == NULL)
        return DB_ERR_PERM;
    payload = json_pack("{s:o, s:s, s:s, s:s, s:b, s:f, s:o}", "message", message, "status", a->status,
                        "details", a->details ? a->details : "", "output", a->output ? a->output : "",
                        "sent_with_ssl", a->sent_with_ssl, "timestamp", timestamp,
                        "time", a->time >= 0 ? json_real((double) (long long) (a->time * 1000 + 0.5) / 1000)
                        : json_null());
    if (payload == NULL)
        return DB_ERR_PERM;
    ret = event_queue(db, server_id, event_of(a->status), payload);
    json_decref(payload);
    return ret < 0 ? ret : 0;
}

/* A HardFail the receiving server gave itself: a 5xx reply from a relay. Postfix's own
 * verdicts (relay=none: an expired queue file, a loop, a size limit) are not the
 * recipient's doing. */
static int
remote_refusal(const DELIVERY_ATTEMPT *a)
{
    return strcmp(a->status, DELIVERY_HARDFAIL) == 0 && a->relay && *a->relay && strcmp(a->relay, "none") != 0
        && a->output && a->output[0] == '5' && isdigit((unsigned char) a->output[1])
        && isdigit((unsigned char) a->output[2]);
}

/* Puts rcpt on server_id's suppression list with the remote reply as the reason, as
 * Postal does after a hard failure; a later successful send removes it. 0 or < 0. */
static int
suppress_refused(DB *db, unsigned long long server_id, const char *rcpt, const DELIVERY_ATTEMPT *a)
{
    char address[SUPPRESSION_ADDRESS_MAX + 1], *why = NULL;
    int ret = 0;

    if (suppression_address_normalize(rcpt, strlen(rcpt), address, &why))
        ret = suppression_add(db, server_id, address, a->output, "hard_fail", SUPPRESSION_FAILURE_DAYS, 1);
    mem_free(why);
    return ret < 0 ? ret : 0;
}

int
delivery_record(DB *db, const DELIVERY_ATTEMPT *a)
{
    DB_RESULT *res = NULL, *now = NULL;
    double timestamp;
    int ret, n;

    if (a->token_r && a->token_size)
        a->token_r[0] = '\0';
    ret = find_rows(db, a, a->rcpt, &res);
    if (ret == 0 && a->orig_rcpt && *a->orig_rcpt) {
        db_result_free(res);
        ret = find_rows(db, a, a->orig_rcpt, &res);
    }
    if (ret <= 0)
        goto out;
    n = ret;
    if (a->when > 0) {
        timestamp = (double) a->when;
    } else {
        if ((ret = db_query(db, &now, "SELECT UNIX_TIMESTAMP(UTC_TIMESTAMP(6))", DB_NOARGS)) < 0)
            goto out;
        timestamp = strtod(db_result_get(now, 0, 0), NULL);
    }
    for (int i = 0; i < n; i++) {
        unsigned long long id = strtoull(db_result_get(res, (size_t) i, 0), NULL, 10);
        unsigned long long server_id = strtoull(db_result_get(res, (size_t) i, 1), NULL, 10);

        ret = db_exec(db, "INSERT INTO deliveries (message_id, status, details, output, sent_with_ssl, log_id, "
                      "time, dsn, relay, created_at) VALUES (?, ?, ?, LEFT(?, 65535), ?, LEFT(?, 64), ?, "
                      "LEFT(?, 16), LEFT(?, 320), FROM_UNIXTIME(?))",
                      DB_ARGS(DB_UINT(id), DB_STR(a->status), DB_STR(a->details), DB_STR(a->output),
                              DB_INT(a->sent_with_ssl ? 1 : 0), DB_STR(a->queue_id),
                              a->time >= 0 ? DB_DOUBLE(a->time < 9999999 ? a->time : 9999999) : DB_NULL,
                              DB_STR(a->dsn), DB_STR(a->relay), DB_DOUBLE(timestamp)));
        if (ret < 0)
            goto out;
        ret = db_exec(db, "UPDATE messages SET status = ? WHERE id = ?", DB_ARGS(DB_STR(a->status), DB_UINT(id)));
        if (ret < 0)
            goto out;
        /* The suppression list is about sending: a hosted mailbox's own delivery leaves it alone. */
        if (strcmp(db_result_get(res, (size_t) i, 4), "outgoing") != 0)
            ;
        else if (strcmp(a->status, DELIVERY_SENT) == 0
                 && (ret = suppression_remove_address(db, server_id, db_result_get(res, (size_t) i, 2))) < 0)
            goto out;
        else if (remote_refusal(a) && (ret = suppress_refused(db, server_id, db_result_get(res, (size_t) i, 2), a)) < 0)
            goto out;
        if ((ret = queue_event(db, res, (size_t) i, server_id, a, timestamp)) < 0)
            goto out;
    }
    if (a->token_r && a->token_size)
        snprintf(a->token_r, a->token_size, "%s", db_result_get(res, 0, 3) ? db_result_get(res, 0, 3) : "");
    ret = n;
out:
    db_result_free(res);
    db_result_free(now);
    return ret;
}

int
delivery_unfinished_rcpts(DB *db, const char *queue_id, DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT DISTINCT rcpt_to FROM messages WHERE postfix_queue_id = ? "
                    "AND status IN ('Pending', 'SoftFail')", DB_ARGS(DB_STR(queue_id)));
}

static int
cancel_holds_txn(DB *db, void *arg)
{
    unsigned limit = *(const unsigned *) arg;
    DB_RESULT *res = NULL;
    int ret, n;

    /* ix_messages_hold_expires: only rows with a passed expiry are read. */
    ret = db_query(db, &res, "SELECT id FROM messages WHERE hold_expires_at <= UTC_TIMESTAMP(6) "
                   "AND status = 'Held' ORDER BY hold_expires_at LIMIT ? FOR UPDATE SKIP LOCKED",
                   DB_ARGS(DB_UINT(limit)));
    if (ret < 0)
        goto fail;
    n = ret;
    for (int i = 0; i < n; i++) {
        unsigned long long id = strtoull(db_result_get(res, (size_t) i, 0), NULL, 10);

        ret = db_exec(db, "UPDATE messages SET status = 'HoldCancelled', hold_expires_at = NULL "
                      "WHERE id = ? AND status = 'Held'", DB_ARGS(DB_UINT(id)));
        if (ret < 0)
            goto fail;
        ret = db_exec(db, "INSERT INTO deliveries (message_id, status, details) VALUES (?, 'HoldCancelled', ?)",
                      DB_ARGS(DB_UINT(id), DB_STR(DETAILS_HOLD_EXPIRED)));
        if (ret < 0)
            goto fail;
    }
    db_result_free(res);
    return n;
fail:
    db_result_free(res);
    return ret;
}

int
delivery_cancel_expired_holds(DB *db, unsigned limit)
{
    return db_transaction(db, cancel_holds_txn, &limit);
}
