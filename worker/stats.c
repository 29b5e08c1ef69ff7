/*
 * stats.c -- postgate-worker's metrics (stats.h).
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "mail/webhook.h"
#include "stats.h"
#include "util/clock.h"
#include "util/metrics.h"

static WORKER_ENV *worker_env;
static METRIC *webhook_success, *webhook_failure, *endpoint_result[QUEUE_ERROR + 1], *maillog_unread;

/* The backlogs, read once per second at most, whatever the number of series scraped. */
static pthread_mutex_t backlog_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    double read_at;
    int ok;
    unsigned long long webhooks, endpoints;
    double webhooks_oldest, endpoints_oldest;
} backlog;

static void
backlog_refresh(void)
{
    DB *db;

    if (backlog.read_at && clock_mono() - backlog.read_at < 1)
        return;
    db = dbpool_get(worker_env->pool);
    backlog.ok = webhook_backlog(db, &backlog.webhooks, &backlog.webhooks_oldest) == 0
        && queue_backlog(db, &backlog.endpoints, &backlog.endpoints_oldest) == 0;
    dbpool_put(worker_env->pool, db);
    backlog.read_at = clock_mono();
}

/* arg selects the number: 0..3 as below. NAN (left out) when MariaDB failed. */
static double
backlog_value(void *arg)
{
    double v;

    pthread_mutex_lock(&backlog_lock);
    backlog_refresh();
    switch ((int) (long) arg) {
    case 0:
        v = (double) backlog.webhooks;
        break;
    case 1:
        v = backlog.webhooks_oldest;
        break;
    case 2:
        v = (double) backlog.endpoints;
        break;
    default:
        v = backlog.endpoints_oldest;
        break;
    }
    if (!backlog.ok)
        v = NAN;
    pthread_mutex_unlock(&backlog_lock);
    return v;
}

void
stats_init(WORKER_ENV *env)
{
    static const char attempts[] = "Delivery attempts by result";
    static const char *const names[] = {"sent", "retry", "failed", "error"};

    worker_env = env;
    metrics_gauge_fn("postgate_queue_depth", "Items waiting for delivery (due or not)", "queue=\"webhooks\"",
                     backlog_value, (void *) 0L);
    metrics_gauge_fn("postgate_queue_depth", "Items waiting for delivery (due or not)", "queue=\"endpoints\"",
                     backlog_value, (void *) 2L);
    metrics_gauge_fn("postgate_queue_oldest_seconds", "Age of the oldest item waiting for delivery (0 when none)",
                     "queue=\"webhooks\"", backlog_value, (void *) 1L);
    metrics_gauge_fn("postgate_queue_oldest_seconds", "Age of the oldest item waiting for delivery (0 when none)",
                     "queue=\"endpoints\"", backlog_value, (void *) 3L);
    webhook_success = metrics_counter("postgate_attempts_total", attempts, "queue=\"webhooks\",result=\"sent\"");
    webhook_failure = metrics_counter("postgate_attempts_total", attempts, "queue=\"webhooks\",result=\"failed\"");
    for (int r = QUEUE_SENT; r <= QUEUE_ERROR; r++) {
        char labels[64];

        snprintf(labels, sizeof(labels), "queue=\"endpoints\",result=\"%s\"", names[r]);
        endpoint_result[r] = metrics_counter("postgate_attempts_total", attempts, labels);
    }
    maillog_unread = metrics_gauge("postgate_maillog_unread_bytes",
                                   "Bytes of Postfix's log the delivery-result reader has not recorded yet", NULL);
}

void
stats_webhook_attempt(int success)
{
    metrics_inc(success ? webhook_success : webhook_failure);
}

void
stats_endpoint_attempt(QUEUE_RESULT result)
{
    if ((int) result >= QUEUE_SENT && result <= QUEUE_ERROR)
        metrics_inc(endpoint_result[result]);
}

void
stats_maillog_unread(unsigned long long bytes)
{
    metrics_set(maillog_unread, (double) bytes);
}
