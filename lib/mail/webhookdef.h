/*
 * webhookdef.h -- what a server's webhooks are (name, url, all events or a list, enabled,
 * signed), their request log as the delivery code recorded it, and sending an event again.
 * Delivering the outbox is lib/mail/webhook.c's; queueing new events is event.c's.
 *
 * Contract: the tables webhooks and webhook_events are this module's; it reads
 * webhook_requests and adds rows to webhook_outbox only in webhookdef_retry(). Functions
 * return >= 0 on success or DB_ERR_TEMP / DB_ERR_PERM (db.h). Event names are checked by
 * the caller with event_name_valid() (event.h).
 *
 * Must never: read or re-queue a request of another server than the one named.
 */
#ifndef PG_WEBHOOKDEF_H
#define PG_WEBHOOKDEF_H

#include <stddef.h>

#include "mail/db.h"

/* Columns of webhookdef_list()'s rows; times "YYYY-MM-DDTHH:MM:SSZ" or NULL. */
enum webhookdef_col {
    WEBHOOK_COL_ID, WEBHOOK_COL_UUID, WEBHOOK_COL_NAME, WEBHOOK_COL_URL, WEBHOOK_COL_ALL_EVENTS, WEBHOOK_COL_ENABLED,
    WEBHOOK_COL_SIGN, WEBHOOK_COL_LAST_USED, WEBHOOK_COL_CREATED, WEBHOOK_COL_UPDATED
};
/* The webhooks of server_id (only uuid's when not NULL), by name and id, into *res_r
 * (db_result_free it): the row count, < 0 database error. */
int webhookdef_list(DB *db, unsigned long long server_id, const char *uuid, DB_RESULT **res_r);
/* The events webhook id listens to (rows of one column, in the ENUM's order). */
int webhookdef_events(DB *db, unsigned long long id, DB_RESULT **res_r);

/* 1 created (*id_r), < 0 database error. */
int webhookdef_create(DB *db, unsigned long long server_id, const char *name, const char *url, int all_events,
                      int enabled, int sign, unsigned long long *id_r);
/* Changes webhook id of server_id: NULL strings and flags < 0 stay. 0, < 0 database error. */
int webhookdef_update(DB *db, unsigned long long server_id, unsigned long long id, const char *name, const char *url,
                      int all_events, int enabled, int sign);
/* Replaces the event list of webhook id with events[0..n). 0, < 0 database error. */
int webhookdef_set_events(DB *db, unsigned long long id, const char *const *events, size_t n);
/* 1 deleted (its events, queued deliveries and outbox rows with it), 0 none, < 0 database error. */
int webhookdef_delete(DB *db, unsigned long long server_id, unsigned long long id);

/* Columns of webhookdef_requests()'s rows. */
enum webhookdef_request_col {
    WHREQ_COL_ID, WHREQ_COL_EVENT_UUID, WHREQ_COL_EVENT, WHREQ_COL_URL, WHREQ_COL_ATTEMPT, WHREQ_COL_STATUS_CODE,
    WHREQ_COL_BODY, WHREQ_COL_ERROR, WHREQ_COL_WILL_RETRY, WHREQ_COL_DURATION_MS, WHREQ_COL_CREATED,
    WHREQ_COL_PAYLOAD           /* the event's payload (JSON text), NULL once the outbox row is gone */
};
/* The request log of webhook id of server_id, newest first, only ids below before_id
 * (when not 0), at most limit rows, into *res_r: the row count, < 0 database error. */
int webhookdef_requests(DB *db, unsigned long long server_id, unsigned long long id, unsigned long long before_id,
                        unsigned limit, DB_RESULT **res_r);

#define WEBHOOKDEF_GONE 2
/* Queues the event of request request_id of server_id again for its webhook: a new
 * webhook_outbox row (a new uuid, written to uuid_r) with the same event and payload.
 * 1 queued, 0 no such request of this server, WEBHOOKDEF_GONE its webhook or its payload
 * is no longer kept, < 0 database error. */
int webhookdef_retry(DB *db, unsigned long long server_id, unsigned long long request_id, char uuid_r[37]);

#endif
