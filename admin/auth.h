/*
 * auth.h -- who is asking: people's logins, sessions, CSRF tokens, personal API tokens,
 * login throttling and organization roles, for the management API (mgmt_v2.c).
 *
 * Two ways in, checked by auth_principal() on every management request:
 *   - a session cookie `postgate_session=<token>` (HttpOnly, SameSite=Strict, Path=/, and
 *     Secure when the request came over TLS or X-Forwarded-Proto https from a trusted
 *     proxy). The token is 43 random alphanumerics (> 256 bits, token_generate); only its
 *     SHA-256 is stored (user_sessions.token_hash). Sessions expire after
 *     admin.session_lifetime seconds without use (sliding: last_seen_at and expires_at are
 *     moved on at most once a minute, not written per request). Every cookie-authenticated
 *     request other than GET/HEAD must carry the session's CSRF token in X-CSRF-Token
 *     (compared in constant time), else 403 CSRFTokenInvalid. The CSRF token is the
 *     SHA-256 (hex) of a label and the session token: unpredictable without the cookie,
 *     stored only hashed (user_sessions.csrf_token_hash), and derivable again from the
 *     cookie, so GET /api/v2/session can hand it to a page that lost it without storing it
 *     in clear or rotating it under other tabs.
 *   - `Authorization: Bearer <token>`: a personal API token (`pgt_` + 40 alphanumerics),
 *     shown once at creation, stored as SHA-256 (user_api_tokens.token_hash) with its
 *     first 12 characters as a visible prefix. No CSRF token is needed (a browser never
 *     adds this header by itself). last_used_at is kept in memory and written in one batch
 *     by auth_flush_touched(), never a write per request. A Bearer header wins over a cookie.
 *
 * Login throttling is IN MEMORY, per process (a restart forgets it; several
 * postgate-admin hosts each count on their own), for logins and invitation acceptance
 * alike (auth_password_check). Failures are counted per AUTH_THROTTLE_WINDOW seconds per
 * client address and per account (e-mail address, known or not). An address past
 * AUTH_THROTTLE_FAILURES gets 429 TooManyAttempts with Retry-After until its window ends.
 * An account is slowed, never locked (anyone could lock out anyone): past
 * AUTH_ACCOUNT_FREE_FAILURES each failure delays the account's next password check by
 * 1, 2, 4 ... at most AUTH_ACCOUNT_MAX_DELAY seconds for every address that has failed for
 * it (429 with Retry-After meanwhile, nothing checked or counted). An address that has
 * not failed for the account (its owner's, usually) is checked at once, so hammering an
 * account never keeps its owner out; an attacker with many addresses gets one guess per
 * address per window before the delay applies to that address too. The table is bounded (AUTH_THROTTLE_ENTRIES;
 * the oldest entry of a full bucket is reused). A success clears the account's count,
 * not the address's. Unknown accounts cost the same argon2id work as known ones.
 * Behind a reverse proxy the client address is X-Forwarded-For only from
 * admin.trusted_proxies: otherwise every client is the proxy, and one client's failures
 * refuse everyone (postgate-admin warns at start when that looks likely).
 *
 * Second factor (schema 009, mgmt_totp.c): a user with a confirmed TOTP secret, or one of
 * whom a second factor is required (users.totp_required, an organization's
 * require_two_factor) and who has none, gets a session whose sign-in is not complete
 * (user_sessions.second_factor "code" or "enrol"). auth_principal() answers such a session
 * 401 SecondFactorRequired or TwoFactorEnrolmentRequired; only the routes that finish the
 * sign-in or enrol take it (auth_principal_partial). Failed codes count in the login
 * throttle like failed passwords.
 *
 * Roles: an installation admin (users.admin) is owner of every organization; everyone
 * else has organization_users.role or nothing. Handlers answer 404 for nothing, so an
 * organization's existence does not leak, and 403 Forbidden for a member whose role is
 * too low (membership is already known to them).
 *
 * Must never: store or log a session token, CSRF token, API token or password; answer a
 * cookie-authenticated write without a valid CSRF token; or tell "no such user" apart
 * from "wrong password".
 */
#ifndef PG_ADMIN_AUTH_H
#define PG_ADMIN_AUTH_H

#include <jansson.h>

#include "http.h"
#include "mail/db.h"
#include "mail/user.h"

#define AUTH_SESSION_COOKIE "postgate_session"
#define AUTH_SESSION_TOKEN_LEN 43
#define AUTH_API_TOKEN_PREFIX "pgt_"
#define AUTH_API_TOKEN_LEN 44       /* "pgt_" + 40 alphanumerics */
#define AUTH_API_TOKEN_SHOWN 12     /* characters kept as token_prefix */
#define AUTH_THROTTLE_FAILURES 10
#define AUTH_THROTTLE_WINDOW 300
#define AUTH_THROTTLE_ENTRIES 16384
#define AUTH_ACCOUNT_FREE_FAILURES 5
#define AUTH_ACCOUNT_MAX_DELAY 8

/* Ordered: a higher role can do everything a lower one can. */
typedef enum {
    AUTH_ROLE_NONE = 0, AUTH_ROLE_READONLY, AUTH_ROLE_MEMBER, AUTH_ROLE_ADMIN, AUTH_ROLE_OWNER
} AUTH_ROLE;

typedef enum { AUTH_VIA_SESSION = 1, AUTH_VIA_TOKEN } AUTH_VIA;

typedef struct auth_principal {
    unsigned long long user_id;
    char uuid[37];
    char email[256];
    char first_name[256];
    char last_name[256];
    int is_admin;               /* installation admin */
    AUTH_VIA via;
    unsigned long long session_id;      /* via a session */
    unsigned long long token_id;        /* via an API token */
    char csrf_token[65];        /* via a session: its CSRF token, to hand back to the client */
    char expires_at[32];        /* via a session: when it ends unless used ("YYYY-MM-DDTHH:MM:SSZ") */
    char second_factor[12];     /* via a session: "complete", "code" (still to give) or "enrol" (required, missing) */
} AUTH_PRINCIPAL;

/* One checked secret under the login throttle (auth_attempt_begin/_end). */
typedef struct auth_attempt {
    char ip_key[65];
    char account_key[65];
    char pair_key[65];
} AUTH_ATTEMPT;

/* The person behind the request (Bearer token, else session cookie + CSRF for writes).
 * 0 with *out filled; -1 after answering 401 AuthenticationRequired, 403 CSRFTokenInvalid
 * or 503 TemporaryFailure. Names the user in the request's log line. */
int auth_principal(HTTP_REQUEST *req, DB *db, AUTH_PRINCIPAL *out);
/* auth_principal(), also for a session whose sign-in is not complete (second_factor
 * "code" or "enrol"): the handlers of the second factor check which. */
int auth_principal_partial(HTTP_REQUEST *req, DB *db, AUTH_PRINCIPAL *out);
/* 1 when p may do anything its roles allow: an API token, or a session whose sign-in is complete. */
int auth_complete(const AUTH_PRINCIPAL *p);
/* The same, for a request that may come from nobody (GET /api/v2/session/status): 1 when
 * nobody is signed in (no credentials, or ones that are not valid; nothing answered), 0 with
 * *out filled, -1 after answering 503 TemporaryFailure (or 403 CSRFTokenInvalid on a write). */
int auth_principal_find(HTTP_REQUEST *req, DB *db, AUTH_PRINCIPAL *out);

/* The principal's role in org_id: 1 with *role_r, 0 none (AUTH_ROLE_NONE), < 0 database error. */
int auth_org_role(DB *db, const AUTH_PRINCIPAL *p, unsigned long long org_id, AUTH_ROLE *role_r);
const char *auth_role_name(AUTH_ROLE role);
/* "owner", "admin", "member", "readonly": 0 with *role_r, else -1. */
int auth_role_parse(const char *name, AUTH_ROLE *role_r);

/* Checks email (any case) and password under the throttle; on success opens a session,
 * sets its cookie and returns 0 with *out filled (csrf_token included). -1 after answering
 * 401 InvalidCredentials, 429 TooManyAttempts or 503 TemporaryFailure. */
int auth_login(HTTP_REQUEST *req, DB *db, const char *email, const char *password, AUTH_PRINCIPAL *out);
/* Opens a session for user, whom another way in vouched for (how: "OpenID Connect" in the
 * log), with the second factor still to give when the user has one (a provider's sign-in
 * does not replace postgate's second factor). 0 with *out filled and the cookie set; -1
 * after answering 503 TemporaryFailure. */
int auth_login_user(HTTP_REQUEST *req, DB *db, const USER *user, const char *how, AUTH_PRINCIPAL *out);
/* Checks password against an account's argon2id hash (NULL or "" for an unknown account
 * or one without a password: the same work, never good) under the login throttle,
 * counting a failure for the client address and email. 1 good; 0 wrong (the caller
 * answers); -1 after answering 429 TooManyAttempts (nothing was checked). */
int auth_password_check(HTTP_REQUEST *req, const char *email, const char *hash, const char *password);
/* Before a secret of email's account is checked (a password, a second-factor code): 0 to
 * go on, -1 after answering 429 TooManyAttempts (nothing may be checked). */
int auth_attempt_begin(HTTP_REQUEST *req, const char *email, AUTH_ATTEMPT *a);
/* ... and after: a failure counts for the address and the account as a wrong password does. */
void auth_attempt_end(const AUTH_ATTEMPT *a, int good);
/* Marks p's session signed in completely (its second factor given or enrolled): 0, < 0. */
int auth_session_complete(DB *db, AUTH_PRINCIPAL *p);
/* Ends p's session and clears the cookie. 0, or < 0 database error. */
int auth_logout(HTTP_REQUEST *req, DB *db, const AUTH_PRINCIPAL *p);

/* A new API token for p named name: secret_r (AUTH_API_TOKEN_LEN + 1 bytes) is shown once;
 * uuid_r is its handle. 1 created, < 0 database or random-number failure. */
int auth_token_create(DB *db, const AUTH_PRINCIPAL *p, const char *name, char *secret_r, char uuid_r[37]);
/* user_id's tokens as a JSON array of {uuid, name, prefix, created_at, last_used_at,
 * expires_at} (never a secret or hash), only token uuid when it is not NULL. The count, or < 0. */
int auth_token_list(DB *db, unsigned long long user_id, const char *uuid, json_t **list_r);
/* Deletes user_id's token uuid: 1 deleted, 0 no such token of that user, < 0 database error. */
int auth_token_revoke(DB *db, unsigned long long user_id, const char *uuid);
/* 1 when s has the text form of a UUID (checked before it reaches SQL). */
int auth_uuid_ok(const char *s);
/* Writes the recorded API token uses; the number written or < 0 (kept for the next try). */
int auth_flush_touched(DB *db);

#endif
