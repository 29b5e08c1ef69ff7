/*
 * throttle.h -- in-memory event counters per key (a client address, a credential)
 * over fixed windows, for the SASL failure throttle and the relay rate limit.
 *
 * A key's window starts with its first event and lasts `window` seconds of the
 * monotonic clock; when it ends the count starts again from zero. Counters live in
 * this process only (per host, by design: nothing is shared through MariaDB). The
 * table holds at most max_keys keys: expired ones are swept when it fills, and when
 * every key is still live a new key is not tracked (logged once) rather than letting
 * memory grow without bound. Thread-safe.
 */
#ifndef PG_POLICYD_THROTTLE_H
#define PG_POLICYD_THROTTLE_H

#include <stddef.h>

typedef struct throttle THROTTLE;

THROTTLE *throttle_new(const char *name, size_t max_keys);
void throttle_free(THROTTLE *t);

/* 1 when key already has limit or more events in its current window, else 0.
 * *first_r (may be NULL) is set to 1 only the first time this window is reported
 * blocked, so a caller logs the block once per window. */
int throttle_blocked(THROTTLE *t, const char *key, long long limit, int *first_r);

/* Records one event for key (starting a window of `window` seconds when none is
 * running) and returns the count in the window, or 0 when the key is not tracked. */
long long throttle_hit(THROTTLE *t, const char *key, long long window);

/* Rate limiting in one step: when key has fewer than limit events in its window,
 * records one and returns 1; otherwise returns 0 (and *first_r as throttle_blocked). */
int throttle_take(THROTTLE *t, const char *key, long long limit, long long window, int *first_r);

#endif
