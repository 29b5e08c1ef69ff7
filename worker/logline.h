/*
 * logline.h -- parses the lines of Postfix's maillog_file that carry delivery results.
 *
 * Lines look like (Postfix 3.7, postlogd):
 *   Nov 22 16:35:57 host postfix/smtp[25945]: 4jXZSs684wz1bYLJ: to=<a@b>, relay=h[1.2.3.4]:25,
 *     delay=0.04, delays=0.02/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)
 *   ... postfix/qmgr[25911]: 4jXZSs684wz1bYLJ: from=<x@y>, status=expired, returned to sender
 *   ... postfix/smtp[25945]: Untrusted TLS connection established to h[1.2.3.4]:25: TLSv1.3 ...
 *   ... postfix/qmgr[25911]: 4jXZSs684wz1bYLJ: removed
 *   ... postfix/cleanup[25940]: 4jXZSs684wz1bYLJ: milter-header-reject: header X-Foo: bar from h[1.2.3.4];
 *     from=<x@y> to=<a@b> proto=ESMTP helo=<h>: 5.7.1 message content rejected
 * Every other line is LOGLINE_OTHER.
 *
 * Contract: logline_parse() works in place: it writes NULs into line and points the
 * fields at pieces of it, so the LOGLINE is valid while line is. It never reads past the
 * terminating NUL, allocates nothing and accepts any bytes (a malformed line is OTHER).
 * Must never: guess: a field it cannot find exactly makes the line OTHER.
 */
#ifndef PG_WORKER_LOGLINE_H
#define PG_WORKER_LOGLINE_H

#include <stddef.h>
#include <time.h>

typedef enum {
    LOGLINE_OTHER,
    LOGLINE_DELIVERY,           /* QID: to=<..>, ... status=... */
    LOGLINE_EXPIRED,            /* QID: from=<..>, status=expired (or force-expired), returned to sender */
    LOGLINE_TLS,                /* ... TLS connection established to PEER: ... */
    LOGLINE_REMOVED,            /* QID: removed */
    LOGLINE_REFUSED,            /* QID: [milter-[header-]]reject|discard: ... -- the whole message
                                 * (cleanup's lines, smtpd's END-OF-MESSAGE/DATA ones; never a
                                 * per-recipient RCPT reject) */
} LOGLINE_KIND;

typedef struct logline {
    LOGLINE_KIND kind;
    time_t when;                /* the line's time stamp (local time), or 0 */
    const char *service;        /* "smtp", "lmtp", "local", "error", "qmgr", ... */
    unsigned long pid;
    const char *queue_id;       /* DELIVERY, EXPIRED, REMOVED, REFUSED */
    const char *to;             /* DELIVERY: the address without <> */
    const char *orig_to;        /* DELIVERY: orig_to=, or NULL */
    const char *relay;          /* DELIVERY: relay= ("none" when none), or NULL */
    const char *peer;           /* TLS: host[addr]:port */
    double delay;               /* DELIVERY: delay= seconds, or -1 */
    const char *dsn;            /* DELIVERY: dsn= (X.Y.Z), or NULL */
    const char *status;         /* DELIVERY: sent, deferred, bounced, expired, ... */
    const char *text;           /* DELIVERY: the parenthesised reason (the remote reply), or "" */
} LOGLINE;

/* Parses one line (without its newline); now is the current time, which supplies the
 * year the syslog time stamp lacks. Returns the kind (also in ll->kind). */
LOGLINE_KIND logline_parse(char *line, time_t now, LOGLINE *ll);

/* The remote server's own reply inside a delivery text: "host h[a] said: 550 5.1.1 ...
 * (in reply to RCPT TO command)" gives "550 5.1.1 ..." (pointer into text, *len_r bytes);
 * any other text (a local error, "connect to ...: Connection refused") is returned whole. */
const char *logline_reply(const char *text, size_t *len_r);

/* 1 when s looks like a Postfix queue ID (short or long form). */
int logline_queue_id_valid(const char *s);

#endif
