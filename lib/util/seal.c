/*
 * seal.c -- AES-256-GCM sealing of secrets at rest (see seal.h). Keys and
 * plaintexts are wiped from memory when no longer needed.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util/mem.h"
#include "util/seal.h"

#define SEAL_VERSION 1
#define SEAL_NONCE 12
#define SEAL_TAG 16

struct seal_key {
    unsigned char k[SEAL_KEY_LEN];
};

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

SEAL_KEY *
seal_key_load(const char *path, char **error_r)
{
    char text[2 * SEAL_KEY_LEN + 4];
    SEAL_KEY *key;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        *error_r = buf_asprintf("secret key file %s: %s (create it with postgatectl initialize)",
                                path, strerror(errno));
        return NULL;
    }
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    while (n > 0 && isspace((unsigned char) text[n - 1]))
        n--;
    if (n != 2 * SEAL_KEY_LEN) {
        *error_r = buf_asprintf("secret key file %s: expected %d hex digits", path, 2 * SEAL_KEY_LEN);
        OPENSSL_cleanse(text, sizeof(text));
        return NULL;
    }
    key = mem_alloc(sizeof(*key));
    for (int i = 0; i < SEAL_KEY_LEN; i++) {
        int hi = hexval((unsigned char) text[2 * i]), lo = hexval((unsigned char) text[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            *error_r = buf_asprintf("secret key file %s: not a hex key", path);
            OPENSSL_cleanse(text, sizeof(text));
            seal_key_free(key);
            return NULL;
        }
        key->k[i] = (unsigned char) (hi << 4 | lo);
    }
    OPENSSL_cleanse(text, sizeof(text));
    return key;
}

int
seal_key_create(const char *path, char **error_r)
{
    unsigned char k[SEAL_KEY_LEN];
    char text[2 * SEAL_KEY_LEN + 2];
    int fd, ok;

    if (RAND_bytes(k, sizeof(k)) != 1) {
        *error_r = buf_asprintf("random number generator failed");
        return -1;
    }
    for (int i = 0; i < SEAL_KEY_LEN; i++)
        snprintf(text + 2 * i, 3, "%02x", k[i]);
    text[2 * SEAL_KEY_LEN] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        *error_r = buf_asprintf("cannot create secret key file %s: %s", path, strerror(errno));
        OPENSSL_cleanse(k, sizeof(k));
        OPENSSL_cleanse(text, sizeof(text));
        return -1;
    }
    ok = write(fd, text, 2 * SEAL_KEY_LEN + 1) == 2 * SEAL_KEY_LEN + 1 && fsync(fd) == 0;
    close(fd);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(text, sizeof(text));
    if (!ok) {
        *error_r = buf_asprintf("cannot write secret key file %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

void
seal_key_free(SEAL_KEY *key)
{
    if (key == NULL)
        return;
    OPENSSL_cleanse(key, sizeof(*key));
    mem_free(key);
}

/* One GCM pass; enc = 1 seals, 0 opens. out receives the output bytes. */
static int
gcm(const SEAL_KEY *key, int enc, const unsigned char *nonce, const char *context,
    const unsigned char *in, size_t len, unsigned char *tag, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n, ok = 0;

    if (ctx == NULL || len > (size_t) 0x7fffffff)
        goto done;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE, NULL) != 1
        || EVP_CipherInit_ex(ctx, NULL, NULL, key->k, nonce, enc) != 1
        || EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *) context, (int) strlen(context)) != 1
        || (len && EVP_CipherUpdate(ctx, out, &n, in, (int) len) != 1))
        goto done;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) != 1)
        goto done;
    if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
        goto done;
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, tag) != 1)
        goto done;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int
seal_encrypt(const SEAL_KEY *key, const char *context, const void *plain, size_t len, BUF *out)
{
    unsigned char head[1 + SEAL_NONCE], tag[SEAL_TAG];
    unsigned char *ct = mem_alloc(len + 16);

    head[0] = SEAL_VERSION;
    if (RAND_bytes(head + 1, SEAL_NONCE) != 1
        || gcm(key, 1, head + 1, context, plain, len, tag, ct) < 0) {
        mem_free(ct);
        return -1;
    }
    buf_append(out, head, sizeof(head));
    buf_append(out, ct, len);
    buf_append(out, tag, SEAL_TAG);
    mem_free(ct);
    return 0;
}

int
seal_decrypt(const SEAL_KEY *key, const char *context, const void *sealed, size_t len, BUF *out)
{
    const unsigned char *p = sealed;
    unsigned char tag[SEAL_TAG];
    unsigned char *pt;
    size_t ctlen;
    int ret;

    if (len < 1 + SEAL_NONCE + SEAL_TAG || p[0] != SEAL_VERSION)
        return -1;
    ctlen = len - 1 - SEAL_NONCE - SEAL_TAG;
    memcpy(tag, p + 1 + SEAL_NONCE + ctlen, SEAL_TAG);
    pt = mem_alloc(ctlen + 16);
    ret = gcm(key, 0, p + 1, context, p + 1 + SEAL_NONCE, ctlen, tag, pt);
    if (ret == 0)
        buf_append(out, pt, ctlen);
    OPENSSL_cleanse(pt, ctlen + 16);
    mem_free(pt);
    return ret;
}

void
seal_mac_hex(const SEAL_KEY *key, const char *context, const void *data, size_t len, char out[65])
{
    unsigned char sub[32], mac[32];
    unsigned int n = sizeof(sub);

    /* A key per context: HMAC(installation key, context). */
    HMAC(EVP_sha256(), key->k, SEAL_KEY_LEN, (const unsigned char *) context, strlen(context), sub, &n);
    n = sizeof(mac);
    HMAC(EVP_sha256(), sub, sizeof(sub), data, len, mac, &n);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    OPENSSL_cleanse(sub, sizeof(sub));
}
