/*
 * clock.h -- time for intervals (throttles, timeouts, cache expiry): a monotonic clock
 * that never jumps when the wall clock is set, and the pause before trying again.
 */
#ifndef PG_CLOCK_H
#define PG_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC: compare only with other values of this function. */
time_t clock_mono_seconds(void);
/* Monotonic seconds with sub-second precision (deadlines, durations). */
double clock_mono(void);
/* Sleeps before attempt n (1, 2, ...) of work that lost a race to another: a random 1 to
 * 5 << n ms (n capped at 6), so two losers do not meet again. */
void clock_backoff_pause(int attempt);

#endif
