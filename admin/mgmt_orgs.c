/*
 * mgmt_orgs.c -- /api/v2/organizations and their members, and the purge of deleted
 * organizations by installation admins (/api/v2/deleted-organizations; doc/api.md).
 * Organizations and memberships are lib/mail/org.c's, the purge lib/mail/purge.c's.
 * Must never leave an organization without an owner, let a role act above itself, let a
 * suspended organization's people start a new one, or purge a live organization.
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

#include "mail/address.h"
#include "mail/domain.h"
#include "mail/notice.h"
#include "mail/org.h"
#include "mail/purge.h"
#include "mail/user.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

/* ---------------------------------------------------------------- organizations */

static void
mgmt_v2_orgs_list(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS res = {0};
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0) {
        ret = org_list_for_user(c.db, c.p.user_id, c.p.is_admin, &res);
        if (ret < 0) {
            mgmt_reply_db(&c, "organization list", ret);
        } else {
            json_t *list = json_array();

            for (size_t i = 0; i < res.n; i++) {
                const ORG_ROW *row = (const ORG_ROW *) res.v + i;
                AUTH_ROLE role = AUTH_ROLE_OWNER;

                if (!c.p.is_admin && (row->role == NULL || auth_role_parse(row->role, &role) < 0))
                    continue;
                json_array_append_new(list, mgmt_org_json(row, role));
            }
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "organizations", list));
        }
        db_rows_free(&res);
    }
    mgmt_call_end(&c);
}

static void
mgmt_v2_orgs_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "permalink", "time_zone", NULL};
    const char *name, *permalink, *tz;
    char *why = NULL;
    unsigned long long id = 0;
    char *error = NULL;
    json_t *o;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0)
        goto out;
    mgmt_check_known(&c, known);
    name = mgmt_field_name(&c, "name", 1);
    permalink = mgmt_field_string(&c, "permalink", 1, 64);
    tz = mgmt_field_time_zone(&c);
    if (permalink && !org_permalink_ok(permalink, &why))
        mgmt_field_error(&c, "permalink", "%s", why);
    mem_free(why);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    /* A suspended organization's people do not carry on under a new one. */
    if (!c.p.is_admin && (ret = org_user_suspended(c.db, c.p.user_id)) != 0) {
        if (ret < 0)
            mgmt_reply_db(&c, "suspension check", ret);
        else
            mgmt_reply_fail(&c, MHD_HTTP_FORBIDDEN, "OrganizationSuspended", "You belong to a suspended organization: "
                       "you cannot create organizations until an installation administrator lifts the suspension.");
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = org_create(c.db, name, permalink, &id, &error);
    if (ret == 0 && db_errno(c.db) == DB_ER_DUP_ENTRY) {
        mgmt_field_error(&c, "permalink", "is already taken");
        mgmt_reply_conflict(&c, "PermalinkTaken", "An organization with this permalink exists.", NULL);
        goto out;
    }
    if (ret == 0) {
        mgmt_field_error(&c, "organization", "%s", error);
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "organization create", ret);
        goto out;
    }
    if ((ret = org_set_creator(c.db, id, c.p.user_id, tz)) < 0) {
        mgmt_reply_db(&c, "organization owner", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created organization %s", c.p.user_id, permalink);
    if ((o = mgmt_reload_org(&c, id, AUTH_ROLE_OWNER)) != NULL)
        mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "organization", o));
out:
    mem_free(error);
    mgmt_call_end(&c);
}

static void
mgmt_v2_org_get(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_org(&c, AUTH_ROLE_READONLY, &o) == 0)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "organization", mgmt_org_json(o.row, o.role)));
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}


static void
mgmt_v2_org_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "time_zone", "suspended", "suspension_reason", "require_two_factor", NULL};
    const char *name, *tz, *reason;
    json_t *fresh;
    int suspended, require2fa, ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_org(&c, AUTH_ROLE_ADMIN, &o) != 0)
        goto out;
    if ((json_object_get(c.body, "suspended") || json_object_get(c.body, "suspension_reason")) && !c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators suspend or unsuspend organizations.");
        goto out;
    }
    mgmt_check_known(&c, known);
    if (json_object_get(c.body, "permalink"))
        mgmt_field_error(&c, "permalink", "cannot be changed");
    name = mgmt_field_name(&c, "name", 0);
    tz = mgmt_field_time_zone(&c);
    suspended = mgmt_field_bool(&c, "suspended");
    reason = mgmt_field_text(&c, "suspension_reason", 0, 1000);
    require2fa = mgmt_field_bool(&c, "require_two_factor");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = org_update(c.db, o.id, name, tz, suspended, reason);
    if (ret >= 0 && require2fa >= 0) {
        ret = org_set_require_two_factor(c.db, o.id, require2fa);
        msg_info("user %llu: organization %s %s a second factor of its members", c.p.user_id, o.row->permalink,
                 require2fa ? "requires" : "no longer requires");
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "organization update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    /* Suspended now, not before: the organization's admins are told, with the reason. */
    if (suspended == 1 && !o.row->suspended && (ret = notice_suspension(c.db, req->cfg, o.id, 0, reason)) >= 0)
        msg_info("organization %s suspended: notice mailed to %d owners and admins", o.row->permalink, ret);
    if ((fresh = mgmt_reload_org(&c, o.id, o.role)) != NULL)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "organization", fresh));
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_org_delete(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_org(&c, AUTH_ROLE_OWNER, &o) == 0 && mgmt_txn_begin(&c) == 0) {
        /* Its domains are released with it: a deleted organization's routes get no mail,
         * and its names can be verified by their next owner. */
        if ((ret = org_delete(c.db, o.id)) >= 0)
            ret = domain_release_org(c.db, o.id);
        if (ret < 0) {
            mgmt_reply_db(&c, "organization delete", ret);
        } else if (mgmt_txn_commit(&c) == 0) {
            msg_info("user %llu: deleted organization %s", c.p.user_id, http_path_arg(req, 0));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(o.row->uuid), "deleted", 1));
        }
    }
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- members */

/* A member as JSON: the person (mgmt_person_json()), their role and since when. */
static json_t *
member_json(const ORG_MEMBER_ROW *m)
{
    json_t *o = mgmt_person_json(m->uuid, m->email, m->first_name, m->last_name);

    json_object_set_new(o, "role", mgmt_jstr(m->role));
    json_object_set_new(o, "member_since", mgmt_jstr(m->since));
    return o;
}

/* The member of org named by path argument 1 (a user uuid or e-mail address). 1 found
 * (*member_r, its row in *rows; *role_r), 0 none (404 answered), -1 answered. */
static int
load_member(MGMT_CALL *c, const MGMT_ORG *o, DB_ROWS *rows, const ORG_MEMBER_ROW **member_r, AUTH_ROLE *role_r)
{
    const char *who = http_path_arg(c->req, 1);
    int ret;

    *member_r = NULL;
    memset(rows, 0, sizeof(*rows));
    if (auth_uuid_ok(who)) {
        ret = org_member_by_uuid(c->db, o->id, who, rows);
    } else if (strchr(who, '@')) {
        char *email = mgmt_lowercase(who);

        ret = org_member_by_email(c->db, o->id, email, rows);
        mem_free(email);
    } else {
        ret = 0;
    }
    if (ret < 0) {
        mgmt_reply_db(c, "member lookup", ret);
        return -1;
    }
    if (ret == 0 || auth_role_parse(((const ORG_MEMBER_ROW *) rows->v)->role, role_r) < 0) {
        db_rows_free(rows);
        mgmt_reply_not_found(c, "member");
        return 0;
    }
    *member_r = rows->v;
    return 1;
}

static void
reply_last_owner(MGMT_CALL *c)
{
    mgmt_reply_conflict(c, "LastOwner",
               "An organization keeps at least one owner: make someone else owner first.", NULL);
}

/* Re-reads a member as JSON; NULL after answering. */
static json_t *
reload_member(MGMT_CALL *c, unsigned long long org_id, unsigned long long user_id)
{
    DB_ROWS rows = {0};
    json_t *m = NULL;
    int ret = org_member_by_user(c->db, org_id, user_id, &rows);

    if (ret > 0)
        m = member_json(rows.v);
    else
        mgmt_reply_db(c, "member reload", ret < 0 ? ret : DB_ERR_PERM);
    db_rows_free(&rows);
    return m;
}

static void
mgmt_v2_members_list(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_org(&c, AUTH_ROLE_READONLY, &o) == 0) {
        ret = org_members(c.db, o.id, &rows);
        if (ret < 0) {
            mgmt_reply_db(&c, "member list", ret);
        } else {
            json_t *list = json_array();

            for (size_t i = 0; i < rows.n; i++)
                json_array_append_new(list, member_json((const ORG_MEMBER_ROW *) rows.v + i));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "members", list));
        }
        db_rows_free(&rows);
    }
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The role field: 0 with *role_r, -1 when absent or invalid (error added). */
static int
field_role(MGMT_CALL *c, AUTH_ROLE *role_r)
{
    const char *s = mgmt_field_string(c, "role", 1, 16);

    if (s && auth_role_parse(s, role_r) < 0)
        mgmt_field_error(c, "role", "must be owner, admin, member or readonly");
    return s && auth_role_parse(s, role_r) == 0 ? 0 : -1;
}

static void
mgmt_v2_members_add(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"email", "role", NULL};
    unsigned long long user_id = 0;
    const char *email;
    char *lower = NULL;
    AUTH_ROLE role = AUTH_ROLE_MEMBER;
    json_t *m;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_org(&c, AUTH_ROLE_ADMIN, &o) != 0)
        goto out;
    mgmt_check_known(&c, known);
    email = mgmt_field_text(&c, "email", 1, MGMT_EMAIL_MAX);
    if (email && !address_email_ok(email))
        mgmt_field_error(&c, "email", "must be an e-mail address");
    field_role(&c, &role);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (role == AUTH_ROLE_OWNER && o.role < AUTH_ROLE_OWNER) {
        mgmt_reply_forbidden(&c, "Only owners make owners.");
        goto out;
    }
    lower = mgmt_lowercase(email);
    ret = user_id_by_email(c.db, lower, &user_id);
    if (ret < 0) {
        mgmt_reply_db(&c, "user lookup", ret);
        goto out;
    }
    if (ret == 0) {
        mgmt_field_error(&c, "email", "no user has this address (invitations come with a later version)");
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = org_member_add(c.db, o.id, user_id, auth_role_name(role));
    if (ret == 0) {
        mgmt_reply_conflict(&c, "AlreadyMember", "This user is already a member; change the role with PATCH.", NULL);
        goto out;
    }
    if (ret >= 0)
        ret = org_refresh_owner(c.db, o.id);
    if (ret < 0) {
        mgmt_reply_db(&c, "member add", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: added user %llu to organization %s as %s", c.p.user_id, user_id, http_path_arg(req, 0),
             auth_role_name(role));
    if ((m = reload_member(&c, o.id, user_id)) != NULL)
        mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "member", m));
out:
    mem_free(lower);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_member_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"role", NULL};
    DB_ROWS rows = {0};
    const ORG_MEMBER_ROW *member = NULL;
    unsigned long long user_id;
    AUTH_ROLE role = AUTH_ROLE_NONE, current = AUTH_ROLE_NONE;
    json_t *m;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_org(&c, AUTH_ROLE_ADMIN, &o) != 0
        || load_member(&c, &o, &rows, &member, &current) != 1)
        goto out;
    user_id = member->user_id;
    mgmt_check_known(&c, known);
    field_role(&c, &role);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((role == AUTH_ROLE_OWNER || current == AUTH_ROLE_OWNER) && o.role < AUTH_ROLE_OWNER) {
        mgmt_reply_forbidden(&c, "Only owners make owners or change them.");
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if (current == AUTH_ROLE_OWNER && role != AUTH_ROLE_OWNER) {
        if ((ret = org_count_owners(c.db, o.id)) < 0) {
            mgmt_reply_db(&c, "owner count", ret);
            goto out;
        }
        if (ret <= 1) {
            reply_last_owner(&c);
            goto out;
        }
    }
    ret = org_member_set_role(c.db, o.id, user_id, auth_role_name(role));
    if (ret >= 0)
        ret = org_refresh_owner(c.db, o.id);
    if (ret < 0) {
        mgmt_reply_db(&c, "member update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: user %llu is now %s of organization %s", c.p.user_id, user_id, auth_role_name(role),
             http_path_arg(req, 0));
    if ((m = reload_member(&c, o.id, user_id)) != NULL)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "member", m));
out:
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_member_delete(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    const ORG_MEMBER_ROW *member = NULL;
    unsigned long long user_id;
    AUTH_ROLE current = AUTH_ROLE_NONE;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    /* Anyone may leave; removing someone else takes an admin (an owner for an owner). */
    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_org(&c, AUTH_ROLE_READONLY, &o) != 0
        || load_member(&c, &o, &rows, &member, &current) != 1)
        goto out;
    user_id = member->user_id;
    if (o.row->suspended && !c.p.is_admin) {
        /* Leaving would lift the block on creating organizations (org_user_suspended). */
        mgmt_reply_conflict(&c, "OrganizationSuspended",
                   "The organization is suspended: its members cannot leave or be removed until the suspension is lifted.", NULL);
        goto out;
    }
    if (user_id != c.p.user_id && (o.role < AUTH_ROLE_ADMIN || (current == AUTH_ROLE_OWNER && o.role < AUTH_ROLE_OWNER))) {
        mgmt_reply_forbidden(&c, current == AUTH_ROLE_OWNER ? "Only owners remove owners."
                        : "Only admins and owners remove members.");
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if (current == AUTH_ROLE_OWNER) {
        if ((ret = org_count_owners(c.db, o.id)) < 0) {
            mgmt_reply_db(&c, "owner count", ret);
            goto out;
        }
        if (ret <= 1) {
            reply_last_owner(&c);
            goto out;
        }
    }
    ret = org_member_remove(c.db, o.id, user_id);
    if (ret >= 0)
        ret = org_refresh_owner(c.db, o.id);
    if (ret < 0) {
        mgmt_reply_db(&c, "member delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: removed user %llu from organization %s", c.p.user_id, user_id, http_path_arg(req, 0));
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(member->uuid), "deleted", 1));
out:
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- deleted organizations (installation admins) */

#define PURGE_BATCH 1000
#define PURGE_SECONDS 10.0      /* work per request; the answer says whether to call again */

static void
mgmt_v2_deleted_orgs_list(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0)
        goto out;
    if (!c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators see deleted organizations.");
        goto out;
    }
    if ((ret = org_list_deleted(c.db, &rows)) < 0) {
        mgmt_reply_db(&c, "deleted organization list", ret);
    } else {
        json_t *list = json_array();

        for (size_t i = 0; i < rows.n; i++) {
            const ORG_DELETED_ROW *d = (const ORG_DELETED_ROW *) rows.v + i;

            json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o, s:I}", "uuid", mgmt_jstr(d->uuid),
                                                  "name", mgmt_jstr(d->name), "permalink", mgmt_jstr(d->permalink),
                                                  "deleted_at", mgmt_jstr(d->deleted_at), "servers", (json_int_t) d->servers));
        }
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "organizations", list));
    }
out:
    db_rows_free(&rows);
    mgmt_call_end(&c);
}

/* Purges a deleted organization in bounded steps for up to PURGE_SECONDS: 200 with
 * "purged": true when nothing of it is left, 202 with "purged": false when the caller
 * should call again (a big message log takes several calls). */
static void
mgmt_v2_deleted_org_purge(HTTP_REQUEST *req, void *arg)
{
    const char *uuid = http_path_arg(req, 0);
    unsigned long long id = 0, rows = 0;
    double start = clock_mono();
    int deleted = 0, ret;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, 0) != 0)
        goto out;
    if (!c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators purge organizations.");
        goto out;
    }
    if (!auth_uuid_ok(uuid) || (ret = org_find_uuid(c.db, uuid, &id, &deleted)) == 0) {
        mgmt_reply_not_found(&c, "organization");
        goto out;
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "organization lookup", ret);
        goto out;
    }
    if (!deleted) {
        mgmt_reply_conflict(&c, "OrganizationNotDeleted",
                   "Only a deleted organization can be purged: delete it first (DELETE /api/v2/organizations/{org}).", NULL);
        goto out;
    }
    do
        ret = purge_org_step(c.db, id, PURGE_BATCH, &rows);
    while (ret == 0 && clock_mono() - start < PURGE_SECONDS);
    if (ret < 0) {
        mgmt_reply_db(&c, "organization purge", ret);
        goto out;
    }
    msg_info("user %llu: purge of organization %s: %llu rows deleted%s", c.p.user_id, uuid, rows,
             ret > 0 ? ", done" : ", more to do");
    mgmt_reply_ok(&c, ret > 0 ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED,
             json_pack("{s:s, s:b, s:I}", "uuid", uuid, "purged", ret > 0, "rows_deleted", (json_int_t) rows));
out:
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_orgs_routes[] = {
    {"GET", "/api/v2/deleted-organizations", mgmt_v2_deleted_orgs_list},
    {"POST", "/api/v2/deleted-organizations/{}/purge", mgmt_v2_deleted_org_purge},
    {"GET", "/api/v2/organizations", mgmt_v2_orgs_list},
    {"POST", "/api/v2/organizations", mgmt_v2_orgs_create},
    {"GET", "/api/v2/organizations/{}", mgmt_v2_org_get},
    {"PATCH", "/api/v2/organizations/{}", mgmt_v2_org_update},
    {"DELETE", "/api/v2/organizations/{}", mgmt_v2_org_delete},
    {"GET", "/api/v2/organizations/{}/members", mgmt_v2_members_list},
    {"POST", "/api/v2/organizations/{}/members", mgmt_v2_members_add},
    {"PATCH", "/api/v2/organizations/{}/members/{}", mgmt_v2_member_update},
    {"DELETE", "/api/v2/organizations/{}/members/{}", mgmt_v2_member_delete},
    {NULL, NULL, NULL},
};
