/*
 * complaint.h -- recording a spam complaint against the message it is about (DESIGN.md
 * "Bounces"; an RFC 5965 feedback report that dsn_parse() calls DSN_COMPLAINT): the
 * stored report row is linked (complaint_for_id), the original's recipient goes on the
 * server's suppression list (source "complaint", kept until removed: a person who said
 * "spam" is not mailed again unless an operator decides so), and MessageComplained is
 * queued with {original_message, complaint, feedback}.
 *
 * The recipient is the original message's own recipient, never the report's
 * Original-Rcpt-To: the report's fields are the reporter's words, passed on in the
 * event's "feedback" and trusted for nothing. The original is found only among the
 * outgoing messages of the server whose return path the report reached, so a report
 * cannot touch another server's messages or list.
 *
 * Contract: complaint_record() works in the caller's transaction and never commits or
 * rolls back. Results: 1 recorded, 0 linked only (a second report about the same
 * message: one event per message) or no such original (*original_r 0), or DB_ERR_TEMP /
 * DB_ERR_PERM.
 *
 * Must never: queue MessageComplained twice for one message, or touch a message or
 * suppression list of another server.
 */
#ifndef PG_COMPLAINT_H
#define PG_COMPLAINT_H

#include "mail/db.h"
#include "mail/dsn.h"

/* Links report row report_id (an incoming message of server_id just stored) to outgoing
 * message original_id of the same server as dsn's complaint. *original_r is the row it
 * was linked to (0: none of this server). */
int complaint_record(DB *db, unsigned long long server_id, unsigned long long report_id,
                     unsigned long long original_id, const DSN *dsn, unsigned long long *original_r);

/* Postgate's sentence for the suppression reason of a complaint (mem_free). */
char *complaint_reason(const DSN *dsn);

#endif
