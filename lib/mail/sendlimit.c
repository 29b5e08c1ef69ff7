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
