/*
 * signkey.c -- the installation's request-signing key and its JWKS (signkey.h).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "mail/signkey.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define SEAL_CONTEXT "signing-key"
#define PEM_MAX (64 * 1024)

struct signkey {
    EVP_PKEY *pkey;
    char kid[SIGNKEY_KID_MAX + 1];
};

/* A big number parameter of an RSA key as base64url of its big-endian bytes. */
static char *
rsa_param_b64url(const EVP_PKEY *pkey, const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char *bytes;
    char *out = NULL;
    int len;

    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return NULL;
    len = BN_num_bytes(bn);
    bytes = mem_alloc((size_t) len + 1);
    BN_bn2bin(bn, bytes);
    out = base64_encode(bytes, (size_t) len, BASE64_URL | BASE64_NOPAD);
    mem_free(bytes);
    BN_free(bn);
    return out;
}

/* The JWK members n and e of a public key; 0 ok, -1 when the key is not RSA. */
static int
jwk_members(const EVP_PKEY *pkey, char **n_r, char **e_r)
{
    *n_r = *e_r = NULL;
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
        return -1;
    *n_r = rsa_param_b64url(pkey, OSSL_PKEY_PARAM_RSA_N);
    *e_r = rsa_param_b64url(pkey, OSSL_PKEY_PARAM_RSA_E);
    if (*n_r == NULL || *e_r == NULL) {
        mem_free(*n_r);
        mem_free(*e_r);
        *n_r = *e_r = NULL;
        return -1;
    }
    return 0;
}

/* RFC 7638 thumbprint: SHA-256 over the required members in lexical order, no spaces. */
static int
thumbprint(const EVP_PKEY *pkey, char kid[SIGNKEY_KID_MAX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *n, *e, *b64;
    BUF *json;
    int ok;

    if (jwk_members(pkey, &n, &e) < 0)
        return -1;
    json = buf_new(512);
    buf_printf(json, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, n);
    ok = EVP_Digest(buf_data(json), buf_len(json), md, &mdlen, EVP_sha256(), NULL) == 1;
    buf_free(json);
    mem_free(n);
    mem_free(e);
    if (!ok)
        return -1;
    b64 = base64_encode(md, mdlen, BASE64_URL | BASE64_NOPAD); /* RFC 7638 thumbprint */
    snprintf(kid, SIGNKEY_KID_MAX + 1, "%s", b64);
    mem_free(b64);
    return 0;
}

static EVP_PKEY *
public_from_pem(const char *pem, size_t len)
{
    BIO *bio;
    EVP_PKEY *pkey;

    if (len == 0 || len > PEM_MAX || (bio = BIO_new_mem_buf(pem, (int) len)) == NULL)
        return NULL;
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return pkey;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static EVP_PKEY *
private_from_pem(const char *pem, size_t len)
{
    BIO *bio;
    EVP_PKEY *pkey;

    if (len == 0 || len > PEM_MAX || (bio = BIO_new_mem_buf(pem, (int) len)) == NULL)
        return NULL;
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (pkey && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

/* Generates a key, seals its private half and inserts it. 1 with kid_r, < 0 with *error_r. */
static int
create_key(DB *db, const SEAL_KEY *seal, char *kid_r, char **error_r)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) SIGNKEY_BITS);
    BIO *priv = NULL, *pub = NULL;
    char *priv_data = NULL, *pub_data = NULL, kid[SIGNKEY_KID_MAX + 1];
    long priv_len = 0, pub_len = 0;
    BUF *sealed = NULL;
    int ret = DB_ERR_TEMP;

    /* The secure-memory BIO clears the private key from memory when freed. */
    if (pkey == NULL || (priv = BIO_new(BIO_s_secmem())) == NULL || (pub = BIO_new(BIO_s_mem())) == NULL
        || PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL) != 1
        || PEM_write_bio_PUBKEY(pub, pkey) != 1
        || (priv_len = BIO_get_mem_data(priv, &priv_data)) <= 0
        || (pub_len = BIO_get_mem_data(pub, &pub_data)) <= 0 || thumbprint(pkey, kid) < 0) {
        *error_r = buf_asprintf("generating an RSA-%d signing key failed", SIGNKEY_BITS);
        goto out;
    }
    sealed = buf_new(4096);
    if (seal_encrypt(seal, SEAL_CONTEXT, priv_data, (size_t) priv_len, sealed) < 0) {
        *error_r = buf_asprintf("sealing the signing key failed");
        goto out;
    }
    ret = db_exec(db, "INSERT INTO installation_keys (kid, algorithm, key_bits, private_key_encrypted, public_key_pem) "
                  "VALUES (?, 'RSA', ?, ?, ?)",
                  DB_ARGS(DB_STR(kid), DB_INT(SIGNKEY_BITS), DB_BLOB(buf_data(sealed), buf_len(sealed)),
                          DB_BLOB(pub_data, (size_t) pub_len)));
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        goto out;
    }
    if (kid_r)
        memcpy(kid_r, kid, sizeof(kid));
    ret = 1;
out:
    buf_free(sealed);
    BIO_free(priv);
    BIO_free(pub);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ret;
}

int
signkey_ensure(DB *db, const SEAL_KEY *seal, char *kid_r, char **error_r)
{
    char kid[SIGNKEY_KID_MAX + 1];
    int ret = signkey_current_kid(db, kid);

    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    if (ret > 0)
        return 0;
    return create_key(db, seal, kid_r, error_r);
}

int
signkey_rotate(DB *db, const SEAL_KEY *seal, char *kid_r, char **error_r)
{
    return create_key(db, seal, kid_r, error_r);
}

int
signkey_retire(DB *db, const char *kid, char **error_r)
{
    char current[SIGNKEY_KID_MAX + 1];
    int ret = signkey_current_kid(db, current);

    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    if (ret > 0 && strcmp(current, kid) == 0) {
        *error_r = buf_asprintf("%s is the signing key: rotate first, then retire it", kid);
        return 0;
    }
    ret = db_exec(db, "UPDATE installation_keys SET retired_at = UTC_TIMESTAMP(6) WHERE kid = ? AND retired_at IS NULL",
                  DB_ARGS(DB_STR(kid)));
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    if (ret == 0)
        *error_r = buf_asprintf("no unretired signing key %s", kid);
    return ret > 0;
}

int
signkey_current_kid(DB *db, char *kid_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT kid FROM installation_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1",
                       DB_NOARGS);

    if (ret > 0)
        snprintf(kid_r, SIGNKEY_KID_MAX + 1, "%s", db_result_get(res, 0, 0));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
signkey_load(DB *db, const SEAL_KEY *seal, SIGNKEY **key_r, char **error_r)
{
    DB_RESULT *res;
    BUF *pem;
    EVP_PKEY *pkey;
    int ret = db_query(db, &res, "SELECT kid, private_key_encrypted FROM installation_keys WHERE retired_at IS NULL "
                       "ORDER BY id DESC LIMIT 1", DB_NOARGS);

    *key_r = NULL;
    if (ret <= 0) {
        if (ret < 0)
            *error_r = buf_asprintf("%s", db_error(db));
        db_result_free(res);
        return ret;
    }
    pem = buf_new(4096);
    if (seal_decrypt(seal, SEAL_CONTEXT, db_result_get(res, 0, 1), db_result_len(res, 0, 1), pem) < 0) {
        *error_r = buf_asprintf("signing key %s cannot be unsealed (another security.secret_key_file?)",
                                db_result_get(res, 0, 0));
        ret = DB_ERR_PERM;
    } else if ((pkey = private_from_pem(buf_cstr(pem), buf_len(pem))) == NULL) {
        *error_r = buf_asprintf("signing key %s is not an RSA private key", db_result_get(res, 0, 0));
        ret = DB_ERR_PERM;
    } else {
        *key_r = mem_zalloc(sizeof(**key_r));
        (*key_r)->pkey = pkey;
        snprintf((*key_r)->kid, sizeof((*key_r)->kid), "%s", db_result_get(res, 0, 0));
        ret = 1;
    }
    explicit_bzero((void *) buf_data(pem), buf_len(pem));
    buf_free(pem);
    db_result_free(res);
    return ret;
}

const char *
signkey_kid(const SIGNKEY *key)
{
    return key->kid;
}

void
signkey_free(SIGNKEY *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    mem_free(key);
}

static char *
sign_one(EVP_PKEY *pkey, const EVP_MD *md, const void *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);
    char *out = NULL;

    if (ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) == 1
        && EVP_DigestSign(ctx, sig, &siglen, data, len) == 1)
        out = base64_encode(sig, siglen, 0);
    else
        msg_warn("signing a request with %s failed", EVP_MD_get0_name(md));
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return out;
}

int
signkey_sign(const SIGNKEY *key, const void *data, size_t len, char **sha1_r, char **sha256_r)
{
    *sha1_r = sign_one(key->pkey, EVP_sha1(), data, len);
    *sha256_r = sign_one(key->pkey, EVP_sha256(), data, len);
    if (*sha1_r && *sha256_r)
        return 0;
    mem_free(*sha1_r);
    mem_free(*sha256_r);
    *sha1_r = *sha256_r = NULL;
    return -1;
}

int
signkey_jwks(DB *db, json_t **jwks_r)
{
    DB_RESULT *res;
    json_t *keys;
    int ret = db_query(db, &res, "SELECT kid, public_key_pem FROM installation_keys WHERE retired_at IS NULL "
                       "ORDER BY id DESC", DB_NOARGS);

    *jwks_r = NULL;
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    keys = json_array();
    for (size_t r = 0; r < db_result_rows(res); r++) {
        EVP_PKEY *pkey = public_from_pem(db_result_get(res, r, 1), db_result_len(res, r, 1));
        char *n, *e;

        if (pkey == NULL || jwk_members(pkey, &n, &e) < 0) {
            msg_warn("signing key %s: its public key cannot be read; left out of the JWKS", db_result_get(res, r, 0));
            EVP_PKEY_free(pkey);
            continue;
        }
        json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA",
                                              "kid", db_result_get(res, r, 0), "use", "sig", "alg", "RS256",
                                              "n", n, "e", e));
        mem_free(n);
        mem_free(e);
        EVP_PKEY_free(pkey);
    }
    db_result_free(res);
    *jwks_r = json_pack("{s:o}", "keys", keys);
    return *jwks_r ? (int) json_array_size(keys) : DB_ERR_PERM;
}

static const DB_COL signkey_cols[] = {
    DB_COL_AT(DB_COL_STR, SIGNKEY_ROW, kid), DB_COL_AT(DB_COL_STR, SIGNKEY_ROW, created_at),
    DB_COL_AT(DB_COL_STR, SIGNKEY_ROW, retired_at), DB_COL_AT(DB_COL_BOOL, SIGNKEY_ROW, signing),
};

int
signkey_list(DB *db, DB_ROWS *rows)
{
    return db_query_rows(db, rows, signkey_cols, sizeof(signkey_cols) / sizeof(signkey_cols[0]), sizeof(SIGNKEY_ROW),
                         "SELECT k.kid, DATE_FORMAT(k.created_at, '%Y-%m-%dT%H:%i:%sZ'), "
                         "DATE_FORMAT(k.retired_at, '%Y-%m-%dT%H:%i:%sZ'), k.id = (SELECT MAX(c.id) FROM "
                         "installation_keys c WHERE c.retired_at IS NULL) FROM installation_keys k ORDER BY k.id DESC",
                         DB_NOARGS);
}
