/*
 * clock.c -- monotonic time and the pause before trying again (clock.h).
 */
#include "config.h"

#include <stdlib.h>

#include "util/clock.h"

time_t
clock_mono_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

double
clock_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
clock_backoff_pause(int attempt)
{
    unsigned ceiling_ms = 5u << (attempt < 6 ? (attempt > 0 ? attempt : 0) : 6);
    unsigned ms = 1 + arc4random_uniform(ceiling_ms);
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}
