/*
 * milter.h -- shared between the files of postgate-milter: the per-connection
 * context libmilter hands to every callback, the outgoing-mail decisions, the
 * incoming-mail decisions and the scanners.
 */
#ifndef PG_MILTER_H
#define PG_MILTER_H

#include <libmilter/mfapi.h>

#include "mail/conf.h"
#include "mail/credential.h"
#include "mail/dbpool.h"
#include "mail/dkim.h"
#include "mail/forward.h"
#include "mail/inbound.h"
#include "mail/inspection.h"
#include "mail/server.h"
#include "mail/spamd.h"
#include "mail/trackdomain.h"
#include "util/buf.h"
#include "util/seal.h"

typedef struct milter_header {
    char *name;
    char *value;        /* as received, leading space included */
} MILTER_HEADER;

/* The Postfix service a connection came through (milter_macro_daemon_name). */
typedef enum {
    SERVICE_SMTP,               /* the MX or submission port: anyone */
    SERVICE_RELEASE,            /* held mail re-injected by postgate (postfix.release_*) */
    SERVICE_INJECTION,          /* the send API's submissions (postfix.injection_*) */
    SERVICE_FORWARD,            /* Address endpoints and delivery reports (postfix.forward_address) */
    SERVICE_DOVECOT,            /* Sieve's vacation replies and redirects (postfix.dovecot_address) */
} MILTER_SERVICE;

/* What a message is, decided once in the envelope callback; every later callback
 * dispatches on it. */
typedef enum {
    DIR_NONE,                   /* not decided (refused, or between messages) */
    DIR_INCOMING,               /* from the Internet, no credential: incoming.c */
    DIR_OUTGOING,               /* a credential (SASL or SMTP-IP) sends it: outgoing.c */
    DIR_INJECTION,              /* a send-API submission (then as outgoing): outgoing.c */
    DIR_RELEASE,                /* a held message released: outgoing.c */
    DIR_FORWARD,                /* postgate-worker's forward or report: forward.c */
} MILTER_DIRECTION;

/* One SMTP connection and the message in progress on it. */
typedef struct milter_ctx {
    char client_addr[64];
    MILTER_SERVICE service;
    /* The message in progress (reset by milter_reset). */
    char queue_id[32];          /* Postfix's {i} once known: the log context's queue id */
    MILTER_DIRECTION direction;
    CREDENTIAL cred;
    char login[320];            /* a mailbox user's submission: the mailbox address; else "" */
    SERVER server;
    unsigned long long from_domain_id;
    char from_domain[254];
    char *mail_from;
    char **rcpts;
    size_t nrcpts;
    MILTER_HEADER *headers;
    size_t nheaders;
    size_t header_bytes;
    BUF *body;
    int too_big;
    char (*given_tokens)[17];   /* tokens the send API chose (injection service) */
    size_t ngiven;
    INBOUND_TARGET *targets;    /* incoming: parallel to rcpts; kind 0 = not postgate's */
    FORWARD_INFO forward;       /* forward: what its header said */
    unsigned long long forwarded_from_id;       /* forward: the incoming message it forwards */
} MILTER_CTX;

/* Process-wide state, set up before libmilter starts its threads. */
typedef struct milter_globals {
    PGCONF *cfg;
    DBPOOL *pool;
    SEAL_KEY *seal;
    DKIM_KEY *return_path_key;  /* signs when the From domain has no key; may be NULL */
    unsigned long long postfix_size_limit;      /* Postfix's message_size_limit; 0 unknown or none */
} MILTER_GLOBALS;

/* common.c: the process-wide state and the answers every callback may give. */
extern MILTER_GLOBALS milter_globals;

/* milter.c */
void milter_reset(MILTER_CTX *mc);
/* Removes every header field of the message that match(field, arg) accepts, the last
 * field first (Postfix numbers the fields of one name from 1, case-insensitively, so
 * the lower numbers stay valid). -1 when Postfix refused. */
int milter_remove_fields(SMFICTX *ctx, const MILTER_CTX *mc, int (*match)(const MILTER_HEADER *field, void *arg),
                         void *arg);
/* The same for every field whose name match() accepts. */
int milter_remove_headers(SMFICTX *ctx, const MILTER_CTX *mc, int (*match)(const char *name));
/* Tempfails the current SMTP command with a logged reason (451 4.3.0). */
sfsistat milter_tempfail(SMFICTX *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first field called name (any case), its value as received, or NULL. */
const char *milter_header_value(const MILTER_CTX *mc, const char *name);
/* value (NULL: "") without surrounding white space, for Subject, Message-ID, tag; mem_free it. */
char *milter_trimmed(const char *value);
/* Appends "name:value\r\n" to a stored copy, every line break made CRLF. */
void milter_store_header(BUF *out, const char *name, const char *value);

/* Why the milter refuses (5xx) a message or a command: the reason label of
 * postgate_milter_refusals_total (stats.c). */
typedef enum milter_refusal {
    REFUSED_SENDER,             /* an envelope sender it cannot read */
    REFUSED_SIZE,               /* over milter.max_message_size or Postfix's limit */
    REFUSED_CREDENTIAL,         /* a credential deleted or of the wrong type since */
    REFUSED_SUSPENDED,          /* the mail server is suspended */
    REFUSED_FROM,               /* From/Sender not a domain of the server */
    REFUSED_SERVICE,            /* postgate's own services used by someone else */
    REFUSED_SPAM,               /* over a spam threshold */
    REFUSED_VIRUS,              /* clamd found a virus */
    REFUSED_SUPPRESSED,         /* a forward to a suppressed recipient */
    REFUSED_NREASONS,
} MILTER_REFUSAL;

/* Answers the current SMTP command with CODE XCODE TEXT and counts the refusal under
 * WHY: SMFIS_REJECT. */
sfsistat milter_refuse(SMFICTX *ctx, MILTER_REFUSAL why, const char *code, const char *xcode, const char *text);

/* lookup.c: cached lookups (milter.cache_ttl); same results as the lib/mail calls. */
typedef struct lookup_keyset {
    int n;
    DKIM_KEY *keys[2];
    char selectors[2][64];
} LOOKUP_KEYSET;

void lookup_init(unsigned ttl);
void lookup_done(void);
int lookup_credential_by_ip(DB *db, const char *ip, CREDENTIAL *out);
int lookup_credential_by_id(DB *db, unsigned long long id, CREDENTIAL *out);
int lookup_server(DB *db, unsigned long long id, SERVER *out);
int lookup_sending_domain(DB *db, const SERVER *server, const char *domain, unsigned long long *domain_id_r);
/* The domain's parsed signing keys (possibly none), held until lookup_release_keys;
 * NULL with *error_r = 1 on a database error. */
LOOKUP_KEYSET *lookup_signing_keys(DB *db, const char *domain, unsigned long long domain_id, int *error_r);
void lookup_release_keys(LOOKUP_KEYSET *ks);
/* The track domain of server_id on domain_id: 1 (*out, trackdomain_clear it), 0 none, < 0 error. */
int lookup_track_domain(DB *db, unsigned long long server_id, unsigned long long domain_id, TRACK_DOMAIN *out);
/* inbound_resolve() of an incoming recipient, else a mailbox's (kind INBOUND_MAILBOX,
 * hosting_recipient()): 1 (*out), 0 not postgate's, < 0 error. */
int lookup_inbound(DB *db, const char *address, INBOUND_TARGET *out);

/* sender.c and outgoing.c: the decisions for mail a credential sends. */
/* Which credential sends the message: 1 one (mc->cred, mc->server set), 0 none (mail
 * from the Internet), -1 answered (*status_r: refused or tempfailed). */
int outgoing_identify(SMFICTX *ctx, MILTER_CTX *mc, const char *auth_authen, sfsistat *status_r);
/* 1 when every address in every header called name is a sending domain of the server
 * (the first one's domain remembered for signing), 0 not (*error_r = 1 on a database
 * error). */
int sender_addresses_owned(DB *db, MILTER_CTX *mc, const char *name, int *error_r);
sfsistat outgoing_eoh(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat injection_eoh(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat outgoing_eom(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat release_eom(SMFICTX *ctx, MILTER_CTX *mc);
/* A forward or report through the forward service: a forward is outgoing mail of the
 * route's server (outgoing_eom with the forward's rules), a report passes unchanged
 * but for the removal of its header. */
sfsistat forward_eom(SMFICTX *ctx, MILTER_CTX *mc);
/* 1 for a header a client may not set (postgate's stamps, verdicts): removed, never
 * stored, never signed. */
int outgoing_is_postgate_header(const char *name);

/* sign.c: the last changes to mail that leaves, signing last; -1 when Postfix refused. */
/* Folds header fields whose lines would pass 998 octets, in Postfix's copy and in mc. */
int sign_fold_headers(SMFICTX *ctx, MILTER_CTX *mc, size_t *changed_r);
/* 1 when body lines over 998 octets were broken (into *out), 0 when all fit. */
int sign_wrap_body(const BUF *body, BUF **out);
int sign_return_path(SMFICTX *ctx, const char *token);
/* The DKIM-Signature fields for the final message, inserted at the top; -1 also when
 * the database or signing failed. */
int sign_message(SMFICTX *ctx, DB *db, MILTER_CTX *mc, const char *msgid_value, size_t *added_r);
/* Octets of "name:value" CRLF as the message will carry it. */
size_t sign_header_size(const char *name, const char *value);

/* forward.c: the forward service admits only mail with a valid X-Postgate-Forward
 * header for its one recipient (else 550 5.7.1); fills mc->forward, mc->server. */
sfsistat forward_eoh(SMFICTX *ctx, MILTER_CTX *mc);

/* incoming.c: the decisions for mail from the Internet (no credential). */
/* Resolves every recipient into mc->targets: the number that are postgate's, or -1
 * (*status_r: tempfail). */
int incoming_targets(SMFICTX *ctx, MILTER_CTX *mc, sfsistat *status_r);
sfsistat incoming_eoh(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat incoming_eom(SMFICTX *ctx, MILTER_CTX *mc);

/* auth.c: SPF (libspf2) and DKIM (libopendkim) results of an incoming message's sender,
 * through dns.resolver when set. A DNS failure is "temperror". */
typedef struct milter_auth {
    char spf[16];               /* pass, fail, softfail, neutral, none, temperror, permerror */
    char dkim[16];              /* pass, fail, none, temperror */
    char dkim_domain[254];      /* the d= the DKIM result is about ("" none) */
} MILTER_AUTH;

void auth_init(void);
void auth_done(void);
void auth_check(const MILTER_CTX *mc, MILTER_AUTH *out);

/* scan.c: asking spamd and clamd about one message, within spamd.max_size /
 * clamd.max_size, applying spamd.when_unavailable / clamd.when_unavailable. */
typedef enum {
    SCAN_TEMPFAIL = -1,         /* the scanner failed and the configuration says tempfail (logged) */
    SCAN_DISABLED = 0,          /* the scanner is not enabled */
    SCAN_DONE = 1,              /* a verdict */
    SCAN_UNCHECKED = 2,         /* not scanned (too large, or failed with when_unavailable = accept; logged) */
} SCAN_STATUS;

/* The message as a scanner sees it: the header fields as received, an empty line, the
 * body; CRLF line ends. */
BUF *scan_message(const MILTER_CTX *mc);
/* *unchecked_r: when SCAN_UNCHECKED, a fixed label for the X-Postal-*-Details header
 * (static, not an error message: scanner failures are logged here, see msg.h). */
SCAN_STATUS scan_spam(const char *queue_id, const BUF *msg, SPAMD_RESULT *r, const char **unchecked_r);
/* SCAN_DONE with *virus_r (mem_free it) NULL when clean; *unchecked_r as scan_spam's. */
SCAN_STATUS scan_virus(const char *queue_id, const BUF *msg, char **virus_r, const char **unchecked_r);
/* Answers a scanner failure under when_unavailable = tempfail: 451 4.7.1. */
sfsistat scan_tempfail(SMFICTX *ctx);

/* incoming.c: the verdict for postgate's recipients (mc->targets): from the Internet, and
 * for mail a tenant sends to routes (its own or another tenant's), which the receiving
 * servers judge afresh. */
typedef struct incoming_verdict {
    const char *what;           /* "incoming", "to routes": for the log */
    INSPECTION in;
    SCAN_STATUS vs, ss;
    const char *spam_why, *virus_why;
    double lowest;              /* the lowest spam_threshold among the recipient servers */
    int any_spam;
    int worker_refuses;         /* set by the caller: the transaction also goes elsewhere, so
                                 * spam is not refused here but by postgate-worker per recipient */
} INCOMING_VERDICT;

/* Scans the message and applies the recipient servers' and routes' rules: SMFIS_CONTINUE
 * (v filled) or the answer (a virus 554, spam 550 unless v->worker_refuses, a scanner or
 * database 451). */
sfsistat incoming_scan(SMFICTX *ctx, MILTER_CTX *mc, const char *queue_id, INCOMING_VERDICT *v);
/* Adds Postal's visible verdict headers and the signed inspection header; *added_r (may
 * be NULL) their size. -1 when Postfix refused. */
int incoming_verdict_headers(SMFICTX *ctx, const MILTER_CTX *mc, const INCOMING_VERDICT *v, size_t *added_r);
void incoming_verdict_log(const char *queue_id, const MILTER_CTX *mc, const INCOMING_VERDICT *v);

/* stats.c: the milter's metrics (registered once at start; cheap from any callback). */
void milter_stats_init(void);
void milter_stats_eom(MILTER_DIRECTION direction, sfsistat status, double seconds);
void milter_stats_refused(MILTER_REFUSAL why);
/* Why recipients are held: the reason label of postgate_milter_held_total. */
typedef enum milter_hold {
    HELD_DEVELOPMENT,           /* the server is in development mode */
    HELD_CREDENTIAL,            /* the credential holds all its mail */
    HELD_SEND_LIMIT,            /* the server's send limit is reached */
    HELD_SUPPRESSED,            /* the recipient is on the suppression list */
    HELD_NREASONS,
} MILTER_HOLD;
void milter_stats_held(MILTER_HOLD why, size_t recipients);

#endif
