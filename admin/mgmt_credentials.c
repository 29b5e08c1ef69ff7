/*
 * mgmt_credentials.c -- a server's credentials, …/servers/{server}/credentials
 * (doc/api.md): the key is shown once, at creation; rows are lib/mail/credential.c's.
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

#include "mail/credential.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/netaddr.h"

/* ---------------------------------------------------------------- a server's credentials */

static json_t *
credential_json(const DB_RESULT *res, size_t row)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "uuid", mgmt_jstr(db_result_get(res, row, CRED_COL_UUID)),
                     "type", mgmt_jstr(db_result_get(res, row, CRED_COL_TYPE)), "name", mgmt_jstr(db_result_get(res, row, CRED_COL_NAME)),
                     "key_prefix", mgmt_jstr(db_result_get(res, row, CRED_COL_KEY_PREFIX)),
                     "network", mgmt_jstr(db_result_get(res, row, CRED_COL_NETWORK)),
                     "hold", atoi(db_result_get(res, row, CRED_COL_HOLD)) != 0,
                     "last_used_at", mgmt_jstr(db_result_get(res, row, CRED_COL_LAST_USED)),
                     "created_at", mgmt_jstr(db_result_get(res, row, CRED_COL_CREATED)));
}

/* The credential of path argument 2 as a row of *res_r: 1, or 0/-1 after answering. */
static int
find_credential(MGMT_CALL *c, unsigned long long server_id, DB_RESULT **res_r)
{
    const char *uuid = http_path_arg(c->req, 2);
    int ret;

    *res_r = NULL;
    if (!auth_uuid_ok(uuid)) {
        mgmt_reply_not_found(c, "credential");
        return 0;
    }
    if ((ret = credential_server_list(c->db, server_id, uuid, 0, res_r)) < 0) {
        mgmt_reply_db(c, "credential lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, "credential");
    return ret > 0;
}

static void
mgmt_v2_credentials_list(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0) {
        if ((ret = credential_server_list(c.db, server_id, NULL, 0, &res)) < 0) {
            mgmt_reply_db(&c, "credential list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++)
                json_array_append_new(a, credential_json(res, i));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "credentials", a));
        }
    }
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_credentials_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"type", "name", "network", "hold", NULL};
    unsigned long long server_id = 0, id = 0;
    char key[CREDENTIAL_KEY_LEN + 1] = "", *error = NULL;
    const char *type, *name, *network;
    DB_RESULT *res = NULL;
    int hold, ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    mgmt_check_known(&c, known);
    type = mgmt_field_string(&c, "type", 1, 16);
    if (type && strcmp(type, "SMTP") != 0 && strcmp(type, "API") != 0 && strcmp(type, "SMTP-IP") != 0) {
        mgmt_field_error(&c, "type", "must be SMTP, API or SMTP-IP");
        type = NULL;
    }
    name = mgmt_field_name(&c, "name", 1);
    network = mgmt_field_string(&c, "network", type && strcmp(type, "SMTP-IP") == 0, 64);
    if (network && type && strcmp(type, "SMTP-IP") != 0) {
        mgmt_field_error(&c, "network", "is only for SMTP-IP credentials");
    } else if (network) {
        unsigned char start[NETADDR_LEN], end[NETADDR_LEN];
        int prefix;

        if (netaddr_parse_network(network, start, end, &prefix) < 0)
            mgmt_field_error(&c, "network", "must be an IP address or network such as 192.0.2.0/24 or 2001:db8::/32");
    }
    hold = mgmt_field_bool(&c, "hold");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = credential_create(c.db, req->cfg, c.m->seal, server_id, type, name, network, hold > 0, key, &id, &error);
    if (ret == 0) {
        mgmt_field_error(&c, strcmp(type, "SMTP-IP") == 0 ? "network" : "type", "%s", error);
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (ret == CREDENTIAL_CONFLICT) {
        /* The message names the overlapping network, never whose it is. */
        mgmt_field_error(&c, "network", "%s", error);
        mgmt_reply_conflict(&c, "NetworkConflict", error);
        goto out;
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "credential create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created %s credential %llu of server %s/%s", c.p.user_id, type, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    if ((ret = credential_server_list(c.db, server_id, NULL, id, &res)) <= 0) {
        mgmt_reply_db(&c, "credential reload", ret < 0 ? ret : DB_ERR_PERM);
    } else {
        json_t *cred = credential_json(res, 0);

        /* The key, shown this once. */
        if (key[0])
            json_object_set_new(cred, "key", json_string(key));
        if (strcmp(type, "SMTP") == 0) {
            char *user = buf_asprintf("%s/%s", http_path_arg(req, 0), http_path_arg(req, 1));

            json_object_set_new(cred, "cram_md5_username", json_string(user));
            mem_free(user);
        }
        mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "credential", cred));
    }
out:
    explicit_bzero(key, sizeof(key));
    mem_free(error);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_credential_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "hold", NULL};
    unsigned long long server_id = 0, id;
    DB_RESULT *res = NULL;
    const char *name;
    int hold, ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_credential(&c, server_id, &res) != 1)
        goto out;
    mgmt_check_known(&c, known);
    name = mgmt_field_name(&c, "name", 0);
    hold = mgmt_field_bool(&c, "hold");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    id = strtoull(db_result_get(res, 0, CRED_COL_ID), NULL, 10);
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = credential_update(c.db, id, name, hold)) < 0) {
        mgmt_reply_db(&c, "credential update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed credential %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    db_result_free(res);
    res = NULL;
    if ((ret = credential_server_list(c.db, server_id, NULL, id, &res)) <= 0)
        mgmt_reply_db(&c, "credential reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "credential", credential_json(res, 0)));
out:
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_credential_delete(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_credential(&c, server_id, &res) != 1 || mgmt_txn_begin(&c) < 0)
        goto out;
    id = strtoull(db_result_get(res, 0, CRED_COL_ID), NULL, 10);
    if ((ret = credential_delete(c.db, server_id, id)) < 0) {
        mgmt_reply_db(&c, "credential delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted credential %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(db_result_get(res, 0, CRED_COL_UUID)), "deleted", 1));
out:
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_credentials_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/credentials", mgmt_v2_credentials_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/credentials", mgmt_v2_credentials_create},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/credentials/{}", mgmt_v2_credential_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/credentials/{}", mgmt_v2_credential_delete},
    {NULL, NULL, NULL},
};
