/*
 * trackdomain.c -- track domains (trackdomain.h); owns the SQL of track_domains.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/trackdomain.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

void
trackdomain_clear(TRACK_DOMAIN *td)
{
    mem_free(td->excluded);
    memset(td, 0, sizeof(*td));
}

int
trackdomain_for_domain(DB *db, unsigned long long server_id, unsigned long long domain_id, TRACK_DOMAIN *out)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT t.id, t.uuid, CONCAT(t.name, '.', d.name), t.ssl_enabled, t.track_clicks, "
                       "t.track_loads, t.excluded_click_domains FROM track_domains t "
                       "JOIN domains d ON d.id = t.domain_id WHERE t.server_id = ? AND t.domain_id = ? "
                       "ORDER BY t.id LIMIT 1", DB_ARGS(DB_UINT(server_id), DB_UINT(domain_id)));

    memset(out, 0, sizeof(*out));
    if (ret > 0) {
        const char *excluded = db_result_get(res, 0, 6);

        out->id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        snprintf(out->uuid, sizeof(out->uuid), "%s", db_result_get(res, 0, 1));
        snprintf(out->host, sizeof(out->host), "%s", db_result_get(res, 0, 2));
        for (char *p = out->host; *p; p++)
            *p = (char) tolower((unsigned char) *p);
        out->ssl = atoi(db_result_get(res, 0, 3));
        out->track_clicks = atoi(db_result_get(res, 0, 4));
        out->track_loads = atoi(db_result_get(res, 0, 5));
        out->excluded = excluded && *excluded ? mem_strdup(excluded) : NULL;
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

static int
label_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char) name[i]) || isdigit((unsigned char) name[i]) || name[i] == '-'))
            return 0;
    return 1;
}

int
trackdomain_create(DB *db, const TRACKDOMAIN_CREATE_ARGS *args, char uuid_r[37], char **error_r)
{
    DB_RESULT *res;
    unsigned long long domain_id;
    int ret;

    if (!label_ok(args->name)) {
        *error_r = buf_asprintf("\"%s\" is not one lowercase label (letters, digits, inner hyphens)", args->name);
        return 0;
    }
    /* The domain must be one the server may send as: its own, or its organization's. */
    ret = db_query(db, &res, "SELECT d.id FROM domains d JOIN servers s ON s.id = ? "
                   "WHERE d.name = ? AND (d.server_id = s.id OR d.organization_id = s.organization_id) "
                   "ORDER BY d.server_id IS NULL, d.id LIMIT 1",
                   DB_ARGS(DB_UINT(args->server_id), DB_STR(args->domain)));
    if (ret <= 0) {
        db_result_free(res);
        if (ret == 0)
            *error_r = buf_asprintf("%s is not a domain of this server or its organization", args->domain);
        else
            *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    domain_id = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    if (token_uuid(uuid_r) < 0) {
        *error_r = buf_asprintf("random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_exec(db, "INSERT INTO track_domains (uuid, server_id, domain_id, name, ssl_enabled, track_clicks, "
                  "track_loads, excluded_click_domains) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_STR(uuid_r), DB_UINT(args->server_id), DB_UINT(domain_id), DB_STR(args->name),
                          DB_INT(args->ssl != 0), DB_INT(args->track_clicks != 0), DB_INT(args->track_loads != 0),
                          DB_STR(args->excluded && *args->excluded ? args->excluded : NULL)));
    if (ret < 0) {
        if (db_errno(db) == DB_ER_DUP_ENTRY) {
            *error_r = buf_asprintf("%s.%s already exists", args->name, args->domain);
            return 0;
        }
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    return 1;
}

#define COL(kind, field) DB_COL_AT(kind, TRACKDOMAIN_ROW, field)
static const DB_COL trackdomain_cols[] = {
    COL(DB_COL_ID, id), COL(DB_COL_STR, uuid), COL(DB_COL_STR, host), COL(DB_COL_BOOL, ssl),
    COL(DB_COL_BOOL, track_clicks), COL(DB_COL_BOOL, track_loads), COL(DB_COL_STR, excluded),
    COL(DB_COL_STR, dns_status),
};
#undef COL

int
trackdomain_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, trackdomain_cols, sizeof(trackdomain_cols) / sizeof(trackdomain_cols[0]),
                         sizeof(TRACKDOMAIN_ROW), "SELECT t.id, t.uuid, CONCAT(t.name, '.', d.name) AS host, "
                         "t.ssl_enabled, t.track_clicks, t.track_loads, t.excluded_click_domains, t.dns_status "
                         "FROM track_domains t JOIN domains d ON d.id = t.domain_id WHERE t.server_id = ? "
                         "AND (? IS NULL OR t.uuid = ?) AND (? = 0 OR t.id = ?) ORDER BY host",
                         DB_ARGS(DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL,
                                 DB_UINT(id), DB_UINT(id)));
}

int
trackdomain_delete(DB *db, unsigned long long server_id, const char *uuid_or_host)
{
    int ret;

    if (strlen(uuid_or_host) == 36 && uuid_or_host[8] == '-' && uuid_or_host[13] == '-')
        ret = db_exec(db, "DELETE FROM track_domains WHERE server_id = ? AND uuid = ?",
                      DB_ARGS(DB_UINT(server_id), DB_STR(uuid_or_host)));
    else
        ret = db_exec(db, "DELETE t FROM track_domains t JOIN domains d ON d.id = t.domain_id "
                      "WHERE t.server_id = ? AND CONCAT(t.name, '.', d.name) = ?",
                      DB_ARGS(DB_UINT(server_id), DB_STR(uuid_or_host)));
    return ret > 0 ? 1 : ret;
}

int
trackdomain_update(DB *db, unsigned long long server_id, const char *uuid, int ssl, int track_clicks,
                   int track_loads, int set_excluded, const char *excluded)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT 1 FROM track_domains WHERE server_id = ? AND uuid = ?",
                       DB_ARGS(DB_UINT(server_id), DB_STR(uuid)));

    db_result_free(res);
    if (ret <= 0)
        return ret;
    ret = db_exec(db, "UPDATE track_domains SET ssl_enabled = IF(? < 0, ssl_enabled, ?), "
                  "track_clicks = IF(? < 0, track_clicks, ?), track_loads = IF(? < 0, track_loads, ?), "
                  "excluded_click_domains = IF(? = 0, excluded_click_domains, ?) WHERE server_id = ? AND uuid = ?",
                  DB_ARGS(DB_INT(ssl), DB_INT(ssl > 0), DB_INT(track_clicks), DB_INT(track_clicks > 0),
                          DB_INT(track_loads), DB_INT(track_loads > 0), DB_INT(set_excluded), DB_STR(excluded),
                          DB_UINT(server_id), DB_STR(uuid)));
    return ret < 0 ? ret : 1;
}
