/*
 * inspection.h -- the spam and virus verdict on an incoming message, carried from
 * postgate-milter (which asks spamd and clamd at SMTP time) to postgate-worker (which
 * records it on the message rows and quarantines) in one header the milter signs:
 *
 *   X-Postgate-Inspection: v=1; spam=7.3; rules=GTUBE:1000.0,...; threat=clean;
 *       servers=12:S,13:N; spf=pass; dkim=pass; dkimd=example.org; mac=<hex>
 *
 * spam is the score or "unchecked", threat "clean", "infected:<name>" or "unchecked",
 * servers the spam verdict under each recipient server's own spam_threshold (S spam,
 * N not), spf and dkim how the envelope sender was authenticated (dkimd the signature's
 * d=; the three are absent when not checked). The MAC (HMAC-SHA256 under the installation key, context "inspection")
 * covers the fields and a digest of the message body with all white space removed, so
 * a verdict cannot be moved onto other content and survives the line folding and
 * line-end changes Postfix may make on the way to LMTP. Folding white space in the
 * header value is ignored.
 *
 * Contract: inspection_from_headers() answers 1 only for a header made by a postgate
 * program for this body; a forged, damaged or transplanted one is -1, never trusted.
 *
 * Must never: trust the visible X-Postal-Spam* / X-Postal-Threat* headers (anybody can
 * write those; the milter removes them from incoming mail and writes its own).
 */
#ifndef PG_INSPECTION_H
#define PG_INSPECTION_H

#include <stddef.h>

#include "mail/inbound.h"
#include "mail/message.h"
#include "mail/server.h"
#include "mail/spamd.h"
#include "util/seal.h"

#define INSPECTION_HEADER "X-Postgate-Inspection"
#define INSPECTION_MAC_CONTEXT "inspection"
#define INSPECTION_MAX_SERVERS 64
/* Postal's hold reason for a route in Quarantine mode. */
#define INSPECTION_QUARANTINE_REASON "Message placed into quarantine."

typedef struct inspection_server {
    unsigned long long id;
    int spam;                   /* score above that server's spam_threshold */
} INSPECTION_SERVER;

typedef struct inspection {
    int spam_checked;           /* spamd scored the message */
    double spam_score;
    SPAMD_RULE rules[SPAMD_MAX_RULES];
    size_t nrules;
    int threat_checked;         /* clamd scanned the message */
    int threat;
    char threat_details[128];   /* the signature name when threat */
    INSPECTION_SERVER servers[INSPECTION_MAX_SERVERS];
    size_t nservers;
    /* How the envelope sender was authenticated (senderauth.h); "" when not checked. */
    char spf[16];               /* pass, fail, softfail, neutral, none, temperror, permerror */
    char dkim[16];              /* pass, fail, none, temperror */
    char dkim_domain[254];      /* d= of the signature dkim is about */
} INSPECTION;

/* The header value (leading space, folded with "\n\t" as a milter passes it). */
char *inspection_header_make(const SEAL_KEY *seal, const INSPECTION *in, const void *body, size_t len);
/* Verifies one header value against body: 1 valid (*out), 0 not valid. */
int inspection_header_verify(const SEAL_KEY *seal, const char *value, const void *body, size_t len,
                             INSPECTION *out);
/* Finds INSPECTION_HEADER in a raw header block (CRLF or LF lines, folded lines
 * allowed) and verifies it: 1 valid (*out), 0 absent, -1 present but none valid. */
int inspection_from_headers(const SEAL_KEY *seal, const char *headers, size_t hlen, const void *body,
                            size_t blen, INSPECTION *out);

/* Adds server_id's verdict (once per server; the first INSPECTION_MAX_SERVERS). */
void inspection_add_server(INSPECTION *in, unsigned long long server_id, int spam);
/* "Spam", "NotSpam" or "NotChecked" for a recipient of server_id. */
const char *inspection_spam_status(const INSPECTION *in, unsigned long long server_id);
/* The row fields for a recipient of server_id; *checks_r is the JSON of the rules
 * (mem_free it; NULL when spamd did not score). */
void inspection_row(const INSPECTION *in, unsigned long long server_id, MESSAGE_INSPECTION *row,
                    char **checks_r);
/* Postal's spam rules for a recipient of server reached through target t: refused when
 * the score reaches the server's spam_failure_threshold, or is over its spam_threshold
 * and t is a route in Fail mode. A return path without a route is never refused for its
 * score (a bounce often quotes the spam it reports; refusing it would lose the report).
 * 1 refused (reply: the text of the 550 5.7.1, logged by the caller), 0 accepted. The
 * milter applies it to a whole transaction, postgate-worker per LMTP recipient. */
int inspection_refuses(const INSPECTION *in, const SERVER *server, const INBOUND_TARGET *t, char *reply,
                       size_t size);
/* A decimal as Postal prints it: at most places decimals, trailing zeros dropped but
 * one kept ("5.0", "7.35", "-0.001"). */
void inspection_decimal(double v, int places, char out[32]);
/* 1 for a header only postgate may write about a verdict (X-Postal-Spam*,
 * X-Postal-Threat*, INSPECTION_HEADER; case-insensitive): every path that did not
 * produce the verdict removes them. */
int inspection_is_verdict_header(const char *name);
/* A scanner's name for something (a virus signature) reduced to [A-Za-z0-9._:/+-],
 * safe in a header field and an SMTP reply. */
void inspection_safe_name(const char *in, char *out, size_t size);

#endif
