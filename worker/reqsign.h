/*
 * reqsign.h -- the signature the worker's two HTTP senders (webhooks.c, endpoints.c) put
 * on their requests: the installation's signing key (mail/signkey.h), held per task and
 * checked for a rotation every REQSIGN_CHECK_SECONDS, and Postal's X-Postal-Signature,
 * X-Postal-Signature-256 and X-Postal-Signature-KID headers over a request body.
 *
 * Contract: a REQSIGN is owned by one task (one thread); reqsign_free() releases it.
 * Must never: sign with a key it could not load (the request fails instead), or drop a
 * usable key because the database is briefly unreachable.
 */
#ifndef PG_WORKER_REQSIGN_H
#define PG_WORKER_REQSIGN_H

#include <stddef.h>

#include "httpsend.h"
#include "mail/db.h"
#include "mail/signkey.h"
#include "util/seal.h"

#define REQSIGN_CHECK_SECONDS 30        /* how soon a rotated key is picked up */
#define REQSIGN_MAX_THREADS 8           /* reqsign_many()'s most threads */

typedef struct reqsign {
    const char *who;                    /* the task, for the log */
    SIGNKEY *key;
    double checked;                     /* clock_mono() of the last check */
} REQSIGN;

/* Loads the key (creating one on an installation without any) or picks up a rotation;
 * keeps the key it has when the database fails. 0 usable, -1 no key (logged). */
int reqsign_refresh(REQSIGN *r, DB *db, const SEAL_KEY *seal);
/* Adds the three signature headers for body to x. 0, or -1 without a usable key. */
int reqsign_headers(const REQSIGN *r, HTTPSEND_XFER *x, const void *body, size_t len);

/* A body's two signatures, made ahead by reqsign_many(); NULL members: it could not be signed. */
typedef struct reqsign_sig {
    char *sha1, *sha256;
} REQSIGN_SIG;

/* Signs n bodies at once on up to `threads` threads (the caller's among them; each RSA
 * signature is independent, and one delivery needs two): out[i] for bodies[i]; a NULL
 * body is skipped (out[i] stays as it was, empty when zeroed). */
void reqsign_many(const REQSIGN *r, const char *const *bodies, const size_t *lens, size_t n, unsigned threads,
                  REQSIGN_SIG *out);
/* Adds the three signature headers from sig (made with r's key) to x and frees sig's
 * strings. 0, or -1 when sig is empty. */
int reqsign_headers_from(const REQSIGN *r, HTTPSEND_XFER *x, REQSIGN_SIG *sig);
/* Frees sig's strings (a signature not used). */
void reqsign_sig_clear(REQSIGN_SIG *sig);
void reqsign_free(REQSIGN *r);

#endif
