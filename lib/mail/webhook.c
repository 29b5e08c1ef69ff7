/*
 * webhook.c -- claiming, sending bodies and recording outcomes of webhook_outbox rows
 * (webhook.h). Batches travel as one JSON parameter through JSON_TABLE, so a claim or a
 * batch of outcomes is a constant statement and one round trip however many rows it has.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mail/lease.h"
#include "mail/webhook.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

int
webhook_retry_delays(const CONF_LIST *list, unsigned delays[WEBHOOK_MAX_DELAYS], size_t *n_r, char **error_r)
{
    *n_r = 0;
    if (list->count > WEBHOOK_MAX_DELAYS) {
        *error_r = buf_asprintf("webhooks.retry_delays: at most %d delays", WEBHOOK_MAX_DELAYS);
        return -1;
    }
    for (size_t i = 0; i < list->count; i++) {
        const char *item = list->items[i];
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(item, &end, 10);
        if (*item < '0' || *item > '9' || *end != '\0' || errno != 0 || v < 1 || v > 86400) {
            *error_r = buf_asprintf("webhooks.retry_delays: \"%s\" is not a number of seconds from 1 to 86400", item);
            return -1;
        }
        delays[i] = (unsigned) v;
    }
    *n_r = list->count;
    return 0;
}

/* UNIX_TIMESTAMP(DATETIME(6)) as Postal's float: "1477945177.129940" -> "1477945177.12994". */
static void
float_seconds(const char *in, BUF *out)
{
    const char *dot = strchr(in, '.');
    size_t len = strlen(in);

    if (dot == NULL) {
        buf_printf(out, "%s.0", in);
        return;
    }
    while (len > (size_t) (dot - in) + 2 && in[len - 1] == '0')
        len--;
    buf_append(out, in, len);
}

void
webhook_jobs_free(WEBHOOK_JOB *jobs, size_t n)
{
    if (jobs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        mem_free(jobs[i].url);
        mem_free(jobs[i].body);
    }
    mem_free(jobs);
}

/* url, sign and enabled of each distinct webhook of the batch (a deleted one: disabled). */
static int
fill_webhooks(DB *db, WEBHOOK_JOB *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        DB_RESULT *res;
        int ret;

        if (jobs[i].url)
            continue;
        ret = db_query(db, &res, "SELECT url, sign, enabled FROM webhooks WHERE id = ?",
                       DB_ARGS(DB_UINT(jobs[i].webhook_id)));
        if (ret < 0)
            return ret;
        for (size_t k = i; k < n; k++) {
            if (jobs[k].webhook_id != jobs[i].webhook_id)
                continue;
            jobs[k].url = mem_strdup(ret > 0 ? db_result_get(res, 0, 0) : "");
            jobs[k].sign = ret > 0 && strcmp(db_result_get(res, 0, 1), "0") != 0;
            jobs[k].enabled = ret > 0 && strcmp(db_result_get(res, 0, 2), "0") != 0;
        }
        db_result_free(res);
    }
    return 0;
}

int
webhook_claim(DB *db, const char *owner, unsigned max, unsigned lease_seconds, const char *exclude,
              WEBHOOK_JOB **jobs_r)
{
    DB_RESULT *res = NULL;
    WEBHOOK_JOB *jobs;
    size_t n;
    int ret;

    *jobs_r = NULL;
    if (max == 0)
        return 0;
    ret = lease_claim(db, "SELECT id, uuid, server_id, webhook_id, event, payload, attempts, "
                      "UNIX_TIMESTAMP(created_at) FROM webhook_outbox WHERE status = 'pending' "
                      "AND next_attempt_at <= UTC_TIMESTAMP(6) AND FIND_IN_SET(webhook_id, ?) = 0 "
                      "ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED",
                      DB_ARGS(DB_STR(exclude), DB_UINT(max)),
                      "UPDATE webhook_outbox o JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j "
                      "ON o.id = j.id SET o.locked_by = ?, o.locked_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, "
                      "o.next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND", owner, lease_seconds, &res);
    if (ret <= 0)
        return ret;
    n = (size_t) ret;

    jobs = mem_zalloc(n * sizeof(*jobs));
    for (size_t r = 0; r < n; r++) {
        WEBHOOK_JOB *j = &jobs[r];
        BUF *body = buf_new(db_result_len(res, r, 5) + 160);

        j->id = strtoull(db_result_get(res, r, 0), NULL, 10);
        snprintf(j->uuid, sizeof(j->uuid), "%s", db_result_get(res, r, 1));
        j->server_id = strtoull(db_result_get(res, r, 2), NULL, 10);
        j->webhook_id = strtoull(db_result_get(res, r, 3), NULL, 10);
        snprintf(j->event, sizeof(j->event), "%s", db_result_get(res, r, 4));
        j->attempts = (unsigned) strtoul(db_result_get(res, r, 6), NULL, 10);
        /* Postal's body, key order and all; event and uuid need no escaping (ENUM, UUID),
         * the payload is stored as the JSON event_queue() wrote. */
        buf_printf(body, "{\"event\":\"%s\",\"timestamp\":", j->event);
        float_seconds(db_result_get(res, r, 7), body);
        buf_append_str(body, ",\"payload\":");
        buf_append(body, db_result_get(res, r, 5), db_result_len(res, r, 5));
        buf_printf(body, ",\"uuid\":\"%s\"}", j->uuid);
        j->body = buf_steal(body, &j->body_len);
    }
    db_result_free(res);
    if ((ret = fill_webhooks(db, jobs, n)) < 0) {
        unsigned long long *idv = mem_alloc(n * sizeof(*idv));

        for (size_t r = 0; r < n; r++)
            idv[r] = jobs[r].id;
        if (webhook_release(db, owner, idv, n) < 0)
            msg_warn("webhooks: cannot give back %zu claimed row(s) (due again when the lease ends): %s", n,
                     db_error(db));
        mem_free(idv);
        webhook_jobs_free(jobs, n);
        return ret;
    }
    *jobs_r = jobs;
    return (int) n;
}

typedef struct record_txn {
    const char *owner, *requests_json, *rows_json;
} RECORD_TXN;

/* The attempts into the request log and the outbox rows' new state, together. */
static int
record_txn(DB *db, void *arg)
{
    const RECORD_TXN *t = arg;
    int ret;

    ret = db_exec(db, "INSERT INTO webhook_requests (created_day, server_id, webhook_id, outbox_id, uuid, event, url, "
                  "attempt, status_code, body, error, will_retry, duration_ms) "
                  "SELECT UTC_DATE(), j.server_id, j.webhook_id, j.outbox_id, j.uuid, j.event, j.url, j.attempt, "
                  "j.status_code, j.body, j.error, j.will_retry, j.duration_ms FROM JSON_TABLE(?, '$[*]' COLUMNS ("
                  "server_id BIGINT UNSIGNED PATH '$.server_id', webhook_id BIGINT UNSIGNED PATH '$.webhook_id', "
                  "outbox_id BIGINT UNSIGNED PATH '$.outbox_id', uuid VARCHAR(36) PATH '$.uuid', "
                  "event VARCHAR(32) PATH '$.event', url VARCHAR(2048) PATH '$.url', attempt INT PATH '$.attempt', "
                  "status_code INT PATH '$.status_code', body TEXT PATH '$.body', error VARCHAR(1000) PATH '$.error', "
                  "will_retry INT PATH '$.will_retry', duration_ms INT UNSIGNED PATH '$.duration_ms')) j",
                  DB_ARGS(DB_STR(t->requests_json)));
    if (ret >= 0)
        ret = db_exec(db, "UPDATE webhook_outbox o JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$.id', "
                      "status VARCHAR(16) PATH '$.status', attempts INT PATH '$.attempts', delay INT PATH '$.delay', "
                      "error VARCHAR(1000) PATH '$.error')) j ON o.id = j.id "
                      "SET o.status = j.status, o.attempts = j.attempts, "
                      "o.next_attempt_at = IF(j.status = 'pending', UTC_TIMESTAMP(6) + INTERVAL j.delay SECOND, "
                      "o.next_attempt_at), o.last_error = j.error, "
                      "o.finished_at = IF(j.status = 'pending', NULL, UTC_TIMESTAMP(6)), "
                      "o.locked_by = NULL, o.locked_until = NULL WHERE o.locked_by = ?",
                      DB_ARGS(DB_STR(t->rows_json), DB_STR(t->owner)));
    return ret < 0 ? ret : 0;
}

int
webhook_record(DB *db, const char *owner, const WEBHOOK_OUTCOME *outcomes, size_t n,
               const unsigned *delays, size_t ndelays)
{
    json_t *requests = json_array(), *rows = json_array();
    char *requests_json, *rows_json;
    RECORD_TXN t;
    int ret;

    for (size_t i = 0; i < n; i++) {
        const WEBHOOK_OUTCOME *o = &outcomes[i];
        const char *status = o->success ? "delivered" : !o->skipped && o->attempt <= ndelays ? "pending" : "failed";
        int will_retry = strcmp(status, "pending") == 0;
        json_t *row = json_pack("{s:I, s:s, s:i, s:i}", "id", (json_int_t) o->id, "status", status,
                                "attempts", (int) o->attempt, "delay",
                                will_retry ? (int) delays[o->attempt - 1] : 0);

        if (o->error)
            json_object_set_new(row, "error", json_string(o->error));
        json_array_append_new(rows, row);
        if (o->skipped)
            continue;
        json_t *req = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:i, s:i, s:i}", "server_id", (json_int_t) o->server_id,
                                "webhook_id", (json_int_t) o->webhook_id, "outbox_id", (json_int_t) o->id,
                                "uuid", o->uuid, "event", o->event, "url", o->url, "attempt", (int) o->attempt,
                                "will_retry", will_retry, "duration_ms", (int) o->duration_ms);

        if (o->status_code > 0)
            json_object_set_new(req, "status_code", json_integer(o->status_code));
        if (o->body)
            json_object_set_new(req, "body", json_stringn(o->body, o->body_len));
        if (o->error)
            json_object_set_new(req, "error", json_string(o->error));
        json_array_append_new(requests, req);
    }
    requests_json = json_dumps(requests, JSON_COMPACT | JSON_ENSURE_ASCII);
    rows_json = json_dumps(rows, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(requests);
    json_decref(rows);
    if (requests_json == NULL || rows_json == NULL) {
        free(requests_json);
        free(rows_json);
        return DB_ERR_PERM;     /* the caller's strings were not UTF-8: webhooks.c cleans them */
    }
    t = (RECORD_TXN) {.owner = owner, .requests_json = requests_json, .rows_json = rows_json};
    ret = db_transaction(db, record_txn, &t);
    free(requests_json);
    free(rows_json);
    return ret < 0 ? ret : 0;
}

int
webhook_release(DB *db, const char *owner, const unsigned long long *ids, size_t n)
{
    json_t *arr = json_array();
    char *json;
    int ret;

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_integer((json_int_t) ids[i]));
    json = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    ret = db_exec(db, "UPDATE webhook_outbox o JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) j "
                  "ON o.id = j.id SET o.locked_by = NULL, o.locked_until = NULL, "
                  "o.next_attempt_at = UTC_TIMESTAMP(6) WHERE o.locked_by = ? AND o.status = 'pending'",
                  DB_ARGS(DB_STR(json), DB_STR(owner)));
    free(json);
    return ret < 0 ? ret : 0;
}

int
webhook_reclaim_dead(DB *db, int (*dead)(const char *owner))
{
    /* Leased rows are pending and due at locked_until: ix_webhook_outbox_due finds them. */
    return lease_reclaim_dead(db, "SELECT DISTINCT locked_by FROM webhook_outbox "
                   "WHERE status = 'pending' AND next_attempt_at > UTC_TIMESTAMP(6) AND locked_by IS NOT NULL",
                   "UPDATE webhook_outbox SET next_attempt_at = UTC_TIMESTAMP(6), locked_by = NULL, "
                   "locked_until = NULL WHERE locked_by = ? AND status = 'pending'", dead);
}

int
webhook_backlog(DB *db, unsigned long long *count_r, double *oldest_seconds_r)
{
    /* ix_webhook_outbox_due starts with status: only the pending rows are read. */
    return db_count_and_age(db, "SELECT COUNT(*), IFNULL(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(6)), 0) "
                            "FROM webhook_outbox WHERE status = 'pending'",
                            count_r, oldest_seconds_r);
}
