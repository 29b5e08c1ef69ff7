/*
 * oidclink.h -- OpenID Connect sign-in's rows: the pre-login records of sign-ins under
 * way (oidc_logins, schema 011) and the link of a user to the provider's subject
 * (users.oidc_issuer, users.oidc_uid).
 *
 * Contract: the caller (admin/oidc.c) makes the random values and checks the provider's
 * answers; only the SHA-256 of a state reaches this module. A pre-login record is taken
 * once: oidclink_prelogin_take() deletes it in the same statement set that reads it, so
 * a replayed state finds nothing. Must never: log a state, nonce or code verifier.
 */
#ifndef PG_OIDCLINK_H
#define PG_OIDCLINK_H

#include "mail/db.h"
#include "mail/user.h"

#define OIDCLINK_NONCE_MAX 64
#define OIDCLINK_VERIFIER_MAX 128

/* Records a sign-in under way for lifetime seconds (and deletes expired records): 1, < 0 database error. */
int oidclink_prelogin_create(DB *db, const char *state_hash, const char *nonce, const char *code_verifier,
                             long long lifetime);
/* Takes the unexpired record of state_hash (deleted, so it works once): 1 with nonce_r and
 * verifier_r filled, 0 none (unknown, already taken or expired), < 0 database error. */
int oidclink_prelogin_take(DB *db, const char *state_hash, char nonce_r[OIDCLINK_NONCE_MAX + 1],
                           char verifier_r[OIDCLINK_VERIFIER_MAX + 1]);

/* The live user linked to (issuer, subject): 1 found (*out), 0 none, < 0 database error. */
int oidclink_user_by_subject(DB *db, const char *issuer, const char *subject, USER *out);
/* Links live user user_id to (issuer, subject) and removes its local password (a linked
 * user signs in only through the provider): 1 linked, 0 no such live user or one already
 * linked, < 0 database error (also when the subject is linked to someone else: the unique key). */
int oidclink_link(DB *db, unsigned long long user_id, const char *issuer, const char *subject);
/* 1 when user_id is linked to an OpenID identity, 0 not (or no such user), < 0 database error. */
int oidclink_is_linked(DB *db, unsigned long long user_id);

#endif
