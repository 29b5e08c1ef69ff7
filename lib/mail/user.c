/*
 * user.c -- users, login sessions and personal API tokens (user.h).
 *
 * This module owns the SQL on users, user_sessions and user_api_tokens. Only hashes of
 * secrets reach it (the caller hashes), and it logs nothing. A deleted user (deleted_at,
 * schema 006) is invisible to every lookup here but the deleted-user list and purge:
 * no sign-in, session, token or address lookup ever finds one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/user.h"
#include "mail/turn.h"
#include "util/mem.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"
/* The columns fill_user() reads, in its order. */
#define USER_COLUMNS "u.id, u.uuid, u.email, u.first_name, u.last_name, u.admin"

static void
copy_field(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* Fills out from USER_COLUMNS at columns first.. of res's first row. */
static void
fill_user(USER *out, const DB_RESULT *res, size_t first)
{
    out->id = strtoull(db_result_get(res, 0, first), NULL, 10);
    copy_field(out->uuid, sizeof(out->uuid), db_result_get(res, 0, first + 1));
    copy_field(out->email, sizeof(out->email), db_result_get(res, 0, first + 2));
    copy_field(out->first_name, sizeof(out->first_name), db_result_get(res, 0, first + 3));
    copy_field(out->last_name, sizeof(out->last_name), db_result_get(res, 0, first + 4));
    out->admin = atoi(db_result_get(res, 0, first + 5)) != 0;
}

/* ---------------------------------------------------------------- users */

int
user_create(DB *db, const USER_NEW *u, unsigned long long *id_r)
{
    int ret = db_exec(db, "INSERT INTO users (uuid, email, first_name, last_name, password_hash, admin, "
                      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
                      DB_ARGS(DB_STR(u->uuid), DB_STR(u->email), DB_STR(u->first_name), DB_STR(u->last_name),
                              DB_STR(u->password_hash), DB_INT(u->admin)));

    if (ret < 0 && db_errno(db) == DB_ER_DUP_ENTRY)
        return 0;
    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    return 1;
}

int
user_id_by_email(DB *db, const char *email, unsigned long long *id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT id FROM users WHERE live_email = ?", DB_ARGS(DB_STR(email)));

    if (ret > 0)
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
user_login_lookup(DB *db, const char *email, USER *out, char **password_hash_r)
{
    DB_RESULT *res = NULL;
    const char *hash;
    int ret = db_query(db, &res, "SELECT u.password_hash, " USER_COLUMNS " FROM users u WHERE u.live_email = ?",
                       DB_ARGS(DB_STR(email)));

    *password_hash_r = NULL;
    if (ret > 0) {
        hash = db_result_get(res, 0, 0);
        *password_hash_r = hash ? mem_strdup(hash) : NULL;
        fill_user(out, res, 1);
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
user_record_login(DB *db, unsigned long long user_id)
{
    int ret = db_exec(db, "UPDATE users SET last_login_at = UTC_TIMESTAMP(6) WHERE id = ?", DB_ARGS(DB_UINT(user_id)));

    return ret > 0 ? 1 : ret;
}

/* ---------------------------------------------------------------- sessions */

int
user_session_create(DB *db, const USER_SESSION_NEW *s, unsigned long long *id_r, char expires_at_r[32])
{
    DB_RESULT *res = NULL;
    int ret = db_exec(db, "INSERT INTO user_sessions (user_id, token_hash, csrf_token_hash, second_factor, ip, user_agent, "
                      "created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), "
                      "UTC_TIMESTAMP(6) + INTERVAL ? SECOND)",
                      DB_ARGS(DB_UINT(s->user_id), DB_STR(s->token_hash), DB_STR(s->csrf_token_hash),
                              DB_STR(s->second_factor ? s->second_factor : "complete"), DB_STR(s->ip),
                              DB_STR(s->user_agent), DB_INT(s->lifetime)));

    expires_at_r[0] = '\0';
    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    if (db_query(db, &res, "SELECT " TS("expires_at") " FROM user_sessions WHERE id = ?", DB_ARGS(DB_UINT(*id_r))) > 0)
        copy_field(expires_at_r, 32, db_result_get(res, 0, 0));
    db_result_free(res);
    return 1;
}

int
user_session_find(DB *db, const char *token_hash, USER_SESSION *out)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT s.id, s.csrf_token_hash, TIMESTAMPDIFF(SECOND, s.last_seen_at, UTC_TIMESTAMP(6)), "
                       TS("s.expires_at") ", s.second_factor, " USER_COLUMNS " FROM user_sessions s JOIN users u ON u.id = s.user_id "
                       "WHERE s.token_hash = ? AND s.expires_at > UTC_TIMESTAMP(6) AND u.deleted_at IS NULL", DB_ARGS(DB_STR(token_hash)));

    if (ret > 0) {
        memset(out, 0, sizeof(*out));
        out->id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        copy_field(out->csrf_token_hash, sizeof(out->csrf_token_hash), db_result_get(res, 0, 1));
        out->idle_seconds = strtoll(db_result_get(res, 0, 2), NULL, 10);
        copy_field(out->expires_at, sizeof(out->expires_at), db_result_get(res, 0, 3));
        copy_field(out->second_factor, sizeof(out->second_factor), db_result_get(res, 0, 4));
        fill_user(&out->user, res, 5);
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
user_session_set_factor(DB *db, unsigned long long id, const char *state)
{
    int ret = db_exec(db, "UPDATE user_sessions SET second_factor = ? WHERE id = ?", DB_ARGS(DB_STR(state), DB_UINT(id)));

    return ret > 0 ? 1 : ret;
}

int
user_session_extend(DB *db, unsigned long long id, long long lifetime)
{
    int ret = db_exec(db, "UPDATE user_sessions SET last_seen_at = UTC_TIMESTAMP(6), "
                      "expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE id = ?",
                      DB_ARGS(DB_INT(lifetime), DB_UINT(id)));

    return ret > 0 ? 1 : ret;
}

int
user_session_delete(DB *db, unsigned long long id, unsigned long long user_id)
{
    int ret = db_exec(db, "DELETE FROM user_sessions WHERE id = ? AND user_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(user_id)));

    return ret > 0 ? 1 : ret;
}

int
user_session_delete_hash(DB *db, const char *token_hash)
{
    int ret = db_exec(db, "DELETE FROM user_sessions WHERE token_hash = ?", DB_ARGS(DB_STR(token_hash)));

    return ret > 0 ? 1 : ret;
}

int
user_session_purge_expired(DB *db, unsigned long long user_id)
{
    return db_exec(db, "DELETE FROM user_sessions WHERE user_id = ? AND expires_at < UTC_TIMESTAMP(6)",
                   DB_ARGS(DB_UINT(user_id)));
}

/* ---------------------------------------------------------------- API tokens */

int
user_token_create(DB *db, unsigned long long user_id, const char *uuid, const char *name, const char *token_hash,
                  const char *token_prefix)
{
    int ret = db_exec(db, "INSERT INTO user_api_tokens (uuid, user_id, name, token_hash, token_prefix, created_at) "
                      "VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
                      DB_ARGS(DB_STR(uuid), DB_UINT(user_id), DB_STR(name), DB_STR(token_hash), DB_STR(token_prefix)));

    return ret < 0 ? ret : 1;
}

int
user_token_find(DB *db, const char *token_hash, unsigned long long *token_id_r, USER *owner)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT t.id, " USER_COLUMNS " FROM user_api_tokens t JOIN users u ON u.id = t.user_id "
                       "WHERE t.token_hash = ? AND (t.expires_at IS NULL OR t.expires_at > UTC_TIMESTAMP(6)) AND u.deleted_at IS NULL",
                       DB_ARGS(DB_STR(token_hash)));

    if (ret > 0) {
        *token_id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        fill_user(owner, res, 1);
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

#define TOKEN_COL(kind, field) DB_COL_AT(kind, USER_TOKEN_ROW, field)
static const DB_COL token_cols[] = {
    TOKEN_COL(DB_COL_STR, uuid), TOKEN_COL(DB_COL_STR, name), TOKEN_COL(DB_COL_STR, prefix),
    TOKEN_COL(DB_COL_STR, created_at), TOKEN_COL(DB_COL_STR, last_used_at), TOKEN_COL(DB_COL_STR, expires_at),
};
#define TOKEN_SELECT "SELECT uuid, name, token_prefix, " TS("created_at") ", " TS("last_used_at") ", " \
    TS("expires_at") " FROM user_api_tokens WHERE user_id = ? "

int
user_token_list(DB *db, unsigned long long user_id, const char *uuid, DB_ROWS *rows)
{
    if (uuid)
        return db_query_rows(db, rows, token_cols, sizeof(token_cols) / sizeof(token_cols[0]), sizeof(USER_TOKEN_ROW),
                             TOKEN_SELECT "AND uuid = ?", DB_ARGS(DB_UINT(user_id), DB_STR(uuid)));
    return db_query_rows(db, rows, token_cols, sizeof(token_cols) / sizeof(token_cols[0]), sizeof(USER_TOKEN_ROW),
                         TOKEN_SELECT "ORDER BY created_at, id", DB_ARGS(DB_UINT(user_id)));
}

int
user_token_revoke(DB *db, unsigned long long user_id, const char *uuid)
{
    int ret = db_exec(db, "DELETE FROM user_api_tokens WHERE user_id = ? AND uuid = ?",
                      DB_ARGS(DB_UINT(user_id), DB_STR(uuid)));

    return ret > 0 ? 1 : ret;
}

int
user_token_touch(DB *db, const USELOG_ENTRY *uses, size_t n, size_t *done_r)
{
    int ret = 0, updated = 0;

    for (*done_r = 0; *done_r < n; (*done_r)++) {
        ret = db_exec(db, "UPDATE user_api_tokens SET last_used_at = FROM_UNIXTIME(?) "
                      "WHERE id = ? AND (last_used_at IS NULL OR last_used_at < FROM_UNIXTIME(?))",
                      DB_ARGS(DB_INT(uses[*done_r].when), DB_UINT(uses[*done_r].id), DB_INT(uses[*done_r].when)));
        if (ret < 0)
            return ret;
        updated += ret;
    }
    return updated;
}

/* ---------------------------------------------------------------- profile and password */

int
user_get(DB *db, unsigned long long user_id, USER *out)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT " USER_COLUMNS " FROM users u WHERE u.id = ? AND u.deleted_at IS NULL", DB_ARGS(DB_UINT(user_id)));

    if (ret > 0)
        fill_user(out, res, 0);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
user_find(DB *db, const char *uuid, const char *email, USER *out)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT " USER_COLUMNS " FROM users u WHERE u.deleted_at IS NULL AND (u.uuid = ? OR u.live_email = ?) LIMIT 1",
                       DB_ARGS(DB_STR(uuid), DB_STR(email)));

    if (ret > 0)
        fill_user(out, res, 0);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
user_set_names(DB *db, unsigned long long user_id, const char *first_name, const char *last_name)
{
    int ret = db_exec(db, "UPDATE users SET first_name = COALESCE(?, first_name), last_name = COALESCE(?, last_name), "
                      "updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND deleted_at IS NULL",
                      DB_ARGS(DB_STR(first_name), DB_STR(last_name), DB_UINT(user_id)));

    return ret > 0 ? 1 : ret;
}

int
user_password_get(DB *db, unsigned long long user_id, char **hash_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT password_hash FROM users WHERE id = ? AND deleted_at IS NULL", DB_ARGS(DB_UINT(user_id)));

    *hash_r = NULL;
    if (ret > 0 && db_result_get(res, 0, 0))
        *hash_r = mem_strdup(db_result_get(res, 0, 0));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
user_password_set(DB *db, unsigned long long user_id, const char *password_hash)
{
    int ret = db_exec(db, "UPDATE users SET password_hash = ?, password_reset_token_hash = NULL, "
                      "password_reset_expires_at = NULL, updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND deleted_at IS NULL",
                      DB_ARGS(DB_STR(password_hash), DB_UINT(user_id)));

    return ret > 0 ? 1 : ret;
}

int
user_session_delete_others(DB *db, unsigned long long user_id, unsigned long long keep_session_id)
{
    return db_exec(db, "DELETE FROM user_sessions WHERE user_id = ? AND id <> ?",
                   DB_ARGS(DB_UINT(user_id), DB_UINT(keep_session_id)));
}

/* ---------------------------------------------------------------- deletion and purge */

int
user_lock_live(DB *db, unsigned long long user_id, int *admin_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT admin FROM users WHERE id = ? AND deleted_at IS NULL FOR UPDATE",
                       DB_ARGS(DB_UINT(user_id)));

    if (ret > 0)
        *admin_r = atoi(db_result_get(res, 0, 0)) != 0;
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
user_count_admins(DB *db)
{
    DB_RESULT *res = NULL;
    /* The administrators' turn, then locked: two admins deleting themselves at once cannot
     * both see the other left, on one node or on two nodes of a Galera cluster (turn.h). */
    int ret = turn_take(db, TURN_ADMINS, 0);

    if (ret < 0)
        return ret;
    ret = db_query(db, &res, "SELECT id FROM users WHERE admin = 1 AND deleted_at IS NULL FOR UPDATE", DB_NOARGS);

    db_result_free(res);
    return ret;
}

int
user_soft_delete(DB *db, unsigned long long user_id, int *sessions_r, int *tokens_r)
{
    int ret;

    *sessions_r = *tokens_r = 0;
    if ((ret = db_exec(db, "DELETE FROM user_sessions WHERE user_id = ?", DB_ARGS(DB_UINT(user_id)))) < 0)
        return ret;
    *sessions_r = ret;
    if ((ret = db_exec(db, "DELETE FROM user_api_tokens WHERE user_id = ?", DB_ARGS(DB_UINT(user_id)))) < 0)
        return ret;
    *tokens_r = ret;
    /* Every credential goes with the account; live_email becomes NULL (the address is free). */
    ret = db_exec(db, "UPDATE users SET deleted_at = UTC_TIMESTAMP(6), password_hash = NULL, admin = 0, "
                  "oidc_issuer = NULL, oidc_uid = NULL, password_reset_token_hash = NULL, "
                  "password_reset_expires_at = NULL, updated_at = UTC_TIMESTAMP(6) "
                  "WHERE id = ? AND deleted_at IS NULL", DB_ARGS(DB_UINT(user_id)));
    return ret > 0 ? 1 : ret;
}

int
user_find_uuid(DB *db, const char *uuid, unsigned long long *id_r, int *deleted_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT id, deleted_at IS NOT NULL FROM users WHERE uuid = ?", DB_ARGS(DB_STR(uuid)));

    if (ret > 0) {
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        *deleted_r = atoi(db_result_get(res, 0, 1));
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

#define DELETED_COL(kind, field) DB_COL_AT(kind, USER_DELETED_ROW, field)
static const DB_COL deleted_cols[] = {
    DELETED_COL(DB_COL_STR, uuid), DELETED_COL(DB_COL_STR, email), DELETED_COL(DB_COL_STR, first_name),
    DELETED_COL(DB_COL_STR, last_name), DELETED_COL(DB_COL_STR, deleted_at),
    DELETED_COL(DB_COL_NUM, owned_organizations),
};

int
user_list_deleted(DB *db, DB_ROWS *rows)
{
    return db_query_rows(db, rows, deleted_cols, sizeof(deleted_cols) / sizeof(deleted_cols[0]),
                         sizeof(USER_DELETED_ROW),
                         "SELECT u.uuid, u.email, u.first_name, u.last_name, " TS("u.deleted_at") ", "
                         "(SELECT COUNT(*) FROM organizations o WHERE o.owner_id = u.id) FROM users u "
                         "WHERE u.deleted_at IS NOT NULL ORDER BY u.deleted_at, u.id", DB_NOARGS);
}

#define LIST_COL(kind, field) DB_COL_AT(kind, USER_LIST_ROW, field)
static const DB_COL list_cols[] = {
    LIST_COL(DB_COL_STR, uuid), LIST_COL(DB_COL_STR, email), LIST_COL(DB_COL_STR, first_name),
    LIST_COL(DB_COL_STR, last_name), LIST_COL(DB_COL_BOOL, admin), LIST_COL(DB_COL_BOOL, oidc),
    LIST_COL(DB_COL_STR, last_login_at), LIST_COL(DB_COL_STR, created_at),
};

int
user_list(DB *db, const char *uuid, DB_ROWS *rows)
{
    return db_query_rows(db, rows, list_cols, sizeof(list_cols) / sizeof(list_cols[0]), sizeof(USER_LIST_ROW),
                         "SELECT uuid, email, first_name, last_name, admin, oidc_uid IS NOT NULL, "
                         TS("last_login_at") ", " TS("created_at") " FROM users "
                         "WHERE deleted_at IS NULL AND (? IS NULL OR uuid = ?) ORDER BY email",
                         DB_ARGS(uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL));
}

int
user_set_admin(DB *db, unsigned long long user_id, int admin)
{
    /* The count of the other live admins goes through a derived table (MariaDB reads the
     * table being updated no other way); granting needs no such check. */
    int ret = db_exec(db, "UPDATE users SET admin = ? WHERE id = ? AND deleted_at IS NULL AND (? = 1 OR "
                      "(SELECT n FROM (SELECT COUNT(*) AS n FROM users WHERE admin = 1 AND deleted_at IS NULL "
                      "AND id <> ?) others) > 0)",
                      DB_ARGS(DB_INT(admin != 0), DB_UINT(user_id), DB_INT(admin != 0), DB_UINT(user_id)));

    return ret > 0 ? 1 : ret;
}

int
user_purge(DB *db, unsigned long long user_id)
{
    int ret = db_exec(db, "DELETE FROM users WHERE id = ? AND deleted_at IS NOT NULL", DB_ARGS(DB_UINT(user_id)));

    return ret > 0 ? 1 : ret;
}

/* ---------------------------------------------------------------- invitations */

int
user_invite_create(DB *db, unsigned long long org_id, const char *uuid, const char *email, const char *role,
                   const char *token_hash, unsigned long long invited_by, long long lifetime)
{
    int ret = db_exec(db, "INSERT INTO user_invites (uuid, organization_id, email, role, token_hash, invited_by_id, "
                      "expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, "
                      "UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE uuid = VALUES(uuid), role = VALUES(role), "
                      "token_hash = VALUES(token_hash), invited_by_id = VALUES(invited_by_id), "
                      "expires_at = VALUES(expires_at), created_at = VALUES(created_at)",
                      DB_ARGS(DB_STR(uuid), DB_UINT(org_id), DB_STR(email), DB_STR(role), DB_STR(token_hash),
                              invited_by ? DB_UINT(invited_by) : DB_NULL, DB_INT(lifetime)));

    return ret < 0 ? ret : 1;
}

int
user_invite_find(DB *db, const char *token_hash, USER_INVITE *out)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT id, organization_id, uuid, email, role FROM user_invites "
                       "WHERE token_hash = ? AND expires_at > UTC_TIMESTAMP(6) FOR UPDATE", DB_ARGS(DB_STR(token_hash)));

    if (ret > 0) {
        out->id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        out->org_id = strtoull(db_result_get(res, 0, 1), NULL, 10);
        copy_field(out->uuid, sizeof(out->uuid), db_result_get(res, 0, 2));
        copy_field(out->email, sizeof(out->email), db_result_get(res, 0, 3));
        copy_field(out->role, sizeof(out->role), db_result_get(res, 0, 4));
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

#define INVITE_COL(kind, field) DB_COL_AT(kind, USER_INVITE_ROW, field)
static const DB_COL invite_cols[] = {
    INVITE_COL(DB_COL_STR, uuid), INVITE_COL(DB_COL_STR, email), INVITE_COL(DB_COL_STR, role),
    INVITE_COL(DB_COL_STR, invited_by), INVITE_COL(DB_COL_STR, expires_at), INVITE_COL(DB_COL_STR, created_at),
};

int
user_invite_list(DB *db, unsigned long long org_id, const char *uuid, DB_ROWS *rows)
{
    return db_query_rows(db, rows, invite_cols, sizeof(invite_cols) / sizeof(invite_cols[0]), sizeof(USER_INVITE_ROW),
                         "SELECT i.uuid, i.email, i.role, u.email, " TS("i.expires_at") ", " TS("i.created_at")
                         " FROM user_invites i LEFT JOIN users u ON u.id = i.invited_by_id "
                         "WHERE i.organization_id = ? AND (? IS NULL OR i.uuid = ?) ORDER BY i.email",
                         DB_ARGS(DB_UINT(org_id), DB_STR(uuid), DB_STR(uuid)));
}

int
user_invite_delete(DB *db, unsigned long long org_id, const char *uuid, unsigned long long id)
{
    int ret = uuid ? db_exec(db, "DELETE FROM user_invites WHERE organization_id = ? AND uuid = ?",
                             DB_ARGS(DB_UINT(org_id), DB_STR(uuid)))
        : db_exec(db, "DELETE FROM user_invites WHERE id = ?", DB_ARGS(DB_UINT(id)));

    return ret > 0 ? 1 : ret;
}
