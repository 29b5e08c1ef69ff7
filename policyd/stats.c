/*
 * stats.c -- postgate-policyd's metrics (stats.h).
 */
#include "config.h"

#include "stats.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/metrics.h"

static const char *const service_name[STATS_NSERVICES] = {"policy", "sasl", "socketmap"};
static const char *const login_name[LOGIN_NRESULTS] = {"ok", "failed", "suspended", "tempfail", "throttled"};
static METRIC *seconds[STATS_NSERVICES], *logins[LOGIN_NRESULTS];

void
stats_init(void)
{
    for (int i = 0; i < STATS_NSERVICES; i++) {
        char *labels = buf_asprintf("service=\"%s\"", service_name[i]);

        seconds[i] = metrics_histogram("postgate_policyd_request_seconds",
                                       "Time postgate-policyd takes to answer one request, per service", labels,
                                       metrics_latency_buckets, metrics_latency_nbuckets);
        mem_free(labels);
    }
    for (int i = 0; i < LOGIN_NRESULTS; i++) {
        char *labels = buf_asprintf("result=\"%s\"", login_name[i]);

        logins[i] = metrics_counter("postgate_sasl_logins_total",
                                    "SMTP logins by result (failed: wrong credentials; throttled: refused "
                                    "without a check after too many failures)", labels);
        mem_free(labels);
    }
}

void
stats_request(STATS_SERVICE service, double s)
{
    if (service < STATS_NSERVICES)
        metrics_observe(seconds[service], s);
}

void
stats_login(STATS_LOGIN result)
{
    if (result < LOGIN_NRESULTS)
        metrics_inc(logins[result]);
}
