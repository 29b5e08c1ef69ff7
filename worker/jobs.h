/*
 * jobs.h -- the "jobs" task (task.h): periodic jobs under cluster-wide leases (job.h):
 * hold expiry, send-limit events, partition maintenance. One thread.
 */
#ifndef PG_WORKER_JOBS_H
#define PG_WORKER_JOBS_H

#include "task.h"

int jobs_start(WORKER_ENV *env, void **task_r);
void jobs_stop(void *task);

#endif
