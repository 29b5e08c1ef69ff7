/*
 * stats.c -- postgate-milter's metrics (milter.h): messages by direction and outcome,
 * and the time the end-of-message stage takes, per direction.
 */
#include "config.h"

#include "milter.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/metrics.h"

static const char *const direction_name[] = {
    [DIR_NONE] = "none", [DIR_INCOMING] = "incoming", [DIR_OUTGOING] = "outgoing",
    [DIR_INJECTION] = "send_api", [DIR_RELEASE] = "release", [DIR_FORWARD] = "forward",
};
#define NDIR (sizeof(direction_name) / sizeof(direction_name[0]))
static const char *const outcome_name[] = {"accepted", "discarded", "refused", "tempfailed"};
#define NOUTCOME (sizeof(outcome_name) / sizeof(outcome_name[0]))

static METRIC *messages[NDIR][NOUTCOME];
static METRIC *eom_seconds[NDIR];

void
milter_stats_init(void)
{
    for (size_t d = 0; d < NDIR; d++) {
        char *labels;

        for (size_t o = 0; o < NOUTCOME; o++) {
            labels = buf_asprintf("direction=\"%s\",outcome=\"%s\"", direction_name[d], outcome_name[o]);
            messages[d][o] = metrics_counter("postgate_milter_messages_total",
                                             "Messages at the end of the milter by direction and outcome "
                                             "(discarded: every recipient held)", labels);
            mem_free(labels);
        }
        labels = buf_asprintf("direction=\"%s\"", direction_name[d]);
        eom_seconds[d] = metrics_histogram("postgate_milter_eom_seconds",
                                           "Time the milter's end-of-message stage takes (checks, scanning, "
                                           "recording, signing)", labels, metrics_latency_buckets,
                                           metrics_latency_nbuckets);
        mem_free(labels);
    }
}

void
milter_stats_eom(MILTER_DIRECTION direction, sfsistat status, double seconds)
{
    size_t d = (size_t) direction < NDIR ? (size_t) direction : DIR_NONE, o;

    switch (status) {
    case SMFIS_DISCARD:
        o = 1;
        break;
    case SMFIS_REJECT:
        o = 2;
        break;
    case SMFIS_TEMPFAIL:
        o = 3;
        break;
    default:
        o = 0;
        break;
    }
    metrics_inc(messages[d][o]);
    metrics_observe(eom_seconds[d], seconds);
}
