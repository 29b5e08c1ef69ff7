/*
 * retention.h -- per-server retention (doc/schema.md "Retention plan"): the message log
 * after message_retention_days, raw messages after raw_message_retention_days and beyond
 * raw_message_retention_size MB (the oldest go first). Each call removes at most one
 * batch, on an index that starts with server_id (ix_messages_server_created,
 * ix_raw_messages_server_day), never scanning a table; postgate-worker's retention job
 * calls them until a batch comes back short or its per-run budget is spent. Partitions
 * older than the longest retention of any server are dropped by the partitions job.
 *
 * A message row whose raw copy went answers its raw, body and attachments as expired
 * (message_view.h), as Postal does.
 * Must never: remove a row of another server, or a raw message younger than its days
 * unless the size cap needs it.
 */
#ifndef PG_RETENTION_H
#define PG_RETENTION_H

#include "mail/db.h"

typedef struct retention_server {
    unsigned long long id;
    long long raw_days, raw_size_mb, message_days;
} RETENTION_SERVER;

/* The servers not deleted with their settings, into *list_r (mem_free it): the count, < 0. */
int retention_servers(DB *db, RETENTION_SERVER **list_r);
/* One batch each: the rows removed (< batch: nothing more now), or < 0. */
int retention_messages(DB *db, unsigned long long server_id, long long days, unsigned batch);
int retention_raw_days(DB *db, unsigned long long server_id, long long days, unsigned batch);
/* Removes the oldest raw messages while the server's total is over cap_mb: rows removed in
 * this batch, 0 when under the cap, < 0. *total_r (may be NULL) the total before. */
int retention_raw_size(DB *db, unsigned long long server_id, long long cap_mb, unsigned batch,
                       unsigned long long *total_r);

#endif
