/*
 * partition.c -- daily partition maintenance (partition.h).
 *
 * DDL cannot take parameters, so the ALTER statements are built here, but only from the
 * fixed table names below and dates computed from UTC_DATE(): no input reaches them.
 * They run through db_run_script() (not the statement cache, which keeps SQL pointers).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/partition.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define DAY_SECONDS 86400
#define MAX_AHEAD 60

static const char *const tables[] = {"raw_messages", "webhook_requests", "clicks", "loads"};

int
partition_table_known(const char *table)
{
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        if (strcmp(table, tables[i]) == 0)
            return 1;
    return 0;
}

/* Days since 1970-01-01 of "YYYY-MM-DD" or "YYYYMMDD"; -1 when malformed. */
static long
day_number(const char *s)
{
    struct tm tm;
    int y, m, d;
    char tail;

    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 && sscanf(s, "%4d%2d%2d%c", &y, &m, &d, &tail) != 3)
        return -1;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    return (long) (timegm(&tm) / DAY_SECONDS);
}

/* day number -> "YYYYMMDD" (sep "") or "YYYY-MM-DD" (sep "-"). */
static void
day_format(long day, const char *sep, char *out, size_t len)
{
    time_t t = (time_t) day * DAY_SECONDS;
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, len, "%04d%s%02d%s%02d", tm.tm_year + 1900, sep, tm.tm_mon + 1, sep, tm.tm_mday);
}

static int
run_ddl(DB *db, const char *table, BUF *sql)
{
    int failed, ret = db_run_script(db, buf_cstr(sql), buf_len(sql), &failed);

    if (ret < 0)
        msg_warn("partitions of %s: %s", table, db_error(db));
    return ret;
}

int
partition_maintain(DB *db, const char *table, unsigned ahead, unsigned keep_days, int *created_r,
                   int *dropped_r)
{
    DB_RESULT *res = NULL;
    BUF *sql = NULL;
    long today, last = -1, first_wanted;
    int ret, has_pmax = 0, ndrop = 0;

    *created_r = *dropped_r = 0;
    if (!partition_table_known(table))
        return DB_ERR_PERM;
    if (ahead > MAX_AHEAD)
        ahead = MAX_AHEAD;
    ret = db_query(db, &res, "SELECT UTC_DATE()", DB_NOARGS);
    if (ret < 0)
        return ret;
    today = day_number(db_result_get(res, 0, 0));
    db_result_free(res);
    res = NULL;
    if (today < 0)
        return DB_ERR_PERM;
    ret = db_query(db, &res, "SELECT PARTITION_NAME FROM information_schema.PARTITIONS "
                   "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL "
                   "ORDER BY PARTITION_ORDINAL_POSITION", DB_ARGS(DB_STR(table)));
    if (ret < 0)
        return ret;

    /* Drop first: old days, never today's, only our own pYYYYMMDD names. */
    sql = buf_new(256);
    for (size_t i = 0; i < db_result_rows(res); i++) {
        const char *name = db_result_get(res, i, 0);
        long day = name[0] == 'p' ? day_number(name + 1) : -1;

        if (strcmp(name, "pmax") == 0)
            has_pmax = 1;
        if (day < 0)
            continue;
        if (day > last)
            last = day;
        if (day < today - (long) keep_days && day < today) {
            buf_printf(sql, "%s%s", ndrop ? ", " : "", name);
            ndrop++;
        }
    }
    db_result_free(res);
    if (!has_pmax) {
        msg_warn("table %s has no pmax partition: not maintaining its partitions", table);
        buf_free(sql);
        return 0;
    }
    if (ndrop) {
        BUF *stmt = buf_new(256);

        buf_printf(stmt, "ALTER TABLE %s DROP PARTITION %s", table, buf_cstr(sql));
        ret = run_ddl(db, table, stmt);
        buf_free(stmt);
        if (ret < 0) {
            buf_free(sql);
            return ret;
        }
        *dropped_r = ndrop;
    }

    /* Split pmax into the missing days up to today + ahead (all in one statement). */
    buf_reset(sql);
    first_wanted = last >= today ? last + 1 : today;
    for (long day = first_wanted; day <= today + (long) ahead; day++) {
        char name[32], bound[32];

        day_format(day, "", name, sizeof(name));
        day_format(day + 1, "-", bound, sizeof(bound));
        if (*created_r == 0)
            buf_printf(sql, "ALTER TABLE %s REORGANIZE PARTITION pmax INTO (", table);
        buf_printf(sql, "PARTITION p%s VALUES LESS THAN ('%s'), ", name, bound);
        (*created_r)++;
    }
    if (*created_r) {
        buf_append_str(sql, "PARTITION pmax VALUES LESS THAN (MAXVALUE))");
        if ((ret = run_ddl(db, table, sql)) < 0)
            *created_r = 0;
    }
    buf_free(sql);
    return ret < 0 ? ret : 0;
}
