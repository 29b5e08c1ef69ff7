/*
 * delivery.h -- delivery results of the message rows postgate-milter records (outgoing
 * mail, and incoming mail for hosted mailboxes, which Postfix gives Dovecot): deliveries,
 * and the status of the rows they belong to, from what Postfix's log says happened to each
 * recipient; and held messages whose hold expired. Those rows, and only those, carry
 * Postfix's queue ID (the worker's incoming rows have none).
 *
 * Contract: delivery_record() writes, in the caller's transaction, one deliveries row
 * per matching message row, sets that row's status to the attempt's (the latest attempt
 * decides), queues Postal's webhook event (MessageSent / MessageDelayed /
 * MessageDeliveryFailed with {message, status, details, output, sent_with_ssl,
 * timestamp, time}); for an outgoing row, after a successful send it removes the
 * recipient from the server's suppression list, and after a HardFail the receiving server
 * gave (a 5xx reply from a relay; not Postfix's own verdicts, relay=none) it puts the
 * recipient on it for
 * SUPPRESSION_FAILURE_DAYS days with the reply as the reason (source "hard_fail"), as
 * Postal does. Rows are found by (postfix_queue_id, rcpt_to); held and
 * hold-cancelled rows are never touched by a log line.
 *
 * Must never: commit or roll back the caller's transaction, or match a row of another
 * queue ID.
 */
#ifndef PG_DELIVERY_H
#define PG_DELIVERY_H

#include <time.h>

#include "mail/db.h"

#define DELIVERY_SENT "Sent"
#define DELIVERY_SOFTFAIL "SoftFail"
#define DELIVERY_HARDFAIL "HardFail"
#define DELIVERY_HOLD_CANCELLED "HoldCancelled"

typedef struct delivery_attempt {
    const char *queue_id;       /* Postfix's queue ID (also the log_id) */
    const char *rcpt;           /* the recipient as Postfix logs it (to=) */
    const char *orig_rcpt;      /* orig_to=, tried when rcpt matches no row; may be NULL */
    const char *status;         /* DELIVERY_SENT, DELIVERY_SOFTFAIL or DELIVERY_HARDFAIL */
    const char *details;        /* a sentence for people */
    const char *output;         /* the remote server's reply */
    const char *dsn;            /* X.Y.Z, or NULL */
    const char *relay;          /* host[addr]:port, or NULL */
    int sent_with_ssl;
    double time;                /* seconds the delivery took, < 0 unknown */
    time_t when;                /* when it happened; 0 = now */
    int only_unfinished;        /* only rows still Pending or SoftFail (queue expiry) */
    char *token_r;              /* out, may be NULL: the first recorded row's message token, */
    size_t token_size;          /* ... in token_size bytes ("" when none was recorded) */
} DELIVERY_ATTEMPT;

/* 1 when a message row carries queue_id, 0 none, < 0 database error. */
int delivery_queue_id_known(DB *db, const char *queue_id);
/* The message rows recorded (0: none matched), or < 0 database error. */
int delivery_record(DB *db, const DELIVERY_ATTEMPT *a);
/* Postfix refused queue_id's message after the milter recorded it (a later milter,
 * header_checks, cleanup's size or write errors): its Pending rows (outgoing or for
 * mailboxes) and their raw copy are deleted, in the caller's transaction, so no history
 * shows mail the client was told was refused. Rows with any other status are left alone, so a repeated line
 * changes nothing. The rows deleted, or < 0 database error. */
int delivery_forget_refused(DB *db, const char *queue_id);
/* The distinct recipients of queue_id's rows still Pending or SoftFail (column 0), for
 * a queue file that expired. Row count or < 0; free *res_r. */
int delivery_unfinished_rcpts(DB *db, const char *queue_id, DB_RESULT **res_r);
/* Held rows whose hold_expires_at passed become HoldCancelled (a deliveries row each,
 * hold_expires_at cleared): at most limit rows, in one transaction of its own. The
 * count, or < 0 database error (nothing changed). */
int delivery_cancel_expired_holds(DB *db, unsigned limit);

#endif
