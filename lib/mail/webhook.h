/*
 * webhook.h -- the delivering side of webhooks: claiming due webhook_outbox rows under a
 * lease, the bodies to send, and the outcome of every attempt (webhook_requests, the
 * request log). event.h is the producing side.
 *
 * Contract: webhook_claim() takes due rows with SELECT ... FOR UPDATE SKIP LOCKED, so
 * workers on any number of hosts never claim the same row at once, and moves each claimed
 * row's next_attempt_at to the end of its lease: a worker that dies leaves rows that fall
 * due again by themselves (at-least-once delivery; consumers de-duplicate by uuid). An
 * outcome is recorded only for a row still leased to the owner that reports it (a row whose
 * lease expired and was claimed elsewhere keeps its new owner), but its attempt always goes
 * into the request log. Retries follow delays[] (seconds after the 1st, 2nd, ... failed
 * attempt); after the last one the row is `failed`, so a schedule of n delays means n + 1
 * attempts.
 *
 * Must never: claim a row another worker holds, or lose an outcome silently: a database
 * error is returned and the caller keeps the outcome to record it again.
 */
#ifndef PG_WEBHOOK_H
#define PG_WEBHOOK_H

#include <stddef.h>

#include "mail/conf.h"
#include "mail/db.h"

#define WEBHOOK_MAX_DELAYS 32
#define WEBHOOK_RESPONSE_MAX 4096       /* bytes of a response body kept in the request log */
#define WEBHOOK_ERROR_MAX 1000

/* One claimed row, with what sending it needs. */
typedef struct webhook_job {
    unsigned long long id;              /* webhook_outbox.id */
    unsigned long long server_id;
    unsigned long long webhook_id;
    char uuid[37];
    char event[32];
    unsigned attempts;                  /* attempts made before this one */
    char *url;
    int sign;                           /* the webhook's sign column */
    int enabled;                        /* 0: the webhook was disabled after the event was queued */
    char *body;                         /* {"event":...,"timestamp":...,"payload":...,"uuid":...} */
    size_t body_len;
} WEBHOOK_JOB;

/* What one attempt gave. */
typedef struct webhook_outcome {
    unsigned long long id, server_id, webhook_id;
    char uuid[37];
    char event[32];
    unsigned attempt;                   /* 1-based number of this attempt */
    const char *url;
    long status_code;                   /* 0: no HTTP answer */
    const char *body;                   /* start of the response body, NULL: none */
    size_t body_len;
    const char *error;                  /* NULL: none */
    unsigned duration_ms;
    int success;                        /* 2xx */
    int skipped;                        /* not attempted (webhook disabled): no request row */
} WEBHOOK_OUTCOME;

/* Parses webhooks.retry_delays (seconds, 1..86400 each, at most WEBHOOK_MAX_DELAYS).
 * 0 ok (*n_r delays), -1 with *error_r (mem_free it) naming the bad item. */
int webhook_retry_delays(const CONF_LIST *list, unsigned delays[WEBHOOK_MAX_DELAYS], size_t *n_r, char **error_r);

/* Claims at most max due rows for owner, leased for lease_seconds; rows of the webhooks in
 * exclude (a comma-separated id list, "" for none: webhooks with no room left) are left.
 * The number claimed (*jobs_r: webhook_jobs_free it), or < 0. */
int webhook_claim(DB *db, const char *owner, unsigned max, unsigned lease_seconds, const char *exclude,
                  WEBHOOK_JOB **jobs_r);
void webhook_jobs_free(WEBHOOK_JOB *jobs, size_t n);

/* Records n outcomes in one transaction: a request-log row each (unless skipped) and each
 * row delivered, pending again after delays[attempt - 1], or failed. 0 ok, < 0 (nothing
 * recorded: call again with the same outcomes). */
int webhook_record(DB *db, const char *owner, const WEBHOOK_OUTCOME *outcomes, size_t n,
                   const unsigned *delays, size_t ndelays);
/* Gives claimed rows back unattempted (due again now). 0 ok, < 0. */
int webhook_release(DB *db, const char *owner, const unsigned long long *ids, size_t n);

/* Gives back, due again now, the rows leased to an owner that dead(owner) says is gone.
 * The number of rows given back, or < 0. */
int webhook_reclaim_dead(DB *db, int (*dead)(const char *owner));

/* The events waiting for delivery (pending, due or not) and the age in seconds of the
 * oldest one (0 when none): 0, or < 0 database error. For monitoring. */
int webhook_backlog(DB *db, unsigned long long *count_r, double *oldest_seconds_r);

#endif
