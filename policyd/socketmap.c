/*
 * socketmap.c -- the socketmap protocol and its maps (socketmap.h): domain and recipient
 * (routes, inbound.h), hosted_domain, hosted_quota, mailbox, alias and sender_login (mail
 * hosting, hosting.h), transport (IP pools, ipchoice.h) and received (privacy mode,
 * privacy.h).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/hosting.h"
#include "mail/inbound.h"
#include "mail/ipchoice.h"
#include "mail/message.h"
#include "mail/privacy.h"
#include "socketmap.h"
#include "stats.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/ttlcache.h"

/*
 * The incoming domains, kept in memory: Postfix asks relay_domains for every recipient
 * domain, outgoing ones included, and trivial-rewrite defers all delivery when the map
 * says TEMP. The set is small, so it is loaded whole, refreshed every DOMAIN_REFRESH
 * seconds, and kept as it was when a refresh fails: a MariaDB outage does not stop
 * Postfix from delivering queued mail. Lookups that arrive while the first list loads wait
 * for it (at most FIRST_LOAD_WAIT seconds); only when there is still no list is the answer
 * TEMP.
 */
#define DOMAIN_REFRESH 10
#define FIRST_LOAD_WAIT 10

/* One cached list of domain names: the relay domains (inbound.h) or the hosted domains
 * (hosting.h, for virtual_mailbox_domains, and the gate of every hosting lookup, so mail
 * for other domains never waits for MariaDB). */
typedef struct domain_cache {
    const char *what;                   /* for log lines */
    int (*load)(DB *, const PGCONF *, char ***, size_t *);
    pthread_mutex_t lock;
    char **names;
    size_t n;
    double loaded_at;
    int valid;
    int refreshing;                     /* one connection is loading the list */
    pthread_cond_t loaded;              /* broadcast when a load ends, for the first list's waiters */
} DOMAIN_CACHE;

static int
load_relay(DB *db, const PGCONF *cfg, char ***names_r, size_t *n_r)
{
    return inbound_domain_list(db, cfg, names_r, n_r);
}

static int
load_hosted(DB *db, const PGCONF *cfg, char ***names_r, size_t *n_r)
{
    (void) cfg;
    return hosting_domain_list(db, names_r, n_r);
}

static DOMAIN_CACHE relay_cache = {"incoming domains", load_relay, PTHREAD_MUTEX_INITIALIZER, NULL, 0, -1e9, 0, 0,
                                   PTHREAD_COND_INITIALIZER};
static DOMAIN_CACHE hosted_cache = {"hosted domains", load_hosted, PTHREAD_MUTEX_INITIALIZER, NULL, 0, -1e9, 0, 0,
                                    PTHREAD_COND_INITIALIZER};

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

/* Loads the list from MariaDB (never under the cache's lock, which lookups need) and installs
 * it; a failure keeps the old list. Called by the one connection that claimed the refresh. */
static void
domains_refresh(CONN *c, DOMAIN_CACHE *dc)
{
    PGCONF *cfg = ctx_config(c->ctx);
    DB *db = dbpool_get(c->ctx->pool);
    char **names = NULL, **old = NULL;
    size_t n = 0, nold = 0;
    int ok = dc->load(db, cfg, &names, &n) >= 0;

    if (ok)
        qsort(names, n, sizeof(*names), cmp_name);
    pthread_mutex_lock(&dc->lock);
    if (ok) {
        old = dc->names;
        nold = dc->n;
        dc->names = names;
        dc->n = n;
        dc->valid = 1;
    } else {
        msg_warn("socketmap: loading the %s: %s; %s", dc->what, db_error(db),
                 dc->valid ? "answering from the last list" : "answering TEMP");
    }
    /* After a failure, try again in a second rather than at every lookup. */
    dc->loaded_at = clock_mono() - (ok ? 0 : DOMAIN_REFRESH - 1);
    dc->refreshing = 0;
    pthread_cond_broadcast(&dc->loaded);
    pthread_mutex_unlock(&dc->lock);
    domains_free(old, nold);
    dbpool_put(c->ctx->pool, db);
    conf_unref(cfg);
}

/* 1 domain (lower-cased into lower) is in the list, 0 not, -1 unknown (never loaded).
 * When the list is due for a refresh, *refresh_r says this caller claimed it: it refreshes
 * after answering, so no lookup ever waits for MariaDB once a list exists. */
static int
cache_has(CONN *c, DOMAIN_CACHE *dc, const char *lower, int *refresh_r)
{
    const char *key = lower;
    int ret, first, claimed = 0;

    pthread_mutex_lock(&dc->lock);
    first = !dc->valid && !dc->refreshing;
    if (!dc->refreshing && clock_mono() - dc->loaded_at >= DOMAIN_REFRESH) {
        dc->refreshing = 1;
        claimed = 1;
    }
    pthread_mutex_unlock(&dc->lock);
    if (first && claimed) {
        /* No list yet: this lookup cannot be answered without one. */
        domains_refresh(c, dc);
        claimed = 0;
    }
    if (claimed)
        *refresh_r |= dc == &relay_cache ? 1 : 2;
    pthread_mutex_lock(&dc->lock);
    if (!dc->valid && dc->refreshing) {
        /* Another connection is loading the first list: wait for it (bounded) rather than
         * answer TEMP to every lookup that arrives while a freshly started policyd loads. */
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += FIRST_LOAD_WAIT;
        while (!dc->valid && dc->refreshing)
            if (pthread_cond_timedwait(&dc->loaded, &dc->lock, &until) != 0)
                break;
    }
    if (!dc->valid)
        ret = -1;
    else
        ret = bsearch(&key, dc->names, dc->n, sizeof(*dc->names), cmp_name) != NULL;
    pthread_mutex_unlock(&dc->lock);
    return ret;
}

/* Lower-cases domain (without a trailing dot) into lower; 0 when empty or too long. */
static int
domain_key(const char *domain, char lower[256])
{
    size_t len = strlen(domain);

    if (len == 0 || len >= 256)
        return 0;
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char) tolower((unsigned char) domain[i]);
    if (lower[len - 1] == '.')
        lower[len - 1] = '\0';
    return lower[0] != '\0';
}

/* 1 an incoming (relay) domain, 0 not, -1 unknown (never loaded). */
static int
domain_known(CONN *c, const PGCONF *cfg, const char *domain, int *refresh_r)
{
    char lower[256];

    if (!domain_key(domain, lower))
        return 0;
    if (strcasecmp(lower, cfg->dns_route_domain) == 0 || strcasecmp(lower, cfg->dns_return_path_domain) == 0)
        return 1;
    return cache_has(c, &relay_cache, lower, refresh_r);
}

/* 1 a hosted domain, 0 not, -1 unknown (never loaded). */
static int
domain_hosted(CONN *c, const char *domain, int *refresh_r)
{
    char lower[256];

    return domain_key(domain, lower) ? cache_has(c, &hosted_cache, lower, refresh_r) : 0;
}

/*
 * check_recipient_access on hosted_quota: a mailbox whose usage reached its quota gets
 * "452 4.2.2 Mailbox is full" at RCPT (the sender retries; Postfix never accepts mail
 * Dovecot would refuse at delivery), anything else passes to the next restriction.
 */
static char *
quota_lookup(CONN *c, const char *key)
{
    const char *which;
    DB *db = dbpool_get(c->ctx->pool);
    int ret = hosting_quota_full(db, key, &which);

    if (ret < 0)
        msg_warn("socketmap hosted_quota \"%s\": database: %s", key, db_error(db));
    dbpool_put(c->ctx->pool, db);
    if (ret < 0)
        return mem_strdup("TEMP database unavailable");
    if (ret == 0)
        return mem_strdup("NOTFOUND ");
    msg_info("socketmap hosted_quota: <%s> is over its quota of %s: 452 at RCPT", key, which);
    return mem_strdup("OK 452 4.2.2 Mailbox is full");
}

/* The hosting maps: hosted_domain, hosted_quota, mailbox, alias, sender_login. Keys of other
 * domains are NOTFOUND without asking MariaDB. */
static char *
hosting_lookup(CONN *c, const char *map, const char *key, int *refresh_r)
{
    const char *at = strrchr(key, '@');
    int ret;
    BUF *out;
    DB *db;
    char *answer;

    if (strcmp(map, "hosted_domain") == 0) {
        ret = domain_hosted(c, key, refresh_r);
        return ret < 0 ? mem_strdup("TEMP database unavailable") : mem_strdup(ret > 0 ? "OK yes" : "NOTFOUND ");
    }
    if (at == NULL || (ret = domain_hosted(c, at + 1, refresh_r)) == 0)
        return mem_strdup("NOTFOUND ");
    if (ret < 0)
        return mem_strdup("TEMP database unavailable");
    if (strcmp(map, "hosted_quota") == 0)
        return quota_lookup(c, key);
    out = buf_new(128);
    db = dbpool_get(c->ctx->pool);
    if (strcmp(map, "mailbox") == 0) {
        if ((ret = hosting_mailbox(db, key)) > 0)
            buf_append_str(out, "yes");
    } else if (strcmp(map, "alias") == 0) {
        ret = hosting_alias(db, key, out);
    } else {
        ret = hosting_sender_logins(db, key, out);
    }
    if (ret < 0) {
        msg_warn("socketmap %s \"%s\": database: %s", map, key, db_error(db));
        answer = mem_strdup("TEMP database unavailable");
    } else {
        answer = ret > 0 ? buf_asprintf("OK %s", buf_cstr(out)) : mem_strdup("NOTFOUND ");
    }
    dbpool_put(c->ctx->pool, db);
    buf_free(out);
    return answer;
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
    ret = ipchoice_for_token(db, &cfg->postfix_warmup_plan, token, &choice);
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

/*
 * header_checks' privacy tables (ctl_postconf.h): the key names the sender of a Received
 * field smtpd wrote and the field from "by "; a sender of a server with privacy mode gets
 * the field without its "from" part. Every message asks once (mail from the Internet too,
 * as "client"), so the answer per sender is kept for milter.cache_ttl, like the milter's
 * own lookups: a changed setting is in effect within that time.
 */
static TTLCACHE *privacy_cache;
static pthread_once_t privacy_once = PTHREAD_ONCE_INIT;
static unsigned privacy_ttl;

static void
privacy_cache_init(void)
{
    privacy_cache = ttlcache_new(privacy_ttl, 4096, mem_free);
}

static char *
received_lookup(CONN *c, const PGCONF *cfg, const char *key)
{
    char kind[8], sender[330], cache_key[340];
    const char *rest;
    int *held, private;

    if (!privacy_key_parse(key, kind, sender, sizeof(sender), &rest))
        return mem_strdup("NOTFOUND ");
    privacy_ttl = (unsigned) cfg->milter_cache_ttl;
    pthread_once(&privacy_once, privacy_cache_init);
    snprintf(cache_key, sizeof(cache_key), "%s %s", kind, sender);
    if ((held = ttlcache_get(privacy_cache, cache_key)) != NULL) {
        private = *held;
    } else {
        DB *db = dbpool_get(c->ctx->pool);
        int *value = mem_zalloc(sizeof(*value));

        private = privacy_of_sender(db, cfg, kind, sender);
        if (private < 0) {
            msg_warn("socketmap received: %s %s: database: %s", kind, sender, db_error(db));
            dbpool_put(c->ctx->pool, db);
            mem_free(value);
            return mem_strdup("TEMP database unavailable");
        }
        dbpool_put(c->ctx->pool, db);
        *value = private;
        held = ttlcache_put_held(privacy_cache, cache_key, value);
    }
    ttlcache_release(privacy_cache, held);
    return private ? buf_asprintf("OK REPLACE Received: %s", rest) : mem_strdup("NOTFOUND ");
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
    if (strcmp(map, "hosted_domain") == 0 || strcmp(map, "hosted_quota") == 0 || strcmp(map, "mailbox") == 0
        || strcmp(map, "alias") == 0 || strcmp(map, "sender_login") == 0)
        return hosting_lookup(c, map, space + 1, refresh_r);
    if (strcmp(map, "domain") != 0 && strcmp(map, "recipient") != 0 && strcmp(map, "transport") != 0
        && strcmp(map, "received") != 0)
        return buf_asprintf("PERM unknown map \"%s\"", map);
    cfg = ctx_config(c->ctx);
    if (strcmp(map, "received") == 0) {
        answer = received_lookup(c, cfg, space + 1);
        conf_unref(cfg);
        return answer;
    }
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
        if (refresh & 1)
            domains_refresh(c, &relay_cache);
        if (refresh & 2)
            domains_refresh(c, &hosted_cache);
        if (failed)
            break;
    }
    buf_free(request);
}
