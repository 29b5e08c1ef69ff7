/*
 * message.c -- storing submissions and finding held rows (message.h).
 * Everything a submission writes is one transaction: a failure leaves nothing
 * behind, so the milter can answer 4xx and the client's retry starts clean.
 * Text columns are utf8mb4: header bytes that are not UTF-8 (raw 8-bit Subject,
 * Message-ID, X-Postal-Tag) are converted the way GMime reads them on the incoming
 * path (the charset that converts the most, Latin-1 at worst), so they are stored
 * instead of failing the insert for ever.
 * message_delete() removes one row and what hangs off it for good (a tenant's erasure),
 * never a message Postfix, the endpoint queue or a hold still has a claim on.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "mail/event.h"
#include "mail/message.h"
#include "mail/sendlimit.h"
#include "mail/suppression.h"
#include "mail/tracking.h"
#include "mail/turn.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

int
message_new_tokens(MESSAGE_RCPT *rcpts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (token_generate(rcpts[i].token, MESSAGE_TOKEN_LEN, TOKEN_LOWER_ALNUM) < 0)
            return -1;
    return 0;
}

/* MessageHeld for a held row, in the caller's transaction (Postal's delivery payload). */
static int
queue_held(DB *db, unsigned long long server_id, const MESSAGE_RCPT *r)
{
    struct timespec now;
    json_t *message, *payload;
    int ret = event_message_object(db, r->id, &message);

    if (ret <= 0)
        return ret < 0 ? ret : DB_ERR_PERM;
    clock_gettime(CLOCK_REALTIME, &now);
    payload = json_pack("{s:o, s:s, s:s, s:s, s:b, s:f, s:n}", "message", message, "status", "Held",
                        "details", r->hold_reason, "output", "", "sent_with_ssl", 0,
                        "timestamp", (double) now.tv_sec + (double) (now.tv_nsec / 1000) / 1e6, "time");
    if (payload == NULL)
        return DB_ERR_PERM;
    ret = event_queue(db, server_id, EVENT_MESSAGE_HELD, payload);
    json_decref(payload);
    return ret;
}

/* s as valid UTF-8: s itself, or a converted copy kept in *owned (mem_free it). */
static const char *
column_text(const char *s, char **owned)
{
    gchar *converted;

    *owned = NULL;
    if (s == NULL || g_utf8_validate(s, -1, NULL))
        return s;
    converted = g_mime_utils_decode_8bit(NULL, s, strlen(s));
    if (converted == NULL || !g_utf8_validate(converted, -1, NULL)) {
        g_free(converted);
        converted = g_utf8_make_valid(s, -1);
    }
    *owned = mem_strdup(converted);
    g_free(converted);
    return *owned;
}

static const char *const spf_values[] = {"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror", NULL};
static const char *const dkim_values[] = {"none", "pass", "fail", "temperror", "permerror", NULL};

/* v when it is one of the column's values, else NULL (not checked): a value the ENUM
 * refuses must never make a message unstorable. */
static const char *
auth_value(const char *v, const char *const *values)
{
    for (size_t i = 0; v && values[i]; i++)
        if (strcmp(v, values[i]) == 0)
            return v;
    return NULL;
}

/* The texts of a submission as stored (valid UTF-8), for the transaction's body. */
typedef struct store_txn {
    MESSAGE_SUBMISSION *sub;
    const char *mail_from, *subject, *message_id, *tag;
} STORE_TXN;

/* Inside the recording transaction, first: the server's turn at its send limit (turn.h),
 * then the hour's volume; recipients not held yet are held when it reached the
 * limit. Resets what an earlier run of the transaction decided. 0 or < 0. */
static int
send_limit_turn(DB *db, MESSAGE_SUBMISSION *sub)
{
    long long volume;
    size_t open = 0;
    int ret;

    sub->limit_held = 0;
    for (size_t i = 0; i < sub->nrcpts; i++) {
        if (sub->send_limit_reason && sub->rcpts[i].hold_reason == sub->send_limit_reason)
            sub->rcpts[i].hold_reason = NULL;
        open += sub->rcpts[i].hold_reason == NULL && sub->rcpts[i].status == NULL;
    }
    if (sub->send_limit < 0 || sub->send_limit_reason == NULL || open == 0 || strcmp(sub->scope, "outgoing") != 0)
        return 0;
    if ((ret = turn_take(db, TURN_SEND_LIMIT, sub->server_id)) < 0)
        return ret;
    /* The transaction's first read: its snapshot is taken now, after our turn began. */
    if ((ret = sendlimit_volume(db, sub->server_id, &volume)) < 0)
        return ret;
    if (volume < sub->send_limit)
        return 0;
    for (size_t i = 0; i < sub->nrcpts; i++) {
        if (sub->rcpts[i].hold_reason == NULL && sub->rcpts[i].status == NULL) {
            sub->rcpts[i].hold_reason = sub->send_limit_reason;
            sub->limit_held++;
        }
    }
    return 0;
}

static int
store_txn(DB *db, void *arg)
{
    STORE_TXN *t = arg;
    MESSAGE_SUBMISSION *sub = t->sub;
    const char *mail_from = t->mail_from, *subject = t->subject, *message_id = t->message_id, *tag = t->tag;
    const MESSAGE_INSPECTION *in = sub->inspection;
    const MESSAGE_SENDER_AUTH *auth = sub->sender_auth;
    unsigned long long raw_id;
    long long sent = 0;
    int ret;

    if ((ret = send_limit_turn(db, sub)) < 0)
        return ret;
    ret = db_exec(db, "INSERT INTO raw_messages (created_day, server_id, size_bytes, headers, body) "
                  "VALUES (UTC_DATE(), ?, ?, ?, ?)",
                  DB_ARGS(DB_UINT(sub->server_id), DB_UINT(sub->headers_len + sub->body_len),
                          DB_BLOB(sub->headers, sub->headers_len), DB_BLOB(sub->body, sub->body_len)));
    if (ret < 0)
        return ret;
    raw_id = db_insert_id(db);
    for (size_t i = 0; i < sub->nrcpts; i++) {
        MESSAGE_RCPT *r = &sub->rcpts[i];
        char *rcpt_owned;
        const char *rcpt = column_text(r->address, &rcpt_owned);

        /* One statement per row: the verdict, the forward's origin and the sender's
         * authentication go in with it (the columns' defaults when there are none). */
        ret = db_exec(db, "INSERT INTO messages (server_id, token, scope, rcpt_to, mail_from, subject, message_id, "
                      "size, tag, credential_id, route_id, postfix_queue_id, raw_message_id, raw_message_day, status, "
                      "hold_reason, hold_expires_at, spam_status, spam_score, spam_checks, threat, threat_details, "
                      "inspected, forwarded_from_id, spf_result, dkim_result, dkim_domain) "
                      "VALUES (?, ?, ?, ?, ?, LEFT(?, 998), LEFT(?, 998), ?, "
                      "LEFT(?, 255), ?, ?, ?, ?, UTC_DATE(), COALESCE(?, IF(? IS NULL, 'Pending', 'Held')), ?, "
                      "IF(? IS NULL, NULL, UTC_TIMESTAMP(6) + INTERVAL ? DAY), ?, LEAST(GREATEST(?, -9999.99), 9999.99), "
                      "?, ?, LEFT(?, 255), ?, ?, ?, ?, LEFT(?, 253))",
                      DB_ARGS(DB_UINT(sub->server_id), DB_STR(r->token), DB_STR(sub->scope), DB_STR(rcpt),
                              DB_STR(mail_from), DB_STR(subject ? subject : ""),
                              DB_STR(message_id ? message_id : ""),
                              DB_UINT(sub->headers_len + sub->body_len), DB_STR(tag),
                              sub->credential_id ? DB_UINT(sub->credential_id) : DB_NULL,
                              r->route_id ? DB_UINT(r->route_id) : DB_NULL, DB_STR(sub->queue_id),
                              DB_UINT(raw_id), DB_STR(r->status), DB_STR(r->hold_reason), DB_STR(r->hold_reason),
                              DB_STR(r->hold_reason), DB_INT(sub->hold_expiry_days),
                              DB_STR(in ? in->spam_status : "NotChecked"), DB_DOUBLE(in ? in->spam_score : 0),
                              DB_STR(in ? in->spam_checks : NULL), DB_INT(in && in->threat != 0),
                              DB_STR(in ? in->threat_details : NULL), DB_INT(in && in->inspected != 0),
                              sub->forwarded_from_id ? DB_UINT(sub->forwarded_from_id) : DB_NULL,
                              DB_STR(auth ? auth_value(auth->spf, spf_values) : NULL),
                              DB_STR(auth ? auth_value(auth->dkim, dkim_values) : NULL),
                              DB_STR(auth && auth->dkim_domain && *auth->dkim_domain ? auth->dkim_domain : NULL)));
        mem_free(rcpt_owned);
        if (ret < 0)
            return ret;
        r->id = db_insert_id(db);
        if (r->hold_reason == NULL)
            sent++;
        else if ((ret = queue_held(db, sub->server_id, r)) < 0)
            return ret;
    }
    if (sub->nlinks && sub->nrcpts && (ret = tracking_store_links(db, sub->rcpts[0].id, sub->links, sub->nlinks)) < 0)
        return ret;
    if (sent && strcmp(sub->scope, "outgoing") == 0) {
        /* Atomic across hosts; spread over 16 rows per minute by connection so that
         * concurrent messages of one server do not queue on one row lock (schema 002). */
        ret = db_exec(db, "INSERT INTO send_volume (server_id, scope, minute, shard, count) "
                      "VALUES (?, 'outgoing', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:00'), "
                      "CONNECTION_ID() % 16, ?) ON DUPLICATE KEY UPDATE count = count + VALUES(count)",
                      DB_ARGS(DB_UINT(sub->server_id), DB_INT(sent)));
        if (ret < 0)
            return ret;
    }
    if (sub->in_txn && (ret = sub->in_txn(db, sub, sub->in_txn_arg)) < 0)
        return ret;
    return 0;
}

static int
message_store_text(DB *db, MESSAGE_SUBMISSION *sub, const char *mail_from, const char *subject,
                   const char *message_id, const char *tag)
{
    STORE_TXN t = {.sub = sub, .mail_from = mail_from, .subject = subject, .message_id = message_id, .tag = tag};

    return db_transaction(db, store_txn, &t);
}

int
message_store(DB *db, MESSAGE_SUBMISSION *sub)
{
    char *owned[4];
    const char *mail_from = column_text(sub->mail_from, &owned[0]), *subject = column_text(sub->subject, &owned[1]);
    const char *message_id = column_text(sub->message_id, &owned[2]), *tag = column_text(sub->tag, &owned[3]);
    int ret = message_store_text(db, sub, mail_from, subject, message_id, tag);

    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
        mem_free(owned[i]);
    return ret;
}

int
message_find_held(DB *db, const char *token, const char *rcpt, unsigned long long *id_r,
                  unsigned long long *server_id_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT m.id, m.server_id FROM messages m JOIN messages t ON t.raw_message_id = m.raw_message_id "
                       "AND t.server_id = m.server_id WHERE t.token = ? AND m.rcpt_to = ? AND m.status = 'Held' "
                       "ORDER BY m.id LIMIT 1", DB_ARGS(DB_STR(token), DB_STR(rcpt)));

    if (ret > 0) {
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        *server_id_r = strtoull(db_result_get(res, 0, 1), NULL, 10);
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
message_mark_released(DB *db, unsigned long long id, const char *queue_id)
{
    return db_exec(db, "UPDATE messages SET status = 'Pending', postfix_queue_id = ?, hold_reason = NULL, "
                   "hold_expires_at = NULL WHERE id = ? AND status = 'Held'",
                   DB_ARGS(DB_STR(queue_id), DB_UINT(id)));
}

int
message_queue_state(DB *db, const char *token, char queue_id[33], char status[32])
{
    DB_RESULT *res;
    const char *q, *s;
    int ret = db_query(db, &res, "SELECT IFNULL(postfix_queue_id, ''), status FROM messages WHERE token = ?",
                       DB_ARGS(DB_STR(token)));

    if (ret <= 0)
        return ret;
    q = db_result_get(res, 0, 0);
    s = db_result_get(res, 0, 1);
    snprintf(queue_id, 33, "%s", q ? q : "");
    snprintf(status, 32, "%s", s ? s : "");
    db_result_free(res);
    return 1;
}

int
message_envelope(DB *db, const char *token, unsigned long long *server_id_r, char **mail_from_r, DB_ROWS *rcpts)
{
    static const DB_COL rcpt_col[] = {{DB_COL_STR, 0}};
    DB_RESULT *res = NULL;
    unsigned long long server_id;
    const char *queue_id;
    int ret = db_query(db, &res, "SELECT server_id, mail_from, postfix_queue_id FROM messages "
                       "WHERE token = ? AND scope = 'outgoing'", DB_ARGS(DB_STR(token)));

    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    server_id = strtoull(db_result_get(res, 0, 0), NULL, 10);
    queue_id = db_result_get(res, 0, 2);
    /* The rows of one submission share its Postfix queue ID (indexed). */
    if (queue_id && *queue_id)
        ret = db_query_rows(db, rcpts, rcpt_col, 1, sizeof(const char *),
                            "SELECT rcpt_to FROM messages WHERE postfix_queue_id = ? AND server_id = ? "
                            "AND scope = 'outgoing' AND status <> 'Held' ORDER BY id LIMIT 1000",
                            DB_ARGS(DB_STR(queue_id), DB_UINT(server_id)));
    else
        ret = db_query_rows(db, rcpts, rcpt_col, 1, sizeof(const char *),
                            "SELECT rcpt_to FROM messages WHERE token = ?", DB_ARGS(DB_STR(token)));
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    *server_id_r = server_id;
    *mail_from_r = mem_strdup(db_result_get(res, 0, 1) ? db_result_get(res, 0, 1) : "");
    db_result_free(res);
    return 1;
}

#define MESSAGE_COLS "m.id, m.token, m.status, UNIX_TIMESTAMP(m.hold_expires_at), " \
    "(SELECT UNIX_TIMESTAMP(MAX(d.created_at)) FROM deliveries d WHERE d.message_id = m.id), " \
    "m.rcpt_to, m.mail_from, m.subject, m.message_id, UNIX_TIMESTAMP(m.created_at), m.scope, m.size, " \
    "m.bounce, m.bounce_for_id, m.tag, m.received_with_ssl, m.inspected, m.spam_status, m.spam_score, " \
    "m.threat, m.threat_details, m.raw_message_id, m.raw_message_day, m.forwarded_from_id, m.spf_result, " \
    "m.dkim_result, m.dkim_domain"

int
message_get(DB *db, unsigned long long server_id, unsigned long long id, DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT " MESSAGE_COLS " FROM messages m WHERE m.id = ? AND m.server_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(server_id)));
}

/* MESSAGE_COLS into MESSAGE_ROW. */
#define MCOL(kind, field) DB_COL_AT(kind, MESSAGE_ROW, field)
static const DB_COL message_cols[] = {
    MCOL(DB_COL_ID, id), MCOL(DB_COL_STR, token), MCOL(DB_COL_STR, status), MCOL(DB_COL_REAL, hold_expiry),
    MCOL(DB_COL_REAL, last_attempt), MCOL(DB_COL_STR, rcpt_to), MCOL(DB_COL_STR, mail_from),
    MCOL(DB_COL_STR, subject), MCOL(DB_COL_STR, message_id), MCOL(DB_COL_REAL, created), MCOL(DB_COL_STR, scope),
    MCOL(DB_COL_NUM, size), MCOL(DB_COL_BOOL, bounce), MCOL(DB_COL_ID, bounce_for), MCOL(DB_COL_STR, tag),
    MCOL(DB_COL_NUM, ssl), MCOL(DB_COL_BOOL, inspected), MCOL(DB_COL_STR, spam_status),
    MCOL(DB_COL_REAL, spam_score), MCOL(DB_COL_BOOL, threat), MCOL(DB_COL_STR, threat_details),
    MCOL(DB_COL_ID, raw_id), MCOL(DB_COL_STR, raw_day), MCOL(DB_COL_ID, forwarded_from), MCOL(DB_COL_STR, spf),
    MCOL(DB_COL_STR, dkim), MCOL(DB_COL_STR, dkim_domain),
};
_Static_assert(sizeof(message_cols) / sizeof(message_cols[0]) == MESSAGE_COL_DKIM_DOMAIN + 1,
               "message_cols and enum message_col describe the same MESSAGE_COLS");
#define MESSAGE_ROWS(db, rows) db, rows, message_cols, sizeof(message_cols) / sizeof(message_cols[0]), sizeof(MESSAGE_ROW)

int
message_get_row(DB *db, unsigned long long server_id, unsigned long long id, DB_ROWS *rows)
{
    int ret = db_query_rows(MESSAGE_ROWS(db, rows), "SELECT " MESSAGE_COLS " FROM messages m WHERE m.id = ? "
                            "AND m.server_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    return ret > 0 ? 1 : ret;
}

int
message_raw(DB *db, unsigned long long server_id, unsigned long long raw_id, const char *raw_day,
            DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT headers, body FROM raw_messages WHERE id = ? AND created_day = ? "
                    "AND server_id = ?", DB_ARGS(DB_UINT(raw_id), DB_STR(raw_day), DB_UINT(server_id)));
}

int
message_loads(DB *db, unsigned long long server_id, unsigned long long message_id, DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT ip, user_agent, country, city, UNIX_TIMESTAMP(created_at) FROM loads "
                    "WHERE message_id = ? AND server_id = ? ORDER BY created_at, id",
                    DB_ARGS(DB_UINT(message_id), DB_UINT(server_id)));
}

int
message_clicks(DB *db, unsigned long long server_id, unsigned long long message_id, DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT l.url, c.ip, c.user_agent, c.country, c.city, UNIX_TIMESTAMP(c.created_at) "
                    "FROM clicks c LEFT JOIN links l ON l.id = c.link_id WHERE c.message_id = ? AND c.server_id = ? "
                    "ORDER BY c.created_at, c.id", DB_ARGS(DB_UINT(message_id), DB_UINT(server_id)));
}

int
message_deliveries(DB *db, unsigned long long message_id, DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT id, status, details, output, sent_with_ssl, log_id, time, "
                    "UNIX_TIMESTAMP(created_at) FROM deliveries WHERE message_id = ? ORDER BY id",
                    DB_ARGS(DB_UINT(message_id)));
}

/* A LIKE pattern matching s anywhere, LIKE's own characters escaped with '!' (whatever
 * sql_mode says about backslashes) (mem_free it). */
static char *
like_substring(const char *s)
{
    BUF *b = buf_new(strlen(s) * 2 + 3);

    buf_append_char(b, '%');
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '!')
            buf_append_char(b, '!');
        buf_append_char(b, *s);
    }
    buf_append_char(b, '%');
    return buf_steal(b, NULL);
}

/* The AND terms of a search, each in the statement only when its filter is given. */
enum {
    TERM_RCPT, TERM_FROM, TERM_SUBJECT, TERM_TAG, TERM_STATUS, TERM_SCOPE, TERM_MESSAGE_ID, TERM_SINCE, TERM_UNTIL,
    TERM_BEFORE, TERMS
};
static const char *const search_terms[TERMS] = {
    " AND m.rcpt_to = ?", " AND m.mail_from = ?", " AND m.subject LIKE ? ESCAPE '!'", " AND m.tag = ?",
    " AND m.status = ?", " AND m.scope = ?", " AND (m.message_id = ? OR m.message_id = ?)",
    " AND m.created_at >= ?", " AND m.created_at < ?",
    " AND m.created_at <= ? AND (m.created_at < ? OR m.id < ?)",
};
static char *search_sql[1u << TERMS];
static pthread_mutex_t search_sql_lock = PTHREAD_MUTEX_INITIALIZER;

/* The statement of one set of terms (bit i: search_terms[i]), built on first use and kept
 * for the life of the process, as db.c's statement cache keeps the SQL it is given; at
 * most 2^TERMS of them exist. Only the fixed fragments above reach the text. */
static const char *
search_statement(unsigned set)
{
    const char *sql;

    pthread_mutex_lock(&search_sql_lock);
    if (search_sql[set] == NULL) {
        BUF *b = buf_new(2048);

        buf_append_str(b, "SELECT " MESSAGE_COLS " FROM (SELECT m.id, m.created_at FROM messages m "
                       "WHERE m.server_id = ?");
        for (unsigned i = 0; i < TERMS; i++)
            if (set & (1u << i))
                buf_append_str(b, search_terms[i]);
        buf_append_str(b, " ORDER BY m.created_at DESC, m.id DESC LIMIT ?) k JOIN messages m ON m.id = k.id "
                       "ORDER BY k.created_at DESC, k.id DESC");
        search_sql[set] = buf_steal(b, NULL);
    }
    sql = search_sql[set];
    pthread_mutex_unlock(&search_sql_lock);
    return sql;
}

int
message_search(DB *db, const MESSAGE_QUERY *q, DB_ROWS *rows)
{
    char *pattern = q->subject ? like_substring(q->subject) : NULL, *bracketed = NULL;
    DB_PARAM params[2 + TERMS + 3];
    size_t n = 0;
    unsigned set = 0;
    int ret;

    if (q->message_id) {
        char *bare = mem_strdup(q->message_id);
        size_t len = strlen(bare);

        if (len >= 2 && bare[0] == '<' && bare[len - 1] == '>') {
            memmove(bare, bare + 1, len - 2);
            bare[len - 2] = '\0';
        }
        bracketed = buf_asprintf("<%s>", bare);
        mem_free(bare);
    }
    /* Two things keep a page to one short index range whatever the filters (MariaDB
     * 10.11, measured by bench/search, plans in doc/performance.md). Only the given
     * filters are in the statement: an "(? IS NULL OR column = ?)" for each folds away
     * at execution, but after the optimizer has weighed the indexes of those columns.
     * And the page's ids are found first, selecting only indexed columns, then joined to
     * their rows: asked for the row's other columns, the optimizer read a time range (a
     * keyset page, until) as ref access on server_id, from the server's newest row down
     * through everything newer than the range, instead of seeking to the range's end.
     * Every index the filters use ends in (created_at, id), the order of the page. */
    params[n++] = DB_UINT(q->server_id);
    /* In the order of the enum: search_statement() appends the terms in that order. */
#define TERM(bit, ...) do { \
        const DB_PARAM term_params[] = {__VA_ARGS__}; \
        set |= 1u << (bit); \
        for (size_t t = 0; t < sizeof(term_params) / sizeof(term_params[0]); t++) \
            params[n++] = term_params[t]; \
    } while (0)
    if (q->rcpt_to)
        TERM(TERM_RCPT, DB_STR(q->rcpt_to));
    if (q->mail_from)
        TERM(TERM_FROM, DB_STR(q->mail_from));
    if (pattern)
        TERM(TERM_SUBJECT, DB_STR(pattern));
    if (q->tag)
        TERM(TERM_TAG, DB_STR(q->tag));
    if (q->status)
        TERM(TERM_STATUS, DB_STR(q->status));
    if (q->scope)
        TERM(TERM_SCOPE, DB_STR(q->scope));
    if (bracketed)
        TERM(TERM_MESSAGE_ID, DB_STR(bracketed), DB_STR(q->message_id));
    if (q->since)
        TERM(TERM_SINCE, DB_STR(q->since));
    if (q->until)
        TERM(TERM_UNTIL, DB_STR(q->until));
    if (q->before_created)
        TERM(TERM_BEFORE, DB_STR(q->before_created), DB_STR(q->before_created), DB_UINT(q->before_id));
#undef TERM
    params[n++] = DB_UINT(q->limit);
    ret = db_query_rows(MESSAGE_ROWS(db, rows), search_statement(set), params, n);
    mem_free(pattern);
    mem_free(bracketed);
    return ret;
}

int
message_created_at(DB *db, unsigned long long server_id, unsigned long long id, char out[32])
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') FROM messages "
                       "WHERE id = ? AND server_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    if (ret > 0)
        snprintf(out, 32, "%s", db_result_get(res, 0, 0));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

static const DB_COL stats_cols[] = {
    DB_COL_AT(DB_COL_STR, MESSAGE_STATS_ROW, start), DB_COL_AT(DB_COL_NUM, MESSAGE_STATS_ROW, incoming),
    DB_COL_AT(DB_COL_NUM, MESSAGE_STATS_ROW, outgoing), DB_COL_AT(DB_COL_NUM, MESSAGE_STATS_ROW, bounced),
    DB_COL_AT(DB_COL_NUM, MESSAGE_STATS_ROW, held),
};

int
message_statistics(DB *db, unsigned long long server_id, int hourly, const char *since, DB_ROWS *rows)
{
    const char *fmt = hourly ? "%Y-%m-%d %H:00:00" : "%Y-%m-%d 00:00:00";

    return db_query_rows(db, rows, stats_cols, sizeof(stats_cols) / sizeof(stats_cols[0]), sizeof(MESSAGE_STATS_ROW),
                         "SELECT DATE_FORMAT(m.created_at, ?) AS bucket, "
                         "SUM(m.scope = 'incoming' AND m.bounce = 0), SUM(m.scope = 'outgoing'), "
                         "SUM((m.scope = 'outgoing' AND m.status IN ('HardFail', 'Bounced')) OR m.bounce = 1), "
                         "SUM(m.status IN ('Held', 'HoldCancelled')) "
                         "FROM messages m WHERE m.server_id = ? AND m.created_at >= ? "
                         "GROUP BY bucket ORDER BY bucket",
                         DB_ARGS(DB_STR(fmt), DB_UINT(server_id), DB_STR(since)));
}

typedef struct cancel_txn {
    unsigned long long server_id, id;
    const char *details;
} CANCEL_TXN;

/* 1 cancelled (with its delivery row), 0 not held (nothing written), or < 0. */
static int
cancel_txn(DB *db, void *arg)
{
    const CANCEL_TXN *t = arg;
    int ret = db_exec(db, "UPDATE messages SET status = 'HoldCancelled', hold_expires_at = NULL "
                      "WHERE id = ? AND server_id = ? AND status = 'Held'",
                      DB_ARGS(DB_UINT(t->id), DB_UINT(t->server_id)));

    if (ret > 0)
        ret = db_exec(db, "INSERT INTO deliveries (message_id, status, details) VALUES (?, 'HoldCancelled', ?)",
                      DB_ARGS(DB_UINT(t->id), DB_STR(t->details)));
    return ret <= 0 ? ret : 1;
}

int
message_cancel_hold(DB *db, unsigned long long server_id, unsigned long long id, const char *details)
{
    CANCEL_TXN t = {.server_id = server_id, .id = id, .details = details};

    return db_transaction(db, cancel_txn, &t);
}

int
message_mark_bounce(DB *db, unsigned long long server_id, unsigned long long id)
{
    return db_exec(db, "UPDATE messages SET bounce = 1 WHERE id = ? AND server_id = ? AND scope = 'outgoing'",
                   DB_ARGS(DB_UINT(id), DB_UINT(server_id)));
}

int
message_sender_auth(DB *db, unsigned long long server_id, unsigned long long id, char spf[32], char dkim[32],
                    char dkim_domain[254])
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT spf_result, dkim_result, dkim_domain FROM messages WHERE id = ? AND server_id = ?",
                       DB_ARGS(DB_UINT(id), DB_UINT(server_id)));
    const char *v;

    spf[0] = dkim[0] = dkim_domain[0] = '\0';
    if (ret <= 0)
        return ret;
    if ((v = db_result_get(res, 0, 0)) != NULL)
        snprintf(spf, 32, "%s", v);
    if ((v = db_result_get(res, 0, 1)) != NULL)
        snprintf(dkim, 32, "%s", v);
    if ((v = db_result_get(res, 0, 2)) != NULL)
        snprintf(dkim_domain, 254, "%s", v);
    db_result_free(res);
    return 1;
}

int
message_forward_admissible(DB *db, unsigned long long server_id, unsigned long long id, const char *token,
                           const char **why_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT (SELECT COUNT(*) FROM messages WHERE id = ? AND server_id = ? "
                       "AND scope = 'incoming'), (SELECT COUNT(*) FROM messages WHERE token = ?)",
                       DB_ARGS(DB_UINT(id), DB_UINT(server_id), DB_STR(token)));

    *why_r = NULL;
    if (ret <= 0)
        return ret < 0 ? ret : DB_ERR_TEMP;
    if (strcmp(db_result_get(res, 0, 0), "0") == 0)
        *why_r = "not an incoming message of that server";
    else if (strcmp(db_result_get(res, 0, 1), "0") != 0)
        *why_r = "the token was used already (a replay)";
    db_result_free(res);
    return *why_r ? 0 : 1;
}

/* The in-flight test and the locks: the row (FOR UPDATE, so the log reader and the
 * endpoint worker, which update it, wait for us or we for them) and its queue rows. */
static int
delete_lookup(DB *db, unsigned long long server_id, unsigned long long id, MESSAGE_BUSY *busy_r,
              unsigned long long *raw_id_r, char raw_day[16], char created[32])
{
    DB_RESULT *res = NULL;
    const char *status, *v;
    int ret = db_query(db, &res, "SELECT status, raw_message_id, raw_message_day, "
                       "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') FROM messages "
                       "WHERE id = ? AND server_id = ? FOR UPDATE", DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    *busy_r = MESSAGE_BUSY_NONE;
    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    status = db_result_get(res, 0, 0);
    if (strcmp(status, "Held") == 0)
        *busy_r = MESSAGE_BUSY_HELD;
    else if (strcmp(status, "Pending") == 0 || strcmp(status, "SoftFail") == 0)
        *busy_r = MESSAGE_BUSY_PENDING;
    v = db_result_get(res, 0, 1);
    *raw_id_r = v ? strtoull(v, NULL, 10) : 0;
    snprintf(raw_day, 16, "%s", db_result_get(res, 0, 2) ? db_result_get(res, 0, 2) : "");
    snprintf(created, 32, "%s", db_result_get(res, 0, 3));
    db_result_free(res);
    if (*busy_r != MESSAGE_BUSY_NONE)
        return 1;
    /* A final status with a queue row left (another endpoint of the route still to go). */
    ret = db_query(db, &res, "SELECT id FROM queued_messages WHERE message_id = ? LIMIT 1 FOR UPDATE",
                   DB_ARGS(DB_UINT(id)));
    db_result_free(res);
    if (ret > 0)
        *busy_r = MESSAGE_BUSY_QUEUED;
    return ret < 0 ? ret : 1;
}

/* Another row of the same submission (it shares the raw copy and the links): its id, 0
 * none. The rows of one submission are written in one transaction, so created_at bounds
 * the search to a short range of ix_messages_server_created. */
static int
delete_sibling(DB *db, unsigned long long server_id, unsigned long long id, unsigned long long raw_id,
               const char *raw_day, const char *created, unsigned long long *sibling_r)
{
    DB_RESULT *res = NULL;
    int ret;

    *sibling_r = 0;
    if (raw_id == 0 || *raw_day == '\0')
        return 0;
    ret = db_query(db, &res, "SELECT id FROM messages WHERE server_id = ? AND created_at >= ? - INTERVAL 1 DAY "
                   "AND created_at <= ? + INTERVAL 1 DAY AND raw_message_id = ? AND raw_message_day = ? AND id <> ? "
                   "ORDER BY id LIMIT 1 FOR UPDATE",
                   DB_ARGS(DB_UINT(server_id), DB_STR(created), DB_STR(created), DB_UINT(raw_id), DB_STR(raw_day),
                           DB_UINT(id)));
    if (ret > 0)
        *sibling_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret < 0 ? ret : 0;
}

/* message_delete()'s statements (db_transaction): 1 deleted, 0 none, 2 busy (nothing done). */
struct delete_txn {
    unsigned long long server_id, id;
    MESSAGE_BUSY busy;          /* out */
};

static int
delete_txn(DB *db, void *arg)
{
    struct delete_txn *t = arg;
    unsigned long long raw_id = 0, sibling = 0, id = t->id, server_id = t->server_id;
    char raw_day[16] = "", created[32] = "";
    int ret;

    t->busy = MESSAGE_BUSY_NONE;
    if ((ret = delete_lookup(db, server_id, id, &t->busy, &raw_id, raw_day, created)) <= 0)
        return ret;
    if (t->busy != MESSAGE_BUSY_NONE)
        return 2;
    if ((ret = delete_sibling(db, server_id, id, raw_id, raw_day, created, &sibling)) < 0
        || (ret = tracking_forget_message(db, server_id, id, sibling)) < 0
        || (ret = suppression_forget_message(db, server_id, id)) < 0
        || (ret = db_exec(db, "UPDATE messages SET bounce_for_id = NULL WHERE bounce_for_id = ? AND server_id = ?",
                          DB_ARGS(DB_UINT(id), DB_UINT(server_id)))) < 0
        || (ret = db_exec(db, "UPDATE messages SET complaint_for_id = NULL WHERE complaint_for_id = ? AND server_id = ?",
                          DB_ARGS(DB_UINT(id), DB_UINT(server_id)))) < 0
        || (ret = db_exec(db, "UPDATE messages SET forwarded_from_id = NULL WHERE forwarded_from_id = ? AND server_id = ?",
                          DB_ARGS(DB_UINT(id), DB_UINT(server_id)))) < 0)
        return ret;
    /* Deliveries (and links not handed on) go by ON DELETE CASCADE. */
    if ((ret = db_exec(db, "DELETE FROM messages WHERE id = ? AND server_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(server_id)))) < 0
        || (raw_id && sibling == 0
            && (ret = db_exec(db, "DELETE FROM raw_messages WHERE id = ? AND created_day = ? AND server_id = ?",
                              DB_ARGS(DB_UINT(raw_id), DB_STR(raw_day), DB_UINT(server_id)))) < 0))
        return ret;
    return 1;
}

int
message_delete(DB *db, unsigned long long server_id, unsigned long long id, MESSAGE_BUSY *busy_r)
{
    struct delete_txn t = {.server_id = server_id, .id = id};
    int ret = db_transaction(db, delete_txn, &t);

    *busy_r = ret < 0 ? MESSAGE_BUSY_NONE : t.busy;
    return ret;
}
