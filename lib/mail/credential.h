/*
 * credential.h -- SMTP, API and SMTP-IP credentials of mail servers.
 *
 * Keys are 24 random alphanumerics shown once at creation. They are looked up by
 * SHA-256 (key_hash); a copy sealed with the installation key (seal.h, context
 * "credential") is kept only so CRAM-MD5 can be answered. Lookups return
 * 1 found, 0 not found, or DB_ERR_TEMP / DB_ERR_PERM (db.h).
 * last_used_at is recorded in memory by credential_touch() and written in one
 * batch by credential_flush_touched(), never a database write per login.
 */
#ifndef PG_CREDENTIAL_H
#define PG_CREDENTIAL_H

#include "mail/conf.h"
#include "mail/db.h"
#include "util/seal.h"

#define CREDENTIAL_KEY_LEN 24

typedef struct credential {
    unsigned long long id;
    unsigned long long server_id;
    char type[8];               /* "API", "SMTP", "SMTP-IP" */
    char name[256];
    int hold;
    char org_permalink[65];
    char server_permalink[65];
    int suspended;              /* the server or its organization is suspended */
} CREDENTIAL;

/* A key of the given type ("SMTP" or "API"). */
int credential_by_key(DB *db, const char *type, const char *key, CREDENTIAL *out);
/* CRAM-MD5 (RFC 2195): username "org/server" or "org_server"; digest_hex is the client's
 * HMAC-MD5 of challenge, checked against each SMTP credential of that server. */
int credential_by_cram(DB *db, const SEAL_KEY *seal, const char *username, const char *challenge,
                       const char *digest_hex, CREDENTIAL *out);
/* The SMTP-IP credential with the most specific network containing address, among the
 * networks cfg allows (credential_network_check: a row written before a stricter
 * setting, or by hand, never matches). CREDENTIAL_ERR_AMBIGUOUS (a temporary failure,
 * logged) when allowed networks of two servers contain it: neither may take the mail. */
#define CREDENTIAL_ERR_AMBIGUOUS (-3)
int credential_by_ip(DB *db, const PGCONF *cfg, const char *address, CREDENTIAL *out);
int credential_by_id(DB *db, unsigned long long id, CREDENTIAL *out);

/* The SASL identity postgate-policyd reports to Postfix for a credential, and its
 * inverse (used by the milter on {auth_authen}): "org/server/ID". */
void credential_sasl_identity(const CREDENTIAL *cred, char *out, size_t len);
int credential_id_from_identity(const char *identity, unsigned long long *id_r);

/* Whether cfg allows an SMTP-IP network (netaddr.h form): its prefix is at least
 * credentials.smtp_ip_min_prefix_ipv4/_ipv6 (a network touching the IPv4-mapped range
 * ::ffff:0:0/96 counts as IPv4, so ::/64 cannot take every IPv4 client), and it holds
 * no loopback (127.0.0.0/8, ::1) or unspecified (0.0.0.0/8, ::) address unless
 * credentials.smtp_ip_allow_loopback. 1 allowed; 0 with *error_r (mem_free it) saying why. */
int credential_network_check(const PGCONF *cfg, const unsigned char *start, const unsigned char *end, int prefix,
                             char **error_r);

/* Creates a credential. For API/SMTP a new key is written to key_r (25 bytes); for
 * SMTP-IP, network is an address or CIDR that cfg allows and that neither contains nor
 * lies inside a network of another server. 1 created; 0 invalid input (*error_r says
 * why: bad type, bad or disallowed network, network already used by this server);
 * CREDENTIAL_CONFLICT when the network overlaps another server's (*error_r names the
 * overlapping network, never its server or organization); < 0 database error. The
 * caller mem_frees *error_r. */
#define CREDENTIAL_CONFLICT 2
int credential_create(DB *db, const PGCONF *cfg, const SEAL_KEY *seal, unsigned long long server_id,
                      const char *type, const char *name, const char *network, int hold,
                      char key_r[CREDENTIAL_KEY_LEN + 1], unsigned long long *id_r, char **error_r);

/* A credential as credential_server_list() gives it (never the hash or the key); times as
 * "YYYY-MM-DDTHH:MM:SSZ" or NULL; network is "address/prefix" for SMTP-IP, else NULL. */
typedef struct credential_row {
    unsigned long long id;
    const char *uuid;
    const char *type;
    const char *name;
    const char *key_prefix;
    const char *network;
    int hold;
    const char *last_used_at;
    const char *created_at;
} CREDENTIAL_ROW;
/* The credentials of server_id (only uuid's when not NULL, only id's when not 0), by id, as
 * CREDENTIAL_ROWs into *rows (db_rows_free it): the row count, < 0 database error. */
int credential_server_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id,
                           DB_ROWS *rows);
/* Changes the name (unless NULL) and hold (unless < 0) of credential id. 0 done, < 0 database error. */
int credential_update(DB *db, unsigned long long id, const char *name, int hold);
/* Deletes credential id of server_id. 1 deleted, 0 none, < 0 database error. */
int credential_delete(DB *db, unsigned long long server_id, unsigned long long id);

void credential_touch(unsigned long long id);
/* Writes the recorded uses; returns how many credentials were updated or < 0. */
int credential_flush_touched(DB *db);

#endif
