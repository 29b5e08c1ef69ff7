/*
 * event.c -- webhook events into the outbox (event.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/event.h"
#include "util/mem.h"

static const char *const event_names[] = {
    EVENT_MESSAGE_SENT, EVENT_MESSAGE_DELAYED, EVENT_MESSAGE_DELIVERY_FAILED, EVENT_MESSAGE_HELD,
    EVENT_MESSAGE_BOUNCED, EVENT_MESSAGE_LINK_CLICKED, EVENT_MESSAGE_LOADED, EVENT_DOMAIN_DNS_ERROR,
    EVENT_SEND_LIMIT_APPROACHING, EVENT_SEND_LIMIT_EXCEEDED, EVENT_MESSAGE_COMPLAINED,
};

int
event_name_valid(const char *name)
{
    for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
        if (strcmp(name, event_names[i]) == 0)
            return 1;
    return 0;
}

int
event_queue(DB *db, unsigned long long server_id, const char *event, json_t *payload)
{
    char *json;
    int ret;

    if (!event_name_valid(event))
        return DB_ERR_PERM;
    json = json_dumps(payload, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (json == NULL)
        return DB_ERR_PERM;
    /* UUID() is evaluated per row: each webhook's copy has its own uuid. */
    ret = db_exec(db, "INSERT INTO webhook_outbox (uuid, server_id, webhook_id, event, payload) "
                  "SELECT UUID(), w.server_id, w.id, ?, ? FROM webhooks w "
                  "WHERE w.server_id = ? AND w.enabled = 1 AND (w.all_events = 1 OR EXISTS "
                  "(SELECT 1 FROM webhook_events e WHERE e.webhook_id = w.id AND e.event = ?))",
                  DB_ARGS(DB_STR(event), DB_STR(json), DB_UINT(server_id), DB_STR(event)));
    free(json);
    return ret;
}

static json_t *
str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;

    return v ? v : json_null();
}

json_t *
event_message_object_from(const DB_RESULT *res, size_t row, size_t col)
{
    const char *tag = db_result_get(res, row, col + 9), *ts = db_result_get(res, row, col + 7);

    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:o, s:o}",
                     "id", (json_int_t) strtoull(db_result_get(res, row, col), NULL, 10),
                     "token", str_or_null(db_result_get(res, row, col + 1)),
                     "direction", str_or_null(db_result_get(res, row, col + 2)),
                     "message_id", str_or_null(db_result_get(res, row, col + 3)),
                     "to", str_or_null(db_result_get(res, row, col + 4)),
                     "from", str_or_null(db_result_get(res, row, col + 5)),
                     "subject", str_or_null(db_result_get(res, row, col + 6)),
                     "timestamp", ts ? strtod(ts, NULL) : 0.0,
                     "spam_status", str_or_null(db_result_get(res, row, col + 8)),
                     "tag", str_or_null(tag && *tag ? tag : NULL));
}

int
event_message_object(DB *db, unsigned long long id, json_t **obj_r)
{
    DB_RESULT *res = NULL;
    int ret;

    *obj_r = NULL;
    ret = db_query(db, &res, "SELECT " EVENT_MESSAGE_COLUMNS " FROM messages WHERE id = ?", DB_ARGS(DB_UINT(id)));
    if (ret > 0) {
        *obj_r = event_message_object_from(res, 0, 0);
        ret = *obj_r ? 1 : DB_ERR_PERM;
    }
    db_result_free(res);
    return ret;
}

int
event_server_object(DB *db, unsigned long long id, json_t **obj_r)
{
    DB_RESULT *res = NULL;
    int ret;

    *obj_r = NULL;
    ret = db_query(db, &res, "SELECT s.uuid, s.name, s.permalink, o.permalink FROM servers s "
                   "JOIN organizations o ON o.id = s.organization_id WHERE s.id = ?", DB_ARGS(DB_UINT(id)));
    if (ret > 0) {
        *obj_r = json_pack("{s:o, s:o, s:o, s:o}", "uuid", str_or_null(db_result_get(res, 0, 0)),
                           "name", str_or_null(db_result_get(res, 0, 1)),
                           "permalink", str_or_null(db_result_get(res, 0, 2)),
                           "organization", str_or_null(db_result_get(res, 0, 3)));
        ret = *obj_r ? 1 : DB_ERR_PERM;
    }
    db_result_free(res);
    return ret;
}
