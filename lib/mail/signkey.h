/*
 * signkey.h -- the installation's request-signing key (REFERENCE.md "Webhooks"): the RSA
 * key that signs webhook and HTTP endpoint requests (X-Postal-Signature with RSA-SHA1,
 * X-Postal-Signature-256 with RSA-SHA256, X-Postal-Signature-KID), and the JWKS that
 * publishes its public half at /.well-known/jwks.json.
 *
 * Contract: keys live in installation_keys, the private half sealed with the installation
 * key (context "signing-key"), so every host of a cluster signs with the same key and none
 * needs a key file of its own. The signing key is the newest key that is not retired;
 * rotation adds a newer one, and the older ones stay in the JWKS (consumers can still verify
 * requests signed before the rotation) until they are retired. A kid is the RFC 7638 JWK
 * thumbprint (base64url SHA-256) of the public key.
 *
 * Must never: put a private key into the JWKS or a log line, or retire the signing key
 * (the newest one) while it is the only key left.
 */
#ifndef PG_SIGNKEY_H
#define PG_SIGNKEY_H

#include <stddef.h>

#include <jansson.h>

#include "mail/db.h"
#include "util/seal.h"

#define SIGNKEY_BITS 2048
#define SIGNKEY_KID_MAX 64      /* the column's width; a thumbprint is 43 characters */

typedef struct signkey SIGNKEY; /* opaque: a loaded private key and its kid */

/* Creates a key when no key is left unretired. 1 created (*kid_r, when not NULL, gets its
 * kid: SIGNKEY_KID_MAX + 1 bytes), 0 one exists, < 0 database error or key failure with
 * *error_r (mem_free it). */
int signkey_ensure(DB *db, const SEAL_KEY *seal, char *kid_r, char **error_r);
/* Adds a new key, which becomes the signing key. 1 with *kid_r, < 0 with *error_r
 * (mem_free it). */
int signkey_rotate(DB *db, const SEAL_KEY *seal, char *kid_r, char **error_r);
/* Retires kid (it leaves the JWKS). 1 retired, 0 no such unretired key or it is the signing
 * key (*error_r says which; mem_free it), < 0 database error. */
int signkey_retire(DB *db, const char *kid, char **error_r);

/* The kid of the signing key: 1 (kid_r: SIGNKEY_KID_MAX + 1 bytes), 0 none, < 0. */
int signkey_current_kid(DB *db, char *kid_r);
/* Loads the signing key: 1 with *key_r, 0 none, < 0 database error or a key that cannot be
 * unsealed or parsed (*error_r, mem_free it). */
int signkey_load(DB *db, const SEAL_KEY *seal, SIGNKEY **key_r, char **error_r);
const char *signkey_kid(const SIGNKEY *key);
void signkey_free(SIGNKEY *key);

/* Signs data with RSA-SHA1 and RSA-SHA256 (PKCS#1 v1.5); base64 into *sha1_r and *sha256_r
 * (mem_free them). 0 ok, -1 when OpenSSL fails (logged). Thread-safe for one key. */
int signkey_sign(const SIGNKEY *key, const void *data, size_t len, char **sha1_r, char **sha256_r);

/* The JWKS of every unretired key, newest first: {"keys": [{kty, kid, use, alg, n, e}]}. */
int signkey_jwks(DB *db, json_t **jwks_r);
/* A key as `postgatectl signing-key show` lists it: times "YYYY-MM-DDTHH:MM:SSZ", retired_at
 * NULL while published, signing 1 for the key that signs now. */
typedef struct signkey_row {
    const char *kid;
    const char *created_at;
    const char *retired_at;
    int signing;
} SIGNKEY_ROW;
/* Every key, newest first, as SIGNKEY_ROWs into *rows (db_rows_free it): the row count, < 0
 * database error. */
int signkey_list(DB *db, DB_ROWS *rows);

#endif
