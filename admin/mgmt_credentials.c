/*
 * mgmt_credentials.c -- a server's credentials, …/servers/{server}/credentials
 * (doc/api.md): the key is shown once, at creation; rows are lib/mail/credential.c's.
 */
#include "config.h"

#include <stddef.h>
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
credential_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const CREDENTIAL_ROW *cr = row;

    (void) c, (void) r;
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "uuid", mgmt_jstr(cr->uuid), "type", mgmt_jstr(cr->type),
                     "name", mgmt_jstr(cr->name), "key_prefix", mgmt_jstr(cr->key_prefix),
                     "network", mgmt_jstr(cr->network), "hold", cr->hold, "last_used_at", mgmt_jstr(cr->last_used_at),
                     "created_at", mgmt_jstr(cr->created_at));
}

static const MGMT_RESOURCE credentials = {
    .what = "credential", .one = "credential", .many = "credentials",
    .size = sizeof(CREDENTIAL_ROW), .id_off = offsetof(CREDENTIAL_ROW, id), .uuid_off = offsetof(CREDENTIAL_ROW, uuid),
    .list = credential_server_list, .json = credential_json, .delete_id = credential_delete,
};

MGMT_LIST_HANDLER(mgmt_v2_credentials, credentials)
MGMT_DELETE_HANDLER(mgmt_v2_credential, credentials)

static void
mgmt_v2_credentials_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"type", "name", "network", "hold", NULL};
    unsigned long long server_id = 0, id = 0;
    char key[CREDENTIAL_KEY_LEN + 1] = "", *error = NULL;
    const char *type, *name, *network;
    DB_ROWS rows = {0};
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
        mgmt_reply_conflict(&c, "NetworkConflict", error, NULL);
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
    if ((ret = credential_server_list(c.db, server_id, NULL, id, &rows)) <= 0) {
        mgmt_reply_db(&c, "credential reload", ret < 0 ? ret : DB_ERR_PERM);
    } else {
        json_t *cred = credential_json(&c, &credentials, rows.v);

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
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_credential_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "hold", NULL};
    unsigned long long server_id = 0, id;
    DB_ROWS rows = {0};
    const char *name;
    int hold, ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || mgmt_find(&c, &credentials, server_id, &rows) != 1)
        goto out;
    mgmt_check_known(&c, known);
    name = mgmt_field_name(&c, "name", 0);
    hold = mgmt_field_bool(&c, "hold");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    id = ((const CREDENTIAL_ROW *) rows.v)->id;
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
    mgmt_reply_again(&c, &credentials, server_id, NULL, id, MHD_HTTP_OK);
out:
    db_rows_free(&rows);
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
