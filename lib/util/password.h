/*
 * password.h -- password hashing for people (admin users, mailboxes) with argon2id.
 *
 * The stored form is the standard encoded string ($argon2id$v=19$m=...,t=...,p=...$salt$hash),
 * so parameters can be raised later and old hashes still verify. Which passwords are
 * acceptable is the configured policy's question (lib/mail/pwpolicy.h). Machine secrets
 * (credential keys, session tokens) are high-entropy and use token_sha256_hex instead.
 */
#ifndef PG_PASSWORD_H
#define PG_PASSWORD_H

#include <stddef.h>

#define PASSWORD_MAX_LENGTH 1024
#define PASSWORD_HASH_MAX 256

/* Hashes password into out (PASSWORD_HASH_MAX bytes). 0, or -1 with *error_r (mem_free it). */
int password_hash(const char *password, char *out, size_t outlen, char **error_r);
/* 1 when password matches encoded, 0 when not, -1 when encoded is not a valid hash. */
int password_verify(const char *encoded, const char *password);

#endif
