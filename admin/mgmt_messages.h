/*
 * mgmt_messages.h -- what the message log's handlers (mgmt_messages.c) share with the
 * retry handlers (mgmt_retry.c): a message's list form and the list's search filters.
 */
#ifndef PG_MGMT_MESSAGES_H
#define PG_MGMT_MESSAGES_H

#include <jansson.h>

#include "mail/message.h"
#include "mgmt.h"

/* A message as the management API shows it in lists. */
json_t *mgmt_message_summary(const MESSAGE_ROW *m);

/* The search filters of the query string (to, from, subject, tag, message_id, status,
 * scope, since, until) into q for server_id; since and until hold the times. Errors go
 * to c (mgmt_has_errors()). */
void mgmt_messages_filter(MGMT_CALL *c, unsigned long long server_id, MESSAGE_QUERY *q, char since[32],
                          char until[32]);

#endif
