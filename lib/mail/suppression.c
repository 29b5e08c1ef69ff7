/*
 * suppression.c -- suppression list lookups (suppression.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>

#include "mail/suppression.h"
#include "util/mem.h"

int
suppression_check(DB *db, unsigned long long server_id, const char *address, char *reason, size_t len)
{
    char *lower = mem_strdup(address);
    DB_RESULT *res;
    int ret;

    for (char *p = lower; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    ret = db_query(db, &res, "SELECT reason FROM suppressions WHERE server_id = ? AND address = ? "
                   "AND (keep_until IS NULL OR keep_until > UTC_TIMESTAMP(6))",
                   DB_ARGS(DB_UINT(server_id), DB_STR(lower)));
    mem_free(lower);
    if (ret > 0)
        snprintf(reason, len, "%s", db_result_get(res, 0, 0));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
suppression_remove(DB *db, unsigned long long server_id, const char *address)
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
