/*
 * metrics.c -- Prometheus metrics of one process (metrics.h).
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "util/mem.h"
#include "util/metrics.h"

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } KIND;

struct metric {
    struct metric *next;                /* the family's next series */
    char *labels;                       /* NULL or the text between the braces */
    _Atomic uint64_t bits;              /* counter/gauge value: a double's bits */
    double (*fn)(void *);               /* a gauge computed when scraped */
    void *fn_arg;
    /* histograms */
    pthread_mutex_t lock;
    const double *bounds;
    size_t nbounds;
    uint64_t *counts;                   /* nbounds + 1 (the last is +Inf) */
    double sum;
    uint64_t count;
};

typedef struct family {
    struct family *next;
    char *name, *help;
    KIND kind;
    METRIC *series, **tail;
} FAMILY;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static FAMILY *families, **families_tail = &families;

const double metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const size_t metrics_latency_nbuckets = sizeof(metrics_latency_buckets) / sizeof(metrics_latency_buckets[0]);

static double
load(const METRIC *m)
{
    uint64_t bits = atomic_load_explicit(&((METRIC *) m)->bits, memory_order_relaxed);
    double v;

    memcpy(&v, &bits, sizeof(v));
    return v;
}

static uint64_t
bits_of(double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    return bits;
}

/* The series of name/labels, created (and its family) when new. Registry lock held. */
static METRIC *
series(const char *name, const char *help, KIND kind, const char *labels)
{
    FAMILY *f;
    METRIC *m;

    for (f = families; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            break;
    if (f == NULL) {
        f = mem_zalloc(sizeof(*f));
        f->name = mem_strdup(name);
        f->help = mem_strdup(help);
        f->kind = kind;
        f->tail = &f->series;
        *families_tail = f;
        families_tail = &f->next;
    }
    for (m = f->series; m; m = m->next)
        if ((m->labels == NULL && labels == NULL) || (m->labels && labels && strcmp(m->labels, labels) == 0))
            return m;
    m = mem_zalloc(sizeof(*m));
    m->labels = labels ? mem_strdup(labels) : NULL;
    atomic_init(&m->bits, bits_of(0));
    pthread_mutex_init(&m->lock, NULL);
    *f->tail = m;
    f->tail = &m->next;
    return m;
}

METRIC *
metrics_counter(const char *name, const char *help, const char *labels)
{
    METRIC *m;

    pthread_mutex_lock(&registry_lock);
    m = series(name, help, KIND_COUNTER, labels);
    pthread_mutex_unlock(&registry_lock);
    return m;
}

METRIC *
metrics_gauge(const char *name, const char *help, const char *labels)
{
    METRIC *m;

    pthread_mutex_lock(&registry_lock);
    m = series(name, help, KIND_GAUGE, labels);
    pthread_mutex_unlock(&registry_lock);
    return m;
}

METRIC *
metrics_histogram(const char *name, const char *help, const char *labels, const double *buckets, size_t nbuckets)
{
    METRIC *m;

    pthread_mutex_lock(&registry_lock);
    m = series(name, help, KIND_HISTOGRAM, labels);
    if (m->counts == NULL) {
        m->bounds = buckets;
        m->nbounds = nbuckets;
        m->counts = mem_zalloc((nbuckets + 1) * sizeof(*m->counts));
    }
    pthread_mutex_unlock(&registry_lock);
    return m;
}

void
metrics_gauge_fn(const char *name, const char *help, const char *labels, double (*fn)(void *arg), void *arg)
{
    METRIC *m;

    pthread_mutex_lock(&registry_lock);
    m = series(name, help, KIND_GAUGE, labels);
    m->fn = fn;
    m->fn_arg = arg;
    pthread_mutex_unlock(&registry_lock);
}

void
metrics_add(METRIC *m, double v)
{
    uint64_t old, new;

    if (m == NULL)
        return;
    old = atomic_load_explicit(&m->bits, memory_order_relaxed);
    do {
        double cur;

        memcpy(&cur, &old, sizeof(cur));
        new = bits_of(cur + v);
    } while (!atomic_compare_exchange_weak_explicit(&m->bits, &old, new, memory_order_relaxed,
                                                    memory_order_relaxed));
}

void
metrics_inc(METRIC *m)
{
    metrics_add(m, 1);
}

void
metrics_set(METRIC *m, double v)
{
    if (m)
        atomic_store_explicit(&m->bits, bits_of(v), memory_order_relaxed);
}

void
metrics_observe(METRIC *m, double v)
{
    size_t i;

    if (m == NULL || m->counts == NULL)
        return;
    for (i = 0; i < m->nbounds && v > m->bounds[i]; i++)
        ;
    pthread_mutex_lock(&m->lock);
    m->counts[i]++;
    m->sum += v;
    m->count++;
    pthread_mutex_unlock(&m->lock);
}

char *
metrics_label_escape(const char *value)
{
    BUF *b = buf_new(strlen(value) + 8);
    char *out;

    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            buf_append_str(b, "\\n");
        else
            buf_append(b, p, 1);
    }
    out = mem_strdup(buf_cstr(b));
    buf_free(b);
    return out;
}

/* A sample value as Prometheus reads it (integers without a fraction). */
static void
value(BUF *out, double v)
{
    if (isnan(v))
        buf_append_str(out, "NaN");
    else if (isinf(v))
        buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double) (long long) v && fabs(v) < 1e15)
        buf_printf(out, "%lld", (long long) v);
    else
        buf_printf(out, "%.17g", v);
}

/* name{labels[,extra]} */
static void
sample_name(BUF *out, const char *name, const char *suffix, const char *labels, const char *extra)
{
    buf_printf(out, "%s%s", name, suffix);
    if (labels || extra)
        buf_printf(out, "{%s%s%s}", labels ? labels : "", labels && extra ? "," : "", extra ? extra : "");
    buf_append_str(out, " ");
}

static void
render_histogram(BUF *out, const FAMILY *f, METRIC *m)
{
    uint64_t *counts = mem_alloc((m->nbounds + 1) * sizeof(*counts)), cumulative = 0, count;
    double sum;

    pthread_mutex_lock(&m->lock);
    memcpy(counts, m->counts, (m->nbounds + 1) * sizeof(*counts));
    sum = m->sum;
    count = m->count;
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i <= m->nbounds; i++) {
        BUF *le = buf_new(32);

        cumulative += counts[i];
        buf_append_str(le, "le=\"");
        if (i < m->nbounds)
            value(le, m->bounds[i]);
        else
            buf_append_str(le, "+Inf");
        buf_append_str(le, "\"");
        sample_name(out, f->name, "_bucket", m->labels, buf_cstr(le));
        buf_printf(out, "%llu\n", (unsigned long long) cumulative);
        buf_free(le);
    }
    sample_name(out, f->name, "_sum", m->labels, NULL);
    value(out, sum);
    buf_append_str(out, "\n");
    sample_name(out, f->name, "_count", m->labels, NULL);
    buf_printf(out, "%llu\n", (unsigned long long) count);
    mem_free(counts);
}

void
metrics_render(BUF *out)
{
    static const char *const type_name[] = {"counter", "gauge", "histogram"};
    FAMILY *f;

    /* Registration happens at start; a family or series added later is appended, so
     * reading the lists while holding the lock only for the heads is safe. */
    pthread_mutex_lock(&registry_lock);
    f = families;
    pthread_mutex_unlock(&registry_lock);
    for (; f; f = f->next) {
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, type_name[f->kind]);
        for (METRIC *m = f->series; m; m = m->next) {
            if (f->kind == KIND_HISTOGRAM) {
                render_histogram(out, f, m);
                continue;
            }
            double v = m->fn ? m->fn(m->fn_arg) : load(m);

            if (m->fn && isnan(v))
                continue;
            sample_name(out, f->name, "", m->labels, NULL);
            value(out, v);
            buf_append_str(out, "\n");
        }
    }
}
