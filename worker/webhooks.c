/*
 * webhooks.c -- the webhook sender (webhooks.h): one thread, one curl multi handle.
 *
 * Each turn of the loop: record the outcomes gathered so far (one transaction), claim due
 * rows while there is room, sign their bodies (on as many threads as the machine has
 * cores), start their transfers, let libcurl move every transfer, and
 * wait at most POLL_MS for any of them. Database calls run on this thread between turns;
 * transfers' timeouts are libcurl's own, so a receiver that never answers ends as a
 * timeout after webhooks.timeout seconds without holding up any other transfer.
 * On stop: no new claims, transfers in flight finish (each within webhooks.timeout), their
 * outcomes are recorded (retried for STOP_RECORD_SECONDS while MariaDB is unreachable).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpsend.h"
#include "mail/outaddr.h"
#include "reqsign.h"
#include "stats.h"
#include "mail/webhook.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/utf8.h"
#include "webhooks.h"

#define POLL_MS 100
#define IDLE_CLAIM_SECONDS 0.25         /* how often an empty outbox is looked at */
#define LEASE_EXTRA_SECONDS 60          /* lease = timeout + this: time to record the outcome */
#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 30.0
#define STOP_RECORD_SECONDS 10
#define RECORD_BATCH 256
#define RECORD_DELAY 0.05               /* most seconds an outcome waits for its batch */
#define OWNER_MAX 300

typedef struct transfer {
    HTTPSEND_XFER x;                    /* first: the core's part; x.response keeps WEBHOOK_RESPONSE_MAX bytes */
    WEBHOOK_JOB job;
} TRANSFER;

typedef struct webhooks_task {
    WORKER_ENV *env;
    pthread_t thread;
    int thread_started;
    HTTPSEND *send;
    char owner[OWNER_MAX];
    WEBHOOK_OUTCOME *done;              /* finished, not yet recorded; strings owned */
    size_t ndone, done_cap;
    REQSIGN sign;                       /* the request signature (reqsign.h) */
    unsigned sign_threads;              /* reqsign_many()'s threads: the online CPUs */
    unsigned delays[WEBHOOK_MAX_DELAYS];
    size_t ndelays;
    int delays_warned;
    double next_claim;                  /* monotonic seconds */
    double first_done;                  /* when the oldest unrecorded outcome finished */
    size_t batch;                       /* half of webhooks.max_in_flight: claim and record in batches */
    double db_retry_at;
    double backoff;
} WEBHOOKS_TASK;

/* ---------------------------------------------------------------- outcomes */

static void
outcome_add(WEBHOOKS_TASK *t, const WEBHOOK_JOB *job, long code, const BUF *response, const char *error,
            unsigned duration_ms, int skipped)
{
    WEBHOOK_OUTCOME *o;

    if (t->ndone == t->done_cap) {
        t->done_cap = t->done_cap ? t->done_cap * 2 : 64;
        t->done = mem_realloc(t->done, t->done_cap * sizeof(*t->done));
    }
    if (t->ndone == 0)
        t->first_done = clock_mono();
    o = &t->done[t->ndone++];
    memset(o, 0, sizeof(*o));
    o->id = job->id;
    o->server_id = job->server_id;
    o->webhook_id = job->webhook_id;
    memcpy(o->uuid, job->uuid, sizeof(o->uuid));
    memcpy(o->event, job->event, sizeof(o->event));
    o->attempt = skipped ? job->attempts : job->attempts + 1;
    o->url = mem_strdup(job->url);
    o->status_code = code;
    if (response && buf_len(response) > 0)
        o->body = utf8_clean((const char *) buf_data(response), buf_len(response), &o->body_len);
    if (error) {
        size_t len;
        char *e = utf8_clean(error, strnlen(error, WEBHOOK_ERROR_MAX), &len);

        o->error = e;
    }
    o->duration_ms = duration_ms;
    o->success = code >= 200 && code <= 299;
    o->skipped = skipped;
    if (!skipped)
        stats_webhook_attempt(o->success);
}

static void
outcomes_free(WEBHOOKS_TASK *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mem_free((char *) t->done[i].url);
        mem_free((char *) t->done[i].body);
        mem_free((char *) t->done[i].error);
    }
    memmove(t->done, t->done + n, (t->ndone - n) * sizeof(*t->done));
    t->ndone -= n;
}

static void
db_failed(WEBHOOKS_TASK *t, const char *what, DB *db)
{
    t->backoff = t->backoff ? t->backoff * 2 : BACKOFF_MIN;
    if (t->backoff > BACKOFF_MAX)
        t->backoff = BACKOFF_MAX;
    t->db_retry_at = clock_mono() + t->backoff;
    msg_warn("webhooks: %s: %s (retrying in %.0f s)", what, db_error(db), t->backoff);
}

/* Records what finished, in batches; keeps it when MariaDB cannot take it. 0 ok, -1 kept. */
static int
record(WEBHOOKS_TASK *t)
{
    DB *db;
    int ret = 0;

    if (t->ndone == 0)
        return 0;
    db = dbpool_get(t->env->pool);
    while (t->ndone > 0) {
        size_t n = t->ndone < RECORD_BATCH ? t->ndone : RECORD_BATCH;

        if ((ret = webhook_record(db, t->owner, t->done, n, t->delays, t->ndelays)) < 0) {
            db_failed(t, "recording outcomes", db);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            const WEBHOOK_OUTCOME *o = &t->done[i];

            if (o->skipped)
                continue;
            if (o->success)
                continue;
            if (o->status_code)
                msg_info("webhook %llu: %s %s attempt %u: HTTP %ld", o->webhook_id, o->event, o->uuid,
                         o->attempt, o->status_code);
            else
                msg_info("webhook %llu: %s %s attempt %u: %s", o->webhook_id, o->event, o->uuid, o->attempt,
                         o->error ? o->error : "failed");
        }
        outcomes_free(t, n);
        t->backoff = 0;
    }
    dbpool_put(t->env->pool, db);
    return ret < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- transfers */

static void
transfer_free(TRANSFER *tr)
{
    httpsend_xfer_cleanup(&tr->x);
    mem_free(tr->job.url);
    mem_free(tr->job.body);
    mem_free(tr);
}

/* Starts one job (taking its strings), signed with sig when it signs (sig's strings are
 * taken). 0 started, -1 could not (an outcome is recorded). */
static int
transfer_start(WEBHOOKS_TASK *t, WEBHOOK_JOB *job, const PGCONF *cfg, REQSIGN_SIG *sig)
{
    TRANSFER *tr = mem_zalloc(sizeof(*tr));
    char *key;

    tr->job = *job;
    memset(job, 0, sizeof(*job));
    httpsend_xfer_init(&tr->x, WEBHOOK_RESPONSE_MAX);
    httpsend_header(&tr->x, "Content-Type", "application/json");
    httpsend_header_line(&tr->x, "Expect:");
    /* The same on every attempt of this event: the receiver's de-duplication key. */
    key = buf_asprintf("\"%s\"", tr->job.uuid);
    httpsend_header(&tr->x, "Idempotency-Key", key);
    mem_free(key);
    if (tr->job.sign && reqsign_headers_from(&t->sign, &tr->x, sig) < 0) {
        outcome_add(t, &tr->job, 0, NULL, "cannot sign the request (no usable signing key)", 0, 0);
        transfer_free(tr);
        return -1;
    }
    httpsend_post(&tr->x, tr->job.url, tr->job.body, tr->job.body_len, (long) cfg->webhooks_timeout);
    httpsend_guard(&tr->x, &cfg->security_outbound_allowed_networks);
    if (httpsend_add(t->send, &tr->x) < 0) {
        outcome_add(t, &tr->job, 0, NULL, "libcurl refused the transfer", 0, 0);
        transfer_free(tr);
        return -1;
    }
    return 0;
}

/* httpsend's callback for a finished transfer. */
static void
transfer_done(void *ctx, HTTPSEND_XFER *x, CURLcode result)
{
    WEBHOOKS_TASK *t = ctx;
    TRANSFER *tr = (TRANSFER *) x;
    size_t ninflight = httpsend_inflight(t->send);
    curl_off_t usec = 0;
    long code = 0;
    char *error = NULL;

    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &usec);
    if (result == CURLE_OK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    else
        error = buf_asprintf("%s", httpsend_error(x, result));
    outcome_add(t, &tr->job, code, x->response, error, (unsigned) (usec / 1000), 0);
    mem_free(error);
    transfer_free(tr);
    /* Claim again once half the slots are free (or none is busy): each claim and each
     * record is a commit, so they go in batches rather than one per finished request. */
    if (ninflight == 0 || ninflight + t->batch <= t->batch * 2)
        t->next_claim = 0;
}

/* ---------------------------------------------------------------- claiming */

static int
cmp_ull(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *) a, y = *(const unsigned long long *) b;

    return x < y ? -1 : x > y;
}

/* The webhooks that have per_webhook transfers in flight, as "id,id,...". */
static char *
full_webhooks(WEBHOOKS_TASK *t, long long per_webhook)
{
    unsigned long long *ids;
    BUF *out = buf_new(64);
    size_t n = 0;

    if (httpsend_inflight(t->send) == 0)
        return buf_steal(out, NULL);
    ids = mem_alloc(httpsend_inflight(t->send) * sizeof(*ids));
    for (HTTPSEND_XFER *x = httpsend_first(t->send); x; x = x->next)
        ids[n++] = ((TRANSFER *) x)->job.webhook_id;
    qsort(ids, n, sizeof(*ids), cmp_ull);
    for (size_t i = 0, run = 1; i < n; i++, run++) {
        if (i + 1 < n && ids[i + 1] == ids[i])
            continue;
        if ((long long) run >= per_webhook)
            buf_printf(out, "%s%llu", buf_len(out) ? "," : "", ids[i]);
        run = 0;
    }
    mem_free(ids);
    return buf_steal(out, NULL);
}

static void
claim(WEBHOOKS_TASK *t, const PGCONF *cfg)
{
    long long room = cfg->webhooks_max_in_flight - (long long) httpsend_inflight(t->send);
    WEBHOOK_JOB *jobs = NULL;
    REQSIGN_SIG *sigs;
    const char **bodies;
    size_t *lens;
    char *exclude;
    DB *db;
    int n;

    if (room <= 0 || t->ndone >= RECORD_BATCH)
        return;
    db = dbpool_get(t->env->pool);
    if (reqsign_refresh(&t->sign, db, t->env->seal) < 0) {
        t->db_retry_at = clock_mono() + BACKOFF_MAX;
        dbpool_put(t->env->pool, db);
        return;
    }
    exclude = full_webhooks(t, cfg->webhooks_max_in_flight_per_webhook);
    n = webhook_claim(db, t->owner, (unsigned) room, (unsigned) (cfg->webhooks_timeout + LEASE_EXTRA_SECONDS),
                      exclude, &jobs);
    mem_free(exclude);
    if (n < 0)
        db_failed(t, "claiming due rows", db);
    dbpool_put(t->env->pool, db);
    if (n <= 0) {
        t->next_claim = clock_mono() + IDLE_CLAIM_SECONDS;
        return;
    }
    t->backoff = 0;
    /* A full batch: more may be due, look again as soon as there is room. */
    t->next_claim = n < room ? clock_mono() + IDLE_CLAIM_SECONDS : 0;
    /* Every body to sign, signed at once on the machine's cores: two RSA signatures per
     * delivery are most of this thread's work. */
    sigs = mem_zalloc((size_t) n * sizeof(*sigs));
    bodies = mem_alloc((size_t) n * sizeof(*bodies));
    lens = mem_alloc((size_t) n * sizeof(*lens));
    for (int i = 0; i < n; i++) {
        bodies[i] = jobs[i].enabled && jobs[i].sign ? jobs[i].body : NULL;
        lens[i] = jobs[i].body_len;
    }
    reqsign_many(&t->sign, bodies, lens, (size_t) n, t->sign_threads, sigs);
    for (int i = 0; i < n; i++) {
        if (!jobs[i].enabled)
            outcome_add(t, &jobs[i], 0, NULL, "webhook disabled or deleted", 0, 1);
        else
            transfer_start(t, &jobs[i], cfg, &sigs[i]);
    }
    mem_free(sigs);
    mem_free(bodies);
    mem_free(lens);
    webhook_jobs_free(jobs, (size_t) n);
}

/* webhooks.retry_delays of this snapshot; a bad list after a reload keeps the last good one. */
static void
apply_delays(WEBHOOKS_TASK *t, const PGCONF *cfg)
{
    unsigned d[WEBHOOK_MAX_DELAYS];
    size_t n;
    char *error = NULL;

    if (webhook_retry_delays(&cfg->webhooks_retry_delays, d, &n, &error) < 0) {
        if (!t->delays_warned)
            msg_warn("%s (keeping the previous schedule)", error);
        t->delays_warned = 1;
        mem_free(error);
        return;
    }
    t->delays_warned = 0;
    memcpy(t->delays, d, sizeof(d));
    t->ndelays = n;
}

static void *
run(void *arg)
{
    WEBHOOKS_TASK *t = arg;
    double stop_deadline;

    while (!atomic_load(&t->env->stopping)) {
        PGCONF *cfg = conf_holder_get(&t->env->conf);
        double now = clock_mono();

        apply_delays(t, cfg);
        t->batch = cfg->webhooks_max_in_flight > 1 ? (size_t) cfg->webhooks_max_in_flight / 2 : 1;
        if (now >= t->db_retry_at) {
            if (t->ndone >= t->batch || httpsend_inflight(t->send) == 0 || now - t->first_done >= RECORD_DELAY)
                record(t);
            if (clock_mono() >= t->db_retry_at && clock_mono() >= t->next_claim)
                claim(t, cfg);
        }
        httpsend_drive(t->send, t->next_claim == 0 && clock_mono() >= t->db_retry_at
              && httpsend_inflight(t->send) < (size_t) cfg->webhooks_max_in_flight ? 0 : POLL_MS);
        conf_unref(cfg);
    }

    /* Stopping: nothing new; what is in flight ends within webhooks.timeout. */
    if (httpsend_inflight(t->send))
        msg_info("webhooks: waiting for %zu request(s) in flight", httpsend_inflight(t->send));
    while (httpsend_inflight(t->send) > 0)
        httpsend_drive(t->send, POLL_MS);
    stop_deadline = clock_mono() + STOP_RECORD_SECONDS;
    while (t->ndone > 0 && clock_mono() < stop_deadline) {
        if (record(t) < 0)
            sleep(1);
    }
    if (t->ndone > 0)
        msg_error("webhooks: %zu outcome(s) not recorded (MariaDB unreachable); those rows are sent again "
                  "when their lease ends", t->ndone);
    return NULL;
}

/* ---------------------------------------------------------------- task.h */

int
webhooks_test_config(const PGCONF *cfg)
{
    OUTADDR_ALLOW *allow;
    unsigned d[WEBHOOK_MAX_DELAYS];
    size_t n;
    char *error = NULL;

    if (webhook_retry_delays(&cfg->webhooks_retry_delays, d, &n, &error) < 0) {
        msg_error("%s: %s", cfg->origin[CONF_K_webhooks_retry_delays], error);
        mem_free(error);
        return 1;
    }
    if ((allow = outaddr_allow_parse(&cfg->security_outbound_allowed_networks, &error)) == NULL) {
        msg_error("%s: %s", cfg->origin[CONF_K_security_outbound_allowed_networks], error);
        mem_free(error);
        return 1;
    }
    outaddr_allow_free(allow);
    return 0;
}

int
webhooks_prepare(WORKER_ENV *env, void **task_r)
{
    PGCONF *cfg = conf_holder_get(&env->conf);
    int ret = 0;

    if (webhooks_test_config(cfg) > 0) {
        ret = -1;
    } else if (httpsend_global_init("webhooks") < 0) {
        ret = -1;
    }
    conf_unref(cfg);
    return ret;
}

int
webhooks_start(WORKER_ENV *env, void **task_r)
{
    WEBHOOKS_TASK *t = mem_zalloc(sizeof(*t));
    long ncpu;
    int err;

    t->env = env;
    t->sign.who = "webhooks";
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    t->sign_threads = ncpu < 1 ? 1 : ncpu > REQSIGN_MAX_THREADS ? REQSIGN_MAX_THREADS : (unsigned) ncpu;
    snprintf(t->owner, sizeof(t->owner), "%s/%ld", env->host, (long) getpid());
    if ((t->send = httpsend_new("webhooks", transfer_done, t)) == NULL) {
        mem_free(t);
        return -1;
    }
    if ((err = pthread_create(&t->thread, NULL, run, t)) != 0) {
        msg_error("webhooks: cannot start a thread: %s", strerror(err));
        httpsend_free(t->send);
        mem_free(t);
        return -1;
    }
    t->thread_started = 1;
    *task_r = t;
    return 0;
}

void
webhooks_stop(void *task)
{
    WEBHOOKS_TASK *t = task;

    if (t == NULL)
        return;
    if (t->thread_started)
        pthread_join(t->thread, NULL);
    outcomes_free(t, t->ndone);
    mem_free(t->done);
    reqsign_free(&t->sign);
    httpsend_free(t->send);
    mem_free(t);
    httpsend_global_cleanup();
}
