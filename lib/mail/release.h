/*
 * release.h -- releasing held messages: the stored raw message is re-injected into
 * Postfix through the dedicated loopback release service (postfix.release_address),
 * where postgate-milter recognises it, signs it again and keeps its message row.
 * Manual release bypasses every hold (Postal's semantics).
 */
#ifndef PG_RELEASE_H
#define PG_RELEASE_H

#include "mail/conf.h"
#include "mail/db.h"
#include "util/seal.h"

/* The re-injected copy carries "X-Postgate-Release: token=<t>; mac=<hex>" (HMAC under the
 * installation key): only postgate can release, and the milter removes the header. */
#define RELEASE_HEADER "X-Postgate-Release"
#define RELEASE_MAC_CONTEXT "release"

/* Releases the held message row with this token. 1 released, 0 no held row with that
 * token (*error_r), < 0 database or SMTP failure (*error_r; temporary). The caller
 * mem_frees *error_r. */
int release_message(DB *db, const PGCONF *cfg, const SEAL_KEY *seal, const char *token, char **error_r);
/* The milter's side: 1 when value is a valid release header, with the released row's
 * token in token_r; else 0. */
int release_header_verify(const SEAL_KEY *seal, const char *value, char token_r[17]);

#endif
