/*
 * ndr.h -- the non-delivery report postgate-worker sends to the sender of an incoming
 * message that a route endpoint refused for good: an RFC 3464 delivery status
 * notification (multipart/report; report-type=delivery-status) with a human-readable
 * part, the message/delivery-status part and the original message's header
 * (text/rfc822-headers).
 *
 * Contract: the caller sends it with the null envelope sender `<>` (RFC 5321 §4.5.5),
 * so a report can never be bounced back in a loop, and never reports on mail whose
 * sender was already empty (ndr_wanted()).
 *
 * Must never: put a bare LF or a line longer than 998 octets into the report, or copy
 * the original's body (only its header).
 */
#ifndef PG_NDR_H
#define PG_NDR_H

#include <stddef.h>

typedef struct ndr {
    const char *reporting_mta;          /* host name for Reporting-MTA */
    const char *from;                   /* the From address (a server's postmaster address), or NULL:
                                         * MAILER-DAEMON at the recipient's domain */
    const char *sender;                 /* the original envelope sender: the report's To */
    const char *recipient;              /* the original recipient (Final-Recipient) */
    const char *status;                 /* "5.0.0" style */
    const char *diagnostic;             /* Diagnostic-Code text without the type, or NULL */
    const char *details;                /* one line for people */
    const char *original_message_id;    /* or NULL */
    const void *original;               /* the original message (its header is copied) */
    size_t original_len;
} NDR;

/* 1 when a report may be sent for mail from sender (not empty, not MAILER-DAEMON). */
int ndr_wanted(const char *sender);

/* The report as a CRLF message (mem_free it). */
char *ndr_build(const NDR *n, size_t *len_r);

#endif
