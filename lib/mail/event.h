/*
 * event.h -- webhook events: the outbox that postgate-worker delivers (DESIGN.md
 * "Webhooks", REFERENCE.md "Webhooks").
 *
 * Contract: event_queue() writes one webhook_outbox row per enabled webhook of the server
 * that wants the event (all_events, or the event listed in webhook_events), in the
 * caller's transaction, so an event exists exactly when the change that caused it was
 * committed. Each row gets its own uuid (the body's "uuid", which consumers use to
 * de-duplicate) and created_at (the body's "timestamp"). Payloads follow Postal's shapes;
 * event_message_object() builds Postal's message object for them.
 *
 * Must never: queue an event outside the caller's transaction, or queue for a webhook of
 * another server.
 */
#ifndef PG_EVENT_H
#define PG_EVENT_H

#include <jansson.h>

#include "mail/db.h"

/* The event names, as the webhook_* ENUM columns spell them. */
#define EVENT_MESSAGE_SENT "MessageSent"
#define EVENT_MESSAGE_DELAYED "MessageDelayed"
#define EVENT_MESSAGE_DELIVERY_FAILED "MessageDeliveryFailed"
#define EVENT_MESSAGE_HELD "MessageHeld"
#define EVENT_MESSAGE_BOUNCED "MessageBounced"
#define EVENT_MESSAGE_LINK_CLICKED "MessageLinkClicked"
#define EVENT_MESSAGE_LOADED "MessageLoaded"
#define EVENT_DOMAIN_DNS_ERROR "DomainDNSError"
#define EVENT_SEND_LIMIT_APPROACHING "SendLimitApproaching"
#define EVENT_SEND_LIMIT_EXCEEDED "SendLimitExceeded"
/* postgate's own (Postal's consumers ignore an event they do not know). */
#define EVENT_MESSAGE_COMPLAINED "MessageComplained"

/* 1 when name is one of the events above. */
int event_name_valid(const char *name);

/* Queues event with payload (not stolen) for server_id's webhooks. The number of rows
 * queued (0: nobody listens), or < 0 (DB_ERR_TEMP / DB_ERR_PERM). */
int event_queue(DB *db, unsigned long long server_id, const char *event, json_t *payload);

/* Postal's message object of message row id ({id, token, direction, message_id, to, from,
 * subject, timestamp, spam_status, tag}). 1 with *obj_r (json_decref it), 0 no such row,
 * < 0 database error. */
int event_message_object(DB *db, unsigned long long id, json_t **obj_r);
/* The same object from columns col.. of a result row that selected EVENT_MESSAGE_COLUMNS
 * of the messages table (for a caller that reads the row anyway): NULL when out of memory. */
#define EVENT_MESSAGE_COLUMNS "id, token, scope, message_id, rcpt_to, mail_from, subject, " \
    "UNIX_TIMESTAMP(created_at), spam_status, tag"
json_t *event_message_object_from(const DB_RESULT *res, size_t row, size_t col);

/* Postal's server object of server id ({uuid, name, permalink, organization}), as the
 * send-limit events carry it. 1 with *obj_r (json_decref it), 0 no such server, < 0. */
int event_server_object(DB *db, unsigned long long id, json_t **obj_r);

#endif
