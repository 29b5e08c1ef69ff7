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

/* Releases the held message row with this token. 1 released, 0 no held row with that
 * token (*error_r), < 0 database or SMTP failure (*error_r; temporary). */
int release_message(DB *db, const PGCONF *cfg, const char *token, char **error_r);

#endif
