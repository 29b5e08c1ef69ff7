/*
 * mgmt.h -- what the files of the management API v2 share (admin/mgmt_*.c): one call's
 * state (CALL), JSON answers, field checks that collect per-field errors, transactions,
 * and the lookups that turn path arguments into an organization or a server the
 * principal may see. Internal to postgate-admin; the routes are in mgmt_v2.h.
 *
 * Each handler: call_begin() finds the principal (auth.c: 401, CSRF 403, 503) and, for
 * writes, reads the JSON body (415, 400 InvalidJSON / InvalidUTF8); load_org() or
 * load_server() turn the path into rows and the principal's role (404 for non-members,
 * 403 Forbidden when the role is too low); fields are checked with per-field errors
 * collected in c->errors (400 ValidationError); the change runs in one transaction; the
 * handler answers exactly once and ends with call_end().
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
#include "mail/server.h"
#include "mgmt_v2.h"

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


void reply_ok(CALL *c, unsigned status, json_t *data);

void reply_fail(CALL *c, unsigned status, const char *code, const char *message);

/* 400 with the collected per-field errors. */
void reply_invalid(CALL *c);

/* A database failure: 503 when retrying may help, else 500. */
void reply_db(CALL *c, const char *what, int ret);

void reply_not_found(CALL *c, const char *what);

void reply_forbidden(CALL *c, const char *message);

__attribute__((format(printf, 3, 4)))
void field_error(CALL *c, const char *field, const char *fmt, ...);

int has_errors(const CALL *c);

int is_json_type(const char *ct);

/* The body as a JSON object; -1 after answering 415 or 400. */
int read_body(CALL *c);

void call_end(CALL *c);

/* 0 to go on, -1 when already answered (call_end() in both cases). */
int call_begin(CALL *c, HTTP_REQUEST *req, void *arg, int flags);

int txn_begin(CALL *c);

int txn_commit(CALL *c);

/* Fields of the body that are not in allowed[] (NULL-terminated) are errors. */
void check_known(CALL *c, const char *const *allowed);

/* For writes whose fields are all optional: no body at all, or a JSON object. Unknown
 * fields (not in allowed[]) are field errors, answered at once (400) when allowed[] is
 * empty, else left for the caller's has_errors(). -1 when answered (415, 400). */
int read_optional_body(CALL *c, const char *const *allowed);

/* A string field of 1 to max bytes: NULL when absent or null (an error when required)
 * or invalid (error added). Passwords take any character but NUL. */
const char *field_string(CALL *c, const char *name, int required, size_t max);

/* field_string() without control characters (names, addresses, reasons). */
const char *field_text(CALL *c, const char *name, int required, size_t max);

/* A name-like field checked for presence and form; NULL when absent or invalid. */
const char *field_name(CALL *c, const char *name, int required);

int time_zone_ok(const char *tz);

const char *field_time_zone(CALL *c);

int email_ok(const char *email);

char *lowercase(const char *s);

json_t *jstr(const char *s);

json_t *user_json(const AUTH_PRINCIPAL *p);

/* An organization row (enum org_col) as JSON, with the principal's role. */
json_t *org_json(const DB_RESULT *res, size_t row, AUTH_ROLE role);

json_t *server_json(const SERVER_DETAILS *d, const char *org_permalink);

/* The organization of path argument 0 with the principal's role, which must be at least
 * need. 0 with *o (o->json set; json_decref it), -1 when answered: 404 for no such live
 * organization and for no role in it, 403 Forbidden for a role below need. */
int load_org(CALL *c, AUTH_ROLE need, ORG *o);

/* Re-reads organization id as JSON after a change. NULL on a database error (answered). */
json_t *reload_org(CALL *c, unsigned long long id, AUTH_ROLE role);

/* A boolean field: 1/0, or -1 when absent or invalid (error added). */
int field_bool(CALL *c, const char *name);

/* The server of path argument 1 in org as JSON; NULL after answering (404 or a DB error). */
json_t *find_server(CALL *c, const ORG *o, const char *permalink, unsigned long long *id_r);

/* The organization (role at least need) and the server of path arguments 0 and 1.
 * 0 with *o and *server_id_r, -1 when answered (404 also for a server outsiders cannot see). */
int load_server(CALL *c, AUTH_ROLE need, ORG *o, unsigned long long *server_id_r);

/* ---- shared by the route, endpoint, webhook, IP pool and suppression files */

/* A whole-number field in [min, max]: 1 with *out, 0 when absent or null, -1 when invalid
 * (error added). */
int field_int(CALL *c, const char *name, long long min, long long max, long long *out);

/* 1 when url is an absolute http:// or https:// URL with a host, in printable ASCII. */
int web_url_ok(const char *url);
/* 1 when a receiver's url (is_url) or host name may be connected to (outaddr.h, with
 * security.outbound_allowed_networks); else 0 with a field error (422). */
int outbound_ok(CALL *c, const char *field, const char *value, int is_url);

/* 409 with code and message, and the collected field errors when there are any. */
void reply_conflict(CALL *c, const char *code, const char *message);

/* The query arguments ?before=<id>&limit=<n> of a paginated list (limit 1..max, default
 * def). 0, or -1 after answering 400 ValidationError. */
int page_args(CALL *c, unsigned long long *before_r, unsigned *limit_r, unsigned def, unsigned max);

/* Path argument n as a positive decimal id: 1 with *id_r, 0 when it is not one. */
int path_id(CALL *c, size_t n, unsigned long long *id_r);

#endif
