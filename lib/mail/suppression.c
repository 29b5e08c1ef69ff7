/*
 * suppression.c -- the suppression list (suppression.h): the milter's lookup, and the
 * listing, adding and removing the management API does.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/domain.h"
#include "mail/suppression.h"
#include "util/buf.h"
#include "util/mem.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

int
suppression_check(DB *db, unsigned long long server_id, const char *address, char *reason, size_t len)
{
    char *lower = mem_strdup(address), *wild;
    const char *at;
    DB_RESULT *res;
    int ret;

    for (char *p = lower; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    /* The address itself, or its domain's "*@domain" entry; the address's own reason first. */
    at = strrchr(lower, '@');
    wild = at ? buf_asprintf("*%s", at) : mem_strdup(lower);
    ret = db_query(db, &res, "SELECT reason FROM suppressions WHERE server_id = ? AND address IN (?, ?) "
                   "AND (keep_until IS NULL OR keep_until > UTC_TIMESTAMP(6)) ORDER BY address = ? DESC LIMIT 1",
                   DB_ARGS(DB_UINT(server_id), DB_STR(lower), DB_STR(wild), DB_STR(lower)));
    mem_free(wild);
    mem_free(lower);
    if (ret > 0)
        snprintf(reason, len, "%s", db_result_get(res, 0, 0));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
suppression_remove_address(DB *db, unsigned long long server_id, const char *address)
{
    char *lower = mem_strdup(address);
    int ret;

    for (char *p = lower; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    ret = db_exec(db, "DELETE FROM suppressions WHERE server_id = ? AND address = ?",
                  DB_ARGS(DB_UINT(server_id), DB_STR(lower)));
    mem_free(lower);
    return ret;
}

int
suppression_forget_message(DB *db, unsigned long long server_id, unsigned long long message_id)
{
    return db_exec(db, "UPDATE suppressions SET message_id = NULL WHERE server_id = ? AND message_id = ?",
                   DB_ARGS(DB_UINT(server_id), DB_UINT(message_id)));
}

int
suppression_address_normalize(const char *in, size_t len, char *out, char **error_r)
{
    char domain[254];
    const char *at;
    size_t local;

    while (len > 0 && (*in == ' ' || *in == '\t')) {
        in++;
        len--;
    }
    while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t'))
        len--;
    if (len == 0) {
        *error_r = mem_strdup("is empty");
        return 0;
    }
    if (len > SUPPRESSION_ADDRESS_MAX) {
        *error_r = mem_strdup("is longer than 320 characters");
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) in[i];

        if (ch < 0x21 || ch > 0x7e) {
            *error_r = mem_strdup("must be printable ASCII without spaces (an internationalized domain as its xn-- form)");
            return 0;
        }
        out[i] = (char) tolower(ch);
    }
    out[len] = '\0';
    at = strrchr(out, '@');
    if (at == NULL || at == out || at[1] == '\0') {
        *error_r = mem_strdup("must be an e-mail address such as user@example.com");
        return 0;
    }
    local = (size_t) (at - out);
    if (local > 64 || strcspn(out, "<>()[]\\,;:\"@") < local) {
        *error_r = mem_strdup("has a local part that is too long or holds one of <>()[]\\,;:\"@");
        return 0;
    }
    if (!domain_name_normalize(at + 1, domain, sizeof(domain))) {
        *error_r = mem_strdup("has a domain that is not a domain name such as example.com");
        return 0;
    }
    return 1;
}

#define COL(kind, field) DB_COL_AT(kind, SUPPRESSION_ROW, field)
static const DB_COL suppression_cols[] = {
    COL(DB_COL_ID, id), COL(DB_COL_STR, address), COL(DB_COL_STR, reason), COL(DB_COL_STR, source),
    COL(DB_COL_STR, keep_until), COL(DB_COL_STR, created_at), COL(DB_COL_STR, updated_at),
};
#undef COL

int
suppression_list(DB *db, unsigned long long server_id, const char *search, unsigned long long before_id,
                 unsigned long long id, unsigned limit, DB_ROWS *rows)
{
    BUF *pattern = NULL;
    int ret;

    if (search) {
        /* LIKE's own metacharacters in the search text match themselves. */
        pattern = buf_new(64);
        buf_append_char(pattern, '%');
        for (const char *p = search; *p; p++) {
            if (*p == '%' || *p == '_' || *p == '\\')
                buf_append_char(pattern, '\\');
            buf_append_char(pattern, (char) tolower((unsigned char) *p));
        }
        buf_append_char(pattern, '%');
    }
    ret = db_query_rows(db, rows, suppression_cols, sizeof(suppression_cols) / sizeof(suppression_cols[0]),
                        sizeof(SUPPRESSION_ROW), "SELECT id, address, reason, source, " TS("keep_until") ", " TS("created_at") ", "
                   TS("updated_at") " FROM suppressions WHERE server_id = ? AND (? IS NULL OR address LIKE ?) "
                   "AND (? = 0 OR id < ?) AND (? = 0 OR id = ?) ORDER BY id DESC LIMIT ?",
                   DB_ARGS(DB_UINT(server_id), pattern ? DB_STR(buf_cstr(pattern)) : DB_NULL,
                           pattern ? DB_STR(buf_cstr(pattern)) : DB_NULL, DB_UINT(before_id), DB_UINT(before_id),
                           DB_UINT(id), DB_UINT(id), DB_UINT(limit)));
    if (pattern)
        buf_free(pattern);
    return ret;
}

int
suppression_find(DB *db, unsigned long long server_id, const char *address, unsigned long long *id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT id FROM suppressions WHERE server_id = ? AND address = ?",
                       DB_ARGS(DB_UINT(server_id), DB_STR(address)));

    if (ret > 0)
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret < 0 ? ret : ret > 0;
}

int
suppression_add(DB *db, unsigned long long server_id, const char *address, const char *reason, const char *source,
                unsigned keep_days, int replace)
{
    int ret;

    if (replace)
        ret = db_exec(db, "INSERT INTO suppressions (server_id, address, reason, source, keep_until) "
                      "VALUES (?, ?, ?, ?, IF(? = 0, NULL, UTC_TIMESTAMP(6) + INTERVAL ? DAY)) "
                      "ON DUPLICATE KEY UPDATE reason = VALUES(reason), source = VALUES(source), "
                      "keep_until = VALUES(keep_until)",
                      DB_ARGS(DB_UINT(server_id), DB_STR(address), DB_STR(reason ? reason : ""), DB_STR(source),
                              DB_UINT(keep_days), DB_UINT(keep_days)));
    else
        ret = db_exec(db, "INSERT IGNORE INTO suppressions (server_id, address, reason, source, keep_until) "
                      "VALUES (?, ?, ?, ?, IF(? = 0, NULL, UTC_TIMESTAMP(6) + INTERVAL ? DAY))",
                      DB_ARGS(DB_UINT(server_id), DB_STR(address), DB_STR(reason ? reason : ""), DB_STR(source),
                              DB_UINT(keep_days), DB_UINT(keep_days)));
    return ret < 0 ? ret : ret == 1;
}

int
suppression_remove(DB *db, unsigned long long server_id, unsigned long long id)
{
    int ret = db_exec(db, "DELETE FROM suppressions WHERE id = ? AND server_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}
