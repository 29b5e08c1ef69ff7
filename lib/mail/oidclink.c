/*
 * oidclink.c -- pre-login records and users' OpenID links (oidclink.h).
 *
 * This module owns the SQL on oidc_logins and on users.oidc_issuer/oidc_uid. It logs
 * nothing: the caller logs what a sign-in matched, without secrets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/oidclink.h"
#include "util/mem.h"

#define USER_COLUMNS "u.id, u.uuid, u.email, u.first_name, u.last_name, u.admin"

static void
copy_field(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

int
oidclink_prelogin_create(DB *db, const char *state_hash, const char *nonce, const char *code_verifier,
                         long long lifetime)
{
    int ret;

    /* The table stays bounded without a sweeper: every start removes the expired records. */
    (void) db_exec(db, "DELETE FROM oidc_logins WHERE expires_at < UTC_TIMESTAMP(6) LIMIT 1000", NULL, 0);
    ret = db_exec(db, "INSERT INTO oidc_logins (state_hash, nonce, code_verifier, created_at, expires_at) "
                  "VALUES (?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL ? SECOND)",
                  DB_ARGS(DB_STR(state_hash), DB_STR(nonce), DB_STR(code_verifier), DB_INT(lifetime)));
    return ret > 0 ? 1 : ret < 0 ? ret : DB_ERR_PERM;
}

typedef struct take_txn {
    const char *state_hash;
    char *nonce, *verifier;
} TAKE_TXN;

/* 1 taken (and deleted), 0 none, expired or taken by a concurrent callback, or < 0. */
static int
take_txn(DB *db, void *arg)
{
    const TAKE_TXN *t = arg;
    DB_RESULT *res = NULL;
    int ret, del;

    t->nonce[0] = t->verifier[0] = '\0';
    ret = db_query(db, &res, "SELECT nonce, code_verifier, expires_at >= UTC_TIMESTAMP(6) FROM oidc_logins "
                   "WHERE state_hash = ? FOR UPDATE", DB_ARGS(DB_STR(t->state_hash)));
    if (ret > 0) {
        copy_field(t->nonce, OIDCLINK_NONCE_MAX + 1, db_result_get(res, 0, 0));
        copy_field(t->verifier, OIDCLINK_VERIFIER_MAX + 1, db_result_get(res, 0, 1));
        if (atoi(db_result_get(res, 0, 2)) == 0)
            ret = 0;            /* expired: deleted below all the same */
        del = db_exec(db, "DELETE FROM oidc_logins WHERE state_hash = ?", DB_ARGS(DB_STR(t->state_hash)));
        if (del < 0)
            ret = del;
        else if (del == 0)
            ret = 0;            /* taken by a concurrent callback */
    }
    db_result_free(res);
    return ret < 0 ? ret : ret > 0;
}

int
oidclink_prelogin_take(DB *db, const char *state_hash, char nonce_r[OIDCLINK_NONCE_MAX + 1],
                       char verifier_r[OIDCLINK_VERIFIER_MAX + 1])
{
    TAKE_TXN t = {.state_hash = state_hash, .nonce = nonce_r, .verifier = verifier_r};
    int ret = db_transaction(db, take_txn, &t);

    if (ret <= 0)
        nonce_r[0] = verifier_r[0] = '\0';
    return ret;
}

int
oidclink_user_by_subject(DB *db, const char *issuer, const char *subject, USER *out)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT " USER_COLUMNS " FROM users u WHERE u.oidc_issuer = ? AND u.oidc_uid = ? "
                       "AND u.deleted_at IS NULL", DB_ARGS(DB_STR(issuer), DB_STR(subject)));

    if (ret > 0) {
        out->id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        copy_field(out->uuid, sizeof(out->uuid), db_result_get(res, 0, 1));
        copy_field(out->email, sizeof(out->email), db_result_get(res, 0, 2));
        copy_field(out->first_name, sizeof(out->first_name), db_result_get(res, 0, 3));
        copy_field(out->last_name, sizeof(out->last_name), db_result_get(res, 0, 4));
        out->admin = atoi(db_result_get(res, 0, 5)) != 0;
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
oidclink_link(DB *db, unsigned long long user_id, const char *issuer, const char *subject)
{
    int ret = db_exec(db, "UPDATE users SET oidc_issuer = ?, oidc_uid = ?, password_hash = NULL, "
                      "password_reset_token_hash = NULL, password_reset_expires_at = NULL, updated_at = UTC_TIMESTAMP(6) "
                      "WHERE id = ? AND deleted_at IS NULL AND oidc_uid IS NULL",
                      DB_ARGS(DB_STR(issuer), DB_STR(subject), DB_UINT(user_id)));

    return ret > 0 ? 1 : ret;
}

int
oidclink_is_linked(DB *db, unsigned long long user_id)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT oidc_uid IS NOT NULL FROM users WHERE id = ? AND deleted_at IS NULL",
                       DB_ARGS(DB_UINT(user_id)));

    if (ret > 0)
        ret = atoi(db_result_get(res, 0, 0)) != 0;
    db_result_free(res);
    return ret;
}
