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

/* What the API calls each type, in ENDPOINT_TYPE order. */
static const char *const what[ENDPOINT_TYPES] = {"HTTP endpoint", "SMTP endpoint", "address endpoint"};

static json_t *
jbool(const DB_RESULT *res, size_t row, size_t col)
{
    return json_boolean(atoi(db_result_get(res, row, col)) != 0);
}

static json_t *
jint(const DB_RESULT *res, size_t row, size_t col)
{
    return json_integer(atoll(db_result_get(res, row, col)));
}

static json_t *
endpoint_json(ENDPOINT_TYPE type, const DB_RESULT *res, size_t row)
{
    json_t *o = json_pack("{s:o, s:s}", "uuid", mgmt_jstr(db_result_get(res, row, EP_COL_UUID)), "type",
                          endpoint_type_name(type));

    switch (type) {
    case EP_TYPE_HTTP:
        json_object_set_new(o, "name", mgmt_jstr(db_result_get(res, row, EP_COL_NAME)));
        json_object_set_new(o, "url", mgmt_jstr(db_result_get(res, row, EP_HTTP_COL_URL)));
        json_object_set_new(o, "encoding", mgmt_jstr(db_result_get(res, row, EP_HTTP_COL_ENCODING)));
        json_object_set_new(o, "format", mgmt_jstr(db_result_get(res, row, EP_HTTP_COL_FORMAT)));
        json_object_set_new(o, "strip_replies", jbool(res, row, EP_HTTP_COL_STRIP_REPLIES));
        json_object_set_new(o, "include_attachments", jbool(res, row, EP_HTTP_COL_INCLUDE_ATTACHMENTS));
        json_object_set_new(o, "timeout", jint(res, row, EP_HTTP_COL_TIMEOUT));
        json_object_set_new(o, "last_used_at", mgmt_jstr(db_result_get(res, row, EP_HTTP_COL_LAST_USED)));
        json_object_set_new(o, "created_at", mgmt_jstr(db_result_get(res, row, EP_HTTP_COL_CREATED)));
        json_object_set_new(o, "updated_at", mgmt_jstr(db_result_get(res, row, EP_HTTP_COL_UPDATED)));
        break;
    case EP_TYPE_SMTP:
        json_object_set_new(o, "name", mgmt_jstr(db_result_get(res, row, EP_COL_NAME)));
        json_object_set_new(o, "hostname", mgmt_jstr(db_result_get(res, row, EP_SMTP_COL_HOSTNAME)));
        json_object_set_new(o, "port", jint(res, row, EP_SMTP_COL_PORT));
        json_object_set_new(o, "ssl_mode", mgmt_jstr(db_result_get(res, row, EP_SMTP_COL_SSL_MODE)));
        json_object_set_new(o, "username", mgmt_jstr(db_result_get(res, row, EP_SMTP_COL_USERNAME)));
        json_object_set_new(o, "password_set", jbool(res, row, EP_SMTP_COL_HAS_PASSWORD));
        json_object_set_new(o, "last_used_at", mgmt_jstr(db_result_get(res, row, EP_SMTP_COL_LAST_USED)));
        json_object_set_new(o, "created_at", mgmt_jstr(db_result_get(res, row, EP_SMTP_COL_CREATED)));
        json_object_set_new(o, "updated_at", mgmt_jstr(db_result_get(res, row, EP_SMTP_COL_UPDATED)));
        break;
    case EP_TYPE_ADDRESS:
        json_object_set_new(o, "address", mgmt_jstr(db_result_get(res, row, EP_COL_NAME)));
        json_object_set_new(o, "last_used_at", mgmt_jstr(db_result_get(res, row, EP_ADDRESS_COL_LAST_USED)));
        json_object_set_new(o, "created_at", mgmt_jstr(db_result_get(res, row, EP_ADDRESS_COL_CREATED)));
        json_object_set_new(o, "updated_at", mgmt_jstr(db_result_get(res, row, EP_ADDRESS_COL_UPDATED)));
        break;
    }
    return o;
}

/* The endpoint of path argument 2 as a row of *res_r: 1, or 0/-1 after answering. */
static int
find_endpoint(MGMT_CALL *c, ENDPOINT_TYPE type, unsigned long long server_id, DB_RESULT **res_r)
{
    const char *uuid = http_path_arg(c->req, 2);
    int ret;

    *res_r = NULL;
    if (!auth_uuid_ok(uuid)) {
        mgmt_reply_not_found(c, what[type]);
        return 0;
    }
    if ((ret = endpoint_list(c->db, type, server_id, uuid, 0, res_r)) < 0) {
        mgmt_reply_db(c, "endpoint lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, what[type]);
    return ret > 0;
}

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
    const char *given, *why;

    mgmt_check_known(c, known);
    given = mgmt_field_string(c, "address", creating, SUPPRESSION_ADDRESS_MAX);
    if (given && !suppression_address_normalize(given, strlen(given), buf, &why)) {
        mgmt_field_error(c, "address", "%s", why);
        return NULL;
    }
    return given ? buf : NULL;
}

/* Reads the endpoint id back and answers it with status. */
static void
reply_endpoint(MGMT_CALL *c, ENDPOINT_TYPE type, unsigned long long server_id, unsigned long long id, unsigned status)
{
    DB_RESULT *res = NULL;
    int ret = endpoint_list(c->db, type, server_id, NULL, id, &res);

    if (ret <= 0)
        mgmt_reply_db(c, "endpoint reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        mgmt_reply_ok(c, status, json_pack("{s:o}", "endpoint", endpoint_json(type, res, 0)));
    db_result_free(res);
}

static void
endpoints_list(HTTP_REQUEST *req, void *arg, ENDPOINT_TYPE type)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0) {
        if ((ret = endpoint_list(c.db, type, server_id, NULL, 0, &res)) < 0) {
            mgmt_reply_db(&c, "endpoint list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++)
                json_array_append_new(a, endpoint_json(type, res, i));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "endpoints", a));
        }
    }
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
endpoints_create(HTTP_REQUEST *req, void *arg, ENDPOINT_TYPE type)
{
    unsigned long long server_id = 0, id = 0;
    char address[SUPPRESSION_ADDRESS_MAX + 1];
    ENDPOINT_HTTP h = {0};
    ENDPOINT_SMTP s = {0};
    const char *addr = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret = 0;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    if (type == EP_TYPE_HTTP) {
        http_fields(&c, 1, &h);
    } else if (type == EP_TYPE_SMTP) {
        smtp_fields(&c, 1, &s);
        if (s.password && s.username == NULL && !json_object_get(c.body, "username"))
            mgmt_field_error(&c, "password", "needs a username");
    } else
        addr = address_field(&c, 1, address);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if (type == EP_TYPE_HTTP)
        ret = endpoint_http_create(c.db, server_id, &h, &id);
    else if (type == EP_TYPE_SMTP)
        ret = endpoint_smtp_create(c.db, c.m->seal, server_id, &s, &id);
    else
        ret = endpoint_address_create(c.db, server_id, addr, &id);
    if (ret < 0) {
        mgmt_reply_db(&c, "endpoint create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created %s %llu of server %s/%s", c.p.user_id, what[type], id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    reply_endpoint(&c, type, server_id, id, MHD_HTTP_CREATED);
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
endpoint_get(HTTP_REQUEST *req, void *arg, ENDPOINT_TYPE type)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0
        && find_endpoint(&c, type, server_id, &res) == 1)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "endpoint", endpoint_json(type, res, 0)));
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
endpoint_update(HTTP_REQUEST *req, void *arg, ENDPOINT_TYPE type)
{
    unsigned long long server_id = 0, id;
    char address[SUPPRESSION_ADDRESS_MAX + 1];
    ENDPOINT_HTTP h = {0};
    ENDPOINT_SMTP s = {0};
    const char *addr = NULL;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_endpoint(&c, type, server_id, &res) != 1)
        goto out;
    id = strtoull(db_result_get(res, 0, EP_COL_ID), NULL, 10);
    if (type == EP_TYPE_HTTP) {
        http_fields(&c, 0, &h);
    } else if (type == EP_TYPE_SMTP) {
        smtp_fields(&c, 0, &s);
        /* A password stays only with a username. */
        if (s.set_username && s.username == NULL && !s.set_password
            && atoi(db_result_get(res, 0, EP_SMTP_COL_HAS_PASSWORD)) != 0) {
            s.set_password = 1;
            s.password = NULL;
        }
        if (s.password && (s.set_username ? s.username == NULL && json_is_null(json_object_get(c.body, "username"))
                           : db_result_get(res, 0, EP_SMTP_COL_USERNAME) == NULL))
            mgmt_field_error(&c, "password", "needs a username");
    } else {
        addr = address_field(&c, 0, address);
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if (type == EP_TYPE_HTTP)
        ret = endpoint_http_update(c.db, server_id, id, &h);
    else if (type == EP_TYPE_SMTP)
        ret = endpoint_smtp_update(c.db, c.m->seal, server_id, id, &s);
    else
        ret = endpoint_address_update(c.db, server_id, id, addr);
    if (ret < 0) {
        mgmt_reply_db(&c, "endpoint update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed %s %llu of server %s/%s", c.p.user_id, what[type], id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    reply_endpoint(&c, type, server_id, id, MHD_HTTP_OK);
out:
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
endpoint_delete_one(HTTP_REQUEST *req, void *arg, ENDPOINT_TYPE type)
{
    unsigned long long server_id = 0, id;
    DB_RESULT *res = NULL, *users = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_endpoint(&c, type, server_id, &res) != 1 || mgmt_txn_begin(&c) < 0)
        goto out;
    id = strtoull(db_result_get(res, 0, EP_COL_ID), NULL, 10);
    if ((ret = route_using_endpoint(c.db, type, id, &users)) < 0) {
        mgmt_reply_db(&c, "endpoint users", ret);
        goto out;
    }
    if (ret > 0) {
        json_t *names = json_array();
        BUF *message = buf_new(128);

        buf_printf(message, "The %s is used by route%s ", what[type], ret > 1 ? "s" : "");
        for (size_t i = 0; i < db_result_rows(users); i++) {
            buf_printf(message, "%s%s", i ? ", " : "", db_result_get(users, i, 0));
            json_array_append_new(names, mgmt_jstr(db_result_get(users, i, 0)));
        }
        buf_append_str(message, "; change or delete those routes first.");
        http_reply_json(req, MHD_HTTP_CONFLICT, json_pack("{s:s, s:{s:s, s:s, s:o}}", "status", "error", "data", "code",
                                                          "EndpointInUse", "message", buf_cstr(message), "routes", names));
        buf_free(message);
        goto out;
    }
    if ((ret = endpoint_delete(c.db, type, server_id, id)) < 0) {
        mgmt_reply_db(&c, "endpoint delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted %s %llu of server %s/%s", c.p.user_id, what[type], id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(db_result_get(res, 0, EP_COL_UUID)), "deleted", 1));
out:
    db_result_free(users);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* One handler per type and operation (the router passes no more than the path). */
#define ENDPOINT_HANDLERS(prefix, type) \
    static void prefix##_list(HTTP_REQUEST *req, void *arg) { endpoints_list(req, arg, type); } \
    static void prefix##_create(HTTP_REQUEST *req, void *arg) { endpoints_create(req, arg, type); } \
    static void prefix##_get(HTTP_REQUEST *req, void *arg) { endpoint_get(req, arg, type); } \
    static void prefix##_update(HTTP_REQUEST *req, void *arg) { endpoint_update(req, arg, type); } \
    static void prefix##_delete(HTTP_REQUEST *req, void *arg) { endpoint_delete_one(req, arg, type); }
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
