/*
 * dsn.h -- taking a report about a sent message apart (DESIGN.md "Bounces"): RFC 3464
 * multipart/report; report-type=delivery-status messages (per-recipient Final-Recipient,
 * Original-Recipient, Action, Status, Diagnostic-Code, Remote-MTA; the per-message
 * Reporting-MTA and Postfix's X-Postfix-Queue-ID) and the returned message's Message-ID
 * and X-Postal-MsgID (from a message/rfc822 or text/rfc822-headers part), plus the
 * common non-RFC bounce: a plain-text notice from a mailer daemon that quotes the
 * original headers, recognised by the X-Postal-MsgID it quotes; and a spam complaint, an
 * RFC 5965 feedback report (report-type=feedback-report; a message/feedback-report part
 * whose Feedback-Type is abuse, fraud, virus or other), with the same returned-message
 * fields. A feedback report is never a bounce; one of another type (not-spam,
 * auth-failure) is neither.
 *
 * Contract: dsn_parse() never fails on malformed input: what cannot be parsed is left
 * out and the verdict is DSN_NOT_BOUNCE. It is pure (no database, no logging); GMime
 * must be initialized (address_init()). Every string it returns is valid UTF-8, NUL-
 * terminated and at most DSN_MAX_FIELD bytes; at most DSN_MAX_RCPTS recipients are kept.
 *
 * Must never: call an auto-reply, a read receipt or a delay notice a bounce, or recurse
 * without bound (nesting is cut at a fixed depth).
 */
#ifndef PG_DSN_H
#define PG_DSN_H

#include <stddef.h>

#define DSN_MAX_FIELD 1000
#define DSN_MAX_RCPTS 100

typedef enum {
    DSN_NOT_BOUNCE = 0,     /* an ordinary message, auto-reply, read receipt or delay notice */
    DSN_REPORT,             /* an RFC 3464 report with at least one failed recipient */
    DSN_PLAIN,              /* a non-RFC bounce from a mailer daemon quoting X-Postal-MsgID */
    DSN_COMPLAINT,          /* an RFC 5965 feedback report of a complaint (never a bounce) */
} DSN_KIND;

/* The fields of a feedback report (RFC 5965 section 3.1), as the reporter wrote them
 * (addresses without <>); each NULL when absent. Reporter's words: shown, never trusted. */
typedef struct dsn_feedback {
    char *type;                 /* Feedback-Type, lower case */
    char *user_agent;
    char *original_mail_from;
    char *original_rcpt_to;     /* the first one */
    char *arrival_date;
    char *source_ip;
} DSN_FEEDBACK;

typedef struct dsn_rcpt {
    char *final_recipient;      /* the address, without "rfc822;" and <>; NULL if absent */
    char *original_recipient;   /* likewise */
    char *action;               /* lower case: failed, delayed, delivered, relayed, expanded; or NULL */
    char *status;               /* "X.Y.Z" or NULL */
    char *diagnostic;           /* Diagnostic-Code without its type ("smtp;"), unfolded; or NULL */
    char *remote_mta;           /* without its type ("dns;"); or NULL */
} DSN_RCPT;

typedef struct dsn {
    DSN_KIND kind;
    char *reporting_mta;        /* without "dns;"; NULL if absent */
    char *postfix_queue_id;     /* X-Postfix-Queue-ID of the per-message fields (Postfix's own DSN) */
    char *orig_message_id;      /* Message-ID of the returned message, with <>; NULL if not found */
    char *postal_msgid;         /* X-Postal-MsgID of the returned message (a message token); NULL */
    DSN_RCPT *rcpts;            /* per-recipient blocks of a report (a plain bounce: one, guessed) */
    size_t nrcpts;
    DSN_FEEDBACK feedback;      /* a feedback report's fields (any kind; DSN_COMPLAINT has a type) */
} DSN;

/* Parses raw (a whole message: headers, blank line, body). envelope_from is the SMTP
 * MAIL FROM ("" for the null sender; NULL: unknown). Free with dsn_free(). */
DSN *dsn_parse(const void *raw, size_t len, const char *envelope_from);
void dsn_free(DSN *d);

/* The recipient a bounce is about: the first failed one whose final or original
 * recipient is rcpt (case-insensitive; rcpt may be NULL), else the first failed one, else
 * NULL. */
const DSN_RCPT *dsn_failed_rcpt(const DSN *d, const char *rcpt);
/* 1 when r is a permanent failure (status 5.x.x), else 0. */
int dsn_rcpt_is_hard(const DSN_RCPT *r);

#endif
