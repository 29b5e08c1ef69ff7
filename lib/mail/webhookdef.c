/*
 * webhookdef.c -- webhook definitions, their request log and re-queueing (webhookdef.h).
 * A retried event is a new outbox row: the delivery code sends it like any other.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/webhookdef.h"
#include "util/msg.h"
#include "util/token.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

#define COL(kind, field) DB_COL_AT(kind, WEBHOOKDEF_ROW, field)
static const DB_COL webhook_cols[] = {
    COL(DB_COL_ID, id), COL(DB_COL_STR, uuid), COL(DB_COL_STR, name), COL(DB_COL_STR, url),
    COL(DB_COL_BOOL, all_events), COL(DB_COL_BOOL, enabled), COL(DB_COL_BOOL, sign), COL(DB_COL_STR, last_used_at),
    COL(DB_COL_STR, created_at), COL(DB_COL_STR, updated_at),
};
#undef COL
#define COL(kind, field) DB_COL_AT(kind, WEBHOOKDEF_REQUEST_ROW, field)
static const DB_COL request_cols[] = {
    COL(DB_COL_ID, id), COL(DB_COL_STR, event_uuid), COL(DB_COL_STR, event), COL(DB_COL_STR, url),
    COL(DB_COL_NUM, attempt), COL(DB_COL_NUM, status_code), COL(DB_COL_STR, body), COL(DB_COL_STR, error),
    COL(DB_COL_BOOL, will_retry), COL(DB_COL_NUM, duration_ms), COL(DB_COL_STR, created_at), COL(DB_COL_STR, payload),
};
#undef COL
static const DB_COL string_col[] = {{DB_COL_STR, 0}};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

int
webhookdef_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, webhook_cols, NCOLS(webhook_cols), sizeof(WEBHOOKDEF_ROW), "SELECT id, uuid, name, url, all_events, enabled, sign, " TS("last_used_at") ", "
                    TS("created_at") ", " TS("updated_at") " FROM webhooks WHERE server_id = ? "
                    "AND (? IS NULL OR uuid = ?) AND (? = 0 OR id = ?) ORDER BY name, id",
                    DB_ARGS(DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL,
                                 DB_UINT(id), DB_UINT(id)));
}

int
webhookdef_events(DB *db, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, string_col, 1, sizeof(const char *), "SELECT event FROM webhook_events WHERE webhook_id = ? ORDER BY event",
                    DB_ARGS(DB_UINT(id)));
}

int
webhookdef_create(DB *db, unsigned long long server_id, const char *name, const char *url, int all_events,
                  int enabled, int sign, unsigned long long *id_r)
{
    char uuid[37];
    int ret;

    if (token_uuid(uuid) < 0) {
        msg_warn("webhook: the random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_exec(db, "INSERT INTO webhooks (uuid, server_id, name, url, all_events, enabled, sign) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_UINT(server_id), DB_STR(name), DB_STR(url), DB_INT(all_events != 0),
                          DB_INT(enabled != 0), DB_INT(sign != 0)));
    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    return 1;
}

int
webhookdef_update(DB *db, unsigned long long server_id, unsigned long long id, const char *name, const char *url,
                  int all_events, int enabled, int sign)
{
    int ret = db_exec(db, "UPDATE webhooks SET name = COALESCE(?, name), url = COALESCE(?, url), "
                      "all_events = IF(? < 0, all_events, ?), enabled = IF(? < 0, enabled, ?), "
                      "sign = IF(? < 0, sign, ?) WHERE id = ? AND server_id = ?",
                      DB_ARGS(DB_STR(name), DB_STR(url), DB_INT(all_events), DB_INT(all_events > 0), DB_INT(enabled),
                              DB_INT(enabled > 0), DB_INT(sign), DB_INT(sign > 0), DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : 0;
}

int
webhookdef_set_events(DB *db, unsigned long long id, const char *const *events, size_t n)
{
    int ret = db_exec(db, "DELETE FROM webhook_events WHERE webhook_id = ?", DB_ARGS(DB_UINT(id)));

    for (size_t i = 0; i < n && ret >= 0; i++)
        ret = db_exec(db, "INSERT IGNORE INTO webhook_events (webhook_id, event) VALUES (?, ?)",
                      DB_ARGS(DB_UINT(id), DB_STR(events[i])));
    return ret < 0 ? ret : 0;
}

int
webhookdef_delete(DB *db, unsigned long long server_id, unsigned long long id)
{
    int ret = db_exec(db, "DELETE FROM webhooks WHERE id = ? AND server_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}

int
webhookdef_requests(DB *db, unsigned long long server_id, unsigned long long id, unsigned long long before_id,
                    unsigned limit, DB_ROWS *rows)
{
    /* The payload sent is the outbox row's (kept as long as the request log). */
    return db_query_rows(db, rows, request_cols, NCOLS(request_cols), sizeof(WEBHOOKDEF_REQUEST_ROW), "SELECT r.id, r.uuid, r.event, r.url, r.attempt, r.status_code, r.body, r.error, "
                    "r.will_retry, r.duration_ms, " TS("r.created_at") ", o.payload FROM webhook_requests r "
                    "LEFT JOIN webhook_outbox o ON o.id = r.outbox_id AND o.server_id = r.server_id "
                    "WHERE r.server_id = ? AND r.webhook_id = ? "
                    "AND (? = 0 OR r.id < ?) ORDER BY r.id DESC LIMIT ?",
                    DB_ARGS(DB_UINT(server_id), DB_UINT(id), DB_UINT(before_id), DB_UINT(before_id), DB_UINT(limit)));
}

int
webhookdef_retry(DB *db, unsigned long long server_id, unsigned long long request_id, char uuid_r[37])
{
    DB_RESULT *res = NULL;
    int ret;

    ret = db_query(db, &res, "SELECT r.outbox_id, w.id FROM webhook_requests r "
                   "LEFT JOIN webhooks w ON w.id = r.webhook_id AND w.server_id = r.server_id "
                   "WHERE r.id = ? AND r.server_id = ? LIMIT 1", DB_ARGS(DB_UINT(request_id), DB_UINT(server_id)));
    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    if (db_result_get(res, 0, 0) == NULL || db_result_get(res, 0, 1) == NULL) {
        db_result_free(res);
        return WEBHOOKDEF_GONE;
    }
    if (token_uuid(uuid_r) < 0) {
        db_result_free(res);
        msg_warn("webhook: the random number generator failed");
        return DB_ERR_TEMP;
    }
    /* The outbox row carries the payload; it may have expired with the request log's retention. */
    ret = db_exec(db, "INSERT INTO webhook_outbox (uuid, server_id, webhook_id, event, payload) "
                  "SELECT ?, o.server_id, o.webhook_id, o.event, o.payload FROM webhook_outbox o "
                  "WHERE o.id = ? AND o.server_id = ? AND o.webhook_id = ?",
                  DB_ARGS(DB_STR(uuid_r), DB_UINT(strtoull(db_result_get(res, 0, 0), NULL, 10)), DB_UINT(server_id),
                          DB_UINT(strtoull(db_result_get(res, 0, 1), NULL, 10))));
    db_result_free(res);
    if (ret < 0)
        return ret;
    return ret > 0 ? 1 : WEBHOOKDEF_GONE;
}
