/*
 * job.c -- periodic job leases (job.h).
 */
#include "config.h"

#include <stddef.h>

#include "mail/job.h"
#include "mail/lease.h"

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

int
job_reclaim_dead(DB *db, int (*dead)(const char *owner))
{
    return lease_reclaim_dead(db, "SELECT DISTINCT locked_by FROM jobs WHERE locked_by IS NOT NULL",
                   "UPDATE jobs SET locked_by = NULL, locked_until = NULL, "
                   "last_error = 'interrupted: its worker died' WHERE locked_by = ?", dead);
}
