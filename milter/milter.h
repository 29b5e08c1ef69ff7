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
#include "mail/inbound.h"
#include "mail/server.h"
#include "mail/spamd.h"
#include "mail/trackdomain.h"
#include "util/buf.h"
#include "util/seal.h"

typedef struct milter_header {
    char *name;
    char *value;        /* as received, leading space included */
} MILTER_HEADER;

/* One SMTP connection and the message in progress on it. */
typedef struct milter_ctx {
    char client_addr[64];
    int release;                /* arrived through the release service */
    int injection;              /* arrived through the send API's injection service */
    /* The message in progress (reset by milter_reset). */
    int outgoing;               /* a credential authorized this message */
    CREDENTIAL cred;
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
    int incoming;               /* no credential: mail from the Internet */
    INBOUND_TARGET *targets;    /* incoming: parallel to rcpts; kind 0 = not postgate's */
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
/* Removes every header of the message whose name match() accepts, each name's last
 * occurrence first (Postfix numbers them per name, case-insensitively). -1 when
 * Postfix refused. */
int milter_remove_headers(SMFICTX *ctx, const MILTER_CTX *mc, int (*match)(const char *name));
/* Tempfails the current SMTP command with a logged reason (451 4.3.0). */
sfsistat milter_tempfail(SMFICTX *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
/* inbound_resolve() of an incoming recipient: 1 (*out), 0 not postgate's, < 0 error. */
int lookup_inbound(DB *db, const char *address, INBOUND_TARGET *out);

/* outgoing.c: the decisions for mail a credential sends. */
sfsistat outgoing_envfrom(SMFICTX *ctx, MILTER_CTX *mc, const char *auth_authen);
sfsistat outgoing_eoh(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat injection_eoh(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat outgoing_eom(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat release_eom(SMFICTX *ctx, MILTER_CTX *mc);

/* incoming.c: the decisions for mail from the Internet (no credential). */
sfsistat incoming_envfrom(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat incoming_eoh(SMFICTX *ctx, MILTER_CTX *mc);
sfsistat incoming_eom(SMFICTX *ctx, MILTER_CTX *mc);

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

#endif
