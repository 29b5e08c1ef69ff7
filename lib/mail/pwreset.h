/*
 * pwreset.h -- password resets of web admin accounts (schema 018): a token mailed to the
 * account's address, kept as its SHA-256, good for PWRESET_LIFETIME seconds and once; one
 * pending reset per account, at most one new one per PWRESET_INTERVAL seconds.
 *
 * Must never: keep a token in the clear, or let a used or expired token set a password.
 */
#ifndef PG_PWRESET_H
#define PG_PWRESET_H

#include "mail/db.h"

#define PWRESET_TOKEN_LEN 40
#define PWRESET_LIFETIME 3600
#define PWRESET_INTERVAL 60

/* Replaces user_id's pending reset by one with token_hash: 1 made, 0 the last one is less
 * than PWRESET_INTERVAL seconds old (nothing changed), < 0 database error. */
int pwreset_create(DB *db, unsigned long long user_id, const char *token_hash);

/* The account of an unexpired reset token_hash, locked for the change (call inside a
 * transaction): 1 (*user_id_r), 0 none, < 0 database error. */
int pwreset_find(DB *db, const char *token_hash, unsigned long long *user_id_r);

/* Ends user_id's pending reset (used, or the password changed otherwise). */
int pwreset_delete(DB *db, unsigned long long user_id);

#endif
