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

/* Columns of domain_server_list()'s rows; times as "YYYY-MM-DDTHH:MM:SSZ". */
enum domain_col {
    DOMAIN_COL_ID, DOMAIN_COL_UUID, DOMAIN_COL_NAME, DOMAIN_COL_VERIFIED, DOMAIN_COL_METHOD, DOMAIN_COL_CREATED
};
/* The domains of server_id (only name's, already normalized, when not NULL), by name, into
 * *res_r (db_result_free it): the row count, < 0 database error. */
int domain_server_list(DB *db, unsigned long long server_id, const char *name, DB_RESULT **res_r);
/* The DKIM keys of a domain still in DNS: rows of selector, algorithm, state (by id). */
int domain_dkim_list(DB *db, unsigned long long domain_id, DB_RESULT **res_r);
/* Deletes domain_id of server_id (its keys go with it). 1 deleted, 0 none, < 0 database error. */
int domain_server_delete(DB *db, unsigned long long server_id, unsigned long long domain_id);

#endif
