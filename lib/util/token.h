/*
 * token.h -- random tokens from OpenSSL's CSPRNG.
 *
 * Tokens are drawn without modulo bias (rejection sampling) from an alphabet:
 * message tokens and credential keys are alphanumeric (Postal's format), server
 * tokens are short lowercase. Returns -1 only when the CSPRNG fails, which callers
 * must treat as a temporary failure, never fall back to a weaker source.
 */
#ifndef PG_TOKEN_H
#define PG_TOKEN_H

#include <stddef.h>

#define TOKEN_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define TOKEN_LOWER_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"
#define TOKEN_HEX "0123456789abcdef"

/* Writes len random characters of alphabet plus a NUL into out (len + 1 bytes). */
int token_generate(char *out, size_t len, const char *alphabet);
/* A version 4 UUID in its 36-character text form (out: 37 bytes). */
int token_uuid(char out[37]);
/* SHA-256 of data as 64 lowercase hex digits (out: 65 bytes): how secrets are looked up. */
void token_sha256_hex(const void *data, size_t len, char out[65]);
/* Constant-time comparison of two equal-length byte strings. */
int token_equal(const void *a, const void *b, size_t len);

#endif
