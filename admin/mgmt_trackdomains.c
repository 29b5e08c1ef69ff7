/*
 * mgmt_trackdomains.c -- a server's track domains, …/servers/{server}/track-domains
 * (doc/api.md): the host (`<name>.<domain>`) through which the server's tracked links and
 * open pixel go, with the CNAME to publish; rows are lib/mail/trackdomain.c's. Excluded
 * click domains travel as a list and are stored one per line.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/trackdomain.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define MAX_EXCLUDED 100

static json_t *
trackdomain_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const TRACKDOMAIN_ROW *t = row;
    json_t *list = json_array();

    (void) r;
    for (const char *p = t->excluded; p && *p;) {
        size_t n = strcspn(p, "\r\n");

        if (n > 0)
            json_array_append_new(list, json_stringn(p, n));
        p += n;
        p += strspn(p, "\r\n");
    }
    return json_pack("{s:o, s:o, s:b, s:b, s:b, s:o, s:o, s:{s:s, s:o, s:o}}", "uuid", mgmt_jstr(t->uuid),
                     "host", mgmt_jstr(t->host), "ssl", t->ssl, "track_clicks", t->track_clicks,
                     "track_loads", t->track_loads, "excluded_click_domains", list,
                     "dns_status", mgmt_jstr(t->dns_status),
                     "dns_record", "type", "CNAME", "name", mgmt_jstr(t->host),
                     "value", mgmt_jstr(c->req->cfg->dns_track_domain));
}

static int
trackdomain_remove(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const void *row)
{
    (void) r;
    return trackdomain_delete(c->db, server_id, ((const TRACKDOMAIN_ROW *) row)->uuid);
}

static const MGMT_RESOURCE trackdomains = {
    .what = "track domain", .one = "track_domain", .many = "track_domains",
    .size = sizeof(TRACKDOMAIN_ROW), .id_off = offsetof(TRACKDOMAIN_ROW, id), .uuid_off = offsetof(TRACKDOMAIN_ROW, uuid),
    .list = trackdomain_list, .json = trackdomain_json, .remove = trackdomain_remove,
};

MGMT_LIST_HANDLER(mgmt_v2_trackdomains, trackdomains)
MGMT_GET_HANDLER(mgmt_v2_trackdomain, trackdomains)
MGMT_DELETE_HANDLER(mgmt_v2_trackdomain, trackdomains)

/* The list field "excluded_click_domains" as one name per line: 1 present (*out_r, a BUF
 * to free), 0 absent, -1 invalid (error added). */
static int
field_excluded(MGMT_CALL *c, BUF **out_r)
{
    json_t *v = json_object_get(c->body, "excluded_click_domains");
    size_t i;
    json_t *e;

    *out_r = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_array(v) || json_array_size(v) > MAX_EXCLUDED) {
        mgmt_field_error(c, "excluded_click_domains", "must be a list of at most %d domain names", MAX_EXCLUDED);
        return -1;
    }
    *out_r = buf_new(64);
    json_array_foreach(v, i, e) {
        const char *name = json_is_string(e) ? json_string_value(e) : NULL;
        size_t len = name ? strlen(name) : 0;
        int ok = len > 0 && len <= 253 && json_string_length(e) == len;

        for (size_t k = 0; ok && k < len; k++)
            ok = isalnum((unsigned char) name[k]) || name[k] == '.' || name[k] == '-';
        if (!ok || name[0] == '.' || name[len - 1] == '.') {
            mgmt_field_error(c, "excluded_click_domains", "item %zu is not a domain name such as example.com", i);
            buf_free(*out_r);
            *out_r = NULL;
            return -1;
        }
        if (i > 0)
            buf_append_char(*out_r, '\n');
        for (size_t k = 0; k < len; k++)
            buf_append_char(*out_r, (char) tolower((unsigned char) name[k]));
    }
    return 1;
}

static void
trackdomains_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "domain", "ssl", "track_clicks", "track_loads",
                                        "excluded_click_domains", NULL};
    TRACKDOMAIN_CREATE_ARGS a = {0};
    unsigned long long server_id = 0;
    BUF *excluded = NULL;
    char uuid[37], *error = NULL;
    int ssl, clicks, loads, ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    mgmt_check_known(&c, known);
    a.server_id = server_id;
    a.name = mgmt_field_text(&c, "name", 1, 63);
    a.domain = mgmt_field_text(&c, "domain", 1, 253);
    ssl = mgmt_field_bool(&c, "ssl");
    clicks = mgmt_field_bool(&c, "track_clicks");
    loads = mgmt_field_bool(&c, "track_loads");
    field_excluded(&c, &excluded);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    a.ssl = ssl != 0;
    a.track_clicks = clicks != 0;
    a.track_loads = loads != 0;
    a.excluded = excluded && buf_len(excluded) ? buf_cstr(excluded) : NULL;
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = trackdomain_create(c.db, &a, uuid, &error);
    if (ret == 0) {
        mgmt_field_error(&c, "name", "%s", error);
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "track domain create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created track domain %s.%s of server %s/%s", c.p.user_id, a.name, a.domain,
             http_path_arg(req, 0), http_path_arg(req, 1));
    mgmt_reply_again(&c, &trackdomains, server_id, uuid, 0, MHD_HTTP_CREATED);
out:
    mem_free(error);
    if (excluded)
        buf_free(excluded);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
trackdomain_update_one(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"ssl", "track_clicks", "track_loads", "excluded_click_domains", NULL};
    unsigned long long server_id = 0;
    BUF *excluded = NULL;
    int ssl, clicks, loads, set_excluded, ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    mgmt_check_known(&c, known);
    ssl = mgmt_field_bool(&c, "ssl");
    clicks = mgmt_field_bool(&c, "track_clicks");
    loads = mgmt_field_bool(&c, "track_loads");
    set_excluded = field_excluded(&c, &excluded);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    ret = trackdomain_update(c.db, server_id, http_path_arg(req, 2), ssl, clicks, loads, set_excluded > 0,
                             excluded && buf_len(excluded) ? buf_cstr(excluded) : NULL);
    if (ret < 0)
        mgmt_reply_db(&c, "track domain update", ret);
    else if (ret == 0)
        mgmt_reply_not_found(&c, "track domain");
    else
        mgmt_reply_again(&c, &trackdomains, server_id, http_path_arg(req, 2), 0, MHD_HTTP_OK);
out:
    if (excluded)
        buf_free(excluded);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_trackdomains_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/track-domains", mgmt_v2_trackdomains_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/track-domains", trackdomains_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/track-domains/{}", mgmt_v2_trackdomain_get},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/track-domains/{}", trackdomain_update_one},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/track-domains/{}", mgmt_v2_trackdomain_delete},
    {NULL, NULL, NULL},
};
