/*
 * mgmt_scope.c -- the part of the management API v2 toolkit (mgmt.h) that finds what a
 * principal may reach: an organization or server of the path with the principal's role
 * (404 to outsiders, 403 below the role needed), and the generic list/get/delete handlers
 * of a server's child objects (MGMT_RESOURCE).
 *
 * Must never: answer an outsider anything but 404, or return a row of another server.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/org.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* ---------------------------------------------------------------- organizations: lookup */

/* The organization of path argument 0 with the principal's role, which must be at least
 * need. 0 with *o (mgmt_org_free it, also after -1), -1 when answered: 404 for no such live
 * organization and for no role in it, 403 Forbidden for a role below need. */
int
mgmt_load_org(MGMT_CALL *c, AUTH_ROLE need, MGMT_ORG *o)
{
    int ret;

    memset(o, 0, sizeof(*o));
    ret = org_get(c->db, http_path_arg(c->req, 0), &o->rows);
    if (ret < 0) {
        mgmt_reply_db(c, "organization lookup", ret);
        return -1;
    }
    if (ret > 0) {
        o->row = o->rows.v;
        o->id = o->row->id;
        ret = auth_org_role(c->db, &c->p, o->id, &o->role);
        if (ret < 0) {
            mgmt_reply_db(c, "role lookup", ret);
            return -1;
        }
    }
    if (ret == 0 || o->role == AUTH_ROLE_NONE) {
        mgmt_reply_not_found(c, "organization");
        return -1;
    }
    if (o->role < need) {
        char *message = buf_asprintf("Your role in this organization (%s) does not allow this; it needs %s.",
                                     auth_role_name(o->role), auth_role_name(need));

        mgmt_reply_forbidden(c, message);
        mem_free(message);
        return -1;
    }
    return 0;
}

void
mgmt_org_free(MGMT_ORG *o)
{
    db_rows_free(&o->rows);
    o->row = NULL;
}

/* Re-reads organization id as JSON after a change. NULL on a database error (answered). */
json_t *
mgmt_reload_org(MGMT_CALL *c, unsigned long long id, AUTH_ROLE role)
{
    DB_ROWS rows = {0};
    json_t *o = NULL;
    int ret = org_get_by_id(c->db, id, &rows);

    if (ret > 0)
        o = mgmt_org_json(rows.v, role);
    else
        mgmt_reply_db(c, "organization reload", ret < 0 ? ret : DB_ERR_PERM);
    db_rows_free(&rows);
    return o;
}

/* The server permalink of org into *d (mem_free it): 1, or 0 after answering (404, database error). */
static int
server_lookup(MGMT_CALL *c, const MGMT_ORG *o, const char *permalink, SERVER_DETAILS **d)
{
    int ret = server_details_list(c->db, o->id, permalink, d);

    if (ret < 0)
        mgmt_reply_db(c, "server lookup", ret);
    else if (ret == 0)
        mgmt_reply_not_found(c, "server");
    return ret > 0;
}

/* The server of path argument 1 in org as JSON; NULL after answering (404 or a DB error). */
json_t *
mgmt_find_server(MGMT_CALL *c, const MGMT_ORG *o, const char *permalink, unsigned long long *id_r)
{
    SERVER_DETAILS *list = NULL;
    json_t *s = NULL;

    if (server_lookup(c, o, permalink, &list)) {
        s = mgmt_server_json(&list[0], o->row->permalink);
        if (id_r)
            *id_r = list[0].id;
    }
    mem_free(list);
    return s;
}

/* The id of server permalink in org: 0 with *id_r, -1 when answered (404, database error). */
int
mgmt_server_id(MGMT_CALL *c, const MGMT_ORG *o, const char *permalink, unsigned long long *id_r)
{
    SERVER_DETAILS *list = NULL;
    int ok;

    if ((ok = server_lookup(c, o, permalink, &list)) != 0)
        *id_r = list[0].id;
    mem_free(list);
    return ok ? 0 : -1;
}

/* The organization (role at least need) and the server of path arguments 0 and 1.
 * 0 with *o and *server_id_r, -1 when answered (404 also for a server outsiders cannot see). */
int
mgmt_load_server(MGMT_CALL *c, AUTH_ROLE need, MGMT_ORG *o, unsigned long long *server_id_r)
{
    if (mgmt_load_org(c, need, o) != 0)
        return -1;
    return mgmt_server_id(c, o, http_path_arg(c->req, 1), server_id_r);
}

/* Whether the path is under …/organizations/{org}/servers/{server}/. */
static int
server_path(const HTTP_REQUEST *req)
{
    static const char prefix[] = "/api/v2/organizations/";
    const char *p = req->path;

    if (strncmp(p, prefix, sizeof(prefix) - 1) != 0)
        return 1;
    p = strchr(p + sizeof(prefix) - 1, '/');
    return p != NULL && strncmp(p, "/servers/", 9) == 0;
}

int
mgmt_load_owner(MGMT_CALL *c, AUTH_ROLE need, MGMT_ORG *o, unsigned long long *server_id_r)
{
    if (server_path(c->req))
        return mgmt_load_server(c, need, o, server_id_r);
    if (mgmt_load_org(c, need >= AUTH_ROLE_MEMBER && need < AUTH_ROLE_ADMIN ? AUTH_ROLE_ADMIN : need, o) != 0)
        return -1;
    *server_id_r = 0;
    c->owner_org_id = o->id;
    return 0;
}

/* ---------------------------------------------------------------- a server's child objects */

#define ROW_FIELD(type, row, off) (*(type const *) ((const char *) (row) + (off)))

/* The rows of r (its loader, or lib/mail's lister behind a UUID check). */
static int
load_rows(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const char *key,
          unsigned long long id, DB_ROWS *rows)
{
    if (r->load)
        return r->load(c, r, server_id, key, id, rows);
    if (key && !auth_uuid_ok(key))
        return 0;
    return r->list(c->db, server_id, key, id, rows);
}

int
mgmt_find(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, DB_ROWS *rows)
{
    int ret = load_rows(c, r, server_id, http_path_arg(c->req, c->owner_org_id ? 1 : 2), 0, rows);

    if (ret < 0) {
        char *what = buf_asprintf("%s lookup", r->what);

        mgmt_reply_db(c, what, ret);
        mem_free(what);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, r->what);
    return ret > 0;
}

void
mgmt_reply_row(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row, unsigned status)
{
    if (r->reply)
        r->reply(c, r, row, status);
    else
        mgmt_reply_ok(c, status, json_pack("{s:o}", r->one, r->json(c, r, row)));
}

void
mgmt_reply_again(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const char *key,
                 unsigned long long id, unsigned status)
{
    DB_ROWS rows = {0};
    int ret = load_rows(c, r, server_id, key, id, &rows);
    size_t i = 0;

    /* By id: the loader may have given more than that row. */
    while (key == NULL && i < rows.n && ROW_FIELD(unsigned long long, mgmt_row(r, &rows, i), r->id_off) != id)
        i++;
    if (ret < 0 || i >= rows.n) {
        char *what = buf_asprintf("%s reload", r->what);

        mgmt_reply_db(c, what, ret < 0 ? ret : DB_ERR_PERM);
        mem_free(what);
    } else {
        mgmt_reply_row(c, r, mgmt_row(r, &rows, i), status);
    }
    db_rows_free(&rows);
}

void
mgmt_list(HTTP_REQUEST *req, void *arg, const MGMT_RESOURCE *r)
{
    unsigned long long server_id = 0;
    DB_ROWS rows = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_owner(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0) {
        if ((ret = load_rows(&c, r, server_id, NULL, 0, &rows)) < 0) {
            char *what = buf_asprintf("%s list", r->what);

            mgmt_reply_db(&c, what, ret);
            mem_free(what);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < rows.n; i++)
                json_array_append_new(a, r->json(&c, r, mgmt_row(r, &rows, i)));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", r->many, a));
        }
    }
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

void
mgmt_get(HTTP_REQUEST *req, void *arg, const MGMT_RESOURCE *r)
{
    unsigned long long server_id = 0;
    DB_ROWS rows = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_owner(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0
        && mgmt_find(&c, r, server_id, &rows) == 1)
        mgmt_reply_row(&c, r, rows.v, MHD_HTTP_OK);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

void
mgmt_delete(HTTP_REQUEST *req, void *arg, const MGMT_RESOURCE *r)
{
    unsigned long long server_id = 0, id;
    DB_ROWS rows = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_owner(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || mgmt_find(&c, r, server_id, &rows) != 1 || mgmt_txn_begin(&c) < 0)
        goto out;
    id = ROW_FIELD(unsigned long long, rows.v, r->id_off);
    if ((ret = r->may_delete ? r->may_delete(&c, r, rows.v) : 1) == 0)
        goto out;
    if (ret < 0 || (ret = r->delete_id ? r->delete_id(c.db, server_id, id) : r->remove(&c, r, server_id, rows.v)) < 0) {
        char *what = buf_asprintf("%s delete", r->what);

        mgmt_reply_db(&c, what, ret);
        mem_free(what);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    if (c.owner_org_id)
        msg_info("user %llu: deleted %s %llu (%s) of organization %s", c.p.user_id, r->what, id, http_path_arg(req, 1),
                 http_path_arg(req, 0));
    else
        msg_info("user %llu: deleted %s %llu (%s) of server %s/%s", c.p.user_id, r->what, id, http_path_arg(req, 2),
                 http_path_arg(req, 0), http_path_arg(req, 1));
    if (r->deleted)
        mgmt_reply_ok(&c, MHD_HTTP_OK, r->deleted(rows.v));
    else
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(ROW_FIELD(const char *, rows.v, r->uuid_off)),
                                                 "deleted", 1));
out:
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}
