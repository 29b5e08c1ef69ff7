/*
 * mgmt_domains.c -- a server's sending domains, …/servers/{server}/domains
 * (doc/api.md): DKIM keys and the DNS records to publish, verification by DNS TXT, DNS
 * checks recorded in the row, and DKIM key rotation; rows are lib/mail/domain.c's, DNS
 * lookups lib/mail/dnscheck.c's (through dns.resolver).
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
domain_json(MGMT_CALL *c, const DB_RESULT *res, size_t row)
{
    unsigned long long id = strtoull(db_result_get(res, row, DOMAIN_COL_ID), NULL, 10);
    json_t *keys = json_array();
    DB_RESULT *k = NULL;

    if (domain_dkim_list(c->db, id, &k) >= 0)
        for (size_t i = 0; i < db_result_rows(k); i++)
            json_array_append_new(keys, json_pack("{s:o, s:o, s:o, s:b, s:o, s:o}", "selector", mgmt_jstr(db_result_get(k, i, 0)),
                                                  "algorithm", mgmt_jstr(db_result_get(k, i, 1)),
                                                  "state", mgmt_jstr(db_result_get(k, i, 2)),
                                                  "signing", db_result_get(k, i, 3) && atoi(db_result_get(k, i, 3)),
                                                  "activated_at", mgmt_jstr(db_result_get(k, i, 4)),
                                                  "created_at", mgmt_jstr(db_result_get(k, i, 5))));
    db_result_free(k);
    return json_pack("{s:o, s:o, s:b, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}, s:o}",
                     "uuid", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_UUID)),
                     "name", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_NAME)),
                     "verified", atoi(db_result_get(res, row, DOMAIN_COL_VERIFIED)) != 0,
                     "verified_at", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_VERIFIED_AT)),
                     "verification_method", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_METHOD)),
                     "dkim_keys", keys,
                     "dns_check", "spf_status", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_SPF_STATUS)),
                     "spf_error", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_SPF_ERROR)),
                     "dkim_status", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_DKIM_STATUS)),
                     "dkim_error", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_DKIM_ERROR)),
                     "return_path_status", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_RETURN_PATH_STATUS)),
                     "return_path_error", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_RETURN_PATH_ERROR)),
                     "mx_status", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_MX_STATUS)),
                     "mx_error", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_MX_ERROR)),
                     "checked_at", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_DNS_CHECKED)),
                     "created_at", mgmt_jstr(db_result_get(res, row, DOMAIN_COL_CREATED)));
}

/* The domain of path argument 2 as a row of *res_r: 1, or 0/-1 after answering. */
static int
find_domain(MGMT_CALL *c, unsigned long long server_id, DB_RESULT **res_r)
{
    char name[254];
    int ret;

    *res_r = NULL;
    if (!domain_name_normalize(http_path_arg(c->req, 2), name, sizeof(name))) {
        mgmt_reply_not_found(c, "domain");
        return 0;
    }
    if ((ret = domain_server_list(c->db, server_id, name, res_r)) < 0) {
        mgmt_reply_db(c, "domain lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, "domain");
    return ret > 0;
}

/* One domain answered with its DNS records. */
static void
reply_domain(MGMT_CALL *c, const DB_RESULT *res, unsigned status)
{
    json_t *d = domain_json(c, res, 0);
    char *zone = domain_dns_records(c->db, c->req->cfg, strtoull(db_result_get(res, 0, DOMAIN_COL_ID), NULL, 10));

    if (zone == NULL) {
        json_decref(d);
        mgmt_reply_db(c, "domain DNS records", DB_ERR_TEMP);
        return;
    }
    json_object_set_new(d, "dns_records", json_string(zone));
    mem_free(zone);
    mgmt_reply_ok(c, status, json_pack("{s:o}", "domain", d));
}

static void
mgmt_v2_domains_list(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0) {
        if ((ret = domain_server_list(c.db, server_id, NULL, &res)) < 0) {
            mgmt_reply_db(&c, "domain list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++)
                json_array_append_new(a, domain_json(&c, res, i));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "domains", a));
        }
    }
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
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
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    if (json_is_true(json_object_get(c.body, "verified")) && !c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators mark domains verified.");
        goto out;
    }
    mgmt_check_known(&c, known);
    given = mgmt_field_string(&c, "name", 1, 253);
    if (given && !domain_name_normalize(given, name, sizeof(name)))
        mgmt_field_error(&c, "name", "must be a domain name such as example.com (letters, digits, inner hyphens, "
                    "at least two labels)");
    verified = mgmt_field_bool(&c, "verified");
    ed25519 = mgmt_field_bool(&c, "ed25519");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = domain_server_list(c.db, server_id, name, &res)) < 0) {
        mgmt_reply_db(&c, "domain lookup", ret);
        goto out;
    }
    db_result_free(res);
    res = NULL;
    if (ret > 0) {
        mgmt_field_error(&c, "name", "is already a domain of this server");
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
    if (ret == DOMAIN_CLAIMED) {
        mgmt_reply_fail(&c, MHD_HTTP_CONFLICT, "DomainClaimed", error);
        goto out;
    }
    if (ret == 0) {
        mgmt_field_error(&c, "name", "%s", error);
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        msg_warn("%s %s: domain create: %s", req->method, req->path, error ? error : "");
        mgmt_reply_db(&c, "domain create", ret);
        goto out;
    }
    msg_info("user %llu: created domain %s of server %s/%s", c.p.user_id, name, http_path_arg(req, 0),
             http_path_arg(req, 1));
    if ((ret = domain_server_list(c.db, server_id, name, &res)) <= 0)
        mgmt_reply_db(&c, "domain reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        reply_domain(&c, res, MHD_HTTP_CREATED);
out:
    mem_free(error);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_domain_get(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0
        && find_domain(&c, server_id, &res) == 1)
        reply_domain(&c, res, MHD_HTTP_OK);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_domain_delete(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_domain(&c, server_id, &res) != 1 || mgmt_txn_begin(&c) < 0)
        goto out;
    ret = domain_server_delete(c.db, server_id, strtoull(db_result_get(res, 0, DOMAIN_COL_ID), NULL, 10));
    if (ret < 0) {
        mgmt_reply_db(&c, "domain delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted domain %s of server %s/%s", c.p.user_id, db_result_get(res, 0, DOMAIN_COL_NAME),
             http_path_arg(req, 0), http_path_arg(req, 1));
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:o, s:b}", "uuid", mgmt_jstr(db_result_get(res, 0, DOMAIN_COL_UUID)),
                                        "name", mgmt_jstr(db_result_get(res, 0, DOMAIN_COL_NAME)), "deleted", 1));
out:
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- verification, DNS checks, DKIM rotation */

/* Re-reads the domain after a change and answers it with status. */
static void
reply_domain_again(MGMT_CALL *c, unsigned long long server_id, const char *name, unsigned status)
{
    DB_RESULT *res = NULL;
    int ret = domain_server_list(c->db, server_id, name, &res);

    if (ret <= 0)
        mgmt_reply_db(c, "domain reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        reply_domain(c, res, status);
    db_result_free(res);
}

/* Runs one of the domain actions below on the domain of the path: 1 with the server id,
 * the row and its id, or 0 when answered. */
static int
begin_action(MGMT_CALL *c, HTTP_REQUEST *req, void *arg, const char *const *fields, MGMT_ORG *o,
             unsigned long long *server_id, DB_RESULT **res, unsigned long long *id)
{
    if (mgmt_call_begin(c, req, arg, 0) != 0 || mgmt_load_server(c, AUTH_ROLE_MEMBER, o, server_id) != 0
        || find_domain(c, *server_id, res) != 1 || mgmt_read_optional_body(c, fields) != 0)
        return 0;
    *id = strtoull(db_result_get(*res, 0, DOMAIN_COL_ID), NULL, 10);
    return 1;
}

static void
mgmt_v2_domain_verify(HTTP_REQUEST *req, void *arg)
{
    static const char *const none[] = {NULL};
    unsigned long long server_id = 0, id;
    DB_RESULT *res = NULL;
    char *error = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, none, &o, &server_id, &res, &id))
        goto out;
    ret = domain_verify(c.db, req->cfg, id, &error);
    if (ret < 0) {
        mgmt_reply_db(&c, "domain verify", ret);
    } else if (ret == DOMAIN_CLAIMED) {
        msg_info("user %llu: domain %s of server %s/%s not verified: claimed by another server", c.p.user_id,
                 db_result_get(res, 0, DOMAIN_COL_NAME), http_path_arg(req, 0), http_path_arg(req, 1));
        mgmt_reply_fail(&c, MHD_HTTP_CONFLICT, "DomainClaimed", error);
    } else if (ret == 0) {
        mgmt_reply_fail(&c, 422, "VerificationFailed", error);
    } else {
        msg_info("user %llu: verified domain %s of server %s/%s by DNS", c.p.user_id,
                 db_result_get(res, 0, DOMAIN_COL_NAME), http_path_arg(req, 0), http_path_arg(req, 1));
        reply_domain_again(&c, server_id, db_result_get(res, 0, DOMAIN_COL_NAME), MHD_HTTP_OK);
    }
out:
    mem_free(error);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_domain_check(HTTP_REQUEST *req, void *arg)
{
    static const char *const none[] = {NULL};
    unsigned long long server_id = 0, id;
    DOMAIN_DNS_STATUS st = {0};
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, none, &o, &server_id, &res, &id))
        goto out;
    if ((ret = domain_check_dns(c.db, req->cfg, id, &st)) < 0)
        mgmt_reply_db(&c, "domain DNS check", ret);
    else
        reply_domain_again(&c, server_id, db_result_get(res, 0, DOMAIN_COL_NAME), MHD_HTTP_OK);
out:
    domain_dns_status_free(&st);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_domain_dkim_rotate(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"algorithm", "activate_after", NULL};
    unsigned long long server_id = 0, id;
    DKIM_ALG alg = DKIM_ALG_RSA_SHA256;
    long delay = req->cfg->dns_dkim_rotation_grace;
    char selector[64] = "", *error = NULL;
    DB_RESULT *res = NULL;
    const char *a;
    json_t *v;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, known, &o, &server_id, &res, &id))
        goto out;
    if ((a = mgmt_field_string(&c, "algorithm", 0, 32)) != NULL) {
        if (strcmp(a, "ed25519-sha256") == 0)
            alg = DKIM_ALG_ED25519_SHA256;
        else if (strcmp(a, "rsa-sha256") != 0)
            mgmt_field_error(&c, "algorithm", "must be rsa-sha256 or ed25519-sha256");
    }
    if ((v = json_object_get(c.body, "activate_after")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 2592000)
            mgmt_field_error(&c, "activate_after", "must be whole seconds from 0 to 2592000 (30 days)");
        else
            delay = (long) json_integer_value(v);
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    ret = domain_dkim_rotate(c.db, c.m->seal, req->cfg, id, alg, delay, selector, &error);
    if (ret < 0) {
        msg_warn("%s %s: DKIM rotation: %s", req->method, req->path, error ? error : "");
        mgmt_reply_db(&c, "DKIM rotation", ret);
    } else if (ret == 0) {
        mgmt_reply_fail(&c, MHD_HTTP_CONFLICT, "RotationPending", error);
    } else {
        msg_info("user %llu: new DKIM key %s for domain %s of server %s/%s, signing in %ld s", c.p.user_id, selector,
                 db_result_get(res, 0, DOMAIN_COL_NAME), http_path_arg(req, 0), http_path_arg(req, 1), delay);
        reply_domain_again(&c, server_id, db_result_get(res, 0, DOMAIN_COL_NAME), MHD_HTTP_CREATED);
    }
out:
    mem_free(error);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_domain_dkim_activate(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"selector", NULL};
    unsigned long long server_id = 0, id;
    DB_RESULT *res = NULL;
    const char *selector;
    char *error = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, known, &o, &server_id, &res, &id))
        goto out;
    selector = mgmt_field_text(&c, "selector", 1, 63);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    ret = domain_dkim_activate(c.db, id, selector, &error);
    if (ret < 0) {
        mgmt_reply_db(&c, "DKIM activation", ret);
    } else if (ret == 0) {
        mgmt_field_error(&c, "selector", "%s", error);
        mgmt_reply_invalid(&c);
    } else {
        msg_info("user %llu: DKIM key %s of domain %s of server %s/%s activated", c.p.user_id, selector,
                 db_result_get(res, 0, DOMAIN_COL_NAME), http_path_arg(req, 0), http_path_arg(req, 1));
        reply_domain_again(&c, server_id, db_result_get(res, 0, DOMAIN_COL_NAME), MHD_HTTP_OK);
    }
out:
    mem_free(error);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_domains_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/domains", mgmt_v2_domains_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains", mgmt_v2_domains_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/domains/{}", mgmt_v2_domain_get},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/domains/{}", mgmt_v2_domain_delete},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/verify", mgmt_v2_domain_verify},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/check", mgmt_v2_domain_check},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/dkim/rotate", mgmt_v2_domain_dkim_rotate},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/dkim/activate", mgmt_v2_domain_dkim_activate},
    {NULL, NULL, NULL},
};
