/*
 * oidc.c -- the OpenID Connect relying party (oidc.h): discovery, the authorization URL
 * with PKCE, the token request over libcurl and the ID token's checks with libcjose.
 *
 * Every document fetched from the provider is bounded (OIDC_DOC_MAX bytes, OIDC_FETCH_TIMEOUT
 * seconds, http(s) only, no redirects followed) and must be a JSON object.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjose/cjose.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "mail/confseal.h"
#include "oidc.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define OIDC_DOC_MAX (1024 * 1024)
#define OIDC_FETCH_TIMEOUT 10
#define OIDC_DISCOVERY_TTL 3600
#define OIDC_JWKS_TTL 86400

struct oidc {
    int enabled;
    int local;                  /* oidc.local_authentication_enabled */
    char *name;
    char *issuer;
    int discovery;
    char *identifier;
    char *secret;               /* opened; "" for a public client */
    char *scopes;               /* space-separated */
    char *uid_field;
    char *email_field;
    char *name_field;
    pthread_mutex_t lock;
    /* The endpoints: configured, or from the discovery document of discovered_at. */
    char *authorization_endpoint;
    char *token_endpoint;
    char *userinfo_endpoint;
    char *jwks_uri;
    time_t discovered_at;
    json_t *jwks;               /* the key set, fetched at jwks_at */
    time_t jwks_at;
};

static const char *const allowed_algs[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                           "ES256", "ES384", "ES512", NULL};

static void
set_str(char **field, const char *value)
{
    mem_free(*field);
    *field = mem_strdup(value ? value : "");
}

static int
http_url(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* ---------------------------------------------------------------- set-up */

OIDC *
oidc_new(const PGCONF *cfg, const SEAL_KEY *seal, char **error_r)
{
    OIDC *o = mem_zalloc(sizeof(*o));
    BUF *scopes = buf_new(64);
    int has_openid = 0;

    *error_r = NULL;
    pthread_mutex_init(&o->lock, NULL);
    o->enabled = cfg->oidc_enabled;
    o->local = cfg->oidc_local_authentication_enabled;
    o->name = mem_strdup(cfg->oidc_name);
    o->issuer = mem_strdup(cfg->oidc_issuer);
    o->discovery = cfg->oidc_discovery;
    o->identifier = mem_strdup(cfg->oidc_identifier);
    o->uid_field = mem_strdup(cfg->oidc_uid_field);
    o->email_field = mem_strdup(cfg->oidc_email_address_field);
    o->name_field = mem_strdup(cfg->oidc_name_field);
    o->authorization_endpoint = mem_strdup(cfg->oidc_authorization_endpoint);
    o->token_endpoint = mem_strdup(cfg->oidc_token_endpoint);
    o->userinfo_endpoint = mem_strdup(cfg->oidc_userinfo_endpoint);
    o->jwks_uri = mem_strdup(cfg->oidc_jwks_uri);
    for (size_t i = 0; i < cfg->oidc_scopes.count; i++) {
        if (i)
            buf_append_str(scopes, " ");
        buf_append_str(scopes, cfg->oidc_scopes.items[i]);
        has_openid |= strcmp(cfg->oidc_scopes.items[i], "openid") == 0;
    }
    o->scopes = mem_strdup(buf_cstr(scopes));
    buf_free(scopes);
    o->secret = mem_strdup("");
    if (!o->enabled)
        return o;

#define BAD(key, ...) do { \
        char *why_ = buf_asprintf(__VA_ARGS__); \
        *error_r = buf_asprintf("%s: oidc.%s: %s", cfg->origin[CONF_K_oidc_##key], #key, why_); \
        mem_free(why_); \
        oidc_free(o); \
        return NULL; \
    } while (0)

    if (!http_url(o->issuer))
        BAD(issuer, "an http(s) URL is required when oidc.enabled is set");
    if (!*o->identifier)
        BAD(identifier, "the client ID is required when oidc.enabled is set");
    if (!has_openid)
        BAD(scopes, "must include openid");
    if (!*o->uid_field || !*o->email_field)
        BAD(uid_field, "uid_field and email_address_field must name claims");
    if (!o->discovery) {
        if (!http_url(o->authorization_endpoint))
            BAD(authorization_endpoint, "an http(s) URL is required when oidc.discovery is off");
        if (!http_url(o->token_endpoint))
            BAD(token_endpoint, "an http(s) URL is required when oidc.discovery is off");
        if (!http_url(o->jwks_uri))
            BAD(jwks_uri, "an http(s) URL is required when oidc.discovery is off");
        if (*o->userinfo_endpoint && !http_url(o->userinfo_endpoint))
            BAD(userinfo_endpoint, "must be an http(s) URL");
    }
    if (*cfg->oidc_secret) {
        char *plain = NULL, *why = NULL;

        if (confseal_open(seal, "oidc.secret", cfg->oidc_secret, &plain, &why) < 0) {
            *error_r = buf_asprintf("%s: %s", cfg->origin[CONF_K_oidc_secret], why);
            mem_free(why);
            oidc_free(o);
            return NULL;
        }
        mem_free(o->secret);
        o->secret = plain;
    }
#undef BAD
    return o;
}

void
oidc_free(OIDC *o)
{
    if (o == NULL)
        return;
    if (o->secret)
        explicit_bzero(o->secret, strlen(o->secret));
    mem_free(o->secret);
    mem_free(o->name);
    mem_free(o->issuer);
    mem_free(o->identifier);
    mem_free(o->scopes);
    mem_free(o->uid_field);
    mem_free(o->email_field);
    mem_free(o->name_field);
    mem_free(o->authorization_endpoint);
    mem_free(o->token_endpoint);
    mem_free(o->userinfo_endpoint);
    mem_free(o->jwks_uri);
    json_decref(o->jwks);
    pthread_mutex_destroy(&o->lock);
    mem_free(o);
}

int
oidc_enabled(const OIDC *o)
{
    return o && o->enabled;
}

const char *
oidc_name(const OIDC *o)
{
    return o->name;
}

int
oidc_local_enabled(const OIDC *o)
{
    return o == NULL || !o->enabled || o->local;
}

/* ---------------------------------------------------------------- fetching */

static size_t
collect(char *data, size_t size, size_t nmemb, void *arg)
{
    BUF *out = arg;
    size_t n = size * nmemb;

    if (buf_len(out) + n > OIDC_DOC_MAX)
        return 0;               /* too large: the transfer fails */
    buf_append(out, data, n);
    return n;
}

/*
 * One request to the provider: GET, or POST of form (urlencoded) when not NULL, with
 * HTTP Basic user:password when user is set, or a Bearer token. The answer must be a
 * JSON object: 0 with *doc_r; OIDC_TEMPORARY when the provider could not be reached or
 * answered 5xx; OIDC_REFUSED for another status or a body that is not a JSON object
 * (*doc_r is then the error object when the body was one). *error_r says why.
 */
static int
fetch_json(const char *url, const char *form, const char *user, const char *password, const char *bearer,
           json_t **doc_r, char **error_r)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    BUF *body = buf_new(4096);
    char *auth = NULL;
    long status = 0;
    CURLcode rc;
    json_error_t jerr;
    int ret = 0;

    *doc_r = NULL;
    if (curl == NULL) {
        buf_free(body);
        *error_r = mem_strdup("libcurl could not start a request");
        return OIDC_TEMPORARY;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long) OIDC_FETCH_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "postgate/" PACKAGE_VERSION);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    headers = curl_slist_append(headers, "Accept: application/json");
    if (bearer) {
        auth = buf_asprintf("Authorization: Bearer %s", bearer);
        headers = curl_slist_append(headers, auth);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (user) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
    }
    if (form)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        *error_r = buf_asprintf("%s: %s", url, curl_easy_strerror(rc));
        ret = OIDC_TEMPORARY;
    } else if (status >= 500) {
        *error_r = buf_asprintf("%s: HTTP status %ld", url, status);
        ret = OIDC_TEMPORARY;
    } else {
        *doc_r = json_loadb((const char *) buf_data(body), buf_len(body), JSON_REJECT_DUPLICATES, &jerr);
        if (*doc_r && !json_is_object(*doc_r)) {
            json_decref(*doc_r);
            *doc_r = NULL;
        }
        if (*doc_r == NULL) {
            *error_r = buf_asprintf("%s: HTTP status %ld, the answer is not a JSON object", url, status);
            ret = OIDC_REFUSED;
        } else if (status != 200) {
            const char *e = json_string_value(json_object_get(*doc_r, "error"));
            const char *d = json_string_value(json_object_get(*doc_r, "error_description"));

            *error_r = buf_asprintf("%s: HTTP status %ld%s%s%s%s", url, status, e ? ": " : "", e ? e : "",
                                    d ? ": " : "", d ? d : "");
            ret = OIDC_REFUSED;
        }
    }
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        mem_free(auth);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    buf_free(body);
    return ret;
}

/* The endpoints, from the discovery document when it is older than its TTL. Call with
 * the lock held: 0, or < 0 with *error_r. */
static int
discover(OIDC *o, char **error_r)
{
    time_t now = clock_mono_seconds();
    const char *iss;
    json_t *doc;
    char *url;
    size_t n;
    int ret;

    if (!o->discovery || (o->discovered_at && now - o->discovered_at < OIDC_DISCOVERY_TTL))
        return 0;
    n = strlen(o->issuer);
    while (n > 0 && o->issuer[n - 1] == '/')
        n--;
    url = buf_asprintf("%.*s/.well-known/openid-configuration", (int) n, o->issuer);
    ret = fetch_json(url, NULL, NULL, NULL, NULL, &doc, error_r);
    mem_free(url);
    if (ret < 0) {
        json_decref(doc);
        return OIDC_TEMPORARY;  /* a provider that cannot tell its endpoints cannot be used now */
    }
    iss = json_string_value(json_object_get(doc, "issuer"));
    if (iss == NULL || strcmp(iss, o->issuer) != 0) {
        *error_r = buf_asprintf("the discovery document names issuer %s, not oidc.issuer %s", iss ? iss : "(none)",
                                o->issuer);
        json_decref(doc);
        return OIDC_TEMPORARY;
    }
    if (!json_is_string(json_object_get(doc, "authorization_endpoint"))
        || !json_is_string(json_object_get(doc, "token_endpoint")) || !json_is_string(json_object_get(doc, "jwks_uri"))) {
        *error_r = mem_strdup("the discovery document lacks authorization_endpoint, token_endpoint or jwks_uri");
        json_decref(doc);
        return OIDC_TEMPORARY;
    }
    set_str(&o->authorization_endpoint, json_string_value(json_object_get(doc, "authorization_endpoint")));
    set_str(&o->token_endpoint, json_string_value(json_object_get(doc, "token_endpoint")));
    set_str(&o->userinfo_endpoint, json_string_value(json_object_get(doc, "userinfo_endpoint")));
    if (strcmp(o->jwks_uri, json_string_value(json_object_get(doc, "jwks_uri"))) != 0) {
        set_str(&o->jwks_uri, json_string_value(json_object_get(doc, "jwks_uri")));
        json_decref(o->jwks);
        o->jwks = NULL;
    }
    o->discovered_at = now;
    json_decref(doc);
    return 0;
}

/* ---------------------------------------------------------------- the authorization request */

int
oidc_new_secrets(char state[OIDC_STATE_LEN + 1], char nonce[OIDC_NONCE_LEN + 1], char verifier[OIDC_VERIFIER_LEN + 1])
{
    if (token_generate(state, OIDC_STATE_LEN, TOKEN_ALNUM) < 0 || token_generate(nonce, OIDC_NONCE_LEN, TOKEN_ALNUM) < 0
        || token_generate(verifier, OIDC_VERIFIER_LEN, TOKEN_ALNUM) < 0)
        return -1;
    return 0;
}

/* Appends &name=value, the value percent-encoded by libcurl. */
static void
add_param(BUF *url, CURL *curl, const char *name, const char *value)
{
    char *enc = curl_easy_escape(curl, value, 0);

    buf_append_str(url, "&");
    buf_append_str(url, name);
    buf_append_str(url, "=");
    buf_append_str(url, enc ? enc : "");
    curl_free(enc);
}

int
oidc_auth_url(OIDC *o, const char *redirect_uri, const char *state, const char *nonce, const char *verifier,
              char **url_r, char **error_r)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char *challenge;
    CURL *curl;
    BUF *url;

    pthread_mutex_lock(&o->lock);
    if (discover(o, error_r) < 0) {
        pthread_mutex_unlock(&o->lock);
        return -1;
    }
    url = buf_new(512);
    buf_append_str(url, o->authorization_endpoint);
    pthread_mutex_unlock(&o->lock);
    if ((curl = curl_easy_init()) == NULL) {
        buf_free(url);
        *error_r = mem_strdup("libcurl could not start");
        return -1;
    }
    /* PKCE (RFC 7636): the challenge is the verifier's SHA-256, base64url without padding. */
    SHA256((const unsigned char *) verifier, strlen(verifier), digest);
    challenge = base64_encode(digest, sizeof(digest), BASE64_URL | BASE64_NOPAD);
    buf_append_str(url, strchr(buf_cstr(url), '?') ? "&response_type=code" : "?response_type=code");
    add_param(url, curl, "client_id", o->identifier);
    add_param(url, curl, "redirect_uri", redirect_uri);
    add_param(url, curl, "scope", o->scopes);
    add_param(url, curl, "state", state);
    add_param(url, curl, "nonce", nonce);
    add_param(url, curl, "code_challenge", challenge);
    add_param(url, curl, "code_challenge_method", "S256");
    curl_easy_cleanup(curl);
    mem_free(challenge);
    *url_r = mem_strdup(buf_cstr(url));
    buf_free(url);
    return 0;
}

/* ---------------------------------------------------------------- the ID token */

/* Is s[0..len) base64url that decodes (our strict decoder)? libcjose 0.6 asserts, and so
 * aborts the whole process, on some malformed base64url (a lone trailing character), so
 * every base64url string from outside is checked before libcjose sees it. */
static int
b64url_ok(const char *s, size_t len)
{
    BUF *scratch = buf_new(len);
    int ok = base64_decode(scratch, s, len, BASE64_URL) == 0;

    buf_free(scratch);
    return ok;
}

/* A compact JWS libcjose may parse: three base64url segments (the last may be empty). */
static int
jws_compact_ok(const char *token)
{
    const char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;

    return dot2 != NULL && strchr(dot2 + 1, '.') == NULL && dot1 > token && dot2 > dot1 + 1
        && b64url_ok(token, (size_t) (dot1 - token)) && b64url_ok(dot1 + 1, (size_t) (dot2 - dot1 - 1))
        && b64url_ok(dot2 + 1, strlen(dot2 + 1));
}

/* A JWK libcjose may import: every string member that carries key material is base64url. */
static int
jwk_members_ok(const json_t *key)
{
    static const char *const b64_members[] = {"n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y", "k", NULL};

    for (size_t i = 0; b64_members[i]; i++) {
        const json_t *v = json_object_get(key, b64_members[i]);

        if (v && (!json_is_string(v) || !b64url_ok(json_string_value(v), json_string_length(v))))
            return 0;
    }
    return 1;
}

/* The JWK of kid (any signing key when kid is NULL and the set has exactly one) from the
 * cached set, fetching the set when it is missing, old, or lacks kid (a rotation) and the
 * last fetch is OIDC_JWKS_MIN_REFETCH seconds old. Call with the lock held. The key
 * (cjose_jwk_release it), or NULL with *error_r; *temporary_r when the set could not be had. */
static cjose_jwk_t *
jwks_key(OIDC *o, const char *kid, int *temporary_r, char **error_r)
{
    time_t now = clock_mono_seconds();

    *temporary_r = 0;
    for (int pass = 0; pass < 2; pass++) {
        json_t *keys, *key, *found = NULL;
        size_t i, candidates = 0;

        if (o->jwks == NULL || now - o->jwks_at >= OIDC_JWKS_TTL
            || (pass == 1 && now - o->jwks_at >= OIDC_JWKS_MIN_REFETCH)) {
            json_t *doc;
            int ret = fetch_json(o->jwks_uri, NULL, NULL, NULL, NULL, &doc, error_r);

            if (ret < 0) {
                json_decref(doc);
                *temporary_r = 1;
                return NULL;
            }
            json_decref(o->jwks);
            o->jwks = doc;
            o->jwks_at = now;
        } else if (pass == 1) {
            break;
        }
        keys = json_object_get(o->jwks, "keys");
        json_array_foreach(keys, i, key) {
            const char *use = json_string_value(json_object_get(key, "use"));
            const char *k = json_string_value(json_object_get(key, "kid"));

            if (use && strcmp(use, "sig") != 0)
                continue;
            if (kid ? (k && strcmp(k, kid) == 0) : 1) {
                found = key;
                candidates++;
            }
        }
        if (found && candidates == 1) {
            char *text;
            cjose_err err;
            cjose_jwk_t *jwk;

            if (!jwk_members_ok(found)) {
                *error_r = buf_asprintf("key %s of the issuer's JWKS has a member that is not base64url",
                                        kid ? kid : "(no kid)");
                return NULL;
            }
            text = json_dumps(found, JSON_COMPACT);
            jwk = text ? cjose_jwk_import(text, strlen(text), &err) : NULL;

            free(text);
            if (jwk == NULL)
                *error_r = buf_asprintf("key %s of the issuer's JWKS cannot be read: %s", kid ? kid : "(no kid)",
                                        text ? err.message : "out of memory");
            return jwk;
        }
        if (candidates > 1 && kid == NULL) {
            *error_r = mem_strdup("the ID token names no key (kid) and the issuer's JWKS has several");
            return NULL;
        }
    }
    *error_r = buf_asprintf("the ID token's key %s is not in the issuer's JWKS", kid ? kid : "(no kid)");
    return NULL;
}

static int
alg_allowed(const char *alg)
{
    for (size_t i = 0; alg && allowed_algs[i]; i++)
        if (strcmp(alg, allowed_algs[i]) == 0)
            return 1;
    return 0;
}

/* A JSON number claim as seconds, or -1 when absent, not a number or not a time (negative,
 * or past the year 33658: a double that large would not fit a long long). */
static long long
time_claim(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);
    double d = json_is_number(v) ? json_number_value(v) : -1;

    return d >= 0 && d < 1e12 ? (long long) d : -1;
}

/* A subject, e-mail or name fits our columns: 1..255 bytes, no control characters
 * (subjects: printable ASCII, OpenID Connect Core 1.0 §2). */
static int
claim_text_ok(const char *s, int ascii)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 255)
        return 0;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (ascii && *p > 0x7e))
            return 0;
    return 1;
}

/* The ID token's signature, then its claims: 0 with *claims_r, or OIDC_REFUSED /
 * OIDC_TEMPORARY (the JWKS could not be fetched) with *error_r. */
static int
verify_id_token(OIDC *o, const char *id_token, const char *nonce, json_t **claims_r, char **error_r)
{
    cjose_jws_t *jws;
    cjose_jwk_t *jwk;
    cjose_header_t *hdr;
    cjose_err err;
    const char *alg, *kid, *iss, *tok_nonce, *azp;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    json_t *claims, *aud;
    json_error_t jerr;
    long long exp, iat, now = (long long) time(NULL);
    int temporary, aud_ok = 0;

    *claims_r = NULL;
    if (!jws_compact_ok(id_token)) {
        *error_r = mem_strdup("the ID token is not a JWS: not three base64url segments");
        return OIDC_REFUSED;
    }
    jws = cjose_jws_import(id_token, strlen(id_token), &err);
    if (jws == NULL) {
        *error_r = buf_asprintf("the ID token is not a JWS: %s", err.message);
        return OIDC_REFUSED;
    }
    hdr = cjose_jws_get_protected(jws);
    alg = hdr ? cjose_header_get(hdr, CJOSE_HDR_ALG, &err) : NULL;
    kid = hdr ? cjose_header_get(hdr, CJOSE_HDR_KID, &err) : NULL;
    if (!alg_allowed(alg)) {
        *error_r = buf_asprintf("the ID token's algorithm %s is not accepted (RS*, PS*, ES* only)", alg ? alg : "(none)");
        cjose_jws_release(jws);
        return OIDC_REFUSED;
    }
    pthread_mutex_lock(&o->lock);
    jwk = jwks_key(o, kid, &temporary, error_r);
    pthread_mutex_unlock(&o->lock);
    if (jwk == NULL) {
        cjose_jws_release(jws);
        return temporary ? OIDC_TEMPORARY : OIDC_REFUSED;
    }
    if (!cjose_jws_verify(jws, jwk, &err)) {
        *error_r = buf_asprintf("the ID token's signature does not verify with key %s of the issuer: %s",
                                kid ? kid : "(no kid)", err.message);
        cjose_jwk_release(jwk);
        cjose_jws_release(jws);
        return OIDC_REFUSED;
    }
    cjose_jwk_release(jwk);
    claims = NULL;
    if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &err)
        || (claims = json_loadb((const char *) plain, plain_len, JSON_REJECT_DUPLICATES, &jerr)) == NULL
        || !json_is_object(claims)) {
        *error_r = mem_strdup("the ID token's payload is not a JSON object");
        json_decref(claims);    /* valid JSON, but an array or a scalar */
        cjose_jws_release(jws);
        return OIDC_REFUSED;
    }
    cjose_jws_release(jws);

#define REFUSE(...) do { *error_r = buf_asprintf(__VA_ARGS__); json_decref(claims); return OIDC_REFUSED; } while (0)
    iss = json_string_value(json_object_get(claims, "iss"));
    if (iss == NULL || strcmp(iss, o->issuer) != 0)
        REFUSE("the ID token's issuer %s is not oidc.issuer %s", iss ? iss : "(none)", o->issuer);
    aud = json_object_get(claims, "aud");
    if (json_is_string(aud)) {
        aud_ok = strcmp(json_string_value(aud), o->identifier) == 0;
    } else if (json_is_array(aud)) {
        size_t i;
        json_t *a;

        json_array_foreach(aud, i, a)
            if (json_is_string(a) && strcmp(json_string_value(a), o->identifier) == 0)
                aud_ok = 1;
        azp = json_string_value(json_object_get(claims, "azp"));
        if (aud_ok && json_array_size(aud) > 1 && (azp == NULL || strcmp(azp, o->identifier) != 0))
            REFUSE("the ID token has several audiences and its azp is not oidc.identifier");
    }
    if (!aud_ok)
        REFUSE("the ID token's audience is not oidc.identifier %s", o->identifier);
    exp = time_claim(claims, "exp");
    iat = time_claim(claims, "iat");
    if (exp < 0 || iat < 0)
        REFUSE("the ID token lacks exp or iat, or one is not a time");
    if (exp + OIDC_CLOCK_SKEW <= now)
        REFUSE("the ID token expired %lld s ago", now - exp);
    if (iat > now + OIDC_CLOCK_SKEW)
        REFUSE("the ID token was issued %lld s in the future", iat - now);
    if (iat + OIDC_MAX_TOKEN_AGE + OIDC_CLOCK_SKEW < now)
        REFUSE("the ID token was issued %lld s ago", now - iat);
    tok_nonce = json_string_value(json_object_get(claims, "nonce"));
    if (tok_nonce == NULL || strlen(tok_nonce) != strlen(nonce) || !token_equal(tok_nonce, nonce, strlen(nonce)))
        REFUSE("the ID token's nonce is not the one this sign-in sent");
#undef REFUSE
    *claims_r = claims;
    return 0;
}

/* A claim's string value (email_verified may also be the string "true"). */
static const char *
claim_str(const json_t *claims, const char *name)
{
    return json_string_value(json_object_get(claims, name));
}

static int
claim_true(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);

    return json_is_true(v) || (json_is_string(v) && strcmp(json_string_value(v), "true") == 0);
}

static void
copy_claim(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

OIDC_RESULT
oidc_finish(OIDC *o, const char *code, const char *verifier, const char *redirect_uri, const char *nonce,
            OIDC_IDENTITY *id, const char **code_r, char **error_r)
{
    char *form, *e_code, *e_uri, *e_verifier, *e_id, *user = NULL, *pass = NULL, *token_endpoint, *userinfo;
    json_t *tok = NULL, *claims = NULL, *info = NULL;
    const char *id_token, *access_token, *sub;
    CURL *curl;
    int ret;

    memset(id, 0, sizeof(*id));
    *error_r = NULL;
    pthread_mutex_lock(&o->lock);
    if ((ret = discover(o, error_r)) < 0) {
        pthread_mutex_unlock(&o->lock);
        *code_r = "ProviderUnavailable";
        return OIDC_TEMPORARY;
    }
    token_endpoint = mem_strdup(o->token_endpoint);
    userinfo = mem_strdup(o->userinfo_endpoint);
    pthread_mutex_unlock(&o->lock);

    if ((curl = curl_easy_init()) == NULL) {
        mem_free(token_endpoint);
        mem_free(userinfo);
        *code_r = "ProviderUnavailable";
        *error_r = mem_strdup("libcurl could not start");
        return OIDC_TEMPORARY;
    }
    e_code = curl_easy_escape(curl, code, 0);
    e_uri = curl_easy_escape(curl, redirect_uri, 0);
    e_verifier = curl_easy_escape(curl, verifier, 0);
    e_id = curl_easy_escape(curl, o->identifier, 0);
    form = buf_asprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s&client_id=%s",
                        e_code ? e_code : "", e_uri ? e_uri : "", e_verifier ? e_verifier : "", e_id ? e_id : "");
    if (*o->secret) {
        /* client_secret_basic: RFC 6749 §2.3.1 form-encodes both before Basic. */
        char *e_secret = curl_easy_escape(curl, o->secret, 0);

        user = mem_strdup(e_id ? e_id : "");
        pass = mem_strdup(e_secret ? e_secret : "");
        if (e_secret)
            explicit_bzero(e_secret, strlen(e_secret));
        curl_free(e_secret);
    }
    curl_free(e_code);
    curl_free(e_uri);
    curl_free(e_verifier);
    curl_free(e_id);
    curl_easy_cleanup(curl);
    ret = fetch_json(token_endpoint, form, user, pass, NULL, &tok, error_r);
    explicit_bzero(form, strlen(form));
    mem_free(form);
    if (pass)
        explicit_bzero(pass, strlen(pass));
    mem_free(pass);
    mem_free(user);
    mem_free(token_endpoint);
    if (ret < 0) {
        *code_r = ret == OIDC_TEMPORARY ? "ProviderUnavailable" : "TokenRequestRefused";
        goto out;
    }
    id_token = claim_str(tok, "id_token");
    access_token = claim_str(tok, "access_token");
    if (id_token == NULL) {
        *error_r = mem_strdup("the token endpoint's answer has no id_token");
        *code_r = "TokenInvalid";
        ret = OIDC_REFUSED;
        goto out;
    }
    if ((ret = verify_id_token(o, id_token, nonce, &claims, error_r)) < 0) {
        *code_r = ret == OIDC_TEMPORARY ? "ProviderUnavailable" : "TokenInvalid";
        goto out;
    }
    /* Claims the ID token lacks come from userinfo, for the same subject only. */
    if (claim_str(claims, o->email_field) == NULL && *userinfo && access_token) {
        ret = fetch_json(userinfo, NULL, NULL, NULL, access_token, &info, error_r);
        if (ret < 0) {
            *code_r = ret == OIDC_TEMPORARY ? "ProviderUnavailable" : "UserinfoRefused";
            goto out;
        }
        sub = claim_str(info, "sub");
        if (sub == NULL || claim_str(claims, "sub") == NULL || strcmp(sub, claim_str(claims, "sub")) != 0) {
            *error_r = mem_strdup("the userinfo answer is for another subject than the ID token");
            *code_r = "TokenInvalid";
            ret = OIDC_REFUSED;
            goto out;
        }
        json_object_update_missing(claims, info);
    }
    if (!claim_text_ok(claim_str(claims, o->uid_field), 1)) {
        *error_r = buf_asprintf("the claim %s (oidc.uid_field) is missing or not 1-255 printable ASCII characters",
                                o->uid_field);
        *code_r = "TokenInvalid";
        ret = OIDC_REFUSED;
        goto out;
    }
    copy_claim(id->issuer, sizeof(id->issuer), o->issuer);
    copy_claim(id->subject, sizeof(id->subject), claim_str(claims, o->uid_field));
    if (claim_text_ok(claim_str(claims, o->email_field), 0))
        copy_claim(id->email, sizeof(id->email), claim_str(claims, o->email_field));
    id->email_verified = claim_true(claims, "email_verified");
    if (*o->name_field && claim_text_ok(claim_str(claims, o->name_field), 0))
        copy_claim(id->name, sizeof(id->name), claim_str(claims, o->name_field));
    ret = OIDC_OK;
out:
    mem_free(userinfo);
    json_decref(tok);
    json_decref(claims);
    json_decref(info);
    return (OIDC_RESULT) ret;
}
