/*
 * api_v1_lookup.c -- the send API's cached lookups (api_v1_lookup.h), on lib/util/ttlcache.
 * A key is cached under its SHA-256 (the hash the database holds), never as itself.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api_v1_lookup.h"
#include "mail/domain.h"
#include "util/mem.h"
#include "util/token.h"
#include "util/ttlcache.h"

#define CACHE_ENTRIES 4096
#define DOMAIN_KEY_MAX 300

static TTLCACHE *credentials, *servers, *domains;

void
api_v1_lookup_init(unsigned ttl_seconds)
{
    if (ttl_seconds == 0)
        return;
    credentials = ttlcache_new(ttl_seconds, CACHE_ENTRIES, mem_free);
    servers = ttlcache_new(ttl_seconds, CACHE_ENTRIES, mem_free);
    domains = ttlcache_new(ttl_seconds, CACHE_ENTRIES, mem_free);
}

void
api_v1_lookup_done(void)
{
    ttlcache_free(credentials);
    ttlcache_free(servers);
    ttlcache_free(domains);
    credentials = servers = domains = NULL;
}

int
api_v1_credential(DB *db, const char *key, CREDENTIAL *out)
{
    char hash[65];
    CREDENTIAL *c;
    int ret;

    if (credentials == NULL)
        return credential_by_key(db, "API", key, out);
    token_sha256_hex(key, strlen(key), hash);
    if ((c = ttlcache_get(credentials, hash)) != NULL) {
        *out = *c;
        ttlcache_release(credentials, c);
        return 1;
    }
    if ((ret = credential_by_key(db, "API", key, out)) > 0) {
        c = mem_alloc(sizeof(*c));
        *c = *out;
        ttlcache_put(credentials, hash, c);
    }
    return ret;
}

int
api_v1_server(DB *db, unsigned long long id, SERVER *out)
{
    char key[32];
    SERVER *s;
    int ret;

    if (servers == NULL)
        return server_by_id(db, id, out);
    snprintf(key, sizeof(key), "%llu", id);
    if ((s = ttlcache_get(servers, key)) != NULL) {
        *out = *s;
        ttlcache_release(servers, s);
        return 1;
    }
    if ((ret = server_by_id(db, id, out)) > 0) {
        s = mem_alloc(sizeof(*s));
        *s = *out;
        ttlcache_put(servers, key, s);
    }
    return ret;
}

int
api_v1_sending_domain(DB *db, const SERVER *server, const char *domain)
{
    unsigned long long domain_id;
    char key[DOMAIN_KEY_MAX];
    int n, ret;
    void *hit;

    n = snprintf(key, sizeof(key), "%llu:%s", server->id, domain);
    if (domains == NULL || n < 0 || (size_t) n >= sizeof(key)) {
        ret = domain_for_sending(db, server, domain, &domain_id);
        return ret > 0 ? 1 : ret;
    }
    for (char *p = key; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    if ((hit = ttlcache_get(domains, key)) != NULL) {
        ttlcache_release(domains, hit);
        return 1;
    }
    ret = domain_for_sending(db, server, domain, &domain_id);
    if (ret > 0) {
        ttlcache_put(domains, key, mem_strdup("1"));
        ret = 1;
    }
    return ret;
}
