/*
 * clock.h -- time for intervals (throttles, timeouts, cache expiry): a monotonic clock
 * that never jumps when the wall clock is set.
 */
#ifndef PG_CLOCK_H
#define PG_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC: compare only with other values of this function. */
time_t clock_mono_seconds(void);
/* Monotonic seconds with sub-second precision (deadlines, durations). */
double clock_mono(void);

#endif
