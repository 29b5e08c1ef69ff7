/*
 * fuzz_oidc.c -- libFuzzer harness of postgate-admin's ID-token checks (admin/oidc.c, which
 * it includes: verify_id_token() and the JWKS key choice are static). What a sign-in gets
 * from outside is the provider's ID token and key set; the harness plays both, with the
 * network never touched (the key set is cached as fetched just now).
 *
 * The first byte picks what the rest of the input is:
 *   0  the ID token itself (JWS compact serialization), checked as the callback checks it;
 *   1  the token's claims (JSON), signed with the harness's EC key (ES256, kid "k1"), so the
 *      claim checks run behind a valid signature;
 *   2  the issuer's key set (JSON), checked against a token signed by the harness.
 *
 * Contract checked: an accepted token has exactly the configured issuer, an audience that
 * holds the identifier, and the sign-in's nonce; a refusal always says why.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../admin/oidc.c"

#define ISSUER "https://id.example.test"
#define CLIENT "postgate-fuzz"
#define NONCE "fuzz-nonce-0123456789abcdefghijklmnopqrstuvw"

static OIDC *rp;
static cjose_jwk_t *signer;
static json_t *good_jwks;
static char *good_token;

/* The compact JWS of payload signed ES256 with the harness's key (mem_free), or NULL. */
static char *
sign(const uint8_t *payload, size_t len)
{
    cjose_err err;
    cjose_header_t *hdr = cjose_header_new(&err);
    cjose_jws_t *jws = NULL;
    const char *compact = NULL;
    char *out = NULL;

    if (hdr && cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &err)
        && cjose_header_set(hdr, CJOSE_HDR_KID, "k1", &err)
        && (jws = cjose_jws_sign(signer, hdr, payload, len, &err)) != NULL
        && cjose_jws_export(jws, &compact, &err))
        out = mem_strdup(compact);
    cjose_jws_release(jws);
    cjose_header_release(hdr);
    return out;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cjose_err err;
    char *pub, claims[512];
    long long now = (long long) time(NULL);

    fuzz_quiet("fuzz_oidc");
    signer = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
    if (signer == NULL || !cjose_jwk_set_kid(signer, "k1", 2, &err)
        || (pub = cjose_jwk_to_json(signer, false, &err)) == NULL)
        abort();
    good_jwks = json_pack("{s:[o]}", "keys", json_loads(pub, 0, NULL));
    free(pub);
    if (good_jwks == NULL)
        abort();
    snprintf(claims, sizeof(claims),
             "{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"u1\",\"exp\":%lld,\"iat\":%lld,"
             "\"nonce\":\"" NONCE "\",\"email\":\"a@example.test\"}", now + 86400 * 365, now);
    if ((good_token = sign((const uint8_t *) claims, strlen(claims))) == NULL)
        abort();

    rp = mem_zalloc(sizeof(*rp));
    rp->enabled = 1;
    rp->issuer = mem_strdup(ISSUER);
    rp->identifier = mem_strdup(CLIENT);
    rp->jwks_uri = mem_strdup("http://127.0.0.1:1/never-fetched");
    pthread_mutex_init(&rp->lock, NULL);
    return 0;
}

/* Checks one token against the key set now cached. */
static void
check(const char *token)
{
    json_t *claims = NULL, *aud;
    char *error = NULL;
    int ret;

    rp->jwks_at = clock_mono_seconds();         /* as fetched just now: no network */
    ret = verify_id_token(rp, token, NONCE, &claims, &error);
    if (ret == 0) {
        const char *iss = json_string_value(json_object_get(claims, "iss"));
        const char *nonce = json_string_value(json_object_get(claims, "nonce"));
        int aud_ok = 0;
        size_t i;
        json_t *a;

        aud = json_object_get(claims, "aud");
        if (json_is_string(aud))
            aud_ok = strcmp(json_string_value(aud), CLIENT) == 0;
        json_array_foreach(aud, i, a)
            aud_ok |= json_is_string(a) && strcmp(json_string_value(a), CLIENT) == 0;
        if (iss == NULL || strcmp(iss, ISSUER) != 0 || !aud_ok || nonce == NULL || strcmp(nonce, NONCE) != 0)
            abort();            /* accepted what the checks must refuse */
        if (error != NULL)
            abort();
    } else if (error == NULL) {
        abort();                /* a refusal always says why */
    }
    json_decref(claims);
    mem_free(error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    json_decref(rp->jwks);
    rp->jwks = json_incref(good_jwks);
    switch (data[0] % 3) {
    case 0:
        token = mem_strndup((const char *) data + 1, size - 1);
        check(token);
        mem_free(token);
        break;
    case 1:
        if ((token = sign(data + 1, size - 1)) != NULL) {
            check(token);
            mem_free(token);
        }
        break;
    default: {
        json_t *set = json_loadb((const char *) data + 1, size - 1, 0, NULL);

        if (set != NULL) {
            json_decref(rp->jwks);
            rp->jwks = set;
            check(good_token);
        }
        break;
    }
    }
    return 0;
}
