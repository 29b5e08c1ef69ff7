/*
 * metrics.h -- a process's Prometheus metrics: counters, gauges and histograms
 * registered once at start, updated from any thread, and written in Prometheus's text
 * exposition format (version 0.0.4) when scraped.
 *
 * A series is a family name plus fixed label values, given as the text between the
 * braces ("outcome=\"accepted\"", or NULL for none); every series of a family must be
 * registered with the same help text and type. Registering the same series twice
 * returns the first. Series live as long as the process, so counters survive a
 * configuration reload.
 *
 * Contract: updates are lock-free for counters and gauges (atomics) and take a short
 * per-series lock for histograms; a gauge function runs at scrape time, in the scraping
 * thread, and returns NAN to leave its series out of that scrape.
 * Must never: block an update on a scrape.
 */
#ifndef PG_METRICS_H
#define PG_METRICS_H

#include <stddef.h>

#include "util/buf.h"

typedef struct metric METRIC;

METRIC *metrics_counter(const char *name, const char *help, const char *labels);
METRIC *metrics_gauge(const char *name, const char *help, const char *labels);
/* buckets: the upper bounds, ascending (+Inf is added). */
METRIC *metrics_histogram(const char *name, const char *help, const char *labels, const double *buckets,
                          size_t nbuckets);
/* A gauge computed when scraped: fn(arg), NAN to leave it out. */
void metrics_gauge_fn(const char *name, const char *help, const char *labels, double (*fn)(void *arg), void *arg);

/* Each accepts NULL (a series not registered) and does nothing then. */
void metrics_inc(METRIC *m);
void metrics_add(METRIC *m, double v);          /* counters: v >= 0 */
void metrics_set(METRIC *m, double v);          /* gauges */
void metrics_observe(METRIC *m, double v);      /* histograms */

/* Seconds buckets for request latencies: 1 ms to 10 s. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_nbuckets;

/* Appends every registered series to out, families in registration order. */
void metrics_render(BUF *out);
/* A label value escaped for the exposition format (backslash, quote, newline); mem_free it. */
char *metrics_label_escape(const char *value);

#endif
