/*
 * ttlcache.h -- a small thread-safe cache of values that expire after a fixed time.
 *
 * For lookups a daemon repeats for every message (which server a credential belongs
 * to, a domain's parsed signing keys): a change in the database is seen within the
 * TTL. Values are reference-counted by the cache: ttlcache_get() returns a held
 * reference the caller gives back with ttlcache_release(), so an entry replaced or
 * expired while in use is freed only when its last user is done. A TTL of 0 disables
 * caching (every get misses).
 */
#ifndef PG_TTLCACHE_H
#define PG_TTLCACHE_H

#include <stddef.h>

typedef struct ttlcache TTLCACHE;
typedef void TTLCACHE_FREE(void *value);

TTLCACHE *ttlcache_new(unsigned ttl_seconds, size_t max_entries, TTLCACHE_FREE *free_fn);
void ttlcache_free(TTLCACHE *cache);
/* A held value for key, or NULL when absent or expired. */
void *ttlcache_get(TTLCACHE *cache, const char *key);
/* Stores value under key (replacing any older one); the cache owns value. */
void ttlcache_put(TTLCACHE *cache, const char *key, void *value);
/* Stores value like ttlcache_put and returns it held, as ttlcache_get would, in one step
 * (so no other thread can replace and free it in between). With a TTL of 0 nothing is
 * stored and the value is freed at its release. */
void *ttlcache_put_held(TTLCACHE *cache, const char *key, void *value);
/* Gives back a value returned by ttlcache_get or ttlcache_put_held. */
void ttlcache_release(TTLCACHE *cache, void *value);

#endif
