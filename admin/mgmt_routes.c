/*
 * mgmt_routes.c -- a server's incoming routes, …/servers/{server}/routes (doc/api.md):
 * name@domain (a domain of the server), mode, spam mode, the endpoint and additional
 * endpoints; rows are lib/mail/route.c's.
 *
 * Must never: let a route use another server's domain, an unverified domain or another
 * server's endpoint, or leave a route in mode Endpoint without an endpoint.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/domain.h"
#include "mail/endpoint.h"
#include "mail/route.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define ROUTE_MAX_ADDITIONAL 20

static json_t *
endpoint_ref_json(const char *type, const char *uuid)
{
    return type ? json_pack("{s:s, s:o}", "type", type, "uuid", mgmt_jstr(uuid)) : json_null();
}

static json_t *
route_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const ROUTE_ROW *rt = row;
    char *address = buf_asprintf("%s@%s", rt->name, rt->domain);
    char *token_address = buf_asprintf("%s@%s", rt->token, c->req->cfg->dns_route_domain);
    json_t *extra = json_array(), *o;
    DB_ROWS x = {0};

    (void) r;
    if (route_additional_list(c->db, rt->id, &x) >= 0)
        for (size_t i = 0; i < x.n; i++) {
            const ROUTE_ENDPOINT_REF *ref = (const ROUTE_ENDPOINT_REF *) x.v + i;

            json_array_append_new(extra, endpoint_ref_json(ref->type, ref->uuid));
        }
    db_rows_free(&x);
    o = json_pack("{s:o, s:o, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "uuid", mgmt_jstr(rt->uuid), "name", mgmt_jstr(rt->name), "domain", mgmt_jstr(rt->domain),
                  "address", address, "token", mgmt_jstr(rt->token), "token_address", token_address,
                  "mode", mgmt_jstr(rt->mode), "spam_mode", mgmt_jstr(rt->spam_mode),
                  "endpoint", endpoint_ref_json(rt->endpoint_type, rt->endpoint_uuid),
                  "additional_endpoints", extra, "created_at", mgmt_jstr(rt->created_at),
                  "updated_at", mgmt_jstr(rt->updated_at));
    mem_free(address);
    mem_free(token_address);
    return o;
}

static const MGMT_RESOURCE routes = {
    .what = "route", .one = "route", .many = "routes",
    .size = sizeof(ROUTE_ROW), .id_off = offsetof(ROUTE_ROW, id), .uuid_off = offsetof(ROUTE_ROW, uuid),
    .list = route_list, .json = route_json, .delete_id = route_delete,
};

MGMT_LIST_HANDLER(mgmt_v2_routes, routes)
MGMT_GET_HANDLER(mgmt_v2_route, routes)
MGMT_DELETE_HANDLER(mgmt_v2_route, routes)

/* An endpoint reference {"type","uuid"} v of field (label names it in errors) into *out:
 * 1 good, 0 bad (error added), < 0 database error. */
static int
endpoint_ref(MGMT_CALL *c, const char *field, const char *label, json_t *v, unsigned long long server_id,
             ROUTE_ENDPOINT *out)
{
    json_t *type = json_object_get(v, "type"), *uuid = json_object_get(v, "uuid");
    unsigned long long owner = 0;
    int ret;

    if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_string(type) || !json_is_string(uuid)) {
        mgmt_field_error(c, field, "%smust be an object {\"type\": \"HTTPEndpoint\"|\"SMTPEndpoint\"|\"AddressEndpoint\", "
                    "\"uuid\": \"…\"}", label);
        return 0;
    }
    if (endpoint_type_parse(json_string_value(type), &out->type) < 0) {
        mgmt_field_error(c, field, "%stype must be HTTPEndpoint, SMTPEndpoint or AddressEndpoint", label);
        return 0;
    }
    if (!auth_uuid_ok(json_string_value(uuid))) {
        mgmt_field_error(c, field, "%suuid is not a UUID", label);
        return 0;
    }
    if ((ret = endpoint_find(c->db, out->type, json_string_value(uuid), &out->id, &owner)) < 0)
        return ret;
    if (ret == 0) {
        mgmt_field_error(c, field, "%sthere is no %s with this uuid", label, json_string_value(type));
        return 0;
    }
    if (owner != server_id) {
        mgmt_field_error(c, field, "%sis an endpoint of another server; a route uses its own server's endpoints", label);
        return 0;
    }
    return 1;
}

/* The additional_endpoints array of the body into a mem_alloc'd *list_r (*n_r items):
 * 1 given and good, 0 absent or bad (error added), < 0 database error. */
static int
additional_field(MGMT_CALL *c, unsigned long long server_id, ROUTE_ENDPOINT **list_r, size_t *n_r)
{
    json_t *v = json_object_get(c->body, "additional_endpoints"), *item;
    size_t i;
    int ret, good = 1;

    *list_r = NULL;
    *n_r = 0;
    if (v == NULL)
        return 0;
    if (!json_is_array(v) || json_array_size(v) > ROUTE_MAX_ADDITIONAL) {
        mgmt_field_error(c, "additional_endpoints", "must be a list of at most %d endpoints", ROUTE_MAX_ADDITIONAL);
        return 0;
    }
    *list_r = mem_zalloc((json_array_size(v) + 1) * sizeof(**list_r));
    json_array_foreach(v, i, item) {
        char label[32];

        snprintf(label, sizeof(label), "item %zu: ", i + 1);
        if ((ret = endpoint_ref(c, "additional_endpoints", label, item, server_id, &(*list_r)[i])) < 0)
            return ret;
        good &= ret;
    }
    *n_r = json_array_size(v);
    return good;
}

/* The domain field (a verified domain of the server) into *id_r: 1 good, 0 absent or bad (error
 * added when bad or required), < 0 database error. */
static int
domain_field(MGMT_CALL *c, unsigned long long server_id, int required, unsigned long long *id_r)
{
    const char *given = mgmt_field_string(c, "domain", required, 253);
    DB_ROWS res = {0};
    char name[254];
    int ret;

    if (given == NULL)
        return 0;
    if (!domain_name_normalize(given, name, sizeof(name))) {
        mgmt_field_error(c, "domain", "must be a domain name of this server, such as example.com");
        return 0;
    }
    if ((ret = domain_server_list(c->db, server_id, name, &res)) > 0) {
        const DOMAIN_ROW *d = res.v;

        *id_r = d->id;
        /* Only a verified domain receives mail: a route on an unverified name would let
         * anyone steer mail for a domain they do not hold. */
        if (!d->verified) {
            mgmt_field_error(c, "domain", "is not verified: verify it (POST …/domains/%s/verify) before routing its mail",
                        name);
            ret = 0;
        }
    } else if (ret == 0) {
        mgmt_field_error(c, "domain", "is not a domain of this server (add it under …/domains first)");
    }
    db_rows_free(&res);
    return ret;
}

/* The fields a create and an update share. */
typedef struct route_input {
    char name[ROUTE_NAME_MAX + 1];
    int has_name;
    unsigned long long domain_id;
    const char *mode;
    const char *spam_mode;
    int endpoint_given;         /* the key is in the body (null or an object) */
    int has_endpoint;           /* ... and is an object that checked out */
    ROUTE_ENDPOINT endpoint;
    int additional_given;
    ROUTE_ENDPOINT *additional;
    size_t nadditional;
} ROUTE_INPUT;

/* Reads the body into *in (errors added): 0, or < 0 database error (not answered). */
static int
route_fields(MGMT_CALL *c, unsigned long long server_id, int creating, ROUTE_INPUT *in)
{
    static const char *const known[] = {"name", "domain", "mode", "spam_mode", "endpoint", "additional_endpoints", NULL};
    const char *name;
    char *why = NULL;
    json_t *ep;
    int ret;

    mgmt_check_known(c, known);
    name = mgmt_field_string(c, "name", creating, ROUTE_NAME_MAX);
    if (name && !route_name_normalize(name, in->name, sizeof(in->name), &why))
        mgmt_field_error(c, "name", "%s", why);
    else
        in->has_name = name != NULL;
    mem_free(why);
    if ((ret = domain_field(c, server_id, creating, &in->domain_id)) < 0)
        return ret;
    in->mode = mgmt_field_string(c, "mode", 0, 16);
    if (in->mode && !route_mode_ok(in->mode)) {
        mgmt_field_error(c, "mode", "must be Endpoint, Accept, Hold, Bounce or Reject");
        in->mode = NULL;
    }
    in->spam_mode = mgmt_field_string(c, "spam_mode", 0, 16);
    if (in->spam_mode && !route_spam_mode_ok(in->spam_mode)) {
        mgmt_field_error(c, "spam_mode", "must be Mark, Quarantine or Fail");
        in->spam_mode = NULL;
    }
    ep = json_object_get(c->body, "endpoint");
    in->endpoint_given = ep != NULL;
    if (ep && !json_is_null(ep)) {
        if ((ret = endpoint_ref(c, "endpoint", "", ep, server_id, &in->endpoint)) < 0)
            return ret;
        in->has_endpoint = ret;
    }
    in->additional_given = json_object_get(c->body, "additional_endpoints") != NULL;
    if ((ret = additional_field(c, server_id, &in->additional, &in->nadditional)) < 0)
        return ret;
    return 0;
}

/* Mode and endpoint together: a route in mode Endpoint has one, others have none. */
static void
check_mode_endpoint(MGMT_CALL *c, const char *mode, int has_endpoint, int endpoint_given_object)
{
    if (strcmp(mode, "Endpoint") == 0 && !has_endpoint && !json_object_get(c->errors, "endpoint"))
        mgmt_field_error(c, "endpoint", "is required in mode Endpoint");
    else if (strcmp(mode, "Endpoint") != 0 && endpoint_given_object)
        mgmt_field_error(c, "endpoint", "is only used in mode Endpoint (this route's mode is %s)", mode);
}

/* Answers 409 RouteTaken for name@domain. */
static void
reply_taken(MGMT_CALL *c)
{
    mgmt_field_error(c, "name", "is already a route of this domain");
    mgmt_reply_conflict(c, "RouteTaken", "The domain already has a route with this name.", NULL);
}

static void
mgmt_v2_routes_create(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id = 0;
    char token[ROUTE_TOKEN_LEN + 1];
    ROUTE_INPUT in = {0};
    const char *mode;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    if ((ret = route_fields(&c, server_id, 1, &in)) < 0) {
        mgmt_reply_db(&c, "route check", ret);
        goto out;
    }
    mode = in.mode ? in.mode : "Endpoint";
    if (!json_object_get(c.errors, "mode"))
        check_mode_endpoint(&c, mode, in.has_endpoint, in.has_endpoint);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = route_create(c.db, server_id, in.domain_id, in.name, mode, in.spam_mode ? in.spam_mode : "Mark",
                       in.has_endpoint ? &in.endpoint : NULL, token, &id);
    if (ret == 0) {
        reply_taken(&c);
        goto out;
    }
    if (ret < 0 || (ret = route_set_additional(c.db, id, in.additional, in.nadditional)) < 0) {
        mgmt_reply_db(&c, "route create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created route %llu (%s) of server %s/%s", c.p.user_id, id, in.name, http_path_arg(req, 0),
             http_path_arg(req, 1));
    mgmt_reply_again(&c, &routes, server_id, NULL, id, MHD_HTTP_CREATED);
out:
    mem_free(in.additional);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_route_update(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id;
    ROUTE_INPUT in = {0};
    DB_ROWS rows = {0};
    const ROUTE_ROW *row;
    const char *mode;
    int has_endpoint, set_endpoint;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || mgmt_find(&c, &routes, server_id, &rows) != 1)
        goto out;
    row = rows.v;
    id = row->id;
    if ((ret = route_fields(&c, server_id, 0, &in)) < 0) {
        mgmt_reply_db(&c, "route check", ret);
        goto out;
    }
    /* What the route will be: the body over the row. */
    mode = in.mode ? in.mode : row->mode;
    has_endpoint = in.endpoint_given ? in.has_endpoint : row->endpoint_type != NULL;
    if (!json_object_get(c.errors, "mode"))
        check_mode_endpoint(&c, mode, has_endpoint, in.endpoint_given && in.has_endpoint);
    /* Leaving mode Endpoint drops the endpoint. */
    set_endpoint = in.endpoint_given || strcmp(mode, "Endpoint") != 0;
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = route_update(c.db, server_id, id, in.domain_id, in.has_name ? in.name : NULL, in.mode, in.spam_mode,
                       set_endpoint, in.has_endpoint && strcmp(mode, "Endpoint") == 0 ? &in.endpoint : NULL);
    if (ret == 0) {
        reply_taken(&c);
        goto out;
    }
    if (ret < 0 || (in.additional_given && (ret = route_set_additional(c.db, id, in.additional, in.nadditional)) < 0)) {
        mgmt_reply_db(&c, "route update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed route %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    mgmt_reply_again(&c, &routes, server_id, NULL, id, MHD_HTTP_OK);
out:
    mem_free(in.additional);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_routes_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/routes", mgmt_v2_routes_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/routes", mgmt_v2_routes_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/routes/{}", mgmt_v2_route_get},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/routes/{}", mgmt_v2_route_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/routes/{}", mgmt_v2_route_delete},
    {NULL, NULL, NULL},
};
