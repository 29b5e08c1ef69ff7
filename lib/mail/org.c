/*
 * org.c -- organizations and their members (org.h).
 *
 * This module owns the SQL on organizations and organization_users.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/org.h"
#include "mail/turn.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"
/* In enum org_col order. */
#define ORG_COLUMNS "o.id, o.uuid, o.name, o.permalink, o.time_zone, o.suspended_at IS NOT NULL, " \
    "o.suspension_reason, " TS("o.created_at") ", " TS("o.updated_at") ", o.require_two_factor"
/* In member_cols order; the caller adds the rest of the WHERE clause. */
#define MEMBER_SELECT "SELECT u.id, u.uuid, u.email, u.first_name, u.last_name, ou.role, " TS("ou.created_at") \
    " FROM organization_users ou JOIN users u ON u.id = ou.user_id WHERE ou.organization_id = ? "

/* Words that would collide with paths of the web UI and API. */
static const char *const reserved[] = {
    "admin", "api", "assets", "help", "login", "logout", "new", "org", "orgs",
    "organizations", "settings", "user", "users", "www", NULL
};

int
org_permalink_ok(const char *permalink, char **error_r)
{
    size_t len = strlen(permalink);

    if (len == 0 || len > 64 || strspn(permalink, "abcdefghijklmnopqrstuvwxyz0123456789-") != len
        || permalink[0] == '-' || permalink[len - 1] == '-') {
        *error_r = mem_strdup("use 1 to 64 lowercase letters, digits and inner hyphens");
        return 0;
    }
    for (int i = 0; reserved[i]; i++) {
        if (strcmp(permalink, reserved[i]) == 0) {
            *error_r = mem_strdup("that word is reserved");
            return 0;
        }
    }
    return 1;
}

int
org_create(DB *db, const char *name, const char *permalink, unsigned long long *id_r, char **error_r)
{
    char *why = NULL;
    char uuid[37];
    int ret;

    if (name == NULL || *name == '\0' || strlen(name) > 255) {
        *error_r = buf_asprintf("an organization needs a name of 1 to 255 characters");
        return 0;
    }
    if (!org_permalink_ok(permalink, &why)) {
        *error_r = buf_asprintf("permalink \"%s\": %s", permalink, why);
        mem_free(why);
        return 0;
    }
    if (token_uuid(uuid) < 0) {
        *error_r = buf_asprintf("random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_exec(db, "INSERT INTO organizations (uuid, name, permalink) VALUES (?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_STR(name), DB_STR(permalink)));
    if (ret < 0 && db_errno(db) == DB_ER_DUP_ENTRY) {
        *error_r = buf_asprintf("an organization with permalink \"%s\" exists", permalink);
        return 0;
    }
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    *id_r = db_insert_id(db);
    return 1;
}

int
org_find(DB *db, const char *permalink, unsigned long long *id_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT id FROM organizations WHERE permalink = ? AND deleted_at IS NULL",
                       DB_ARGS(DB_STR(permalink)));

    if (ret > 0)
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

/* ---------------------------------------------------------------- organizations */

/* ORG_COLUMNS (and the role) into ORG_ROW. */
static const DB_COL org_cols[] = {
    DB_COL_AT(DB_COL_ID, ORG_ROW, id), DB_COL_AT(DB_COL_STR, ORG_ROW, uuid), DB_COL_AT(DB_COL_STR, ORG_ROW, name),
    DB_COL_AT(DB_COL_STR, ORG_ROW, permalink), DB_COL_AT(DB_COL_STR, ORG_ROW, time_zone),
    DB_COL_AT(DB_COL_BOOL, ORG_ROW, suspended), DB_COL_AT(DB_COL_STR, ORG_ROW, suspension_reason),
    DB_COL_AT(DB_COL_STR, ORG_ROW, created_at), DB_COL_AT(DB_COL_STR, ORG_ROW, updated_at),
    DB_COL_AT(DB_COL_BOOL, ORG_ROW, require_two_factor), DB_COL_AT(DB_COL_STR, ORG_ROW, role),
};
#define ORG_NCOLS (sizeof(org_cols) / sizeof(org_cols[0]) - 1)

/* 1 for a row, 0 none, < 0 database error, for queries that find at most one row. */
static int
one_row(int ret)
{
    return ret > 0 ? 1 : ret;
}

int
org_get(DB *db, const char *permalink, DB_ROWS *rows)
{
    return one_row(db_query_rows(db, rows, org_cols, ORG_NCOLS, sizeof(ORG_ROW), "SELECT " ORG_COLUMNS
                                 " FROM organizations o WHERE o.permalink = ? AND o.deleted_at IS NULL",
                                 DB_ARGS(DB_STR(permalink))));
}

int
org_get_by_id(DB *db, unsigned long long id, DB_ROWS *rows)
{
    return one_row(db_query_rows(db, rows, org_cols, ORG_NCOLS, sizeof(ORG_ROW),
                                 "SELECT " ORG_COLUMNS " FROM organizations o WHERE o.id = ?", DB_ARGS(DB_UINT(id))));
}

int
org_list_for_user(DB *db, unsigned long long user_id, int all, DB_ROWS *rows)
{
    return db_query_rows(db, rows, org_cols, ORG_NCOLS + 1, sizeof(ORG_ROW), "SELECT " ORG_COLUMNS ", ou.role FROM organizations o "
                    "LEFT JOIN organization_users ou ON ou.organization_id = o.id AND ou.user_id = ? "
                    "WHERE o.deleted_at IS NULL AND (? OR ou.user_id IS NOT NULL) ORDER BY o.name, o.id",
                    DB_ARGS(DB_UINT(user_id), DB_INT(all)));
}

int
org_set_creator(DB *db, unsigned long long id, unsigned long long user_id, const char *tz)
{
    int ret;

    if ((ret = db_exec(db, "UPDATE organizations SET owner_id = ?, time_zone = COALESCE(?, time_zone) WHERE id = ?",
                       DB_ARGS(DB_UINT(user_id), DB_STR(tz), DB_UINT(id)))) < 0
        || (ret = db_exec(db, "INSERT INTO organization_users (organization_id, user_id, role) VALUES (?, ?, 'owner')",
                          DB_ARGS(DB_UINT(id), DB_UINT(user_id)))) < 0)
        return ret;
    return 1;
}

int
org_update(DB *db, unsigned long long id, const char *name, const char *tz, int suspended, const char *reason)
{
    int ret = db_exec(db, "UPDATE organizations SET name = COALESCE(?, name), time_zone = COALESCE(?, time_zone) "
                      "WHERE id = ?", DB_ARGS(DB_STR(name), DB_STR(tz), DB_UINT(id)));

    if (ret >= 0 && suspended >= 0)
        ret = db_exec(db, "UPDATE organizations SET suspended_at = IF(?, COALESCE(suspended_at, UTC_TIMESTAMP(6)), NULL), "
                      "suspension_reason = IF(?, ?, NULL) WHERE id = ?",
                      DB_ARGS(DB_INT(suspended), DB_INT(suspended), DB_STR(reason), DB_UINT(id)));
    return ret < 0 ? ret : 1;
}

int
org_set_require_two_factor(DB *db, unsigned long long id, int require)
{
    int ret = db_exec(db, "UPDATE organizations SET require_two_factor = ? WHERE id = ?",
                      DB_ARGS(DB_INT(require != 0), DB_UINT(id)));

    return ret < 0 ? ret : 1;
}

int
org_delete(DB *db, unsigned long long id)
{
    return one_row(db_exec(db, "UPDATE organizations SET deleted_at = UTC_TIMESTAMP(6) WHERE id = ? AND deleted_at IS NULL",
                           DB_ARGS(DB_UINT(id))));
}

int
org_find_uuid(DB *db, const char *uuid, unsigned long long *id_r, int *deleted_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT id, deleted_at IS NOT NULL FROM organizations WHERE uuid = ?",
                       DB_ARGS(DB_STR(uuid)));

    if (ret > 0) {
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        *deleted_r = atoi(db_result_get(res, 0, 1));
    }
    db_result_free(res);
    return one_row(ret);
}

static const DB_COL deleted_cols[] = {
    DB_COL_AT(DB_COL_STR, ORG_DELETED_ROW, uuid), DB_COL_AT(DB_COL_STR, ORG_DELETED_ROW, name),
    DB_COL_AT(DB_COL_STR, ORG_DELETED_ROW, permalink), DB_COL_AT(DB_COL_STR, ORG_DELETED_ROW, deleted_at),
    DB_COL_AT(DB_COL_NUM, ORG_DELETED_ROW, servers),
};

int
org_list_deleted(DB *db, DB_ROWS *rows)
{
    return db_query_rows(db, rows, deleted_cols, sizeof(deleted_cols) / sizeof(deleted_cols[0]), sizeof(ORG_DELETED_ROW),
                         "SELECT o.uuid, o.name, o.permalink, " TS("o.deleted_at") ", "
                         "(SELECT COUNT(*) FROM servers s WHERE s.organization_id = o.id) FROM organizations o "
                         "WHERE o.deleted_at IS NOT NULL ORDER BY o.deleted_at, o.id", DB_NOARGS);
}

int
org_user_suspended(DB *db, unsigned long long user_id)
{
    DB_RESULT *res = NULL;
    /* Deleted organizations count too: deleting a suspended organization must not free
     * its people to start again. */
    int ret = db_query(db, &res, "SELECT 1 FROM organizations o WHERE o.suspended_at IS NOT NULL AND (o.owner_id = ? "
                       "OR EXISTS (SELECT 1 FROM organization_users ou WHERE ou.organization_id = o.id "
                       "AND ou.user_id = ?)) LIMIT 1", DB_ARGS(DB_UINT(user_id), DB_UINT(user_id)));

    db_result_free(res);
    return one_row(ret);
}

int
org_refresh_owner(DB *db, unsigned long long id)
{
    return db_exec(db, "UPDATE organizations SET owner_id = (SELECT ou.user_id FROM organization_users ou "
                   "WHERE ou.organization_id = ? AND ou.role = 'owner' ORDER BY ou.created_at, ou.user_id LIMIT 1) "
                   "WHERE id = ?", DB_ARGS(DB_UINT(id), DB_UINT(id)));
}

/* ---------------------------------------------------------------- members */

/* MEMBER_SELECT into ORG_MEMBER_ROW. */
static const DB_COL member_cols[] = {
    DB_COL_AT(DB_COL_ID, ORG_MEMBER_ROW, user_id), DB_COL_AT(DB_COL_STR, ORG_MEMBER_ROW, uuid),
    DB_COL_AT(DB_COL_STR, ORG_MEMBER_ROW, email), DB_COL_AT(DB_COL_STR, ORG_MEMBER_ROW, first_name),
    DB_COL_AT(DB_COL_STR, ORG_MEMBER_ROW, last_name), DB_COL_AT(DB_COL_STR, ORG_MEMBER_ROW, role),
    DB_COL_AT(DB_COL_STR, ORG_MEMBER_ROW, since),
};
#define MEMBER_ROWS(db, rows) db, rows, member_cols, sizeof(member_cols) / sizeof(member_cols[0]), sizeof(ORG_MEMBER_ROW)

int
org_members(DB *db, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(MEMBER_ROWS(db, rows), MEMBER_SELECT "ORDER BY u.email", DB_ARGS(DB_UINT(id)));
}

int
org_member_by_uuid(DB *db, unsigned long long id, const char *uuid, DB_ROWS *rows)
{
    return one_row(db_query_rows(MEMBER_ROWS(db, rows), MEMBER_SELECT "AND u.uuid = ?", DB_ARGS(DB_UINT(id), DB_STR(uuid))));
}

int
org_member_by_email(DB *db, unsigned long long id, const char *email, DB_ROWS *rows)
{
    return one_row(db_query_rows(MEMBER_ROWS(db, rows), MEMBER_SELECT "AND u.email = ?",
                                 DB_ARGS(DB_UINT(id), DB_STR(email))));
}

int
org_member_by_user(DB *db, unsigned long long id, unsigned long long user_id, DB_ROWS *rows)
{
    return one_row(db_query_rows(MEMBER_ROWS(db, rows), MEMBER_SELECT "AND u.id = ?",
                                 DB_ARGS(DB_UINT(id), DB_UINT(user_id))));
}

int
org_member_role(DB *db, unsigned long long id, unsigned long long user_id, char role_r[16])
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT role FROM organization_users WHERE organization_id = ? AND user_id = ?",
                       DB_ARGS(DB_UINT(id), DB_UINT(user_id)));

    role_r[0] = '\0';
    if (ret > 0)
        snprintf(role_r, 16, "%s", db_result_get(res, 0, 0));
    db_result_free(res);
    return one_row(ret);
}

int
org_member_add(DB *db, unsigned long long id, unsigned long long user_id, const char *role)
{
    int ret = db_exec(db, "INSERT INTO organization_users (organization_id, user_id, role) VALUES (?, ?, ?)",
                      DB_ARGS(DB_UINT(id), DB_UINT(user_id), DB_STR(role)));

    if (ret < 0 && db_errno(db) == DB_ER_DUP_ENTRY)
        return 0;
    return ret < 0 ? ret : 1;
}

int
org_member_set_role(DB *db, unsigned long long id, unsigned long long user_id, const char *role)
{
    return one_row(db_exec(db, "UPDATE organization_users SET role = ? WHERE organization_id = ? AND user_id = ?",
                           DB_ARGS(DB_STR(role), DB_UINT(id), DB_UINT(user_id))));
}

int
org_member_remove(DB *db, unsigned long long id, unsigned long long user_id)
{
    return one_row(db_exec(db, "DELETE FROM organization_users WHERE organization_id = ? AND user_id = ?",
                           DB_ARGS(DB_UINT(id), DB_UINT(user_id))));
}

int
org_count_owners(DB *db, unsigned long long id)
{
    DB_RESULT *res = NULL;
    /* The organization's turn first: the last owner stays across Galera nodes too (turn.h). */
    int ret = turn_take(db, TURN_ORG_OWNERS, id);

    if (ret < 0)
        return ret;
    ret = db_query(db, &res, "SELECT user_id FROM organization_users WHERE organization_id = ? AND role = 'owner' "
                   "FOR UPDATE", DB_ARGS(DB_UINT(id)));

    db_result_free(res);
    return ret;
}

static const DB_COL owned_cols[] = {
    DB_COL_AT(DB_COL_STR, ORG_OWNED_ROW, uuid), DB_COL_AT(DB_COL_STR, ORG_OWNED_ROW, permalink),
};

int
org_list_owned(DB *db, unsigned long long user_id, int deleted, DB_ROWS *rows)
{
    if (deleted)
        return db_query_rows(db, rows, owned_cols, 2, sizeof(ORG_OWNED_ROW), "SELECT o.uuid, o.permalink "
                             "FROM organizations o WHERE o.owner_id = ? AND o.deleted_at IS NOT NULL "
                             "ORDER BY o.permalink, o.id", DB_ARGS(DB_UINT(user_id)));
    return db_query_rows(db, rows, owned_cols, 2, sizeof(ORG_OWNED_ROW), "SELECT o.uuid, o.permalink "
                         "FROM organizations o WHERE o.deleted_at IS NULL AND (o.owner_id = ? OR EXISTS "
                         "(SELECT 1 FROM organization_users ou WHERE ou.organization_id = o.id AND ou.user_id = ? "
                         "AND ou.role = 'owner')) ORDER BY o.permalink", DB_ARGS(DB_UINT(user_id), DB_UINT(user_id)));
}

int
org_memberships_remove(DB *db, unsigned long long user_id)
{
    return db_exec(db, "DELETE FROM organization_users WHERE user_id = ?", DB_ARGS(DB_UINT(user_id)));
}
