/*
 * auth.c -- logins, sessions, CSRF, personal API tokens, throttling and roles (auth.h).
 *
 * The rows live in lib/mail (user.c: users, sessions, tokens; org.c: roles); this module
 * holds no SQL. Secrets arrive in headers and cookies and are turned into SHA-256 at once;
 * only hashes leave it, and nothing secret is logged.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "auth.h"
#include "mail/org.h"
#include "mail/twofactor.h"
#include "mail/user.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/password.h"
#include "util/token.h"

#define CSRF_LABEL "postgate-csrf:"
#define SLIDE_SECONDS 60            /* a session's expiry is moved on at most this often */
#define THROTTLE_WAYS 8
#define THROTTLE_BUCKETS (AUTH_THROTTLE_ENTRIES / THROTTLE_WAYS)
#define USER_AGENT_MAX 512

static const char *const role_names[] = {"none", "readonly", "member", "admin", "owner"};

/* ---------------------------------------------------------------- answers */

static void
reply_temporary(HTTP_REQUEST *req, const char *what, DB *db)
{
    msg_warn("%s %s: %s: %s", req->method, req->path, what, db ? db_error(db) : "random number generator failed");
    http_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure",
                     "A temporary failure prevented the request from completing; retry later.");
}

static void
reply_unauthenticated(HTTP_REQUEST *req, const char *code, const char *message)
{
    http_add_header(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"postgate\"");
    http_reply_error(req, MHD_HTTP_UNAUTHORIZED, code, message);
}

/* Nobody is signed in: 401 with message (-1), or, when quiet, no answer (1). */
static int
nobody(HTTP_REQUEST *req, int quiet, const char *message)
{
    if (quiet)
        return 1;
    reply_unauthenticated(req, "AuthenticationRequired", message);
    return -1;
}

/* ---------------------------------------------------------------- throttling */

/*
 * A fixed window per key: failures counted from the first failure for WINDOW seconds.
 * An address past AUTH_THROTTLE_FAILURES is refused until its window ends. An account is
 * never locked: past AUTH_ACCOUNT_FREE_FAILURES each failure makes the next check wait
 * (1 s, 2 s, 4 s ... at most AUTH_ACCOUNT_MAX_DELAY) for every address that has failed
 * for it (a "pair" entry), so guessing one account is slow from those addresses together,
 * while an address that has not failed for it (its owner's) is checked at once: an
 * attacker hammering the account cannot take the owner's turn.
 */
typedef struct throttle_entry {
    char key[65];               /* SHA-256 of "ip:<address>" or "account:<email>"; "" = free */
    time_t start;
    time_t next_check;          /* accounts: no password check before this */
    unsigned failures;
} THROTTLE_ENTRY;

static pthread_mutex_t throttle_lock = PTHREAD_MUTEX_INITIALIZER;
static THROTTLE_ENTRY throttle_table[THROTTLE_BUCKETS][THROTTLE_WAYS];

static void
throttle_key(const char *kind, const char *value, char key[65])
{
    char *text = buf_asprintf("%s:%s", kind, value);

    token_sha256_hex(text, strlen(text), key);
    mem_free(text);
}

/* The entry of key in its bucket (found, else a free, expired or the oldest one, reset
 * for key when create is set; NULL when absent and not create). Call with the lock held. */
static THROTTLE_ENTRY *
throttle_find(const char key[65], time_t now, int create)
{
    THROTTLE_ENTRY *bucket, *victim = NULL;
    unsigned long h = 0;

    /* The key is a SHA-256 already: its first hex digits are a fine bucket number. */
    for (int i = 0; i < 8; i++)
        h = h * 16 + (unsigned long) (isdigit((unsigned char) key[i]) ? key[i] - '0' : key[i] - 'a' + 10);
    bucket = throttle_table[h % THROTTLE_BUCKETS];

    for (int i = 0; i < THROTTLE_WAYS; i++) {
        THROTTLE_ENTRY *e = &bucket[i];

        if (strcmp(e->key, key) == 0) {
            if (now - e->start >= AUTH_THROTTLE_WINDOW) {
                e->start = now;
                e->failures = 0;
            }
            return e;
        }
        if (e->key[0] == '\0' || now - e->start >= AUTH_THROTTLE_WINDOW)
            victim = e;
        else if (victim == NULL || (victim->key[0] && e->start < victim->start))
            victim = e;
    }
    if (!create)
        return NULL;
    memcpy(victim->key, key, 65);
    victim->start = now;
    victim->next_check = 0;
    victim->failures = 0;
    return victim;
}

/* Seconds until the address may try again (over its limit) or, when it has failed for
 * the account, the account's next check is due; else 0. *account_r tells which. */
static long
throttle_blocked(const char ip_key[65], const char account_key[65], const char pair_key[65], int *account_r)
{
    time_t now = clock_mono_seconds();
    THROTTLE_ENTRY *e, *pair;
    long wait = 0;

    *account_r = 0;
    pthread_mutex_lock(&throttle_lock);
    e = throttle_find(ip_key, now, 0);
    if (e && e->failures >= AUTH_THROTTLE_FAILURES)
        wait = (long) (AUTH_THROTTLE_WINDOW - (now - e->start));
    e = throttle_find(account_key, now, 0);
    pair = throttle_find(pair_key, now, 0);
    if (wait <= 0 && e && e->next_check > now && pair && pair->failures > 0) {
        wait = (long) (e->next_check - now);
        *account_r = 1;
    }
    pthread_mutex_unlock(&throttle_lock);
    return wait > 0 ? wait : 0;
}

static void
throttle_fail(const char ip_key[65], const char account_key[65], const char pair_key[65])
{
    time_t now = clock_mono_seconds();
    THROTTLE_ENTRY *e;

    pthread_mutex_lock(&throttle_lock);
    throttle_find(ip_key, now, 1)->failures++;
    throttle_find(pair_key, now, 1)->failures++;
    e = throttle_find(account_key, now, 1);
    if (++e->failures > AUTH_ACCOUNT_FREE_FAILURES) {
        unsigned over = e->failures - AUTH_ACCOUNT_FREE_FAILURES - 1;
        long delay = over >= 10 ? AUTH_ACCOUNT_MAX_DELAY : 1L << over;

        e->next_check = now + (delay < AUTH_ACCOUNT_MAX_DELAY ? delay : AUTH_ACCOUNT_MAX_DELAY);
    }
    pthread_mutex_unlock(&throttle_lock);
}

static void
throttle_clear(const char account_key[65])
{
    THROTTLE_ENTRY *e;

    pthread_mutex_lock(&throttle_lock);
    e = throttle_find(account_key, clock_mono_seconds(), 0);
    if (e)
        memset(e, 0, sizeof(*e));
    pthread_mutex_unlock(&throttle_lock);
}

/* ---------------------------------------------------------------- helpers */

/* An argon2id hash of nothing anyone knows: unknown accounts are verified against it so
 * that they take as long as known ones. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];

static void
make_dummy_hash(void)
{
    char secret[33];
    char *why = NULL;

    if (token_generate(secret, 32, TOKEN_ALNUM) < 0 || password_hash(secret, dummy_hash, sizeof(dummy_hash), &why) < 0)
        dummy_hash[0] = '\0';
    mem_free(why);
    explicit_bzero(secret, sizeof(secret));
}

/* The CSRF token of a session token (see auth.h). */
static void
csrf_of(const char *session_token, char out[65])
{
    char *text = buf_asprintf(CSRF_LABEL "%s", session_token);

    token_sha256_hex(text, strlen(text), out);
    explicit_bzero(text, strlen(text));
    mem_free(text);
}

static int
alnum_token(const char *s, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char) s[i]))
            return 0;
    return 1;
}

static void
copy_field(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* Fills the user part of out. */
static void
fill_user(AUTH_PRINCIPAL *out, const USER *u)
{
    out->user_id = u->id;
    copy_field(out->uuid, sizeof(out->uuid), u->uuid);
    copy_field(out->email, sizeof(out->email), u->email);
    copy_field(out->first_name, sizeof(out->first_name), u->first_name);
    copy_field(out->last_name, sizeof(out->last_name), u->last_name);
    out->is_admin = u->admin;
}

static void
session_cookie(HTTP_REQUEST *req, const char *token)
{
    char *line = token
        ? buf_asprintf(AUTH_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", token,
                       req->secure ? "; Secure" : "")
        : buf_asprintf(AUTH_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
                       req->secure ? "; Secure" : "");

    http_set_cookie(req, line);
    explicit_bzero(line, strlen(line));
    mem_free(line);
}

/* ---------------------------------------------------------------- API tokens: last use */

static USELOG token_uses = USELOG_INIT;

int
auth_flush_touched(DB *db)
{
    size_t n, done = 0;
    USELOG_ENTRY *batch = uselog_take(&token_uses, &n);
    int ret = user_token_touch(db, batch, n, &done);

    if (ret < 0)    /* keep what was not written for the next flush */
        for (size_t j = done; j < n; j++)
            uselog_touch(&token_uses, batch[j].id, batch[j].when);
    mem_free(batch);
    return ret;
}

/* ---------------------------------------------------------------- the principal */

static int
principal_from_token(HTTP_REQUEST *req, DB *db, const char *token, AUTH_PRINCIPAL *out, int quiet)
{
    char hash[65];
    USER owner;
    int ret;

    if (strncmp(token, AUTH_API_TOKEN_PREFIX, strlen(AUTH_API_TOKEN_PREFIX)) != 0
        || !alnum_token(token + strlen(AUTH_API_TOKEN_PREFIX), AUTH_API_TOKEN_LEN - strlen(AUTH_API_TOKEN_PREFIX))) {
        return nobody(req, quiet, "The bearer token is not valid (unknown, revoked or expired).");
    }
    token_sha256_hex(token, strlen(token), hash);
    ret = user_token_find(db, hash, &out->token_id, &owner);
    if (ret < 0) {
        reply_temporary(req, "API token lookup", db);
        return -1;
    }
    if (ret == 0) {
        return nobody(req, quiet, "The bearer token is not valid (unknown, revoked or expired).");
    }
    out->via = AUTH_VIA_TOKEN;
    fill_user(out, &owner);
    uselog_touch(&token_uses, out->token_id, time(NULL));
    return 0;
}

static int
method_writes(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "OPTIONS") != 0;
}

static int
principal_from_session(HTTP_REQUEST *req, DB *db, const char *token, AUTH_PRINCIPAL *out, int quiet)
{
    char hash[65], csrf_hash[65];
    const char *sent;
    USER_SESSION s;
    int ret;

    if (!alnum_token(token, AUTH_SESSION_TOKEN_LEN)) {
        return nobody(req, quiet, "The session has ended or expired; log in again.");
    }
    token_sha256_hex(token, strlen(token), hash);
    ret = user_session_find(db, hash, &s);
    if (ret < 0) {
        reply_temporary(req, "session lookup", db);
        return -1;
    }
    if (ret == 0) {
        session_cookie(req, NULL);
        return nobody(req, quiet, "The session has ended or expired; log in again.");
    }
    out->via = AUTH_VIA_SESSION;
    out->session_id = s.id;
    copy_field(out->expires_at, sizeof(out->expires_at), s.expires_at);
    copy_field(out->second_factor, sizeof(out->second_factor), s.second_factor);
    fill_user(out, &s.user);
    http_set_user(req, out->user_id);
    csrf_of(token, out->csrf_token);
    if (method_writes(req->method)) {
        sent = http_header(req, "X-CSRF-Token");
        if (sent)
            token_sha256_hex(sent, strlen(sent), csrf_hash);
        if (sent == NULL || !token_equal(csrf_hash, s.csrf_token_hash, 64)) {
            http_reply_error(req, MHD_HTTP_FORBIDDEN, "CSRFTokenInvalid",
                             "A cookie-authenticated change needs the session's CSRF token in X-CSRF-Token.");
            return -1;
        }
    }
    /* Sliding expiry without a write per request. */
    if (s.idle_seconds >= SLIDE_SECONDS
        && user_session_extend(db, out->session_id, req->cfg->admin_session_lifetime) < 0)
        msg_warn("session %llu: cannot extend: %s", out->session_id, db_error(db));
    return 0;
}

/* auth_principal(), auth_principal_partial() and auth_principal_find(): 0 found, 1 nobody
 * (quiet only), -1 answered. A session whose sign-in is not complete (a second factor to
 * give or to enrol) is someone only where partial is set. */
static int
principal_find(HTTP_REQUEST *req, DB *db, AUTH_PRINCIPAL *out, int quiet, int partial)
{
    const char *authz = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cookie = http_cookie(req, AUTH_SESSION_COOKIE);
    int ret;

    memset(out, 0, sizeof(*out));
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return nobody(req, quiet, "Only Bearer tokens are accepted in Authorization.");
        authz += 7;
        authz += strspn(authz, " ");
        ret = principal_from_token(req, db, authz, out, quiet);
    } else if (cookie && *cookie) {
        ret = principal_from_session(req, db, cookie, out, quiet);
    } else {
        return nobody(req, quiet, "Log in (POST /api/v2/session) or send a personal API token as Bearer.");
    }
    if (ret == 0)
        http_set_user(req, out->user_id);
    if (ret == 0 && !partial && !auth_complete(out)) {
        int code = strcmp(out->second_factor, "code") == 0;

        reply_unauthenticated(req, code ? "SecondFactorRequired" : "TwoFactorEnrolmentRequired",
                              code ? "Complete the sign-in with a code from your authenticator app or a recovery "
                              "code (POST /api/v2/session/totp)."
                              : "A second factor is required of this account: enrol one (POST /api/v2/user/totp) "
                              "before anything else.");
        return -1;
    }
    return ret;
}

int
auth_complete(const AUTH_PRINCIPAL *p)
{
    return p->via != AUTH_VIA_SESSION || strcmp(p->second_factor, "complete") == 0;
}

int
auth_principal(HTTP_REQUEST *req, DB *db, AUTH_PRINCIPAL *out)
{
    return principal_find(req, db, out, 0, 0);
}

int
auth_principal_partial(HTTP_REQUEST *req, DB *db, AUTH_PRINCIPAL *out)
{
    return principal_find(req, db, out, 0, 1);
}

int
auth_principal_find(HTTP_REQUEST *req, DB *db, AUTH_PRINCIPAL *out)
{
    return principal_find(req, db, out, 1, 1);
}

/* ---------------------------------------------------------------- roles */

const char *
auth_role_name(AUTH_ROLE role)
{
    return role <= AUTH_ROLE_OWNER ? role_names[role] : "none";
}

int
auth_role_parse(const char *name, AUTH_ROLE *role_r)
{
    for (int i = AUTH_ROLE_READONLY; i <= AUTH_ROLE_OWNER; i++)
        if (strcmp(name, role_names[i]) == 0) {
            *role_r = (AUTH_ROLE) i;
            return 0;
        }
    return -1;
}

int
auth_org_role(DB *db, const AUTH_PRINCIPAL *p, unsigned long long org_id, AUTH_ROLE *role_r)
{
    char role[16];
    int ret;

    *role_r = AUTH_ROLE_NONE;
    if (p->is_admin) {
        *role_r = AUTH_ROLE_OWNER;
        return 1;
    }
    ret = org_member_role(db, org_id, p->user_id, role);
    if (ret > 0 && auth_role_parse(role, role_r) < 0)
        ret = 0;
    return ret;
}

/* ---------------------------------------------------------------- login, logout */

/* The User-Agent as printable ASCII (the column is text; the header may be anything). */
static char *
clean_user_agent(const char *ua)
{
    size_t n = ua ? strlen(ua) : 0;
    char *out;

    if (n == 0)
        return NULL;
    if (n > USER_AGENT_MAX)
        n = USER_AGENT_MAX;
    out = mem_strndup(ua, n);
    for (char *p = out; *p; p++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
            *p = '?';
    return out;
}

static int
session_open(HTTP_REQUEST *req, DB *db, AUTH_PRINCIPAL *p, const char *second_factor)
{
    char token[AUTH_SESSION_TOKEN_LEN + 1], hash[65], csrf_hash[65];
    char *ua = clean_user_agent(http_header(req, MHD_HTTP_HEADER_USER_AGENT));
    USER_SESSION_NEW s = {.user_id = p->user_id, .ip = req->client_ip, .lifetime = req->cfg->admin_session_lifetime};
    const char *old;
    int ret;

    if (token_generate(token, AUTH_SESSION_TOKEN_LEN, TOKEN_ALNUM) < 0) {
        mem_free(ua);
        reply_temporary(req, "session token", NULL);
        return -1;
    }
    token_sha256_hex(token, strlen(token), hash);
    csrf_of(token, p->csrf_token);
    token_sha256_hex(p->csrf_token, strlen(p->csrf_token), csrf_hash);
    /* A session this browser already had ends: one cookie, one live session. */
    old = http_cookie(req, AUTH_SESSION_COOKIE);
    if (old && alnum_token(old, AUTH_SESSION_TOKEN_LEN)) {
        char old_hash[65];

        token_sha256_hex(old, strlen(old), old_hash);
        (void) user_session_delete_hash(db, old_hash);
    }
    /* Expired sessions of this user go now: the table stays bounded without a sweeper. */
    (void) user_session_purge_expired(db, p->user_id);
    s.token_hash = hash;
    s.csrf_token_hash = csrf_hash;
    s.user_agent = ua;
    s.second_factor = second_factor;
    copy_field(p->second_factor, sizeof(p->second_factor), second_factor);
    ret = user_session_create(db, &s, &p->session_id, p->expires_at);
    mem_free(ua);
    if (ret < 0) {
        explicit_bzero(token, sizeof(token));
        reply_temporary(req, "session insert", db);
        return -1;
    }
    p->via = AUTH_VIA_SESSION;
    if (user_record_login(db, p->user_id) < 0)
        msg_warn("user %llu: cannot record the login time: %s", p->user_id, db_error(db));
    session_cookie(req, token);
    explicit_bzero(token, sizeof(token));
    return 0;
}

int
auth_attempt_begin(HTTP_REQUEST *req, const char *email, AUTH_ATTEMPT *a)
{
    char *lower = mem_strdup(email), *pair;
    long wait;
    int account;

    for (char *p = lower; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    throttle_key("ip", req->client_ip, a->ip_key);
    throttle_key("account", lower, a->account_key);
    pair = buf_asprintf("%s %s", req->client_ip, lower);
    throttle_key("pair", pair, a->pair_key);
    mem_free(pair);
    mem_free(lower);
    if ((wait = throttle_blocked(a->ip_key, a->account_key, a->pair_key, &account)) > 0) {
        char seconds[24];

        snprintf(seconds, sizeof(seconds), "%ld", wait);
        http_add_header(req, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
        if (account) {
            msg_info("login slowed: client %s: the account failed recently; next check in %ld s",
                     req->client_ip, wait);
            http_reply_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "TooManyAttempts",
                             "Recent failed logins for this account slow further attempts; retry after the "
                             "Retry-After seconds.");
        } else {
            msg_warn("login throttled: client %s (too many failed logins from this address)", req->client_ip);
            http_reply_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "TooManyAttempts",
                             "Too many failed logins from this address; try again later.");
        }
        return -1;
    }
    return 0;
}

void
auth_attempt_end(const AUTH_ATTEMPT *a, int good)
{
    if (good)
        throttle_clear(a->account_key);
    else
        throttle_fail(a->ip_key, a->account_key, a->pair_key);
}

int
auth_password_check(HTTP_REQUEST *req, const char *email, const char *hash, const char *password)
{
    AUTH_ATTEMPT a;
    int good;

    if (auth_attempt_begin(req, email, &a) < 0)
        return -1;
    if (hash && *hash) {
        good = password_verify(hash, password) == 1;
    } else {
        pthread_once(&dummy_once, make_dummy_hash);
        if (dummy_hash[0])
            (void) password_verify(dummy_hash, password);
        good = 0;
    }
    auth_attempt_end(&a, good);
    return good;
}

int
auth_login(HTTP_REQUEST *req, DB *db, const char *email, const char *password, AUTH_PRINCIPAL *out)
{
    char *lower = mem_strdup(email), *hash = NULL;
    const char *factor = "complete";
    USER user;
    int ret, good;

    memset(out, 0, sizeof(*out));
    for (char *p = lower; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    ret = user_login_lookup(db, lower, &user, &hash);
    mem_free(lower);
    if (ret < 0) {
        reply_temporary(req, "user lookup", db);
        return -1;
    }
    good = auth_password_check(req, email, hash, password);
    mem_free(hash);
    if (good < 0)
        return -1;
    if (!good) {
        msg_info("login failed: client %s", req->client_ip);
        http_reply_error(req, MHD_HTTP_UNAUTHORIZED, "InvalidCredentials", "The e-mail address or password is wrong.");
        return -1;
    }
    fill_user(out, &user);
    http_set_user(req, out->user_id);
    if ((ret = twofactor_login_state(db, out->user_id, &factor)) <= 0) {
        reply_temporary(req, "second factor lookup", db);
        return -1;
    }
    if (session_open(req, db, out, factor) < 0)
        return -1;
    msg_info("login: user %llu from client %s%s", out->user_id, req->client_ip,
             strcmp(factor, "code") == 0 ? " (password; a code is to follow)"
             : strcmp(factor, "enrol") == 0 ? " (password; a second factor must be enrolled)" : "");
    return 0;
}

int
auth_login_user(HTTP_REQUEST *req, DB *db, const USER *user, const char *how, AUTH_PRINCIPAL *out)
{
    const char *factor = "complete";
    int ret;

    memset(out, 0, sizeof(*out));
    fill_user(out, user);
    http_set_user(req, out->user_id);
    if ((ret = twofactor_login_state(db, out->user_id, &factor)) <= 0) {
        reply_temporary(req, "second factor lookup", db);
        return -1;
    }
    if (session_open(req, db, out, factor) < 0)
        return -1;
    msg_info("login: user %llu from client %s (%s%s)", out->user_id, req->client_ip, how,
             strcmp(factor, "code") == 0 ? "; a code is to follow"
             : strcmp(factor, "enrol") == 0 ? "; a second factor must be enrolled" : "");
    return 0;
}

int
auth_session_complete(DB *db, AUTH_PRINCIPAL *p)
{
    int ret = user_session_set_factor(db, p->session_id, "complete");

    if (ret >= 0)
        copy_field(p->second_factor, sizeof(p->second_factor), "complete");
    return ret < 0 ? ret : 0;
}

int
auth_logout(HTTP_REQUEST *req, DB *db, const AUTH_PRINCIPAL *p)
{
    int ret = user_session_delete(db, p->session_id, p->user_id);

    if (ret >= 0)
        session_cookie(req, NULL);
    return ret < 0 ? ret : 0;
}

/* ---------------------------------------------------------------- API tokens */

int
auth_uuid_ok(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char) s[i])) {
            return 0;
        }
    }
    return 1;
}

int
auth_token_create(DB *db, const AUTH_PRINCIPAL *p, const char *name, char *secret_r, char uuid_r[37])
{
    size_t plen = strlen(AUTH_API_TOKEN_PREFIX);
    char hash[65], shown[AUTH_API_TOKEN_SHOWN + 1];
    int ret;

    memcpy(secret_r, AUTH_API_TOKEN_PREFIX, plen);
    if (token_generate(secret_r + plen, AUTH_API_TOKEN_LEN - plen, TOKEN_ALNUM) < 0 || token_uuid(uuid_r) < 0)
        return DB_ERR_TEMP;
    token_sha256_hex(secret_r, AUTH_API_TOKEN_LEN, hash);
    memcpy(shown, secret_r, AUTH_API_TOKEN_SHOWN);
    shown[AUTH_API_TOKEN_SHOWN] = '\0';
    ret = user_token_create(db, p->user_id, uuid_r, name, hash, shown);
    if (ret < 0) {
        explicit_bzero(secret_r, AUTH_API_TOKEN_LEN + 1);
        return ret;
    }
    return 1;
}

int
auth_token_list(DB *db, unsigned long long user_id, const char *uuid, json_t **list_r)
{
    DB_ROWS rows = {0};
    int ret;

    *list_r = NULL;
    if (uuid && !auth_uuid_ok(uuid)) {
        *list_r = json_array();
        return 0;
    }
    ret = user_token_list(db, user_id, uuid, &rows);
    if (ret < 0)
        return ret;
    *list_r = json_array();
    for (size_t i = 0; i < rows.n; i++) {
        const USER_TOKEN_ROW *t = (const USER_TOKEN_ROW *) rows.v + i;

        json_array_append_new(*list_r, json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "uuid", t->uuid, "name", t->name,
                                                 "prefix", t->prefix, "created_at", t->created_at,
                                                 "last_used_at", t->last_used_at, "expires_at", t->expires_at));
    }
    db_rows_free(&rows);
    return ret;
}

int
auth_token_revoke(DB *db, unsigned long long user_id, const char *uuid)
{
    if (!auth_uuid_ok(uuid))
        return 0;
    return user_token_revoke(db, user_id, uuid);
}
