/*
 * mgmt_session.c -- /api/v2/session (log in, who am I, log out), /api/v2/session/status
 * (who am I, answered 200 to nobody too: the web UI's probe; both also to a session whose
 * sign-in waits for its second factor, with "second_factor") and the personal API
 * tokens under /api/v2/user/tokens (doc/api.md). Users, sessions and tokens are
 * lib/mail/user.c's, reached through auth.c.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/user.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/password.h"

/* ---------------------------------------------------------------- sessions */

static void
mgmt_v2_session_create(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;
    const char *email, *password;
    static const char *const known[] = {"email", "password", NULL};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY | MGMT_NO_AUTH) == 0) {
        if (!oidc_local_enabled(c.m->oidc)) {
            mgmt_reply_fail(&c, MHD_HTTP_FORBIDDEN, "LocalAuthenticationDisabled",
                            "Signing in with a password is disabled here: sign in through the OpenID Connect "
                            "provider (GET /auth/oidc/start).");
            mgmt_call_end(&c);
            return;
        }
        mgmt_check_known(&c, known);
        email = mgmt_field_text(&c, "email", 1, MGMT_EMAIL_MAX);
        password = mgmt_field_string(&c, "password", 1, PASSWORD_MAX_LENGTH);
        if (mgmt_has_errors(&c))
            mgmt_reply_invalid(&c);
        else if (auth_login(req, c.db, email, password, &c.p) == 0)
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:s, s:s, s:s, s:s}", "user", mgmt_user_json(&c.p), "via",
                                                "session", "csrf_token", c.p.csrf_token, "expires_at", c.p.expires_at,
                                                "second_factor", c.p.second_factor));
    }
    mgmt_call_end(&c);
}

/* Who p is, as GET /api/v2/session answers it. */
static json_t *
session_json(const AUTH_PRINCIPAL *p)
{
    json_t *data = json_pack("{s:o, s:s}", "user", mgmt_user_json(p), "via",
                             p->via == AUTH_VIA_SESSION ? "session" : "token");

    if (p->via == AUTH_VIA_SESSION) {
        json_object_set_new(data, "csrf_token", json_string(p->csrf_token));
        json_object_set_new(data, "expires_at", json_string(p->expires_at));
        json_object_set_new(data, "second_factor", json_string(p->second_factor));
    }
    return data;
}

static void
mgmt_v2_session_get(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, MGMT_PARTIAL) == 0)
        mgmt_reply_ok(&c, MHD_HTTP_OK, session_json(&c.p));
    mgmt_call_end(&c);
}

/* How people may sign in, for the login page: {"local": bool, "oidc": null or {"name",
 * "start"}}. */
static json_t *
sign_in_json(const MGMT_V2 *m)
{
    json_t *oidc = json_null();

    if (oidc_enabled(m->oidc))
        oidc = json_pack("{s:s, s:s}", "name", oidc_name(m->oidc), "start", "/auth/oidc/start");
    return json_pack("{s:b, s:o}", "local", oidc_local_enabled(m->oidc), "oidc", oidc);
}

/* The web UI's probe when a page loads: 200 whether or not someone is signed in, so a
 * signed-out visitor's console shows no failed request. {"authenticated": false}, or true
 * with what GET /api/v2/session answers; "sign_in" says how one may sign in. */
static void
mgmt_v2_session_status(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NO_AUTH) == 0 && (ret = auth_principal_find(req, c.db, &c.p)) >= 0) {
        json_t *data = ret == 0 ? session_json(&c.p) : json_object();

        json_object_set_new(data, "authenticated", json_boolean(ret == 0));
        json_object_set_new(data, "sign_in", sign_in_json(c.m));
        mgmt_reply_ok(&c, MHD_HTTP_OK, data);
    }
    mgmt_call_end(&c);
}

static void
mgmt_v2_session_delete(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_PARTIAL) == 0) {
        if (c.p.via != AUTH_VIA_SESSION)
            mgmt_reply_fail(&c, MHD_HTTP_BAD_REQUEST, "NotASession",
                       "A bearer token is not a session; revoke it with DELETE /api/v2/user/tokens/{uuid}.");
        else if ((ret = auth_logout(req, c.db, &c.p)) < 0)
            mgmt_reply_db(&c, "logout", ret);
        else
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1));
    }
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- personal API tokens */

static void
mgmt_v2_tokens_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", NULL};
    char secret[AUTH_API_TOKEN_LEN + 1], uuid[37];
    const char *name;
    json_t *list;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) == 0) {
        mgmt_check_known(&c, known);
        name = mgmt_field_name(&c, "name", 1);
        if (mgmt_has_errors(&c)) {
            mgmt_reply_invalid(&c);
        } else if ((ret = auth_token_create(c.db, &c.p, name, secret, uuid)) < 0) {
            mgmt_reply_db(&c, "token create", ret);
        } else if ((ret = auth_token_list(c.db, c.p.user_id, uuid, &list)) <= 0) {
            json_decref(list);
            mgmt_reply_db(&c, "token reload", ret < 0 ? ret : DB_ERR_PERM);
        } else {
            json_t *t = json_incref(json_array_get(list, 0));

            json_decref(list);
            json_object_set_new(t, "token", json_string(secret));
            explicit_bzero(secret, sizeof(secret));
            msg_info("user %llu: created API token %s", c.p.user_id, uuid);
            mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "token", t));
        }
    }
    mgmt_call_end(&c);
}

static void
mgmt_v2_tokens_list(HTTP_REQUEST *req, void *arg)
{
    json_t *list;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0) {
        if ((ret = auth_token_list(c.db, c.p.user_id, NULL, &list)) < 0)
            mgmt_reply_db(&c, "token list", ret);
        else
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "tokens", list));
    }
    mgmt_call_end(&c);
}

static void
mgmt_v2_tokens_delete(HTTP_REQUEST *req, void *arg)
{
    const char *uuid = http_path_arg(req, 0);
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0) {
        if ((ret = auth_token_revoke(c.db, c.p.user_id, uuid)) < 0)
            mgmt_reply_db(&c, "token revoke", ret);
        else if (ret == 0)
            mgmt_reply_not_found(&c, "API token");
        else {
            msg_info("user %llu: revoked API token %s", c.p.user_id, uuid);
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:s, s:b}", "uuid", uuid, "deleted", 1));
        }
    }
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_session_routes[] = {
    {"POST", "/api/v2/session", mgmt_v2_session_create},
    {"GET", "/api/v2/session", mgmt_v2_session_get},
    {"GET", "/api/v2/session/status", mgmt_v2_session_status},
    {"DELETE", "/api/v2/session", mgmt_v2_session_delete},
    {"POST", "/api/v2/user/tokens", mgmt_v2_tokens_create},
    {"GET", "/api/v2/user/tokens", mgmt_v2_tokens_list},
    {"DELETE", "/api/v2/user/tokens/{}", mgmt_v2_tokens_delete},
    {NULL, NULL, NULL},
};
