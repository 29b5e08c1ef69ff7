/*
 * webhooks.h -- postgate-worker's "webhooks" task: delivers the webhook outbox (task.h).
 *
 * One thread drives libcurl's multi interface: it claims due rows (webhook.h) while there
 * is room (webhooks.max_in_flight in all, webhooks.max_in_flight_per_webhook per webhook),
 * signs each body with the installation key (signkey.h) when the webhook wants it, POSTs
 * them all at once with webhooks.timeout seconds each, and records every attempt in
 * batches. A slow or dead receiver holds only its own slots; the others go on.
 * Every request carries Idempotency-Key "<event uuid>" and is guarded (httpsend.h: no
 * internal address unless security.outbound_allowed_networks lists it).
 *
 * Must never: drop an outcome because MariaDB is down (outcomes wait in memory and are
 * recorded when it is back; rows whose lease ran out meanwhile are sent again: delivery is
 * at least once), or block on one receiver.
 */
#ifndef PG_WORKER_WEBHOOKS_H
#define PG_WORKER_WEBHOOKS_H

#include "task.h"

/* -t: the number of problems in the task's settings (each logged). */
int webhooks_test_config(const PGCONF *cfg);
int webhooks_prepare(WORKER_ENV *env, void **task_r);
int webhooks_start(WORKER_ENV *env, void **task_r);
void webhooks_stop(void *task);

#endif
