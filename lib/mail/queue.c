/*
 * queue.c -- claiming queued_messages rows and recording delivery attempts (queue.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/lease.h"
#include "mail/queue.h"
#include "util/mem.h"

const char *
queue_message_status(QUEUE_RESULT r)
{
    switch (r) {
    case QUEUE_SENT:
        return "Processed";
    case QUEUE_RETRY:
        return "SoftFail";
    case QUEUE_FAILED:
        return "HardFail";
    default:
        return "Error";
    }
}

const char *
queue_delivery_status(QUEUE_RESULT r)
{
    return r == QUEUE_SENT ? "Sent" : queue_message_status(r);
}

unsigned
queue_retry_delay(unsigned attempts, unsigned base)
{
    double d = (double) base;

    for (unsigned i = 0; i < attempts && d < 7 * 86400.0; i++)
        d *= 1.3;

    return d > 7 * 86400.0 ? 7 * 86400 : d < 1 ? 1 : (unsigned) d;
}

int
queue_claim(DB *db, const char *owner, unsigned max, unsigned lease_seconds, QUEUE_JOB **jobs_r)
{
    DB_RESULT *res = NULL;
    QUEUE_JOB *jobs;
    int n;

    *jobs_r = NULL;
    if (max == 0)
        return 0;
    n = lease_claim(db, "SELECT id, message_id, server_id, endpoint_type, endpoint_id, attempts "
                    "FROM queued_messages WHERE next_attempt_at <= UTC_TIMESTAMP(6) "
                    "ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED", DB_ARGS(DB_UINT(max)),
                    "UPDATE queued_messages q JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j "
                    "ON q.id = j.id SET q.locked_by = ?, q.locked_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, "
                    "q.next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND", owner, lease_seconds, &res);
    if (n <= 0)
        return n;
    jobs = mem_zalloc((size_t) n * sizeof(*jobs));
    for (size_t r = 0; r < (size_t) n; r++) {
        QUEUE_JOB *j = &jobs[r];

        j->id = strtoull(db_result_get(res, r, 0), NULL, 10);
        j->message_id = strtoull(db_result_get(res, r, 1), NULL, 10);
        j->server_id = strtoull(db_result_get(res, r, 2), NULL, 10);
        if (endpoint_type_parse(db_result_get(res, r, 3), &j->type) < 0)
            j->type = EP_TYPE_HTTP;     /* the ENUM has only these three */
        j->endpoint_id = strtoull(db_result_get(res, r, 4), NULL, 10);
        j->attempts = (unsigned) strtoul(db_result_get(res, r, 5), NULL, 10);
    }
    db_result_free(res);
    *jobs_r = jobs;
    return n;
}

typedef struct record_txn {
    const char *owner;
    const QUEUE_OUTCOME *o;
} RECORD_TXN;

static int
record_txn(DB *db, void *arg)
{
    const RECORD_TXN *t = arg;
    const QUEUE_OUTCOME *o = t->o;
    int ret;

    ret = db_exec(db, "INSERT INTO deliveries (message_id, status, details, output, sent_with_ssl, time) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_UINT(o->message_id), DB_STR(queue_delivery_status(o->result)), DB_STR(o->details),
                          DB_STR(o->output), DB_INT(o->sent_with_ssl ? 1 : 0), DB_DOUBLE(o->seconds)));
    if (ret >= 0)
        ret = db_exec(db, "UPDATE messages SET status = ? WHERE id = ?",
                      DB_ARGS(DB_STR(queue_message_status(o->result)), DB_UINT(o->message_id)));
    if (ret >= 0 && o->result == QUEUE_RETRY)
        ret = db_exec(db, "UPDATE queued_messages SET attempts = ?, next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, "
                      "locked_by = NULL, locked_until = NULL WHERE id = ? AND locked_by = ?",
                      DB_ARGS(DB_UINT(o->attempt > 255 ? 255 : o->attempt), DB_UINT(o->delay), DB_UINT(o->id),
                              DB_STR(t->owner)));
    else if (ret >= 0)
        ret = db_exec(db, "DELETE FROM queued_messages WHERE id = ? AND locked_by = ?",
                      DB_ARGS(DB_UINT(o->id), DB_STR(t->owner)));
    return ret < 0 ? ret : 0;
}

int
queue_record(DB *db, const char *owner, const QUEUE_OUTCOME *o)
{
    RECORD_TXN t = {.owner = owner, .o = o};

    return db_transaction(db, record_txn, &t);
}

int
queue_release(DB *db, const char *owner, unsigned long long id)
{
    int ret = db_exec(db, "UPDATE queued_messages SET next_attempt_at = UTC_TIMESTAMP(6), locked_by = NULL, "
                      "locked_until = NULL WHERE id = ? AND locked_by = ?", DB_ARGS(DB_UINT(id), DB_STR(owner)));

    return ret < 0 ? ret : 0;
}

int
queue_reclaim_dead(DB *db, int (*dead)(const char *owner))
{
    /* Leased rows are due at locked_until (claiming moves next_attempt_at there): the index
     * on next_attempt_at finds them. */
    return lease_reclaim_dead(db, "SELECT DISTINCT locked_by FROM queued_messages "
                   "WHERE next_attempt_at > UTC_TIMESTAMP(6) AND locked_by IS NOT NULL",
                   "UPDATE queued_messages SET next_attempt_at = UTC_TIMESTAMP(6), locked_by = NULL, "
                   "locked_until = NULL WHERE locked_by = ?", dead);
}

int
queue_backlog(DB *db, unsigned long long *count_r, double *oldest_seconds_r)
{
    /* Every row is waiting: a delivery's row goes when it ends. */
    return db_count_and_age(db, "SELECT COUNT(*), IFNULL(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(6)), 0) "
                            "FROM queued_messages",
                            count_r, oldest_seconds_r);
}
