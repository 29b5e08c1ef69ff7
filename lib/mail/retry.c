/*
 * retry.c -- failed and held messages sent again (retry.h).
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mail/inbound.h"
#include "mail/release.h"
#include "mail/retry.h"
#include "util/buf.h"
#include "util/mem.h"

/* What a retry takes, as SQL over messages m (one place for both the check and the mark). */
#define RETRYABLE "((m.scope = 'outgoing' AND m.status IN ('HardFail', 'Bounced', 'Held', 'HoldCancelled')) " \
    "OR (m.scope = 'incoming' AND m.status = 'HardFail' AND m.route_id IS NOT NULL))"

enum { R_TOKEN, R_SCOPE, R_STATUS, R_ROUTE, R_RETRYABLE };

/* retry_message()'s statements (db_transaction): RETRY_DONE with the message marked and
 * queued again, or RETRY_NOT_RETRYABLE (only its mark used up), 0 no such message. */
struct retry_txn {
    const PGCONF *cfg;
    unsigned long long server_id, id;
    const char *details;
    int outgoing;               /* out */
    char *token;                /* out (mem_free) */
    char *why;                  /* out, RETRY_NOT_RETRYABLE: its scope and status (mem_free) */
};

static int
retry_txn(DB *db, void *arg)
{
    struct retry_txn *t = arg;
    DB_RESULT *res;
    int ret;

    mem_free(t->token);
    mem_free(t->why);
    t->token = t->why = NULL;
    ret = db_query(db, &res, "SELECT m.token, m.scope, m.status, IFNULL(m.route_id, 0), " RETRYABLE
                   " FROM messages m WHERE m.id = ? AND m.server_id = ? FOR UPDATE",
                   DB_ARGS(DB_UINT(t->id), DB_UINT(t->server_id)));
    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    /* A mark is used up by any outcome but a database failure. */
    if ((ret = db_exec(db, "UPDATE messages SET retry_requested_at = NULL WHERE id = ?", DB_ARGS(DB_UINT(t->id)))) < 0)
        goto out;
    if (strcmp(db_result_get(res, 0, R_RETRYABLE), "1") != 0) {
        t->why = buf_asprintf("%s %s", db_result_get(res, 0, R_SCOPE), db_result_get(res, 0, R_STATUS));
        ret = RETRY_NOT_RETRYABLE;
        goto out;
    }
    t->outgoing = strcmp(db_result_get(res, 0, R_SCOPE), "outgoing") == 0;
    if (t->outgoing) {
        /* Held first, so the release service takes it; if the injection fails it stays
         * held (and expires) like any held message, for a release or another retry. */
        ret = db_exec(db, "UPDATE messages SET status = 'Held', hold_reason = 'Retry requested', "
                      "hold_expires_at = UTC_TIMESTAMP(6) + INTERVAL ? DAY WHERE id = ?",
                      DB_ARGS(DB_INT(t->cfg->worker_hold_expiry_days), DB_UINT(t->id)));
    } else {
        ret = db_exec(db, "UPDATE messages SET status = 'Pending' WHERE id = ?", DB_ARGS(DB_UINT(t->id)));
        if (ret >= 0)
            ret = inbound_queue_delivery(db, t->id, t->server_id, strtoull(db_result_get(res, 0, R_ROUTE), NULL, 10));
    }
    if (ret >= 0)
        ret = db_exec(db, "INSERT INTO deliveries (message_id, status, details) VALUES (?, ?, ?)",
                      DB_ARGS(DB_UINT(t->id), DB_STR(t->outgoing ? "Held" : "Pending"), DB_STR(t->details)));
    if (ret >= 0) {
        t->token = mem_strdup(db_result_get(res, 0, R_TOKEN));
        ret = RETRY_DONE;
    }
out:
    db_result_free(res);
    return ret;
}

int
retry_message(DB *db, const PGCONF *cfg, const SEAL_KEY *seal, unsigned long long server_id, unsigned long long id,
              const char *who, char **error_r)
{
    struct retry_txn t = {.cfg = cfg, .server_id = server_id, .id = id};
    char *details = buf_asprintf("Retry requested by %s.", who), *why = NULL;
    int ret;

    *error_r = NULL;
    t.details = details;
    ret = db_transaction(db, retry_txn, &t);
    if (ret == RETRY_NOT_RETRYABLE)
        *error_r = buf_asprintf("The message cannot be retried: it is %s (a retry takes " RETRY_STATUSES ").", t.why);
    if (ret == RETRY_DONE && t.outgoing) {
        int rel = release_message(db, cfg, seal, t.token, &why);

        if (rel <= 0) {
            *error_r = buf_asprintf("The message is held for a retry, but re-injecting it failed for now: %s",
                                    why ? why : "no held message");
            ret = RETRY_INJECT_FAILED;
        }
    }
    mem_free(why);
    mem_free(t.token);
    mem_free(t.why);
    mem_free(details);
    return ret;
}

int
retry_mark(DB *db, unsigned long long server_id, unsigned long long id)
{
    int ret = db_exec(db, "UPDATE messages m SET m.retry_requested_at = UTC_TIMESTAMP(6) WHERE m.id = ? "
                      "AND m.server_id = ? AND m.retry_requested_at IS NULL AND " RETRYABLE,
                      DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}

static const DB_COL due_cols[] = {
    DB_COL_AT(DB_COL_ID, RETRY_DUE_ROW, id), DB_COL_AT(DB_COL_ID, RETRY_DUE_ROW, server_id),
};

int
retry_due(DB *db, unsigned limit, DB_ROWS *rows)
{
    return db_query_rows(db, rows, due_cols, sizeof(due_cols) / sizeof(due_cols[0]), sizeof(RETRY_DUE_ROW),
                         "SELECT id, server_id FROM messages WHERE retry_requested_at IS NOT NULL "
                         "ORDER BY retry_requested_at, id LIMIT ?", DB_ARGS(DB_UINT(limit)));
}
