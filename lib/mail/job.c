/*
 * job.c -- periodic job leases (job.h).
 */
#include "config.h"

#include <stddef.h>

#include "mail/job.h"

int
job_acquire(DB *db, const char *name, const char *owner, unsigned lease_seconds, unsigned period_seconds)
{
    int ret = db_exec(db, "INSERT IGNORE INTO jobs (name) VALUES (?)", DB_ARGS(DB_STR(name)));

    if (ret < 0)
        return ret;
    ret = db_exec(db, "UPDATE jobs SET locked_by = ?, locked_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, "
                  "last_started_at = UTC_TIMESTAMP(6) WHERE name = ? "
                  "AND (locked_until IS NULL OR locked_until < UTC_TIMESTAMP(6)) "
                  "AND (last_finished_at IS NULL OR last_finished_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND)",
                  DB_ARGS(DB_STR(owner), DB_UINT(lease_seconds), DB_STR(name), DB_UINT(period_seconds)));
    return ret < 0 ? ret : ret > 0;
}

int
job_finish(DB *db, const char *name, const char *owner, const char *error)
{
    int ret = db_exec(db, "UPDATE jobs SET locked_by = NULL, locked_until = NULL, "
                      "last_finished_at = UTC_TIMESTAMP(6), last_error = LEFT(?, 1000) "
                      "WHERE name = ? AND locked_by = ?",
                      DB_ARGS(DB_STR(error), DB_STR(name), DB_STR(owner)));

    return ret < 0 ? ret : 0;
}

/* The distinct lease holders SQL lists (one column); for each one dead() says is gone,
 * RELEASE_SQL with it as the one parameter. Rows given back, or < 0. */
static int
reclaim(DB *db, const char *owners_sql, const char *release_sql, int (*dead)(const char *owner))
{
    DB_RESULT *res = NULL;
    int ret, total = 0;

    if ((ret = db_query(db, &res, owners_sql, NULL, 0)) < 0)
        return ret;
    for (size_t i = 0; i < db_result_rows(res) && ret >= 0; i++) {
        const char *owner = db_result_get(res, i, 0);

        if (owner == NULL || !dead(owner))
            continue;
        if ((ret = db_exec(db, release_sql, DB_ARGS(DB_STR(owner)))) > 0)
            total += ret;
    }
    db_result_free(res);
    return ret < 0 ? ret : total;
}

int
job_reclaim_dead(DB *db, int (*dead)(const char *owner))
{
    return reclaim(db, "SELECT DISTINCT locked_by FROM jobs WHERE locked_by IS NOT NULL",
                   "UPDATE jobs SET locked_by = NULL, locked_until = NULL, "
                   "last_error = 'interrupted: its worker died' WHERE locked_by = ?", dead);
}
