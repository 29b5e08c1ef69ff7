/*
 * stats.h -- postgate-worker's metrics: the webhook and endpoint backlogs and their
 * oldest waiting item (read from MariaDB when scraped, at most once a second), attempts
 * by result, and how far the maillog reader is behind Postfix's log.
 * stats_init() registers them once at start; the others are cheap from any task.
 */
#ifndef PG_WORKER_STATS_H
#define PG_WORKER_STATS_H

#include "mail/queue.h"
#include "task.h"

void stats_init(WORKER_ENV *env);
void stats_webhook_attempt(int success);
void stats_endpoint_attempt(QUEUE_RESULT result);
/* Bytes of the Postfix log not yet read and recorded. */
void stats_maillog_unread(unsigned long long bytes);

#endif
