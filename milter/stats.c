/*
 * stats.c -- postgate-milter's metrics (milter.h): messages by direction and outcome,
 * the time the end-of-message stage takes, per direction, refusals and held recipients by
 * reason.
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

static const char *const refusal_name[REFUSED_NREASONS] = {
    [REFUSED_SENDER] = "sender", [REFUSED_SIZE] = "size", [REFUSED_CREDENTIAL] = "credential",
    [REFUSED_SUSPENDED] = "suspended", [REFUSED_FROM] = "from", [REFUSED_SERVICE] = "service",
    [REFUSED_SPAM] = "spam", [REFUSED_VIRUS] = "virus", [REFUSED_SUPPRESSED] = "suppression_list",
};
static const char *const hold_name[HELD_NREASONS] = {
    [HELD_DEVELOPMENT] = "development_mode", [HELD_CREDENTIAL] = "credential",
    [HELD_SEND_LIMIT] = "send_limit", [HELD_SUPPRESSED] = "suppression_list",
};

static METRIC *messages[NDIR][NOUTCOME];
static METRIC *eom_seconds[NDIR];
static METRIC *refusals[REFUSED_NREASONS];
static METRIC *holds[HELD_NREASONS];

static METRIC *
reason_counter(const char *name, const char *help, const char *reason)
{
    char *labels = buf_asprintf("reason=\"%s\"", reason);
    METRIC *m = metrics_counter(name, help, labels);

    mem_free(labels);
    return m;
}

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
    for (size_t r = 0; r < REFUSED_NREASONS; r++)
        refusals[r] = reason_counter("postgate_milter_refusals_total", "Messages and SMTP commands the milter "
                                     "refused (5xx) by reason", refusal_name[r]);
    for (size_t r = 0; r < HELD_NREASONS; r++)
        holds[r] = reason_counter("postgate_milter_held_recipients_total", "Recipients held (recorded, not "
                                  "sent until released) by reason", hold_name[r]);
}

void
milter_stats_refused(MILTER_REFUSAL why)
{
    if ((size_t) why < REFUSED_NREASONS)
        metrics_inc(refusals[why]);
}

void
milter_stats_held(MILTER_HOLD why, size_t recipients)
{
    if ((size_t) why < HELD_NREASONS)
        metrics_add(holds[why], (double) recipients);
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
