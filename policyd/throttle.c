/*
 * throttle.c -- fixed-window event counters in a chained hash table (throttle.h).
 * One mutex guards the table: every operation is a short walk of one chain.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "throttle.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

#define THROTTLE_BUCKETS 4096

typedef struct entry {
    struct entry *next;
    time_t expires;             /* monotonic second at which the window ends */
    long long count;
    int reported;               /* the block was reported in this window */
    char key[];
} ENTRY;

struct throttle {
    pthread_mutex_t lock;
    char *name;
    ENTRY *buckets[THROTTLE_BUCKETS];
    size_t nkeys, max_keys;
    time_t last_sweep;
    int full_reported;
};

/* FNV-1a: keys are short and chosen by us or by Postfix, not by a remote peer
 * directly (a client address is one of a bounded set per attacker). */
static size_t
bucket_of(const char *key)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *) key; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h % THROTTLE_BUCKETS;
}

THROTTLE *
throttle_new(const char *name, size_t max_keys)
{
    THROTTLE *t = mem_zalloc(sizeof(*t));

    pthread_mutex_init(&t->lock, NULL);
    t->name = mem_strdup(name);
    t->max_keys = max_keys ? max_keys : 1;
    return t;
}

void
throttle_free(THROTTLE *t)
{
    if (t == NULL)
        return;
    for (size_t b = 0; b < THROTTLE_BUCKETS; b++) {
        ENTRY *e = t->buckets[b], *next;

        for (; e; e = next) {
            next = e->next;
            mem_free(e);
        }
    }
    pthread_mutex_destroy(&t->lock);
    mem_free(t->name);
    mem_free(t);
}

/* Drops every expired entry; called with the lock held, at most once a second. */
static void
sweep(THROTTLE *t, time_t now)
{
    if (t->last_sweep == now)
        return;
    t->last_sweep = now;
    for (size_t b = 0; b < THROTTLE_BUCKETS; b++) {
        ENTRY **pp = &t->buckets[b];

        while (*pp) {
            if ((*pp)->expires <= now) {
                ENTRY *dead = *pp;

                *pp = dead->next;
                mem_free(dead);
                t->nkeys--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

/* The live entry for key (an expired one is reset to an empty window), or NULL.
 * With create, a missing key gets a new entry whose window ends after `window`. */
static ENTRY *
find(THROTTLE *t, const char *key, int create, long long window, time_t now)
{
    size_t b = bucket_of(key), len;
    ENTRY *e;

    for (e = t->buckets[b]; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            if (e->expires <= now) {
                if (!create)
                    return NULL;
                e->count = 0;
                e->reported = 0;
                e->expires = now + (time_t) window;
            }
            return e;
        }
    }
    if (!create)
        return NULL;
    if (t->nkeys >= t->max_keys)
        sweep(t, now);
    if (t->nkeys >= t->max_keys) {
        if (!t->full_reported)
            msg_warn("%s: %zu keys are being counted; new keys are not tracked until some expire",
                     t->name, t->nkeys);
        t->full_reported = 1;
        return NULL;
    }
    t->full_reported = 0;
    len = strlen(key);
    e = mem_zalloc(sizeof(*e) + len + 1);
    memcpy(e->key, key, len + 1);
    e->expires = now + (time_t) window;
    e->next = t->buckets[b];
    t->buckets[b] = e;
    t->nkeys++;
    return e;
}

static void
report_once(ENTRY *e, int *first_r)
{
    if (first_r)
        *first_r = !e->reported;
    e->reported = 1;
}

int
throttle_blocked(THROTTLE *t, const char *key, long long limit, int *first_r)
{
    ENTRY *e;
    int blocked = 0;

    if (first_r)
        *first_r = 0;
    pthread_mutex_lock(&t->lock);
    e = find(t, key, 0, 0, clock_mono_seconds());
    if (e && e->count >= limit) {
        blocked = 1;
        report_once(e, first_r);
    }
    pthread_mutex_unlock(&t->lock);
    return blocked;
}

long long
throttle_hit(THROTTLE *t, const char *key, long long window)
{
    ENTRY *e;
    long long count = 0;

    pthread_mutex_lock(&t->lock);
    e = find(t, key, 1, window, clock_mono_seconds());
    if (e)
        count = ++e->count;
    pthread_mutex_unlock(&t->lock);
    return count;
}

int
throttle_take(THROTTLE *t, const char *key, long long limit, long long window, int *first_r)
{
    ENTRY *e;
    int allowed = 1;

    if (first_r)
        *first_r = 0;
    pthread_mutex_lock(&t->lock);
    e = find(t, key, 1, window, clock_mono_seconds());
    if (e) {
        if (e->count >= limit) {
            allowed = 0;
            report_once(e, first_r);
        } else {
            e->count++;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return allowed;
}
