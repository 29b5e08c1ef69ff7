/*
 * mgmt_v2.c -- the management API v2 (mgmt_v2.h, doc/api.md).
 *
 * Each handler: call_begin() finds the principal (auth.c: 401, CSRF 403, 503) and, for
 * writes, reads the JSON body (415, 400 InvalidJSON / InvalidUTF8); load_org() turns the
 * organization in the path into a row and the principal's role (404 for non-members,
 * 403 Forbidden when the role is too low); fields are checked with per-field errors
 * collected in c->errors (400 ValidationError); then the change runs in one transaction.
 *
 * No SQL here: organizations and their members are lib/mail/org.c's, users, sessions
 * and tokens lib/mail/user.c's (through auth.c), servers lib/mail/server.c's, a server's
 * domains lib/mail/domain.c's and its credentials lib/mail/credential.c's.
 *
 * Must never: answer a non-member anything but 404 for an organization's paths, let a
 * role act above itself, leave an organization without an owner, or put input into SQL
 * text.
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

#include "auth.h"
#include "mail/credential.h"
#include "mail/domain.h"
#include "mail/org.h"
#include "mail/server.h"
#include "mail/user.h"
#include "mgmt_v2.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/netaddr.h"
#include "util/password.h"

#define NAME_MAX_BYTES 255
#define EMAIL_MAX_BYTES 255
#define TZ_MAX_BYTES 64

enum { NEED_BODY = 1, NO_AUTH = 2 };

/* One management call. */
typedef struct call {
    HTTP_REQUEST *req;
    MGMT_V2 *m;
    DB *db;
    AUTH_PRINCIPAL p;
    json_t *body;               /* the JSON object of a write */
    json_t *errors;             /* field -> [messages] */
    int in_txn;
} CALL;

/* An organization as the path names it, with the principal's role in it. */
typedef struct org {
    unsigned long long id;
    AUTH_ROLE role;
    json_t *json;
} ORG;

/* ---------------------------------------------------------------- answers */

static void
reply_ok(CALL *c, unsigned status, json_t *data)
{
    http_reply_json(c->req, status, json_pack("{s:s, s:o}", "status", "success", "data", data ? data : json_object()));
}

static void
reply_fail(CALL *c, unsigned status, const char *code, const char *message)
{
    http_reply_error(c->req, status, code, message);
}

/* 400 with the collected per-field errors. */
static void
reply_invalid(CALL *c)
{
    json_t *body = json_pack("{s:s, s:{s:s, s:s, s:O}}", "status", "error", "data", "code", "ValidationError",
                             "message", "Some fields are not valid; see errors.", "errors", c->errors);

    http_reply_json(c->req, MHD_HTTP_BAD_REQUEST, body);
}

/* A database failure: 503 when retrying may help, else 500. */
static void
reply_db(CALL *c, const char *what, int ret)
{
    if (ret == DB_ERR_TEMP) {
        msg_warn("%s %s: %s: %s", c->req->method, c->req->path, what, db_error(c->db));
        reply_fail(c, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure",
                   "A temporary failure prevented the request from completing; retry later.");
    } else {
        msg_error("%s %s: %s: %s", c->req->method, c->req->path, what, db_error(c->db));
        reply_fail(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "The database refused the request.");
    }
}

static void
reply_not_found(CALL *c, const char *what)
{
    char *message = buf_asprintf("There is no such %s.", what);

    reply_fail(c, MHD_HTTP_NOT_FOUND, "NotFound", message);
    mem_free(message);
}

static void
reply_forbidden(CALL *c, const char *message)
{
    reply_fail(c, MHD_HTTP_FORBIDDEN, "Forbidden", message);
}

__attribute__((format(printf, 3, 4)))
static void
field_error(CALL *c, const char *field, const char *fmt, ...)
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

static int
has_errors(const CALL *c)
{
    return json_object_size(c->errors) > 0;
}

/* ---------------------------------------------------------------- the call */

static int
is_json_type(const char *ct)
{
    size_t n = strlen("application/json");

    return ct && strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body as a JSON object; -1 after answering 415 or 400. */
static int
read_body(CALL *c)
{
    json_error_t err;
    size_t i = 0;

    if (!is_json_type(c->req->content_type)) {
        reply_fail(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType",
                   "The management API takes JSON bodies only (Content-Type: application/json).");
        return -1;
    }
    while (i < c->req->body_len && isspace(c->req->body[i]))
        i++;
    if (i == c->req->body_len) {
        reply_fail(c, MHD_HTTP_BAD_REQUEST, "InvalidJSON", "The body must be a JSON object; it is empty.");
        return -1;
    }
    c->body = json_loadb((const char *) c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &err);
    if (c->body == NULL) {
        char *message;

        if (json_error_code(&err) == json_error_invalid_utf8) {
            reply_fail(c, MHD_HTTP_BAD_REQUEST, "InvalidUTF8", "The body is not valid UTF-8.");
            return -1;
        }
        message = buf_asprintf("The body is not valid JSON: %s (line %d, column %d).", err.text, err.line, err.column);
        reply_fail(c, MHD_HTTP_BAD_REQUEST, "InvalidJSON", message);
        mem_free(message);
        return -1;
    }
    if (!json_is_object(c->body)) {
        reply_fail(c, MHD_HTTP_BAD_REQUEST, "InvalidJSON", "The body must be a JSON object.");
        return -1;
    }
    return 0;
}

static void
call_end(CALL *c)
{
    if (c->in_txn)
        db_rollback(c->db);
    if (c->db)
        dbpool_put(c->m->pool, c->db);
    json_decref(c->body);
    json_decref(c->errors);
}

/* 0 to go on, -1 when already answered (call_end() in both cases). */
static int
call_begin(CALL *c, HTTP_REQUEST *req, void *arg, int flags)
{
    memset(c, 0, sizeof(*c));
    c->req = req;
    c->m = arg;
    c->errors = json_object();
    c->db = dbpool_get(c->m->pool);
    if (!(flags & NO_AUTH) && auth_principal(req, c->db, &c->p) < 0)
        return -1;
    if ((flags & NEED_BODY) && read_body(c) < 0)
        return -1;
    return 0;
}

static int
txn_begin(CALL *c)
{
    int ret = db_begin(c->db);

    if (ret < 0) {
        reply_db(c, "begin", ret);
        return -1;
    }
    c->in_txn = 1;
    return 0;
}

static int
txn_commit(CALL *c)
{
    int ret = db_commit(c->db);

    c->in_txn = 0;
    if (ret < 0) {
        reply_db(c, "commit", ret);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- fields */

/* Fields of the body that are not in allowed[] (NULL-terminated) are errors. */
static void
check_known(CALL *c, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach(c->body, key, v) {
        int known = 0;

        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known)
            field_error(c, key, "is not a known field");
    }
}

/* A string field of 1 to max bytes: NULL when absent or null (an error when required)
 * or invalid (error added). Passwords take any character but NUL. */
static const char *
field_string(CALL *c, const char *name, int required, size_t max)
{
    json_t *v = json_object_get(c->body, name);
    const char *s;
    size_t len;

    if (v == NULL || json_is_null(v)) {
        if (required)
            field_error(c, name, "is required");
        return NULL;
    }
    if (!json_is_string(v)) {
        field_error(c, name, "must be a string");
        return NULL;
    }
    s = json_string_value(v);
    len = json_string_length(v);
    if (strlen(s) != len) {
        field_error(c, name, "must not contain NUL characters");
        return NULL;
    }
    if (len == 0 || len > max) {
        field_error(c, name, "must be 1 to %zu bytes long", max);
        return NULL;
    }
    return s;
}

/* field_string() without control characters (names, addresses, reasons). */
static const char *
field_text(CALL *c, const char *name, int required, size_t max)
{
    const char *s = field_string(c, name, required, max);

    for (size_t i = 0; s && s[i]; i++)
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            field_error(c, name, "must not contain control characters");
            return NULL;
        }
    return s;
}

/* A name-like field checked for presence and form; NULL when absent or invalid. */
static const char *
field_name(CALL *c, const char *name, int required)
{
    return field_text(c, name, required, NAME_MAX_BYTES);
}

static int
time_zone_ok(const char *tz)
{
    if (!isalpha((unsigned char) tz[0]) || strstr(tz, "..") || strstr(tz, "//"))
        return 0;
    return strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") == strlen(tz);
}

static const char *
field_time_zone(CALL *c)
{
    const char *tz = field_string(c, "time_zone", 0, TZ_MAX_BYTES);

    if (tz && !time_zone_ok(tz)) {
        field_error(c, "time_zone", "must be a time zone name such as UTC or Europe/Berlin");
        return NULL;
    }
    return tz;
}

static int
email_ok(const char *email)
{
    const char *at = strrchr(email, '@');

    return at && at != email && at[1] && !strchr(email, ' ');
}

static char *
lowercase(const char *s)
{
    char *out = mem_strdup(s);

    for (char *p = out; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return out;
}

/* ---------------------------------------------------------------- JSON of rows */

static json_t *
jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;

    return v ? v : json_null();
}

static json_t *
user_json(const AUTH_PRINCIPAL *p)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:b}", "uuid", jstr(p->uuid), "email", jstr(p->email),
                     "first_name", jstr(p->first_name), "last_name", jstr(p->last_name), "admin", p->is_admin);
}

/* An organization row (enum org_col) as JSON, with the principal's role. */
static json_t *
org_json(const DB_RESULT *res, size_t row, AUTH_ROLE role)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:b, s:o, s:s, s:o, s:o}",
                     "uuid", jstr(db_result_get(res, row, ORG_COL_UUID)), "name", jstr(db_result_get(res, row, ORG_COL_NAME)),
                     "permalink", jstr(db_result_get(res, row, ORG_COL_PERMALINK)),
                     "time_zone", jstr(db_result_get(res, row, ORG_COL_TIME_ZONE)),
                     "suspended", atoi(db_result_get(res, row, ORG_COL_SUSPENDED)) != 0,
                     "suspension_reason", jstr(db_result_get(res, row, ORG_COL_SUSPENSION_REASON)),
                     "role", auth_role_name(role), "created_at", jstr(db_result_get(res, row, ORG_COL_CREATED)),
                     "updated_at", jstr(db_result_get(res, row, ORG_COL_UPDATED)));
}

static json_t *
server_json(const SERVER_DETAILS *d, const char *org_permalink)
{
    json_t *o = json_object();

    json_object_set_new(o, "uuid", jstr(d->uuid));
    json_object_set_new(o, "name", jstr(d->name));
    json_object_set_new(o, "permalink", jstr(d->permalink));
    json_object_set_new(o, "organization", jstr(org_permalink));
    json_object_set_new(o, "mode", jstr(d->mode));
    json_object_set_new(o, "token", jstr(d->token));
    json_object_set_new(o, "send_limit", d->send_limit >= 0 ? json_integer(d->send_limit) : json_null());
    json_object_set_new(o, "allow_sender", json_boolean(d->allow_sender));
    json_object_set_new(o, "spam_threshold", json_real(d->spam_threshold));
    json_object_set_new(o, "spam_failure_threshold", json_real(d->spam_failure_threshold));
    json_object_set_new(o, "outbound_spam_threshold",
                        d->has_outbound_spam_threshold ? json_real(d->outbound_spam_threshold) : json_null());
    json_object_set_new(o, "raw_message_retention_days", json_integer(d->raw_message_retention_days));
    json_object_set_new(o, "raw_message_retention_size", json_integer(d->raw_message_retention_size));
    json_object_set_new(o, "message_retention_days", json_integer(d->message_retention_days));
    json_object_set_new(o, "suspended", json_boolean(d->suspended_at[0] != '\0'));
    json_object_set_new(o, "suspended_at", d->suspended_at[0] ? jstr(d->suspended_at) : json_null());
    json_object_set_new(o, "created_at", jstr(d->created_at));
    json_object_set_new(o, "updated_at", jstr(d->updated_at));
    return o;
}

/* ---------------------------------------------------------------- organizations: lookup */

/* The organization of path argument 0 with the principal's role, which must be at least
 * need. 0 with *o (o->json set; json_decref it), -1 when answered: 404 for no such live
 * organization and for no role in it, 403 Forbidden for a role below need. */
static int
load_org(CALL *c, AUTH_ROLE need, ORG *o)
{
    const char *permalink = http_path_arg(c->req, 0);
    DB_RESULT *res = NULL;
    int ret;

    memset(o, 0, sizeof(*o));
    ret = org_get(c->db, permalink, &res);
    if (ret < 0) {
        db_result_free(res);
        reply_db(c, "organization lookup", ret);
        return -1;
    }
    if (ret > 0) {
        o->id = strtoull(db_result_get(res, 0, ORG_COL_ID), NULL, 10);
        ret = auth_org_role(c->db, &c->p, o->id, &o->role);
        if (ret < 0) {
            db_result_free(res);
            reply_db(c, "role lookup", ret);
            return -1;
        }
    }
    if (ret == 0 || o->role == AUTH_ROLE_NONE) {
        db_result_free(res);
        reply_not_found(c, "organization");
        return -1;
    }
    o->json = org_json(res, 0, o->role);
    db_result_free(res);
    if (o->role < need) {
        char *message = buf_asprintf("Your role in this organization (%s) does not allow this; it needs %s.",
                                     auth_role_name(o->role), auth_role_name(need));

        json_decref(o->json);
        o->json = NULL;
        reply_forbidden(c, message);
        mem_free(message);
        return -1;
    }
    return 0;
}

/* Re-reads organization id as JSON after a change. NULL on a database error (answered). */
static json_t *
reload_org(CALL *c, unsigned long long id, AUTH_ROLE role)
{
    DB_RESULT *res = NULL;
    json_t *o = NULL;
    int ret = org_get_by_id(c->db, id, &res);

    if (ret > 0)
        o = org_json(res, 0, role);
    else
        reply_db(c, "organization reload", ret < 0 ? ret : DB_ERR_PERM);
    db_result_free(res);
    return o;
}

/* ---------------------------------------------------------------- sessions */

void
mgmt_v2_session_create(HTTP_REQUEST *req, void *arg)
{
    CALL c;
    const char *email, *password;
    static const char *const known[] = {"email", "password", NULL};

    if (call_begin(&c, req, arg, NEED_BODY | NO_AUTH) == 0) {
        check_known(&c, known);
        email = field_text(&c, "email", 1, EMAIL_MAX_BYTES);
        password = field_string(&c, "password", 1, PASSWORD_MAX_LENGTH);
        if (has_errors(&c))
            reply_invalid(&c);
        else if (auth_login(req, c.db, email, password, &c.p) == 0)
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:s, s:s, s:s}", "user", user_json(&c.p), "via", "session",
                                                "csrf_token", c.p.csrf_token, "expires_at", c.p.expires_at));
    }
    call_end(&c);
}

void
mgmt_v2_session_get(HTTP_REQUEST *req, void *arg)
{
    CALL c;

    if (call_begin(&c, req, arg, 0) == 0) {
        json_t *data = json_pack("{s:o, s:s}", "user", user_json(&c.p), "via",
                                 c.p.via == AUTH_VIA_SESSION ? "session" : "token");

        if (c.p.via == AUTH_VIA_SESSION) {
            json_object_set_new(data, "csrf_token", json_string(c.p.csrf_token));
            json_object_set_new(data, "expires_at", json_string(c.p.expires_at));
        }
        reply_ok(&c, MHD_HTTP_OK, data);
    }
    call_end(&c);
}

void
mgmt_v2_session_delete(HTTP_REQUEST *req, void *arg)
{
    CALL c;
    int ret;

    if (call_begin(&c, req, arg, 0) == 0) {
        if (c.p.via != AUTH_VIA_SESSION)
            reply_fail(&c, MHD_HTTP_BAD_REQUEST, "NotASession",
                       "A bearer token is not a session; revoke it with DELETE /api/v2/user/tokens/{uuid}.");
        else if ((ret = auth_logout(req, c.db, &c.p)) < 0)
            reply_db(&c, "logout", ret);
        else
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1));
    }
    call_end(&c);
}

/* ---------------------------------------------------------------- personal API tokens */

void
mgmt_v2_tokens_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", NULL};
    char secret[AUTH_API_TOKEN_LEN + 1], uuid[37];
    const char *name;
    json_t *list;
    CALL c;
    int ret;

    if (call_begin(&c, req, arg, NEED_BODY) == 0) {
        check_known(&c, known);
        name = field_name(&c, "name", 1);
        if (has_errors(&c)) {
            reply_invalid(&c);
        } else if ((ret = auth_token_create(c.db, &c.p, name, secret, uuid)) < 0) {
            reply_db(&c, "token create", ret);
        } else if ((ret = auth_token_list(c.db, c.p.user_id, uuid, &list)) <= 0) {
            json_decref(list);
            reply_db(&c, "token reload", ret < 0 ? ret : DB_ERR_PERM);
        } else {
            json_t *t = json_incref(json_array_get(list, 0));

            json_decref(list);
            json_object_set_new(t, "token", json_string(secret));
            explicit_bzero(secret, sizeof(secret));
            msg_info("user %llu: created API token %s", c.p.user_id, uuid);
            reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "token", t));
        }
    }
    call_end(&c);
}

void
mgmt_v2_tokens_list(HTTP_REQUEST *req, void *arg)
{
    json_t *list;
    CALL c;
    int ret;

    if (call_begin(&c, req, arg, 0) == 0) {
        if ((ret = auth_token_list(c.db, c.p.user_id, NULL, &list)) < 0)
            reply_db(&c, "token list", ret);
        else
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "tokens", list));
    }
    call_end(&c);
}

void
mgmt_v2_tokens_delete(HTTP_REQUEST *req, void *arg)
{
    const char *uuid = http_path_arg(req, 0);
    CALL c;
    int ret;

    if (call_begin(&c, req, arg, 0) == 0) {
        if ((ret = auth_token_revoke(c.db, c.p.user_id, uuid)) < 0)
            reply_db(&c, "token revoke", ret);
        else if (ret == 0)
            reply_not_found(&c, "API token");
        else {
            msg_info("user %llu: revoked API token %s", c.p.user_id, uuid);
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:s, s:b}", "uuid", uuid, "deleted", 1));
        }
    }
    call_end(&c);
}

/* ---------------------------------------------------------------- organizations */

void
mgmt_v2_orgs_list(HTTP_REQUEST *req, void *arg)
{
    DB_RESULT *res = NULL;
    CALL c;
    int ret;

    if (call_begin(&c, req, arg, 0) == 0) {
        ret = org_list_for_user(c.db, c.p.user_id, c.p.is_admin, &res);
        if (ret < 0) {
            reply_db(&c, "organization list", ret);
        } else {
            json_t *list = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++) {
                AUTH_ROLE role = AUTH_ROLE_OWNER;

                if (!c.p.is_admin && (db_result_get(res, i, ORG_COL_ROLE) == NULL
                                      || auth_role_parse(db_result_get(res, i, ORG_COL_ROLE), &role) < 0))
                    continue;
                json_array_append_new(list, org_json(res, i, role));
            }
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "organizations", list));
        }
        db_result_free(res);
    }
    call_end(&c);
}

void
mgmt_v2_orgs_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "permalink", "time_zone", NULL};
    const char *name, *permalink, *tz, *why;
    unsigned long long id = 0;
    char *error = NULL;
    json_t *o;
    CALL c;
    int ret;

    if (call_begin(&c, req, arg, NEED_BODY) != 0)
        goto out;
    check_known(&c, known);
    name = field_name(&c, "name", 1);
    permalink = field_string(&c, "permalink", 1, 64);
    tz = field_time_zone(&c);
    if (permalink && !org_permalink_ok(permalink, &why))
        field_error(&c, "permalink", "%s", why);
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    if (txn_begin(&c) < 0)
        goto out;
    ret = org_create(c.db, name, permalink, &id, &error);
    if (ret == 0 && db_errno(c.db) == DB_ER_DUP_ENTRY) {
        field_error(&c, "permalink", "is already taken");
        http_reply_json(req, MHD_HTTP_CONFLICT, json_pack("{s:s, s:{s:s, s:s, s:O}}", "status", "error", "data",
                                                          "code", "PermalinkTaken", "message",
                                                          "An organization with this permalink exists.", "errors", c.errors));
        goto out;
    }
    if (ret == 0) {
        field_error(&c, "organization", "%s", error);
        reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        reply_db(&c, "organization create", ret);
        goto out;
    }
    if ((ret = org_set_creator(c.db, id, c.p.user_id, tz)) < 0) {
        reply_db(&c, "organization owner", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created organization %s", c.p.user_id, permalink);
    if ((o = reload_org(&c, id, AUTH_ROLE_OWNER)) != NULL)
        reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "organization", o));
out:
    mem_free(error);
    call_end(&c);
}

void
mgmt_v2_org_get(HTTP_REQUEST *req, void *arg)
{
    CALL c;
    ORG o;

    if (call_begin(&c, req, arg, 0) == 0 && load_org(&c, AUTH_ROLE_READONLY, &o) == 0)
        reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "organization", o.json));
    call_end(&c);
}

/* A boolean field: 1/0, or -1 when absent or invalid (error added). */
static int
field_bool(CALL *c, const char *name)
{
    json_t *v = json_object_get(c->body, name);

    if (v == NULL)
        return -1;
    if (!json_is_boolean(v)) {
        field_error(c, name, "must be true or false");
        return -1;
    }
    return json_is_true(v);
}

void
mgmt_v2_org_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "time_zone", "suspended", "suspension_reason", NULL};
    const char *name, *tz, *reason;
    json_t *fresh;
    int suspended, ret;
    CALL c;
    ORG o = {0};

    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_org(&c, AUTH_ROLE_ADMIN, &o) != 0)
        goto out;
    if ((json_object_get(c.body, "suspended") || json_object_get(c.body, "suspension_reason")) && !c.p.is_admin) {
        reply_forbidden(&c, "Only installation administrators suspend or unsuspend organizations.");
        goto out;
    }
    check_known(&c, known);
    if (json_object_get(c.body, "permalink"))
        field_error(&c, "permalink", "cannot be changed");
    name = field_name(&c, "name", 0);
    tz = field_time_zone(&c);
    suspended = field_bool(&c, "suspended");
    reason = field_text(&c, "suspension_reason", 0, 1000);
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    if (txn_begin(&c) < 0)
        goto out;
    ret = org_update(c.db, o.id, name, tz, suspended, reason);
    if (ret < 0) {
        reply_db(&c, "organization update", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    if ((fresh = reload_org(&c, o.id, o.role)) != NULL)
        reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "organization", fresh));
out:
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_org_delete(HTTP_REQUEST *req, void *arg)
{
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) == 0 && load_org(&c, AUTH_ROLE_OWNER, &o) == 0) {
        ret = org_delete(c.db, o.id);
        if (ret < 0) {
            reply_db(&c, "organization delete", ret);
        } else {
            msg_info("user %llu: deleted organization %s", c.p.user_id, http_path_arg(req, 0));
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:O, s:b}", "uuid", json_object_get(o.json, "uuid"), "deleted", 1));
        }
    }
    json_decref(o.json);
    call_end(&c);
}

/* ---------------------------------------------------------------- members */

/* A member row (enum org_member_col) as JSON. */
static json_t *
member_json(const DB_RESULT *res, size_t row)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "uuid", jstr(db_result_get(res, row, ORG_MEMBER_COL_UUID)),
                     "email", jstr(db_result_get(res, row, ORG_MEMBER_COL_EMAIL)),
                     "first_name", jstr(db_result_get(res, row, ORG_MEMBER_COL_FIRST_NAME)),
                     "last_name", jstr(db_result_get(res, row, ORG_MEMBER_COL_LAST_NAME)),
                     "role", jstr(db_result_get(res, row, ORG_MEMBER_COL_ROLE)),
                     "member_since", jstr(db_result_get(res, row, ORG_MEMBER_COL_SINCE)));
}

/* The member of org named by path argument 1 (a user uuid or e-mail address). 1 found
 * (*res_r holds the row; *user_id_r, *role_r), 0 none (404 answered), -1 answered. */
static int
load_member(CALL *c, const ORG *o, DB_RESULT **res_r, unsigned long long *user_id_r, AUTH_ROLE *role_r)
{
    const char *who = http_path_arg(c->req, 1);
    int ret;

    *res_r = NULL;
    if (auth_uuid_ok(who)) {
        ret = org_member_by_uuid(c->db, o->id, who, res_r);
    } else if (strchr(who, '@')) {
        char *email = lowercase(who);

        ret = org_member_by_email(c->db, o->id, email, res_r);
        mem_free(email);
    } else {
        ret = 0;
    }
    if (ret < 0) {
        reply_db(c, "member lookup", ret);
        return -1;
    }
    if (ret == 0 || auth_role_parse(db_result_get(*res_r, 0, ORG_MEMBER_COL_ROLE), role_r) < 0) {
        db_result_free(*res_r);
        *res_r = NULL;
        reply_not_found(c, "member");
        return 0;
    }
    *user_id_r = strtoull(db_result_get(*res_r, 0, ORG_MEMBER_COL_USER_ID), NULL, 10);
    return 1;
}

static void
reply_last_owner(CALL *c)
{
    reply_fail(c, MHD_HTTP_CONFLICT, "LastOwner",
               "An organization keeps at least one owner: make someone else owner first.");
}

/* Re-reads a member as JSON; NULL after answering. */
static json_t *
reload_member(CALL *c, unsigned long long org_id, unsigned long long user_id)
{
    DB_RESULT *res = NULL;
    json_t *m = NULL;
    int ret = org_member_by_user(c->db, org_id, user_id, &res);

    if (ret > 0)
        m = member_json(res, 0);
    else
        reply_db(c, "member reload", ret < 0 ? ret : DB_ERR_PERM);
    db_result_free(res);
    return m;
}

void
mgmt_v2_members_list(HTTP_REQUEST *req, void *arg)
{
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) == 0 && load_org(&c, AUTH_ROLE_READONLY, &o) == 0) {
        ret = org_members(c.db, o.id, &res);
        if (ret < 0) {
            reply_db(&c, "member list", ret);
        } else {
            json_t *list = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++)
                json_array_append_new(list, member_json(res, i));
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "members", list));
        }
        db_result_free(res);
    }
    json_decref(o.json);
    call_end(&c);
}

/* The role field: 0 with *role_r, -1 when absent or invalid (error added). */
static int
field_role(CALL *c, AUTH_ROLE *role_r)
{
    const char *s = field_string(c, "role", 1, 16);

    if (s && auth_role_parse(s, role_r) < 0)
        field_error(c, "role", "must be owner, admin, member or readonly");
    return s && auth_role_parse(s, role_r) == 0 ? 0 : -1;
}

void
mgmt_v2_members_add(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"email", "role", NULL};
    unsigned long long user_id = 0;
    const char *email;
    char *lower = NULL;
    AUTH_ROLE role = AUTH_ROLE_MEMBER;
    json_t *m;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_org(&c, AUTH_ROLE_ADMIN, &o) != 0)
        goto out;
    check_known(&c, known);
    email = field_text(&c, "email", 1, EMAIL_MAX_BYTES);
    if (email && !email_ok(email))
        field_error(&c, "email", "must be an e-mail address");
    field_role(&c, &role);
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    if (role == AUTH_ROLE_OWNER && o.role < AUTH_ROLE_OWNER) {
        reply_forbidden(&c, "Only owners make owners.");
        goto out;
    }
    lower = lowercase(email);
    ret = user_id_by_email(c.db, lower, &user_id);
    if (ret < 0) {
        reply_db(&c, "user lookup", ret);
        goto out;
    }
    if (ret == 0) {
        field_error(&c, "email", "no user has this address (invitations come with a later version)");
        reply_invalid(&c);
        goto out;
    }
    if (txn_begin(&c) < 0)
        goto out;
    ret = org_member_add(c.db, o.id, user_id, auth_role_name(role));
    if (ret == 0) {
        reply_fail(&c, MHD_HTTP_CONFLICT, "AlreadyMember", "This user is already a member; change the role with PATCH.");
        goto out;
    }
    if (ret >= 0)
        ret = org_refresh_owner(c.db, o.id);
    if (ret < 0) {
        reply_db(&c, "member add", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: added user %llu to organization %s as %s", c.p.user_id, user_id, http_path_arg(req, 0),
             auth_role_name(role));
    if ((m = reload_member(&c, o.id, user_id)) != NULL)
        reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "member", m));
out:
    mem_free(lower);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_member_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"role", NULL};
    DB_RESULT *res = NULL;
    unsigned long long user_id = 0;
    AUTH_ROLE role = AUTH_ROLE_NONE, current = AUTH_ROLE_NONE;
    json_t *m;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_org(&c, AUTH_ROLE_ADMIN, &o) != 0
        || load_member(&c, &o, &res, &user_id, &current) != 1)
        goto out;
    check_known(&c, known);
    field_role(&c, &role);
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    if ((role == AUTH_ROLE_OWNER || current == AUTH_ROLE_OWNER) && o.role < AUTH_ROLE_OWNER) {
        reply_forbidden(&c, "Only owners make owners or change them.");
        goto out;
    }
    if (txn_begin(&c) < 0)
        goto out;
    if (current == AUTH_ROLE_OWNER && role != AUTH_ROLE_OWNER) {
        if ((ret = org_count_owners(c.db, o.id)) < 0) {
            reply_db(&c, "owner count", ret);
            goto out;
        }
        if (ret <= 1) {
            reply_last_owner(&c);
            goto out;
        }
    }
    ret = org_member_set_role(c.db, o.id, user_id, auth_role_name(role));
    if (ret >= 0)
        ret = org_refresh_owner(c.db, o.id);
    if (ret < 0) {
        reply_db(&c, "member update", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: user %llu is now %s of organization %s", c.p.user_id, user_id, auth_role_name(role),
             http_path_arg(req, 0));
    if ((m = reload_member(&c, o.id, user_id)) != NULL)
        reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "member", m));
out:
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_member_delete(HTTP_REQUEST *req, void *arg)
{
    DB_RESULT *res = NULL;
    unsigned long long user_id = 0;
    AUTH_ROLE current = AUTH_ROLE_NONE;
    CALL c;
    ORG o = {0};
    int ret;

    /* Anyone may leave; removing someone else takes an admin (an owner for an owner). */
    if (call_begin(&c, req, arg, 0) != 0 || load_org(&c, AUTH_ROLE_READONLY, &o) != 0
        || load_member(&c, &o, &res, &user_id, &current) != 1)
        goto out;
    if (user_id != c.p.user_id && (o.role < AUTH_ROLE_ADMIN || (current == AUTH_ROLE_OWNER && o.role < AUTH_ROLE_OWNER))) {
        reply_forbidden(&c, current == AUTH_ROLE_OWNER ? "Only owners remove owners."
                        : "Only admins and owners remove members.");
        goto out;
    }
    if (txn_begin(&c) < 0)
        goto out;
    if (current == AUTH_ROLE_OWNER) {
        if ((ret = org_count_owners(c.db, o.id)) < 0) {
            reply_db(&c, "owner count", ret);
            goto out;
        }
        if (ret <= 1) {
            reply_last_owner(&c);
            goto out;
        }
    }
    ret = org_member_remove(c.db, o.id, user_id);
    if (ret >= 0)
        ret = org_refresh_owner(c.db, o.id);
    if (ret < 0) {
        reply_db(&c, "member delete", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: removed user %llu from organization %s", c.p.user_id, user_id, http_path_arg(req, 0));
    reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", jstr(db_result_get(res, 0, ORG_MEMBER_COL_UUID)), "deleted", 1));
out:
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

/* ---------------------------------------------------------------- servers */

/* The server settings the API takes, in the order they are applied, with who changes
 * them: server_set() knows the first group, server_set_more() the second. */
static const struct {
    const char *name;
    int more;                   /* server_set_more() */
    enum { T_STRING, T_BOOL, T_INT_OR_NULL, T_INT, T_NUMBER, T_NUMBER_OR_NULL } type;
} server_fields[] = {
    {"name", 1, T_STRING},
    {"mode", 0, T_STRING},
    {"send_limit", 0, T_INT_OR_NULL},
    {"allow_sender", 0, T_BOOL},
    {"spam_threshold", 1, T_NUMBER},
    {"spam_failure_threshold", 1, T_NUMBER},
    {"outbound_spam_threshold", 1, T_NUMBER_OR_NULL},
    {"raw_message_retention_days", 1, T_INT},
    {"raw_message_retention_size", 1, T_INT},
    {"message_retention_days", 1, T_INT},
    {"suspended", 0, T_BOOL},
};
#define N_SERVER_FIELDS (sizeof(server_fields) / sizeof(server_fields[0]))

/* Checks the types of the server fields in the body (errors added) and whether the
 * principal may change them. -1 after answering 403 for suspension by a non-admin. */
static int
check_server_fields(CALL *c, int creating)
{
    const char *known[N_SERVER_FIELDS + 2];
    json_t *v0;
    size_t n = 0;

    if (json_object_get(c->body, "suspended") && !c->p.is_admin) {
        reply_forbidden(c, "Only installation administrators suspend or unsuspend servers.");
        return -1;
    }
    for (size_t i = 0; i < N_SERVER_FIELDS; i++)
        known[n++] = server_fields[i].name;
    if (creating)
        known[n++] = "permalink";
    else if (json_object_get(c->body, "permalink"))
        field_error(c, "permalink", "cannot be changed");
    known[n] = NULL;
    check_known(c, known);
    field_name(c, "name", creating);
    for (size_t i = 1; i < N_SERVER_FIELDS; i++) {
        const char *f = server_fields[i].name;
        json_t *v = json_object_get(c->body, f);

        if (v == NULL)
            continue;
        switch (server_fields[i].type) {
        case T_STRING:
            if (!json_is_string(v))
                field_error(c, f, "must be a string");
            break;
        case T_BOOL:
            if (!json_is_boolean(v))
                field_error(c, f, "must be true or false");
            break;
        case T_INT_OR_NULL:
        case T_INT:
            if (!json_is_integer(v) && !(server_fields[i].type == T_INT_OR_NULL && json_is_null(v)))
                field_error(c, f, "must be a whole number%s", server_fields[i].type == T_INT_OR_NULL ? " or null" : "");
            break;
        case T_NUMBER:
        case T_NUMBER_OR_NULL:
            if (!json_is_number(v) && !(server_fields[i].type == T_NUMBER_OR_NULL && json_is_null(v)))
                field_error(c, f, "must be a number%s", server_fields[i].type == T_NUMBER_OR_NULL ? " or null" : "");
            break;
        }
    }
    /* In the API's words rather than server_set()'s (which speaks postgatectl's). */
    if ((v0 = json_object_get(c->body, "mode")) && json_is_string(v0) && strcmp(json_string_value(v0), "Live") != 0
        && strcmp(json_string_value(v0), "Development") != 0)
        field_error(c, "mode", "must be Live or Development");
    if ((v0 = json_object_get(c->body, "send_limit")) && json_is_integer(v0)
        && (json_integer_value(v0) < 0 || json_integer_value(v0) > 4294967295LL))
        field_error(c, "send_limit", "must be a whole number of messages per hour from 0 to 4294967295, or null");
    return 0;
}

/* Applies the server fields of the body to server id (in the caller's transaction).
 * 0 done, 1 some value was refused (errors added), < 0 database error. */
static int
apply_server_fields(CALL *c, unsigned long long id, int creating)
{
    int refused = 0;

    for (size_t i = 0; i < N_SERVER_FIELDS; i++) {
        const char *f = server_fields[i].name;
        json_t *v = json_object_get(c->body, f);
        char text[64], *error = NULL;
        const char *value = text;
        int ret;

        /* At creation server_create() took these already. */
        if (v == NULL || (creating && (strcmp(f, "name") == 0 || strcmp(f, "mode") == 0
                                        || strcmp(f, "send_limit") == 0 || strcmp(f, "allow_sender") == 0)))
            continue;
        if (json_is_null(v))
            value = "none";
        else if (json_is_string(v))
            value = json_string_value(v);
        else if (json_is_boolean(v))
            value = json_is_true(v) ? "true" : "false";
        else if (json_is_integer(v))
            snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            snprintf(text, sizeof(text), "%.17g", json_real_value(v));
        ret = server_fields[i].more ? server_set_more(c->db, id, f, value, &error)
            : server_set(c->db, id, f, value, &error);
        if (ret == 0) {
            /* "send_limit must be ..." reads as "must be ..." under the field's name. */
            const char *msg = error;

            if (strncmp(msg, f, strlen(f)) == 0 && msg[strlen(f)] == ' ')
                msg += strlen(f) + 1;
            field_error(c, f, "%s", msg);
            refused = 1;
        }
        mem_free(error);
        if (ret < 0)
            return ret;
    }
    return refused;
}

/* The server of path argument 1 in org as JSON; NULL after answering (404 or a DB error). */
static json_t *
find_server(CALL *c, const ORG *o, const char *permalink, unsigned long long *id_r)
{
    SERVER_DETAILS *list = NULL;
    json_t *s = NULL;
    int ret = server_details_list(c->db, o->id, permalink, &list);

    if (ret < 0)
        reply_db(c, "server lookup", ret);
    else if (ret == 0)
        reply_not_found(c, "server");
    else {
        s = server_json(&list[0], json_string_value(json_object_get(o->json, "permalink")));
        if (id_r)
            *id_r = list[0].id;
    }
    mem_free(list);
    return s;
}

void
mgmt_v2_servers_list(HTTP_REQUEST *req, void *arg)
{
    SERVER_DETAILS *list = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) == 0 && load_org(&c, AUTH_ROLE_READONLY, &o) == 0) {
        if ((ret = server_details_list(c.db, o.id, NULL, &list)) < 0) {
            reply_db(&c, "server list", ret);
        } else {
            json_t *a = json_array();

            for (int i = 0; i < ret; i++)
                json_array_append_new(a, server_json(&list[i], http_path_arg(req, 0)));
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "servers", a));
        }
    }
    mem_free(list);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_servers_create(HTTP_REQUEST *req, void *arg)
{
    SERVER_SETTINGS s = {.send_limit = -1};
    const char *permalink, *why;
    unsigned long long id = 0;
    char *error = NULL;
    json_t *v, *server;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_org(&c, AUTH_ROLE_ADMIN, &o) != 0
        || check_server_fields(&c, 1) != 0)
        goto out;
    permalink = field_string(&c, "permalink", 1, 64);
    if (permalink && !org_permalink_ok(permalink, &why))
        field_error(&c, "permalink", "%s", why);
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    s.name = json_string_value(json_object_get(c.body, "name"));
    s.permalink = permalink;
    s.development = (v = json_object_get(c.body, "mode")) && strcmp(json_string_value(v), "Development") == 0;
    if ((v = json_object_get(c.body, "send_limit")) && json_is_integer(v))
        s.send_limit = json_integer_value(v);
    s.allow_sender = json_is_true(json_object_get(c.body, "allow_sender"));
    if (txn_begin(&c) < 0)
        goto out;
    ret = server_create(c.db, o.id, &s, &id, &error);
    if (ret == 0 && db_errno(c.db) == DB_ER_DUP_ENTRY) {
        field_error(&c, "permalink", "is already taken in this organization");
        http_reply_json(req, MHD_HTTP_CONFLICT, json_pack("{s:s, s:{s:s, s:s, s:O}}", "status", "error", "data",
                                                          "code", "PermalinkTaken", "message",
                                                          "The organization has a server with this permalink.",
                                                          "errors", c.errors));
        goto out;
    }
    if (ret == 0) {
        field_error(&c, "server", "%s", error);
        reply_invalid(&c);
        goto out;
    }
    if (ret < 0 || (ret = apply_server_fields(&c, id, 1)) < 0) {
        reply_db(&c, "server create", ret);
        goto out;
    }
    if (ret > 0) {
        reply_invalid(&c);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created server %s/%s", c.p.user_id, http_path_arg(req, 0), permalink);
    if ((server = find_server(&c, &o, permalink, NULL)) != NULL)
        reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "server", server));
out:
    mem_free(error);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_server_get(HTTP_REQUEST *req, void *arg)
{
    json_t *server;
    CALL c;
    ORG o = {0};

    if (call_begin(&c, req, arg, 0) == 0 && load_org(&c, AUTH_ROLE_READONLY, &o) == 0
        && (server = find_server(&c, &o, http_path_arg(req, 1), NULL)) != NULL)
        reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "server", server));
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_server_update(HTTP_REQUEST *req, void *arg)
{
    unsigned long long id = 0;
    json_t *server = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    /* The server is looked up before the role is judged too low: a member learns only
     * what GET already tells them. */
    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_org(&c, AUTH_ROLE_READONLY, &o) != 0
        || (server = find_server(&c, &o, http_path_arg(req, 1), &id)) == NULL)
        goto out;
    if (o.role < AUTH_ROLE_ADMIN) {
        char *message = buf_asprintf("Your role in this organization (%s) does not allow this; it needs admin.",
                                     auth_role_name(o.role));

        reply_forbidden(&c, message);
        mem_free(message);
        goto out;
    }
    if (check_server_fields(&c, 0) != 0)
        goto out;
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    if (txn_begin(&c) < 0)
        goto out;
    if ((ret = apply_server_fields(&c, id, 0)) < 0) {
        reply_db(&c, "server update", ret);
        goto out;
    }
    if (ret > 0) {
        reply_invalid(&c);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed server %s/%s", c.p.user_id, http_path_arg(req, 0), http_path_arg(req, 1));
    json_decref(server);
    if ((server = find_server(&c, &o, http_path_arg(req, 1), NULL)) != NULL)
        reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "server", server));
    server = NULL;
out:
    json_decref(server);
    json_decref(o.json);
    call_end(&c);
}

/* ---------------------------------------------------------------- a server's domains */

/* The organization (role at least need) and the server of path arguments 0 and 1.
 * 0 with *o and *server_id_r, -1 when answered (404 also for a server outsiders cannot see). */
static int
load_server(CALL *c, AUTH_ROLE need, ORG *o, unsigned long long *server_id_r)
{
    json_t *server;

    if (load_org(c, need, o) != 0 || (server = find_server(c, o, http_path_arg(c->req, 1), server_id_r)) == NULL)
        return -1;
    json_decref(server);
    return 0;
}

static json_t *
domain_json(CALL *c, const DB_RESULT *res, size_t row)
{
    unsigned long long id = strtoull(db_result_get(res, row, DOMAIN_COL_ID), NULL, 10);
    json_t *keys = json_array();
    DB_RESULT *k = NULL;

    if (domain_dkim_list(c->db, id, &k) >= 0)
        for (size_t i = 0; i < db_result_rows(k); i++)
            json_array_append_new(keys, json_pack("{s:o, s:o, s:o}", "selector", jstr(db_result_get(k, i, 0)),
                                                  "algorithm", jstr(db_result_get(k, i, 1)),
                                                  "state", jstr(db_result_get(k, i, 2))));
    db_result_free(k);
    return json_pack("{s:o, s:o, s:b, s:o, s:o, s:o}", "uuid", jstr(db_result_get(res, row, DOMAIN_COL_UUID)),
                     "name", jstr(db_result_get(res, row, DOMAIN_COL_NAME)),
                     "verified", atoi(db_result_get(res, row, DOMAIN_COL_VERIFIED)) != 0,
                     "verification_method", jstr(db_result_get(res, row, DOMAIN_COL_METHOD)),
                     "dkim_keys", keys, "created_at", jstr(db_result_get(res, row, DOMAIN_COL_CREATED)));
}

/* The domain of path argument 2 as a row of *res_r: 1, or 0/-1 after answering. */
static int
find_domain(CALL *c, unsigned long long server_id, DB_RESULT **res_r)
{
    char name[254];
    int ret;

    *res_r = NULL;
    if (!domain_name_normalize(http_path_arg(c->req, 2), name, sizeof(name))) {
        reply_not_found(c, "domain");
        return 0;
    }
    if ((ret = domain_server_list(c->db, server_id, name, res_r)) < 0) {
        reply_db(c, "domain lookup", ret);
        return -1;
    }
    if (ret == 0)
        reply_not_found(c, "domain");
    return ret > 0;
}

/* One domain answered with its DNS records. */
static void
reply_domain(CALL *c, const DB_RESULT *res, unsigned status)
{
    json_t *d = domain_json(c, res, 0);
    char *zone = domain_dns_records(c->db, c->req->cfg, strtoull(db_result_get(res, 0, DOMAIN_COL_ID), NULL, 10));

    if (zone == NULL) {
        json_decref(d);
        reply_db(c, "domain DNS records", DB_ERR_TEMP);
        return;
    }
    json_object_set_new(d, "dns_records", json_string(zone));
    mem_free(zone);
    reply_ok(c, status, json_pack("{s:o}", "domain", d));
}

void
mgmt_v2_domains_list(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) == 0 && load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0) {
        if ((ret = domain_server_list(c.db, server_id, NULL, &res)) < 0) {
            reply_db(&c, "domain list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++)
                json_array_append_new(a, domain_json(&c, res, i));
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "domains", a));
        }
    }
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_domains_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "ed25519", "verified", NULL};
    DOMAIN_CREATE_ARGS args = {0};
    unsigned long long server_id = 0, id = 0;
    char name[254], *error = NULL;
    DB_RESULT *res = NULL;
    const char *given;
    int verified, ed25519, ret;
    CALL c;
    ORG o = {0};

    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    if (json_is_true(json_object_get(c.body, "verified")) && !c.p.is_admin) {
        reply_forbidden(&c, "Only installation administrators mark domains verified.");
        goto out;
    }
    check_known(&c, known);
    given = field_string(&c, "name", 1, 253);
    if (given && !domain_name_normalize(given, name, sizeof(name)))
        field_error(&c, "name", "must be a domain name such as example.com (letters, digits, inner hyphens, "
                    "at least two labels)");
    verified = field_bool(&c, "verified");
    ed25519 = field_bool(&c, "ed25519");
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    if ((ret = domain_server_list(c.db, server_id, name, &res)) < 0) {
        reply_db(&c, "domain lookup", ret);
        goto out;
    }
    db_result_free(res);
    res = NULL;
    if (ret > 0) {
        field_error(&c, "name", "is already a domain of this server");
        http_reply_json(req, MHD_HTTP_CONFLICT, json_pack("{s:s, s:{s:s, s:s, s:O}}", "status", "error", "data",
                                                          "code", "DomainTaken", "message",
                                                          "The server has a domain with this name.", "errors", c.errors));
        goto out;
    }
    /* domain_create() runs its own transaction: the domain and its keys, or nothing. */
    args.server_id = server_id;
    args.name = name;
    args.verified = verified > 0;
    args.ed25519 = ed25519 > 0;
    ret = domain_create(c.db, c.m->seal, req->cfg, &args, &id, &error);
    if (ret == 0) {
        field_error(&c, "name", "%s", error);
        reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        msg_warn("%s %s: domain create: %s", req->method, req->path, error ? error : "");
        reply_db(&c, "domain create", ret);
        goto out;
    }
    msg_info("user %llu: created domain %s of server %s/%s", c.p.user_id, name, http_path_arg(req, 0),
             http_path_arg(req, 1));
    if ((ret = domain_server_list(c.db, server_id, name, &res)) <= 0)
        reply_db(&c, "domain reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        reply_domain(&c, res, MHD_HTTP_CREATED);
out:
    mem_free(error);
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_domain_get(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};

    if (call_begin(&c, req, arg, 0) == 0 && load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0
        && find_domain(&c, server_id, &res) == 1)
        reply_domain(&c, res, MHD_HTTP_OK);
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_domain_delete(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) != 0 || load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_domain(&c, server_id, &res) != 1 || txn_begin(&c) < 0)
        goto out;
    ret = domain_server_delete(c.db, server_id, strtoull(db_result_get(res, 0, DOMAIN_COL_ID), NULL, 10));
    if (ret < 0) {
        reply_db(&c, "domain delete", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted domain %s of server %s/%s", c.p.user_id, db_result_get(res, 0, DOMAIN_COL_NAME),
             http_path_arg(req, 0), http_path_arg(req, 1));
    reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:o, s:b}", "uuid", jstr(db_result_get(res, 0, DOMAIN_COL_UUID)),
                                        "name", jstr(db_result_get(res, 0, DOMAIN_COL_NAME)), "deleted", 1));
out:
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

/* ---------------------------------------------------------------- a server's credentials */

static json_t *
credential_json(const DB_RESULT *res, size_t row)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "uuid", jstr(db_result_get(res, row, CRED_COL_UUID)),
                     "type", jstr(db_result_get(res, row, CRED_COL_TYPE)), "name", jstr(db_result_get(res, row, CRED_COL_NAME)),
                     "key_prefix", jstr(db_result_get(res, row, CRED_COL_KEY_PREFIX)),
                     "network", jstr(db_result_get(res, row, CRED_COL_NETWORK)),
                     "hold", atoi(db_result_get(res, row, CRED_COL_HOLD)) != 0,
                     "last_used_at", jstr(db_result_get(res, row, CRED_COL_LAST_USED)),
                     "created_at", jstr(db_result_get(res, row, CRED_COL_CREATED)));
}

/* The credential of path argument 2 as a row of *res_r: 1, or 0/-1 after answering. */
static int
find_credential(CALL *c, unsigned long long server_id, DB_RESULT **res_r)
{
    const char *uuid = http_path_arg(c->req, 2);
    int ret;

    *res_r = NULL;
    if (!auth_uuid_ok(uuid)) {
        reply_not_found(c, "credential");
        return 0;
    }
    if ((ret = credential_server_list(c->db, server_id, uuid, 0, res_r)) < 0) {
        reply_db(c, "credential lookup", ret);
        return -1;
    }
    if (ret == 0)
        reply_not_found(c, "credential");
    return ret > 0;
}

void
mgmt_v2_credentials_list(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) == 0 && load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0) {
        if ((ret = credential_server_list(c.db, server_id, NULL, 0, &res)) < 0) {
            reply_db(&c, "credential list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++)
                json_array_append_new(a, credential_json(res, i));
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "credentials", a));
        }
    }
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_credentials_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"type", "name", "network", "hold", NULL};
    unsigned long long server_id = 0, id = 0;
    char key[CREDENTIAL_KEY_LEN + 1] = "", *error = NULL;
    const char *type, *name, *network;
    DB_RESULT *res = NULL;
    int hold, ret;
    CALL c;
    ORG o = {0};

    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    check_known(&c, known);
    type = field_string(&c, "type", 1, 16);
    if (type && strcmp(type, "SMTP") != 0 && strcmp(type, "API") != 0 && strcmp(type, "SMTP-IP") != 0) {
        field_error(&c, "type", "must be SMTP, API or SMTP-IP");
        type = NULL;
    }
    name = field_name(&c, "name", 1);
    network = field_string(&c, "network", type && strcmp(type, "SMTP-IP") == 0, 64);
    if (network && type && strcmp(type, "SMTP-IP") != 0) {
        field_error(&c, "network", "is only for SMTP-IP credentials");
    } else if (network) {
        unsigned char start[NETADDR_LEN], end[NETADDR_LEN];
        int prefix;

        if (netaddr_parse_network(network, start, end, &prefix) < 0)
            field_error(&c, "network", "must be an IP address or network such as 192.0.2.0/24 or 2001:db8::/32");
    }
    hold = field_bool(&c, "hold");
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    if (txn_begin(&c) < 0)
        goto out;
    ret = credential_create(c.db, c.m->seal, server_id, type, name, network, hold > 0, key, &id, &error);
    if (ret == 0) {
        field_error(&c, strcmp(type, "SMTP-IP") == 0 ? "network" : "type", "%s", error);
        reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        reply_db(&c, "credential create", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created %s credential %llu of server %s/%s", c.p.user_id, type, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    if ((ret = credential_server_list(c.db, server_id, NULL, id, &res)) <= 0) {
        reply_db(&c, "credential reload", ret < 0 ? ret : DB_ERR_PERM);
    } else {
        json_t *cred = credential_json(res, 0);

        /* The key, shown this once. */
        if (key[0])
            json_object_set_new(cred, "key", json_string(key));
        if (strcmp(type, "SMTP") == 0) {
            char *user = buf_asprintf("%s/%s", http_path_arg(req, 0), http_path_arg(req, 1));

            json_object_set_new(cred, "cram_md5_username", json_string(user));
            mem_free(user);
        }
        reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "credential", cred));
    }
out:
    explicit_bzero(key, sizeof(key));
    mem_free(error);
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_credential_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "hold", NULL};
    unsigned long long server_id = 0, id;
    DB_RESULT *res = NULL;
    const char *name;
    int hold, ret;
    CALL c;
    ORG o = {0};

    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_credential(&c, server_id, &res) != 1)
        goto out;
    check_known(&c, known);
    name = field_name(&c, "name", 0);
    hold = field_bool(&c, "hold");
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    id = strtoull(db_result_get(res, 0, CRED_COL_ID), NULL, 10);
    if (txn_begin(&c) < 0)
        goto out;
    if ((ret = credential_update(c.db, id, name, hold)) < 0) {
        reply_db(&c, "credential update", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed credential %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    db_result_free(res);
    res = NULL;
    if ((ret = credential_server_list(c.db, server_id, NULL, id, &res)) <= 0)
        reply_db(&c, "credential reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "credential", credential_json(res, 0)));
out:
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

void
mgmt_v2_credential_delete(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id;
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) != 0 || load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_credential(&c, server_id, &res) != 1 || txn_begin(&c) < 0)
        goto out;
    id = strtoull(db_result_get(res, 0, CRED_COL_ID), NULL, 10);
    if ((ret = credential_delete(c.db, server_id, id)) < 0) {
        reply_db(&c, "credential delete", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted credential %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", jstr(db_result_get(res, 0, CRED_COL_UUID)), "deleted", 1));
out:
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}
