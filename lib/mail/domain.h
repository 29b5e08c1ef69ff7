/*
 * domain.h -- sending domains of servers and organizations: creation with DKIM
 * keys (private halves sealed at rest, context "dkim"), the DNS records to publish,
 * and the lookups the milter needs (may this server send as this domain; with which
 * keys does it sign).
 */
#ifndef PG_DOMAIN_H
#define PG_DOMAIN_H

#include "mail/conf.h"
#include "mail/db.h"
#include "mail/dkim.h"
#include "mail/server.h"
#include "util/seal.h"

typedef struct domain_key {
    DKIM_ALG alg;
    char selector[64];
    char *pem;          /* the private key; free with domain_keys_free */
} DOMAIN_KEY;

typedef struct domain_create_args {
    unsigned long long server_id;   /* exactly one of server_id / org_id */
    unsigned long long org_id;
    const char *name;
    int verified;                   /* the administrator vouches for it (DNS checks come later) */
    int ed25519;                    /* also make an Ed25519 key */
} DOMAIN_CREATE_ARGS;

/* A domain name is claimed (verified) by one owner at a time (schema 003,
 * uq_domains_verified_name): routes, relay domains, recipient lookups and custom return
 * paths use only verified domains, so the one verified row of a name gets its mail.
 * domain_create() and domain_verify() answer DOMAIN_CLAIMED when another owner holds the
 * claim; DOMAIN_CLAIMED_TEXT (with the name) says so. */
#define DOMAIN_CLAIMED 2
#define DOMAIN_CLAIMED_TEXT "%s is verified by another mail server; a domain name can be verified by one server at " \
    "a time, so the other claim must be removed first"

/* Lowercases and checks a domain name (LDH labels, at least two). 1 ok, 0 bad. */
int domain_name_normalize(const char *in, char *out, size_t len);
/* 1 created, 0 invalid or taken by this owner (*error_r), DOMAIN_CLAIMED (asked verified, but
 * another owner has verified the name; *error_r), < 0 database or key error (DB_ERR_TEMP /
 * DB_ERR_PERM; *error_r). The caller mem_frees *error_r. */
int domain_create(DB *db, const SEAL_KEY *seal, const PGCONF *cfg, const DOMAIN_CREATE_ARGS *args,
                  unsigned long long *id_r, char **error_r);
/* Is name a verified domain of the server or of its organization? 1 yes (*domain_id_r), 0 no. */
int domain_for_sending(DB *db, const SERVER *server, const char *name, unsigned long long *domain_id_r);
/* The active keys of a domain (RSA first); *n_r = 0..2. */
int domain_signing_keys(DB *db, const SEAL_KEY *seal, unsigned long long domain_id, DOMAIN_KEY keys[2], int *n_r);
void domain_keys_free(DOMAIN_KEY *keys, int n);
/* The records to publish for a domain, in zone-file syntax (mem_free it); NULL on database error.
 * A hosted domain's also lead mail clients to their settings: autoconfig.<name> and
 * autodiscover.<name> (CNAME to autoconfig.hostname), _autodiscover._tcp, and RFC 6186's SRV
 * records of IMAP, POP3 and submission. */
char *domain_dns_records(DB *db, const PGCONF *cfg, unsigned long long domain_id);

/* A domain as domain_server_list() gives it; times as "YYYY-MM-DDTHH:MM:SSZ" or NULL. */
typedef struct domain_row {
    unsigned long long id;
    const char *uuid;
    const char *name;
    int verified;
    const char *verification_method;
    const char *verification_email;  /* where the last verification code went, or NULL */
    const char *created_at;
    const char *spf_status, *spf_error;
    const char *dkim_status, *dkim_error;
    const char *mx_status, *mx_error;
    const char *return_path_status, *return_path_error;
    const char *dmarc_status, *dmarc_error;
    const char *client_config_status, *client_config_error;   /* hosted domains only (clientdns.h) */
    const char *dns_checked_at;
    const char *verified_at;
    int hosting;                     /* hosts mailboxes (doc/manual.md "Mail hosting") */
    const char *alias_of;            /* the domain it is an alias of (schema 016), or NULL */
} DOMAIN_ROW;
/* The domains of server_id (only name's, already normalized, when not NULL), by name, as
 * DOMAIN_ROWs into *rows (db_rows_free it): the row count, < 0 database error. */
int domain_server_list(DB *db, unsigned long long server_id, const char *name, DB_ROWS *rows);
/* The same for an owner: server_id's, or (server_id 0) organization org_id's own domains,
 * which all its servers share. */
int domain_owner_list(DB *db, unsigned long long server_id, unsigned long long org_id, const char *name, DB_ROWS *rows);
/* A DKIM key of a domain still in DNS: signing is 1 for the key of its algorithm that signs
 * now; activated_at is, for a pending key, when it starts signing. */
typedef struct domain_dkim_row {
    const char *selector;
    const char *algorithm;
    const char *state;
    int signing;
    const char *activated_at;
    const char *created_at;
} DOMAIN_DKIM_ROW;
/* The DKIM keys of a domain still in DNS as DOMAIN_DKIM_ROWs, by id: the count, < 0 database error. */
int domain_dkim_list(DB *db, unsigned long long domain_id, DB_ROWS *rows);
/* Deletes domain_id of server_id (its keys go with it). 1 deleted, 0 none, < 0 database error. */
int domain_server_delete(DB *db, unsigned long long server_id, unsigned long long domain_id);
/* Deletes org_id's own domain domain_id. 1 deleted, 0 none, < 0 database error. */
int domain_org_delete(DB *db, unsigned long long org_id, unsigned long long domain_id);

/* The result of a DNS check: each status "OK", "Missing" or "Invalid", errors NULL when OK;
 * client_config_status is NULL for a domain that hosts no mailboxes (not checked). */
typedef struct domain_dns_status {
    const char *spf_status, *dkim_status, *mx_status, *return_path_status, *dmarc_status, *client_config_status;
    char *spf_error, *dkim_error, *mx_error, *return_path_error, *dmarc_error, *client_config_error;
} DOMAIN_DNS_STATUS;

/* Looks for the TXT record "<dns.domain_verify_prefix> <verification token>" at the domain
 * (through dns.resolver) and marks the domain verified by DNS when it is there. 1 verified,
 * 0 not (*error_r says what was found or why the lookup failed; mem_free it), DOMAIN_CLAIMED
 * (another owner has verified the name; *error_r), < 0 database error. */
int domain_verify(DB *db, const PGCONF *cfg, unsigned long long domain_id, char **error_r);
/* 1 when another owner has verified the name of domain_id (which is not verified itself):
 * *error_r says so (mem_free it); 0 not; < 0 database error. */
int domain_claimed_elsewhere(DB *db, unsigned long long domain_id, char **error_r);
/* Marks domain_id verified by method ("DNS" or "Email"). 1 done, DOMAIN_CLAIMED (another
 * owner verified the name meanwhile; *error_r), < 0 database error. */
int domain_mark_verified(DB *db, unsigned long long domain_id, const char *method, char **error_r);
/* Gives up the claims of organization org_id and its servers (they are being deleted):
 * their domains become unverified, so their routes stop receiving mail and the names can
 * be verified by someone else. The count, < 0 database error. */
int domain_release_org(DB *db, unsigned long long org_id);
/* Checks SPF (one record with include:<dns.spf_include>), DKIM (every pending and active key
 * published as domain_dns_records() says), the return-path CNAME and MX against what
 * domain_dns_records() asks to publish, and DMARC (one v=DMARC1 record with a p= policy at
 * _dmarc.<name>; recorded, not part of Postal's pass rule), and records the statuses and errors in the domain's
 * row. 0 with *st (domain_dns_status_free it), < 0 database error. */
int domain_check_dns(DB *db, const PGCONF *cfg, unsigned long long domain_id, DOMAIN_DNS_STATUS *st);
void domain_dns_status_free(DOMAIN_DNS_STATUS *st);
/* Makes a new pending key of alg that starts signing delay seconds from now (its DNS record
 * is published first: domain_dns_records() lists it at once). 1 made (selector_r), 0 a
 * pending key of alg exists already (*error_r), < 0 database or key error (*error_r).
 * The caller mem_frees *error_r. */
int domain_dkim_rotate(DB *db, const SEAL_KEY *seal, const PGCONF *cfg, unsigned long long domain_id, DKIM_ALG alg,
                       long delay, char selector_r[64], char **error_r);
/* Makes pending key selector active now and the active key of its algorithm retiring.
 * 1 done, 0 no such pending key (*error_r), < 0 database error (*error_r). The caller
 * mem_frees *error_r. */
int domain_dkim_activate(DB *db, unsigned long long domain_id, const char *selector, char **error_r);

#endif
