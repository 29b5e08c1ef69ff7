/*
 * mgmt_users.c -- people (doc/api.md): one's own profile (GET/PATCH /api/v2/user) and
 * password, an installation admin setting someone's password, and invitations to an
 * organization (…/organizations/{org}/invitations; POST /api/v2/invitations/{token}/accept),
 * deleting one's own account (DELETE /api/v2/user) and the purge of deleted accounts by
 * installation admins (/api/v2/deleted-users).
 * Rows are lib/mail/user.c's and org.c's; every new password passes the password policy
 * (lib/mail/pwpolicy.h: a refusal is 400 ValidationError naming the rule) and is stored as
 * argon2id (util/password.h); invitation tokens are stored as SHA-256 (util/token.h) and
 * shown once.
 *
 * Must never: let an invitation take over an existing account without that account's
 * password, answer a password or hash, keep other sessions alive after a password change,
 * delete an account without its password (checked under the login throttle), leave an
 * organization without its owner, or purge a live account.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/address.h"
#include "mail/oidclink.h"
#include "mail/org.h"
#include "mail/sysmail.h"
#include "mail/twofactor.h"
#include "mail/user.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/password.h"
#include "util/token.h"

#define INVITE_TOKEN_LEN 40
#define INVITE_LIFETIME (7 * 24 * 3600)

/* A user as JSON, in the same shape as mgmt_user_json(). */
static json_t *
user_row_json(const USER *u)
{
    json_t *o = mgmt_person_json(u->uuid, u->email, u->first_name, u->last_name);

    json_object_set_new(o, "admin", json_boolean(u->admin));
    return o;
}

/* A new password field that the password policy (passwords.*) accepts, hashed into hash;
 * NULL after a field error. A refusal names its rule for mgmt_reply_invalid(). */
static const char *
field_new_password(MGMT_CALL *c, const char *name, char hash[PASSWORD_HASH_MAX])
{
    const char *pw = mgmt_field_new_password(c, name, 1);

    if (pw && mgmt_password_hash(c, pw, hash) < 0) {
        mgmt_field_error(c, name, "could not be hashed; try again");
        return NULL;
    }
    return pw;
}

/* ---------------------------------------------------------------- one's own profile */

static void
mgmt_v2_user_get(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, 0) == 0)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "user", mgmt_user_json(&c.p)));
    mgmt_call_end(&c);
}

static void
mgmt_v2_user_patch(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"first_name", "last_name", NULL};
    const char *first, *last;
    USER u;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0)
        goto out;
    mgmt_check_known(&c, known);
    first = mgmt_field_name(&c, "first_name", 0);
    last = mgmt_field_name(&c, "last_name", 0);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = user_set_names(c.db, c.p.user_id, first, last)) < 0 || (ret = user_get(c.db, c.p.user_id, &u)) <= 0) {
        mgmt_reply_db(&c, "user update", ret < 0 ? ret : DB_ERR_PERM);
        goto out;
    }
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "user", user_row_json(&u)));
out:
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- passwords */

/* Whether user_id may have a local password set: 0 to go on; -1 after answering 403 when
 * local authentication is disabled or 409 AccountLinkedToOpenID when the account signs in
 * through the OpenID provider (Postal's rule), or a database error. */
static int
password_settable(MGMT_CALL *c, unsigned long long user_id)
{
    int ret;

    if (!oidc_local_enabled(c->m->oidc)) {
        mgmt_reply_fail(c, MHD_HTTP_FORBIDDEN, "LocalAuthenticationDisabled",
                        "Local passwords are disabled here (oidc.local_authentication_enabled): people sign in "
                        "through the OpenID Connect provider.");
        return -1;
    }
    if ((ret = oidclink_is_linked(c->db, user_id)) < 0) {
        mgmt_reply_db(c, "OpenID link lookup", ret);
        return -1;
    }
    if (ret > 0) {
        mgmt_reply_conflict(c, "AccountLinkedToOpenID", "This account signs in through the OpenID Connect provider "
                            "and has no local password to set or change.", NULL);
        return -1;
    }
    return 0;
}

static void
mgmt_v2_user_password(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"current_password", "new_password", NULL};
    char hash[PASSWORD_HASH_MAX], *old = NULL;
    const char *current;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || password_settable(&c, c.p.user_id) < 0)
        goto out;
    mgmt_check_known(&c, known);
    current = mgmt_field_string(&c, "current_password", 1, MGMT_PASSWORD_MAX);
    field_new_password(&c, "new_password", hash);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = user_password_get(c.db, c.p.user_id, &old)) <= 0) {
        mgmt_reply_db(&c, "password lookup", ret < 0 ? ret : DB_ERR_PERM);
        goto out;
    }
    if (old == NULL || password_verify(old, current) != 1) {
        mgmt_field_error(&c, "current_password", "is not your current password");
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = user_password_set(c.db, c.p.user_id, hash)) < 0
        || (ret = user_session_delete_others(c.db, c.p.user_id, c.p.via == AUTH_VIA_SESSION ? c.p.session_id : 0)) < 0) {
        mgmt_reply_db(&c, "password change", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed their password; %d other session%s ended", c.p.user_id, ret, ret == 1 ? "" : "s");
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:b, s:i}", "password_changed", 1, "sessions_ended", ret));
out:
    memset(hash, 0, sizeof(hash));
    mem_free(old);
    mgmt_call_end(&c);
}

static void
mgmt_v2_users_password(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"password", NULL};
    const char *who = http_path_arg(req, 0);
    char hash[PASSWORD_HASH_MAX], *email = NULL;
    USER u;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0)
        goto out;
    if (!c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators set other people's passwords.");
        goto out;
    }
    email = mgmt_lowercase(who);
    if ((ret = user_find(c.db, auth_uuid_ok(who) ? who : NULL, email, &u)) < 0) {
        mgmt_reply_db(&c, "user lookup", ret);
        goto out;
    }
    if (ret == 0) {
        mgmt_reply_not_found(&c, "user");
        goto out;
    }
    if (password_settable(&c, u.id) < 0)
        goto out;
    mgmt_check_known(&c, known);
    field_new_password(&c, "password", hash);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = user_password_set(c.db, u.id, hash)) < 0 || (ret = user_session_delete_others(c.db, u.id, 0)) < 0) {
        mgmt_reply_db(&c, "password reset", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: set the password of user %llu; %d session%s ended", c.p.user_id, u.id, ret, ret == 1 ? "" : "s");
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:i}", "user", user_row_json(&u), "sessions_ended", ret));
out:
    memset(hash, 0, sizeof(hash));
    mem_free(email);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- invitations */

static json_t *
invite_json(const USER_INVITE_ROW *i)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "uuid", mgmt_jstr(i->uuid), "email", mgmt_jstr(i->email),
                     "role", mgmt_jstr(i->role), "invited_by", mgmt_jstr(i->invited_by),
                     "expires_at", mgmt_jstr(i->expires_at), "created_at", mgmt_jstr(i->created_at));
}

static void
mgmt_v2_invitations_list(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_org(&c, AUTH_ROLE_ADMIN, &o) == 0) {
        if ((ret = user_invite_list(c.db, o.id, NULL, &rows)) < 0) {
            mgmt_reply_db(&c, "invitation list", ret);
        } else {
            json_t *a = json_array();

            for (size_t r = 0; r < rows.n; r++)
                json_array_append_new(a, invite_json((const USER_INVITE_ROW *) rows.v + r));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "invitations", a));
        }
    }
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* Mails the invitation link to email through the system mailer (sysmail.h). 0 sent, -1
 * with *error_r (mem_free it): the link is then only in the answer, for the admin to hand on. */
static int
mail_invitation(const MGMT_CALL *c, const MGMT_ORG *o, const char *email, const char *role, const char *token,
                char **error_r)
{
    const PGCONF *cfg = c->req->cfg;
    size_t n = strlen(cfg->admin_public_url);
    char *link, *subject, *body;
    int ret;

    while (n > 0 && cfg->admin_public_url[n - 1] == '/')
        n--;
    link = buf_asprintf("%.*s/invitations/%s", (int) n, cfg->admin_public_url, token);
    subject = buf_asprintf("Invitation to %s", o->row->name);
    body = buf_asprintf("%s%s%s (%s) invites you to the organization %s on %s as %s.\n\n"
                        "To accept, open this link within 7 days (it works once):\n\n    %s\n\n"
                        "You make an account there, or join with the one you have. If you did not expect\n"
                        "this invitation, ignore this message: nothing happens without the link.\n",
                        c->p.first_name, *c->p.first_name ? " " : "", c->p.last_name, c->p.email, o->row->name,
                        cfg->dns_smtp_server_hostname, role, link);
    ret = sysmail_send(cfg, email, subject, body, error_r);
    mem_free(link);
    mem_free(subject);
    mem_free(body);
    return ret;
}

static void
mgmt_v2_invitations_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"email", "role", NULL};
    char token[INVITE_TOKEN_LEN + 1], hash[65], uuid[37], *email = NULL;
    const char *given, *role_name;
    AUTH_ROLE role = AUTH_ROLE_MEMBER;
    DB_ROWS rows = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_org(&c, AUTH_ROLE_ADMIN, &o) != 0)
        goto out;
    mgmt_check_known(&c, known);
    given = mgmt_field_text(&c, "email", 1, MGMT_EMAIL_MAX);
    if (given && !address_email_ok(given))
        mgmt_field_error(&c, "email", "must be an e-mail address");
    role_name = mgmt_field_string(&c, "role", 1, 16);
    if (role_name && auth_role_parse(role_name, &role) < 0)
        mgmt_field_error(&c, "role", "must be owner, admin, member or readonly");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (role == AUTH_ROLE_OWNER && o.role < AUTH_ROLE_OWNER) {
        mgmt_reply_forbidden(&c, "Only owners invite owners.");
        goto out;
    }
    email = mgmt_lowercase(given);
    if ((ret = org_member_by_email(c.db, o.id, email, &rows)) < 0) {
        mgmt_reply_db(&c, "member lookup", ret);
        goto out;
    }
    if (ret > 0) {
        mgmt_field_error(&c, "email", "is already a member of this organization");
        mgmt_reply_conflict(&c, "AlreadyMember", "This person is already a member.", NULL);
        goto out;
    }
    if (token_generate(token, INVITE_TOKEN_LEN, TOKEN_ALNUM) < 0 || token_uuid(uuid) < 0) {
        mgmt_reply_db(&c, "random token", DB_ERR_TEMP);
        goto out;
    }
    token_sha256_hex(token, strlen(token), hash);
    if ((ret = user_invite_create(c.db, o.id, uuid, email, auth_role_name(role), hash, c.p.user_id,
                                  INVITE_LIFETIME)) < 0) {
        mgmt_reply_db(&c, "invitation", ret);
        goto out;
    }
    db_rows_free(&rows);
    if ((ret = user_invite_list(c.db, o.id, uuid, &rows)) <= 0) {
        mgmt_reply_db(&c, "invitation reload", ret < 0 ? ret : DB_ERR_PERM);
        goto out;
    }
    msg_info("user %llu: invited %s to organization %s as %s", c.p.user_id, email, http_path_arg(req, 0),
             auth_role_name(role));
    {
        json_t *inv = invite_json(rows.v);
        char *why = NULL;

        json_object_set_new(inv, "token", json_string(token));
        /* Mailed by postgate; when the mailer fails the invitation stands, its link in the answer. */
        if (mail_invitation(&c, &o, email, auth_role_name(role), token, &why) == 0) {
            json_object_set_new(inv, "mailed", json_true());
        } else {
            msg_warn("invitation of %s to organization %s: not mailed: %s", email, http_path_arg(req, 0), why);
            json_object_set_new(inv, "mailed", json_false());
            json_object_set_new(inv, "mail_error", json_string(why));
        }
        mem_free(why);
        mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "invitation", inv));
    }
out:
    memset(token, 0, sizeof(token));
    mem_free(email);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_invitation_delete(HTTP_REQUEST *req, void *arg)
{
    const char *uuid = http_path_arg(req, 1);
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_org(&c, AUTH_ROLE_ADMIN, &o) != 0)
        goto out;
    if (!auth_uuid_ok(uuid) || (ret = user_invite_delete(c.db, o.id, uuid, 0)) == 0)
        mgmt_reply_not_found(&c, "invitation");
    else if (ret < 0)
        mgmt_reply_db(&c, "invitation delete", ret);
    else
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:s, s:b}", "uuid", uuid, "deleted", 1));
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* Accepting needs no login: the token is the proof. An existing account joins only with
 * its own password, checked under the login throttle (auth_password_check), and an
 * invitation never changes an existing account's credentials: one without a password
 * (it signs in another way) cannot accept, an organization admin adds it as a member
 * instead. A new account is made with the password given; with OpenID Connect sign-in a
 * new account needs none (it signs in through the provider), and with local
 * authentication disabled it gets none. */
static void
mgmt_v2_invitation_accept(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"password", "first_name", "last_name", NULL};
    const char *token = http_path_arg(req, 0), *password, *first, *last;
    char hash[65], pwhash[PASSWORD_HASH_MAX], uuid[37], *old = NULL;
    unsigned long long user_id = 0;
    DB_ROWS org = {0};
    USER_INVITE inv;
    USER u;
    MGMT_CALL c;
    int ret, created = 0, no_password;

    pwhash[0] = '\0';
    if (mgmt_call_begin(&c, req, arg, MGMT_NO_AUTH | MGMT_NEED_BODY) != 0)
        goto out;
    mgmt_check_known(&c, known);
    no_password = oidc_enabled(c.m->oidc) && (!oidc_local_enabled(c.m->oidc) || !json_object_get(c.body, "password"));
    if (!oidc_local_enabled(c.m->oidc) && json_object_get(c.body, "password"))
        mgmt_field_error(&c, "password", "is not taken: local passwords are disabled (sign in through the "
                         "OpenID Connect provider)");
    password = no_password ? NULL : mgmt_field_string(&c, "password", 1, MGMT_PASSWORD_MAX);
    first = mgmt_field_name(&c, "first_name", 0);
    last = mgmt_field_name(&c, "last_name", 0);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (strlen(token) != INVITE_TOKEN_LEN || strspn(token, TOKEN_ALNUM) != INVITE_TOKEN_LEN) {
        mgmt_reply_not_found(&c, "invitation (or it has expired)");
        goto out;
    }
    token_sha256_hex(token, strlen(token), hash);
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = user_invite_find(c.db, hash, &inv)) <= 0) {
        if (ret < 0)
            mgmt_reply_db(&c, "invitation lookup", ret);
        else
            mgmt_reply_not_found(&c, "invitation (or it has expired)");
        goto out;
    }
    if ((ret = user_id_by_email(c.db, inv.email, &user_id)) < 0
        || (ret > 0 && (ret = user_password_get(c.db, user_id, &old)) < 0)) {
        mgmt_reply_db(&c, "user lookup", ret);
        goto out;
    }
    if (user_id && (old == NULL || *old == '\0')) {
        msg_warn("invitation to organization %llu for %s: the account has no password; not accepted (client %s)",
                 inv.org_id, inv.email, req->client_ip);
        mgmt_reply_conflict(&c, "AccountHasNoPassword",
                       "This invitation is for an existing account that has no password, and an invitation never "
                       "sets one: an admin of the organization can add the account as a member instead.", NULL);
        goto out;
    }
    if (user_id && password == NULL) {
        mgmt_reply_conflict(&c, "AccountExists", "This invitation is for an existing account: an admin of the "
                            "organization can add it as a member, or accept with that account's password.", NULL);
        goto out;
    }
    if (user_id) {
        int good = auth_password_check(req, inv.email, old, password);

        if (good < 0)
            goto out;           /* 429 answered */
        if (!good) {
            msg_info("invitation to organization %llu: wrong password for the existing account (client %s)",
                     inv.org_id, req->client_ip);
            mgmt_reply_fail(&c, MHD_HTTP_UNAUTHORIZED, "InvalidCredentials",
                       "This invitation is for an existing account: give that account's password.");
            goto out;
        }
    } else if (!no_password && field_new_password(&c, "password", pwhash) == NULL) {
        /* A new account: the password given becomes its password. */
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (user_id == 0) {
        USER_NEW nu = {.uuid = uuid, .email = inv.email, .first_name = first ? first : "",
                       .last_name = last ? last : "", .password_hash = no_password ? NULL : pwhash, .admin = 0};

        if (token_uuid(uuid) < 0 || (ret = user_create(c.db, &nu, &user_id)) <= 0) {
            mgmt_reply_db(&c, "user create", ret < 0 ? ret : DB_ERR_TEMP);
            goto out;
        }
        created = 1;
    }
    if ((ret = org_member_add(c.db, inv.org_id, user_id, inv.role)) < 0
        || (ret = user_invite_delete(c.db, inv.org_id, NULL, inv.id)) < 0
        || (ret = user_get(c.db, user_id, &u)) <= 0 || (ret = org_get_by_id(c.db, inv.org_id, &org)) <= 0) {
        mgmt_reply_db(&c, "invitation accept", ret < 0 ? ret : DB_ERR_PERM);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu (%s) accepted an invitation to organization %llu as %s%s", user_id, inv.email, inv.org_id,
             inv.role, !created ? "" : no_password ? " (new account without a password: OpenID Connect)" : " (new account)");
    mgmt_reply_ok(&c, created ? MHD_HTTP_CREATED : MHD_HTTP_OK,
             json_pack("{s:o, s:o, s:s, s:b}", "user", user_row_json(&u), "organization",
                       mgmt_jstr(((const ORG_ROW *) org.v)->permalink), "role", inv.role, "created", created));
out:
    memset(pwhash, 0, sizeof(pwhash));
    mem_free(old);
    db_rows_free(&org);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- deleting one's account */

/* 409 with the organizations of rows (ORG_OWNED_ROWs): their permalinks, or objects with
 * uuid and permalink when with_uuid. */
static void
reply_owned(MGMT_CALL *c, const char *code, const char *message, const DB_ROWS *rows, int with_uuid)
{
    json_t *list = json_array();
    BUF *names = buf_new(128);

    for (size_t i = 0; i < rows->n; i++) {
        const ORG_OWNED_ROW *r = (const ORG_OWNED_ROW *) rows->v + i;

        json_array_append_new(list, with_uuid ? json_pack("{s:o, s:o}", "uuid", mgmt_jstr(r->uuid), "permalink",
                                                          mgmt_jstr(r->permalink)) : mgmt_jstr(r->permalink));
        buf_append_str(names, i ? ", " : "");
        buf_append_str(names, r->permalink);
    }
    {
        char *text = buf_asprintf("%s (%s)", message, buf_cstr(names));

        mgmt_reply_conflict(c, code, text, json_pack("{s:o}", "organizations", list));
        mem_free(text);
    }
    buf_free(names);
}

/* The signed-in user deletes their own account, confirmed with their password (under the
 * login throttle, like a sign-in). Refused while they own a live organization (it would be
 * left without its owner: hand it over or delete it first), while they belong to a
 * suspended one (leaving it that way would escape the suspension), and for the last
 * installation admin. Sessions, API tokens, memberships and the second factor end in the same transaction;
 * the row stays, marked deleted, until an installation admin purges it. An account
 * without a password cannot confirm: an installation admin sets one first. */
static void
mgmt_v2_user_delete(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"password", NULL};
    const char *password;
    char *hash = NULL;
    DB_ROWS owned = {0};
    int ret, admin = 0, sessions = 0, tokens = 0, good;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0)
        goto out;
    mgmt_check_known(&c, known);
    password = mgmt_field_string(&c, "password", 1, MGMT_PASSWORD_MAX);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = user_password_get(c.db, c.p.user_id, &hash)) <= 0) {
        mgmt_reply_db(&c, "password lookup", ret < 0 ? ret : DB_ERR_PERM);
        goto out;
    }
    if (hash == NULL || *hash == '\0') {
        mgmt_reply_conflict(&c, "AccountHasNoPassword", "This account has no password to confirm its deletion with: "
                            "an installation admin can set one (POST /api/v2/users/{user}/password), then delete it "
                            "with that password.", NULL);
        goto out;
    }
    if ((good = auth_password_check(req, c.p.email, hash, password)) < 0)
        goto out;       /* 429 answered */
    if (!good) {
        msg_info("user %llu: account deletion refused: wrong password (client %s)", c.p.user_id, req->client_ip);
        mgmt_field_error(&c, "password", "is not your password");
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = user_lock_live(c.db, c.p.user_id, &admin)) <= 0
        || (ret = org_list_owned(c.db, c.p.user_id, 0, &owned)) < 0) {
        mgmt_reply_db(&c, "user lookup", ret < 0 ? ret : DB_ERR_TEMP);
        goto out;
    }
    if (owned.n > 0) {
        reply_owned(&c, "OwnsOrganizations", "You own organizations: make someone else their owner and leave them, "
                    "or delete them, before deleting your account", &owned, 0);
        goto out;
    }
    if ((ret = org_user_suspended(c.db, c.p.user_id)) != 0) {
        if (ret < 0)
            mgmt_reply_db(&c, "suspension lookup", ret);
        else
            mgmt_reply_conflict(&c, "OrganizationSuspended", "You belong to a suspended organization: the account "
                                "cannot be deleted until the suspension is lifted.", NULL);
        goto out;
    }
    if (admin && (ret = user_count_admins(c.db)) <= 1) {
        if (ret < 0)
            mgmt_reply_db(&c, "admin count", ret);
        else
            mgmt_reply_conflict(&c, "LastAdmin", "You are the only installation administrator: make another "
                                "(postgatectl make-user --admin) before deleting your account.", NULL);
        goto out;
    }
    if ((ret = org_memberships_remove(c.db, c.p.user_id)) < 0 || (ret = twofactor_remove(c.db, c.p.user_id)) < 0
        || (ret = user_soft_delete(c.db, c.p.user_id, &sessions, &tokens)) <= 0) {
        mgmt_reply_db(&c, "account delete", ret < 0 ? ret : DB_ERR_TEMP);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted their account; %d session%s and %d API token%s ended", c.p.user_id, sessions,
             sessions == 1 ? "" : "s", tokens, tokens == 1 ? "" : "s");
    if (c.p.via == AUTH_VIA_SESSION && auth_logout(req, c.db, &c.p) < 0)
        msg_warn("user %llu: clearing the session cookie: %s", c.p.user_id, db_error(c.db));
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:s, s:b, s:i, s:i}", "uuid", c.p.uuid, "deleted", 1,
                                             "sessions_ended", sessions, "tokens_revoked", tokens));
out:
    mem_free(hash);
    db_rows_free(&owned);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- deleted users (installation admins) */

static void
mgmt_v2_deleted_users_list(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0)
        goto out;
    if (!c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators see deleted users.");
        goto out;
    }
    if ((ret = user_list_deleted(c.db, &rows)) < 0) {
        mgmt_reply_db(&c, "deleted user list", ret);
    } else {
        json_t *list = json_array();

        for (size_t i = 0; i < rows.n; i++) {
            const USER_DELETED_ROW *d = (const USER_DELETED_ROW *) rows.v + i;
            json_t *o = mgmt_person_json(d->uuid, d->email, d->first_name, d->last_name);

            json_object_set_new(o, "deleted_at", mgmt_jstr(d->deleted_at));
            json_object_set_new(o, "owned_organizations", json_integer((json_int_t) d->owned_organizations));
            json_array_append_new(list, o);
        }
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "users", list));
    }
out:
    db_rows_free(&rows);
    mgmt_call_end(&c);
}

/* Removes a deleted user's row for good. A deleted organization that still records them as
 * its owner keeps them (organizations.owner_id is ON DELETE RESTRICT): 409 naming those,
 * to be purged first, rather than purging them here unasked. */
static void
mgmt_v2_deleted_user_purge(HTTP_REQUEST *req, void *arg)
{
    const char *uuid = http_path_arg(req, 0);
    unsigned long long id = 0;
    DB_ROWS owned = {0};
    int deleted = 0, ret;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, 0) != 0)
        goto out;
    if (!c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators purge users.");
        goto out;
    }
    if (!auth_uuid_ok(uuid) || (ret = user_find_uuid(c.db, uuid, &id, &deleted)) == 0) {
        mgmt_reply_not_found(&c, "user");
        goto out;
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "user lookup", ret);
        goto out;
    }
    if (!deleted) {
        mgmt_reply_conflict(&c, "UserNotDeleted", "Only a deleted account can be purged: its owner deletes it "
                            "first (DELETE /api/v2/user).", NULL);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = org_list_owned(c.db, id, 1, &owned)) < 0) {
        mgmt_reply_db(&c, "organization lookup", ret);
        goto out;
    }
    if (owned.n > 0) {
        reply_owned(&c, "OwnsDeletedOrganizations", "Deleted organizations not yet purged still name this user "
                    "their owner: purge them first (POST /api/v2/deleted-organizations/{uuid}/purge)", &owned, 1);
        goto out;
    }
    if ((ret = user_purge(c.db, id)) <= 0) {
        if (ret == 0)
            mgmt_reply_not_found(&c, "user");
        else
            mgmt_reply_db(&c, "user purge", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: purged deleted user %s", c.p.user_id, uuid);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:s, s:b}", "uuid", uuid, "purged", 1));
out:
    db_rows_free(&owned);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_users_routes[] = {
    {"GET", "/api/v2/user", mgmt_v2_user_get},
    {"PATCH", "/api/v2/user", mgmt_v2_user_patch},
    {"DELETE", "/api/v2/user", mgmt_v2_user_delete},
    {"GET", "/api/v2/deleted-users", mgmt_v2_deleted_users_list},
    {"POST", "/api/v2/deleted-users/{}/purge", mgmt_v2_deleted_user_purge},
    {"POST", "/api/v2/user/password", mgmt_v2_user_password},
    {"POST", "/api/v2/users/{}/password", mgmt_v2_users_password},
    {"GET", "/api/v2/organizations/{}/invitations", mgmt_v2_invitations_list},
    {"POST", "/api/v2/organizations/{}/invitations", mgmt_v2_invitations_create},
    {"DELETE", "/api/v2/organizations/{}/invitations/{}", mgmt_v2_invitation_delete},
    {"POST", "/api/v2/invitations/{}/accept", mgmt_v2_invitation_accept},
    {NULL, NULL, NULL},
};
