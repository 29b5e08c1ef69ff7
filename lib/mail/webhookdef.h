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

/* A webhook as webhookdef_list() gives it; times "YYYY-MM-DDTHH:MM:SSZ" or NULL. */
typedef struct webhookdef_row {
    unsigned long long id;
    const char *uuid;
    const char *name;
    const char *url;
    int all_events;
    int enabled;
    int sign;
    const char *last_used_at;
    const char *created_at;
    const char *updated_at;
} WEBHOOKDEF_ROW;
/* The webhooks of server_id (only uuid's when not NULL, only id's when not 0), by name and
 * id, as WEBHOOKDEF_ROWs into *rows (db_rows_free it): the row count, < 0 database error. */
int webhookdef_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows);
/* The events webhook id listens to, in the ENUM's order (rows->v is a const char *[]). */
int webhookdef_events(DB *db, unsigned long long id, DB_ROWS *rows);

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

/* A request of a webhook's log: status_code and duration_ms are -1 when not known
 * (no answer); payload is the event's JSON text, NULL once the outbox row is gone. */
typedef struct webhookdef_request_row {
    unsigned long long id;
    const char *event_uuid;
    const char *event;
    const char *url;
    long long attempt;
    long long status_code;
    const char *body;
    const char *error;
    int will_retry;
    long long duration_ms;
    const char *created_at;
    const char *payload;
} WEBHOOKDEF_REQUEST_ROW;
/* The request log of webhook id of server_id, newest first, only ids below before_id
 * (when not 0), at most limit rows, as WEBHOOKDEF_REQUEST_ROWs into *rows: the row count,
 * < 0 database error. */
int webhookdef_requests(DB *db, unsigned long long server_id, unsigned long long id, unsigned long long before_id,
                        unsigned limit, DB_ROWS *rows);

#define WEBHOOKDEF_GONE 2
/* Queues the event of request request_id of server_id again for its webhook: a new
 * webhook_outbox row (a new uuid, written to uuid_r) with the same event and payload.
 * 1 queued, 0 no such request of this server, WEBHOOKDEF_GONE its webhook or its payload
 * is no longer kept, < 0 database error. */
int webhookdef_retry(DB *db, unsigned long long server_id, unsigned long long request_id, char uuid_r[37]);

#endif
