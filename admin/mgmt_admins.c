/*
 * mgmt_admins.c -- the installation's people, for installation admins (doc/api.md "The
 * installation's users"): GET /api/v2/users lists every live account, GET and PATCH
 * /api/v2/users/{uuid} show one and grant or revoke installation admin.
 *
 * Contract: only installation admins get past the first check (anyone else: 403, whatever
 * the uuid, so the list of accounts cannot be probed); a deleted account is 404; revoking
 * the last live admin is 409 LastAdmin, so an installation always keeps one.
 */
#include "config.h"

#include <string.h>

#include <microhttpd.h>

#include "mail/user.h"
#include "mgmt.h"
#include "mgmt_v2.h"
#include "util/msg.h"

static json_t *
user_row_json(const USER_LIST_ROW *u)
{
    json_t *o = mgmt_person_json(u->uuid, u->email, u->first_name, u->last_name);

    json_object_set_new(o, "admin", json_boolean(u->admin));
    json_object_set_new(o, "sign_in", json_string(u->oidc ? "oidc" : "password"));
    json_object_set_new(o, "last_login_at", mgmt_jstr(u->last_login_at));
    json_object_set_new(o, "created_at", mgmt_jstr(u->created_at));
    return o;
}

/* Starts a call only an installation admin may make: 1, or 0 when answered. */
static int
begin_admin(MGMT_CALL *c, HTTP_REQUEST *req, void *arg)
{
    if (mgmt_call_begin(c, req, arg, 0) != 0)
        return 0;
    if (!c->p.is_admin) {
        mgmt_reply_forbidden(c, "Only installation administrators see the installation's users.");
        return 0;
    }
    return 1;
}

/* Answers the live user uuid (status), or 404 / a database error. */
static void
reply_user(MGMT_CALL *c, const char *uuid, unsigned status)
{
    DB_ROWS rows = {0};
    int ret = user_list(c->db, uuid, &rows);

    if (ret < 0)
        mgmt_reply_db(c, "user", ret);
    else if (ret == 0)
        mgmt_reply_not_found(c, "user");
    else
        mgmt_reply_ok(c, status, json_pack("{s:o}", "user", user_row_json(rows.v)));
    db_rows_free(&rows);
}

static void
mgmt_v2_users_list(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    MGMT_CALL c;
    int ret;

    if (!begin_admin(&c, req, arg))
        goto out;
    if ((ret = user_list(c.db, NULL, &rows)) < 0) {
        mgmt_reply_db(&c, "user list", ret);
    } else {
        json_t *list = json_array();

        for (size_t i = 0; i < rows.n; i++)
            json_array_append_new(list, user_row_json((const USER_LIST_ROW *) rows.v + i));
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "users", list));
    }
out:
    db_rows_free(&rows);
    mgmt_call_end(&c);
}

static void
mgmt_v2_users_get(HTTP_REQUEST *req, void *arg)
{
    MGMT_CALL c;

    if (begin_admin(&c, req, arg))
        reply_user(&c, http_path_arg(req, 0), MHD_HTTP_OK);
    mgmt_call_end(&c);
}

/* PATCH /api/v2/users/{uuid} {"admin": true|false}. */
static void
mgmt_v2_users_patch(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"admin", NULL};
    const char *uuid = http_path_arg(req, 0);
    unsigned long long id = 0;
    DB_ROWS rows = {0};
    MGMT_CALL c;
    int ret, admin, deleted = 0;

    if (!begin_admin(&c, req, arg) || mgmt_read_optional_body(&c, known) != 0)
        goto out;
    if (c.body == NULL || json_object_get(c.body, "admin") == NULL)
        mgmt_field_error(&c, "admin", "is required");
    admin = mgmt_field_bool(&c, "admin");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = user_find_uuid(c.db, uuid, &id, &deleted)) < 0) {
        mgmt_reply_db(&c, "user", ret);
        goto out;
    }
    if (ret == 0 || deleted) {
        mgmt_reply_not_found(&c, "user");
        goto out;
    }
    if ((ret = user_list(c.db, uuid, &rows)) < 0) {
        mgmt_reply_db(&c, "user", ret);
        goto out;
    }
    if (ret == 1 && ((const USER_LIST_ROW *) rows.v)->admin == admin) {
        reply_user(&c, uuid, MHD_HTTP_OK);      /* already so: nothing to change */
        goto out;
    }
    if ((ret = user_set_admin(c.db, id, admin)) < 0) {
        mgmt_reply_db(&c, "user admin", ret);
    } else if (ret == 0) {
        mgmt_reply_fail(&c, MHD_HTTP_CONFLICT, "LastAdmin",
                        "This is the installation's last administrator: grant another account first.");
    } else {
        msg_info("user %llu: %s installation admin %s user %s", c.p.user_id, admin ? "granted" : "revoked",
                 admin ? "to" : "of", uuid);
        reply_user(&c, uuid, MHD_HTTP_OK);
    }
out:
    db_rows_free(&rows);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_admins_routes[] = {
    {"GET", "/api/v2/users", mgmt_v2_users_list},
    {"GET", "/api/v2/users/{}", mgmt_v2_users_get},
    {"PATCH", "/api/v2/users/{}", mgmt_v2_users_patch},
    {NULL, NULL, NULL},
};
