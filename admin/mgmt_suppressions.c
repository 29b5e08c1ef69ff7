/*
 * mgmt_suppressions.c -- a server's suppression list, …/servers/{server}/suppressions
 * (doc/api.md): search and pages, add, remove, and bulk import of JSON or CSV; rows are
 * lib/mail/suppression.c's. postgate-milter holds mail to a suppressed recipient.
 *
 * The import takes up to SUPPRESSION_IMPORT_MAX_LINES lines (MGMT_V2_MAX_IMPORT_BODY
 * bytes) and writes them in transactions of IMPORT_BATCH rows: a bad line is reported and
 * skipped, never the end of the import; a database failure ends it with 503, and since
 * adding is idempotent the same import can simply be sent again.
 *
 * Must never: abort an import for one malformed line, or answer text that is not UTF-8
 * (a bad line's value is shown with its invalid bytes replaced).
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/suppression.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/utf8.h"

#define SUPPRESSION_IMPORT_MAX_LINES 100000
#define IMPORT_BATCH 1000
#define IMPORT_MAX_REPORTED 1000        /* invalid lines listed one by one */
#define IMPORT_VALUE_SHOWN 120          /* bytes of a bad line shown back */
#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 1000


static json_t *
suppression_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const SUPPRESSION_ROW *e = row;

    (void) c, (void) r;
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t) e->id, "address", mgmt_jstr(e->address),
                     "reason", mgmt_jstr(e->reason), "source", mgmt_jstr(e->source),
                     "keep_until", mgmt_jstr(e->keep_until), "created_at", mgmt_jstr(e->created_at),
                     "updated_at", mgmt_jstr(e->updated_at));
}

/* The entry key names (its id, or the address), or the one of id. */
static int
suppression_load(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const char *key,
                 unsigned long long id, DB_ROWS *rows)
{
    char address[SUPPRESSION_ADDRESS_MAX + 1];
    char *why = NULL;
    int ret;

    (void) r;
    if (key && !mgmt_parse_id(key, &id)) {
        if (!suppression_address_normalize(key, strlen(key), address, &why)) {
            mem_free(why);
            return 0;
        }
        if ((ret = suppression_find(c->db, server_id, address, &id)) <= 0)
            return ret;
    }
    return suppression_list(c->db, server_id, NULL, 0, id, id ? 1 : LIST_MAX_LIMIT, rows);
}

static json_t *
suppression_deleted(const void *row)
{
    const SUPPRESSION_ROW *e = row;

    return json_pack("{s:I, s:o, s:b}", "id", (json_int_t) e->id, "address", mgmt_jstr(e->address), "deleted", 1);
}

static const MGMT_RESOURCE suppressions = {
    .what = "suppressed address", .one = "suppression", .many = "suppressions",
    .size = sizeof(SUPPRESSION_ROW), .id_off = offsetof(SUPPRESSION_ROW, id),
    .load = suppression_load, .json = suppression_json, .delete_id = suppression_remove, .deleted = suppression_deleted,
};

MGMT_GET_HANDLER(mgmt_v2_suppression, suppressions)
MGMT_DELETE_HANDLER(mgmt_v2_suppression, suppressions)

static void
mgmt_v2_suppressions_list(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, before = 0;
    const char *search;
    DB_ROWS rows = {0};
    unsigned limit = 0;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0)
        goto out;
    search = http_query(req, "search");
    if (search && (strlen(search) > SUPPRESSION_ADDRESS_MAX || !utf8_valid(search, strlen(search))))
        mgmt_field_error(&c, "search", "must be UTF-8 text of at most %d bytes", SUPPRESSION_ADDRESS_MAX);
    if (mgmt_page_args(&c, &before, &limit, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT) < 0)
        goto out;
    if ((ret = suppression_list(c.db, server_id, search && *search ? search : NULL, before, 0, limit, &rows)) < 0) {
        mgmt_reply_db(&c, "suppression list", ret);
    } else {
        const SUPPRESSION_ROW *e = rows.v;
        json_t *a = json_array();

        for (size_t i = 0; i < rows.n; i++)
            json_array_append_new(a, suppression_json(&c, &suppressions, &e[i]));
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:o}", "suppressions", a, "next_before",
                                                 rows.n == limit ? json_integer((json_int_t) e[rows.n - 1].id) : json_null()));
    }
out:
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_suppressions_add(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"address", "reason", "keep_days", NULL};
    char address[SUPPRESSION_ADDRESS_MAX + 1];
    unsigned long long server_id = 0;
    const char *given, *reason;
    char *why = NULL;
    long long keep_days = 0;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    mgmt_check_known(&c, known);
    given = mgmt_field_string(&c, "address", 1, SUPPRESSION_ADDRESS_MAX);
    if (given && !suppression_address_normalize(given, strlen(given), address, &why))
        mgmt_field_error(&c, "address", "%s", why);
    mem_free(why);
    reason = mgmt_field_text(&c, "reason", 0, SUPPRESSION_REASON_MAX);
    mgmt_field_int(&c, "keep_days", 1, SUPPRESSION_KEEP_DAYS_MAX, &keep_days);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = suppression_add(c.db, server_id, address, reason ? reason : "Added through the API", "api",
                               (unsigned) keep_days, 1)) < 0) {
        mgmt_reply_db(&c, "suppression add", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: suppressed %s for server %s/%s", c.p.user_id, address, http_path_arg(req, 0),
             http_path_arg(req, 1));
    mgmt_reply_again(&c, &suppressions, server_id, address, 0, ret > 0 ? MHD_HTTP_CREATED : MHD_HTTP_OK);
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- import */

/* Up to IMPORT_VALUE_SHOWN bytes of s as valid UTF-8 (bad bytes become U+FFFD, NUL "\0"). */
static json_t *
shown(const char *s, size_t n)
{
    BUF *b = buf_new(64);
    json_t *v;

    for (size_t i = 0, k; i < n && buf_len(b) < IMPORT_VALUE_SHOWN; i += k) {
        k = utf8_char_len(s + i, n - i);
        if (k == 0 || s[i] == '\0') {
            buf_append_str(b, s[i] == '\0' ? "\\0" : "\xef\xbf\xbd");
            k = 1;
        } else {
            buf_append(b, s + i, k);
        }
    }
    v = json_stringn(buf_cstr(b), buf_len(b));
    buf_free(b);
    return v ? v : json_string("");
}

/* One import in progress. */
typedef struct import {
    MGMT_CALL *c;
    unsigned long long server_id;
    unsigned keep_days;
    const char *default_reason;
    size_t added, present, invalid, in_batch;
    json_t *invalid_list;
    int failed;                 /* a database error was answered */
} IMPORT;

static void
import_invalid(IMPORT *im, size_t line, const char *value, size_t len, const char *error)
{
    im->invalid++;
    if (json_array_size(im->invalid_list) < IMPORT_MAX_REPORTED)
        json_array_append_new(im->invalid_list, json_pack("{s:I, s:o, s:s}", "line", (json_int_t) line, "value",
                                                          shown(value, len), "error", error));
}

/* Commits the open batch: 0, or -1 after answering. */
static int
import_flush(IMPORT *im)
{
    if (!im->c->in_txn)
        return 0;
    im->in_batch = 0;
    if (mgmt_txn_commit(im->c) < 0) {
        im->failed = 1;
        return -1;
    }
    return 0;
}

/* Adds one entry (address in[0..len), reason NUL-terminated or NULL): 0, or -1 after
 * answering a database failure. Bad entries are recorded, not fatal. */
static int
import_one(IMPORT *im, size_t line, const char *in, size_t len, const char *reason, size_t reason_len)
{
    char address[SUPPRESSION_ADDRESS_MAX + 1], *why = NULL;
    int ret;

    if (!utf8_valid(in, len)) {
        import_invalid(im, line, in, len, "is not valid UTF-8");
        return 0;
    }
    if (!suppression_address_normalize(in, len, address, &why)) {
        import_invalid(im, line, in, len, why);
        mem_free(why);
        return 0;
    }
    if (reason && (reason_len > SUPPRESSION_REASON_MAX || !utf8_valid(reason, reason_len))) {
        import_invalid(im, line, in, len, "has a reason that is longer than 1000 bytes or not UTF-8");
        return 0;
    }
    for (size_t i = 0; reason && i < reason_len; i++)
        if ((unsigned char) reason[i] < 0x20 || reason[i] == 0x7f) {
            import_invalid(im, line, in, len, "has control characters in its reason");
            return 0;
        }
    if (!im->c->in_txn && mgmt_txn_begin(im->c) < 0) {
        im->failed = 1;
        return -1;
    }
    ret = suppression_add(im->c->db, im->server_id, address, reason && reason_len ? reason : im->default_reason,
                          "import", im->keep_days, 0);
    if (ret < 0) {
        mgmt_reply_db(im->c, "suppression import", ret);
        im->failed = 1;
        return -1;
    }
    if (ret > 0)
        im->added++;
    else
        im->present++;
    if (++im->in_batch >= IMPORT_BATCH)
        return import_flush(im);
    return 0;
}

/* One CSV field starting at *p (before end): its text into f (quotes removed, "" as ").
 * *p moves past the field and its comma. */
static void
csv_field(const char **p, const char *end, BUF *f)
{
    const char *s = *p;

    buf_reset(f);
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s < end && *s == '"') {
        for (s++; s < end; s++) {
            if (*s == '"' && s + 1 < end && s[1] == '"') {
                buf_append_char(f, '"');
                s++;
            } else if (*s == '"') {
                s++;
                break;
            } else {
                buf_append_char(f, *s);
            }
        }
        while (s < end && *s != ',')
            s++;
    } else {
        const char *start = s;

        while (s < end && *s != ',')
            s++;
        buf_append(f, start, (size_t) (s - start));
    }
    *p = s < end ? s + 1 : s;
}

static int
is_header_word(const BUF *f)
{
    static const char *const words[] = {"address", "email", "e-mail", "email_address", "email address", "recipient",
                                        "rcpt_to", NULL};
    const char *s = buf_cstr(f);

    for (size_t i = 0; words[i]; i++)
        if (strcasecmp(s, words[i]) == 0)
            return 1;
    return 0;
}

/* Imports the CSV body: 0 done, -1 answered (too many lines or a database failure). */
static int
import_csv(IMPORT *im, const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    BUF *addr = buf_new(64), *reason = buf_new(64);
    size_t lines = 0;
    int ret = 0;

    for (const char *q = body; q < end; q++)
        lines += *q == '\n';
    if (lines + (len > 0 && end[-1] != '\n') > SUPPRESSION_IMPORT_MAX_LINES) {
        mgmt_field_error(im->c, "body", "has more than %d lines; split the import", SUPPRESSION_IMPORT_MAX_LINES);
        mgmt_reply_invalid(im->c);
        ret = -1;
    }
    for (size_t line = 1; ret == 0 && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t) (end - p)), *eol = nl ? nl : end, *f = p;
        int has_comma;

        if (eol > p && eol[-1] == '\r')
            eol--;
        has_comma = memchr(p, ',', (size_t) (eol - p)) != NULL;
        csv_field(&f, eol, addr);
        csv_field(&f, eol, reason);
        if (buf_len(addr) == 0 && !has_comma) {
            /* An empty line. */
        } else if (line == 1 && is_header_word(addr)) {
            /* The header. */
        } else {
            ret = import_one(im, line, (const char *) buf_data(addr), buf_len(addr),
                             buf_len(reason) ? buf_cstr(reason) : NULL, buf_len(reason));
        }
        p = nl ? nl + 1 : end;
    }
    buf_free(addr);
    buf_free(reason);
    return ret;
}

/* Imports {"addresses": [...], "reason"?, "keep_days"?}: 0 done, -1 answered. */
static int
import_json(IMPORT *im)
{
    static const char *const known[] = {"addresses", "reason", "keep_days", NULL};
    MGMT_CALL *c = im->c;
    json_t *list, *v;
    long long keep_days = 0;
    const char *reason;
    size_t i;

    if (mgmt_read_body(c) < 0)
        return -1;
    mgmt_check_known(c, known);
    list = json_object_get(c->body, "addresses");
    if (!json_is_array(list))
        mgmt_field_error(c, "addresses", "must be a list of addresses");
    else if (json_array_size(list) > SUPPRESSION_IMPORT_MAX_LINES)
        mgmt_field_error(c, "addresses", "has more than %d addresses; split the import", SUPPRESSION_IMPORT_MAX_LINES);
    reason = mgmt_field_text(c, "reason", 0, SUPPRESSION_REASON_MAX);
    mgmt_field_int(c, "keep_days", 1, SUPPRESSION_KEEP_DAYS_MAX, &keep_days);
    if (mgmt_has_errors(c)) {
        mgmt_reply_invalid(c);
        return -1;
    }
    if (reason)
        im->default_reason = reason;
    im->keep_days = (unsigned) keep_days;
    json_array_foreach(list, i, v) {
        if (!json_is_string(v)) {
            char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

            import_invalid(im, i + 1, text ? text : "", text ? strlen(text) : 0, "is not a string");
            free(text);
        } else if (import_one(im, i + 1, json_string_value(v), json_string_length(v), NULL, 0) < 0) {
            return -1;
        }
    }
    return 0;
}

static void
mgmt_v2_suppressions_import(HTTP_REQUEST *req, void *arg)
{
    IMPORT im = {0};
    unsigned long long server_id = 0;
    const char *ct = req->content_type, *kd;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    im.c = &c;
    im.server_id = server_id;
    im.default_reason = "Imported";
    im.invalid_list = json_array();
    if (mgmt_is_json_type(ct)) {
        ret = import_json(&im);
    } else if (ct && (strncasecmp(ct, "text/csv", 8) == 0 || strncasecmp(ct, "text/plain", 10) == 0)) {
        if ((kd = http_query(req, "keep_days")) != NULL) {
            char *end;
            long v = strtol(kd, &end, 10);

            if (*kd == '\0' || *end != '\0' || v < 1 || v > SUPPRESSION_KEEP_DAYS_MAX) {
                mgmt_field_error(&c, "keep_days", "must be a whole number from 1 to %d", SUPPRESSION_KEEP_DAYS_MAX);
                mgmt_reply_invalid(&c);
                goto out;
            }
            im.keep_days = (unsigned) v;
        }
        ret = import_csv(&im, (const char *) req->body, req->body_len);
    } else {
        mgmt_reply_fail(&c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType",
                   "An import is JSON (application/json, {\"addresses\": [...]}) or CSV (text/csv).");
        goto out;
    }
    if (ret < 0 || import_flush(&im) < 0)
        goto out;
    msg_info("user %llu: imported into the suppression list of server %s/%s: %zu added, %zu already there, %zu invalid",
             c.p.user_id, http_path_arg(req, 0), http_path_arg(req, 1), im.added, im.present, im.invalid);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:I, s:I, s:I, s:O}", "added", (json_int_t) im.added, "already_present",
                                        (json_int_t) im.present, "invalid_count", (json_int_t) im.invalid,
                                        "invalid", im.invalid_list));
out:
    if (im.failed && im.added)
        msg_warn("server %s/%s: suppression import ended by a database failure after %zu addresses were added",
                 http_path_arg(req, 0), http_path_arg(req, 1), im.added);
    json_decref(im.invalid_list);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_suppressions_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/suppressions", mgmt_v2_suppressions_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/suppressions", mgmt_v2_suppressions_add},
    {"GET", "/api/v2/organizations/{}/servers/{}/suppressions/{}", mgmt_v2_suppression_get},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/suppressions/{}", mgmt_v2_suppression_delete},
    {NULL, NULL, NULL},
};

/* The bulk route (mgmt_v2.h): bodies up to MGMT_V2_MAX_IMPORT_BODY. */
const MGMT_ROUTE mgmt_import_routes[] = {
    {"POST", "/api/v2/organizations/{}/servers/{}/suppressions/import", mgmt_v2_suppressions_import},
    {NULL, NULL, NULL},
};
