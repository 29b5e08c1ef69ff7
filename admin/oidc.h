/*
 * oidc.h -- the OpenID Connect relying party of postgate-admin (oidc.* in postgate.conf):
 * the provider's endpoints (discovery, cached for an hour, or configured by hand), the
 * authorization request of the code flow with PKCE (S256), the token request (libcurl)
 * and the ID token's checks. mgmt_oidc.c drives a sign-in with it and decides who the
 * person is; this module knows nothing of users.
 *
 * ID tokens are verified with libcjose (JWS, JWK), never by hand: the signature with the
 * key of the issuer's JWKS that the token's header names (an asymmetric algorithm:
 * RS*, PS*, ES*; "none" and HMAC are refused), fetched again when the token names a key
 * the cache lacks (the provider rotated its keys; at most every OIDC_JWKS_MIN_REFETCH
 * seconds), then iss (exactly oidc.issuer), aud (holds oidc.identifier; azp too when
 * there are several audiences), exp, iat (within OIDC_CLOCK_SKEW of now, and not older
 * than OIDC_MAX_TOKEN_AGE) and nonce (the pre-login record's). Claims the ID token lacks
 * (the e-mail address) are asked of the userinfo endpoint with the access token; its
 * `sub` must be the ID token's.
 *
 * Thread-safe: one OIDC serves every request thread; its caches are under a lock, held
 * while a fetch runs (sign-ins are rare; a slow provider delays sign-ins only).
 * Must never: log a code, token, secret, state, nonce or verifier; accept an ID token
 * whose signature, issuer, audience, times or nonce fail.
 */
#ifndef PG_ADMIN_OIDC_H
#define PG_ADMIN_OIDC_H

#include "mail/conf.h"
#include "util/seal.h"

#define OIDC_CLOCK_SKEW 60          /* seconds of clock difference tolerated */
#define OIDC_MAX_TOKEN_AGE 600      /* an ID token issued longer ago is refused */
#define OIDC_JWKS_MIN_REFETCH 10    /* seconds between two JWKS fetches for unknown keys */
#define OIDC_PRELOGIN_LIFETIME 600  /* seconds a sign-in may take at the provider */
#define OIDC_STATE_LEN 43
#define OIDC_NONCE_LEN 43
#define OIDC_VERIFIER_LEN 64

typedef struct oidc OIDC;

/* What the provider says about the person, after every check passed. */
typedef struct oidc_identity {
    char issuer[256];
    char subject[256];          /* oidc.uid_field */
    char email[256];            /* oidc.email_address_field, "" when absent */
    int email_verified;         /* email_verified was true */
    char name[256];             /* oidc.name_field, "" when absent */
} OIDC_IDENTITY;

/* The relying party of cfg's oidc.* keys, oidc.secret opened with seal. NULL with
 * *error_r (mem_free it; names the file and key) when oidc.enabled is set and the keys do
 * not make a usable client. A disabled one is returned too (oidc_enabled() says 0). */
OIDC *oidc_new(const PGCONF *cfg, const SEAL_KEY *seal, char **error_r);
void oidc_free(OIDC *o);
int oidc_enabled(const OIDC *o);
/* The button's provider name (oidc.name). */
const char *oidc_name(const OIDC *o);
/* 1 when people may sign in with a password: always without OpenID Connect (nobody could
 * sign in otherwise), else oidc.local_authentication_enabled. */
int oidc_local_enabled(const OIDC *o);

/* New random state, nonce and code verifier (OIDC_*_LEN alphanumerics each): 0, -1 when
 * the random number generator failed. */
int oidc_new_secrets(char state[OIDC_STATE_LEN + 1], char nonce[OIDC_NONCE_LEN + 1],
                     char verifier[OIDC_VERIFIER_LEN + 1]);
/* The authorization request's URL (mem_free it): 0, or -1 with *error_r (mem_free it)
 * when the provider's discovery document cannot be had (a temporary failure). */
int oidc_auth_url(OIDC *o, const char *redirect_uri, const char *state, const char *nonce, const char *verifier,
                  char **url_r, char **error_r);

typedef enum {
    OIDC_OK = 0,
    OIDC_REFUSED = -1,          /* the provider's answer or the token failed a check */
    OIDC_TEMPORARY = -2,        /* the provider could not be reached or answered 5xx */
} OIDC_RESULT;

/* Exchanges code (with verifier and redirect_uri) at the token endpoint, checks the ID
 * token against nonce and fills *id. Otherwise *code_r is a short reason code for the
 * person ("TokenInvalid", "ProviderUnavailable", ...) and *error_r (mem_free it) the
 * details for the log. */
OIDC_RESULT oidc_finish(OIDC *o, const char *code, const char *verifier, const char *redirect_uri, const char *nonce,
                        OIDC_IDENTITY *id, const char **code_r, char **error_r);

#endif
