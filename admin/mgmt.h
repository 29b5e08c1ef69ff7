/*
 * mgmt.h -- what the files of the management API v2 share (admin/mgmt_*.c): one call's
 * state (MGMT_CALL), JSON answers, field checks that collect per-field errors, transactions,
 * and the lookups that turn path arguments into an organization or a server the
 * principal may see. Internal to postgate-admin; the routes are in mgmt_v2.h.
 *
 * Each handler: mgmt_call_begin() finds the principal (auth.c: 401, CSRF 403, 503) and, for
 * writes, reads the JSON body (415, 400 InvalidJSON / InvalidUTF8); mgmt_load_org() or
 * mgmt_load_server() turn the path into rows and the principal's role (404 for non-members,
 * 403 Forbidden when the role is too low); fields are checked with per-field errors
 * collected in c->errors (400 ValidationError); the change runs in one transaction; the
 * handler answers exactly once and ends with mgmt_call_end().
 *
 * A server's child objects are described once each (MGMT_RESOURCE: names, a loader of
 * lib/mail's typed rows, their JSON, how one is deleted); mgmt_list(), mgmt_get() and
 * mgmt_delete() are their list/get/delete handlers, and mgmt_find()/mgmt_reply_again()
 * serve the files' own create and update handlers. Postal's API v1 (api_v1.c) runs its
 * calls through mgmt_call_open()/mgmt_call_end() too.
 *
 * Must never: answer a non-member anything but 404 for an organization's paths, or put
 * input into SQL text (there is no SQL in admin/: lib/mail modules own the tables).
 */
#ifndef PG_ADMIN_MGMT_H
#define PG_ADMIN_MGMT_H

#include <stddef.h>

#include <jansson.h>

#include "auth.h"
#include "http.h"
#include "mail/db.h"
#include "mail/org.h"
#include "mail/server.h"
#include "mgmt_v2.h"
#include "util/password.h"

#define MGMT_NAME_MAX 255
#define MGMT_EMAIL_MAX 255
#define MGMT_TZ_MAX 64

/* MGMT_PARTIAL: a session whose sign-in is not complete is taken too (auth_principal_partial). */
enum { MGMT_NEED_BODY = 1, MGMT_NO_AUTH = 2, MGMT_PARTIAL = 4 };

/* One management call. */
typedef struct mgmt_call {
    HTTP_REQUEST *req;
    MGMT_V2 *m;
    DB *db;
    AUTH_PRINCIPAL p;
    json_t *body;               /* the JSON object of a write */
    json_t *errors;             /* field -> [messages] */
    const char *password_rule;  /* a new password refused by the policy: its rule's name */
    const char *password_reason;        /* ... and its sentence (both the policy's) */
    int in_txn;
    unsigned long long db_changes;  /* db_changes(db) when the call opened */
    /* An organization's own objects (…/organizations/{org}/domains, not a server's): the
     * organization, set by mgmt_load_owner(); 0 on a server's paths. */
    unsigned long long owner_org_id;
} MGMT_CALL;

/* An organization as the path names it, with the principal's role in it. */
typedef struct mgmt_org {
    unsigned long long id;
    AUTH_ROLE role;
    const ORG_ROW *row;         /* in rows */
    DB_ROWS rows;
} MGMT_ORG;


void mgmt_reply_ok(MGMT_CALL *c, unsigned status, json_t *data);

void mgmt_reply_fail(MGMT_CALL *c, unsigned status, const char *code, const char *message);

/* 400 with the collected per-field errors; when the password policy refused a new password,
 * also "rule" (its name, PWPOLICY_RULE_*) and its sentence as the message. */
void mgmt_reply_invalid(MGMT_CALL *c);

/* A database failure: 503 when retrying may help, else 500. */
void mgmt_reply_db(MGMT_CALL *c, const char *what, int ret);

void mgmt_reply_not_found(MGMT_CALL *c, const char *what);

void mgmt_reply_forbidden(MGMT_CALL *c, const char *message);

__attribute__((format(printf, 3, 4)))
void mgmt_field_error(MGMT_CALL *c, const char *field, const char *fmt, ...);

int mgmt_has_errors(const MGMT_CALL *c);

int mgmt_is_json_type(const char *ct);

/* The body as a JSON object; -1 after answering 415 or 400. */
int mgmt_read_body(MGMT_CALL *c);

void mgmt_call_end(MGMT_CALL *c);

/* Starts a call that authenticates by itself (api_v1.c): the request, the handlers' state
 * m and a database handle. mgmt_call_end() ends it. */
void mgmt_call_open(MGMT_CALL *c, HTTP_REQUEST *req, MGMT_V2 *m);

/* mgmt_call_open(), then the principal and (MGMT_NEED_BODY) the JSON body. 0 to go on, -1
 * when already answered (mgmt_call_end() in both cases). */
int mgmt_call_begin(MGMT_CALL *c, HTTP_REQUEST *req, void *arg, int flags);

int mgmt_txn_begin(MGMT_CALL *c);

int mgmt_txn_commit(MGMT_CALL *c);

/* Fields of the body that are not in allowed[] (NULL-terminated) are errors. */
void mgmt_check_known(MGMT_CALL *c, const char *const *allowed);

/* For writes whose fields are all optional: no body at all, or a JSON object. Unknown
 * fields (not in allowed[]) are field errors, answered at once (400) when allowed[] is
 * empty, else left for the caller's mgmt_has_errors(). -1 when answered (415, 400). */
int mgmt_read_optional_body(MGMT_CALL *c, const char *const *allowed);

/* A string field of 1 to max bytes: NULL when absent or null (an error when required)
 * or invalid (error added). Passwords take any character but NUL. */
const char *mgmt_field_string(MGMT_CALL *c, const char *name, int required, size_t max);

/* mgmt_field_string() without control characters (names, addresses, reasons). */
const char *mgmt_field_text(MGMT_CALL *c, const char *name, int required, size_t max);

/* Longest password a body may carry (bytes). */
#define MGMT_PASSWORD_MAX 1024

/* A new password field (mgmt_password.c) the password policy accepts: NULL when absent (an
 * error when required) or refused (the error added, naming the policy's rule for
 * mgmt_reply_invalid()). */
const char *mgmt_field_new_password(MGMT_CALL *c, const char *name, int required);

/* pw's argon2id hash into hash: 0, or -1 logged (the caller answers). */
int mgmt_password_hash(MGMT_CALL *c, const char *pw, char hash[PASSWORD_HASH_MAX]);

/* A name-like field checked for presence and form; NULL when absent or invalid. */
const char *mgmt_field_name(MGMT_CALL *c, const char *name, int required);

int mgmt_time_zone_ok(const char *tz);

const char *mgmt_field_time_zone(MGMT_CALL *c);

char *mgmt_lowercase(const char *s);

json_t *mgmt_jstr(const char *s);

/* What every view of a person shows (a user, an organization member): uuid, email,
 * first_name, last_name; callers add their own fields after these. */
json_t *mgmt_person_json(const char *uuid, const char *email, const char *first_name, const char *last_name);

/* The signed-in user as JSON: mgmt_person_json() and "admin". */
json_t *mgmt_user_json(const AUTH_PRINCIPAL *p);

/* An organization row as JSON, with the principal's role. */
json_t *mgmt_org_json(const ORG_ROW *row, AUTH_ROLE role);

json_t *mgmt_server_json(const SERVER_DETAILS *d, const char *org_permalink);

/* The organization of path argument 0 with the principal's role, which must be at least
 * need. 0 with *o (mgmt_org_free it, also after -1), -1 when answered: 404 for no such live
 * organization and for no role in it, 403 Forbidden for a role below need. */
int mgmt_load_org(MGMT_CALL *c, AUTH_ROLE need, MGMT_ORG *o);

void mgmt_org_free(MGMT_ORG *o);

/* Re-reads organization id as JSON after a change. NULL on a database error (answered). */
json_t *mgmt_reload_org(MGMT_CALL *c, unsigned long long id, AUTH_ROLE role);

/* A boolean field: 1/0, or -1 when absent or invalid (error added). */
int mgmt_field_bool(MGMT_CALL *c, const char *name);

/* The server of path argument 1 in org as JSON; NULL after answering (404 or a DB error). */
json_t *mgmt_find_server(MGMT_CALL *c, const MGMT_ORG *o, const char *permalink, unsigned long long *id_r);

/* The id of server permalink in org: 0 with *id_r, -1 when answered (404, database error). */
int mgmt_server_id(MGMT_CALL *c, const MGMT_ORG *o, const char *permalink, unsigned long long *id_r);

/* The organization (role at least need) and the server of path arguments 0 and 1.
 * 0 with *o and *server_id_r, -1 when answered (404 also for a server outsiders cannot see). */
int mgmt_load_server(MGMT_CALL *c, AUTH_ROLE need, MGMT_ORG *o, unsigned long long *server_id_r);

/* The owner of the path's child objects: a server (…/servers/{server}/…, as
 * mgmt_load_server()), or on …/organizations/{org}/<objects> the organization itself
 * (*server_id_r 0, c->owner_org_id set), whose objects every server of it shares, so
 * changing them needs an organization admin (need member becomes admin). 0 or -1 answered. */
int mgmt_load_owner(MGMT_CALL *c, AUTH_ROLE need, MGMT_ORG *o, unsigned long long *server_id_r);

/* ---- shared by the route, endpoint, webhook, IP pool and suppression files */

/* A whole-number field in [min, max]: 1 with *out, 0 when absent or null, -1 when invalid
 * (error added). */
int mgmt_field_int(MGMT_CALL *c, const char *name, long long min, long long max, long long *out);

/* 1 when url is an absolute http:// or https:// URL with a host, in printable ASCII. */
int mgmt_web_url_ok(const char *url);
/* 1 when a receiver's url (is_url) or host name may be connected to (outaddr.h, with
 * security.outbound_allowed_networks); else 0 with a field error (422). */
int mgmt_outbound_ok(MGMT_CALL *c, const char *field, const char *value, int is_url);

/* 409 {"code", "message"[, the members of extra (taken; may be NULL)][, "errors"]}: the
 * collected field errors are added when there are any. */
void mgmt_reply_conflict(MGMT_CALL *c, const char *code, const char *message, json_t *extra);

/* The query arguments ?before=<id>&limit=<n> of a paginated list (limit 1..max, default
 * def). 0, or -1 after answering 400 ValidationError. */
int mgmt_page_args(MGMT_CALL *c, unsigned long long *before_r, unsigned *limit_r, unsigned def, unsigned max);

/* Path argument n as a positive decimal id: 1 with *id_r, 0 when it is not one. */
int mgmt_path_id(MGMT_CALL *c, size_t n, unsigned long long *id_r);

/* v as a positive decimal id (at most 19 digits, no leading 0): 1 with *id_r, else 0. */
int mgmt_parse_id(const char *v, unsigned long long *id_r);

/* ---- a server's child objects: one descriptor each, generic list/get/delete */

typedef struct mgmt_resource MGMT_RESOURCE;

struct mgmt_resource {
    const char *what;           /* "credential": 404 messages ("There is no such credential."), logs */
    const char *one;            /* the JSON key of one: "credential" */
    const char *many;           /* ... and of a list: "credentials" */
    int kind;                   /* the resource's own (an endpoint's type) */
    size_t size;                /* sizeof one row struct of rows->v */
    size_t id_off;              /* offsetof the row's unsigned long long id */
    size_t uuid_off;            /* ... and of its const char *uuid, for the delete answer */
    /* The rows of an object keyed by UUID in the path (a key that is not a UUID finds
     * nothing): lib/mail's lister, only uuid's when not NULL, only id's when not 0. */
    int (*list)(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows);
    /* ... or the resource's own: the one path key names (none when key is not one), else
     * the one of id (it may give more; the caller picks), else all. The row count, < 0
     * database error. */
    int (*load)(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const char *key,
                unsigned long long id, DB_ROWS *rows);
    json_t *(*json)(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row);
    /* Optional: answers one row with status when that takes more than json() (NULL: json()). */
    void (*reply)(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row, unsigned status);
    /* Optional: 1 when row may go, 0 after answering (409), < 0 database error. */
    int (*may_delete)(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row);
    /* Deletes object id of server_id (lib/mail's): >= 0 done, < 0 database error ... */
    int (*delete_id)(DB *db, unsigned long long server_id, unsigned long long id);
    /* ... or the resource's own way with the row. */
    int (*remove)(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const void *row);
    /* Optional: the data of a delete's answer (NULL: {"uuid": ..., "deleted": true}). */
    json_t *(*deleted)(const void *row);
};

/* Row i of rows, of resource r. */
static inline const void *
mgmt_row(const MGMT_RESOURCE *r, const DB_ROWS *rows, size_t i)
{
    return (const char *) rows->v + i * r->size;
}

/* The object of the path's key (argument 2, or 1 for an organization's own objects) among
 * the owner's, into *rows: 1, or 0/-1 after answering (404, database error). */
int mgmt_find(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, DB_ROWS *rows);

/* Re-reads object key (NULL: id) of server_id after a change and answers it with status. */
void mgmt_reply_again(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const char *key,
                      unsigned long long id, unsigned status);

/* Answers row with status: {"<one>": json} (or r->reply). */
void mgmt_reply_row(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row, unsigned status);

/* GET …/servers/{}/<path>: every row, {"<many>": [...]} (readonly). */
void mgmt_list(HTTP_REQUEST *req, void *arg, const MGMT_RESOURCE *r);

/* GET …/servers/{}/<path>/{}: one row (readonly). */
void mgmt_get(HTTP_REQUEST *req, void *arg, const MGMT_RESOURCE *r);

/* DELETE …/servers/{}/<path>/{}: in one transaction (member). */
void mgmt_delete(HTTP_REQUEST *req, void *arg, const MGMT_RESOURCE *r);

/* The generic handlers of resource desc as prefix_list, prefix_get and prefix_delete. */
#define MGMT_LIST_HANDLER(prefix, desc) \
    static void prefix##_list(HTTP_REQUEST *req, void *arg) { mgmt_list(req, arg, &(desc)); }
#define MGMT_GET_HANDLER(prefix, desc) \
    static void prefix##_get(HTTP_REQUEST *req, void *arg) { mgmt_get(req, arg, &(desc)); }
#define MGMT_DELETE_HANDLER(prefix, desc) \
    static void prefix##_delete(HTTP_REQUEST *req, void *arg) { mgmt_delete(req, arg, &(desc)); }

#endif
