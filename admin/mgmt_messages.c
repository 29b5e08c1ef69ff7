/*
 * mgmt_messages.c -- a server's message log, …/servers/{server}/messages (doc/api.md):
 * search with keyset pages, one message with its content, deliveries, opens and clicks,
 * the raw message and single attachments, and releasing or cancelling held messages
 * (one or in bulk), deleting one message for good, and the HTML body as a sandboxed
 * document for the web admin. Rows
 * are lib/mail/message.c's, their JSON lib/mail/message_view.c's, release is
 * lib/mail/release.c's (re-injection through the release service).
 *
 * Must never: show a message of another server, accept a query value unchecked,
 * release or delete a message the principal's role may not change (readonly: 403), or
 * delete one Postfix, the endpoint queue or a hold still has a claim on (409).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/message.h"
#include "mail/message_view.h"
#include "mail/mime.h"
#include "mail/release.h"
#include "mgmt_messages.h"
#include "mgmt.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define PAGE_DEFAULT 25
#define PAGE_MAX 100
#define BULK_MAX 100

static const char *const statuses[] = {
    "Pending", "Sent", "SoftFail", "HardFail", "Held", "Bounced", "Processed", "HoldCancelled", "Error", NULL,
};

/* ---------------------------------------------------------------- JSON */

/* A message as the management API shows it in lists (mgmt_v2.h). */
json_t *
mgmt_message_summary(const MESSAGE_ROW *m)
{
    char *subject = mime_decode_header(m->subject);
    char *message_id = message_view_bare_id(m->message_id);
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer((json_int_t) m->id));
    json_object_set_new(o, "token", message_view_str(m->token));
    json_object_set_new(o, "scope", message_view_str(m->scope));
    json_object_set_new(o, "status", message_view_str(m->status));
    json_object_set_new(o, "held", json_boolean(strcmp(m->status, "Held") == 0));
    json_object_set_new(o, "rcpt_to", message_view_str(m->rcpt_to));
    json_object_set_new(o, "mail_from", message_view_str(m->mail_from));
    json_object_set_new(o, "subject", message_view_str(subject));
    json_object_set_new(o, "message_id", message_view_str(message_id));
    json_object_set_new(o, "tag", message_view_str(m->tag));
    json_object_set_new(o, "size", json_integer((json_int_t) m->size));
    json_object_set_new(o, "spam_status", message_view_str(m->spam_status));
    json_object_set_new(o, "spam_score", json_real(m->spam_score));
    json_object_set_new(o, "hold_expires_at", message_view_iso_at(m->hold_expiry));
    json_object_set_new(o, "last_delivery_attempt_at", message_view_iso_at(m->last_attempt));
    json_object_set_new(o, "created_at", message_view_iso_at(m->created));
    mem_free(subject);
    mem_free(message_id);
    return o;
}

/* ---------------------------------------------------------------- lookups */

/* A path or body id: 1..2^63 in decimal digits only. 0 when it is not one. */
static unsigned long long
parse_id(const char *s)
{
    unsigned long long v = 0;

    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char) *p))
            return 0;
        v = v * 10 + (unsigned long long) (*p - '0');
    }
    return v;
}

/* The message of path argument 2 in server_id: 1 with *m_r (its row in *rows), 0/-1 after
 * answering (404 / DB). */
static int
find_message(MGMT_CALL *c, unsigned long long server_id, DB_ROWS *rows, const MESSAGE_ROW **m_r)
{
    unsigned long long id = parse_id(http_path_arg(c->req, 2));
    int ret;

    *m_r = NULL;
    memset(rows, 0, sizeof(*rows));
    if (id == 0) {
        mgmt_reply_not_found(c, "message");
        return 0;
    }
    if ((ret = message_get_row(c->db, server_id, id, rows)) < 0) {
        mgmt_reply_db(c, "message lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, "message");
    else
        *m_r = rows->v;
    return ret > 0;
}

/* ---------------------------------------------------------------- search */

/* A query argument of at most max bytes without control characters; NULL when absent
 * or empty, or invalid (error added). */
static const char *
query_text(MGMT_CALL *c, const char *name, size_t max)
{
    const char *v = http_query(c->req, name);
    size_t n;

    if (v == NULL || *v == '\0')
        return NULL;
    n = strlen(v);
    if (n > max) {
        mgmt_field_error(c, name, "must be at most %zu bytes long", max);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) v[i] < 0x20 || v[i] == 0x7f) {
            mgmt_field_error(c, name, "must not contain control characters");
            return NULL;
        }
    return v;
}

/* A time argument (YYYY-MM-DDTHH:MM:SSZ or UNIX seconds) as "YYYY-MM-DD HH:MM:SS" in out. */
static const char *
query_time(MGMT_CALL *c, const char *name, char out[32])
{
    const char *v = query_text(c, name, 32);
    struct tm tm;
    time_t t;

    if (v == NULL)
        return NULL;
    memset(&tm, 0, sizeof(tm));
    if (strspn(v, "0123456789") == strlen(v) && strlen(v) <= 11) {
        t = (time_t) strtoll(v, NULL, 10);
        if (gmtime_r(&t, &tm) == NULL)
            goto bad;
    } else {
        const char *end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);

        if (end == NULL || strcmp(end, "Z") != 0 || tm.tm_year < 70 || tm.tm_year > 1100)
            goto bad;
        t = timegm(&tm);
        if (gmtime_r(&t, &tm) == NULL)
            goto bad;
    }
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
    return out;
bad:
    mgmt_field_error(c, name, "must be a time as YYYY-MM-DDTHH:MM:SSZ (UTC) or UNIX seconds");
    return NULL;
}

/* The search filters of a list (and of a bulk retry) from the query string: to, from,
 * subject, tag, message_id, status, scope, since, until (mgmt_v2.h). Errors are added to c. */
void
mgmt_messages_filter(MGMT_CALL *c, unsigned long long server_id, MESSAGE_QUERY *q, char since[32], char until[32])
{
    const char *v;

    q->server_id = server_id;
    q->rcpt_to = query_text(c, "to", 320);
    q->mail_from = query_text(c, "from", 320);
    q->subject = query_text(c, "subject", 998);
    q->tag = query_text(c, "tag", 255);
    q->message_id = query_text(c, "message_id", 998);
    if ((v = query_text(c, "status", 32)) != NULL) {
        for (size_t i = 0; statuses[i] && q->status == NULL; i++)
            if (strcmp(v, statuses[i]) == 0)
                q->status = statuses[i];
        if (q->status == NULL)
            mgmt_field_error(c, "status", "must be one of Pending, Sent, SoftFail, HardFail, Held, Bounced, Processed, "
                        "HoldCancelled, Error");
    }
    if ((v = query_text(c, "scope", 32)) != NULL) {
        if (strcmp(v, "incoming") == 0 || strcmp(v, "outgoing") == 0)
            q->scope = v;
        else
            mgmt_field_error(c, "scope", "must be incoming or outgoing");
    }
    q->since = query_time(c, "since", since);
    q->until = query_time(c, "until", until);
}

static void
mgmt_v2_messages_list(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    char since[32], until[32], cursor[32];
    const char *limit_s, *before_s;
    MESSAGE_QUERY q = {0};
    DB_ROWS res = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0)
        goto out;
    mgmt_messages_filter(&c, server_id, &q, since, until);
    q.limit = PAGE_DEFAULT;
    if ((limit_s = query_text(&c, "limit", 16)) != NULL) {
        unsigned long long n = parse_id(limit_s);

        if (n == 0 || n > PAGE_MAX)
            mgmt_field_error(&c, "limit", "must be a whole number from 1 to %d", PAGE_MAX);
        else
            q.limit = (unsigned) n;
    }
    if ((before_s = query_text(&c, "before", 32)) != NULL) {
        q.before_id = parse_id(before_s);
        if (q.before_id == 0)
            mgmt_field_error(&c, "before", "must be the next_before value of an earlier page (a message id)");
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (q.before_id) {
        if ((ret = message_created_at(c.db, server_id, q.before_id, cursor)) < 0) {
            mgmt_reply_db(&c, "cursor lookup", ret);
            goto out;
        }
        if (ret == 0) {
            mgmt_field_error(&c, "before", "is not a message of this server");
            mgmt_reply_invalid(&c);
            goto out;
        }
        q.before_created = cursor;
    }
    q.limit++;     /* one more tells whether another page follows */
    if ((ret = message_search(c.db, &q, &res)) < 0) {
        mgmt_reply_db(&c, "message search", ret);
        goto out;
    }
    {
        const MESSAGE_ROW *rows = res.v;
        size_t n = res.n, shown = n < q.limit ? n : q.limit - 1;
        json_t *list = json_array(), *next = n == q.limit && shown > 0
            ? json_integer((json_int_t) rows[shown - 1].id) : json_null();

        for (size_t r = 0; r < shown; r++)
            json_array_append_new(list, mgmt_message_summary(&rows[r]));
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:o}", "messages", list, "next_before", next));
    }
out:
    db_rows_free(&res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- one message */

static void
mgmt_v2_message_get(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_ROWS rows = {0};
    const MESSAGE_ROW *m = NULL;
    json_t *d = NULL, *x = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0
        || find_message(&c, server_id, &rows, &m) != 1)
        goto out;
    d = mgmt_message_summary(m);
    json_object_set_new(d, "bounce", json_boolean(m->bounce));
    json_object_set_new(d, "bounce_for_id", m->bounce_for ? json_integer((json_int_t) m->bounce_for) : json_null());
    json_object_set_new(d, "forwarded_from_id", m->forwarded_from ? json_integer((json_int_t) m->forwarded_from) : json_null());
    json_object_set_new(d, "sender_authentication", json_pack("{s:o, s:o, s:o}", "spf", message_view_str(m->spf),
                                                              "dkim", message_view_str(m->dkim),
                                                              "dkim_domain", message_view_str(m->dkim_domain)));
    json_object_set_new(d, "received_with_ssl", m->ssl < 0 ? json_null() : json_boolean(m->ssl));
    json_object_set_new(d, "inspection", json_pack("{s:b, s:b, s:o}", "inspected", m->inspected, "threat", m->threat,
                                                   "threat_details", message_view_str(m->threat_details)));
    ret = message_view_content(c.db, server_id, m, MESSAGE_VIEW_HEADERS | MESSAGE_VIEW_PLAIN | MESSAGE_VIEW_HTML
                               | MESSAGE_VIEW_ATTACHMENT_LIST, d);
    if (ret < 0) {
        mgmt_reply_db(&c, "raw message lookup", ret);
        goto out;
    }
    json_object_set_new(d, "raw_message_available", json_boolean(!json_is_null(json_object_get(d, "headers"))));
    if ((ret = message_view_deliveries(c.db, m->id, MESSAGE_VIEW_ISO, &x)) < 0) {
        mgmt_reply_db(&c, "deliveries lookup", ret);
        goto out;
    }
    json_object_set_new(d, "deliveries", x);
    if ((ret = message_view_activity(c.db, server_id, m->id, MESSAGE_VIEW_ISO, &x)) < 0) {
        mgmt_reply_db(&c, "activity lookup", ret);
        goto out;
    }
    json_object_set_new(d, "loads", json_incref(json_object_get(x, "loads")));
    json_object_set_new(d, "clicks", json_incref(json_object_get(x, "clicks")));
    json_decref(x);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "message", d));
    d = NULL;
out:
    json_decref(d);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
reply_expired(MGMT_CALL *c)
{
    mgmt_reply_fail(c, MHD_HTTP_GONE, "RawMessageExpired",
               "The raw message is no longer stored (the server's raw message retention has passed).");
}

static void
mgmt_v2_message_raw(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_ROWS rows = {0};
    const MESSAGE_ROW *m = NULL;
    char *raw = NULL, *b64 = NULL;
    size_t len = 0;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0
        || find_message(&c, server_id, &rows, &m) != 1)
        goto out;
    if ((ret = message_view_raw_row(c.db, server_id, m, &raw, &len)) < 0) {
        mgmt_reply_db(&c, "raw message lookup", ret);
        goto out;
    }
    if (ret == 0) {
        reply_expired(&c);
        goto out;
    }
    b64 = base64_encode(raw, len, 0);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:I, s:I, s:s, s:s}", "id",
                                        (json_int_t) m->id,
                                        "size", (json_int_t) len, "content_type", "message/rfc822",
                                        "raw_message", b64));
out:
    mem_free(raw);
    mem_free(b64);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_message_attachment(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, n;
    const char *ns = http_path_arg(req, 3);
    DB_ROWS rows = {0};
    const MESSAGE_ROW *m = NULL;
    json_t *a = NULL;
    int ret, expired = 0;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0
        || find_message(&c, server_id, &rows, &m) != 1)
        goto out;
    /* Attachments count from 0, in the order of the message's "attachments" list. */
    n = strcmp(ns, "0") == 0 ? 0 : parse_id(ns);
    if (n == 0 && strcmp(ns, "0") != 0) {
        mgmt_reply_not_found(&c, "attachment");
        goto out;
    }
    ret = message_view_attachment(c.db, server_id, m, (size_t) n, &a, &expired);
    if (ret < 0)
        mgmt_reply_db(&c, "raw message lookup", ret);
    else if (expired)
        reply_expired(&c);
    else if (ret == 0)
        mgmt_reply_not_found(&c, "attachment");
    else
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "attachment", a));
out:
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The message's HTML body as a document of its own, for the web admin's message view,
 * which loads it in <iframe sandbox> (no allow-scripts, no allow-same-origin). The
 * answer's own policy is the second wall: no script, no plugin, nothing fetched from
 * anywhere (remote images and styles stay blocked; inline styles and data: images show),
 * a unique origin even when opened on its own (CSP sandbox), framed only by the admin. */
#define HTML_VIEW_CSP "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " \
    "sandbox; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

static void
mgmt_v2_message_html(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_ROWS rows = {0};
    const MESSAGE_ROW *m = NULL;
    json_t *d = json_object(), *html;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0
        || find_message(&c, server_id, &rows, &m) != 1)
        goto out;
    if ((ret = message_view_content(c.db, server_id, m, MESSAGE_VIEW_HTML, d)) < 0) {
        mgmt_reply_db(&c, "raw message lookup", ret);
        goto out;
    }
    html = json_object_get(d, "html_body");
    if (!json_is_string(html)) {
        mgmt_reply_not_found(&c, "HTML body");
        goto out;
    }
    http_add_header(req, "Content-Security-Policy", HTML_VIEW_CSP);
    http_add_header(req, "X-Frame-Options", "SAMEORIGIN");
    http_add_header(req, "Referrer-Policy", "no-referrer");
    http_add_header(req, "Cross-Origin-Resource-Policy", "same-origin");
    http_reply_bytes(req, MHD_HTTP_OK, "text/html; charset=utf-8", json_string_value(html),
                     json_string_length(html));
out:
    json_decref(d);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- release and cancel */

enum { ACT_RELEASE, ACT_CANCEL };
enum { R_DONE, R_NOT_FOUND, R_NOT_HELD, R_FAILED };

/* Releases or cancels message id of server_id. R_* with *error_r (mem_free it) for failures. */
static int
act_on(MGMT_CALL *c, int act, unsigned long long server_id, unsigned long long id, char **error_r)
{
    DB_ROWS rows;
    const MESSAGE_ROW *m;
    int ret = message_get_row(c->db, server_id, id, &rows), result;

    *error_r = NULL;
    if (ret <= 0) {
        db_rows_free(&rows);
        if (ret < 0)
            *error_r = buf_asprintf("database: %s", db_error(c->db));
        return ret < 0 ? R_FAILED : R_NOT_FOUND;
    }
    m = rows.v;
    if (strcmp(m->status, "Held") != 0) {
        *error_r = buf_asprintf("The message is not held (its status is %s).", m->status);
        db_rows_free(&rows);
        return R_NOT_HELD;
    }
    if (act == ACT_RELEASE) {
        char *error = NULL;

        ret = release_message(c->db, c->req->cfg, c->m->seal, m->token, &error);
        if (ret > 0) {
            msg_info("user %llu: released message %llu of server %llu", c->p.user_id, id, server_id);
            result = R_DONE;
        } else if (ret == 0) {
            *error_r = buf_asprintf("The message is no longer held, or its raw copy has expired.");
            result = R_NOT_HELD;
        } else {
            msg_warn("user %llu: releasing message %llu: %s", c->p.user_id, id, error ? error : "");
            *error_r = buf_asprintf("The release failed for now (Postfix or the database); retry later.");
            result = R_FAILED;
        }
        mem_free(error);
    } else {
        char *details = buf_asprintf("The hold was cancelled by %s.", c->p.email);

        ret = message_cancel_hold(c->db, server_id, id, details);
        mem_free(details);
        if (ret > 0) {
            msg_info("user %llu: cancelled the hold of message %llu of server %llu", c->p.user_id, id, server_id);
            result = R_DONE;
        } else if (ret == 0) {
            *error_r = buf_asprintf("The message is no longer held.");
            result = R_NOT_HELD;
        } else {
            *error_r = buf_asprintf("database: %s", db_error(c->db));
            result = R_FAILED;
        }
    }
    db_rows_free(&rows);
    return result;
}

static void
act_one(HTTP_REQUEST *req, void *arg, int act)
{
    static const char *const none[] = {NULL};
    unsigned long long server_id = 0, id;
    DB_ROWS rows = {0};
    char *why = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || mgmt_read_optional_body(&c, none) != 0)
        goto out;
    id = parse_id(http_path_arg(req, 2));
    switch (id ? act_on(&c, act, server_id, id, &why) : R_NOT_FOUND) {
    case R_DONE:
        if ((ret = message_get_row(c.db, server_id, id, &rows)) <= 0)
            mgmt_reply_db(&c, "message reload", ret < 0 ? ret : DB_ERR_PERM);
        else
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "message", mgmt_message_summary(rows.v)));
        break;
    case R_NOT_FOUND:
        mgmt_reply_not_found(&c, "message");
        break;
    case R_NOT_HELD:
        mgmt_reply_conflict(&c, "NotHeld", why, NULL);
        break;
    default:
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure", why);
        break;
    }
out:
    mem_free(why);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_message_release(HTTP_REQUEST *req, void *arg)
{
    act_one(req, arg, ACT_RELEASE);
}

static void
mgmt_v2_message_cancel(HTTP_REQUEST *req, void *arg)
{
    act_one(req, arg, ACT_CANCEL);
}

static void
act_bulk(HTTP_REQUEST *req, void *arg, int act)
{
    static const char *const known[] = {"ids", NULL};
    static const char *const names[] = {"released", "not_found", "not_held", "failed"};
    unsigned long long server_id = 0;
    json_t *ids, *v, *results;
    size_t i;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    mgmt_check_known(&c, known);
    ids = json_object_get(c.body, "ids");
    if (ids == NULL)
        mgmt_field_error(&c, "ids", "is required");
    else if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > BULK_MAX)
        mgmt_field_error(&c, "ids", "must be a list of 1 to %d message ids", BULK_MAX);
    else {
        json_array_foreach(ids, i, v) {
            if (!json_is_integer(v) || json_integer_value(v) <= 0) {
                mgmt_field_error(&c, "ids", "must hold positive whole numbers only (item %zu is not one)", i);
                break;
            }
        }
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    results = json_array();
    json_array_foreach(ids, i, v) {
        char *why = NULL;
        unsigned long long id = (unsigned long long) json_integer_value(v);
        int r = act_on(&c, act, server_id, id, &why);
        const char *name = r == R_DONE && act == ACT_CANCEL ? "cancelled" : names[r];

        json_array_append_new(results, json_pack("{s:I, s:s, s:o}", "id", (json_int_t) id, "result", name,
                                                 "message", why ? json_string(why) : json_null()));
        mem_free(why);
    }
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "results", results));
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_messages_release(HTTP_REQUEST *req, void *arg)
{
    act_bulk(req, arg, ACT_RELEASE);
}

static void
mgmt_v2_messages_cancel(HTTP_REQUEST *req, void *arg)
{
    act_bulk(req, arg, ACT_CANCEL);
}

/* ---------------------------------------------------------------- delete */

/* Deletes one message for good (lib/mail/message.c: the row, its deliveries, clicks,
 * loads, links and raw copy as far as no other recipient row shares them). Nothing stays
 * to purge. A message still on its way is refused: deleting it would leave Postfix or
 * the worker with mail nobody can see. */
static void
mgmt_v2_message_delete(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id;
    MESSAGE_BUSY busy = MESSAGE_BUSY_NONE;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    id = parse_id(http_path_arg(req, 2));
    ret = id ? message_delete(c.db, server_id, id, &busy) : 0;
    if (ret < 0) {
        mgmt_reply_db(&c, "message delete", ret);
    } else if (ret == 0) {
        mgmt_reply_not_found(&c, "message");
    } else if (busy == MESSAGE_BUSY_HELD) {
        mgmt_reply_conflict(&c, "MessageHeld", "The message is held: release it or cancel it first "
                            "(POST …/messages/{id}/cancel), then delete it.", NULL);
    } else if (busy == MESSAGE_BUSY_QUEUED) {
        mgmt_reply_conflict(&c, "MessageInFlight", "The message is still queued for delivery to an endpoint; "
                            "delete it once its delivery has finished.", NULL);
    } else if (busy != MESSAGE_BUSY_NONE) {
        mgmt_reply_conflict(&c, "MessageInFlight", "The message is still being delivered (status Pending or "
                            "SoftFail: Postfix or the endpoint delivery has not finished with it); delete it once "
                            "its status is final.", NULL);
    } else {
        msg_info("user %llu: deleted message %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
                 http_path_arg(req, 1));
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:I, s:b}", "id", (json_int_t) id, "deleted", 1));
    }
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h); the held/ paths come before …/{id}/… ones. */
const MGMT_ROUTE mgmt_messages_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/messages", mgmt_v2_messages_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/messages/held/release", mgmt_v2_messages_release},
    {"POST", "/api/v2/organizations/{}/servers/{}/messages/held/cancel", mgmt_v2_messages_cancel},
    {"GET", "/api/v2/organizations/{}/servers/{}/messages/{}", mgmt_v2_message_get},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/messages/{}", mgmt_v2_message_delete},
    {"GET", "/api/v2/organizations/{}/servers/{}/messages/{}/raw", mgmt_v2_message_raw},
    {"GET", "/api/v2/organizations/{}/servers/{}/messages/{}/html", mgmt_v2_message_html},
    {"GET", "/api/v2/organizations/{}/servers/{}/messages/{}/attachments/{}", mgmt_v2_message_attachment},
    {"POST", "/api/v2/organizations/{}/servers/{}/messages/{}/release", mgmt_v2_message_release},
    {"POST", "/api/v2/organizations/{}/servers/{}/messages/{}/cancel", mgmt_v2_message_cancel},
    {NULL, NULL, NULL},
};
