/*
 * bounce.h -- recording a bounce against the message it returns (DESIGN.md "Bounces"):
 * the stored bounce row is marked (bounce = 1, bounce_for_id), the original becomes
 * Bounced with a deliveries row giving the reason, MessageBounced is queued with
 * Postal's payload {original_message, bounce} (plus postgate's dsn fields), and a hard
 * bounce (5.x.x) puts the recipient on the server's suppression list (source "bounce",
 * the DSN's reason, BOUNCE_SUPPRESS_DAYS days).
 *
 * Counting one failure once: a bounce is a duplicate, linked but changing nothing else,
 * when
 *   - it is Postfix's own notice for a failure of this message: its per-message
 *     X-Postfix-Queue-ID is the original's postfix_queue_id. The log reader records that
 *     failure (HardFail, MessageDeliveryFailed) from the same delivery, whether it has
 *     read the line yet or not;
 *   - the original already is HardFail (the log recorded the failure, e.g. a relay
 *     stripped Postfix's queue ID) or Bounced (a second notice, or the same one delivered
 *     twice after a lost LMTP reply).
 *
 * Contract: bounce_record() works in the caller's transaction and never commits or rolls
 * back; every lookup is confined to the bounce's server. Results: 1 recorded, 0 linked
 * only (a duplicate, see *result_r), or DB_ERR_TEMP / DB_ERR_PERM.
 *
 * Must never: queue MessageBounced twice for one failure, or touch a message of another
 * server.
 */
#ifndef PG_BOUNCE_H
#define PG_BOUNCE_H

#include "mail/db.h"
#include "mail/dsn.h"
#include "mail/suppression.h"

#define BOUNCE_SUPPRESS_DAYS SUPPRESSION_FAILURE_DAYS

typedef enum {
    BOUNCE_RECORDED = 1,        /* Bounced, event queued (and suppressed when hard) */
    BOUNCE_POSTFIX_NOTICE,      /* Postfix's own DSN for this message: the log records it */
    BOUNCE_ALREADY_FAILED,      /* the original already is HardFail or Bounced */
} BOUNCE_RESULT;

/* The outgoing message of server_id whose token is token (an X-Postal-MsgID):
 * 1 with *id_r, 0 none, < 0 database error. */
int bounce_find_original(DB *db, unsigned long long server_id, const char *token, unsigned long long *id_r);

/* Records bounce row bounce_id (an incoming message of server_id just stored) as dsn's
 * bounce of message original_id. The recipient the DSN reports (dsn_failed_rcpt()) picks
 * the row of the same submission with that address when the return path named another
 * recipient's row. *original_r is the row it was linked to. */
int bounce_record(DB *db, unsigned long long server_id, unsigned long long bounce_id,
                  unsigned long long original_id, const DSN *dsn, unsigned long long *original_r,
                  BOUNCE_RESULT *result_r);

/* Postgate's sentence for the deliveries row and the suppression reason of r (mem_free). */
char *bounce_reason(const DSN_RCPT *r);

#endif
