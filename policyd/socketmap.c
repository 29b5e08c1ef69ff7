/*
 * socketmap.c -- the socketmap protocol and its maps (socketmap.h).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/inbound.h"
#include "mail/ipchoice.h"
#include "mail/message.h"
#include "socketmap.h"
#include "stats.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

/*
 * The incoming domains, kept in memory: Postfix asks relay_domains for every recipient
 * domain, outgoing ones included, and trivial-rewrite defers all delivery when the map
 * says TEMP. The set is small, so it is loaded whole, refreshed every DOMAIN_REFRESH
 * seconds, and kept as it was when a refresh fails: a MariaDB outage does not stop
 * Postfix from delivering queued mail. Only before the first load is the answer TEMP.
 */
#define DOMAIN_REFRESH 10

static pthread_mutex_t domains_lock = PTHREAD_MUTEX_INITIALIZER;
static char **domains;
static size_t ndomains;
static double domains_loaded_at = -1e9;
static int domains_valid;
static int domains_refreshing;          /* one connection is loading the list */

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
domains_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mem_free(names[i]);
    mem_free(names);
}

/* Loads the list from MariaDB (never under domains_lock, which lookups need) and installs
 * it; a failure keeps the old list. Called by the one connection that claimed the refresh. */
static void
domains_refresh(CONN *c)
{
    PGCONF *cfg = ctx_config(c->ctx);
    DB *db = dbpool_get(c->ctx->pool);
    char **names = NULL, **old = NULL;
    size_t n = 0, nold = 0;
    int ok = inbound_domain_list(db, cfg, &names, &n) >= 0;

    if (ok)
        qsort(names, n, sizeof(*names), cmp_name);
    pthread_mutex_lock(&domains_lock);
    if (ok) {
        old = domains;
        nold = ndomains;
        domains = names;
        ndomains = n;
        domains_valid = 1;
    } else {
        msg_warn("socketmap: loading the incoming domains: %s; %s", db_error(db),
                 domains_valid ? "answering from the last list" : "answering TEMP");
    }
    /* After a failure, try again in a second rather than at every lookup. */
    domains_loaded_at = clock_mono() - (ok ? 0 : DOMAIN_REFRESH - 1);
    domains_refreshing = 0;
    pthread_mutex_unlock(&domains_lock);
    domains_free(old, nold);
    dbpool_put(c->ctx->pool, db);
    conf_unref(cfg);
}

/* 1 an incoming domain, 0 not, -1 unknown (never loaded). When the list is due for a
 * refresh, *refresh_r says this caller claimed it: it refreshes after answering, so no
 * lookup ever waits for MariaDB once a list exists. */
static int
domain_known(CONN *c, const PGCONF *cfg, const char *domain, int *refresh_r)
{
    char lower[256];
    size_t len = strlen(domain);
    const char *key = lower;
    int ret, first;

    *refresh_r = 0;
    if (len == 0 || len >= sizeof(lower))
        return 0;
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char) tolower((unsigned char) domain[i]);
    if (lower[len - 1] == '.')
        lower[len - 1] = '\0';
    if (strcasecmp(lower, cfg->dns_route_domain) == 0 || strcasecmp(lower, cfg->dns_return_path_domain) == 0)
        return 1;
    pthread_mutex_lock(&domains_lock);
    first = !domains_valid && !domains_refreshing;
    if (!domains_refreshing && clock_mono() - domains_loaded_at >= DOMAIN_REFRESH) {
        domains_refreshing = 1;
        *refresh_r = 1;
    }
    pthread_mutex_unlock(&domains_lock);
    if (first && *refresh_r) {
        /* No list yet: this lookup cannot be answered without one. */
        domains_refresh(c);
        *refresh_r = 0;
    }
    pthread_mutex_lock(&domains_lock);
    if (!domains_valid)
        ret = -1;
    else
        ret = bsearch(&key, domains, ndomains, sizeof(*domains), cmp_name) != NULL;
    pthread_mutex_unlock(&domains_lock);
    return ret;
}

/*
 * Postfix asks relay_recipient_maps only for domains relay_domains called ours, and that
 * answer can be stale: policyd's list is up to DOMAIN_REFRESH seconds old, and smtpd keeps
 * what trivial-rewrite told it for the life of the process (its resolve cache survives
 * sessions). For a domain whose routes are gone, NOTFOUND would be "550 5.1.1 User unknown
 * in relay recipient table", a permanent refusal of mail that should go to the Internet.
 * So an unknown recipient of a domain that no longer receives mail is TEMP (451): the
 * client retries, and a fresh smtpd takes the domain for what it now is. 1 such a domain,
 * 0 the recipient is simply unknown, < 0 database error.
 */
static int
recipient_domain_gone(DB *db, const PGCONF *cfg, const char *address)
{
    const char *at = strrchr(address, '@');
    int ret;

    if (at == NULL || at[1] == '\0')
        return 0;
    ret = inbound_domain_active(db, cfg, at + 1);
    return ret < 0 ? ret : !ret;
}

/*
 * sender_dependent_default_transport_maps: the key is the envelope sender, which the milter
 * set to "<token>@<dns.return_path_domain>" for every outgoing message; anything else (a
 * bounce's null sender is "<>", Postfix's "@domain" retry, mail postgate did not record)
 * is NOTFOUND: default_transport. The token names the message row and so its server.
 */
static char *
transport_lookup(CONN *c, const PGCONF *cfg, const char *key)
{
    const char *at = strrchr(key, '@');
    char token[MESSAGE_TOKEN_LEN + 1];
    IPCHOICE choice;
    DB *db;
    int ret;

    if (at == NULL || (size_t) (at - key) != MESSAGE_TOKEN_LEN || strcasecmp(at + 1, cfg->dns_return_path_domain) != 0)
        return mem_strdup("NOTFOUND ");
    for (size_t i = 0; i < MESSAGE_TOKEN_LEN; i++) {
        if (!isalnum((unsigned char) key[i]))
            return mem_strdup("NOTFOUND ");
        token[i] = (char) tolower((unsigned char) key[i]);
    }
    token[MESSAGE_TOKEN_LEN] = '\0';
    db = dbpool_get(c->ctx->pool);
    ret = ipchoice_for_token(db, token, &choice);
    if (ret < 0)
        msg_warn("socketmap transport \"%s\": database: %s", key, db_error(db));
    dbpool_put(c->ctx->pool, db);
    if (ret < 0)
        return mem_strdup("TEMP database unavailable");
    if (ret == 0)
        return mem_strdup("NOTFOUND ");
    msg_info("socketmap transport: token %s: pool %llu address %llu (%s)", token, choice.pool_id,
             choice.address_id, choice.why);
    return buf_asprintf("OK " IPCHOICE_TRANSPORT_PREFIX "%llu", choice.address_id);
}

/* The answer to one request: "OK ...", "NOTFOUND ", "TEMP ..." or "PERM ...". */
static char *
lookup(CONN *c, const char *request, int *refresh_r)
{
    const char *space = strchr(request, ' ');
    char map[32];
    PGCONF *cfg;
    DB *db;
    char *answer;
    int ret, stale = 0;

    if (space == NULL || space == request || (size_t) (space - request) >= sizeof(map) || space[1] == '\0')
        return mem_strdup("PERM malformed request: expected \"<map> <key>\"");
    snprintf(map, sizeof(map), "%.*s", (int) (space - request), request);
    if (strcmp(map, "domain") != 0 && strcmp(map, "recipient") != 0 && strcmp(map, "transport") != 0)
        return buf_asprintf("PERM unknown map \"%s\"", map);
    cfg = ctx_config(c->ctx);
    if (strcmp(map, "transport") == 0) {
        answer = transport_lookup(c, cfg, space + 1);
        conf_unref(cfg);
        return answer;
    }
    if (strcmp(map, "domain") == 0) {
        ret = domain_known(c, cfg, space + 1, refresh_r);
        conf_unref(cfg);
        if (ret < 0)
            return mem_strdup("TEMP database unavailable");
        return mem_strdup(ret > 0 ? "OK yes" : "NOTFOUND ");
    }
    db = dbpool_get(c->ctx->pool);
    if (space[1] == '@') {
        /* Postfix's "@domain" fallback: whole-domain acceptance is a '*' route, which the
         * address lookup already answers. */
        ret = 0;
    } else {
        INBOUND_TARGET t;

        ret = inbound_resolve(db, cfg, space + 1, &t);
        if (ret > 0 && t.kind == INBOUND_ROUTE && strcmp(t.mode, "Reject") == 0)
            ret = 0;
        else if (ret == 0 && (stale = recipient_domain_gone(db, cfg, space + 1)) != 0)
            ret = stale < 0 ? stale : 0;
    }
    if (ret < 0) {
        msg_warn("socketmap %s \"%s\": database: %s", map, space + 1, db_error(db));
        answer = mem_strdup("TEMP database unavailable");
    } else if (stale > 0) {
        msg_info("socketmap %s \"%s\": the domain no longer receives mail; answering TEMP to a stale "
                 "relay_domains answer", map, space + 1);
        answer = mem_strdup("TEMP domain no longer receives mail here, try again later");
    } else {
        answer = mem_strdup(ret > 0 ? "OK yes" : "NOTFOUND ");
    }
    dbpool_put(c->ctx->pool, db);
    conf_unref(cfg);
    return answer;
}

void
socketmap_serve(CONN *c)
{
    BUF *request = buf_new(256);

    for (;;) {
        int r = conn_read_netstring(c, request, SOCKETMAP_MAX_REQUEST, 0);
        char *answer, *reply;
        double started;
        int failed, refresh = 0;

        if (r == CONN_TOO_LONG || r == CONN_BAD) {
            msg_warn("socketmap connection %lu: %s; closing", c->id,
                     r == CONN_BAD ? "not a netstring" : "request too long");
            break;
        }
        if (r <= 0)
            break;
        if (memchr(buf_data(request), '\0', buf_len(request))) {
            msg_warn("socketmap connection %lu: NUL in a request; closing", c->id);
            break;
        }
        started = clock_mono();
        answer = lookup(c, buf_cstr(request), &refresh);
        stats_request(STATS_SOCKETMAP, clock_mono() - started);
        reply = buf_asprintf("%zu:%s,", strlen(answer), answer);
        failed = conn_write(c, reply, strlen(reply)) < 0;
        mem_free(reply);
        mem_free(answer);
        if (refresh)
            domains_refresh(c);
        if (failed)
            break;
    }
    buf_free(request);
}
