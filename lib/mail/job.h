/*
 * job.h -- cluster-wide leases for periodic jobs (the jobs table): one worker on any
 * host runs a job at a time, and no more often than its period.
 *
 * Contract: job_acquire() takes the lease when nobody holds it (or the holder's lease
 * expired, e.g. its worker died) and the job last finished at least period seconds ago;
 * job_finish() records the outcome and gives the lease back. Works on Galera (plain row
 * updates; GET_LOCK() is not replicated).
 */
#ifndef PG_JOB_H
#define PG_JOB_H

#include "mail/db.h"

/* 1 the lease is ours for lease_seconds, 0 someone else holds it or it is not due yet,
 * < 0 database error. */
int job_acquire(DB *db, const char *name, const char *owner, unsigned lease_seconds, unsigned period_seconds);
/* Gives the lease back; error NULL for success, else a short text kept in last_error. */
int job_finish(DB *db, const char *name, const char *owner, const char *error);
/* Ends the leases of owners that dead(owner) says are gone (the job is due again at once).
 * The number of leases ended, or < 0. */
int job_reclaim_dead(DB *db, int (*dead)(const char *owner));

#endif
