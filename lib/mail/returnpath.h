/*
 * returnpath.h -- what a message that reaches a return path says about the message it
 * returns (DESIGN.md "Bounces"): dsn_parse() tells a bounce (DSN_REPORT, DSN_PLAIN) from
 * a spam complaint (DSN_COMPLAINT) and from anything else; this module finds the
 * original message and has bounce.c or complaint.c record it. postgate-worker's LMTP
 * server calls it for each return-path recipient.
 *
 * The original is the return path's own message (a per-message return path), else the
 * outgoing message of the same server whose token the report quotes (X-Postal-MsgID, for
 * Postal's per-server return path).
 *
 * Contract: returnpath_record() works in the caller's transaction. Functions answer
 * >= 0 or DB_ERR_TEMP / DB_ERR_PERM.
 *
 * Must never: look at another server's messages.
 */
#ifndef PG_RETURNPATH_H
#define PG_RETURNPATH_H

#include "mail/bounce.h"
#include "mail/db.h"
#include "mail/dsn.h"

typedef struct returnpath_report {
    unsigned long long original_id; /* the message the report is about; 0: not a report, or not found */
    unsigned long long linked;      /* after returnpath_record(): the row it was linked to, 0 none */
    int recorded;                   /* after returnpath_record(): 1 recorded (event queued), 0 linked only */
    BOUNCE_RESULT bounce;           /* a bounce's result */
} RETURNPATH_REPORT;

/* Sets rep->original_id for a message to a return path of server_id (rp_message_id: the
 * return path's own message, 0 for a per-server return path): 0 when dsn is neither a
 * bounce nor a complaint or no original is found. 0 or < 0 database error. */
int returnpath_find_original(DB *db, const DSN *dsn, unsigned long long server_id, unsigned long long rp_message_id,
                             RETURNPATH_REPORT *rep);

/* Records report row report_id (just stored for server_id) as what dsn says about
 * rep->original_id. 0 or < 0 database error. */
int returnpath_record(DB *db, unsigned long long server_id, unsigned long long report_id, const DSN *dsn,
                      RETURNPATH_REPORT *rep);

/* For the log: what the report is ("a bounce (RFC 3464, 5.1.1)") and what became of it
 * ("Bounced, MessageBounced queued"); mem_free the result. */
char *returnpath_describe(const DSN *dsn, const RETURNPATH_REPORT *rep);

#endif
