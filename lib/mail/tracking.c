/*
 * tracking.c -- links, clicks and loads (tracking.h); owns the SQL of those tables.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mail/event.h"
#include "mail/tracking.h"
#include "util/mem.h"

int
tracking_store_links(DB *db, unsigned long long message_id, const TRACK_LINK *links, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int ret = db_exec(db, "INSERT INTO links (message_id, token, url, url_hash) VALUES (?, ?, ?, ?)",
                          DB_ARGS(DB_UINT(message_id), DB_STR(links[i].token), DB_STR(links[i].url),
                                  DB_STR(links[i].url_hash)));

        if (ret < 0)
            return ret;
    }
    return 0;
}

int
tracking_find_link(DB *db, const char *server_token, const char *link_token, TRACKING_LINK *out)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT l.id, l.message_id, m.server_id, l.url FROM links l "
                       "JOIN messages m ON m.id = l.message_id JOIN servers s ON s.id = m.server_id "
                       "WHERE l.token = ? AND s.token = ?", DB_ARGS(DB_STR(link_token), DB_STR(server_token)));

    memset(out, 0, sizeof(*out));
    if (ret > 0) {
        out->id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        out->message_id = strtoull(db_result_get(res, 0, 1), NULL, 10);
        out->server_id = strtoull(db_result_get(res, 0, 2), NULL, 10);
        out->url = mem_strdup(db_result_get(res, 0, 3));
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
tracking_find_server(DB *db, const char *server_token, unsigned long long *server_id_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT id FROM servers WHERE token = ? AND deleted_at IS NULL",
                       DB_ARGS(DB_STR(server_token)));

    if (ret > 0)
        *server_id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
tracking_find_message(DB *db, unsigned long long server_id, const char *message_token,
                      unsigned long long *message_id_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT id FROM messages WHERE token = ? AND server_id = ?",
                       DB_ARGS(DB_STR(message_token), DB_UINT(server_id)));

    if (ret > 0)
        *message_id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

static json_t *
str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;

    return v ? v : json_null();
}

int
tracking_record(DB *db, const TRACKING_HIT *h)
{
    json_t *message = NULL, *payload;
    int ret;

    if (h->kind == TRACKING_CLICK) {
        ret = db_exec(db, "INSERT INTO clicks (created_day, server_id, message_id, link_id, ip, user_agent, country, "
                      "city, created_at) VALUES (DATE(FROM_UNIXTIME(?)), ?, ?, ?, ?, LEFT(?, 512), ?, LEFT(?, 255), "
                      "FROM_UNIXTIME(?))",
                      DB_ARGS(DB_DOUBLE(h->time), DB_UINT(h->server_id), DB_UINT(h->message_id),
                              DB_UINT(h->link_id), DB_STR(h->ip), DB_STR(h->user_agent), DB_STR(h->country),
                              DB_STR(h->city), DB_DOUBLE(h->time)));
        if (ret >= 0)
            ret = db_exec(db, "UPDATE messages SET clicked_at = GREATEST(COALESCE(clicked_at, FROM_UNIXTIME(0)), "
                          "FROM_UNIXTIME(?)) WHERE id = ?", DB_ARGS(DB_DOUBLE(h->time), DB_UINT(h->message_id)));
    } else {
        ret = db_exec(db, "INSERT INTO loads (created_day, server_id, message_id, ip, user_agent, country, city, "
                      "created_at) VALUES (DATE(FROM_UNIXTIME(?)), ?, ?, ?, LEFT(?, 512), ?, LEFT(?, 255), "
                      "FROM_UNIXTIME(?))",
                      DB_ARGS(DB_DOUBLE(h->time), DB_UINT(h->server_id), DB_UINT(h->message_id), DB_STR(h->ip),
                              DB_STR(h->user_agent), DB_STR(h->country), DB_STR(h->city), DB_DOUBLE(h->time)));
        if (ret >= 0)
            ret = db_exec(db, "UPDATE messages SET loaded_at = FROM_UNIXTIME(?) WHERE id = ? AND loaded_at IS NULL",
                          DB_ARGS(DB_DOUBLE(h->time), DB_UINT(h->message_id)));
    }
    if (ret < 0)
        return ret;
    ret = event_message_object(db, h->message_id, &message);
    if (ret <= 0)
        return ret;                     /* a message deleted meanwhile: no event */
    if (h->kind == TRACKING_CLICK)
        payload = json_pack("{s:o, s:o, s:o, s:o, s:o}", "url", str_or_null(h->url), "token",
                            str_or_null(h->link_token), "ip_address", str_or_null(h->ip), "user_agent",
                            str_or_null(h->user_agent), "message", message);
    else
        payload = json_pack("{s:o, s:o, s:o}", "ip_address", str_or_null(h->ip), "user_agent",
                            str_or_null(h->user_agent), "message", message);
    if (payload == NULL)
        return DB_ERR_PERM;
    ret = event_queue(db, h->server_id, h->kind == TRACKING_CLICK ? EVENT_MESSAGE_LINK_CLICKED : EVENT_MESSAGE_LOADED,
                      payload);
    json_decref(payload);
    return ret < 0 ? ret : 0;
}
