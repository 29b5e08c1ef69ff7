/*
 * dkimkey.c -- DKIM keys (see dkim.h): generating RSA 2048-bit and Ed25519 keys as PKCS#8
 * PEM, loading PEM private keys (RSA of at least 1024 bits, RFC 8301 3.2, or Ed25519),
 * the public key's p= value and the DNS TXT record to publish (RFC 6376 3.6.1, RFC 8463).
 *
 * Contract: every failure is a return value with a reason; a loaded key is shared by
 * reference with the signers made from it (dkim.c, through dkimkey.h).
 *
 * Must never: prompt for a key passphrase, leave a private key in ordinary memory after
 * writing it out, or leave OpenSSL errors queued for other modules.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mail/dkim.h"
#include "mail/dkimkey.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"

#define DKIM_PEM_MAX (64 * 1024)    /* a 16384-bit RSA key in PEM is under 13 kB */
#define DKIM_MIN_RSA_BITS 1024      /* RFC 8301 3.2 */
#define DKIM_GEN_RSA_BITS 2048

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

/* The p= value of a key: RSA SubjectPublicKeyInfo DER or the raw Ed25519 key, base64. */
static char *
public_b64(EVP_PKEY *pkey, DKIM_ALG alg, char **error_r)
{
    unsigned char *der = NULL;
    unsigned char raw[32];
    size_t raw_len = sizeof(raw);
    char *b64 = NULL;
    int der_len;

    if (alg == DKIM_ALG_RSA_SHA256) {
        if ((der_len = i2d_PUBKEY(pkey, &der)) <= 0)
            *error_r = mem_strdup("cannot encode the RSA public key");
        else
            b64 = base64_encode(der, (size_t) der_len, 0);
        OPENSSL_free(der);
    } else if (EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) != 1 || raw_len != sizeof(raw)) {
        *error_r = mem_strdup("cannot read the Ed25519 public key");
    } else {
        b64 = base64_encode(raw, raw_len, 0);
    }
    return b64;
}

char *
dkim_key_public_b64(const DKIM_KEY *key)
{
    char *why = NULL, *b64 = public_b64(key->pkey, key->alg, &why);

    mem_free(why);
    return b64;
}

int
dkim_key_generate(DKIM_ALG alg, char **pem_r, char **public_b64_r, char **error_r)
{
    EVP_PKEY *pkey;
    BIO *bio = NULL;
    char *pem_data;
    long pem_len;
    int ret = -1;

    *pem_r = *public_b64_r = NULL;
    if (alg == DKIM_ALG_RSA_SHA256)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) DKIM_GEN_RSA_BITS);
    else if (alg == DKIM_ALG_ED25519_SHA256)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else {
        *error_r = mem_strdup("unknown DKIM algorithm");
        return -1;
    }
    if (pkey == NULL) {
        *error_r = mem_strdup("key generation failed");
        goto out;
    }
    /* The secure-memory BIO clears the private key from memory when freed. */
    if ((bio = BIO_new(BIO_s_secmem())) == NULL
        || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1
        || (pem_len = BIO_get_mem_data(bio, &pem_data)) <= 0) {
        *error_r = mem_strdup("cannot write the private key as PEM");
        goto out;
    }
    if ((*public_b64_r = public_b64(pkey, alg, error_r)) == NULL)
        goto out;
    *pem_r = mem_strndup(pem_data, (size_t) pem_len);
    ret = 0;
out:
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ret;
}

DKIM_KEY *
dkim_key_load(const char *pem, size_t len, char **error_r)
{
    DKIM_KEY *key = NULL;
    EVP_PKEY *pkey;
    BIO *bio;

    if (pem == NULL || len == 0 || len > DKIM_PEM_MAX) {
        *error_r = mem_strdup("private key is empty or larger than 64 kB");
        return NULL;
    }
    if ((bio = BIO_new_mem_buf(pem, (int) len)) == NULL) {
        *error_r = mem_strdup("cannot read the private key");
        return NULL;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        *error_r = mem_strdup("not a PEM private key (or an encrypted one)");
    else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(pkey) < DKIM_MIN_RSA_BITS)
            *error_r = mem_strdup("RSA key shorter than 1024 bits (RFC 8301 forbids it)");
        else {
            key = mem_zalloc(sizeof(*key));
            key->alg = DKIM_ALG_RSA_SHA256;
        }
    } else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
        key = mem_zalloc(sizeof(*key));
        key->alg = DKIM_ALG_ED25519_SHA256;
    } else
        *error_r = mem_strdup("unsupported key type (RSA or Ed25519 only)");
    if (key != NULL)
        key->pkey = pkey;
    else
        EVP_PKEY_free(pkey);
    ERR_clear_error();
    return key;
}

void
dkim_key_free(DKIM_KEY *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    mem_free(key);
}

DKIM_ALG
dkim_key_alg(const DKIM_KEY *key)
{
    return key->alg;
}

char *
dkim_dns_record(DKIM_ALG alg, const char *public_b64)
{
    if (alg == DKIM_ALG_ED25519_SHA256)
        return buf_asprintf("v=DKIM1; k=ed25519; p=%s;", public_b64);
    return buf_asprintf("v=DKIM1; t=s; h=sha256; p=%s;", public_b64);
}
