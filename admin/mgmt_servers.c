/*
 * mgmt_servers.c -- an organization's mail servers,
 * /api/v2/organizations/{org}/servers (doc/api.md); rows are lib/mail/server.c's.
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

#include "mail/ippool.h"
#include "mail/notice.h"
#include "mail/org.h"
#include "mail/server.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* ---------------------------------------------------------------- servers */

/* The server settings the API takes, in the order they are applied, with who changes
 * them: server_set() knows the first group, server_set_more() the second. */
static const struct {
    const char *name;
    int more;                   /* server_set_more() */
    enum { T_STRING, T_STRING_OR_NULL, T_BOOL, T_INT_OR_NULL, T_INT, T_NUMBER, T_NUMBER_OR_NULL } type;
} server_fields[] = {
    {"name", 1, T_STRING},
    {"mode", 0, T_STRING},
    {"send_limit", 0, T_INT_OR_NULL},
    {"allow_sender", 0, T_BOOL},
    {"privacy_mode", 0, T_BOOL},
    {"spam_threshold", 1, T_NUMBER},
    {"spam_failure_threshold", 1, T_NUMBER},
    {"outbound_spam_threshold", 1, T_NUMBER_OR_NULL},
    {"raw_message_retention_days", 1, T_INT},
    {"raw_message_retention_size", 1, T_INT},
    {"message_retention_days", 1, T_INT},
    {"suspended", 0, T_BOOL},
    {"postmaster_address", 1, T_STRING_OR_NULL},
};
#define N_SERVER_FIELDS (sizeof(server_fields) / sizeof(server_fields[0]))

/* Checks the types of the server fields in the body (errors added) and whether the
 * principal may change them. -1 after answering 403 for suspension by a non-admin. */
static int
check_server_fields(MGMT_CALL *c, int creating)
{
    const char *known[N_SERVER_FIELDS + 3];
    json_t *v0;
    size_t n = 0;

    if (json_object_get(c->body, "suspended") && !c->p.is_admin) {
        mgmt_reply_forbidden(c, "Only installation administrators suspend or unsuspend servers.");
        return -1;
    }
    for (size_t i = 0; i < N_SERVER_FIELDS; i++)
        known[n++] = server_fields[i].name;
    known[n++] = "ip_pool";
    if (creating)
        known[n++] = "permalink";
    else if (json_object_get(c->body, "permalink"))
        mgmt_field_error(c, "permalink", "cannot be changed");
    known[n] = NULL;
    mgmt_check_known(c, known);
    mgmt_field_name(c, "name", creating);
    for (size_t i = 1; i < N_SERVER_FIELDS; i++) {
        const char *f = server_fields[i].name;
        json_t *v = json_object_get(c->body, f);

        if (v == NULL)
            continue;
        switch (server_fields[i].type) {
        case T_STRING:
        case T_STRING_OR_NULL:
            if (!json_is_string(v) && !(server_fields[i].type == T_STRING_OR_NULL && json_is_null(v)))
                mgmt_field_error(c, f, "must be a string%s", server_fields[i].type == T_STRING_OR_NULL ? " or null" : "");
            break;
        case T_BOOL:
            if (!json_is_boolean(v))
                mgmt_field_error(c, f, "must be true or false");
            break;
        case T_INT_OR_NULL:
        case T_INT:
            if (!json_is_integer(v) && !(server_fields[i].type == T_INT_OR_NULL && json_is_null(v)))
                mgmt_field_error(c, f, "must be a whole number%s", server_fields[i].type == T_INT_OR_NULL ? " or null" : "");
            break;
        case T_NUMBER:
        case T_NUMBER_OR_NULL:
            if (!json_is_number(v) && !(server_fields[i].type == T_NUMBER_OR_NULL && json_is_null(v)))
                mgmt_field_error(c, f, "must be a number%s", server_fields[i].type == T_NUMBER_OR_NULL ? " or null" : "");
            break;
        }
    }
    /* In the API's words rather than server_set()'s (which speaks postgatectl's). */
    if ((v0 = json_object_get(c->body, "mode")) && json_is_string(v0) && strcmp(json_string_value(v0), "Live") != 0
        && strcmp(json_string_value(v0), "Development") != 0)
        mgmt_field_error(c, "mode", "must be Live or Development");
    if ((v0 = json_object_get(c->body, "ip_pool")) && !json_is_null(v0)
        && (!json_is_string(v0) || !auth_uuid_ok(json_string_value(v0))))
        mgmt_field_error(c, "ip_pool", "must be the uuid of an IP pool of the organization, or null");
    if ((v0 = json_object_get(c->body, "send_limit")) && json_is_integer(v0)
        && (json_integer_value(v0) < 0 || json_integer_value(v0) > 4294967295LL))
        mgmt_field_error(c, "send_limit", "must be a whole number of messages per hour from 0 to 4294967295, or null");
    return 0;
}

/* The server's pool from "ip_pool" (a pool uuid assigned to the organization, or null):
 * 0 done or not given, 1 refused (error added), < 0 database error. */
static int
apply_ip_pool(MGMT_CALL *c, unsigned long long id)
{
    json_t *v = json_object_get(c->body, "ip_pool");
    unsigned long long pool = 0;
    SERVER server;
    int ret;

    if (v == NULL)
        return 0;
    if (!json_is_null(v)) {
        if ((ret = server_by_id(c->db, id, &server)) <= 0)
            return ret < 0 ? ret : DB_ERR_PERM;
        if ((ret = ippool_find_for_org(c->db, server.org_id, json_string_value(v), &pool)) < 0)
            return ret;
        if (ret == 0) {
            mgmt_field_error(c, "ip_pool", "is not an IP pool of this organization");
            return 1;
        }
    }
    return ippool_server_set(c->db, id, pool);
}

/* Applies the server fields of the body to server id (in the caller's transaction).
 * 0 done, 1 some value was refused (errors added), < 0 database error. */
static int
apply_server_fields(MGMT_CALL *c, unsigned long long id, int creating)
{
    int refused = 0, ret;

    for (size_t i = 0; i < N_SERVER_FIELDS; i++) {
        const char *f = server_fields[i].name;
        json_t *v = json_object_get(c->body, f);
        char text[64], *error = NULL;
        const char *value = text;

        /* At creation server_create() took these already. */
        if (v == NULL || (creating && (strcmp(f, "name") == 0 || strcmp(f, "mode") == 0
                                        || strcmp(f, "send_limit") == 0 || strcmp(f, "allow_sender") == 0)))
            continue;
        if (json_is_null(v))
            value = "none";
        else if (json_is_string(v))
            value = json_string_value(v);
        else if (json_is_boolean(v))
            value = json_is_true(v) ? "true" : "false";
        else if (json_is_integer(v))
            snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            snprintf(text, sizeof(text), "%.17g", json_real_value(v));
        ret = server_fields[i].more ? server_set_more(c->db, id, f, value, &error)
            : server_set(c->db, id, f, value, &error);
        if (ret == 0) {
            /* "send_limit must be ..." reads as "must be ..." under the field's name. */
            const char *msg = error;

            if (strncmp(msg, f, strlen(f)) == 0 && msg[strlen(f)] == ' ')
                msg += strlen(f) + 1;
            mgmt_field_error(c, f, "%s", msg);
            refused = 1;
        }
        mem_free(error);
        if (ret < 0)
            return ret;
    }
    if ((ret = apply_ip_pool(c, id)) < 0)
        return ret;
    return refused || ret;
}

/* Adds the server's IP pool ("ip_pool": uuid or null) to its JSON; returns server. */
static json_t *
with_ip_pool(MGMT_CALL *c, json_t *server, unsigned long long id)
{
    char uuid[37];

    if (server && ippool_server_pool(c->db, id, uuid) > 0)
        json_object_set_new(server, "ip_pool", json_string(uuid));
    else if (server)
        json_object_set_new(server, "ip_pool", json_null());
    return server;
}

static void
mgmt_v2_servers_list(HTTP_REQUEST *req, void *arg)
{
    SERVER_DETAILS *list = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_org(&c, AUTH_ROLE_READONLY, &o) == 0) {
        if ((ret = server_details_list(c.db, o.id, NULL, &list)) < 0) {
            mgmt_reply_db(&c, "server list", ret);
        } else {
            json_t *a = json_array();

            for (int i = 0; i < ret; i++)
                json_array_append_new(a, with_ip_pool(&c, mgmt_server_json(&list[i], http_path_arg(req, 0)), list[i].id));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "servers", a));
        }
    }
    mem_free(list);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_servers_create(HTTP_REQUEST *req, void *arg)
{
    SERVER_SETTINGS s = {.send_limit = -1};
    const char *permalink;
    char *why = NULL;
    unsigned long long id = 0;
    char *error = NULL;
    json_t *v, *server;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_org(&c, AUTH_ROLE_ADMIN, &o) != 0
        || check_server_fields(&c, 1) != 0)
        goto out;
    permalink = mgmt_field_string(&c, "permalink", 1, 64);
    if (permalink && !org_permalink_ok(permalink, &why))
        mgmt_field_error(&c, "permalink", "%s", why);
    mem_free(why);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    s.name = json_string_value(json_object_get(c.body, "name"));
    s.permalink = permalink;
    s.development = (v = json_object_get(c.body, "mode")) && strcmp(json_string_value(v), "Development") == 0;
    if ((v = json_object_get(c.body, "send_limit")) && json_is_integer(v))
        s.send_limit = json_integer_value(v);
    s.allow_sender = json_is_true(json_object_get(c.body, "allow_sender"));
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = server_create(c.db, o.id, &s, &id, &error);
    if (ret == 0 && db_errno(c.db) == DB_ER_DUP_ENTRY) {
        mgmt_field_error(&c, "permalink", "is already taken in this organization");
        mgmt_reply_conflict(&c, "PermalinkTaken", "The organization has a server with this permalink.", NULL);
        goto out;
    }
    if (ret == 0) {
        mgmt_field_error(&c, "server", "%s", error);
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (ret < 0 || (ret = apply_server_fields(&c, id, 1)) < 0) {
        mgmt_reply_db(&c, "server create", ret);
        goto out;
    }
    if (ret > 0) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created server %s/%s", c.p.user_id, http_path_arg(req, 0), permalink);
    if ((server = mgmt_find_server(&c, &o, permalink, &id)) != NULL)
        mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "server", with_ip_pool(&c, server, id)));
out:
    mem_free(error);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_server_get(HTTP_REQUEST *req, void *arg)
{
    unsigned long long id = 0;
    json_t *server;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_org(&c, AUTH_ROLE_READONLY, &o) == 0
        && (server = mgmt_find_server(&c, &o, http_path_arg(req, 1), &id)) != NULL)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "server", with_ip_pool(&c, server, id)));
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* Changing or deleting a server needs an organization admin: 1, or 0 after the 403. */
static int
admin_only(MGMT_CALL *c, const MGMT_ORG *o)
{
    char *message;

    if (o->role >= AUTH_ROLE_ADMIN)
        return 1;
    message = buf_asprintf("Your role in this organization (%s) does not allow this; it needs admin.",
                           auth_role_name(o->role));
    mgmt_reply_forbidden(c, message);
    mem_free(message);
    return 0;
}

static void
mgmt_v2_server_update(HTTP_REQUEST *req, void *arg)
{
    unsigned long long id = 0;
    json_t *server;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret, suspending = 0;

    /* The server is looked up before the role is judged too low: a member learns only
     * what GET already tells them. */
    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_org(&c, AUTH_ROLE_READONLY, &o) != 0
        || mgmt_server_id(&c, &o, http_path_arg(req, 1), &id) != 0)
        goto out;
    if (!admin_only(&c, &o))
        goto out;
    if (check_server_fields(&c, 0) != 0)
        goto out;
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    /* Suspending a server that is not suspended yet: its organization's admins are told. */
    if (json_is_true(json_object_get(c.body, "suspended"))) {
        json_t *before = mgmt_find_server(&c, &o, http_path_arg(req, 1), NULL);

        if (before == NULL)
            goto out;
        suspending = !json_is_true(json_object_get(before, "suspended"));
        json_decref(before);
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = apply_server_fields(&c, id, 0)) < 0) {
        mgmt_reply_db(&c, "server update", ret);
        goto out;
    }
    if (ret > 0) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed server %s/%s", c.p.user_id, http_path_arg(req, 0), http_path_arg(req, 1));
    if (suspending && (ret = notice_suspension(c.db, req->cfg, o.id, id, NULL)) >= 0)
        msg_info("server %s/%s suspended: notice mailed to %d owners and admins", http_path_arg(req, 0),
                 http_path_arg(req, 1), ret);
    if ((server = mgmt_find_server(&c, &o, http_path_arg(req, 1), NULL)) != NULL)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "server", with_ip_pool(&c, server, id)));
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* DELETE …/servers/{server}: organization admins. The server goes at once (its permalink is
 * free again, its credentials and mailboxes stop, its domains lose their verification);
 * postgate-worker removes its messages and the rest in the background (job server_purge). */
static void
mgmt_v2_server_delete(HTTP_REQUEST *req, void *arg)
{
    unsigned long long id = 0;
    json_t *server = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_org(&c, AUTH_ROLE_READONLY, &o) != 0
        || (server = mgmt_find_server(&c, &o, http_path_arg(req, 1), &id)) == NULL)
        goto out;
    if (!admin_only(&c, &o))
        goto out;
    if ((ret = server_delete(c.db, id)) < 0) {
        mgmt_reply_db(&c, "server delete", ret);
        goto out;
    }
    msg_info("user %llu: deleted server %s/%s; its data goes in the background", c.p.user_id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:O, s:b}", "uuid", json_object_get(server, "uuid"), "deleted", 1));
out:
    json_decref(server);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_servers_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers", mgmt_v2_servers_list},
    {"POST", "/api/v2/organizations/{}/servers", mgmt_v2_servers_create},
    {"GET", "/api/v2/organizations/{}/servers/{}", mgmt_v2_server_get},
    {"PATCH", "/api/v2/organizations/{}/servers/{}", mgmt_v2_server_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}", mgmt_v2_server_delete},
    {NULL, NULL, NULL},
};
