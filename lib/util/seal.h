/*
 * seal.h -- authenticated encryption of secrets at rest (AES-256-GCM).
 *
 * A sealed value is: 1 version byte (1) | 12-byte random nonce | ciphertext | 16-byte tag.
 * It is bound to a context string (for example "credential") through the GCM
 * additional data, so a value sealed for one column cannot be swapped into another.
 * The key is 32 bytes kept in a file as 64 hex digits, mode 0600/0640.
 */
#ifndef PG_SEAL_H
#define PG_SEAL_H

#include <stddef.h>

#include "util/buf.h"

#define SEAL_KEY_LEN 32

typedef struct seal_key SEAL_KEY;

/* Reads the key file; -1 with *error_r (mem_free it) naming the file and the problem. */
SEAL_KEY *seal_key_load(const char *path, char **error_r);
/* Creates path with a new random key (mode 0640), refusing to overwrite: 0, or -1 with
 * *error_r (mem_free it). */
int seal_key_create(const char *path, char **error_r);
void seal_key_free(SEAL_KEY *key);

/* Appends the sealed form of plain to out. -1 only if the CSPRNG or OpenSSL fails. */
int seal_encrypt(const SEAL_KEY *key, const char *context, const void *plain, size_t len, BUF *out);
/* Appends the plaintext to out; -1 when the value is damaged, for another context or another key. */
int seal_decrypt(const SEAL_KEY *key, const char *context, const void *sealed, size_t len, BUF *out);

/* HMAC-SHA256 of data under a key derived from the installation key for context, as 64
 * lowercase hex digits (out: 65 bytes): proves a value came from a postgate program. */
void seal_mac_hex(const SEAL_KEY *key, const char *context, const void *data, size_t len, char out[65]);

#endif
