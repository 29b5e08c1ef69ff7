/*
 * partition.h -- daily partitions of the day-partitioned tables (raw_messages,
 * webhook_requests, clicks, loads; schema/001_initial.sql "Retention plan").
 *
 * Contract: partition_maintain() keeps a daily partition pYYYYMMDD (rows with
 * created_day < the next day) for today and the next `ahead` days, split off pmax with
 * one REORGANIZE PARTITION (pmax stays empty, so the split copies no rows), and drops
 * every daily partition whose day is more than keep_days before today (DROP PARTITION:
 * no scan). "Today" is MariaDB's UTC_DATE(), the same clock that fills created_day.
 * Only partitions named pYYYYMMDD are ever dropped, never today's or pmax.
 *
 * Must never: touch a table outside the four, or build DDL from anything but those
 * table names and dates it computed itself.
 */
#ifndef PG_PARTITION_H
#define PG_PARTITION_H

#include "mail/db.h"

/* 1 when table is one of the day-partitioned tables. */
int partition_table_known(const char *table);
/* 0 with the partitions created and dropped counted, or < 0 database error. */
int partition_maintain(DB *db, const char *table, unsigned ahead, unsigned keep_days, int *created_r,
                       int *dropped_r);

#endif
