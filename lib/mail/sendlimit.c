/*
 * sendlimit.c -- rolling-hour outgoing volume (sendlimit.h).
 */
#include "config.h"

#include <stdlib.h>

#include "mail/sendlimit.h"

int
sendlimit_volume(DB *db, unsigned long long server_id, long long *volume_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT COALESCE(SUM(count), 0) FROM send_volume WHERE server_id = ? "
                       "AND scope = 'outgoing' AND minute > UTC_TIMESTAMP() - INTERVAL 60 MINUTE",
                       DB_ARGS(DB_UINT(server_id)));

    if (ret < 0)
        return ret;
    *volume_r = atoll(db_result_get(res, 0, 0));
    db_result_free(res);
    return 0;
}

int
sendlimit_near(DB *db, DB_RESULT **res_r)
{
    /* The same rolling hour as sendlimit_volume(), for every limited server at once
     * (ix_send_volume_minute bounds the scan to the last hour's rows). */
    return db_query(db, res_r, "SELECT s.id, s.send_limit, SUM(v.count) FROM servers s "
                    "JOIN send_volume v ON v.server_id = s.id AND v.scope = 'outgoing' "
                    "AND v.minute > UTC_TIMESTAMP() - INTERVAL 60 MINUTE "
                    "WHERE s.send_limit IS NOT NULL AND s.deleted_at IS NULL "
                    "GROUP BY s.id, s.send_limit HAVING SUM(v.count) >= s.send_limit * 0.9 ORDER BY s.id",
                    DB_NOARGS);
}

int
sendlimit_mark_notified(DB *db, unsigned long long server_id, int exceeded)
{
    int ret = exceeded
        ? db_exec(db, "UPDATE servers SET send_limit_exceeded_at = UTC_TIMESTAMP(6) WHERE id = ? AND "
                  "(send_limit_exceeded_at IS NULL OR send_limit_exceeded_at <= UTC_TIMESTAMP(6) - INTERVAL 1 HOUR)",
                  DB_ARGS(DB_UINT(server_id)))
        : db_exec(db, "UPDATE servers SET send_limit_approaching_at = UTC_TIMESTAMP(6) WHERE id = ? AND "
                  "(send_limit_approaching_at IS NULL OR send_limit_approaching_at <= UTC_TIMESTAMP(6) - INTERVAL 1 HOUR)",
                  DB_ARGS(DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}
