/*
 * mgmt_call.c -- the shared toolkit of the management API v2 files (mgmt.h): answers,
 * the call's lifetime, body fields and query arguments, and JSON of rows. What a principal
 * may reach (organization and server lookups, the generic handlers of a server's child
 * objects) is mgmt_scope.c's.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/org.h"
#include "mail/outaddr.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* ---------------------------------------------------------------- answers */

void
mgmt_reply_ok(MGMT_CALL *c, unsigned status, json_t *data)
{
    http_reply_json(c->req, status, json_pack("{s:s, s:o}", "status", "success", "data", data ? data : json_object()));
}

void
mgmt_reply_fail(MGMT_CALL *c, unsigned status, const char *code, const char *message)
{
    http_reply_error(c->req, status, code, message);
}

/* 400 with the collected per-field errors (and the password rule that refused, if one did). */
void
mgmt_reply_invalid(MGMT_CALL *c)
{
    json_t *body = json_pack("{s:s, s:{s:s, s:s, s:O}}", "status", "error", "data", "code", "ValidationError",
                             "message", "Some fields are not valid; see errors.", "errors", c->errors);

    if (c->password_rule) {
        json_t *data = json_object_get(body, "data");

        json_object_set_new(data, "rule", json_string(c->password_rule));
        json_object_set_new(data, "message", json_string(c->password_reason));
    }
    http_reply_json(c->req, MHD_HTTP_BAD_REQUEST, body);
}

/* A database failure: 503 when retrying may help, else 500. A conflict lost before the
 * call changed anything (Galera certification, an InnoDB deadlock) runs the whole call
 * again instead (http_request_again): the 503 is the answer only when the runs are used up. */
void
mgmt_reply_db(MGMT_CALL *c, const char *what, int ret)
{
    if (ret == DB_ERR_TEMP && c->db && db_errno(c->db) == DB_ER_LOCK_DEADLOCK
        && db_changes(c->db) == c->db_changes)
        http_request_again(c->req);
    if (ret == DB_ERR_TEMP) {
        msg_warn("%s %s: %s: %s", c->req->method, c->req->path, what, db_error(c->db));
        mgmt_reply_fail(c, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure",
                   "A temporary failure prevented the request from completing; retry later.");
    } else {
        msg_error("%s %s: %s: %s", c->req->method, c->req->path, what, db_error(c->db));
        mgmt_reply_fail(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "The database refused the request.");
    }
}

void
mgmt_reply_not_found(MGMT_CALL *c, const char *what)
{
    char *message = buf_asprintf("There is no such %s.", what);

    mgmt_reply_fail(c, MHD_HTTP_NOT_FOUND, "NotFound", message);
    mem_free(message);
}

void
mgmt_reply_forbidden(MGMT_CALL *c, const char *message)
{
    mgmt_reply_fail(c, MHD_HTTP_FORBIDDEN, "Forbidden", message);
}

__attribute__((format(printf, 3, 4)))
void
mgmt_field_error(MGMT_CALL *c, const char *field, const char *fmt, ...)
{
    json_t *list = json_object_get(c->errors, field);
    BUF *b = buf_new(64);
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
    if (list == NULL) {
        list = json_array();
        json_object_set_new(c->errors, field, list);
    }
    json_array_append_new(list, json_string(buf_cstr(b)));
    buf_free(b);
}

int
mgmt_has_errors(const MGMT_CALL *c)
{
    return json_object_size(c->errors) > 0;
}

/* ---------------------------------------------------------------- the call */

int
mgmt_is_json_type(const char *ct)
{
    size_t n = strlen("application/json");

    return ct && strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body as a JSON object; -1 after answering 415 or 400. */
int
mgmt_read_body(MGMT_CALL *c)
{
    json_error_t err;
    size_t i = 0;

    if (!mgmt_is_json_type(c->req->content_type)) {
        mgmt_reply_fail(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType",
                   "The management API takes JSON bodies only (Content-Type: application/json).");
        return -1;
    }
    while (i < c->req->body_len && isspace(c->req->body[i]))
        i++;
    if (i == c->req->body_len) {
        mgmt_reply_fail(c, MHD_HTTP_BAD_REQUEST, "InvalidJSON", "The body must be a JSON object; it is empty.");
        return -1;
    }
    c->body = json_loadb((const char *) c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &err);
    if (c->body == NULL) {
        char *message;

        if (json_error_code(&err) == json_error_invalid_utf8) {
            mgmt_reply_fail(c, MHD_HTTP_BAD_REQUEST, "InvalidUTF8", "The body is not valid UTF-8.");
            return -1;
        }
        message = buf_asprintf("The body is not valid JSON: %s (line %d, column %d).", err.text, err.line, err.column);
        mgmt_reply_fail(c, MHD_HTTP_BAD_REQUEST, "InvalidJSON", message);
        mem_free(message);
        return -1;
    }
    if (!json_is_object(c->body)) {
        mgmt_reply_fail(c, MHD_HTTP_BAD_REQUEST, "InvalidJSON", "The body must be a JSON object.");
        return -1;
    }
    return 0;
}

void
mgmt_call_end(MGMT_CALL *c)
{
    if (c->in_txn)
        db_rollback(c->db);
    if (c->db)
        dbpool_put(c->m->pool, c->db);
    json_decref(c->body);
    json_decref(c->errors);
}

void
mgmt_call_open(MGMT_CALL *c, HTTP_REQUEST *req, MGMT_V2 *m)
{
    memset(c, 0, sizeof(*c));
    c->req = req;
    c->m = m;
    c->errors = json_object();
    c->db = dbpool_get(c->m->pool);
    if (c->db)
        c->db_changes = db_changes(c->db);
}

/* mgmt_call_open(), then the principal and (MGMT_NEED_BODY) the JSON body. 0 to go on, -1
 * when already answered (mgmt_call_end() in both cases). */
int
mgmt_call_begin(MGMT_CALL *c, HTTP_REQUEST *req, void *arg, int flags)
{
    mgmt_call_open(c, req, arg);
    if (!(flags & MGMT_NO_AUTH)
        && ((flags & MGMT_PARTIAL) ? auth_principal_partial(req, c->db, &c->p) : auth_principal(req, c->db, &c->p)) < 0)
        return -1;
    if ((flags & MGMT_NEED_BODY) && mgmt_read_body(c) < 0)
        return -1;
    return 0;
}

int
mgmt_txn_begin(MGMT_CALL *c)
{
    int ret = db_begin(c->db);

    if (ret < 0) {
        mgmt_reply_db(c, "begin", ret);
        return -1;
    }
    c->in_txn = 1;
    return 0;
}

int
mgmt_txn_commit(MGMT_CALL *c)
{
    int ret = db_commit(c->db);

    c->in_txn = 0;
    if (ret < 0) {
        mgmt_reply_db(c, "commit", ret);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- fields */

/* Fields of the body that are not in allowed[] (NULL-terminated) are errors. */
void
mgmt_check_known(MGMT_CALL *c, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach(c->body, key, v) {
        int known = 0;

        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known)
            mgmt_field_error(c, key, "is not a known field");
    }
}

/* For writes whose fields are all optional: no body at all, or a JSON object. Unknown
 * fields (not in allowed[]) are field errors, answered at once (400) when allowed[] is
 * empty, else left for the caller's mgmt_has_errors(). -1 when answered (415, 400). */
int
mgmt_read_optional_body(MGMT_CALL *c, const char *const *allowed)
{
    if (c->req->body_len == 0)
        return 0;
    if (mgmt_read_body(c) < 0)
        return -1;
    mgmt_check_known(c, allowed);
    if (allowed[0] == NULL && mgmt_has_errors(c)) {
        mgmt_reply_invalid(c);
        return -1;
    }
    return 0;
}

/* A string field of 1 to max bytes: NULL when absent or null (an error when required)
 * or invalid (error added). Passwords take any character but NUL. */
const char *
mgmt_field_string(MGMT_CALL *c, const char *name, int required, size_t max)
{
    json_t *v = json_object_get(c->body, name);
    const char *s;
    size_t len;

    if (v == NULL || json_is_null(v)) {
        if (required)
            mgmt_field_error(c, name, "is required");
        return NULL;
    }
    if (!json_is_string(v)) {
        mgmt_field_error(c, name, "must be a string");
        return NULL;
    }
    s = json_string_value(v);
    len = json_string_length(v);
    if (strlen(s) != len) {
        mgmt_field_error(c, name, "must not contain NUL characters");
        return NULL;
    }
    if (len == 0 || len > max) {
        mgmt_field_error(c, name, "must be 1 to %zu bytes long", max);
        return NULL;
    }
    return s;
}

/* mgmt_field_string() without control characters (names, addresses, reasons). */
const char *
mgmt_field_text(MGMT_CALL *c, const char *name, int required, size_t max)
{
    const char *s = mgmt_field_string(c, name, required, max);

    for (size_t i = 0; s && s[i]; i++)
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            mgmt_field_error(c, name, "must not contain control characters");
            return NULL;
        }
    return s;
}

/* A name-like field checked for presence and form; NULL when absent or invalid. */
const char *
mgmt_field_name(MGMT_CALL *c, const char *name, int required)
{
    return mgmt_field_text(c, name, required, MGMT_NAME_MAX);
}

int
mgmt_time_zone_ok(const char *tz)
{
    if (!isalpha((unsigned char) tz[0]) || strstr(tz, "..") || strstr(tz, "//"))
        return 0;
    return strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") == strlen(tz);
}

const char *
mgmt_field_time_zone(MGMT_CALL *c)
{
    const char *tz = mgmt_field_string(c, "time_zone", 0, MGMT_TZ_MAX);

    if (tz && !mgmt_time_zone_ok(tz)) {
        mgmt_field_error(c, "time_zone", "must be a time zone name such as UTC or Europe/Berlin");
        return NULL;
    }
    return tz;
}

char *
mgmt_lowercase(const char *s)
{
    char *out = mem_strdup(s);

    for (char *p = out; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return out;
}

/* ---------------------------------------------------------------- JSON of rows */

json_t *
mgmt_jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;

    return v ? v : json_null();
}

json_t *
mgmt_person_json(const char *uuid, const char *email, const char *first_name, const char *last_name)
{
    return json_pack("{s:o, s:o, s:o, s:o}", "uuid", mgmt_jstr(uuid), "email", mgmt_jstr(email),
                     "first_name", mgmt_jstr(first_name), "last_name", mgmt_jstr(last_name));
}

json_t *
mgmt_user_json(const AUTH_PRINCIPAL *p)
{
    json_t *o = mgmt_person_json(p->uuid, p->email, p->first_name, p->last_name);

    json_object_set_new(o, "admin", json_boolean(p->is_admin));
    return o;
}

/* An organization row as JSON, with the principal's role. */
json_t *
mgmt_org_json(const ORG_ROW *row, AUTH_ROLE role)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:b, s:b, s:o, s:s, s:o, s:o}", "uuid", mgmt_jstr(row->uuid),
                     "name", mgmt_jstr(row->name), "permalink", mgmt_jstr(row->permalink),
                     "time_zone", mgmt_jstr(row->time_zone), "suspended", row->suspended,
                     "require_two_factor", row->require_two_factor,
                     "suspension_reason", mgmt_jstr(row->suspension_reason), "role", auth_role_name(role),
                     "created_at", mgmt_jstr(row->created_at), "updated_at", mgmt_jstr(row->updated_at));
}

json_t *
mgmt_server_json(const SERVER_DETAILS *d, const char *org_permalink)
{
    json_t *o = json_object();

    json_object_set_new(o, "uuid", mgmt_jstr(d->uuid));
    json_object_set_new(o, "name", mgmt_jstr(d->name));
    json_object_set_new(o, "permalink", mgmt_jstr(d->permalink));
    json_object_set_new(o, "organization", mgmt_jstr(org_permalink));
    json_object_set_new(o, "mode", mgmt_jstr(d->mode));
    json_object_set_new(o, "token", mgmt_jstr(d->token));
    json_object_set_new(o, "send_limit", d->send_limit >= 0 ? json_integer(d->send_limit) : json_null());
    json_object_set_new(o, "allow_sender", json_boolean(d->allow_sender));
    json_object_set_new(o, "privacy_mode", json_boolean(d->privacy_mode));
    json_object_set_new(o, "spam_threshold", json_real(d->spam_threshold));
    json_object_set_new(o, "spam_failure_threshold", json_real(d->spam_failure_threshold));
    json_object_set_new(o, "outbound_spam_threshold",
                        d->has_outbound_spam_threshold ? json_real(d->outbound_spam_threshold) : json_null());
    json_object_set_new(o, "raw_message_retention_days", json_integer(d->raw_message_retention_days));
    json_object_set_new(o, "raw_message_retention_size", json_integer(d->raw_message_retention_size));
    json_object_set_new(o, "message_retention_days", json_integer(d->message_retention_days));
    json_object_set_new(o, "suspended", json_boolean(d->suspended_at[0] != '\0'));
    json_object_set_new(o, "suspended_at", d->suspended_at[0] ? mgmt_jstr(d->suspended_at) : json_null());
    json_object_set_new(o, "postmaster_address", d->postmaster_address[0] ? mgmt_jstr(d->postmaster_address) : json_null());
    json_object_set_new(o, "created_at", mgmt_jstr(d->created_at));
    json_object_set_new(o, "updated_at", mgmt_jstr(d->updated_at));
    return o;
}



/* A boolean field: 1/0, or -1 when absent or invalid (error added). */
int
mgmt_field_bool(MGMT_CALL *c, const char *name)
{
    json_t *v = json_object_get(c->body, name);

    if (v == NULL)
        return -1;
    if (!json_is_boolean(v)) {
        mgmt_field_error(c, name, "must be true or false");
        return -1;
    }
    return json_is_true(v);
}

/* ---------------------------------------------------------------- more fields, pages */

/* A whole-number field in [min, max]: 1 with *out, 0 when absent or null, -1 when invalid
 * (error added). */
int
mgmt_field_int(MGMT_CALL *c, const char *name, long long min, long long max, long long *out)
{
    json_t *v = json_object_get(c->body, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        mgmt_field_error(c, name, "must be a whole number from %lld to %lld", min, max);
        return -1;
    }
    *out = json_integer_value(v);
    return 1;
}

/* 1 when url is an absolute http:// or https:// URL with a host, in printable ASCII. */
int
mgmt_web_url_ok(const char *url)
{
    const char *host;
    size_t hostlen;

    for (const char *p = url; *p; p++)
        if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f)
            return 0;
    if (strncasecmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        host = url + 8;
    else
        return 0;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');

        if (end == NULL || end == host + 1 || strspn(host + 1, "0123456789abcdefABCDEF:.") != (size_t) (end - host - 1))
            return 0;
        hostlen = (size_t) (end - host + 1);
    } else {
        hostlen = strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_");
        if (hostlen == 0 || host[0] == '.' || host[0] == '-')
            return 0;
    }
    host += hostlen;
    if (*host == ':') {
        size_t digits = strspn(host + 1, "0123456789");

        if (digits == 0 || digits > 5 || atol(host + 1) > 65535)
            return 0;
        host += 1 + digits;
    }
    return *host == '\0' || *host == '/' || *host == '?' || *host == '#';
}

int
mgmt_outbound_ok(MGMT_CALL *c, const char *field, const char *value, int is_url)
{
    OUTADDR_ALLOW *allow;
    char *error = NULL;
    int ret;

    if ((allow = outaddr_allow_parse(&c->req->cfg->security_outbound_allowed_networks, &error)) == NULL) {
        mem_free(error);
        error = NULL;
        allow = outaddr_allow_parse(NULL, &error);
    }
    ret = is_url ? outaddr_check_url(allow, value, &error) : outaddr_check_host(allow, value, &error);
    outaddr_allow_free(allow);
    if (ret == 0)
        return 1;
    mgmt_field_error(c, field, "%s", error);
    mem_free(error);
    return 0;
}

/* 409 with code and message, the members of extra (taken; may be NULL) and the collected
 * field errors when there are any. */
void
mgmt_reply_conflict(MGMT_CALL *c, const char *code, const char *message, json_t *extra)
{
    json_t *data = json_pack("{s:s, s:s}", "code", code, "message", message);

    if (extra) {
        json_object_update(data, extra);
        json_decref(extra);
    }
    if (mgmt_has_errors(c))
        json_object_set(data, "errors", c->errors);
    http_reply_json(c->req, MHD_HTTP_CONFLICT, json_pack("{s:s, s:o}", "status", "error", "data", data));
}

/* A query argument as a whole number in [min, max]: 1 with *out, 0 absent, -1 invalid (error added). */
static int
query_number(MGMT_CALL *c, const char *name, unsigned long long min, unsigned long long max, unsigned long long *out)
{
    const char *v = http_query(c->req, name);
    char *end;

    if (v == NULL)
        return 0;
    if (*v == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 19
        || (*out = strtoull(v, &end, 10)) < min || *out > max) {
        mgmt_field_error(c, name, "must be a whole number from %llu to %llu", min, max);
        return -1;
    }
    return 1;
}

/* The query arguments ?before=<id>&limit=<n> of a paginated list (limit 1..max, default
 * def). 0, or -1 after answering 400 ValidationError. */
int
mgmt_page_args(MGMT_CALL *c, unsigned long long *before_r, unsigned *limit_r, unsigned def, unsigned max)
{
    unsigned long long limit = def;

    *before_r = 0;
    query_number(c, "before", 1, 9223372036854775807ULL, before_r);
    query_number(c, "limit", 1, max, &limit);
    if (mgmt_has_errors(c)) {
        mgmt_reply_invalid(c);
        return -1;
    }
    *limit_r = (unsigned) limit;
    return 0;
}

/* Path argument n as a positive decimal id: 1 with *id_r, 0 when it is not one. */
int
mgmt_path_id(MGMT_CALL *c, size_t n, unsigned long long *id_r)
{
    return mgmt_parse_id(http_path_arg(c->req, n), id_r);
}

/* v as a positive decimal id (at most 19 digits, no leading 0): 1 with *id_r, else 0. */
int
mgmt_parse_id(const char *v, unsigned long long *id_r)
{
    if (v == NULL || *v == '\0' || *v == '0' || strlen(v) > 19 || strspn(v, "0123456789") != strlen(v))
        return 0;
    *id_r = strtoull(v, NULL, 10);
    return 1;
}
