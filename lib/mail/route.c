/*
 * route.c -- incoming routes and their additional endpoints (route.h). A duplicate
 * name@domain is told apart from a (very unlikely) token collision by the unique key the
 * server names; a collision is retried with a new token.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/route.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

int
route_name_normalize(const char *name, char *out, size_t len, char **error_r)
{
    size_t n = strlen(name);

    if (n == 0 || n > ROUTE_NAME_MAX || n >= len) {
        *error_r = mem_strdup("must be 1 to 64 characters");
        return 0;
    }
    for (size_t i = 0; i <= n; i++)
        out[i] = (char) tolower((unsigned char) name[i]);
    if (strcmp(out, "*") == 0 || strcmp(out, "__returnpath__") == 0)
        return 1;
    if (strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n) {
        *error_r = mem_strdup("must be letters, digits, dots and hyphens, \"*\" (any address) or \"__returnpath__\"");
        return 0;
    }
    return 1;
}

static int
one_of(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int
route_mode_ok(const char *mode)
{
    static const char *const modes[] = {"Endpoint", "Accept", "Hold", "Bounce", "Reject", NULL};

    return one_of(mode, modes);
}

int
route_spam_mode_ok(const char *mode)
{
    static const char *const modes[] = {"Mark", "Quarantine", "Fail", NULL};

    return one_of(mode, modes);
}

/* The three endpoint columns' values for endpoint (NULL: none). */
static void
endpoint_params(const ROUTE_ENDPOINT *e, DB_PARAM p[ENDPOINT_TYPES])
{
    for (int t = 0; t < ENDPOINT_TYPES; t++)
        p[t] = e && (int) e->type == t ? DB_UINT(e->id) : DB_NULL;
}

/* 1 when the failed statement hit uq_routes_domain_name. */
static int
name_taken(DB *db)
{
    return db_errno(db) == DB_ER_DUP_ENTRY && strstr(db_error(db), "uq_routes_domain_name") != NULL;
}

int
route_create(DB *db, unsigned long long server_id, unsigned long long domain_id, const char *name,
             const char *mode, const char *spam_mode, const ROUTE_ENDPOINT *endpoint, char *token_r,
             unsigned long long *id_r)
{
    DB_PARAM ep[ENDPOINT_TYPES];
    char uuid[37];
    int ret = DB_ERR_PERM;

    endpoint_params(endpoint, ep);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (token_uuid(uuid) < 0 || token_generate(token_r, ROUTE_TOKEN_LEN, TOKEN_LOWER_ALNUM) < 0) {
            msg_warn("route: the random number generator failed");
            return DB_ERR_TEMP;
        }
        ret = db_exec(db, "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode, spam_mode, "
                      "http_endpoint_id, smtp_endpoint_id, address_endpoint_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      DB_ARGS(DB_STR(uuid), DB_UINT(server_id), DB_UINT(domain_id), DB_STR(name), DB_STR(token_r),
                              DB_STR(mode), DB_STR(spam_mode), ep[0], ep[1], ep[2]));
        if (ret >= 0) {
            *id_r = db_insert_id(db);
            return 1;
        }
        if (name_taken(db))
            return 0;
        if (db_errno(db) != DB_ER_DUP_ENTRY)
            break;
    }
    return ret;
}

int
route_update(DB *db, unsigned long long server_id, unsigned long long id, unsigned long long domain_id,
             const char *name, const char *mode, const char *spam_mode, int set_endpoint,
             const ROUTE_ENDPOINT *endpoint)
{
    DB_PARAM ep[ENDPOINT_TYPES];
    int ret;

    endpoint_params(endpoint, ep);
    ret = db_exec(db, "UPDATE routes SET domain_id = IF(? = 0, domain_id, ?), name = COALESCE(?, name), "
                  "mode = COALESCE(?, mode), spam_mode = COALESCE(?, spam_mode), "
                  "http_endpoint_id = IF(?, ?, http_endpoint_id), smtp_endpoint_id = IF(?, ?, smtp_endpoint_id), "
                  "address_endpoint_id = IF(?, ?, address_endpoint_id) WHERE id = ? AND server_id = ?",
                  DB_ARGS(DB_UINT(domain_id), DB_UINT(domain_id), DB_STR(name), DB_STR(mode), DB_STR(spam_mode),
                          DB_INT(set_endpoint != 0), ep[0], DB_INT(set_endpoint != 0), ep[1],
                          DB_INT(set_endpoint != 0), ep[2], DB_UINT(id), DB_UINT(server_id)));
    if (ret < 0)
        return name_taken(db) ? 0 : ret;
    return 1;
}

static const char *const additional_sql[ENDPOINT_TYPES] = {
    "INSERT IGNORE INTO additional_route_endpoints (route_id, http_endpoint_id) VALUES (?, ?)",
    "INSERT IGNORE INTO additional_route_endpoints (route_id, smtp_endpoint_id) VALUES (?, ?)",
    "INSERT IGNORE INTO additional_route_endpoints (route_id, address_endpoint_id) VALUES (?, ?)",
};

int
route_set_additional(DB *db, unsigned long long id, const ROUTE_ENDPOINT *list, size_t n)
{
    int ret = db_exec(db, "DELETE FROM additional_route_endpoints WHERE route_id = ?", DB_ARGS(DB_UINT(id)));

    for (size_t i = 0; i < n && ret >= 0; i++)
        ret = db_exec(db, additional_sql[list[i].type], DB_ARGS(DB_UINT(id), DB_UINT(list[i].id)));
    return ret < 0 ? ret : 0;
}

static const DB_COL route_cols[] = {
    DB_COL_AT(DB_COL_ID, ROUTE_ROW, id), DB_COL_AT(DB_COL_STR, ROUTE_ROW, uuid), DB_COL_AT(DB_COL_STR, ROUTE_ROW, name),
    DB_COL_AT(DB_COL_STR, ROUTE_ROW, domain), DB_COL_AT(DB_COL_STR, ROUTE_ROW, token),
    DB_COL_AT(DB_COL_STR, ROUTE_ROW, mode), DB_COL_AT(DB_COL_STR, ROUTE_ROW, spam_mode),
    DB_COL_AT(DB_COL_STR, ROUTE_ROW, endpoint_type), DB_COL_AT(DB_COL_STR, ROUTE_ROW, endpoint_uuid),
    DB_COL_AT(DB_COL_STR, ROUTE_ROW, created_at), DB_COL_AT(DB_COL_STR, ROUTE_ROW, updated_at),
};
static const DB_COL ref_cols[] = {
    DB_COL_AT(DB_COL_STR, ROUTE_ENDPOINT_REF, type), DB_COL_AT(DB_COL_STR, ROUTE_ENDPOINT_REF, uuid),
};
static const DB_COL string_col[] = {{DB_COL_STR, 0}};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

int
route_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, route_cols, NCOLS(route_cols), sizeof(ROUTE_ROW), "SELECT r.id, r.uuid, r.name, d.name, r.token, r.mode, r.spam_mode, "
                    "CASE WHEN h.id IS NOT NULL THEN 'HTTPEndpoint' WHEN s.id IS NOT NULL THEN 'SMTPEndpoint' "
                    "WHEN a.id IS NOT NULL THEN 'AddressEndpoint' END, COALESCE(h.uuid, s.uuid, a.uuid), "
                    TS("r.created_at") ", " TS("r.updated_at") " FROM routes r JOIN domains d ON d.id = r.domain_id "
                    "LEFT JOIN http_endpoints h ON h.id = r.http_endpoint_id "
                    "LEFT JOIN smtp_endpoints s ON s.id = r.smtp_endpoint_id "
                    "LEFT JOIN address_endpoints a ON a.id = r.address_endpoint_id "
                    "WHERE r.server_id = ? AND (? IS NULL OR r.uuid = ?) AND (? = 0 OR r.id = ?) "
                    "ORDER BY d.name, r.name, r.id",
                    DB_ARGS(DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL,
                            DB_UINT(id), DB_UINT(id)));
}

int
route_additional_list(DB *db, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, ref_cols, NCOLS(ref_cols), sizeof(ROUTE_ENDPOINT_REF), "SELECT CASE WHEN h.id IS NOT NULL THEN 'HTTPEndpoint' "
                    "WHEN s.id IS NOT NULL THEN 'SMTPEndpoint' ELSE 'AddressEndpoint' END, "
                    "COALESCE(h.uuid, s.uuid, a.uuid) FROM additional_route_endpoints x "
                    "LEFT JOIN http_endpoints h ON h.id = x.http_endpoint_id "
                    "LEFT JOIN smtp_endpoints s ON s.id = x.smtp_endpoint_id "
                    "LEFT JOIN address_endpoints a ON a.id = x.address_endpoint_id "
                    "WHERE x.route_id = ? ORDER BY x.id", DB_ARGS(DB_UINT(id)));
}

int
route_delete(DB *db, unsigned long long server_id, unsigned long long id)
{
    int ret = db_exec(db, "DELETE FROM routes WHERE id = ? AND server_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}

static const char *const using_sql[ENDPOINT_TYPES] = {
    "SELECT CONCAT(r.name, '@', d.name) AS address FROM routes r JOIN domains d ON d.id = r.domain_id "
    "WHERE r.http_endpoint_id = ? OR r.id IN (SELECT route_id FROM additional_route_endpoints "
    "WHERE http_endpoint_id = ?) ORDER BY address",
    "SELECT CONCAT(r.name, '@', d.name) AS address FROM routes r JOIN domains d ON d.id = r.domain_id "
    "WHERE r.smtp_endpoint_id = ? OR r.id IN (SELECT route_id FROM additional_route_endpoints "
    "WHERE smtp_endpoint_id = ?) ORDER BY address",
    "SELECT CONCAT(r.name, '@', d.name) AS address FROM routes r JOIN domains d ON d.id = r.domain_id "
    "WHERE r.address_endpoint_id = ? OR r.id IN (SELECT route_id FROM additional_route_endpoints "
    "WHERE address_endpoint_id = ?) ORDER BY address",
};

int
route_using_endpoint(DB *db, ENDPOINT_TYPE type, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, string_col, 1, sizeof(const char *), using_sql[type], DB_ARGS(DB_UINT(id), DB_UINT(id)));
}
