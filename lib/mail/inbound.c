/*
 * inbound.c -- incoming recipient lookups (inbound.h). Reads routes, domains and
 * messages; writes nothing.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/inbound.h"
#include "util/mem.h"

/* A domain (d) that receives mail: verified, incoming, not hosted (a hosted domain's mail
 * goes to its mailboxes: hosting.h; Postfix must not see it in relay_domains too), with a
 * route of its owner. The domain list and inbound_domain_active() share it, so they
 * always agree. */
#define ACTIVE_DOMAIN "d.verified_name IS NOT NULL AND d.incoming = 1 AND d.hosting = 0 AND EXISTS (SELECT 1 FROM routes r " \
    ROUTE_OWNED "WHERE r.domain_id = d.id)"

/* Joins a route's server (live, in a live organization) and keeps only routes whose domain
 * belongs to that server or its organization. */
#define ROUTE_OWNED "JOIN servers s ON s.id = r.server_id AND s.deleted_at IS NULL " \
    "JOIN organizations o ON o.id = s.organization_id AND o.deleted_at IS NULL " \
    "AND (d.server_id = s.id OR d.organization_id = o.id) "

#define ROUTE_COLS "r.id, r.server_id, r.mode, r.spam_mode, " \
    "(r.http_endpoint_id IS NOT NULL OR r.smtp_endpoint_id IS NOT NULL OR r.address_endpoint_id IS NOT NULL)"

static void
fill_route(const DB_RESULT *res, INBOUND_TARGET *t)
{
    t->route_id = strtoull(db_result_get(res, 0, 0), NULL, 10);
    t->server_id = strtoull(db_result_get(res, 0, 1), NULL, 10);
    snprintf(t->mode, sizeof(t->mode), "%s", db_result_get(res, 0, 2));
    snprintf(t->spam_mode, sizeof(t->spam_mode), "%s", db_result_get(res, 0, 3));
    t->has_endpoint = atoi(db_result_get(res, 0, 4)) != 0;
}

/* Splits a lower-cased copy of address into local part (without +tag) and domain. */
static int
split(const char *address, char *local, size_t lsize, char *domain, size_t dsize)
{
    const char *at = strrchr(address, '@');
    size_t llen;
    char *plus;

    if (at == NULL || at == address || at[1] == '\0' || strlen(address) > INBOUND_MAX_ADDRESS)
        return -1;
    llen = (size_t) (at - address);
    if (llen >= lsize || strlen(at + 1) >= dsize)
        return -1;
    for (size_t i = 0; i < llen; i++)
        local[i] = (char) tolower((unsigned char) address[i]);
    local[llen] = '\0';
    for (size_t i = 0; at[1 + i]; i++)
        domain[i] = (char) tolower((unsigned char) at[1 + i]);
    domain[strlen(at + 1)] = '\0';
    /* A trailing dot names the same domain. */
    if (domain[0] && domain[strlen(domain) - 1] == '.')
        domain[strlen(domain) - 1] = '\0';
    if ((plus = strchr(local, '+')) != NULL && plus != local)
        *plus = '\0';
    return 0;
}

/* Is domain <custom_return_path_prefix>.<a domain we know>? */
static int
is_custom_return_path(DB *db, const PGCONF *cfg, const char *domain)
{
    size_t plen = strlen(cfg->dns_custom_return_path_prefix);
    DB_RESULT *res = NULL;
    int ret;

    if (plen == 0 || strncmp(domain, cfg->dns_custom_return_path_prefix, plen) != 0 || domain[plen] != '.')
        return 0;
    ret = db_query(db, &res, "SELECT 1 FROM domains WHERE verified_name = ? LIMIT 1",
                   DB_ARGS(DB_STR(domain + plen + 1)));
    db_result_free(res);
    return ret;
}

static int
resolve_return_path(DB *db, const char *token, INBOUND_TARGET *t)
{
    DB_RESULT *res = NULL;
    int ret;

    if (strlen(token) == 16) {
        ret = db_query(db, &res, "SELECT id, server_id FROM messages WHERE token = ? AND scope = 'outgoing'",
                       DB_ARGS(DB_STR(token)));
        if (ret > 0)
            t->message_id = strtoull(db_result_get(res, 0, 0), NULL, 10);
    } else {
        /* Postal's server return path <server token>@...: the bounce names its message
         * only by the X-Postal-MsgID it quotes. */
        ret = db_query(db, &res, "SELECT 0, id FROM servers WHERE token = ?", DB_ARGS(DB_STR(token)));
    }
    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    t->kind = INBOUND_RETURN_PATH;
    t->server_id = strtoull(db_result_get(res, 0, 1), NULL, 10);
    db_result_free(res);
    ret = db_query(db, &res, "SELECT " ROUTE_COLS " FROM routes r WHERE r.server_id = ? AND r.name = '__returnpath__' "
                   "ORDER BY r.id LIMIT 1", DB_ARGS(DB_UINT(t->server_id)));
    if (ret > 0) {
        unsigned long long server_id = t->server_id;

        fill_route(res, t);
        t->server_id = server_id;
    }
    db_result_free(res);
    return ret < 0 ? ret : 1;
}

int
inbound_resolve(DB *db, const PGCONF *cfg, const char *address, INBOUND_TARGET *t)
{
    char local[INBOUND_MAX_ADDRESS + 1], domain[INBOUND_MAX_ADDRESS + 1];
    DB_RESULT *res = NULL;
    int ret;

    memset(t, 0, sizeof(*t));
    if (split(address, local, sizeof(local), domain, sizeof(domain)) < 0)
        return 0;
    if (strcasecmp(domain, cfg->dns_route_domain) == 0) {
        /* Tokens are lower case (Postfix folds lookup keys): compare the folded local part. */
        ret = db_query(db, &res, "SELECT " ROUTE_COLS " FROM routes r JOIN servers s ON s.id = r.server_id "
                       "AND s.deleted_at IS NULL JOIN organizations o ON o.id = s.organization_id "
                       "AND o.deleted_at IS NULL WHERE r.token = ?", DB_ARGS(DB_STR(local)));
        if (ret > 0) {
            t->kind = INBOUND_ROUTE;
            fill_route(res, t);
        }
        db_result_free(res);
        return ret;
    }
    if (strcasecmp(domain, cfg->dns_return_path_domain) == 0 || (ret = is_custom_return_path(db, cfg, domain)) > 0)
        return resolve_return_path(db, local, t);
    if (ret < 0)
        return ret;
    /* name@domain first, then *@domain, of the one verified domain of that name (schema
     * 003: verified_name is unique), and only its owner's routes. */
    ret = db_query(db, &res, "SELECT " ROUTE_COLS " FROM routes r JOIN domains d ON d.id = r.domain_id "
                   ROUTE_OWNED "WHERE d.verified_name = ? AND d.incoming = 1 AND d.hosting = 0 AND r.name IN (?, '*') "
                   "ORDER BY r.name = '*', r.id LIMIT 1", DB_ARGS(DB_STR(domain), DB_STR(local)));
    if (ret > 0) {
        t->kind = INBOUND_ROUTE;
        fill_route(res, t);
    }
    db_result_free(res);
    return ret;
}

int
inbound_domain_active(DB *db, const PGCONF *cfg, const char *domain)
{
    char lower[INBOUND_MAX_ADDRESS + 1];
    DB_RESULT *res = NULL;
    size_t len = strlen(domain);
    int ret;

    if (len == 0 || len >= sizeof(lower))
        return 0;
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char) tolower((unsigned char) domain[i]);
    if (lower[len - 1] == '.')
        lower[len - 1] = '\0';
    if (strcasecmp(lower, cfg->dns_route_domain) == 0 || strcasecmp(lower, cfg->dns_return_path_domain) == 0)
        return 1;
    if ((ret = is_custom_return_path(db, cfg, lower)) != 0)
        return ret;
    ret = db_query(db, &res, "SELECT 1 FROM domains d WHERE d.verified_name = ? AND " ACTIVE_DOMAIN " LIMIT 1",
                   DB_ARGS(DB_STR(lower)));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
inbound_queue_delivery(DB *db, unsigned long long message_id, unsigned long long server_id,
                       unsigned long long route_id)
{
    return db_exec(db, "INSERT INTO queued_messages (message_id, server_id, endpoint_type, endpoint_id) "
                   "SELECT ?, ?, e.type, e.id FROM ("
                   "SELECT 'HTTPEndpoint' AS type, http_endpoint_id AS id FROM routes WHERE id = ? "
                   "UNION SELECT 'SMTPEndpoint', smtp_endpoint_id FROM routes WHERE id = ? "
                   "UNION SELECT 'AddressEndpoint', address_endpoint_id FROM routes WHERE id = ? "
                   "UNION SELECT 'HTTPEndpoint', http_endpoint_id FROM additional_route_endpoints WHERE route_id = ? "
                   "UNION SELECT 'SMTPEndpoint', smtp_endpoint_id FROM additional_route_endpoints WHERE route_id = ? "
                   "UNION SELECT 'AddressEndpoint', address_endpoint_id FROM additional_route_endpoints WHERE route_id = ?"
                   ") e WHERE e.id IS NOT NULL",
                   DB_ARGS(DB_UINT(message_id), DB_UINT(server_id), DB_UINT(route_id), DB_UINT(route_id),
                           DB_UINT(route_id), DB_UINT(route_id), DB_UINT(route_id), DB_UINT(route_id)));
}

int
inbound_domain_list(DB *db, const PGCONF *cfg, char ***names_r, size_t *count_r)
{
    return db_query_strings(db, names_r, count_r,
                            "SELECT DISTINCT LOWER(d.name) FROM domains d WHERE " ACTIVE_DOMAIN " "
                            "UNION SELECT DISTINCT LOWER(CONCAT(?, '.', verified_name)) FROM domains "
                            "WHERE verified_name IS NOT NULL AND ? <> ''",
                            DB_ARGS(DB_STR(cfg->dns_custom_return_path_prefix),
                                    DB_STR(cfg->dns_custom_return_path_prefix)));
}
