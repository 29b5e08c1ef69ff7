/*
 * mgmt_totp.c -- two-factor sign-in (doc/api.md, doc/manual.md "Two-factor sign-in"):
 * finishing a sign-in with a code (POST /api/v2/session/totp), one's own enrolment,
 * recovery codes and disabling (/api/v2/user/totp...), and what administrators do for
 * others (/api/v2/users/{user}/totp: see, require, reset).
 *
 * Codes are otp.c's (liboath, one step of clock skew either side); secrets and recovery
 * codes are lib/mail/twofactor.c's (sealed, keyed hashes). A step is accepted once, a
 * recovery code once. Every code checked counts in the login throttle (auth.c) like a
 * password, and every refusal is logged with its reason (never the code).
 *
 * Who may act on someone else's second factor: an installation admin for anyone; an
 * owner or admin of an organization for its members (an owner's only by an owner, an
 * installation admin's only by an installation admin). Anyone else gets 404, as for a
 * user that does not exist.
 *
 * Must never: show a secret after its enrolment began or a recovery code after it was
 * made, accept a code for a step at or before the last one accepted, or let a session
 * whose sign-in is not complete do more than finish it (or enrol, when that is required).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/org.h"
#include "mail/twofactor.h"
#include "mail/user.h"
#include "mgmt.h"
#include "otp.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define RECOVERY_FIELD_MAX 64

/* What a second factor given in a body turned out to be. */
enum { FACTOR_WRONG = 0, FACTOR_CODE = 1, FACTOR_RECOVERY = 2 };

/* The "code" and "recovery_code" fields: exactly one, of the right shape (field errors
 * otherwise). allow_recovery: whether a recovery code may stand in for a code. */
static void
factor_fields(MGMT_CALL *c, int allow_recovery, const char **code_r, const char **recovery_r)
{
    *code_r = mgmt_field_string(c, "code", 0, 16);
    *recovery_r = allow_recovery ? mgmt_field_string(c, "recovery_code", 0, RECOVERY_FIELD_MAX) : NULL;
    if (*code_r && !otp_code_shape(*code_r))
        mgmt_field_error(c, "code", "must be the six digits your authenticator app shows");
    if (*code_r && *recovery_r)
        mgmt_field_error(c, "recovery_code", "give a code or a recovery code, not both");
    else if (*code_r == NULL && *recovery_r == NULL && !json_object_get(c->errors, "code"))
        mgmt_field_error(c, "code", allow_recovery ? "is required (or recovery_code)" : "is required");
}

/*
 * Checks the second factor of c's principal under the login throttle: a code of the
 * confirmed secret (or of the pending one when pending is set, which then records nothing)
 * or an unused recovery code, which is used up. FACTOR_CODE (*step_r) or FACTOR_RECOVERY,
 * FACTOR_WRONG (nothing answered: the caller says how), -1 when answered (429, 503).
 */
static int
factor_check(MGMT_CALL *c, const char *code, const char *recovery, int pending, unsigned long long *step_r)
{
    unsigned long long last = 0, step = 0;
    char normal[OTP_RECOVERY_LEN + 1], hash[65];
    const char *why = NULL;
    AUTH_ATTEMPT a;
    BUF *secret;
    int ret, good = FACTOR_WRONG;

    if (auth_attempt_begin(c->req, c->p.email, &a) < 0)
        return -1;
    if (code) {
        secret = buf_new(64);
        ret = twofactor_secret(c->db, c->m->seal, c->p.user_id, pending, secret, &last);
        if (ret > 0 && (ret = otp_check(buf_data(secret), buf_len(secret), code, time(NULL), &step)) == 0)
            why = "the code is not valid now";
        else if (ret > 0 && !pending && (ret = twofactor_use_step(c->db, c->p.user_id, step)) == 0)
            why = "the code was used already (or an earlier one was accepted after it)";
        else if (ret == 0)
            why = pending ? "no enrolment is pending" : "no second factor is enabled";
        explicit_bzero((void *) buf_data(secret), buf_len(secret));
        buf_free(secret);
        if (ret < 0) {
            mgmt_reply_db(c, "second factor check", ret);
            return -1;
        }
        if (why == NULL) {
            good = FACTOR_CODE;
            *step_r = step;
        }
    } else if (!otp_recovery_normalize(recovery, normal)) {
        why = "the recovery code is not one";
    } else {
        twofactor_recovery_hash(c->m->seal, c->p.user_id, normal, hash);
        explicit_bzero(normal, sizeof(normal));
        if ((ret = twofactor_recovery_use(c->db, c->p.user_id, hash)) < 0) {
            mgmt_reply_db(c, "recovery code", ret);
            return -1;
        }
        if (ret == 0)
            why = "the recovery code is not valid or was used already";
        else
            good = FACTOR_RECOVERY;
    }
    auth_attempt_end(&a, good != FACTOR_WRONG);
    if (why)
        msg_info("user %llu: second factor refused: %s (client %s)", c->p.user_id, why, c->req->client_ip);
    return good;
}

/* 400 ValidationError for a wrong second factor. */
static void
reply_wrong_factor(MGMT_CALL *c, const char *code)
{
    mgmt_field_error(c, code ? "code" : "recovery_code", code
                     ? "is not a current code of your authenticator app, or it was used already"
                     : "is not one of your unused recovery codes");
    mgmt_reply_invalid(c);
}

/* Ten new recovery codes for c's principal, stored as keyed hashes (in the caller's
 * transaction); the codes as shown, as a JSON array, or NULL when answered. */
static json_t *
recovery_renew(MGMT_CALL *c)
{
    char shown[TWOFACTOR_RECOVERY_CODES][OTP_RECOVERY_SHOWN], normal[OTP_RECOVERY_LEN + 1];
    char hashes[TWOFACTOR_RECOVERY_CODES][65];
    json_t *list;
    int ret;

    for (int i = 0; i < TWOFACTOR_RECOVERY_CODES; i++) {
        if (otp_recovery_new(shown[i]) < 0 || !otp_recovery_normalize(shown[i], normal)) {
            mgmt_reply_db(c, "random recovery code", DB_ERR_TEMP);
            return NULL;
        }
        twofactor_recovery_hash(c->m->seal, c->p.user_id, normal, hashes[i]);
    }
    if ((ret = twofactor_recovery_set(c->db, c->p.user_id, hashes, TWOFACTOR_RECOVERY_CODES)) < 0) {
        mgmt_reply_db(c, "recovery codes", ret);
        return NULL;
    }
    list = json_array();
    for (int i = 0; i < TWOFACTOR_RECOVERY_CODES; i++)
        json_array_append_new(list, json_string(shown[i]));
    explicit_bzero(shown, sizeof(shown));
    explicit_bzero(normal, sizeof(normal));
    return list;
}

/* The state of a user's second factor as JSON. */
static json_t *
state_json(const TWOFACTOR_STATE *st)
{
    json_t *by = json_array();

    if (st->required_user)
        json_array_append_new(by, json_string("user"));
    if (st->required_org)
        json_array_append_new(by, json_string("organization"));
    return json_pack("{s:b, s:b, s:o, s:b, s:o, s:i}", "enabled", st->enabled, "pending", st->pending,
                     "confirmed_at", st->confirmed_at[0] ? json_string(st->confirmed_at) : json_null(),
                     "required", st->required_user || st->required_org, "required_by", by,
                     "recovery_codes_left", st->recovery_left);
}

/* For one's own routes: a complete sign-in, or (enrol_ok) one that must enrol first. 0 to
 * go on, -1 after answering 401 as auth_principal() does. */
static int
own_session_ok(MGMT_CALL *c, int enrol_ok)
{
    if (auth_complete(&c->p) || (enrol_ok && strcmp(c->p.second_factor, "enrol") == 0))
        return 0;
    if (strcmp(c->p.second_factor, "code") == 0)
        mgmt_reply_fail(c, MHD_HTTP_UNAUTHORIZED, "SecondFactorRequired",
                        "Complete the sign-in with a code first (POST /api/v2/session/totp).");
    else
        mgmt_reply_fail(c, MHD_HTTP_UNAUTHORIZED, "TwoFactorEnrolmentRequired",
                        "A second factor is required of this account: enrol one (POST /api/v2/user/totp).");
    return -1;
}

/* ---------------------------------------------------------------- the sign-in's second step */

static void
mgmt_v2_session_totp(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"code", "recovery_code", NULL};
    const char *code, *recovery;
    unsigned long long step = 0;
    MGMT_CALL c;
    int ret, kind;

    if (mgmt_call_begin(&c, req, arg, MGMT_PARTIAL | MGMT_NEED_BODY) != 0)
        goto out;
    if (c.p.via != AUTH_VIA_SESSION || strcmp(c.p.second_factor, "code") != 0) {
        mgmt_reply_conflict(&c, "NoSecondFactorPending", "This session is not waiting for a code.", NULL);
        goto out;
    }
    mgmt_check_known(&c, known);
    factor_fields(&c, 1, &code, &recovery);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((kind = factor_check(&c, code, recovery, 0, &step)) < 0)
        goto out;
    if (kind == FACTOR_WRONG) {
        mgmt_reply_fail(&c, MHD_HTTP_UNAUTHORIZED, "InvalidCode", code
                        ? "The code is not valid now, or it was used already: wait for the next one."
                        : "The recovery code is not valid, or it was used already.");
        goto out;
    }
    if ((ret = auth_session_complete(c.db, &c.p)) < 0) {
        mgmt_reply_db(&c, "session update", ret);
        goto out;
    }
    msg_info("login: user %llu completed the sign-in with %s (client %s)", c.p.user_id,
             kind == FACTOR_CODE ? "a code" : "a recovery code", req->client_ip);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:s, s:s, s:s, s:s}", "user", mgmt_user_json(&c.p), "via", "session",
                                             "csrf_token", c.p.csrf_token, "expires_at", c.p.expires_at,
                                             "second_factor", c.p.second_factor));
out:
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- one's own second factor */

static void
mgmt_v2_user_totp_get(HTTP_REQUEST *req, void *arg)
{
    TWOFACTOR_STATE st;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_PARTIAL) == 0 && own_session_ok(&c, 1) == 0) {
        if ((ret = twofactor_state(c.db, c.p.user_id, &st)) <= 0)
            mgmt_reply_db(&c, "second factor state", ret < 0 ? ret : DB_ERR_PERM);
        else
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "totp", state_json(&st)));
    }
    mgmt_call_end(&c);
}

/* Begins an enrolment: a new secret, shown this once (base32, otpauth:// URI, QR code). */
static void
mgmt_v2_user_totp_begin(HTTP_REQUEST *req, void *arg)
{
    static const char *const none[] = {NULL};
    unsigned char secret[OTP_SECRET_LEN];
    char b32[OTP_SECRET_B32_LEN + 1], *uri = NULL, *qr = NULL;
    const char *issuer;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_PARTIAL) != 0 || own_session_ok(&c, 1) != 0
        || mgmt_read_optional_body(&c, none) < 0)
        goto out;
    if (otp_secret_new(secret, b32) < 0) {
        mgmt_reply_db(&c, "random secret", DB_ERR_TEMP);
        goto out;
    }
    if ((ret = twofactor_begin(c.db, c.m->seal, c.p.user_id, secret, sizeof(secret))) <= 0) {
        if (ret == 0)
            mgmt_reply_conflict(&c, "TwoFactorAlreadyEnabled", "A second factor is enabled already: disable it "
                                "(DELETE /api/v2/user/totp) before enrolling another.", NULL);
        else
            mgmt_reply_db(&c, "enrolment", ret);
        goto out;
    }
    issuer = req->cfg->admin_totp_issuer && *req->cfg->admin_totp_issuer ? req->cfg->admin_totp_issuer : "postgate";
    uri = otp_uri(issuer, c.p.email, b32);
    if ((qr = otp_qr_data_uri(uri)) == NULL) {
        mgmt_reply_fail(&c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "The QR code could not be made.");
        goto out;
    }
    msg_info("user %llu: began a two-factor enrolment", c.p.user_id);
    mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:{s:s, s:s, s:s, s:s, s:i, s:i, s:s}}", "enrolment", "secret", b32,
                                                  "otpauth_uri", uri, "qr_image", qr, "issuer", issuer,
                                                  "digits", OTP_DIGITS, "period", OTP_STEP, "algorithm", "SHA1"));
out:
    explicit_bzero(secret, sizeof(secret));
    explicit_bzero(b32, sizeof(b32));
    if (uri)
        explicit_bzero(uri, strlen(uri));
    mem_free(uri);
    mem_free(qr);
    mgmt_call_end(&c);
}

/* Confirms the pending enrolment with its first code: enabled, ten recovery codes shown once. */
static void
mgmt_v2_user_totp_confirm(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"code", NULL};
    const char *code, *recovery;
    unsigned long long step = 0;
    json_t *codes;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_PARTIAL | MGMT_NEED_BODY) != 0 || own_session_ok(&c, 1) != 0)
        goto out;
    mgmt_check_known(&c, known);
    factor_fields(&c, 0, &code, &recovery);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0 || (ret = factor_check(&c, code, NULL, 1, &step)) < 0)
        goto out;
    if (ret == FACTOR_WRONG) {
        mgmt_field_error(&c, "code", "is not the current code of the new secret (or no enrolment is pending: begin one)");
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = twofactor_confirm(c.db, c.p.user_id, step)) <= 0) {
        mgmt_reply_db(&c, "enrolment confirm", ret < 0 ? ret : DB_ERR_TEMP);
        goto out;
    }
    if ((codes = recovery_renew(&c)) == NULL)
        goto out;
    if (c.p.via == AUTH_VIA_SESSION && !auth_complete(&c.p) && (ret = auth_session_complete(c.db, &c.p)) < 0) {
        json_decref(codes);
        mgmt_reply_db(&c, "session update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0) {
        json_decref(codes);
        goto out;
    }
    msg_info("user %llu: enabled two-factor sign-in", c.p.user_id);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:b, s:o, s:s}", "enabled", 1, "recovery_codes", codes,
                                             "second_factor", c.p.via == AUTH_VIA_SESSION ? c.p.second_factor : "complete"));
out:
    mgmt_call_end(&c);
}

/* Disables one's second factor with a code or a recovery code; refused while required. */
static void
mgmt_v2_user_totp_delete(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"code", "recovery_code", NULL};
    const char *code, *recovery;
    unsigned long long step;
    TWOFACTOR_STATE st;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0)
        goto out;
    mgmt_check_known(&c, known);
    factor_fields(&c, 1, &code, &recovery);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = twofactor_state(c.db, c.p.user_id, &st)) <= 0) {
        mgmt_reply_db(&c, "second factor state", ret < 0 ? ret : DB_ERR_PERM);
        goto out;
    }
    if (!st.enabled) {
        mgmt_reply_not_found(&c, "second factor (none is enabled)");
        goto out;
    }
    if (st.required_user || st.required_org) {
        mgmt_reply_conflict(&c, "TwoFactorRequired", st.required_org
                            ? "An organization you belong to requires a second factor: it cannot be disabled."
                            : "An administrator requires a second factor of this account: it cannot be disabled.", NULL);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0 || (ret = factor_check(&c, code, recovery, 0, &step)) < 0)
        goto out;
    if (ret == FACTOR_WRONG) {
        reply_wrong_factor(&c, code);
        goto out;
    }
    if ((ret = twofactor_remove(c.db, c.p.user_id)) < 0) {
        mgmt_reply_db(&c, "second factor remove", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: disabled two-factor sign-in", c.p.user_id);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:b}", "enabled", 0));
out:
    mgmt_call_end(&c);
}

/* Ten new recovery codes (the old ones stop working), confirmed with a code. */
static void
mgmt_v2_user_totp_recovery(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"code", NULL};
    const char *code, *recovery;
    unsigned long long step;
    json_t *codes;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0)
        goto out;
    mgmt_check_known(&c, known);
    factor_fields(&c, 0, &code, &recovery);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0 || (ret = factor_check(&c, code, NULL, 0, &step)) < 0)
        goto out;
    if (ret == FACTOR_WRONG) {
        reply_wrong_factor(&c, code);
        goto out;
    }
    if ((codes = recovery_renew(&c)) == NULL)
        goto out;
    if (mgmt_txn_commit(&c) < 0) {
        json_decref(codes);
        goto out;
    }
    msg_info("user %llu: made new recovery codes", c.p.user_id);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "recovery_codes", codes));
out:
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- administrators, for others */

/*
 * The user of path argument 0 (uuid or e-mail address) if c's principal may manage their
 * second factor (see the header): 0 with *u, -1 when answered (404, 403, database error).
 */
static int
load_managed_user(MGMT_CALL *c, USER *u)
{
    const char *who = http_path_arg(c->req, 0);
    char *email = mgmt_lowercase(who);
    DB_ROWS orgs = {0};
    int ret, allowed = 0;

    ret = user_find(c->db, auth_uuid_ok(who) ? who : NULL, email, u);
    mem_free(email);
    if (ret <= 0) {
        if (ret < 0)
            mgmt_reply_db(c, "user lookup", ret);
        else
            mgmt_reply_not_found(c, "user");
        return -1;
    }
    if (c->p.is_admin)
        return 0;
    if ((ret = org_list_for_user(c->db, u->id, 0, &orgs)) < 0) {
        mgmt_reply_db(c, "organization lookup", ret);
        return -1;
    }
    for (size_t i = 0; i < orgs.n && !allowed; i++) {
        const ORG_ROW *o = (const ORG_ROW *) orgs.v + i;
        AUTH_ROLE mine, theirs = AUTH_ROLE_NONE;

        if (o->role == NULL || auth_role_parse(o->role, &theirs) < 0)
            continue;
        if ((ret = auth_org_role(c->db, &c->p, o->id, &mine)) < 0) {
            db_rows_free(&orgs);
            mgmt_reply_db(c, "role lookup", ret);
            return -1;
        }
        allowed = mine >= AUTH_ROLE_ADMIN && (theirs < AUTH_ROLE_OWNER || mine == AUTH_ROLE_OWNER);
    }
    db_rows_free(&orgs);
    if (!allowed) {
        mgmt_reply_not_found(c, "user");
        return -1;
    }
    if (u->admin) {
        mgmt_reply_forbidden(c, "Only installation administrators manage an installation administrator's second factor.");
        return -1;
    }
    return 0;
}

static void
reply_managed(MGMT_CALL *c, const USER *u, unsigned status, json_t *extra)
{
    TWOFACTOR_STATE st;
    json_t *who;
    int ret;

    if ((ret = twofactor_state(c->db, u->id, &st)) <= 0) {
        json_decref(extra);
        mgmt_reply_db(c, "second factor state", ret < 0 ? ret : DB_ERR_PERM);
        return;
    }
    who = mgmt_person_json(u->uuid, u->email, u->first_name, u->last_name);
    if (extra == NULL)
        extra = json_object();
    json_object_set_new(extra, "user", who);
    json_object_set_new(extra, "totp", state_json(&st));
    mgmt_reply_ok(c, status, extra);
}

static void
mgmt_v2_users_totp_get(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;
    USER u;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && load_managed_user(&c, &u) == 0)
        reply_managed(&c, &u, MHD_HTTP_OK, NULL);
    mgmt_call_end(&c);
}

/* {"required": true|false}: the user's own requirement (an organization's is its own). */
static void
mgmt_v2_users_totp_patch(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"required", NULL};
    MGMT_CALL c;
    USER u;
    int required, ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || load_managed_user(&c, &u) != 0)
        goto out;
    mgmt_check_known(&c, known);
    required = mgmt_field_bool(&c, "required");
    if (required < 0 && !json_object_get(c.errors, "required"))
        mgmt_field_error(&c, "required", "is required (true or false)");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = twofactor_set_required(c.db, u.id, required)) <= 0) {
        mgmt_reply_db(&c, "second factor requirement", ret < 0 ? ret : DB_ERR_PERM);
        goto out;
    }
    msg_info("user %llu: %s a second factor of user %llu", c.p.user_id, required ? "requires" : "no longer requires", u.id);
    reply_managed(&c, &u, MHD_HTTP_OK, NULL);
out:
    mgmt_call_end(&c);
}

/* Removes the user's secret and recovery codes (a lost phone): they sign in with their
 * password alone next time, or enrol again first when a second factor is required. */
static void
mgmt_v2_users_totp_delete(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;
    USER u;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || load_managed_user(&c, &u) != 0)
        goto out;
    if ((ret = twofactor_remove(c.db, u.id)) < 0) {
        mgmt_reply_db(&c, "second factor reset", ret);
        goto out;
    }
    msg_info("user %llu: reset the second factor of user %llu%s", c.p.user_id, u.id, ret ? "" : " (there was none)");
    reply_managed(&c, &u, MHD_HTTP_OK, json_pack("{s:b}", "reset", ret > 0));
out:
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_totp_routes[] = {
    {"POST", "/api/v2/session/totp", mgmt_v2_session_totp},
    {"GET", "/api/v2/user/totp", mgmt_v2_user_totp_get},
    {"POST", "/api/v2/user/totp", mgmt_v2_user_totp_begin},
    {"POST", "/api/v2/user/totp/confirm", mgmt_v2_user_totp_confirm},
    {"DELETE", "/api/v2/user/totp", mgmt_v2_user_totp_delete},
    {"POST", "/api/v2/user/totp/recovery-codes", mgmt_v2_user_totp_recovery},
    {"GET", "/api/v2/users/{}/totp", mgmt_v2_users_totp_get},
    {"PATCH", "/api/v2/users/{}/totp", mgmt_v2_users_totp_patch},
    {"DELETE", "/api/v2/users/{}/totp", mgmt_v2_users_totp_delete},
    {NULL, NULL, NULL},
};
