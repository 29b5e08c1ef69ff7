/*
 * org.h -- organizations: the top of postgate's ownership tree, and their members
 * (organization_users). Permalinks are [a-z0-9-], 1 to 64 characters, and a few words
 * are reserved. Roles travel as their names ("owner", "admin", "member", "readonly");
 * what a role may do is the caller's business (admin/auth.c). Callers that change more
 * than one row run these inside their own transaction.
 */
#ifndef PG_ORG_H
#define PG_ORG_H

#include "mail/db.h"

/* 1 when permalink is acceptable, else 0 with *error_r (mem_free it). */
int org_permalink_ok(const char *permalink, char **error_r);
/* 1 created (*id_r), 0 invalid or taken, < 0 database error (DB_ERR_TEMP / DB_ERR_PERM);
 * *error_r (mem_free it) on 0 and < 0. */
int org_create(DB *db, const char *name, const char *permalink, unsigned long long *id_r, char **error_r);
/* 1 found (*id_r), 0 no such live organization, < 0 database error. */
int org_find(DB *db, const char *permalink, unsigned long long *id_r);

/* An organization row (times "YYYY-MM-DDTHH:MM:SSZ"; NULL when not set). role, the user's
 * role or NULL, is only set in org_list_for_user()'s rows. */
typedef struct org_row {
    unsigned long long id;
    const char *uuid;
    const char *name;
    const char *permalink;
    const char *time_zone;
    int suspended;
    const char *suspension_reason;
    const char *created_at;
    const char *updated_at;
    int require_two_factor;     /* every member signs in with a second factor (schema 009) */
    const char *role;
} ORG_ROW;
/* The live organization of permalink as ORG_ROWs into *rows (db_rows_free it): 1 found, 0 none,
 * < 0 database error. */
int org_get(DB *db, const char *permalink, DB_ROWS *rows);
/* Organization id, deleted or not, into *rows (db_rows_free it): 1 found, 0 none, < 0 database error. */
int org_get_by_id(DB *db, unsigned long long id, DB_ROWS *rows);
/* The live organizations user_id is a member of (all when all is set), by name, with the role
 * into *rows (ORG_ROWs; db_rows_free it): the row count (0 none), < 0 database error. */
int org_list_for_user(DB *db, unsigned long long user_id, int all, DB_ROWS *rows);
/* Makes user_id the first owner of new organization id and sets its time zone unless tz is NULL:
 * 1 done, < 0 database error. */
int org_set_creator(DB *db, unsigned long long id, unsigned long long user_id, const char *tz);
/* Changes name and time zone where not NULL, then the suspension unless suspended < 0 (reason
 * kept only when suspended): 1 done, < 0 database error. */
int org_update(DB *db, unsigned long long id, const char *name, const char *tz, int suspended, const char *reason);
/* Sets whether organization id requires a second factor of its members: 1 done, < 0 database error. */
int org_set_require_two_factor(DB *db, unsigned long long id, int require);
/* Soft-deletes organization id: 1 deleted, 0 none or deleted already, < 0 database error. */
int org_delete(DB *db, unsigned long long id);
/* The organization with uuid, deleted or not: 1 found (*id_r, *deleted_r), 0 none, < 0 database error. */
int org_find_uuid(DB *db, const char *uuid, unsigned long long *id_r, int *deleted_r);
/* A deleted organization: deleted_at "YYYY-MM-DDTHH:MM:SSZ", servers the number it still holds. */
typedef struct org_deleted_row {
    const char *uuid;
    const char *name;
    const char *permalink;
    const char *deleted_at;
    long long servers;
} ORG_DELETED_ROW;
/* The deleted organizations, oldest deletion first, as ORG_DELETED_ROWs into *rows (db_rows_free
 * it): the row count, < 0 database error. */
int org_list_deleted(DB *db, DB_ROWS *rows);
/* Is user_id the owner or a member of a suspended organization (deleted or not)? Such a
 * user may not create organizations. 1 yes, 0 no, < 0 database error. */
int org_user_suspended(DB *db, unsigned long long user_id);
/* Points owner_id at the oldest owner (NULL when none): 0 or more, < 0 database error. */
int org_refresh_owner(DB *db, unsigned long long id);

/* A member of an organization: the user and their role; since "YYYY-MM-DDTHH:MM:SSZ". */
typedef struct org_member_row {
    unsigned long long user_id;
    const char *uuid;
    const char *email;
    const char *first_name;
    const char *last_name;
    const char *role;
    const char *since;
} ORG_MEMBER_ROW;
/* Organization id's members by e-mail address as ORG_MEMBER_ROWs into *rows (db_rows_free it):
 * the row count, < 0 database error. */
int org_members(DB *db, unsigned long long id, DB_ROWS *rows);
/* The member of id with user uuid into *rows (one ORG_MEMBER_ROW; db_rows_free it): 1 found, 0 none,
 * < 0 database error. */
int org_member_by_uuid(DB *db, unsigned long long id, const char *uuid, DB_ROWS *rows);
/* The member of id with e-mail address email (exact), as org_member_by_uuid(). */
int org_member_by_email(DB *db, unsigned long long id, const char *email, DB_ROWS *rows);
/* The member of id that is user_id, as org_member_by_uuid(). */
int org_member_by_user(DB *db, unsigned long long id, unsigned long long user_id, DB_ROWS *rows);
/* user_id's role in id into role_r: 1 found, 0 not a member, < 0 database error. */
int org_member_role(DB *db, unsigned long long id, unsigned long long user_id, char role_r[16]);
/* Adds user_id to id as role: 1 added, 0 a member already, < 0 database error. */
int org_member_add(DB *db, unsigned long long id, unsigned long long user_id, const char *role);
/* Changes user_id's role in id: 1 changed, 0 no such member or the same role, < 0 database error. */
int org_member_set_role(DB *db, unsigned long long id, unsigned long long user_id, const char *role);
/* Removes user_id from id: 1 removed, 0 not a member, < 0 database error. */
int org_member_remove(DB *db, unsigned long long id, unsigned long long user_id);
/* The number of owners of id, whose rows stay locked until the transaction ends; < 0 database error. */
int org_count_owners(DB *db, unsigned long long id);

/* An organization a user owns: its uuid and permalink. */
typedef struct org_owned_row {
    const char *uuid;
    const char *permalink;
} ORG_OWNED_ROW;
/* The organizations user_id owns, by permalink, as ORG_OWNED_ROWs into *rows (db_rows_free
 * it): live ones (deleted == 0) where they are the recorded owner or have the owner role,
 * or deleted ones (deleted != 0) that still record them as owner (organizations.owner_id,
 * which keeps the user's row until those are purged). The row count, < 0 database error. */
int org_list_owned(DB *db, unsigned long long user_id, int deleted, DB_ROWS *rows);
/* Removes user_id from every organization (a deleted account): the memberships removed, < 0. */
int org_memberships_remove(DB *db, unsigned long long user_id);

#endif
