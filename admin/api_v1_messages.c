/*
 * api_v1_messages.c -- Postal's HTTP API v1, reading (api_v1.h, doc/api.md):
 * messages/message (with its `_expansions`) and messages/deliveries.
 *
 * Contract: authenticate through v1_call_begin() (api_v1_call.h), take the id as Postal
 * does, and answer from the credential's server's rows only, through lib/mail/message.h
 * and lib/mail/message_view.h; a MariaDB failure is a 503 TemporaryFailure.
 *
 * Must never: answer another server's message, log a key, or hold SQL.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_v1.h"
#include "api_v1_call.h"
#include "mail/message.h"
#include "mail/message_view.h"
#include "mail/mime.h"
#include "util/mem.h"

static const char *const expansion_names[] = {
    "status", "details", "inspection", "plain_body", "html_body", "attachments", "headers", "raw_message",
    "activity_entries",
};
enum { X_STATUS, X_DETAILS, X_INSPECTION, X_PLAIN, X_HTML, X_ATTACHMENTS, X_HEADERS, X_RAW, X_ACTIVITY, NX };

/* The id parameter as Postal takes it (an integer, or a string read like Ruby's to_i).
 * 1 with *id_r, 0 after a parameter-error. */
static int
param_id(V1_CALL *c, long long *id_r)
{
    json_t *v = json_object_get(c->call.body, "id");

    if (v == NULL || json_is_null(v) || (json_is_string(v) && v1_blank(json_string_value(v)))) {
        v1_reply_param_error(c->call.req, "`id` parameter is required but is missing");
        return 0;
    }
    if (json_is_integer(v)) {
        *id_r = (long long) json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);

        while (isspace((unsigned char) *s))
            s++;
        *id_r = isdigit((unsigned char) *s) || ((*s == '-' || *s == '+') && isdigit((unsigned char) s[1]))
                ? strtoll(s, NULL, 10) : 0;
    } else {
        v1_reply_param_error(c->call.req, "`id` parameter must be a string or integer");
        return 0;
    }
    return 1;
}

static void
reply_not_found(V1_CALL *c)
{
    json_t *extra = json_object();

    json_object_set(extra, "id", json_object_get(c->call.body, "id"));
    v1_reply_error(c->call.req, "MessageNotFound", "No message found matching provided ID", extra);
}

/* Finds the message of this server. 1 found (*m_r, its row in *rows), 0 answered
 * MessageNotFound or a parameter-error, -1 answered a temporary failure. */
static int
find_message(V1_CALL *c, DB_ROWS *rows, const MESSAGE_ROW **m_r)
{
    long long id;
    int ret;

    *m_r = NULL;
    memset(rows, 0, sizeof(*rows));
    if (!param_id(c, &id))
        return 0;
    if (id <= 0) {
        reply_not_found(c);
        return 0;
    }
    ret = message_get_row(c->call.db, c->cred.server_id, (unsigned long long) id, rows);
    if (ret < 0) {
        v1_reply_temporary(c, "message lookup", db_error(c->call.db));
        return -1;
    }
    if (ret == 0) {
        reply_not_found(c);
        return 0;
    }
    *m_r = rows->v;
    return 1;
}

/* Which expansions: `_expansions` true means all, a list names some. */
static void
read_expansions(const json_t *params, int want[NX])
{
    const json_t *x = json_object_get(params, "_expansions");
    size_t i;
    json_t *item;

    for (int k = 0; k < NX; k++)
        want[k] = json_is_true(x);
    if (!json_is_array(x))
        return;
    json_array_foreach(x, i, item) {
        const char *name = json_string_value(item);

        for (int k = 0; name && k < NX; k++)
            if (strcmp(name, expansion_names[k]) == 0)
                want[k] = 1;
    }
}

/* Adds the expansions that need the raw message. -1 on a temporary failure. */
static int
add_content(V1_CALL *c, const MESSAGE_ROW *m, const int want[NX], json_t *data)
{
    unsigned what = (want[X_PLAIN] ? MESSAGE_VIEW_PLAIN : 0) | (want[X_HTML] ? MESSAGE_VIEW_HTML : 0)
                    | (want[X_ATTACHMENTS] ? MESSAGE_VIEW_ATTACHMENTS : 0) | (want[X_HEADERS] ? MESSAGE_VIEW_HEADERS : 0)
                    | (want[X_RAW] ? MESSAGE_VIEW_RAW : 0);

    return message_view_content(c->call.db, c->cred.server_id, m, what, data) < 0 ? -1 : 0;
}

void
api_v1_messages_message(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    const MESSAGE_ROW *m = NULL;
    json_t *data = NULL;
    int want[NX];
    V1_CALL c;

    if (v1_call_begin(&c, req, arg) < 0 || find_message(&c, &rows, &m) <= 0)
        goto out;
    read_expansions(c.call.body, want);
    data = json_object();
    json_object_set_new(data, "id", json_integer((json_int_t) m->id));
    json_object_set_new(data, "token", message_view_str(m->token));
    if (want[X_STATUS])
        json_object_set_new(data, "status", json_pack("{s:o, s:o, s:b, s:o}",
                            "status", message_view_str(m->status),
                            "last_delivery_attempt", message_view_time(m->last_attempt),
                            "held", strcmp(m->status, "Held") == 0,
                            "hold_expiry", message_view_time(m->hold_expiry)));
    if (want[X_DETAILS]) {
        char *subject = mime_decode_header(m->subject);
        char *message_id = message_view_bare_id(m->message_id);

        json_object_set_new(data, "details", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                            "rcpt_to", message_view_str(m->rcpt_to),
                            "mail_from", message_view_str(m->mail_from),
                            "subject", message_view_str(subject),
                            "message_id", message_view_str(message_id),
                            "timestamp", message_view_time(m->created),
                            "direction", message_view_str(m->scope),
                            "size", json_integer((json_int_t) m->size),
                            "bounce", json_boolean(m->bounce),
                            "bounce_for_id", m->bounce_for ? json_integer((json_int_t) m->bounce_for) : json_null(),
                            "tag", message_view_str(m->tag),
                            "received_with_ssl", m->ssl < 0 ? json_null() : json_boolean(m->ssl)));
        mem_free(subject);
        mem_free(message_id);
    }
    if (want[X_INSPECTION])
        json_object_set_new(data, "inspection", json_pack("{s:o, s:b, s:o, s:o, s:o}",
                            "inspected", json_boolean(m->inspected),
                            "spam", strcmp(m->spam_status, "Spam") == 0,
                            "spam_score", json_real(m->spam_score),
                            "threat", json_boolean(m->threat),
                            "threat_details", message_view_str(m->threat_details)));
    if ((want[X_PLAIN] || want[X_HTML] || want[X_ATTACHMENTS] || want[X_HEADERS] || want[X_RAW])
        && add_content(&c, m, want, data) < 0) {
        v1_reply_temporary(&c, "raw message lookup", db_error(c.call.db));
        goto out;
    }
    if (want[X_ACTIVITY]) {
        json_t *a = NULL;

        if (message_view_activity(c.call.db, c.cred.server_id, m->id, 0, &a) < 0) {
            v1_reply_temporary(&c, "activity lookup", db_error(c.call.db));
            goto out;
        }
        json_object_set_new(data, "activity_entries", a);
    }
    v1_reply_success(req, data);
    data = NULL;
out:
    json_decref(data);
    db_rows_free(&rows);
    mgmt_call_end(&c.call);
}

void
api_v1_messages_deliveries(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    const MESSAGE_ROW *m = NULL;
    json_t *list;
    V1_CALL c;
    int ret;

    if (v1_call_begin(&c, req, arg) < 0 || find_message(&c, &rows, &m) <= 0)
        goto out;
    ret = message_view_deliveries(c.call.db, m->id, 0, &list);
    if (ret < 0) {
        v1_reply_temporary(&c, "deliveries lookup", db_error(c.call.db));
        goto out;
    }
    v1_reply_success(req, list);
out:
    db_rows_free(&rows);
    mgmt_call_end(&c.call);
}
