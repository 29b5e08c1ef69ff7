/*
 * mgmt_oidc.c -- signing in through the OpenID Connect provider (doc/api.md, "OpenID
 * Connect sign-in"): GET /auth/oidc/start sends the browser to the provider, GET
 * /auth/oidc/callback takes it back. Both are browser navigations, not API calls: they
 * answer redirects, to the provider, to the web UI ("/") signed in, or to its login page
 * (/login?oidc_error=CODE). The protocol is oidc.c's; here the pre-login record
 * (lib/mail/oidclink.h) and who the person is.
 *
 * A sign-in is bound to the browser that started it: the state travels in the redirect
 * and in a cookie (postgate_oidc: HttpOnly, SameSite=Lax so the provider's redirect back
 * carries it, Path=/auth/oidc, ten minutes), and the callback needs both to agree and the
 * pre-login record to exist; taking the record deletes it, so a state works once.
 *
 * Who: the user linked to (issuer, subject) when there is one; else, on a first sign-in,
 * the live user whose e-mail address the provider gives as verified (email_verified),
 * which is linked now and loses its local password (Postal's rule: a linked user signs in
 * through the provider only). Nobody else: no account is created. Each step of the match
 * is logged (postgate-admin's log), without tokens. A user with a second factor still
 * gives a code after the provider (auth_login_user()).
 *
 * Must never: sign in on a state that is unknown, used, expired or not this browser's, on an
 * e-mail address the provider did not verify, or link an account already linked elsewhere.
 */
#include "config.h"

#include <string.h>

#include <microhttpd.h>

#include "mail/oidclink.h"
#include "mail/user.h"
#include "mgmt.h"
#include "oidc.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define STATE_COOKIE "postgate_oidc"

static void
redirect(HTTP_REQUEST *req, const char *location)
{
    http_add_header(req, MHD_HTTP_HEADER_LOCATION, location);
    http_add_header(req, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    http_reply_bytes(req, MHD_HTTP_FOUND, "text/plain; charset=utf-8", "", 0);
}

/* Back to the login page with a reason the page translates. */
static void
redirect_error(HTTP_REQUEST *req, const char *code)
{
    char *location = buf_asprintf("/login?oidc_error=%s", code);

    redirect(req, location);
    mem_free(location);
}

static void
state_cookie(HTTP_REQUEST *req, const char *state)
{
    char *line = state
        ? buf_asprintf(STATE_COOKIE "=%s; Path=/auth/oidc; Max-Age=%d; HttpOnly; SameSite=Lax%s", state,
                       OIDC_PRELOGIN_LIFETIME, req->secure ? "; Secure" : "")
        : buf_asprintf(STATE_COOKIE "=; Path=/auth/oidc; Max-Age=0; HttpOnly; SameSite=Lax%s",
                       req->secure ? "; Secure" : "");

    http_set_cookie(req, line);
    mem_free(line);
}

/* admin.public_url + the callback's path: what the provider must have registered. */
static char *
redirect_uri(const HTTP_REQUEST *req)
{
    const char *base = req->cfg->admin_public_url;
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    return buf_asprintf("%.*s/auth/oidc/callback", (int) n, base);
}

static void
oidc_start(HTTP_REQUEST *req, void *arg)
{
    MGMT_V2 *m = arg;
    char state[OIDC_STATE_LEN + 1], nonce[OIDC_NONCE_LEN + 1], verifier[OIDC_VERIFIER_LEN + 1], hash[65];
    char *uri, *url = NULL, *error = NULL;
    MGMT_CALL c;
    int ret;

    if (!oidc_enabled(m->oidc)) {
        http_reply_error(req, MHD_HTTP_NOT_FOUND, "NotFound", "OpenID Connect sign-in is not enabled (oidc.enabled).");
        return;
    }
    if (oidc_new_secrets(state, nonce, verifier) < 0) {
        msg_warn("oidc: client %s: the random number generator failed", req->client_ip);
        redirect_error(req, "TemporaryFailure");
        return;
    }
    uri = redirect_uri(req);
    if (oidc_auth_url(m->oidc, uri, state, nonce, verifier, &url, &error) < 0) {
        msg_warn("oidc: client %s: the provider cannot be used now: %s", req->client_ip, error);
        redirect_error(req, "ProviderUnavailable");
        goto out;
    }
    token_sha256_hex(state, strlen(state), hash);
    mgmt_call_open(&c, req, m);
    ret = oidclink_prelogin_create(c.db, hash, nonce, verifier, OIDC_PRELOGIN_LIFETIME);
    if (ret < 0)
        msg_warn("oidc: client %s: cannot record the sign-in: %s", req->client_ip, db_error(c.db));
    mgmt_call_end(&c);
    if (ret < 0) {
        redirect_error(req, "TemporaryFailure");
        goto out;
    }
    state_cookie(req, state);
    redirect(req, url);
out:
    explicit_bzero(verifier, sizeof(verifier));
    explicit_bzero(state, sizeof(state));
    mem_free(error);
    mem_free(url);
    mem_free(uri);
}

/* The user this identity signs in as: 1 (*u), 0 nobody (reason code in *why_r, logged),
 * < 0 database error. */
static int
match_user(DB *db, HTTP_REQUEST *req, const OIDC_IDENTITY *id, USER *u, const char **why_r)
{
    char *email;
    int ret;

    if ((ret = oidclink_user_by_subject(db, id->issuer, id->subject, u)) != 0) {
        if (ret > 0)
            msg_info("oidc: client %s: issuer %s subject %s: matched user %llu (%s) by subject", req->client_ip,
                     id->issuer, id->subject, u->id, u->email);
        return ret;
    }
    msg_info("oidc: client %s: issuer %s subject %s: no user is linked to this subject; matching by e-mail address "
             "%s (%s)", req->client_ip, id->issuer, id->subject, *id->email ? id->email : "(none given)",
             id->email_verified ? "verified by the provider" : "not verified by the provider");
    if (*id->email == '\0') {
        *why_r = "EmailMissing";
        msg_info("oidc: client %s: refused: the provider gave no e-mail address (oidc.email_address_field, scopes)",
                 req->client_ip);
        return 0;
    }
    if (!id->email_verified) {
        *why_r = "EmailNotVerified";
        msg_info("oidc: client %s: refused: the provider does not vouch for %s (email_verified is not true)",
                 req->client_ip, id->email);
        return 0;
    }
    email = mgmt_lowercase(id->email);
    ret = user_find(db, NULL, email, u);
    mem_free(email);
    if (ret <= 0) {
        if (ret == 0) {
            *why_r = "NoMatchingUser";
            msg_info("oidc: client %s: refused: no user has the e-mail address %s", req->client_ip, id->email);
        }
        return ret;
    }
    if ((ret = oidclink_link(db, u->id, id->issuer, id->subject)) < 0)
        return ret;
    if (ret == 0) {
        *why_r = "AccountLinkedElsewhere";
        msg_info("oidc: client %s: refused: user %llu (%s) is already linked to another subject", req->client_ip,
                 u->id, u->email);
        return 0;
    }
    msg_info("oidc: client %s: user %llu (%s) matched by e-mail address and linked to issuer %s subject %s; its "
             "local password is removed", req->client_ip, u->id, u->email, id->issuer, id->subject);
    if (*id->name && !*u->first_name && !*u->last_name) {
        char *first = mem_strdup(id->name), *space = strchr(first, ' ');

        if (space)
            *space = '\0';
        if (user_set_names(db, u->id, first, space ? space + 1 : "") < 0)
            msg_warn("oidc: user %llu: cannot set the name: %s", u->id, db_error(db));
        mem_free(first);
    }
    return 1;
}

static void
oidc_callback(HTTP_REQUEST *req, void *arg)
{
    MGMT_V2 *m = arg;
    const char *state = http_query(req, "state"), *code = http_query(req, "code"), *perr = http_query(req, "error");
    const char *cookie = http_cookie(req, STATE_COOKIE), *why = NULL;
    char hash[65], nonce[OIDCLINK_NONCE_MAX + 1], verifier[OIDCLINK_VERIFIER_MAX + 1], *uri = NULL, *error = NULL;
    OIDC_IDENTITY id;
    AUTH_PRINCIPAL p;
    OIDC_RESULT res;
    MGMT_CALL c;
    USER u;
    int ret;

    verifier[0] = '\0';
    if (!oidc_enabled(m->oidc)) {
        http_reply_error(req, MHD_HTTP_NOT_FOUND, "NotFound", "OpenID Connect sign-in is not enabled (oidc.enabled).");
        return;
    }
    mgmt_call_open(&c, req, m);
    if (state == NULL || strlen(state) != OIDC_STATE_LEN || strspn(state, TOKEN_ALNUM) != OIDC_STATE_LEN) {
        msg_info("oidc: client %s: callback refused: no valid state", req->client_ip);
        redirect_error(req, "StateInvalid");
        goto out;
    }
    if (cookie == NULL || strlen(cookie) != OIDC_STATE_LEN || !token_equal(cookie, state, OIDC_STATE_LEN)) {
        msg_info("oidc: client %s: callback refused: the state is not the one this browser's sign-in started with",
                 req->client_ip);
        redirect_error(req, "StateInvalid");
        goto out;
    }
    token_sha256_hex(state, strlen(state), hash);
    state_cookie(req, NULL);
    if ((ret = oidclink_prelogin_take(c.db, hash, nonce, verifier)) <= 0) {
        if (ret < 0)
            msg_warn("oidc: client %s: pre-login lookup: %s", req->client_ip, db_error(c.db));
        else
            msg_info("oidc: client %s: callback refused: the state is unknown, used already or expired",
                     req->client_ip);
        redirect_error(req, ret < 0 ? "TemporaryFailure" : "StateInvalid");
        goto out;
    }
    if (perr) {
        char shown[101];
        size_t i;

        /* The provider's error code as printable ASCII: it arrives in the query string. */
        for (i = 0; perr[i] && i < sizeof(shown) - 1; i++)
            shown[i] = perr[i] >= 0x20 && perr[i] < 0x7f ? perr[i] : '?';
        shown[i] = '\0';
        msg_info("oidc: client %s: the provider refused the sign-in: %s", req->client_ip, shown);
        redirect_error(req, "ProviderRefused");
        goto out;
    }
    if (code == NULL || *code == '\0' || strlen(code) > 2048) {
        msg_info("oidc: client %s: callback refused: no authorization code", req->client_ip);
        redirect_error(req, "ProviderRefused");
        goto out;
    }
    uri = redirect_uri(req);
    res = oidc_finish(m->oidc, code, verifier, uri, nonce, &id, &why, &error);
    if (res != OIDC_OK) {
        if (res == OIDC_TEMPORARY)
            msg_warn("oidc: client %s: %s: %s", req->client_ip, why, error ? error : "");
        else
            msg_info("oidc: client %s: refused (%s): %s", req->client_ip, why, error ? error : "");
        redirect_error(req, why);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = match_user(c.db, req, &id, &u, &why)) <= 0) {
        if (ret < 0) {
            msg_warn("oidc: client %s: user match: %s", req->client_ip, db_error(c.db));
            why = "TemporaryFailure";
        }
        redirect_error(req, why);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    if (auth_login_user(req, c.db, &u, "OpenID Connect", &p) < 0)
        goto out;
    redirect(req, "/");
out:
    explicit_bzero(verifier, sizeof(verifier));
    mem_free(error);
    mem_free(uri);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_oidc_routes[] = {
    {"GET", "/auth/oidc/start", oidc_start},
    {"GET", "/auth/oidc/callback", oidc_callback},
    {NULL, NULL, NULL},
};
