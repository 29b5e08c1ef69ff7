/*
 * logpos.c -- Postfix log read positions (logpos.h).
 */
#include "config.h"

#include <stdlib.h>

#include "mail/logpos.h"

int
logpos_get(DB *db, const char *host, const char *path, unsigned long long *inode_r,
           unsigned long long *offset_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT inode, byte_offset FROM postfix_log_positions "
                       "WHERE host = ? AND file_path = ?", DB_ARGS(DB_STR(host), DB_STR(path)));

    if (ret > 0) {
        *inode_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        *offset_r = strtoull(db_result_get(res, 0, 1), NULL, 10);
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
logpos_set(DB *db, const char *host, const char *path, unsigned long long inode, unsigned long long offset)
{
    int ret = db_exec(db, "INSERT INTO postfix_log_positions (host, file_path, inode, byte_offset) "
                      "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE inode = VALUES(inode), "
                      "byte_offset = VALUES(byte_offset)",
                      DB_ARGS(DB_STR(host), DB_STR(path), DB_UINT(inode), DB_UINT(offset)));

    return ret < 0 ? ret : 0;
}
