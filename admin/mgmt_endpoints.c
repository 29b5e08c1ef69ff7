/*
 * mgmt_endpoints.c -- a server's route endpoints, …/servers/{server}/http-endpoints,
 * …/smtp-endpoints and …/address-endpoints (doc/api.md); rows are lib/mail/endpoint.c's.
 * One set of handlers serves the three types; the path says which.
 *
 * Must never: show an SMTP endpoint's password (only whether one is set), or delete an
 * endpoint a route still delivers to (409 EndpointInUse names the routes).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/domain.h"
#include "mail/endpoint.h"
#include "mail/route.h"
#include "mail/suppression.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/netaddr.h"

#define URL_MAX_BYTES 2048
#define SMTP_SECRET_MAX_BYTES 255


static json_t *
endpoint_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const ENDPOINT_ROW *e = row;
    json_t *o = json_pack("{s:o, s:s}", "uuid", mgmt_jstr(e->uuid), "type", endpoint_type_name((ENDPOINT_TYPE) r->kind));

    (void) c;
    switch ((ENDPOINT_TYPE) r->kind) {
    case EP_TYPE_HTTP:
        json_object_set_new(o, "name", mgmt_jstr(e->name));
        json_object_set_new(o, "url", mgmt_jstr(e->url));
        json_object_set_new(o, "encoding", mgmt_jstr(e->encoding));
        json_object_set_new(o, "format", mgmt_jstr(e->format));
        json_object_set_new(o, "strip_replies", json_boolean(e->strip_replies));
        json_object_set_new(o, "include_attachments", json_boolean(e->include_attachments));
        json_object_set_new(o, "timeout", json_integer(e->timeout));
        break;
    case EP_TYPE_SMTP:
        json_object_set_new(o, "name", mgmt_jstr(e->name));
        json_object_set_new(o, "hostname", mgmt_jstr(e->hostname));
        json_object_set_new(o, "port", json_integer(e->port));
        json_object_set_new(o, "ssl_mode", mgmt_jstr(e->ssl_mode));
        json_object_set_new(o, "username", mgmt_jstr(e->username));
        json_object_set_new(o, "password_set", json_boolean(e->has_password));
        break;
    case EP_TYPE_ADDRESS:
        json_object_set_new(o, "address", mgmt_jstr(e->name));
        break;
    }
    json_object_set_new(o, "last_used_at", mgmt_jstr(e->last_used_at));
    json_object_set_new(o, "created_at", mgmt_jstr(e->created_at));
    json_object_set_new(o, "updated_at", mgmt_jstr(e->updated_at));
    return o;
}

static int
endpoint_load(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const char *uuid,
              unsigned long long id, DB_ROWS *rows)
{
    if (uuid && !auth_uuid_ok(uuid))
        return 0;
    return endpoint_rows(c->db, (ENDPOINT_TYPE) r->kind, server_id, uuid, id, rows);
}

/* No route may deliver to a deleted endpoint: 409 EndpointInUse naming them. */
static int
endpoint_unused(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    DB_ROWS users = {0};
    int ret = route_using_endpoint(c->db, (ENDPOINT_TYPE) r->kind, ((const ENDPOINT_ROW *) row)->id, &users);

    if (ret > 0) {
        const char *const *address = users.v;
        json_t *names = json_array();
        BUF *message = buf_new(128);

        buf_printf(message, "The %s is used by route%s ", r->what, ret > 1 ? "s" : "");
        for (size_t i = 0; i < users.n; i++) {
            buf_printf(message, "%s%s", i ? ", " : "", address[i]);
            json_array_append_new(names, mgmt_jstr(address[i]));
        }
        buf_append_str(message, "; change or delete those routes first.");
        mgmt_reply_conflict(c, "EndpointInUse", buf_cstr(message), json_pack("{s:o}", "routes", names));
        buf_free(message);
    }
    db_rows_free(&users);
    return ret < 0 ? ret : ret == 0;
}

static int
endpoint_remove(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const void *row)
{
    return endpoint_delete(c->db, (ENDPOINT_TYPE) r->kind, server_id, ((const ENDPOINT_ROW *) row)->id);
}

#define ENDPOINT_RESOURCE(type, name) { \
    .what = name, .one = "endpoint", .many = "endpoints", .kind = type, \
    .size = sizeof(ENDPOINT_ROW), .id_off = offsetof(ENDPOINT_ROW, id), .uuid_off = offsetof(ENDPOINT_ROW, uuid), \
    .load = endpoint_load, .json = endpoint_json, .may_delete = endpoint_unused, .remove = endpoint_remove, \
}

/* What the API calls each type, in ENDPOINT_TYPE order. */
static const MGMT_RESOURCE endpoints[ENDPOINT_TYPES] = {
    ENDPOINT_RESOURCE(EP_TYPE_HTTP, "HTTP endpoint"),
    ENDPOINT_RESOURCE(EP_TYPE_SMTP, "SMTP endpoint"),
    ENDPOINT_RESOURCE(EP_TYPE_ADDRESS, "address endpoint"),
};

/* A string field that must be one of list (NULL-terminated); NULL when absent or wrong. */
static const char *
field_choice(MGMT_CALL *c, const char *name, const char *const *list, const char *words)
{
    const char *v = mgmt_field_string(c, name, 0, 32);

    if (v == NULL)
        return NULL;
    for (size_t i = 0; list[i]; i++)
        if (strcmp(v, list[i]) == 0)
            return v;
    mgmt_field_error(c, name, "must be %s", words);
    return NULL;
}

/* The HTTP endpoint fields of the body into *e (errors added). */
static void
http_fields(MGMT_CALL *c, int creating, ENDPOINT_HTTP *e)
{
    static const char *const known[] = {"name", "url", "encoding", "format", "strip_replies", "include_attachments",
                                        "timeout", NULL};
    static const char *const encodings[] = {"BodyAsJSON", "FormData", NULL};
    static const char *const formats[] = {"Hash", "RawMessage", NULL};
    long long timeout = -1;

    mgmt_check_known(c, known);
    e->name = mgmt_field_name(c, "name", creating);
    e->url = mgmt_field_string(c, "url", creating, URL_MAX_BYTES);
    if (e->url && !mgmt_web_url_ok(e->url)) {
        mgmt_field_error(c, "url", "must be an http:// or https:// URL with a host name, in ASCII (percent-encoded)");
        e->url = NULL;
    }
    if (e->url && !mgmt_outbound_ok(c, "url", e->url, 1))
        e->url = NULL;
    e->encoding = field_choice(c, "encoding", encodings, "BodyAsJSON or FormData");
    e->format = field_choice(c, "format", formats, "Hash or RawMessage");
    e->strip_replies = mgmt_field_bool(c, "strip_replies");
    e->include_attachments = mgmt_field_bool(c, "include_attachments");
    mgmt_field_int(c, "timeout", 5, 60, &timeout);
    e->timeout = (int) timeout;
}

/* 1 when host is a host name or an IP address. */
static int
host_ok(const char *host)
{
    unsigned char ip[NETADDR_LEN];
    char name[254];

    return domain_name_normalize(host, name, sizeof(name)) || netaddr_parse(host, ip) == 0;
}

/* The SMTP endpoint fields of the body into *e (errors added). */
static void
smtp_fields(MGMT_CALL *c, int creating, ENDPOINT_SMTP *e)
{
    static const char *const known[] = {"name", "hostname", "port", "ssl_mode", "username", "password", NULL};
    static const char *const modes[] = {"None", "Auto", "STARTTLS", "TLS", NULL};
    long long port = -1;

    mgmt_check_known(c, known);
    e->name = mgmt_field_name(c, "name", creating);
    e->hostname = mgmt_field_string(c, "hostname", creating, 253);
    if (e->hostname && !host_ok(e->hostname)) {
        mgmt_field_error(c, "hostname", "must be a host name such as mx.example.com or an IP address");
        e->hostname = NULL;
    }
    if (e->hostname && !mgmt_outbound_ok(c, "hostname", e->hostname, 0))
        e->hostname = NULL;
    mgmt_field_int(c, "port", 1, 65535, &port);
    e->port = (int) port;
    e->ssl_mode = field_choice(c, "ssl_mode", modes, "None, Auto, STARTTLS or TLS");
    /* Present and null clears; absent leaves as it is (a create starts without). */
    e->set_username = json_object_get(c->body, "username") != NULL;
    e->username = mgmt_field_text(c, "username", 0, SMTP_SECRET_MAX_BYTES);
    e->set_password = json_object_get(c->body, "password") != NULL;
    e->password = mgmt_field_string(c, "password", 0, SMTP_SECRET_MAX_BYTES);
}

/* The address endpoint's address (normalized into buf) or NULL (error added when given and bad). */
static const char *
address_field(MGMT_CALL *c, int creating, char *buf)
{
    static const char *const known[] = {"address", NULL};
    const char *given;
    char *why = NULL;

    mgmt_check_known(c, known);
    given = mgmt_field_string(c, "address", creating, SUPPRESSION_ADDRESS_MAX);
    if (given && !suppression_address_normalize(given, strlen(given), buf, &why)) {
        mgmt_field_error(c, "address", "%s", why);
        mem_free(why);
        return NULL;
    }
    return given ? buf : NULL;
}

/* POST (creating) or PATCH of an endpoint of type: the body over the row when changing. */
static void
endpoint_write(HTTP_REQUEST *req, void *arg, ENDPOINT_TYPE type, int creating)
{
    unsigned long long server_id = 0, id = 0;
    char address[SUPPRESSION_ADDRESS_MAX + 1];
    ENDPOINT_HTTP h = {0};
    ENDPOINT_SMTP s = {0};
    const char *addr = NULL;
    const ENDPOINT_ROW *row;
    DB_ROWS rows = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || (!creating && mgmt_find(&c, &endpoints[type], server_id, &rows) != 1))
        goto out;
    row = rows.v;
    if (row)
        id = row->id;
    if (type == EP_TYPE_HTTP) {
        http_fields(&c, creating, &h);
    } else if (type == EP_TYPE_SMTP) {
        smtp_fields(&c, creating, &s);
        /* A password stays only with a username. */
        if (row && s.set_username && s.username == NULL && !s.set_password && row->has_password) {
            s.set_password = 1;
            s.password = NULL;
        }
        if (s.password && (row == NULL ? s.username == NULL && !json_object_get(c.body, "username")
                           : s.set_username ? s.username == NULL && json_is_null(json_object_get(c.body, "username"))
                           : row->username == NULL))
            mgmt_field_error(&c, "password", "needs a username");
    } else {
        addr = address_field(&c, creating, address);
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if (type == EP_TYPE_HTTP)
        ret = creating ? endpoint_http_create(c.db, server_id, &h, &id) : endpoint_http_update(c.db, server_id, id, &h);
    else if (type == EP_TYPE_SMTP)
        ret = creating ? endpoint_smtp_create(c.db, c.m->seal, server_id, &s, &id)
            : endpoint_smtp_update(c.db, c.m->seal, server_id, id, &s);
    else
        ret = creating ? endpoint_address_create(c.db, server_id, addr, &id)
            : endpoint_address_update(c.db, server_id, id, addr);
    if (ret < 0) {
        mgmt_reply_db(&c, creating ? "endpoint create" : "endpoint update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: %s %s %llu of server %s/%s", c.p.user_id, creating ? "created" : "changed",
             endpoints[type].what, id, http_path_arg(req, 0), http_path_arg(req, 1));
    mgmt_reply_again(&c, &endpoints[type], server_id, NULL, id, creating ? MHD_HTTP_CREATED : MHD_HTTP_OK);
out:
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* One handler per type and operation (the router passes no more than the path). */
#define ENDPOINT_HANDLERS(prefix, type) \
    MGMT_LIST_HANDLER(prefix, endpoints[type]) \
    MGMT_GET_HANDLER(prefix, endpoints[type]) \
    MGMT_DELETE_HANDLER(prefix, endpoints[type]) \
    static void prefix##_create(HTTP_REQUEST *req, void *arg) { endpoint_write(req, arg, type, 1); } \
    static void prefix##_update(HTTP_REQUEST *req, void *arg) { endpoint_write(req, arg, type, 0); }
ENDPOINT_HANDLERS(mgmt_v2_http_endpoints, EP_TYPE_HTTP)
ENDPOINT_HANDLERS(mgmt_v2_smtp_endpoints, EP_TYPE_SMTP)
ENDPOINT_HANDLERS(mgmt_v2_address_endpoints, EP_TYPE_ADDRESS)

/* The routes of this file (mgmt_v2.h), written out so tools (openapi.t) can read them. */
const MGMT_ROUTE mgmt_endpoints_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/http-endpoints", mgmt_v2_http_endpoints_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/http-endpoints", mgmt_v2_http_endpoints_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/http-endpoints/{}", mgmt_v2_http_endpoints_get},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/http-endpoints/{}", mgmt_v2_http_endpoints_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/http-endpoints/{}", mgmt_v2_http_endpoints_delete},
    {"GET", "/api/v2/organizations/{}/servers/{}/smtp-endpoints", mgmt_v2_smtp_endpoints_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/smtp-endpoints", mgmt_v2_smtp_endpoints_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/smtp-endpoints/{}", mgmt_v2_smtp_endpoints_get},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/smtp-endpoints/{}", mgmt_v2_smtp_endpoints_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/smtp-endpoints/{}", mgmt_v2_smtp_endpoints_delete},
    {"GET", "/api/v2/organizations/{}/servers/{}/address-endpoints", mgmt_v2_address_endpoints_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/address-endpoints", mgmt_v2_address_endpoints_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/address-endpoints/{}", mgmt_v2_address_endpoints_get},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/address-endpoints/{}", mgmt_v2_address_endpoints_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/address-endpoints/{}", mgmt_v2_address_endpoints_delete},
    {NULL, NULL, NULL},
};
