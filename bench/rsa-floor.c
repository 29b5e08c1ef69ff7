/*
 * rsa-floor.c -- the floor bench/dkim compares postgate's signer with when it counts
 * instructions: COUNT RSA-2048 PKCS#1 v1.5 signatures of one SHA-256 digest through one
 * prepared OpenSSL context, nothing else (what `openssl speed rsa2048` times).
 *
 *   rsa-floor KEYFILE COUNT
 *
 * Built by bench/dkim with the system compiler and -lcrypto; not part of postgate.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

int
main(int argc, char **argv)
{
    unsigned char digest[32] = {0}, sig[512];
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *key;
    FILE *f;
    long count;

    if (argc != 3 || (f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: rsa-floor KEYFILE COUNT\n");
        return 2;
    }
    count = atol(argv[2]);
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL || (ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL || EVP_PKEY_sign_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1
        || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) {
        fprintf(stderr, "rsa-floor: cannot set up signing with %s\n", argv[1]);
        return 1;
    }
    for (long i = 0; i < count; i++) {
        size_t len = sizeof(sig);

        if (EVP_PKEY_sign(ctx, sig, &len, digest, sizeof(digest)) != 1) {
            fprintf(stderr, "rsa-floor: signing failed\n");
            return 1;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    return 0;
}
