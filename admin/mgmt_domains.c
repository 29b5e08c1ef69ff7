/*
 * mgmt_domains.c -- a server's sending domains, …/servers/{server}/domains
 * (doc/api.md): DKIM keys and the DNS records to publish; rows are lib/mail/domain.c's.
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

#include "mail/domain.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* ---------------------------------------------------------------- a server's domains */


static json_t *
domain_json(CALL *c, const DB_RESULT *res, size_t row)
{
    unsigned long long id = strtoull(db_result_get(res, row, DOMAIN_COL_ID), NULL, 10);
    json_t *keys = json_array();
    DB_RESULT *k = NULL;

    if (domain_dkim_list(c->db, id, &k) >= 0)
        for (size_t i = 0; i < db_result_rows(k); i++)
            json_array_append_new(keys, json_pack("{s:o, s:o, s:o}", "selector", jstr(db_result_get(k, i, 0)),
                                                  "algorithm", jstr(db_result_get(k, i, 1)),
                                                  "state", jstr(db_result_get(k, i, 2))));
    db_result_free(k);
    return json_pack("{s:o, s:o, s:b, s:o, s:o, s:o}", "uuid", jstr(db_result_get(res, row, DOMAIN_COL_UUID)),
                     "name", jstr(db_result_get(res, row, DOMAIN_COL_NAME)),
                     "verified", atoi(db_result_get(res, row, DOMAIN_COL_VERIFIED)) != 0,
                     "verification_method", jstr(db_result_get(res, row, DOMAIN_COL_METHOD)),
                     "dkim_keys", keys, "created_at", jstr(db_result_get(res, row, DOMAIN_COL_CREATED)));
}

/* The domain of path argument 2 as a row of *res_r: 1, or 0/-1 after answering. */
static int
find_domain(CALL *c, unsigned long long server_id, DB_RESULT **res_r)
{
    char name[254];
    int ret;

    *res_r = NULL;
    if (!domain_name_normalize(http_path_arg(c->req, 2), name, sizeof(name))) {
        reply_not_found(c, "domain");
        return 0;
    }
    if ((ret = domain_server_list(c->db, server_id, name, res_r)) < 0) {
        reply_db(c, "domain lookup", ret);
        return -1;
    }
    if (ret == 0)
        reply_not_found(c, "domain");
    return ret > 0;
}

/* One domain answered with its DNS records. */
static void
reply_domain(CALL *c, const DB_RESULT *res, unsigned status)
{
    json_t *d = domain_json(c, res, 0);
    char *zone = domain_dns_records(c->db, c->req->cfg, strtoull(db_result_get(res, 0, DOMAIN_COL_ID), NULL, 10));

    if (zone == NULL) {
        json_decref(d);
        reply_db(c, "domain DNS records", DB_ERR_TEMP);
        return;
    }
    json_object_set_new(d, "dns_records", json_string(zone));
    mem_free(zone);
    reply_ok(c, status, json_pack("{s:o}", "domain", d));
}

static void
mgmt_v2_domains_list(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) == 0 && load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0) {
        if ((ret = domain_server_list(c.db, server_id, NULL, &res)) < 0) {
            reply_db(&c, "domain list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++)
                json_array_append_new(a, domain_json(&c, res, i));
            reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "domains", a));
        }
    }
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

static void
mgmt_v2_domains_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "ed25519", "verified", NULL};
    DOMAIN_CREATE_ARGS args = {0};
    unsigned long long server_id = 0, id = 0;
    char name[254], *error = NULL;
    DB_RESULT *res = NULL;
    const char *given;
    int verified, ed25519, ret;
    CALL c;
    ORG o = {0};

    if (call_begin(&c, req, arg, NEED_BODY) != 0 || load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    if (json_is_true(json_object_get(c.body, "verified")) && !c.p.is_admin) {
        reply_forbidden(&c, "Only installation administrators mark domains verified.");
        goto out;
    }
    check_known(&c, known);
    given = field_string(&c, "name", 1, 253);
    if (given && !domain_name_normalize(given, name, sizeof(name)))
        field_error(&c, "name", "must be a domain name such as example.com (letters, digits, inner hyphens, "
                    "at least two labels)");
    verified = field_bool(&c, "verified");
    ed25519 = field_bool(&c, "ed25519");
    if (has_errors(&c)) {
        reply_invalid(&c);
        goto out;
    }
    if ((ret = domain_server_list(c.db, server_id, name, &res)) < 0) {
        reply_db(&c, "domain lookup", ret);
        goto out;
    }
    db_result_free(res);
    res = NULL;
    if (ret > 0) {
        field_error(&c, "name", "is already a domain of this server");
        http_reply_json(req, MHD_HTTP_CONFLICT, json_pack("{s:s, s:{s:s, s:s, s:O}}", "status", "error", "data",
                                                          "code", "DomainTaken", "message",
                                                          "The server has a domain with this name.", "errors", c.errors));
        goto out;
    }
    /* domain_create() runs its own transaction: the domain and its keys, or nothing. */
    args.server_id = server_id;
    args.name = name;
    args.verified = verified > 0;
    args.ed25519 = ed25519 > 0;
    ret = domain_create(c.db, c.m->seal, req->cfg, &args, &id, &error);
    if (ret == 0) {
        field_error(&c, "name", "%s", error);
        reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        msg_warn("%s %s: domain create: %s", req->method, req->path, error ? error : "");
        reply_db(&c, "domain create", ret);
        goto out;
    }
    msg_info("user %llu: created domain %s of server %s/%s", c.p.user_id, name, http_path_arg(req, 0),
             http_path_arg(req, 1));
    if ((ret = domain_server_list(c.db, server_id, name, &res)) <= 0)
        reply_db(&c, "domain reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        reply_domain(&c, res, MHD_HTTP_CREATED);
out:
    mem_free(error);
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

static void
mgmt_v2_domain_get(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};

    if (call_begin(&c, req, arg, 0) == 0 && load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0
        && find_domain(&c, server_id, &res) == 1)
        reply_domain(&c, res, MHD_HTTP_OK);
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

static void
mgmt_v2_domain_delete(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    CALL c;
    ORG o = {0};
    int ret;

    if (call_begin(&c, req, arg, 0) != 0 || load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_domain(&c, server_id, &res) != 1 || txn_begin(&c) < 0)
        goto out;
    ret = domain_server_delete(c.db, server_id, strtoull(db_result_get(res, 0, DOMAIN_COL_ID), NULL, 10));
    if (ret < 0) {
        reply_db(&c, "domain delete", ret);
        goto out;
    }
    if (txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted domain %s of server %s/%s", c.p.user_id, db_result_get(res, 0, DOMAIN_COL_NAME),
             http_path_arg(req, 0), http_path_arg(req, 1));
    reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:o, s:b}", "uuid", jstr(db_result_get(res, 0, DOMAIN_COL_UUID)),
                                        "name", jstr(db_result_get(res, 0, DOMAIN_COL_NAME)), "deleted", 1));
out:
    db_result_free(res);
    json_decref(o.json);
    call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_domains_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/domains", mgmt_v2_domains_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains", mgmt_v2_domains_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/domains/{}", mgmt_v2_domain_get},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/domains/{}", mgmt_v2_domain_delete},
    {NULL, NULL, NULL},
};
