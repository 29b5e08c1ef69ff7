/*
 * queue.h -- the endpoint delivery queue of incoming messages (queued_messages: one row
 * per message and endpoint, written by inbound_queue_delivery() when the message is
 * stored) and the outcome of every delivery attempt (deliveries rows, the message's
 * status).
 *
 * Contract: queue_claim() takes due rows with SELECT ... FOR UPDATE SKIP LOCKED and
 * moves their next_attempt_at to the end of a lease, so workers on any number of hosts
 * never deliver a row at once and a worker that dies leaves rows that fall due again
 * (at-least-once delivery). queue_record() writes one attempt in one transaction: its
 * deliveries row, the message's status (Processed, SoftFail while retrying, HardFail,
 * Error) and the queue row (gone when finished, due again after the delay when
 * retrying; only while still leased to the recording owner).
 *
 * Must never: claim a row another worker holds, or drop an outcome: a database error is
 * returned and the caller records the same outcome again.
 */
#ifndef PG_QUEUE_H
#define PG_QUEUE_H

#include <stddef.h>

#include "mail/db.h"
#include "mail/endpoint.h"

/* One claimed row. */
typedef struct queue_job {
    unsigned long long id;              /* queued_messages.id */
    unsigned long long message_id;
    unsigned long long server_id;
    ENDPOINT_TYPE type;
    unsigned long long endpoint_id;
    unsigned attempts;                  /* attempts made before this one */
} QUEUE_JOB;

typedef enum {
    QUEUE_SENT,                         /* delivered: the message is Processed */
    QUEUE_RETRY,                        /* temporary failure: SoftFail, again after delay */
    QUEUE_FAILED,                       /* permanent failure: HardFail */
    QUEUE_ERROR                         /* cannot be attempted (endpoint or message gone): Error */
} QUEUE_RESULT;

/* What one attempt gave. */
typedef struct queue_outcome {
    unsigned long long id;              /* queued_messages.id */
    unsigned long long message_id;
    QUEUE_RESULT result;
    unsigned attempt;                   /* 1-based number of this attempt */
    unsigned delay;                     /* QUEUE_RETRY: seconds until the next attempt */
    const char *details;                /* what happened, for people */
    const char *output;                 /* the remote answer (status and start of the body), or NULL */
    int sent_with_ssl;
    double seconds;                     /* the attempt's duration */
} QUEUE_OUTCOME;

/* Claims at most max due rows for owner, leased for lease_seconds. The number claimed
 * (*jobs_r: mem_free it), or < 0. */
int queue_claim(DB *db, const char *owner, unsigned max, unsigned lease_seconds, QUEUE_JOB **jobs_r);

/* Records one outcome (see above). 0 ok, < 0 (nothing recorded). */
int queue_record(DB *db, const char *owner, const QUEUE_OUTCOME *o);

/* Gives claimed rows back unattempted (due again now). 0 ok, < 0. */
int queue_release(DB *db, const char *owner, unsigned long long id);

/* The status of QUEUE_RESULT r for messages and deliveries ("Processed", ...); the
 * deliveries row of a success says "Sent". */
const char *queue_message_status(QUEUE_RESULT r);
const char *queue_delivery_status(QUEUE_RESULT r);

/* Seconds to wait after the attempts-th failed attempt: about 1.3^attempts x base. */
unsigned queue_retry_delay(unsigned attempts, unsigned base);

/* Gives back, due again now, the rows leased to an owner that dead(owner) says is gone (a
 * worker on this host killed before it recorded them), instead of leaving them until their
 * lease ends. The number of rows given back, or < 0. */
int queue_reclaim_dead(DB *db, int (*dead)(const char *owner));

/* The endpoint deliveries waiting (due or not) and the age in seconds of the oldest one
 * (0 when none): 0, or < 0 database error. For monitoring. */
int queue_backlog(DB *db, unsigned long long *count_r, double *oldest_seconds_r);

#endif
