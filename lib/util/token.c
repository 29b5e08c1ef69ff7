/*
 * token.c -- random tokens, UUIDs and secret digests (see token.h).
 * Never uses rand()/random(): every byte comes from RAND_bytes().
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/token.h"

int
token_generate(char *out, size_t len, const char *alphabet)
{
    size_t n = strlen(alphabet);
    /* Largest multiple of n that fits a byte: values at or above it are redrawn. */
    unsigned limit;
    unsigned char pool[64];
    size_t used = sizeof(pool);
    size_t i = 0;

    if (n == 0 || n > 256)
        return -1;
    limit = 256 - (256 % n);
    while (i < len) {
        if (used == sizeof(pool)) {
            if (RAND_bytes(pool, sizeof(pool)) != 1)
                return -1;
            used = 0;
        }
        unsigned char b = pool[used++];

        if (b < limit)
            out[i++] = alphabet[b % n];
    }
    out[len] = '\0';
    OPENSSL_cleanse(pool, sizeof(pool));
    return 0;
}

int
token_uuid(char out[37])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
             b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

void
token_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = sizeof(md);
    static const char hex[] = TOKEN_HEX;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int
token_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}
