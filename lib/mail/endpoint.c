/*
 * endpoint.c -- HTTP, SMTP and Address endpoints of routes (endpoint.h). One SQL text per
 * type and operation, chosen from tables indexed by ENDPOINT_TYPE.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/endpoint.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define SEAL_CONTEXT "smtp-endpoint"
#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

static const char *const type_names[ENDPOINT_TYPES] = {"HTTPEndpoint", "SMTPEndpoint", "AddressEndpoint"};

const char *
endpoint_type_name(ENDPOINT_TYPE type)
{
    return type_names[type];
}

int
endpoint_type_parse(const char *name, ENDPOINT_TYPE *type_r)
{
    for (int i = 0; i < ENDPOINT_TYPES; i++)
        if (strcmp(name, type_names[i]) == 0) {
            *type_r = (ENDPOINT_TYPE) i;
            return 0;
        }
    return -1;
}

#define LIST_WHERE "WHERE server_id = ? AND (? IS NULL OR uuid = ?) AND (? = 0 OR id = ?) "
static const char *const list_sql[ENDPOINT_TYPES] = {
    "SELECT id, uuid, name, url, encoding, format, strip_replies, include_attachments, timeout, "
    TS("last_used_at") ", " TS("created_at") ", " TS("updated_at") " FROM http_endpoints " LIST_WHERE
    "ORDER BY name, id",
    "SELECT id, uuid, name, hostname, port, ssl_mode, username, password_encrypted IS NOT NULL, "
    TS("last_used_at") ", " TS("created_at") ", " TS("updated_at") " FROM smtp_endpoints " LIST_WHERE
    "ORDER BY name, id",
    "SELECT id, uuid, address, " TS("last_used_at") ", " TS("created_at") ", " TS("updated_at")
    " FROM address_endpoints " LIST_WHERE "ORDER BY address, id",
};

int
endpoint_list(DB *db, ENDPOINT_TYPE type, unsigned long long server_id, const char *uuid, unsigned long long id,
              DB_RESULT **res_r)
{
    return db_query(db, res_r, list_sql[type],
                    DB_ARGS(DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL,
                            DB_UINT(id), DB_UINT(id)));
}

#define COL(kind, field) DB_COL_AT(kind, ENDPOINT_ROW, field)
#define EP_HEAD COL(DB_COL_ID, id), COL(DB_COL_STR, uuid), COL(DB_COL_STR, name)
#define EP_TAIL COL(DB_COL_STR, last_used_at), COL(DB_COL_STR, created_at), COL(DB_COL_STR, updated_at)

/* list_sql's columns, type by type. */
static const DB_COL http_cols[] = {
    EP_HEAD, COL(DB_COL_STR, url), COL(DB_COL_STR, encoding), COL(DB_COL_STR, format), COL(DB_COL_BOOL, strip_replies),
    COL(DB_COL_BOOL, include_attachments), COL(DB_COL_NUM, timeout), EP_TAIL,
};
static const DB_COL smtp_cols[] = {
    EP_HEAD, COL(DB_COL_STR, hostname), COL(DB_COL_NUM, port), COL(DB_COL_STR, ssl_mode), COL(DB_COL_STR, username),
    COL(DB_COL_BOOL, has_password), EP_TAIL,
};
static const DB_COL address_cols[] = {EP_HEAD, EP_TAIL};
static const struct {
    const DB_COL *cols;
    size_t n;
} row_cols[ENDPOINT_TYPES] = {
    {http_cols, sizeof(http_cols) / sizeof(http_cols[0])},
    {smtp_cols, sizeof(smtp_cols) / sizeof(smtp_cols[0])},
    {address_cols, sizeof(address_cols) / sizeof(address_cols[0])},
};

int
endpoint_rows(DB *db, ENDPOINT_TYPE type, unsigned long long server_id, const char *uuid, unsigned long long id,
              DB_ROWS *rows)
{
    return db_query_rows(db, rows, row_cols[type].cols, row_cols[type].n, sizeof(ENDPOINT_ROW), list_sql[type],
                         DB_ARGS(DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL,
                                 DB_UINT(id), DB_UINT(id)));
}

static const char *const find_sql[ENDPOINT_TYPES] = {
    "SELECT id, server_id FROM http_endpoints WHERE uuid = ?",
    "SELECT id, server_id FROM smtp_endpoints WHERE uuid = ?",
    "SELECT id, server_id FROM address_endpoints WHERE uuid = ?",
};

int
endpoint_find(DB *db, ENDPOINT_TYPE type, const char *uuid, unsigned long long *id_r,
              unsigned long long *server_id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, find_sql[type], DB_ARGS(DB_STR(uuid)));

    if (ret > 0) {
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        *server_id_r = strtoull(db_result_get(res, 0, 1), NULL, 10);
    }
    db_result_free(res);
    return ret < 0 ? ret : ret > 0;
}

static int
new_uuid(char uuid[37])
{
    if (token_uuid(uuid) < 0) {
        msg_warn("endpoint: the random number generator failed");
        return DB_ERR_TEMP;
    }
    return 0;
}

int
endpoint_http_create(DB *db, unsigned long long server_id, const ENDPOINT_HTTP *e, unsigned long long *id_r)
{
    char uuid[37];
    int ret;

    if ((ret = new_uuid(uuid)) < 0)
        return ret;
    ret = db_exec(db, "INSERT INTO http_endpoints (uuid, server_id, name, url, encoding, format, strip_replies, "
                  "include_attachments, timeout) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_UINT(server_id), DB_STR(e->name), DB_STR(e->url),
                          DB_STR(e->encoding ? e->encoding : "BodyAsJSON"), DB_STR(e->format ? e->format : "Hash"),
                          DB_INT(e->strip_replies > 0), DB_INT(e->include_attachments != 0),
                          DB_INT(e->timeout >= 0 ? e->timeout : 5)));
    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    return 1;
}

int
endpoint_http_update(DB *db, unsigned long long server_id, unsigned long long id, const ENDPOINT_HTTP *e)
{
    int ret = db_exec(db, "UPDATE http_endpoints SET name = COALESCE(?, name), url = COALESCE(?, url), "
                      "encoding = COALESCE(?, encoding), format = COALESCE(?, format), "
                      "strip_replies = IF(? < 0, strip_replies, ?), "
                      "include_attachments = IF(? < 0, include_attachments, ?), "
                      "timeout = IF(? < 0, timeout, ?) WHERE id = ? AND server_id = ?",
                      DB_ARGS(DB_STR(e->name), DB_STR(e->url), DB_STR(e->encoding), DB_STR(e->format),
                              DB_INT(e->strip_replies), DB_INT(e->strip_replies > 0),
                              DB_INT(e->include_attachments), DB_INT(e->include_attachments > 0),
                              DB_INT(e->timeout), DB_INT(e->timeout < 0 ? 5 : e->timeout),
                              DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : 0;
}

/* The sealed form of password into sealed (empty for NULL). DB_ERR_TEMP if the cipher fails. */
static int
seal_password(const SEAL_KEY *seal, const char *password, BUF *sealed)
{
    if (password && seal_encrypt(seal, SEAL_CONTEXT, password, strlen(password), sealed) < 0) {
        msg_warn("endpoint: sealing an SMTP password failed");
        return DB_ERR_TEMP;
    }
    return 0;
}

int
endpoint_smtp_create(DB *db, const SEAL_KEY *seal, unsigned long long server_id, const ENDPOINT_SMTP *e,
                     unsigned long long *id_r)
{
    BUF *sealed = buf_new(64);
    char uuid[37];
    int ret;

    if ((ret = new_uuid(uuid)) < 0 || (ret = seal_password(seal, e->password, sealed)) < 0) {
        buf_free(sealed);
        return ret;
    }
    ret = db_exec(db, "INSERT INTO smtp_endpoints (uuid, server_id, name, hostname, port, ssl_mode, username, "
                  "password_encrypted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_UINT(server_id), DB_STR(e->name), DB_STR(e->hostname),
                          DB_INT(e->port > 0 ? e->port : 25), DB_STR(e->ssl_mode ? e->ssl_mode : "Auto"),
                          DB_STR(e->username),
                          e->password ? DB_BLOB(buf_data(sealed), buf_len(sealed)) : DB_NULL));
    buf_free(sealed);
    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    return 1;
}

int
endpoint_smtp_update(DB *db, const SEAL_KEY *seal, unsigned long long server_id, unsigned long long id,
                     const ENDPOINT_SMTP *e)
{
    BUF *sealed = buf_new(64);
    int ret;

    if (e->set_password && (ret = seal_password(seal, e->password, sealed)) < 0) {
        buf_free(sealed);
        return ret;
    }
    ret = db_exec(db, "UPDATE smtp_endpoints SET name = COALESCE(?, name), hostname = COALESCE(?, hostname), "
                  "port = IF(? <= 0, port, ?), ssl_mode = COALESCE(?, ssl_mode), "
                  "username = IF(?, ?, username), password_encrypted = IF(?, ?, password_encrypted) "
                  "WHERE id = ? AND server_id = ?",
                  DB_ARGS(DB_STR(e->name), DB_STR(e->hostname), DB_INT(e->port), DB_INT(e->port),
                          DB_STR(e->ssl_mode), DB_INT(e->set_username != 0), DB_STR(e->username),
                          DB_INT(e->set_password != 0),
                          e->set_password && e->password ? DB_BLOB(buf_data(sealed), buf_len(sealed)) : DB_NULL,
                          DB_UINT(id), DB_UINT(server_id)));
    buf_free(sealed);
    return ret < 0 ? ret : 0;
}

int
endpoint_address_create(DB *db, unsigned long long server_id, const char *address, unsigned long long *id_r)
{
    char uuid[37];
    int ret;

    if ((ret = new_uuid(uuid)) < 0)
        return ret;
    ret = db_exec(db, "INSERT INTO address_endpoints (uuid, server_id, address) VALUES (?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_UINT(server_id), DB_STR(address)));
    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    return 1;
}

int
endpoint_address_update(DB *db, unsigned long long server_id, unsigned long long id, const char *address)
{
    int ret = db_exec(db, "UPDATE address_endpoints SET address = COALESCE(?, address) WHERE id = ? AND server_id = ?",
                      DB_ARGS(DB_STR(address), DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : 0;
}

static const char *const delete_sql[ENDPOINT_TYPES] = {
    "DELETE FROM http_endpoints WHERE id = ? AND server_id = ?",
    "DELETE FROM smtp_endpoints WHERE id = ? AND server_id = ?",
    "DELETE FROM address_endpoints WHERE id = ? AND server_id = ?",
};

int
endpoint_delete(DB *db, ENDPOINT_TYPE type, unsigned long long server_id, unsigned long long id)
{
    int ret = db_exec(db, delete_sql[type], DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}

int
endpoint_smtp_password(DB *db, const SEAL_KEY *seal, unsigned long long id, BUF *out)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT password_encrypted FROM smtp_endpoints WHERE id = ?", DB_ARGS(DB_UINT(id)));

    if (ret > 0 && db_result_get(res, 0, 0) != NULL) {
        if (seal_decrypt(seal, SEAL_CONTEXT, db_result_get(res, 0, 0), db_result_len(res, 0, 0), out) < 0) {
            msg_warn("SMTP endpoint %llu: sealed password does not open with this installation's secret key", id);
            ret = DB_ERR_PERM;
        } else {
            ret = 1;
        }
    } else if (ret > 0) {
        ret = 0;
    }
    db_result_free(res);
    return ret;
}
