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

/* Lowercases and checks a domain name (LDH labels, at least two). 1 ok, 0 bad. */
int domain_name_normalize(const char *in, char *out, size_t len);
/* 1 created, 0 invalid or taken (*error_r), < 0 database or key error. */
int domain_create(DB *db, const SEAL_KEY *seal, const PGCONF *cfg, const DOMAIN_CREATE_ARGS *args,
                  unsigned long long *id_r, char **error_r);
/* Is name a verified domain of the server or of its organization? 1 yes (*domain_id_r), 0 no. */
int domain_for_sending(DB *db, const SERVER *server, const char *name, unsigned long long *domain_id_r);
/* The active keys of a domain (RSA first); *n_r = 0..2. */
int domain_signing_keys(DB *db, const SEAL_KEY *seal, unsigned long long domain_id, DOMAIN_KEY keys[2], int *n_r);
void domain_keys_free(DOMAIN_KEY *keys, int n);
/* The records to publish for a domain, in zone-file syntax (mem_free it); NULL on database error. */
char *domain_dns_records(DB *db, const PGCONF *cfg, unsigned long long domain_id);

#endif
