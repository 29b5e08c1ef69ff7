/*
 * mgmt_v2.c -- the route list of the management API v2 (mgmt_v2.h): every resource
 * family's table, in the order the router tries them, after the bulk import routes
 * (which get the larger body limit).
 */
#include "config.h"

#include <string.h>

#include "mgmt_v2.h"
#include "util/mem.h"

static const MGMT_ROUTE *const tables[] = {
    mgmt_session_routes,
    mgmt_pwreset_routes,
    mgmt_orgs_routes,
    mgmt_servers_routes,
    mgmt_domains_routes,
    mgmt_credentials_routes,
    mgmt_messages_routes,
    mgmt_retry_routes,
    mgmt_postfix_routes,
    mgmt_users_routes,
    mgmt_admins_routes,
    mgmt_totp_routes,
    mgmt_oidc_routes,
    mgmt_endpoints_routes,
    mgmt_routes_routes,
    mgmt_webhooks_routes,
    mgmt_ippools_routes,
    mgmt_ippool_rules_routes,
    mgmt_suppressions_routes,
    mgmt_trackdomains_routes,
    mgmt_mailboxes_routes,
    mgmt_mailbox_self_routes,
    mgmt_stats_routes,
};

HTTP_ROUTE *
mgmt_v2_routes(MGMT_V2 *m, const HTTP_ROUTE *routes, size_t nroutes, size_t *n_r)
{
    size_t n = nroutes;
    HTTP_ROUTE *all;

    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (const MGMT_ROUTE *r = tables[t]; r->method; r++)
            n++;
    for (const MGMT_ROUTE *r = mgmt_import_routes; r->method; r++)
        n++;
    all = mem_alloc(n * sizeof(*all));
    memcpy(all, routes, nroutes * sizeof(*all));
    n = nroutes;
    /* First: an import path must not be taken by a "{}" segment of another route. */
    for (const MGMT_ROUTE *r = mgmt_import_routes; r->method; r++)
        all[n++] = (HTTP_ROUTE) {r->method, r->path, r->handler, m, MGMT_V2_MAX_IMPORT_BODY};
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
        for (const MGMT_ROUTE *r = tables[t]; r->method; r++)
            all[n++] = (HTTP_ROUTE) {r->method, r->path, r->handler, m, MGMT_V2_MAX_BODY};
    *n_r = n;
    return all;
}
