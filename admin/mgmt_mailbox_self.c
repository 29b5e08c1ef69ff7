/*
 * mgmt_mailbox_self.c -- what a mailbox's own user does without a web admin account:
 * POST /api/v2/mailbox/password changes the mailbox's password, proven by the current
 * one. Webmail calls it (Roundcube's password plugin, httpapi driver, which posts a form),
 * so the body is JSON or an urlencoded form with the same three fields: address,
 * current_password, new_password.
 *
 * The current password is checked against the mailbox Dovecot would log in (enabled, its
 * domain verified and hosting: hosting_login, as SMTP AUTH), under the web login's throttle
 * (auth_password_check: per client address, per address and per pair), with the same work
 * for an unknown address; a wrong password or an address that cannot log in get the same
 * 401. The new one must pass the password policy (400 naming the rule) and is stored as an
 * argon2id hash; Dovecot reads it at the next login.
 *
 * Must never: say whether an address exists, take a new password without the current
 * one, or log either.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "auth.h"
#include "mail/hosting.h"
#include "mail/mailbox.h"
#include "mgmt.h"
#include "util/mem.h"
#include "util/msg.h"

/* The form fields of a urlencoded body as the JSON object the rest reads (absent fields
 * stay absent); unknown fields are ignored, as a form may carry more. */
static json_t *
form_body(HTTP_REQUEST *req)
{
    static const char *const fields[] = {"address", "current_password", "new_password", NULL};
    json_t *body = json_object();

    for (size_t i = 0; fields[i]; i++) {
        size_t len;
        const char *v = http_form_value(req, fields[i], &len);

        if (v && strlen(v) == len)
            json_object_set_new(body, fields[i], json_stringn(v, len));
    }
    return body;
}

static void
mgmt_v2_mailbox_password(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"address", "current_password", "new_password", NULL};
    const char *address, *current, *wanted;
    char hash[PASSWORD_HASH_MAX], *stored = NULL, *error = NULL;
    HOSTING_LOGIN login;
    MGMT_CALL c;
    int ret, good;

    if (mgmt_call_begin(&c, req, arg, MGMT_NO_AUTH) != 0)
        goto out;
    if (req->is_form) {
        if (!req->form_ok) {
            mgmt_reply_fail(&c, MHD_HTTP_BAD_REQUEST, "InvalidForm", "The form body could not be read.");
            goto out;
        }
        c.body = form_body(req);
    } else if (mgmt_read_body(&c) < 0) {
        goto out;
    } else {
        mgmt_check_known(&c, known);
    }
    address = mgmt_field_text(&c, "address", 1, MGMT_EMAIL_MAX);
    current = mgmt_field_string(&c, "current_password", 1, MGMT_PASSWORD_MAX);
    wanted = mgmt_field_new_password(&c, "new_password", 1);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    /* The mailbox Dovecot would log in (and SMTP AUTH would take): enabled, its domain
     * verified and hosting, its owner live. */
    if ((ret = hosting_login(c.db, address, &login, &stored)) < 0) {
        mgmt_reply_db(&c, "mailbox lookup", ret);
        goto out;
    }
    /* The same check (and work) whether or not the mailbox exists. */
    if ((good = auth_password_check(req, address, ret > 0 ? stored : NULL, current)) < 0)
        goto out;
    if (!good) {
        msg_info("mailbox password change refused: client %s: wrong address or password", req->client_ip);
        mgmt_reply_fail(&c, MHD_HTTP_UNAUTHORIZED, "InvalidCredentials",
                        "The mailbox address or its current password is wrong.");
        goto out;
    }
    if (mgmt_password_hash(&c, wanted, hash) < 0) {
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure", "The password could not be hashed; try again.");
        goto out;
    }
    if (mailbox_set_password(c.db, login.mailbox_id, hash, &error) < 0) {
        msg_warn("mailbox %llu: password change: %s", login.mailbox_id, error);
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure", "The password could not be saved; try again.");
        goto out;
    }
    msg_info("mailbox %llu: password changed by its user (client %s)", login.mailbox_id, req->client_ip);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:s, s:b}", "address", address, "password_changed", 1));
out:
    explicit_bzero(hash, sizeof(hash));
    mem_free(stored);
    mem_free(error);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_mailbox_self_routes[] = {
    {"POST", "/api/v2/mailbox/password", mgmt_v2_mailbox_password},
    {NULL, NULL, NULL},
};
