/*
 * forward.h -- how postgate-worker hands Postfix's forward service (postfix.forward_address)
 * the mail of Address endpoints and the reports after a failed endpoint delivery, and how
 * postgate-milter knows that mail came from postgate.
 *
 * The worker puts one X-Postgate-Forward header on top of the message:
 *
 *   X-Postgate-Forward: v=1; kind=forward; server=12; message=345; rcpt=a@example.net;
 *       token=abcdefgh12345678; time=1700000000; mac=<hex>
 *
 * kind is "forward" (an Address endpoint: the milter records it as an outgoing message of
 * server, linked to incoming message, with row token token) or "report" (a delivery
 * report, null sender: passed on as it is). The MAC (HMAC-SHA256 under the installation
 * key, context "forward") covers everything before "; mac=", so a header names one
 * server, one incoming message, one recipient and one token, and is good for
 * FORWARD_MAX_AGE seconds.
 *
 * Contract: forward_header_verify() answers 1 only for a header a postgate program made
 * under this installation's key, for exactly this recipient, within its age.
 * Must never: be accepted from anywhere but the forward service (the milter removes the
 * header on every other path), or leave Postfix (the milter removes it).
 */
#ifndef PG_FORWARD_H
#define PG_FORWARD_H

#include <stddef.h>
#include <time.h>

#include "util/seal.h"

#define FORWARD_HEADER "X-Postgate-Forward"
#define FORWARD_MAC_CONTEXT "forward"
/* milter_macro_daemon_name of the forward service (postgatectl postfix enable sets it). */
#define FORWARD_DAEMON_NAME "postgate-forward"
/* The daemon name of the loopback service for Dovecot's Sieve mail (postfix.dovecot_address). */
#define DOVECOT_DAEMON_NAME "postgate-dovecot"
#define FORWARD_MAX_AGE 3600
/* The text of the milter's deferral when the server is over its send limit; the worker
 * knows a deferral by it and tries again later without counting an attempt. */
#define FORWARD_SEND_LIMIT_REPLY "Send limit of the server reached: forward deferred"

typedef enum { FORWARD_KIND_FORWARD = 1, FORWARD_KIND_REPORT = 2 } FORWARD_KIND;

typedef struct forward_info {
    FORWARD_KIND kind;
    unsigned long long server_id;
    unsigned long long message_id;     /* the incoming message */
    char rcpt[321];
    char token[17];
    long long time;
} FORWARD_INFO;

/* The header value (without the name, no leading space, one line). */
char *forward_header_make(const SEAL_KEY *seal, const FORWARD_INFO *fi);
/* Checks value (as a milter passes it: leading space, possibly folded) for rcpt at now:
 * 1 valid (*out), 0 not valid (*why_r: a static reason). */
int forward_header_verify(const SEAL_KEY *seal, const char *value, const char *rcpt, time_t now,
                          FORWARD_INFO *out, const char **why_r);

#endif
