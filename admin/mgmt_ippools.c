/*
 * mgmt_ippools.c -- IP pools (doc/api.md): /api/v2/ip-pools with their addresses and the
 * organizations that may use them (installation admins write; a member sees the pools of
 * their organizations), and /api/v2/organizations/{org}/ip-pools. Rows are
 * lib/mail/ippool.c's; a server's own pool is a server setting (mgmt_servers.c), the
 * rules that pick a pool by address are mgmt_ippool_rules.c's.
 *
 * Must never: let anyone but an installation admin change a pool, or show a pool to
 * someone whose organizations do not have it.
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

/* ---------------------------------------------------------------- pools */

/* An address; while it warms up, which day of postfix.warmup_plan it is on, its share of
 * the day and how much of it it was given (past the plan it is warm: share null). */
static json_t *
address_json(const PGCONF *cfg, const IPPOOL_ADDRESS_ROW *a)
{
    json_t *warmup = json_null();

    if (a->warmup_started_on) {
        const CONF_LIST *plan = &cfg->postfix_warmup_plan;
        json_t *share = a->warmup_day >= 1 && (size_t) a->warmup_day <= plan->count
            ? json_integer(atoll(plan->items[a->warmup_day - 1])) : json_null();

        warmup = json_pack("{s:o, s:I, s:o, s:I}", "started_on", mgmt_jstr(a->warmup_started_on), "day",
                           (json_int_t) a->warmup_day, "share_today", share, "sent_today", (json_int_t) a->sent_today);
    }
    return json_pack("{s:I, s:o, s:o, s:o, s:I, s:o, s:o, s:o}", "id", (json_int_t) a->id, "ipv4", mgmt_jstr(a->ipv4),
                     "ipv6", mgmt_jstr(a->ipv6), "hostname", mgmt_jstr(a->hostname), "priority", (json_int_t) a->priority,
                     "warmup", warmup, "created_at", mgmt_jstr(a->created_at), "updated_at", mgmt_jstr(a->updated_at));
}

/* A pool as JSON with its addresses, and for installation admins its organizations. */
static json_t *
pool_json(MGMT_CALL *c, const IPPOOL_ROW *pool)
{
    json_t *addresses = json_array(), *o;
    DB_ROWS x = {0};

    if (ippool_addresses(c->db, pool->id, 0, &x) >= 0)
        for (size_t i = 0; i < x.n; i++)
            json_array_append_new(addresses, address_json(c->req->cfg, (const IPPOOL_ADDRESS_ROW *) x.v + i));
    db_rows_free(&x);
    o = json_pack("{s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "uuid", mgmt_jstr(pool->uuid), "name", mgmt_jstr(pool->name),
                  "default", pool->is_default, "destination_concurrency_limit",
                  pool->concurrency_limit < 0 ? json_null() : json_integer(pool->concurrency_limit),
                  "destination_rate_delay", pool->rate_delay < 0 ? json_null() : json_integer(pool->rate_delay),
                  "addresses", addresses, "created_at", mgmt_jstr(pool->created_at),
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

/* The per-destination limits over the pool's (row NULL: a new pool, none): a field absent
 * keeps the value, null clears it (Postfix's default). */
static void
limit_fields(MGMT_CALL *c, const IPPOOL_ROW *row, int *concurrency_r, int *rate_delay_r)
{
    static const struct { const char *name; long long max; } f[2] = {
        {"destination_concurrency_limit", 1000}, {"destination_rate_delay", 3600}};
    int *out[2] = {concurrency_r, rate_delay_r};

    *concurrency_r = row ? (int) row->concurrency_limit : -1;
    *rate_delay_r = row ? (int) row->rate_delay : -1;
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(c->body, f[i].name);
        long long n;

        if (v == NULL)
            continue;
        if (json_is_null(v))
            *out[i] = -1;
        else if (mgmt_field_int(c, f[i].name, i == 0 ? 1 : 0, f[i].max, &n) == 1)
            *out[i] = (int) n;
    }
}

static void
mgmt_v2_ippools_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "default", "destination_concurrency_limit",
                                        "destination_rate_delay", NULL};
    unsigned long long id = 0;
    const char *name;
    DB_ROWS res = {0};
    int is_default, ret, concurrency, rate_delay;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || need_installation_admin(&c) != 0)
        goto out;
    mgmt_check_known(&c, known);
    name = mgmt_field_name(&c, "name", 1);
    is_default = mgmt_field_bool(&c, "default");
    limit_fields(&c, NULL, &concurrency, &rate_delay);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_create(c.db, name, is_default, &id)) < 0
        || (ret = ippool_set_limits(c.db, id, concurrency, rate_delay)) < 0) {
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
    static const char *const known[] = {"name", "default", "destination_concurrency_limit",
                                        "destination_rate_delay", NULL};
    DB_ROWS res = {0};
    const char *name;
    int is_default, ret, concurrency, rate_delay;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || need_installation_admin(&c) != 0 || find_pool(&c, &res) != 1)
        goto out;
    mgmt_check_known(&c, known);
    name = mgmt_field_name(&c, "name", 0);
    is_default = mgmt_field_bool(&c, "default");
    limit_fields(&c, pool_row(&res), &concurrency, &rate_delay);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_update(c.db, pool_row(&res)->id, name, is_default)) < 0
        || (ret = ippool_set_limits(c.db, pool_row(&res)->id, concurrency, rate_delay)) < 0) {
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
    static const char *const known[] = {"ipv4", "ipv6", "hostname", "priority", "warmup", NULL};
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
    if (json_object_get(c->body, "warmup") && !json_is_boolean(json_object_get(c->body, "warmup")))
        mgmt_field_error(c, "warmup", "must be true (start the warm-up plan today, unless it runs already) or false");
}

/* The warmup field of a create or update, applied to address id: >= 0, < 0 database error. */
static int
apply_warmup(MGMT_CALL *c, unsigned long long pool_id, unsigned long long id)
{
    json_t *v = json_object_get(c->body, "warmup");

    return v ? ippool_address_warmup(c->db, pool_id, id, json_is_true(v)) : 0;
}

static void
reply_address(MGMT_CALL *c, unsigned long long pool, unsigned long long id, unsigned status)
{
    DB_ROWS res = {0};
    int ret = ippool_addresses(c->db, pool, id, &res);

    if (ret <= 0)
        mgmt_reply_db(c, "IP address reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        mgmt_reply_ok(c, status, json_pack("{s:o}", "address", address_json(c->req->cfg, res.v)));
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
                json_array_append_new(a, address_json(c.req->cfg, (const IPPOOL_ADDRESS_ROW *) x.v + i));
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
    if ((ret = ippool_address_add(c.db, pool_row(&res)->id, ipv4, ipv6, hostname, (int) priority, &id)) < 0
        || (ret = apply_warmup(&c, pool_row(&res)->id, id)) < 0) {
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
    if ((ret = ippool_address_update(c.db, pool_row(&res)->id, id, ipv4, ipv6, hostname, (int) priority)) < 0
        || (ret = apply_warmup(&c, pool_row(&res)->id, id)) < 0) {
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
    {NULL, NULL, NULL},
};
