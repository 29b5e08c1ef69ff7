/*
 * reclaim.h -- the "reclaim" task: gives back at once the leases (endpoint queue rows,
 * webhook outbox rows, periodic jobs) that a worker on this host held when it died, so a
 * worker restarted by its supervisor carries on within seconds instead of waiting for
 * the leases to run out (up to 12 minutes for an endpoint delivery).
 */
#ifndef PG_WORKER_RECLAIM_H
#define PG_WORKER_RECLAIM_H

#include "task.h"

int reclaim_start(WORKER_ENV *env, void **task_r);
void reclaim_stop(void *task);

/* 1 when owner names a process of host ("host/pid..." or "host:pid...") other than
 * self_pid that no longer exists; 0 otherwise (another host, a live or unknown process). */
int reclaim_owner_dead(const char *owner, const char *host, long self_pid);

#endif
