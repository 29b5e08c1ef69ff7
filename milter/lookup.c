/*
 * lookup.c -- the milter's per-message lookups through short-lived caches.
 *
 * Every message asks the same questions (which credential, which server, may it send
 * as this domain, with which keys; where an incoming recipient goes): answering them from memory for milter.cache_ttl
 * seconds spares MariaDB four queries per message and OpenSSL a private-key parse,
 * the most expensive step of signing. Not-found answers are cached too. Database
 * errors are never cached.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mail/domain.h"
#include "mail/hosting.h"
#include "mail/trackdomain.h"
#include "milter.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/ttlcache.h"

#define CACHE_ENTRIES 4096

/* A cached answer: found or not, and the record when found. */
typedef struct cached_credential {
    int found;
    CREDENTIAL cred;
} CACHED_CREDENTIAL;

typedef struct cached_server {
    int found;
    SERVER server;
} CACHED_SERVER;

typedef struct cached_domain {
    unsigned long long domain_id;       /* 0: not a sending domain of the server */
} CACHED_DOMAIN;

typedef struct cached_track {
    int found;
    TRACK_DOMAIN td;
} CACHED_TRACK;

typedef struct cached_inbound {
    int found;
    INBOUND_TARGET t;
} CACHED_INBOUND;

static TTLCACHE *credentials, *servers, *domains, *keysets, *tracks, *inbounds;

static void
free_track(void *value)
{
    CACHED_TRACK *c = value;

    trackdomain_clear(&c->td);
    mem_free(c);
}

static void
free_keyset(void *value)
{
    LOOKUP_KEYSET *ks = value;

    for (int i = 0; i < ks->n; i++)
        dkim_key_free(ks->keys[i]);
    mem_free(ks);
}

void
lookup_init(unsigned ttl)
{
    credentials = ttlcache_new(ttl, CACHE_ENTRIES, mem_free);
    servers = ttlcache_new(ttl, CACHE_ENTRIES, mem_free);
    domains = ttlcache_new(ttl, CACHE_ENTRIES, mem_free);
    keysets = ttlcache_new(ttl, CACHE_ENTRIES, free_keyset);
    tracks = ttlcache_new(ttl, CACHE_ENTRIES, free_track);
    inbounds = ttlcache_new(ttl, CACHE_ENTRIES, mem_free);
}

void
lookup_done(void)
{
    ttlcache_free(credentials);
    ttlcache_free(servers);
    ttlcache_free(domains);
    ttlcache_free(keysets);
    ttlcache_free(tracks);
    ttlcache_free(inbounds);
}

static int
credential_cached(DB *db, const char *key, int by_ip, const char *ip, unsigned long long id, CREDENTIAL *out)
{
    CACHED_CREDENTIAL *c = ttlcache_get(credentials, key);
    int ret, found;

    if (c) {
        found = c->found;
        if (found)
            *out = c->cred;
        ttlcache_release(credentials, c);
        return found;
    }
    ret = by_ip ? credential_by_ip(db, milter_globals.cfg, ip, out) : credential_by_id(db, id, out);
    if (ret < 0)
        return ret;
    c = mem_zalloc(sizeof(*c));
    c->found = ret > 0;
    if (ret > 0)
        c->cred = *out;
    ttlcache_put(credentials, key, c);
    return ret;
}

int
lookup_credential_by_ip(DB *db, const char *ip, CREDENTIAL *out)
{
    char key[80];

    snprintf(key, sizeof(key), "ip:%s", ip);
    return credential_cached(db, key, 1, ip, 0, out);
}

int
lookup_credential_by_id(DB *db, unsigned long long id, CREDENTIAL *out)
{
    char key[32];

    snprintf(key, sizeof(key), "id:%llu", id);
    return credential_cached(db, key, 0, NULL, id, out);
}

int
lookup_server(DB *db, unsigned long long id, SERVER *out)
{
    char key[32];
    CACHED_SERVER *c;
    int ret, found;

    snprintf(key, sizeof(key), "%llu", id);
    if ((c = ttlcache_get(servers, key)) != NULL) {
        found = c->found;
        if (found)
            *out = c->server;
        ttlcache_release(servers, c);
        return found;
    }
    if ((ret = server_by_id(db, id, out)) < 0)
        return ret;
    c = mem_zalloc(sizeof(*c));
    c->found = ret > 0;
    if (ret > 0)
        c->server = *out;
    ttlcache_put(servers, key, c);
    return ret;
}

int
lookup_sending_domain(DB *db, const SERVER *server, const char *domain, unsigned long long *domain_id_r)
{
    char *key = buf_asprintf("%llu:%s", server->id, domain);
    CACHED_DOMAIN *c = ttlcache_get(domains, key);
    int ret;

    if (c) {
        *domain_id_r = c->domain_id;
        ttlcache_release(domains, c);
        mem_free(key);
        return *domain_id_r != 0;
    }
    ret = domain_for_sending(db, server, domain, domain_id_r);
    if (ret >= 0) {
        c = mem_zalloc(sizeof(*c));
        c->domain_id = ret > 0 ? *domain_id_r : 0;
        ttlcache_put(domains, key, c);
    }
    mem_free(key);
    return ret;
}

LOOKUP_KEYSET *
lookup_signing_keys(DB *db, const char *domain, unsigned long long domain_id, int *error_r)
{
    char key[32];
    LOOKUP_KEYSET *ks;
    DOMAIN_KEY raw[2];
    int n = 0;

    *error_r = 0;
    snprintf(key, sizeof(key), "%llu", domain_id);
    if ((ks = ttlcache_get(keysets, key)) != NULL)
        return ks;
    if (domain_signing_keys(db, milter_globals.seal, domain_id, raw, &n) < 0) {
        *error_r = 1;
        return NULL;
    }
    ks = mem_zalloc(sizeof(*ks));
    for (int i = 0; i < n; i++) {
        char *why = NULL;
        DKIM_KEY *k = dkim_key_load(raw[i].pem, strlen(raw[i].pem), &why);

        if (k == NULL) {
            msg_warn("domain %s: DKIM key %s: %s", domain, raw[i].selector, why);
            mem_free(why);
            continue;
        }
        ks->keys[ks->n] = k;
        snprintf(ks->selectors[ks->n], sizeof(ks->selectors[ks->n]), "%s", raw[i].selector);
        ks->n++;
    }
    domain_keys_free(raw, n);
    return ttlcache_put_held(keysets, key, ks);
}

void
lookup_release_keys(LOOKUP_KEYSET *ks)
{
    ttlcache_release(keysets, ks);
}

int
lookup_track_domain(DB *db, unsigned long long server_id, unsigned long long domain_id, TRACK_DOMAIN *out)
{
    char key[48];
    CACHED_TRACK *c;
    int ret, found;

    snprintf(key, sizeof(key), "%llu:%llu", server_id, domain_id);
    if ((c = ttlcache_get(tracks, key)) != NULL) {
        found = c->found;
        memset(out, 0, sizeof(*out));
        if (found) {
            *out = c->td;
            out->excluded = mem_strdup_null(c->td.excluded);
        }
        ttlcache_release(tracks, c);
        return found;
    }
    if ((ret = trackdomain_for_domain(db, server_id, domain_id, out)) < 0)
        return ret;
    c = mem_zalloc(sizeof(*c));
    c->found = ret > 0;
    if (ret > 0) {
        c->td = *out;
        c->td.excluded = mem_strdup_null(out->excluded);
    }
    ttlcache_put(tracks, key, c);
    return ret;
}

int
lookup_inbound(DB *db, const char *address, INBOUND_TARGET *out)
{
    CACHED_INBOUND *c = ttlcache_get(inbounds, address);
    int ret, found;

    if (c) {
        found = c->found;
        if (found)
            *out = c->t;
        ttlcache_release(inbounds, c);
        return found;
    }
    memset(out, 0, sizeof(*out));
    if ((ret = inbound_resolve(db, milter_globals.cfg, address, out)) < 0)
        return ret;
    if (ret == 0 && (ret = hosting_recipient(db, address, &out->server_id)) < 0)
        return ret;
    if (ret > 0 && out->kind == 0)
        out->kind = INBOUND_MAILBOX;
    c = mem_zalloc(sizeof(*c));
    c->found = ret > 0;
    if (ret > 0)
        c->t = *out;
    ttlcache_put(inbounds, address, c);
    return ret;
}
