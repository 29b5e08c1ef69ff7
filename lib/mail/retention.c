/*
 * retention.c -- per-server retention in bounded batches (retention.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/retention.h"
#include "util/mem.h"

int
retention_servers(DB *db, RETENTION_SERVER **list_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT id, raw_message_retention_days, raw_message_retention_size, "
                       "message_retention_days FROM servers WHERE deleted_at IS NULL ORDER BY id", DB_NOARGS);

    *list_r = NULL;
    if (ret > 0) {
        *list_r = mem_zalloc((size_t) ret * sizeof(**list_r));
        for (int i = 0; i < ret; i++) {
            (*list_r)[i].id = strtoull(db_result_get(res, (size_t) i, 0), NULL, 10);
            (*list_r)[i].raw_days = atoll(db_result_get(res, (size_t) i, 1));
            (*list_r)[i].raw_size_mb = atoll(db_result_get(res, (size_t) i, 2));
            (*list_r)[i].message_days = atoll(db_result_get(res, (size_t) i, 3));
        }
    }
    db_result_free(res);
    return ret;
}

int
retention_messages(DB *db, unsigned long long server_id, long long days, unsigned batch)
{
    /* Deliveries, links and queue rows go with them (ON DELETE CASCADE). */
    return db_exec(db, "DELETE FROM messages WHERE server_id = ? AND created_at < UTC_TIMESTAMP(6) - INTERVAL ? DAY "
                   "ORDER BY created_at LIMIT ?", DB_ARGS(DB_UINT(server_id), DB_INT(days), DB_UINT(batch)));
}

int
retention_raw_days(DB *db, unsigned long long server_id, long long days, unsigned batch)
{
    return db_exec(db, "DELETE FROM raw_messages WHERE server_id = ? AND created_day < UTC_DATE() - INTERVAL ? DAY "
                   "ORDER BY created_day, id LIMIT ?", DB_ARGS(DB_UINT(server_id), DB_INT(days), DB_UINT(batch)));
}

int
retention_raw_size(DB *db, unsigned long long server_id, long long cap_mb, unsigned batch,
                   unsigned long long *total_r)
{
    unsigned long long total, excess, freed = 0, cap = (unsigned long long) cap_mb * 1024 * 1024;
    char last_day[16] = "", last_id[24] = "";
    DB_RESULT *res = NULL;
    int ret;

    /* Covered by ix_raw_messages_server_day (server_id, created_day, id, size_bytes). */
    ret = db_query(db, &res, "SELECT IFNULL(SUM(size_bytes), 0) FROM raw_messages WHERE server_id = ?",
                   DB_ARGS(DB_UINT(server_id)));
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    total = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    if (total_r)
        *total_r = total;
    if (total <= cap)
        return 0;
    excess = total - cap;
    /* The oldest rows until the excess is covered: the last of them is the boundary. */
    ret = db_query(db, &res, "SELECT created_day, id, size_bytes FROM raw_messages WHERE server_id = ? "
                   "ORDER BY created_day, id LIMIT ?", DB_ARGS(DB_UINT(server_id), DB_UINT(batch)));
    for (int i = 0; ret > 0 && i < ret && freed < excess; i++) {
        snprintf(last_day, sizeof(last_day), "%s", db_result_get(res, (size_t) i, 0));
        snprintf(last_id, sizeof(last_id), "%s", db_result_get(res, (size_t) i, 1));
        freed += strtoull(db_result_get(res, (size_t) i, 2), NULL, 10);
    }
    db_result_free(res);
    if (ret <= 0)
        return ret;
    return db_exec(db, "DELETE FROM raw_messages WHERE server_id = ? AND (created_day < ? OR (created_day = ? AND "
                   "id <= ?)) ORDER BY created_day, id LIMIT ?",
                   DB_ARGS(DB_UINT(server_id), DB_STR(last_day), DB_STR(last_day),
                           DB_UINT(strtoull(last_id, NULL, 10)), DB_UINT(batch)));
}
