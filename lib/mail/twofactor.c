/*
 * twofactor.c -- TOTP secrets, recovery codes and the requirement flags (twofactor.h).
 *
 * This module owns the SQL on user_totp and user_recovery_codes and on users.totp_required.
 * It seals and unseals the secret (context "totp:<user id>") and never sees a code: the
 * caller checks codes (admin/otp.c) and hands over the time step or a recovery code's
 * keyed hash. It logs nothing secret.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/twofactor.h"
#include "util/mem.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"
#define RECOVERY_CONTEXT "totp-recovery"

static void
seal_context(unsigned long long user_id, char out[48])
{
    snprintf(out, 48, "totp:%llu", user_id);
}

int
twofactor_state(DB *db, unsigned long long user_id, TWOFACTOR_STATE *st)
{
    DB_RESULT *res = NULL;
    const char *at;
    int ret = db_query(db, &res, "SELECT t.confirmed_at IS NOT NULL, t.user_id IS NOT NULL AND t.confirmed_at IS NULL, "
                       TS("t.confirmed_at") ", u.totp_required, "
                       "EXISTS (SELECT 1 FROM organization_users ou JOIN organizations o ON o.id = ou.organization_id "
                       "WHERE ou.user_id = u.id AND o.require_two_factor = 1 AND o.deleted_at IS NULL), "
                       "(SELECT COUNT(*) FROM user_recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) "
                       "FROM users u LEFT JOIN user_totp t ON t.user_id = u.id WHERE u.id = ? AND u.deleted_at IS NULL",
                       DB_ARGS(DB_UINT(user_id)));

    memset(st, 0, sizeof(*st));
    if (ret > 0) {
        st->enabled = atoi(db_result_get(res, 0, 0) ? db_result_get(res, 0, 0) : "0") != 0;
        st->pending = atoi(db_result_get(res, 0, 1) ? db_result_get(res, 0, 1) : "0") != 0;
        at = db_result_get(res, 0, 2);
        snprintf(st->confirmed_at, sizeof(st->confirmed_at), "%s", at ? at : "");
        st->required_user = atoi(db_result_get(res, 0, 3)) != 0;
        st->required_org = atoi(db_result_get(res, 0, 4)) != 0;
        st->recovery_left = atoi(db_result_get(res, 0, 5));
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
twofactor_login_state(DB *db, unsigned long long user_id, const char **state_r)
{
    TWOFACTOR_STATE st;
    int ret = twofactor_state(db, user_id, &st);

    if (ret > 0)
        *state_r = st.enabled ? "code" : st.required_user || st.required_org ? "enrol" : "complete";
    return ret;
}

int
twofactor_begin(DB *db, const SEAL_KEY *seal, unsigned long long user_id, const void *secret, size_t len)
{
    char context[48];
    BUF *sealed = buf_new(128);
    int ret;

    seal_context(user_id, context);
    if (seal_encrypt(seal, context, secret, len, sealed) < 0) {
        buf_free(sealed);
        return DB_ERR_TEMP;
    }
    /* An unconfirmed secret is replaced; a confirmed one is left alone (0 rows). */
    ret = db_exec(db, "INSERT INTO user_totp (user_id, secret_sealed, confirmed_at, last_step) VALUES (?, ?, NULL, NULL) "
                  "ON DUPLICATE KEY UPDATE secret_sealed = IF(confirmed_at IS NULL, VALUES(secret_sealed), secret_sealed), "
                  "updated_at = IF(confirmed_at IS NULL, UTC_TIMESTAMP(6), updated_at)",
                  DB_ARGS(DB_UINT(user_id), DB_BLOB(buf_data(sealed), buf_len(sealed))));
    buf_free(sealed);
    return ret > 0 ? 1 : ret;
}

int
twofactor_secret(DB *db, const SEAL_KEY *seal, unsigned long long user_id, int unconfirmed, BUF *out,
                 unsigned long long *last_step_r)
{
    DB_RESULT *res = NULL;
    char context[48];
    const char *last;
    int ret = db_query(db, &res, "SELECT secret_sealed, last_step FROM user_totp WHERE user_id = ? "
                       "AND (confirmed_at IS NULL) = ?", DB_ARGS(DB_UINT(user_id), DB_INT(unconfirmed != 0)));

    *last_step_r = 0;
    if (ret > 0) {
        seal_context(user_id, context);
        if (seal_decrypt(seal, context, db_result_get(res, 0, 0), db_result_len(res, 0, 0), out) < 0) {
            ret = DB_ERR_PERM;
        } else {
            last = db_result_get(res, 0, 1);
            *last_step_r = last ? strtoull(last, NULL, 10) : 0;
            ret = 1;
        }
    }
    db_result_free(res);
    return ret;
}

int
twofactor_use_step(DB *db, unsigned long long user_id, unsigned long long step)
{
    /* One statement: of two requests with the same code, only one moves last_step. */
    int ret = db_exec(db, "UPDATE user_totp SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL "
                      "AND (last_step IS NULL OR last_step < ?)", DB_ARGS(DB_UINT(step), DB_UINT(user_id), DB_UINT(step)));

    return ret > 0 ? 1 : ret;
}

int
twofactor_confirm(DB *db, unsigned long long user_id, unsigned long long step)
{
    int ret = db_exec(db, "UPDATE user_totp SET confirmed_at = UTC_TIMESTAMP(6), last_step = ? "
                      "WHERE user_id = ? AND confirmed_at IS NULL", DB_ARGS(DB_UINT(step), DB_UINT(user_id)));

    return ret > 0 ? 1 : ret;
}

int
twofactor_recovery_set(DB *db, unsigned long long user_id, char hashes[][65], size_t n)
{
    int ret = db_exec(db, "DELETE FROM user_recovery_codes WHERE user_id = ?", DB_ARGS(DB_UINT(user_id)));

    for (size_t i = 0; ret >= 0 && i < n; i++)
        ret = db_exec(db, "INSERT INTO user_recovery_codes (user_id, code_hash) VALUES (?, ?)",
                      DB_ARGS(DB_UINT(user_id), DB_STR(hashes[i])));
    return ret < 0 ? ret : 1;
}

int
twofactor_recovery_use(DB *db, unsigned long long user_id, const char *hash)
{
    int ret = db_exec(db, "UPDATE user_recovery_codes SET used_at = UTC_TIMESTAMP(6) "
                      "WHERE user_id = ? AND code_hash = ? AND used_at IS NULL", DB_ARGS(DB_UINT(user_id), DB_STR(hash)));

    return ret > 0 ? 1 : ret;
}

void
twofactor_recovery_hash(const SEAL_KEY *seal, unsigned long long user_id, const char *code, char out[65])
{
    char *text = mem_alloc(strlen(code) + 32);

    snprintf(text, strlen(code) + 32, "%llu:%s", user_id, code);
    seal_mac_hex(seal, RECOVERY_CONTEXT, text, strlen(text), out);
    explicit_bzero(text, strlen(text));
    mem_free(text);
}

int
twofactor_remove(DB *db, unsigned long long user_id)
{
    int codes = db_exec(db, "DELETE FROM user_recovery_codes WHERE user_id = ?", DB_ARGS(DB_UINT(user_id)));
    int ret = codes < 0 ? codes : db_exec(db, "DELETE FROM user_totp WHERE user_id = ?", DB_ARGS(DB_UINT(user_id)));

    return ret < 0 ? ret : ret > 0 || codes > 0;
}

int
twofactor_set_required(DB *db, unsigned long long user_id, int required)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT 1 FROM users WHERE id = ? AND deleted_at IS NULL FOR UPDATE",
                       DB_ARGS(DB_UINT(user_id)));

    db_result_free(res);
    if (ret <= 0)
        return ret;
    ret = db_exec(db, "UPDATE users SET totp_required = ? WHERE id = ?", DB_ARGS(DB_INT(required != 0), DB_UINT(user_id)));
    return ret < 0 ? ret : 1;
}
