/*
 * tracking.c -- links, clicks and loads (tracking.h); owns the SQL of those tables and
 * of tracker_spools.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mail/event.h"
#include "mail/tracking.h"
#include "util/buf.h"
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
tracking_forget_message(DB *db, unsigned long long server_id, unsigned long long message_id,
                        unsigned long long heir)
{
    int ret, n = 0;

    /* ix_clicks_message and ix_loads_message; server_id keeps it to the tenant's rows. */
    if ((ret = db_exec(db, "DELETE FROM clicks WHERE message_id = ? AND server_id = ?",
                       DB_ARGS(DB_UINT(message_id), DB_UINT(server_id)))) < 0)
        return ret;
    n += ret;
    if ((ret = db_exec(db, "DELETE FROM loads WHERE message_id = ? AND server_id = ?",
                       DB_ARGS(DB_UINT(message_id), DB_UINT(server_id)))) < 0)
        return ret;
    n += ret;
    if (heir && (ret = db_exec(db, "UPDATE links SET message_id = ? WHERE message_id = ?",
                               DB_ARGS(DB_UINT(heir), DB_UINT(message_id)))) < 0)
        return ret;
    return heir ? n + ret : n;
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

#define CLICK_ROW "(DATE(FROM_UNIXTIME(?)), ?, ?, ?, ?, LEFT(?, 512), ?, LEFT(?, 255), FROM_UNIXTIME(?))"
#define LOAD_ROW "(DATE(FROM_UNIXTIME(?)), ?, ?, ?, LEFT(?, 512), ?, LEFT(?, 255), FROM_UNIXTIME(?))"
#define CLICK_INSERT "INSERT INTO clicks (created_day, server_id, message_id, link_id, ip, user_agent, country, " \
                     "city, created_at) VALUES "
#define LOAD_INSERT "INSERT INTO loads (created_day, server_id, message_id, ip, user_agent, country, city, " \
                    "created_at) VALUES "
#define CHUNK 32                        /* rows per multi-row INSERT */

static json_t *str_or_null(const char *s);
static int queue_event(DB *db, const TRACKING_HIT *h, json_t *message);

/* The multi-row statements: constant text (placeholders only), built once, kept for the
 * process's life (db.c's statement cache keeps the pointer). */
static char *click_chunk_sql, *load_chunk_sql;
static pthread_once_t chunk_once = PTHREAD_ONCE_INIT;

static void
build_chunk_sql(void)
{
    BUF *c = buf_new(CHUNK * sizeof(CLICK_ROW) + 256), *l = buf_new(CHUNK * sizeof(LOAD_ROW) + 256);

    buf_append_str(c, CLICK_INSERT);
    buf_append_str(l, LOAD_INSERT);
    for (int i = 0; i < CHUNK; i++) {
        buf_append_str(c, i ? ", " CLICK_ROW : CLICK_ROW);
        buf_append_str(l, i ? ", " LOAD_ROW : LOAD_ROW);
    }
    click_chunk_sql = buf_steal(c, NULL);
    load_chunk_sql = buf_steal(l, NULL);
}

static size_t
row_params(const TRACKING_HIT *h, DB_PARAM *p)
{
    size_t n = 0;

    p[n++] = DB_DOUBLE(h->time);
    p[n++] = DB_UINT(h->server_id);
    p[n++] = DB_UINT(h->message_id);
    if (h->kind == TRACKING_CLICK)
        p[n++] = DB_UINT(h->link_id);
    p[n++] = DB_STR(h->ip);
    p[n++] = DB_STR(h->user_agent);
    p[n++] = DB_STR(h->country);
    p[n++] = DB_STR(h->city);
    p[n++] = DB_DOUBLE(h->time);
    return n;
}

/* Inserts the rows of one kind: CHUNK at a time, the rest one by one. */
static int
insert_rows(DB *db, const TRACKING_HIT *hits, size_t n, TRACKING_KIND kind)
{
    DB_PARAM *p = mem_alloc(CHUNK * 9 * sizeof(DB_PARAM));
    const TRACKING_HIT *pending[CHUNK];
    size_t npending = 0;
    int ret = 0;

    pthread_once(&chunk_once, build_chunk_sql);
    for (size_t i = 0; i < n && ret >= 0; i++) {
        if (hits[i].kind != kind)
            continue;
        pending[npending++] = &hits[i];
        if (npending == CHUNK) {
            size_t np = 0;

            for (size_t k = 0; k < CHUNK; k++)
                np += row_params(pending[k], p + np);
            ret = db_exec(db, kind == TRACKING_CLICK ? click_chunk_sql : load_chunk_sql, p, np);
            npending = 0;
        }
    }
    for (size_t k = 0; k < npending && ret >= 0; k++) {
        size_t np = row_params(pending[k], p);

        ret = db_exec(db, kind == TRACKING_CLICK ? CLICK_INSERT CLICK_ROW : LOAD_INSERT LOAD_ROW, p, np);
    }
    mem_free(p);
    return ret < 0 ? ret : 0;
}

typedef struct batch_message {
    unsigned long long id;
    TRACKING_KIND kind;
    double time;                /* latest click / earliest load */
    json_t *object;             /* Postal's message object, read once */
    int looked_up;
} BATCH_MESSAGE;

typedef struct batch_listener {
    unsigned long long server_id;
    TRACKING_KIND kind;
    int none;                   /* nobody listens: no more events of this kind here */
} BATCH_LISTENER;

int
tracking_record_batch(DB *db, const TRACKING_HIT *hits, size_t n)
{
    BATCH_MESSAGE *msgs = mem_zalloc((n ? n : 1) * sizeof(*msgs));
    BATCH_LISTENER *lis = mem_zalloc((n ? n : 1) * sizeof(*lis));
    size_t nmsgs = 0, nlis = 0;
    int ret;

    if ((ret = insert_rows(db, hits, n, TRACKING_CLICK)) < 0 || (ret = insert_rows(db, hits, n, TRACKING_LOAD)) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        size_t m;

        for (m = 0; m < nmsgs && (msgs[m].id != hits[i].message_id || msgs[m].kind != hits[i].kind); m++)
            ;
        if (m == nmsgs) {
            msgs[nmsgs++] = (BATCH_MESSAGE) {.id = hits[i].message_id, .kind = hits[i].kind, .time = hits[i].time};
        } else if (hits[i].kind == TRACKING_CLICK ? hits[i].time > msgs[m].time : hits[i].time < msgs[m].time) {
            msgs[m].time = hits[i].time;
        }
    }
    for (size_t m = 0; m < nmsgs && ret >= 0; m++) {
        if (msgs[m].kind == TRACKING_CLICK)
            ret = db_exec(db, "UPDATE messages SET clicked_at = GREATEST(COALESCE(clicked_at, FROM_UNIXTIME(0)), "
                          "FROM_UNIXTIME(?)) WHERE id = ?", DB_ARGS(DB_DOUBLE(msgs[m].time), DB_UINT(msgs[m].id)));
        else
            ret = db_exec(db, "UPDATE messages SET loaded_at = FROM_UNIXTIME(?) WHERE id = ? AND loaded_at IS NULL",
                          DB_ARGS(DB_DOUBLE(msgs[m].time), DB_UINT(msgs[m].id)));
    }
    for (size_t i = 0; i < n && ret >= 0; i++) {
        const TRACKING_HIT *h = &hits[i];
        size_t l, m;

        for (l = 0; l < nlis && (lis[l].server_id != h->server_id || lis[l].kind != h->kind); l++)
            ;
        if (l == nlis)
            lis[nlis++] = (BATCH_LISTENER) {.server_id = h->server_id, .kind = h->kind};
        if (lis[l].none)
            continue;
        for (m = 0; m < nmsgs && (msgs[m].id != h->message_id || msgs[m].kind != h->kind); m++)
            ;
        if (!msgs[m].looked_up) {
            msgs[m].looked_up = 1;
            if ((ret = event_message_object(db, h->message_id, &msgs[m].object)) < 0)
                break;
        }
        if (msgs[m].object == NULL)
            continue;                   /* a message deleted meanwhile: no event */
        ret = queue_event(db, h, json_incref(msgs[m].object));
        if (ret == 0)
            lis[l].none = 1;
    }
out:
    for (size_t m = 0; m < nmsgs; m++)
        json_decref(msgs[m].object);
    mem_free(msgs);
    mem_free(lis);
    return ret < 0 ? ret : 0;
}

/* Queues h's event with message (stolen): rows queued or < 0. */
static int
queue_event(DB *db, const TRACKING_HIT *h, json_t *message)
{
    json_t *payload;
    int ret;

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
    return ret;
}

int
tracking_record(DB *db, const TRACKING_HIT *h)
{
    json_t *message = NULL;
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
    ret = queue_event(db, h, message);
    return ret < 0 ? ret : 0;
}

int
tracking_spool_written(DB *db, const char *key, unsigned long long *seq_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT written_seq FROM tracker_spools WHERE spool_key = ? FOR UPDATE",
                       DB_ARGS(DB_STR(key)));

    *seq_r = ret > 0 ? strtoull(db_result_get(res, 0, 0), NULL, 10) : 0;
    db_result_free(res);
    return ret < 0 ? ret : 0;
}

int
tracking_spool_mark(DB *db, const char *key, unsigned long long seq)
{
    int ret = db_exec(db, "INSERT INTO tracker_spools (spool_key, written_seq) VALUES (?, ?) "
                      "ON DUPLICATE KEY UPDATE written_seq = GREATEST(written_seq, VALUES(written_seq))",
                      DB_ARGS(DB_STR(key), DB_UINT(seq)));

    return ret < 0 ? ret : 0;
}

int
tracking_spool_forget(DB *db, const char *key)
{
    int ret = db_exec(db, "DELETE FROM tracker_spools WHERE spool_key = ?", DB_ARGS(DB_STR(key)));

    return ret < 0 ? ret : 0;
}
