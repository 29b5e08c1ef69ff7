/*
 * mgmt_ippools.c -- IP pools (doc/api.md): /api/v2/ip-pools with their addresses and the
 * organizations that may use them (installation admins write; a member sees the pools of
 * their organizations), /api/v2/organizations/{org}/ip-pools, and pool rules of an
 * organization or a server (…/ip-pool-rules, written by admins). Rows are
 * lib/mail/ippool.c's; a server's own pool is a server setting (mgmt_servers.c).
 *
 * Must never: let anyone but an installation admin change a pool, show a pool to someone
 * whose organizations do not have it, or let a rule pick a pool its organization lacks.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/domain.h"
#include "mail/ippool.h"
#include "mail/org.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define RULE_MAX_PATTERNS 100
#define RULE_PATTERN_MAX_BYTES 255

/* ---------------------------------------------------------------- pools */

static json_t *
address_json(const IPPOOL_ADDRESS_ROW *a)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:I, s:o, s:o}", "id", (json_int_t) a->id, "ipv4", mgmt_jstr(a->ipv4),
                     "ipv6", mgmt_jstr(a->ipv6), "hostname", mgmt_jstr(a->hostname), "priority", (json_int_t) a->priority,
                     "created_at", mgmt_jstr(a->created_at), "updated_at", mgmt_jstr(a->updated_at));
}

/* A pool as JSON with its addresses, and for installation admins its organizations. */
static json_t *
pool_json(MGMT_CALL *c, const IPPOOL_ROW *pool)
{
    json_t *addresses = json_array(), *o;
    DB_ROWS x = {0};

    if (ippool_addresses(c->db, pool->id, 0, &x) >= 0)
        for (size_t i = 0; i < x.n; i++)
            json_array_append_new(addresses, address_json((const IPPOOL_ADDRESS_ROW *) x.v + i));
    db_rows_free(&x);
    o = json_pack("{s:o, s:o, s:b, s:o, s:o, s:o}", "uuid", mgmt_jstr(pool->uuid), "name", mgmt_jstr(pool->name),
                  "default", pool->is_default, "addresses", addresses, "created_at", mgmt_jstr(pool->created_at),
                  "updated_at", mgmt_jstr(pool->updated_at));
    if (c->p.is_admin) {
        json_t *orgs = json_array();

        if (ippool_orgs(c->db, pool->id, &x) >= 0)
            for (size_t i = 0; i < x.n; i++)
                json_array_append_new(orgs, mgmt_jstr(((const char *const *) x.v)[i]));
        db_rows_free(&x);
        json_object_set_new(o, "organizations", orgs);
    }
    return o;
}

/* Only installation admins write pools: 0, or -1 after answering 403. */
static int
need_installation_admin(MGMT_CALL *c)
{
    if (c->p.is_admin)
        return 0;
    mgmt_reply_forbidden(c, "Only installation administrators manage IP pools.");
    return -1;
}

/* The pool of path argument 0 the principal may see, as a row of *res_r: 1, or 0/-1 after
 * answering (404 also for a pool none of the principal's organizations has). */
static int
find_pool(MGMT_CALL *c, DB_ROWS *res_r)
{
    const char *uuid = http_path_arg(c->req, 0);
    int ret;

    if (!auth_uuid_ok(uuid)) {
        mgmt_reply_not_found(c, "IP pool");
        return 0;
    }
    ret = c->p.is_admin ? ippool_list(c->db, uuid, res_r) : ippool_list_for_user(c->db, c->p.user_id, uuid, res_r);
    if (ret < 0) {
        mgmt_reply_db(c, "IP pool lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, "IP pool");
    return ret > 0;
}

/* The pool find_pool() found. */
static const IPPOOL_ROW *
pool_row(const DB_ROWS *res)
{
    return res->v;
}

static void
reply_pool(MGMT_CALL *c, const char *uuid, unsigned status)
{
    DB_ROWS res = {0};
    int ret = ippool_list(c->db, uuid, &res);

    if (ret <= 0)
        mgmt_reply_db(c, "IP pool reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        mgmt_reply_ok(c, status, json_pack("{s:o}", "ip_pool", pool_json(c, pool_row(&res))));
    db_rows_free(&res);
}

static void
reply_pools(MGMT_CALL *c, int ret, const DB_ROWS *res)
{
    json_t *a;

    if (ret < 0) {
        mgmt_reply_db(c, "IP pool list", ret);
        return;
    }
    a = json_array();
    for (size_t i = 0; i < res->n; i++)
        json_array_append_new(a, pool_json(c, (const IPPOOL_ROW *) res->v + i));
    mgmt_reply_ok(c, MHD_HTTP_OK, json_pack("{s:o}", "ip_pools", a));
}

static void
mgmt_v2_ippools_list(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS res = {0};
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, 0) == 0) {
        int ret = c.p.is_admin ? ippool_list(c.db, NULL, &res) : ippool_list_for_user(c.db, c.p.user_id, NULL, &res);

        reply_pools(&c, ret, &res);
    }
    db_rows_free(&res);
    mgmt_call_end(&c);
}

static void
mgmt_v2_org_ippools(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS res = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_org(&c, AUTH_ROLE_READONLY, &o) == 0) {
        int ret = ippool_list_for_org(c.db, o.id, NULL, &res);

        reply_pools(&c, ret, &res);
    }
    db_rows_free(&res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_ippools_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "default", NULL};
    unsigned long long id = 0;
    const char *name;
    DB_ROWS res = {0};
    int is_default, ret;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || need_installation_admin(&c) != 0)
        goto out;
    mgmt_check_known(&c, known);
    name = mgmt_field_name(&c, "name", 1);
    is_default = mgmt_field_bool(&c, "default");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_create(c.db, name, is_default, &id)) < 0) {
        mgmt_reply_db(&c, "IP pool create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created IP pool %llu", c.p.user_id, id);
    if ((ret = ippool_list(c.db, NULL, &res)) < 0) {
        mgmt_reply_db(&c, "IP pool reload", ret);
        goto out;
    }
    for (size_t i = 0; i < res.n; i++)
        if (((const IPPOOL_ROW *) res.v)[i].id == id) {
            mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "ip_pool", pool_json(&c, (const IPPOOL_ROW *) res.v + i)));
            goto out;
        }
    mgmt_reply_db(&c, "IP pool reload", DB_ERR_PERM);
out:
    db_rows_free(&res);
    mgmt_call_end(&c);
}

static void
mgmt_v2_ippool_get(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS res = {0};
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && find_pool(&c, &res) == 1)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "ip_pool", pool_json(&c, pool_row(&res))));
    db_rows_free(&res);
    mgmt_call_end(&c);
}

static void
mgmt_v2_ippool_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "default", NULL};
    DB_ROWS res = {0};
    const char *name;
    int is_default, ret;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || need_installation_admin(&c) != 0 || find_pool(&c, &res) != 1)
        goto out;
    mgmt_check_known(&c, known);
    name = mgmt_field_name(&c, "name", 0);
    is_default = mgmt_field_bool(&c, "default");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_update(c.db, pool_row(&res)->id, name, is_default)) < 0) {
        mgmt_reply_db(&c, "IP pool update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed IP pool %llu", c.p.user_id, pool_row(&res)->id);
    reply_pool(&c, pool_row(&res)->uuid, MHD_HTTP_OK);
out:
    db_rows_free(&res);
    mgmt_call_end(&c);
}

static void
mgmt_v2_ippool_delete(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS res = {0};
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || need_installation_admin(&c) != 0 || find_pool(&c, &res) != 1
        || mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_delete(c.db, pool_row(&res)->id)) < 0) {
        mgmt_reply_db(&c, "IP pool delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted IP pool %llu", c.p.user_id, pool_row(&res)->id);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(pool_row(&res)->uuid), "deleted", 1));
out:
    db_rows_free(&res);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- addresses */

/* An IP address field of family af (AF_INET/AF_INET6): 1 given and good (*v_r), 0 absent or
 * null (*v_r NULL), -1 bad (error added). */
static int
field_ip(MGMT_CALL *c, const char *name, int af, const char **v_r)
{
    unsigned char buf[16];
    const char *v = mgmt_field_string(c, name, 0, 45);

    *v_r = NULL;
    if (v == NULL)
        return json_object_get(c->errors, name) ? -1 : 0;
    if (inet_pton(af, v, buf) != 1) {
        mgmt_field_error(c, name, "must be an %s address", af == AF_INET ? "IPv4" : "IPv6");
        return -1;
    }
    *v_r = v;
    return 1;
}

/* The address fields over the row (row NULL when creating): errors added. */
static void
address_fields(MGMT_CALL *c, const IPPOOL_ADDRESS_ROW *row, const char **ipv4, const char **ipv6, char *hostname, long long *priority)
{
    static const char *const known[] = {"ipv4", "ipv6", "hostname", "priority", NULL};
    const char *h;

    mgmt_check_known(c, known);
    if (field_ip(c, "ipv4", AF_INET, ipv4) == 0 && row && !json_object_get(c->body, "ipv4"))
        *ipv4 = row->ipv4;
    if (field_ip(c, "ipv6", AF_INET6, ipv6) == 0 && row && !json_object_get(c->body, "ipv6"))
        *ipv6 = row->ipv6;
    if (*ipv4 == NULL && *ipv6 == NULL && !json_object_get(c->errors, "ipv4") && !json_object_get(c->errors, "ipv6"))
        mgmt_field_error(c, "ipv4", "an address needs an ipv4 or an ipv6 address (or both)");
    h = mgmt_field_string(c, "hostname", row == NULL, 253);
    if (h && !domain_name_normalize(h, hostname, 254))
        mgmt_field_error(c, "hostname", "must be a host name such as mta1.example.com (used for HELO; it should match the PTR)");
    else if (h == NULL && row)
        snprintf(hostname, 254, "%s", row->hostname);
    *priority = row ? row->priority : 100;
    mgmt_field_int(c, "priority", 0, 100, priority);
}

static void
reply_address(MGMT_CALL *c, unsigned long long pool, unsigned long long id, unsigned status)
{
    DB_ROWS res = {0};
    int ret = ippool_addresses(c->db, pool, id, &res);

    if (ret <= 0)
        mgmt_reply_db(c, "IP address reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        mgmt_reply_ok(c, status, json_pack("{s:o}", "address", address_json(res.v)));
    db_rows_free(&res);
}

static void
mgmt_v2_ipaddresses_list(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS res = {0}, x = {0};
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && find_pool(&c, &res) == 1) {
        if ((ret = ippool_addresses(c.db, pool_row(&res)->id, 0, &x)) < 0) {
            mgmt_reply_db(&c, "IP address list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < x.n; i++)
                json_array_append_new(a, address_json((const IPPOOL_ADDRESS_ROW *) x.v + i));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "addresses", a));
        }
    }
    db_rows_free(&x);
    db_rows_free(&res);
    mgmt_call_end(&c);
}

static void
mgmt_v2_ipaddresses_create(HTTP_REQUEST *req, void *arg)
{
    const char *ipv4 = NULL, *ipv6 = NULL;
    unsigned long long id = 0;
    char hostname[254] = "";
    long long priority;
    DB_ROWS res = {0};
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || need_installation_admin(&c) != 0 || find_pool(&c, &res) != 1)
        goto out;
    address_fields(&c, NULL, &ipv4, &ipv6, hostname, &priority);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_address_add(c.db, pool_row(&res)->id, ipv4, ipv6, hostname, (int) priority, &id)) < 0) {
        mgmt_reply_db(&c, "IP address create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: added IP address %llu to IP pool %llu", c.p.user_id, id, pool_row(&res)->id);
    reply_address(&c, pool_row(&res)->id, id, MHD_HTTP_CREATED);
out:
    db_rows_free(&res);
    mgmt_call_end(&c);
}

/* The address of path argument 1 in pool: 1 with *row_r, or 0/-1 after answering. */
static int
find_address(MGMT_CALL *c, unsigned long long pool, DB_ROWS *row_r)
{
    unsigned long long id;
    int ret;

    if (!mgmt_path_id(c, 1, &id)) {
        mgmt_reply_not_found(c, "IP address");
        return 0;
    }
    if ((ret = ippool_addresses(c->db, pool, id, row_r)) < 0) {
        mgmt_reply_db(c, "IP address lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, "IP address");
    return ret > 0;
}

static void
mgmt_v2_ipaddress_update(HTTP_REQUEST *req, void *arg)
{
    const char *ipv4 = NULL, *ipv6 = NULL;
    unsigned long long id;
    char hostname[254] = "";
    long long priority;
    DB_ROWS res = {0}, row = {0};
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || need_installation_admin(&c) != 0 || find_pool(&c, &res) != 1
        || find_address(&c, pool_row(&res)->id, &row) != 1)
        goto out;
    id = ((const IPPOOL_ADDRESS_ROW *) row.v)->id;
    address_fields(&c, row.v, &ipv4, &ipv6, hostname, &priority);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_address_update(c.db, pool_row(&res)->id, id, ipv4, ipv6, hostname, (int) priority)) < 0) {
        mgmt_reply_db(&c, "IP address update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed IP address %llu of IP pool %llu", c.p.user_id, id, pool_row(&res)->id);
    reply_address(&c, pool_row(&res)->id, id, MHD_HTTP_OK);
out:
    db_rows_free(&row);
    db_rows_free(&res);
    mgmt_call_end(&c);
}

static void
mgmt_v2_ipaddress_delete(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS res = {0}, row = {0};
    unsigned long long id;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || need_installation_admin(&c) != 0 || find_pool(&c, &res) != 1
        || find_address(&c, pool_row(&res)->id, &row) != 1 || mgmt_txn_begin(&c) < 0)
        goto out;
    id = ((const IPPOOL_ADDRESS_ROW *) row.v)->id;
    if ((ret = ippool_address_delete(c.db, pool_row(&res)->id, id)) < 0) {
        mgmt_reply_db(&c, "IP address delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted IP address %llu of IP pool %llu", c.p.user_id, id, pool_row(&res)->id);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:I, s:b}", "id", (json_int_t) id, "deleted", 1));
out:
    db_rows_free(&row);
    db_rows_free(&res);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- organizations of a pool */

static void
mgmt_v2_ippool_assign(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"organization", NULL};
    unsigned long long org_id = 0;
    DB_ROWS res = {0};
    const char *permalink;
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || need_installation_admin(&c) != 0 || find_pool(&c, &res) != 1)
        goto out;
    mgmt_check_known(&c, known);
    permalink = mgmt_field_string(&c, "organization", 1, 64);
    if (permalink && (ret = org_find(c.db, permalink, &org_id)) <= 0) {
        if (ret < 0) {
            mgmt_reply_db(&c, "organization lookup", ret);
            goto out;
        }
        mgmt_field_error(&c, "organization", "is not the permalink of an organization");
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_assign(c.db, pool_row(&res)->id, org_id)) < 0) {
        mgmt_reply_db(&c, "IP pool assign", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: IP pool %llu for organization %s", c.p.user_id, pool_row(&res)->id, permalink);
    reply_pool(&c, pool_row(&res)->uuid, ret > 0 ? MHD_HTTP_CREATED : MHD_HTTP_OK);
out:
    db_rows_free(&res);
    mgmt_call_end(&c);
}

static void
mgmt_v2_ippool_unassign(HTTP_REQUEST *req, void *arg)
{
    unsigned long long org_id = 0;
    DB_ROWS res = {0};
    MGMT_CALL c;
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || need_installation_admin(&c) != 0 || find_pool(&c, &res) != 1)
        goto out;
    if ((ret = org_find(c.db, http_path_arg(req, 1), &org_id)) <= 0) {
        if (ret < 0)
            mgmt_reply_db(&c, "organization lookup", ret);
        else
            mgmt_reply_not_found(&c, "organization");
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_unassign(c.db, pool_row(&res)->id, org_id)) < 0) {
        mgmt_reply_db(&c, "IP pool unassign", ret);
        goto out;
    }
    if (ret == 0) {
        mgmt_reply_not_found(&c, "assignment of this IP pool to this organization");
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: IP pool %llu no longer for organization %s", c.p.user_id, pool_row(&res)->id, http_path_arg(req, 1));
    reply_pool(&c, pool_row(&res)->uuid, MHD_HTTP_OK);
out:
    db_rows_free(&res);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- rules */

static json_t *
lines_json(const char *text)
{
    json_t *a = json_array();

    while (text && *text) {
        size_t n = strcspn(text, "\n");

        if (n > 0) {
            char *line = mem_strndup(text, n);

            json_array_append_new(a, json_string(line));
            mem_free(line);
        }
        text += n + (text[n] == '\n');
    }
    return a;
}

static json_t *
rule_json(const IPPOOL_RULE_ROW *r)
{
    return json_pack("{s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:o}", "uuid", mgmt_jstr(r->uuid),
                     "ip_pool", "uuid", mgmt_jstr(r->pool_uuid), "name", mgmt_jstr(r->pool_name),
                     "from", lines_json(r->from_text), "to", lines_json(r->to_text),
                     "created_at", mgmt_jstr(r->created_at), "updated_at", mgmt_jstr(r->updated_at));
}

/* A list of patterns (from/to) as one pattern per line into *text_r (mem_free it; NULL for
 * an empty list): 1 given, 0 absent, -1 bad (error added). */
static int
field_patterns(MGMT_CALL *c, const char *name, char **text_r)
{
    json_t *v = json_object_get(c->body, name), *item;
    BUF *b;
    size_t i;

    *text_r = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_array(v) || json_array_size(v) > RULE_MAX_PATTERNS) {
        mgmt_field_error(c, name, "must be a list of at most %d patterns", RULE_MAX_PATTERNS);
        return -1;
    }
    b = buf_new(64);
    json_array_foreach(v, i, item) {
        const char *s = json_string_value(item);
        size_t len = json_string_length(item);
        int bad = !json_is_string(item) || len == 0 || len > RULE_PATTERN_MAX_BYTES || strlen(s) != len;

        for (size_t k = 0; !bad && k < len; k++)
            bad = (unsigned char) s[k] <= 0x20 || s[k] == 0x7f;
        if (bad) {
            mgmt_field_error(c, name, "item %zu must be an address or domain pattern of 1 to %d characters without spaces "
                        "or control characters", i + 1, RULE_PATTERN_MAX_BYTES);
            buf_free(b);
            return -1;
        }
        buf_printf(b, "%s%s", i ? "\n" : "", s);
    }
    *text_r = buf_len(b) ? buf_steal(b, NULL) : NULL;
    if (*text_r == NULL)
        buf_free(b);
    return 1;
}

/* Where the rules are: an organization's (server 0) or a server's. */
typedef struct rule_scope {
    MGMT_ORG o;
    unsigned long long server_id;
    int uuid_arg;               /* the path argument with a rule's uuid */
} RULE_SCOPE;

static int
load_scope(MGMT_CALL *c, int server, AUTH_ROLE need, RULE_SCOPE *s)
{
    memset(s, 0, sizeof(*s));
    s->uuid_arg = server ? 2 : 1;
    return server ? mgmt_load_server(c, need, &s->o, &s->server_id) : mgmt_load_org(c, need, &s->o);
}

static int
find_rule(MGMT_CALL *c, const RULE_SCOPE *s, DB_ROWS *res_r)
{
    const char *uuid = http_path_arg(c->req, (size_t) s->uuid_arg);
    int ret;

    if (!auth_uuid_ok(uuid)) {
        mgmt_reply_not_found(c, "IP pool rule");
        return 0;
    }
    if ((ret = ippool_rules(c->db, s->o.id, s->server_id, uuid, res_r)) < 0) {
        mgmt_reply_db(c, "IP pool rule lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, "IP pool rule");
    return ret > 0;
}

/* The rule fields over row (NULL when creating) into *pool_r, *from_r, *to_r (mem_free
 * the texts): 0, or < 0 database error (not answered). Errors added. */
static int
rule_fields(MGMT_CALL *c, const RULE_SCOPE *s, const IPPOOL_RULE_ROW *row, unsigned long long *pool_r, char **from_r,
            char **to_r)
{
    static const char *const known[] = {"ip_pool", "from", "to", NULL};
    const char *uuid;
    int ret = 0, f, t;

    mgmt_check_known(c, known);
    uuid = mgmt_field_string(c, "ip_pool", row == NULL, 36);
    if (uuid == NULL && row)
        uuid = row->pool_uuid;
    if (uuid && !json_object_get(c->errors, "ip_pool")) {
        if (!auth_uuid_ok(uuid) || (ret = ippool_find_for_org(c->db, s->o.id, uuid, pool_r)) == 0)
            mgmt_field_error(c, "ip_pool", "is not the uuid of an IP pool of this organization");
        else if (ret < 0)
            return ret;
    }
    f = field_patterns(c, "from", from_r);
    t = field_patterns(c, "to", to_r);
    if (f == 0 && row)
        *from_r = mem_strdup_null(row->from_text);
    if (t == 0 && row)
        *to_r = mem_strdup_null(row->to_text);
    if (f >= 0 && t >= 0 && *from_r == NULL && *to_r == NULL)
        mgmt_field_error(c, "from", "a rule needs at least one pattern in from or to");
    return 0;
}

static void
reply_rule(MGMT_CALL *c, const RULE_SCOPE *s, const char *uuid, unsigned long long id, unsigned status)
{
    DB_ROWS res = {0};
    int ret = ippool_rules(c->db, s->o.id, s->server_id, uuid, &res);
    const IPPOOL_RULE_ROW *r = res.v;

    for (size_t i = 0; ret > 0 && i < res.n; i++)
        if (id == 0 || r[i].id == id) {
            mgmt_reply_ok(c, status, json_pack("{s:o}", "rule", rule_json(&r[i])));
            db_rows_free(&res);
            return;
        }
    mgmt_reply_db(c, "IP pool rule reload", ret < 0 ? ret : DB_ERR_PERM);
    db_rows_free(&res);
}

static void
rules_list(HTTP_REQUEST *req, void *arg, int server)
{
    DB_ROWS res = {0};
    RULE_SCOPE s = {0};
    MGMT_CALL c;
    int ret;

    memset(&s, 0, sizeof(s));
    if (mgmt_call_begin(&c, req, arg, 0) == 0 && load_scope(&c, server, AUTH_ROLE_READONLY, &s) == 0) {
        if ((ret = ippool_rules(c.db, s.o.id, s.server_id, NULL, &res)) < 0) {
            mgmt_reply_db(&c, "IP pool rule list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < res.n; i++)
                json_array_append_new(a, rule_json((const IPPOOL_RULE_ROW *) res.v + i));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "rules", a));
        }
    }
    db_rows_free(&res);
    mgmt_org_free(&s.o);
    mgmt_call_end(&c);
}

static void
rules_create(HTTP_REQUEST *req, void *arg, int server)
{
    unsigned long long pool = 0, id = 0;
    char *from = NULL, *to = NULL;
    RULE_SCOPE s = {0};
    MGMT_CALL c;
    int ret;

    memset(&s, 0, sizeof(s));
    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || load_scope(&c, server, AUTH_ROLE_ADMIN, &s) != 0)
        goto out;
    if ((ret = rule_fields(&c, &s, NULL, &pool, &from, &to)) < 0) {
        mgmt_reply_db(&c, "IP pool rule check", ret);
        goto out;
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_rule_create(c.db, s.o.id, s.server_id, pool, from, to, &id)) < 0) {
        mgmt_reply_db(&c, "IP pool rule create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created IP pool rule %llu of %s%s%s", c.p.user_id, id, http_path_arg(req, 0),
             server ? "/" : "", server ? http_path_arg(req, 1) : "");
    reply_rule(&c, &s, NULL, id, MHD_HTTP_CREATED);
out:
    mem_free(from);
    mem_free(to);
    mgmt_org_free(&s.o);
    mgmt_call_end(&c);
}

static void
rule_update(HTTP_REQUEST *req, void *arg, int server)
{
    unsigned long long pool = 0, id;
    char *from = NULL, *to = NULL;
    DB_ROWS row = {0};
    RULE_SCOPE s = {0};
    MGMT_CALL c;
    int ret;

    memset(&s, 0, sizeof(s));
    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || load_scope(&c, server, AUTH_ROLE_ADMIN, &s) != 0
        || find_rule(&c, &s, &row) != 1)
        goto out;
    id = ((const IPPOOL_RULE_ROW *) row.v)->id;
    if ((ret = rule_fields(&c, &s, row.v, &pool, &from, &to)) < 0) {
        mgmt_reply_db(&c, "IP pool rule check", ret);
        goto out;
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_rule_update(c.db, id, pool, from, to)) < 0) {
        mgmt_reply_db(&c, "IP pool rule update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed IP pool rule %llu", c.p.user_id, id);
    reply_rule(&c, &s, ((const IPPOOL_RULE_ROW *) row.v)->uuid, 0, MHD_HTTP_OK);
out:
    mem_free(from);
    mem_free(to);
    db_rows_free(&row);
    mgmt_org_free(&s.o);
    mgmt_call_end(&c);
}

static void
rule_delete(HTTP_REQUEST *req, void *arg, int server)
{
    unsigned long long id;
    DB_ROWS row = {0};
    RULE_SCOPE s = {0};
    MGMT_CALL c;
    int ret;

    memset(&s, 0, sizeof(s));
    if (mgmt_call_begin(&c, req, arg, 0) != 0 || load_scope(&c, server, AUTH_ROLE_ADMIN, &s) != 0
        || find_rule(&c, &s, &row) != 1 || mgmt_txn_begin(&c) < 0)
        goto out;
    id = ((const IPPOOL_RULE_ROW *) row.v)->id;
    if ((ret = ippool_rule_delete(c.db, id)) < 0) {
        mgmt_reply_db(&c, "IP pool rule delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted IP pool rule %llu", c.p.user_id, id);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(((const IPPOOL_RULE_ROW *) row.v)->uuid), "deleted", 1));
out:
    db_rows_free(&row);
    mgmt_org_free(&s.o);
    mgmt_call_end(&c);
}

#define RULE_HANDLERS(prefix, server) \
    static void prefix##_list(HTTP_REQUEST *req, void *arg) { rules_list(req, arg, server); } \
    static void prefix##_create(HTTP_REQUEST *req, void *arg) { rules_create(req, arg, server); } \
    static void prefix##_update(HTTP_REQUEST *req, void *arg) { rule_update(req, arg, server); } \
    static void prefix##_delete(HTTP_REQUEST *req, void *arg) { rule_delete(req, arg, server); }
RULE_HANDLERS(mgmt_v2_org_rules, 0)
RULE_HANDLERS(mgmt_v2_server_rules, 1)

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_ippools_routes[] = {
    {"GET", "/api/v2/ip-pools", mgmt_v2_ippools_list},
    {"POST", "/api/v2/ip-pools", mgmt_v2_ippools_create},
    {"GET", "/api/v2/ip-pools/{}", mgmt_v2_ippool_get},
    {"PATCH", "/api/v2/ip-pools/{}", mgmt_v2_ippool_update},
    {"DELETE", "/api/v2/ip-pools/{}", mgmt_v2_ippool_delete},
    {"GET", "/api/v2/ip-pools/{}/addresses", mgmt_v2_ipaddresses_list},
    {"POST", "/api/v2/ip-pools/{}/addresses", mgmt_v2_ipaddresses_create},
    {"PATCH", "/api/v2/ip-pools/{}/addresses/{}", mgmt_v2_ipaddress_update},
    {"DELETE", "/api/v2/ip-pools/{}/addresses/{}", mgmt_v2_ipaddress_delete},
    {"POST", "/api/v2/ip-pools/{}/organizations", mgmt_v2_ippool_assign},
    {"DELETE", "/api/v2/ip-pools/{}/organizations/{}", mgmt_v2_ippool_unassign},
    {"GET", "/api/v2/organizations/{}/ip-pools", mgmt_v2_org_ippools},
    {"GET", "/api/v2/organizations/{}/ip-pool-rules", mgmt_v2_org_rules_list},
    {"POST", "/api/v2/organizations/{}/ip-pool-rules", mgmt_v2_org_rules_create},
    {"PATCH", "/api/v2/organizations/{}/ip-pool-rules/{}", mgmt_v2_org_rules_update},
    {"DELETE", "/api/v2/organizations/{}/ip-pool-rules/{}", mgmt_v2_org_rules_delete},
    {"GET", "/api/v2/organizations/{}/servers/{}/ip-pool-rules", mgmt_v2_server_rules_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/ip-pool-rules", mgmt_v2_server_rules_create},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/ip-pool-rules/{}", mgmt_v2_server_rules_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/ip-pool-rules/{}", mgmt_v2_server_rules_delete},
    {NULL, NULL, NULL},
};
