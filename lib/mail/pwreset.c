/*
 * pwreset.c -- pwreset.h over the table user_password_resets.
 */
#include "config.h"

#include <stdlib.h>

#include "mail/pwreset.h"

int
pwreset_create(DB *db, unsigned long long user_id, const char *token_hash)
{
    /* One statement: a row younger than the interval stays as it is (0 rows changed). */
    int ret = db_exec(db, "INSERT INTO user_password_resets (user_id, token_hash, expires_at) "
                      "VALUES (?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND) "
                      "ON DUPLICATE KEY UPDATE "
                      "token_hash = IF(created_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, VALUES(token_hash), token_hash), "
                      "expires_at = IF(created_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, VALUES(expires_at), expires_at), "
                      "created_at = IF(created_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND, UTC_TIMESTAMP(6), created_at)",
                      DB_ARGS(DB_UINT(user_id), DB_STR(token_hash), DB_INT(PWRESET_LIFETIME), DB_INT(PWRESET_INTERVAL),
                              DB_INT(PWRESET_INTERVAL), DB_INT(PWRESET_INTERVAL)));

    return ret < 0 ? ret : ret > 0;
}

int
pwreset_find(DB *db, const char *token_hash, unsigned long long *user_id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT r.user_id FROM user_password_resets r JOIN users u ON u.id = r.user_id "
                       "WHERE r.token_hash = ? AND r.expires_at > UTC_TIMESTAMP(6) AND u.deleted_at IS NULL "
                       "FOR UPDATE", DB_ARGS(DB_STR(token_hash)));

    if (ret > 0)
        *user_id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
pwreset_delete(DB *db, unsigned long long user_id)
{
    return db_exec(db, "DELETE FROM user_password_resets WHERE user_id = ?", DB_ARGS(DB_UINT(user_id)));
}
