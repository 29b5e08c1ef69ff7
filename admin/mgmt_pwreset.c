/*
 * mgmt_pwreset.c -- "Forgot your password?" for web admin accounts, without a login:
 * POST /api/v2/password-reset {"email"} mails a link (<admin.public_url>/reset/<token>) to
 * the account's address through the system mailer, and POST /api/v2/password-reset/{token}
 * {"password"} sets the new password (the password policy applies) and ends every session
 * of the account and the reset (its personal API tokens stay: credentials of their own,
 * revoked on the account page). A second factor is still asked at the next login.
 *
 * The request answers the same 202 whether or not the address has an account, an account
 * that signs in with a password only (none for accounts of an OpenID provider), or was
 * asked within the last minute, and the mail goes out after the answer (a thread of its
 * own): nobody learns who has an account, not even from how long the answer took. Where local passwords
 * are off (oidc.local_authentication) there is nothing to reset: 403.
 *
 * Must never: say whether an account exists, keep a token in the clear (pwreset.h), log a
 * token or a password, or change a password without a live token.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/address.h"
#include "mail/conf.h"
#include "mail/pwreset.h"
#include "mail/sysmail.h"
#include "mail/user.h"
#include "mgmt.h"
#include "oidc.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

static int
local_passwords(MGMT_CALL *c)
{
    if (oidc_local_enabled(c->m->oidc))
        return 1;
    mgmt_reply_fail(c, MHD_HTTP_FORBIDDEN, "LocalAuthenticationDisabled",
                    "Passwords are not used here: sign in through the OpenID Connect provider.");
    return 0;
}

/* Mails the reset link for token to the account's address. 0 sent, -1 with *error_r (mem_free it). */
static int
mail_reset(const PGCONF *cfg, const char *email, const char *token, char **error_r)
{
    size_t n = strlen(cfg->admin_public_url);
    char *link, *body;
    int ret;

    while (n > 0 && cfg->admin_public_url[n - 1] == '/')
        n--;
    link = buf_asprintf("%.*s/reset/%s", (int) n, cfg->admin_public_url, token);
    body = buf_asprintf("Someone asked to reset the password of your account %s on %s.\n\n"
                        "To choose a new password, open this link within an hour (it works once):\n\n    %s\n\n"
                        "Setting it ends every session of the account. If you did not ask for this, ignore this\n"
                        "message: your password stays as it is.\n", email, cfg->dns_smtp_server_hostname, link);
    ret = sysmail_send(cfg, email, "Resetting your password", body, error_r);
    mem_free(link);
    mem_free(body);
    return ret;
}

/* The mail of one reset, sent after the answer: how long sendmail takes must not tell an
 * account from an unknown address. */
typedef struct reset_mail {
    PGCONF *cfg;                /* a reference of its own */
    unsigned long long user_id;
    char *email;
    char token[PWRESET_TOKEN_LEN + 1];
} RESET_MAIL;

static void *
reset_mail_send(void *arg)
{
    RESET_MAIL *m = arg;
    char *why = NULL;

    if (mail_reset(m->cfg, m->email, m->token, &why) < 0)
        msg_warn("password reset for user %llu: the link could not be mailed: %s", m->user_id, why);
    else
        msg_info("password reset for user %llu: link mailed", m->user_id);
    explicit_bzero(m->token, sizeof(m->token));
    mem_free(why);
    mem_free(m->email);
    conf_unref(m->cfg);
    mem_free(m);
    return NULL;
}

/* Mails in a thread of its own (or here, when none can be made). */
static void
reset_mail_start(const PGCONF *cfg, unsigned long long user_id, const char *email, const char *token)
{
    RESET_MAIL *m = mem_zalloc(sizeof(*m));
    pthread_attr_t attr;
    pthread_t t;
    int started;

    m->cfg = conf_ref((PGCONF *) cfg);
    m->user_id = user_id;
    m->email = mem_strdup(email);
    snprintf(m->token, sizeof(m->token), "%s", token);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&t, &attr, reset_mail_send, m) == 0;
    pthread_attr_destroy(&attr);
    if (!started)
        reset_mail_send(m);
}

static void
mgmt_v2_password_reset_request(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"email", NULL};
    char token[PWRESET_TOKEN_LEN + 1], hash[65], *lower = NULL, *stored = NULL;
    const char *email;
    USER u;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY | MGMT_NO_AUTH) != 0 || !local_passwords(&c))
        goto out;
    mgmt_check_known(&c, known);
    email = mgmt_field_text(&c, "email", 1, MGMT_EMAIL_MAX);
    if (email && !address_email_ok(email))
        mgmt_field_error(&c, "email", "must be an e-mail address");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    lower = mgmt_lowercase(email);
    if ((ret = user_login_lookup(c.db, lower, &u, &stored)) < 0) {
        mgmt_reply_db(&c, "user lookup", ret);
        goto out;
    }
    /* Only an account that signs in with a password of its own gets a link. */
    if (ret > 0 && stored && *stored) {
        if (token_generate(token, PWRESET_TOKEN_LEN, TOKEN_ALNUM) < 0) {
            mgmt_reply_db(&c, "random token", DB_ERR_TEMP);
            goto out;
        }
        token_sha256_hex(token, strlen(token), hash);
        if ((ret = pwreset_create(c.db, u.id, hash)) < 0) {
            mgmt_reply_db(&c, "password reset", ret);
            goto out;
        }
        if (ret == 0) {
            msg_info("password reset for user %llu: asked again within a minute; nothing sent (client %s)", u.id,
                     req->client_ip);
        } else {
            msg_info("password reset for user %llu: asked (client %s)", u.id, req->client_ip);
            reset_mail_start(req->cfg, u.id, u.email, token);
        }
        explicit_bzero(token, sizeof(token));
    } else {
        msg_info("password reset asked for an address without a password account (client %s)", req->client_ip);
    }
    mgmt_reply_ok(&c, MHD_HTTP_ACCEPTED, json_pack("{s:b}", "requested", 1));
out:
    mem_free(lower);
    mem_free(stored);
    mgmt_call_end(&c);
}

static void
mgmt_v2_password_reset_set(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"password", NULL};
    const char *token = http_path_arg(req, 0), *password;
    char hash[65], pwhash[PASSWORD_HASH_MAX];
    unsigned long long user_id = 0;
    MGMT_CALL c;
    int ret;

    pwhash[0] = '\0';
    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY | MGMT_NO_AUTH) != 0 || !local_passwords(&c))
        goto out;
    mgmt_check_known(&c, known);
    password = mgmt_field_new_password(&c, "password", 1);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (strlen(token) != PWRESET_TOKEN_LEN || strspn(token, TOKEN_ALNUM) != PWRESET_TOKEN_LEN) {
        mgmt_reply_not_found(&c, "password reset link (or it has expired)");
        goto out;
    }
    if (mgmt_password_hash(&c, password, pwhash) < 0) {
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure", "The password could not be hashed; try again.");
        goto out;
    }
    token_sha256_hex(token, strlen(token), hash);
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = pwreset_find(c.db, hash, &user_id)) <= 0) {
        if (ret < 0)
            mgmt_reply_db(&c, "password reset lookup", ret);
        else
            mgmt_reply_not_found(&c, "password reset link (or it has expired)");
        goto out;
    }
    if ((ret = user_password_set(c.db, user_id, pwhash)) < 0 || (ret = user_session_delete_others(c.db, user_id, 0)) < 0
        || (ret = pwreset_delete(c.db, user_id)) < 0 || (ret = mgmt_txn_commit(&c)) < 0) {
        mgmt_reply_db(&c, "password reset", ret);
        goto out;
    }
    msg_info("user %llu: password set through a reset link; every session ended (client %s)", user_id, req->client_ip);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:b}", "password_changed", 1));
out:
    explicit_bzero(pwhash, sizeof(pwhash));
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_pwreset_routes[] = {
    {"POST", "/api/v2/password-reset", mgmt_v2_password_reset_request},
    {"POST", "/api/v2/password-reset/{}", mgmt_v2_password_reset_set},
    {NULL, NULL, NULL},
};
