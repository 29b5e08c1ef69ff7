/*
 * turn.c -- turns (turn.h): one upsert on the turns table.
 */
#include "config.h"

#include "mail/turn.h"

int
turn_take(DB *db, const char *scope, unsigned long long id)
{
    int ret = db_exec(db, "INSERT INTO turns (scope, id, seq) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE seq = seq + 1",
                      DB_ARGS(DB_STR(scope), DB_UINT(id)));

    return ret < 0 ? ret : 0;
}
