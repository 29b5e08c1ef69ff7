/*
 * user.h -- people who use the web admin and the management API: users, their login
 * sessions (user_sessions) and their personal API tokens (user_api_tokens).
 *
 * Contract: secrets never come here. Session tokens, CSRF tokens and API tokens arrive
 * as their SHA-256 (hex), passwords as their argon2id hash; the caller makes them and
 * decides what they mean (admin/auth.c). Times go out as "YYYY-MM-DDTHH:MM:SSZ" (UTC).
 * Must never: log a hash, or compare a secret itself (the caller does, in constant time).
 */
#ifndef PG_USER_H
#define PG_USER_H

#include <stddef.h>
#include <time.h>

#include "mail/db.h"
#include "util/uselog.h"

/* What callers read of a user (longer values are cut to fit). */
typedef struct user {
    unsigned long long id;
    char uuid[37];
    char email[256];
    char first_name[256];
    char last_name[256];
    int admin;                  /* installation admin */
} USER;

/* A user to create; every field is required. */
typedef struct user_new {
    const char *uuid;           /* token_uuid() */
    const char *email;          /* in lowercase */
    const char *first_name;
    const char *last_name;
    const char *password_hash;  /* argon2id (password_hash()) */
    int admin;
} USER_NEW;

/* 1 created (*id_r), 0 the e-mail address is taken, < 0 database error (db_errno() tells, e.g. no such table). */
int user_create(DB *db, const USER_NEW *u, unsigned long long *id_r);
/* 1 found (*id_r), 0 no user has email (exact, so lowercase it), < 0 database error. */
int user_id_by_email(DB *db, const char *email, unsigned long long *id_r);
/* For a login: 1 found (*out, *password_hash_r mem_alloc'd or NULL when the user has none), 0 no such email, < 0 database error. */
int user_login_lookup(DB *db, const char *email, USER *out, char **password_hash_r);
/* Records a successful login now: 1 recorded, 0 no such user, < 0 database error. */
int user_record_login(DB *db, unsigned long long user_id);

/* ---------------------------------------------------------------- sessions */

typedef struct user_session {
    unsigned long long id;
    char csrf_token_hash[65];
    char second_factor[12];     /* "complete", "code" (to be given) or "enrol" (required, missing): schema 009 */
    long long idle_seconds;     /* since last_seen_at */
    char expires_at[32];
    USER user;
} USER_SESSION;

typedef struct user_session_new {
    unsigned long long user_id;
    const char *token_hash;
    const char *csrf_token_hash;
    const char *ip;
    const char *user_agent;     /* NULL: none */
    const char *second_factor;  /* "complete", "code" or "enrol" */
    long long lifetime;         /* seconds without use until it expires */
} USER_SESSION_NEW;

/* 1 opened (*id_r; expires_at_r, or "" when it could not be read back), < 0 database error. */
int user_session_create(DB *db, const USER_SESSION_NEW *s, unsigned long long *id_r, char expires_at_r[32]);
/* The live session of token_hash: 1 found (*out), 0 none or expired, < 0 database error. */
int user_session_find(DB *db, const char *token_hash, USER_SESSION *out);
/* Sets session id's second_factor ("complete", "code", "enrol"): 1 done, 0 no such session, < 0 database error. */
int user_session_set_factor(DB *db, unsigned long long id, const char *state);
/* Moves session id's last use to now and its expiry to now + lifetime: 1 moved, 0 no such session, < 0 database error. */
int user_session_extend(DB *db, unsigned long long id, long long lifetime);
/* Ends session id of user_id: 1 ended, 0 no such session, < 0 database error. */
int user_session_delete(DB *db, unsigned long long id, unsigned long long user_id);
/* Ends the session of token_hash: 1 ended, 0 no such session, < 0 database error. */
int user_session_delete_hash(DB *db, const char *token_hash);
/* Deletes user_id's expired sessions: the number deleted (0 none), < 0 database error. */
int user_session_purge_expired(DB *db, unsigned long long user_id);

/* ---------------------------------------------------------------- API tokens */

/* 1 created, < 0 database error. token_prefix is the visible start of the token. */
int user_token_create(DB *db, unsigned long long user_id, const char *uuid, const char *name, const char *token_hash,
                      const char *token_prefix);
/* The unexpired token of token_hash: 1 found (*token_id_r, *owner), 0 none, < 0 database error. */
int user_token_find(DB *db, const char *token_hash, unsigned long long *token_id_r, USER *owner);

/* An API token as listed (never its hash); times "YYYY-MM-DDTHH:MM:SSZ" or NULL when not set. */
typedef struct user_token_row {
    const char *uuid;
    const char *name;
    const char *prefix;
    const char *created_at;
    const char *last_used_at;
    const char *expires_at;
} USER_TOKEN_ROW;
/* user_id's tokens by creation (only token uuid when not NULL) as USER_TOKEN_ROWs into *rows
 * (db_rows_free it): the row count (0 none), < 0 database error. */
int user_token_list(DB *db, unsigned long long user_id, const char *uuid, DB_ROWS *rows);
/* Deletes user_id's token uuid: 1 deleted, 0 no such token of that user, < 0 database error. */
int user_token_revoke(DB *db, unsigned long long user_id, const char *uuid);

/* Records uses[] as last_used_at (never moving it back), in order, stopping at the first
 * failure: the rows changed (0 none), < 0 database error with *done_r uses written before it. */
int user_token_touch(DB *db, const USELOG_ENTRY *uses, size_t n, size_t *done_r);

/* ---------------------------------------------------------------- profile and password */

/* User id into *out: 1 found, 0 none, < 0 database error. */
int user_get(DB *db, unsigned long long user_id, USER *out);
/* User by uuid or by e-mail address (exact): 1 found (*out), 0 none, < 0 database error. */
int user_find(DB *db, const char *uuid, const char *email, USER *out);
/* Changes the names where not NULL: 1 done, 0 no such user, < 0 database error. */
int user_set_names(DB *db, unsigned long long user_id, const char *first_name, const char *last_name);
/* user_id's password hash: 1 with *hash_r (mem_free it; NULL when the user has none), 0 no such user. */
int user_password_get(DB *db, unsigned long long user_id, char **hash_r);
/* Sets user_id's password hash (and drops a pending reset): 1 done, 0 no such user. */
int user_password_set(DB *db, unsigned long long user_id, const char *password_hash);
/* Ends user_id's sessions but keep_session_id (0: all): the number ended, < 0 database error. */
int user_session_delete_others(DB *db, unsigned long long user_id, unsigned long long keep_session_id);

/* ---------------------------------------------------------------- deletion and purge (schema 006) */

/* Locks live user user_id until the transaction ends (new memberships of the user wait
 * for it too, through their foreign key): 1 (*admin_r), 0 no such live user, < 0. */
int user_lock_live(DB *db, unsigned long long user_id, int *admin_r);
/* The number of live installation admins, their rows locked until the transaction ends; < 0. */
int user_count_admins(DB *db);
/* Deletes user_id's account (in the caller's transaction): ends every session and API
 * token (*sessions_r, *tokens_r: how many), clears its credentials (password, OpenID
 * identity, reset token, admin flag) and marks it deleted, which frees its address.
 * Memberships are org.c's (org_memberships_remove). 1 done, 0 no such live user, < 0. */
int user_soft_delete(DB *db, unsigned long long user_id, int *sessions_r, int *tokens_r);
/* The user with uuid, deleted or not: 1 found (*id_r, *deleted_r), 0 none, < 0 database error. */
int user_find_uuid(DB *db, const char *uuid, unsigned long long *id_r, int *deleted_r);
/* A deleted user; deleted_at "YYYY-MM-DDTHH:MM:SSZ"; owned_organizations: the (deleted)
 * organizations still recorded as theirs, which must be purged before the user can be. */
typedef struct user_deleted_row {
    const char *uuid;
    const char *email;
    const char *first_name;
    const char *last_name;
    const char *deleted_at;
    long long owned_organizations;
} USER_DELETED_ROW;
/* A live user as the installation's user list shows them; times "YYYY-MM-DDTHH:MM:SSZ" or
 * NULL; oidc: linked to the OpenID provider (signs in there). */
typedef struct user_list_row {
    const char *uuid;
    const char *email;
    const char *first_name;
    const char *last_name;
    int admin;
    int oidc;
    const char *last_login_at;
    const char *created_at;
} USER_LIST_ROW;
/* The live users by e-mail address as USER_LIST_ROWs into *rows (db_rows_free it), only
 * uuid's when not NULL: the count, or < 0 database error. */
int user_list(DB *db, const char *uuid, DB_ROWS *rows);
/* Grants (admin 1) or revokes installation admin of live user_id. Revoking the last live
 * admin is refused: 1 done, 0 refused (or no such live user), < 0 database error. */
int user_set_admin(DB *db, unsigned long long user_id, int admin);

/* The deleted users, oldest deletion first, as USER_DELETED_ROWs into *rows (db_rows_free
 * it): the row count, < 0 database error. */
int user_list_deleted(DB *db, DB_ROWS *rows);
/* Removes deleted user user_id's row for good: 1 done, 0 no such deleted user, < 0 database
 * error (DB_ERR_PERM also while an organization still names them its owner: check first
 * with org_list_owned()). */
int user_purge(DB *db, unsigned long long user_id);

/* ---------------------------------------------------------------- invitations (user_invites) */

/* What an invitation says. */
typedef struct user_invite {
    unsigned long long id;
    unsigned long long org_id;
    char uuid[37];
    char email[256];
    char role[16];
} USER_INVITE;

/* Invites email to org_id as role; a new invitation for the same address replaces the old
 * one (and its token). 1 done, < 0 database error. */
int user_invite_create(DB *db, unsigned long long org_id, const char *uuid, const char *email, const char *role,
                       const char *token_hash, unsigned long long invited_by, long long lifetime);
/* The unexpired invitation of token_hash (locked until the transaction ends): 1 (*out), 0 none. */
int user_invite_find(DB *db, const char *token_hash, USER_INVITE *out);
/* An open invitation as listed; invited_by is the inviter's e-mail address (NULL when that
 * user is gone), times "YYYY-MM-DDTHH:MM:SSZ". */
typedef struct user_invite_row {
    const char *uuid;
    const char *email;
    const char *role;
    const char *invited_by;
    const char *expires_at;
    const char *created_at;
} USER_INVITE_ROW;
/* org_id's open invitations (only uuid's, when not NULL) by address as USER_INVITE_ROWs into
 * *rows (db_rows_free it): the row count, < 0 database error. */
int user_invite_list(DB *db, unsigned long long org_id, const char *uuid, DB_ROWS *rows);
/* Deletes invitation uuid of org_id (or id when uuid is NULL): 1 deleted, 0 none, < 0 database error. */
int user_invite_delete(DB *db, unsigned long long org_id, const char *uuid, unsigned long long id);

#endif
