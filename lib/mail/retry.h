/*
 * retry.h -- sending a message again after it failed or was held (doc/manual.md
 * "Retrying messages"): an outgoing message that failed for good (HardFail, Bounced) or
 * is or was held (Held, HoldCancelled) is re-injected from its stored raw copy through
 * the release service (release.h: the milter signs it again and keeps its row, the log
 * reader records the new attempt on it); an incoming message whose endpoint delivery
 * failed for good (HardFail) is queued for its route's endpoints again. Like a release,
 * a retry is an operator's decision and bypasses holds (the suppression list too).
 *
 * One message is retried at once (retry_message()); many are marked (retry_mark()) and
 * retried by postgate-worker's `retries` job, oldest mark first, a bounded number per
 * round (retry_due()).
 *
 * Contract: every function takes the server the message must belong to, answers >= 0 or
 * DB_ERR_TEMP / DB_ERR_PERM, and runs its own transactions (not inside a caller's).
 * Must never: retry a message of another server, or one still on its way (Pending,
 * SoftFail: Postfix or the endpoint delivery has it).
 */
#ifndef PG_RETRY_H
#define PG_RETRY_H

#include "mail/conf.h"
#include "mail/db.h"
#include "util/seal.h"

/* The statuses a retry takes, for error messages. */
#define RETRY_STATUSES "HardFail, Bounced, Held or HoldCancelled (outgoing), HardFail (incoming)"

/* Results of retry_message() besides < 0. */
#define RETRY_DONE 1            /* re-injected, or queued for the endpoints again */
#define RETRY_NOT_FOUND 0       /* no message id of server_id */
#define RETRY_NOT_RETRYABLE 2   /* its status or scope is not one a retry takes (*error_r) */
#define RETRY_INJECT_FAILED 3   /* the release service refused or was down: the message is
                                 * left Held ("Retry requested"), to be released later (*error_r) */

/* Retries message id of server_id now; who (an e-mail address or "postgate-worker")
 * goes into the deliveries row. */
int retry_message(DB *db, const PGCONF *cfg, const SEAL_KEY *seal, unsigned long long server_id,
                  unsigned long long id, const char *who, char **error_r);

/* Marks message id of server_id for the `retries` job: 1 marked, 0 not retryable, already
 * marked, or not found. */
int retry_mark(DB *db, unsigned long long server_id, unsigned long long id);

/* A marked message, oldest mark first. */
typedef struct retry_due_row {
    unsigned long long id;
    unsigned long long server_id;
} RETRY_DUE_ROW;
/* At most limit marked messages as RETRY_DUE_ROWs into *rows (db_rows_free it): the count. */
int retry_due(DB *db, unsigned limit, DB_ROWS *rows);

#endif
