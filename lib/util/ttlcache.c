/*
 * ttlcache.c -- expiring cache (ttlcache.h): an open hash table of string keys with a
 * mutex; values carry a reference count kept beside them in a small header.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/mem.h"
#include "util/ttlcache.h"

struct holder {
    void *value;
    int refs;           /* the cache's own reference + one per ttlcache_get */
};

struct entry {
    char *key;
    struct holder *holder;
    time_t expires;
    struct entry *next;
};

struct ttlcache {
    pthread_mutex_t lock;
    unsigned ttl;
    size_t max_entries, count, nbuckets;
    struct entry **buckets;
    TTLCACHE_FREE *free_fn;
    struct holder **out;    /* one slot per reference handed out: value -> holder on release */
    size_t nout, outcap;
};

static void hand_out(TTLCACHE *c, struct holder *h);

static size_t
hash(const char *s, size_t n)
{
    size_t h = 1469598103934665603ULL;

    while (*s)
        h = (h ^ (unsigned char) *s++) * 1099511628211ULL;
    return h % n;
}

TTLCACHE *
ttlcache_new(unsigned ttl_seconds, size_t max_entries, TTLCACHE_FREE *free_fn)
{
    TTLCACHE *c = mem_zalloc(sizeof(*c));

    pthread_mutex_init(&c->lock, NULL);
    c->ttl = ttl_seconds;
    c->max_entries = max_entries ? max_entries : 1;
    c->nbuckets = c->max_entries < 64 ? 64 : c->max_entries;
    c->buckets = mem_zalloc(c->nbuckets * sizeof(struct entry *));
    c->free_fn = free_fn;
    return c;
}

/* Drops one reference; frees the value with the last. Called with the lock held. */
static void
unref(TTLCACHE *c, struct holder *h)
{
    if (--h->refs > 0)
        return;
    c->free_fn(h->value);
    mem_free(h);
}

static void
drop_entry(TTLCACHE *c, struct entry *e)
{
    unref(c, e->holder);
    mem_free(e->key);
    mem_free(e);
    c->count--;
}

/* Removes every expired entry (or all, when everything is too many). Lock held. */
static void
sweep(TTLCACHE *c, int all)
{
    time_t t = clock_mono_seconds();

    for (size_t b = 0; b < c->nbuckets; b++) {
        struct entry **pp = &c->buckets[b];

        while (*pp) {
            struct entry *e = *pp;

            if (all || e->expires <= t) {
                *pp = e->next;
                drop_entry(c, e);
            } else {
                pp = &e->next;
            }
        }
    }
}

void
ttlcache_free(TTLCACHE *cache)
{
    if (cache == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    sweep(cache, 1);
    pthread_mutex_unlock(&cache->lock);
    mem_free(cache->buckets);
    mem_free(cache->out);
    pthread_mutex_destroy(&cache->lock);
    mem_free(cache);
}

void *
ttlcache_get(TTLCACHE *cache, const char *key)
{
    void *value = NULL;

    if (cache->ttl == 0)
        return NULL;
    pthread_mutex_lock(&cache->lock);
    for (struct entry *e = cache->buckets[hash(key, cache->nbuckets)]; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            if (e->expires > clock_mono_seconds()) {
                hand_out(cache, e->holder);
                value = e->holder->value;
            }
            break;
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return value;
}

/* Records one handed-out reference to h. Lock held. */
static void
hand_out(TTLCACHE *c, struct holder *h)
{
    h->refs++;
    if (c->nout == c->outcap) {
        c->outcap = c->outcap ? 2 * c->outcap : 16;
        c->out = mem_realloc(c->out, c->outcap * sizeof(*c->out));
    }
    c->out[c->nout++] = h;
}

static void *
put(TTLCACHE *cache, const char *key, void *value, int held)
{
    size_t b;
    struct entry *e, **pp;
    struct holder *h = mem_alloc(sizeof(*h));

    h->value = value;
    h->refs = 0;
    pthread_mutex_lock(&cache->lock);
    if (cache->ttl == 0) {
        /* Nothing is stored: the value lives only as long as the caller's reference. */
        if (held)
            hand_out(cache, h);
        pthread_mutex_unlock(&cache->lock);
        if (!held) {
            cache->free_fn(value);
            mem_free(h);
        }
        return held ? value : NULL;
    }
    b = hash(key, cache->nbuckets);
    for (pp = &cache->buckets[b]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0) {
            e = *pp;
            *pp = e->next;
            drop_entry(cache, e);
            break;
        }
    }
    if (cache->count >= cache->max_entries)
        sweep(cache, 0);
    if (cache->count >= cache->max_entries)
        sweep(cache, 1);
    e = mem_alloc(sizeof(*e));
    e->key = mem_strdup(key);
    e->holder = h;
    h->refs = 1;
    e->expires = clock_mono_seconds() + (time_t) cache->ttl;
    e->next = cache->buckets[b];
    cache->buckets[b] = e;
    cache->count++;
    if (held)
        hand_out(cache, h);
    pthread_mutex_unlock(&cache->lock);
    return held ? value : NULL;
}

void
ttlcache_put(TTLCACHE *cache, const char *key, void *value)
{
    put(cache, key, value, 0);
}

void *
ttlcache_put_held(TTLCACHE *cache, const char *key, void *value)
{
    return put(cache, key, value, 1);
}

void
ttlcache_release(TTLCACHE *cache, void *value)
{
    if (value == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = cache->nout; i-- > 0;) {
        if (cache->out[i]->value == value) {
            struct holder *h = cache->out[i];

            cache->out[i] = cache->out[--cache->nout];
            unref(cache, h);
            break;
        }
    }
    pthread_mutex_unlock(&cache->lock);
}
