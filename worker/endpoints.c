/*
 * endpoints.c -- the endpoint delivery task (endpoints.h): one thread, one curl multi
 * handle, modelled on webhooks.c. Building each kind's request is endpoint_request.c; the
 * report after a permanent failure is endpoint_report.c; what they share is endpoint_int.h.
 *
 * Each turn of the loop: record the outcomes gathered so far, claim due rows while there
 * is room and start their transfers (the database reads that build a request happen
 * here, between turns), let libcurl move every transfer, and wait at most POLL_MS. A
 * permanent failure that deserves a report starts a second transfer (the report to the
 * forward service) and is recorded when that one ends, with what became of the report.
 * The line logged for each recorded outcome carries the message's token (log context).
 * On stop: no new claims, transfers in flight finish (each within its own timeout),
 * their outcomes are recorded (retried for STOP_RECORD_SECONDS while MariaDB is away).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoints.h"
#include "endpoint_int.h"
#include "httpsend.h"
#include "mail/address.h"
#include "mail/endpoint.h"
#include "mail/forward.h"
#include "mail/message.h"
#include "mail/message_view.h"
#include "mail/queue.h"
#include "stats.h"
#include "mail/senderauth.h"
#include "mail/server.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/utf8.h"

#define POLL_MS 100
#define IDLE_CLAIM_SECONDS 0.25
#define LEASE_SECONDS (2 * SMTP_TIMEOUT + 120)  /* a transfer and its report, and recording */
#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 30.0
#define STOP_RECORD_SECONDS 10

/* ---------------------------------------------------------------- small helpers */

/* Text fit for a utf8mb4 column: invalid UTF-8 bytes and controls but TAB/LF become '?'
 * (CR a space). */
static char *
clean_text(const char *s, size_t len)
{
    char *out = utf8_clean(s, len, NULL);

    for (char *p = out; *p; p++)        /* no NUL inside: utf8_clean replaced them */
        if ((unsigned char) *p < 0x20 && *p != '\t' && *p != '\n')
            *p = *p == '\r' ? ' ' : '?';
    return out;
}

static void
outcome_set(OUTCOME *o, const QUEUE_JOB *job, const char *token, QUEUE_RESULT result, const char *details,
            const char *output, int tls, double seconds)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->token, sizeof(o->token), "%s", token);
    o->q.id = job->id;
    o->q.message_id = job->message_id;
    o->q.result = result;
    o->q.attempt = job->attempts + 1;
    o->q.sent_with_ssl = tls;
    o->q.seconds = seconds;
    o->details = clean_text(details, strlen(details));
    o->output = output ? clean_text(output, strlen(output)) : NULL;
}

static void
outcome_free(OUTCOME *o)
{
    mem_free(o->details);
    mem_free(o->output);
    memset(o, 0, sizeof(*o));
}

/* Queues a finished outcome for recording (taking its strings). */
void
ep_outcome_push(ENDPOINTS_TASK *t, OUTCOME *o)
{
    stats_endpoint_attempt(o->q.result);
    if (t->ndone == t->done_cap) {
        t->done_cap = t->done_cap ? t->done_cap * 2 : 64;
        t->done = mem_realloc(t->done, t->done_cap * sizeof(*t->done));
    }
    t->done[t->ndone++] = *o;
    memset(o, 0, sizeof(*o));
}

static void
db_failed(ENDPOINTS_TASK *t, const char *what, DB *db)
{
    t->backoff = t->backoff ? t->backoff * 2 : BACKOFF_MIN;
    if (t->backoff > BACKOFF_MAX)
        t->backoff = BACKOFF_MAX;
    t->db_retry_at = clock_mono() + t->backoff;
    msg_warn("endpoints: %s: %s (retrying in %.0f s)", what, db_error(db), t->backoff);
}

/* Records what finished; keeps what MariaDB cannot take. */
static void
record(ENDPOINTS_TASK *t)
{
    size_t i = 0;
    DB *db;

    if (t->ndone == 0)
        return;
    db = dbpool_get(t->env->pool);
    for (; i < t->ndone; i++) {
        OUTCOME *o = &t->done[i];

        o->q.details = o->details;
        o->q.output = o->output;
        if (queue_record(db, t->owner, &o->q) < 0) {
            db_failed(t, "recording an outcome", db);
            break;
        }
        msg_context_set_token(o->token);
        msg_info("endpoints: message %llu attempt %u: %s: %s", o->q.message_id, o->q.attempt,
                 queue_message_status(o->q.result), o->details);
        msg_context_clear();
        outcome_free(o);
        t->backoff = 0;
    }
    dbpool_put(t->env->pool, db);
    memmove(t->done, t->done + i, (t->ndone - i) * sizeof(*t->done));
    t->ndone -= i;
}

/* ---------------------------------------------------------------- transfers */

void
ep_transfer_free(TRANSFER *tr)
{
    if (tr == NULL)
        return;
    httpsend_xfer_cleanup(&tr->x);
    curl_slist_free_all(tr->rcpts);
    mem_free(tr->target);
    mem_free(tr->data);
    mem_free(tr->raw);
    mem_free(tr->mail_from);
    mem_free(tr->rcpt_to);
    mem_free(tr->message_id);
    outcome_free(&tr->pending);
    mem_free(tr);
}

int
ep_transfer_add(ENDPOINTS_TASK *t, TRANSFER *tr)
{
    return httpsend_add(t->send, &tr->x);
}

/* ---------------------------------------------------------------- outcomes of transfers */

/* Finishes tr with result: queues the outcome, or starts a report first. */
static void
finish(ENDPOINTS_TASK *t, TRANSFER *tr, QUEUE_RESULT result, int bounce, const char *status,
       const char *details, const char *output, const char *diagnostic, const PGCONF *cfg)
{
    OUTCOME o;
    double seconds = tr->x.started > 0 ? clock_mono() - tr->x.started : 0;
    int max = (int) cfg->worker_endpoint_max_attempts;

    if (result == QUEUE_RETRY && (int) tr->job.attempts + 1 >= max) {
        char *d = buf_asprintf("%s (attempt %u of %d: giving up)", details, tr->job.attempts + 1, max);

        outcome_set(&o, &tr->job, tr->token, QUEUE_FAILED, d, output, tr->tls, seconds);
        mem_free(d);
        bounce = 1;
        status = status[0] == '4' ? "4.4.7" : status;
    } else {
        outcome_set(&o, &tr->job, tr->token, result, details, output, tr->tls, seconds);
    }
    if (o.q.result == QUEUE_RETRY)
        o.q.delay = queue_retry_delay(o.q.attempt, (unsigned) cfg->worker_endpoint_retry_delay);
    if (o.q.result == QUEUE_FAILED && bounce && ep_report_start(t, tr, &o, status, diagnostic, cfg) == 0)
        return;
    ep_outcome_push(t, &o);
}

/* A forward the server's send limit holds back: due again later, and the attempt does not
 * count against worker.endpoint_max_attempts (the message is neither lost nor failed). */
static void
deferred(ENDPOINTS_TASK *t, TRANSFER *tr, const char *reply, const PGCONF *cfg)
{
    OUTCOME o;
    char *details = buf_asprintf("Forward to %s deferred: the server's send limit is reached; tried again later",
                                 tr->target);
    double seconds = tr->x.started > 0 ? clock_mono() - tr->x.started : 0;

    outcome_set(&o, &tr->job, tr->token, QUEUE_RETRY, details, reply, 0, seconds);
    o.q.attempt = tr->job.attempts;     /* not an attempt */
    o.q.delay = (unsigned) (cfg->worker_endpoint_retry_delay > 0 ? cfg->worker_endpoint_retry_delay : 1) * 5;
    mem_free(details);
    ep_outcome_push(t, &o);
}

static void
http_done(ENDPOINTS_TASK *t, TRANSFER *tr, CURLcode result, long code, const PGCONF *cfg)
{
    char *details, *output = NULL, *diag;

    if (result != CURLE_OK) {
        const char *why = httpsend_error(&tr->x, result);

        details = buf_asprintf("Could not deliver to %s: %s", tr->target, why);
        diag = buf_asprintf("%s", why);
        finish(t, tr, QUEUE_RETRY, 1, "4.4.1", details, NULL, diag, cfg);
    } else {
        output = buf_asprintf("%ld %.*s", code, (int) buf_len(tr->x.response), (const char *) buf_data(tr->x.response));
        details = buf_asprintf("Received a %ld from %s", code, tr->target);
        diag = buf_asprintf("HTTP %ld from %s", code, tr->target);
        if (code >= 200 && code <= 299)
            finish(t, tr, QUEUE_SENT, 0, "2.0.0", details, output, NULL, cfg);
        else if (code >= 500)
            finish(t, tr, QUEUE_RETRY, 1, "4.0.0", details, output, diag, cfg);
        else if (code == 429)
            finish(t, tr, QUEUE_FAILED, 0, "5.0.0", details, output, diag, cfg);
        else
            finish(t, tr, QUEUE_FAILED, 1, "5.0.0", details, output, diag, cfg);
    }
    mem_free(details);
    mem_free(output);
    mem_free(diag);
}

static void
smtp_done(ENDPOINTS_TASK *t, TRANSFER *tr, CURLcode result, long code, const PGCONF *cfg)
{
    const char *reply = buf_len(tr->x.response) ? buf_cstr(tr->x.response) : NULL;
    const char *what = tr->kind == KIND_ADDRESS ? "forwarded to" : "delivered to SMTP endpoint";
    char *details;

    if (result == CURLE_OK) {
        details = buf_asprintf("Message %s %s", what, tr->target);
        finish(t, tr, QUEUE_SENT, 0, "2.0.0", details, reply, NULL, cfg);
    } else {
        const char *why = httpsend_error(&tr->x, result);
        char *diag = reply ? buf_asprintf("smtp; %s", reply) : buf_asprintf("%s", why);

        details = buf_asprintf("Could not be %s %s: %s", what, tr->target, why);
        if (tr->kind == KIND_ADDRESS && reply && strstr(reply, FORWARD_SEND_LIMIT_REPLY)) {
            deferred(t, tr, reply, cfg);
        } else if (tr->kind == KIND_ADDRESS && reply && strstr(reply, "suppression list")) {
            /* The server's own list, not the sender's fault: no report. */
            mem_free(details);
            details = buf_asprintf("Not forwarded to %s: %s", tr->target, reply);
            finish(t, tr, QUEUE_FAILED, 0, "5.7.1", details, reply, diag, cfg);
        } else if (code >= 500 && code <= 599) {
            finish(t, tr, QUEUE_FAILED, 1, "5.0.0", details, reply, diag, cfg);
        } else {
            finish(t, tr, QUEUE_RETRY, 1, "4.0.0", details, reply, diag, cfg);
        }
        mem_free(diag);
    }
    mem_free(details);
}

/* httpsend's callback for a finished transfer. */
static void
transfer_done(void *ctx, HTTPSEND_XFER *x, CURLcode result)
{
    ENDPOINTS_TASK *t = ctx;
    TRANSFER *tr = (TRANSFER *) x;
    const PGCONF *cfg = t->cfg;
    long code = 0;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    switch (tr->kind) {
    case KIND_HTTP:
        http_done(t, tr, result, code, cfg);
        break;
    case KIND_SMTP:
    case KIND_ADDRESS:
        smtp_done(t, tr, result, code, cfg);
        break;
    case KIND_REPORT:
        ep_report_done(t, tr, result, code);
        break;
    }
    ep_transfer_free(tr);
    if (httpsend_inflight(t->send) < (size_t) cfg->worker_endpoint_max_in_flight)
        t->next_claim = 0;
}

static void
drive(ENDPOINTS_TASK *t, int wait_ms, const PGCONF *cfg)
{
    t->cfg = cfg;
    httpsend_drive(t->send, wait_ms);
    t->cfg = NULL;
}

/* ---------------------------------------------------------------- starting a job */

/* Loads what job needs and starts its transfer; what cannot be attempted is an outcome.
 * 0 handled, -1 MariaDB failed (the row is given back). */
static int
job_start(ENDPOINTS_TASK *t, DB *db, QUEUE_JOB *job, const PGCONF *cfg)
{
    TRANSFER *tr = mem_zalloc(sizeof(*tr));
    DB_RESULT *m = NULL, *ep = NULL;
    char *error = NULL, *raw = NULL;
    size_t raw_len = 0;
    int ret, seen = 0, temp = 0;
    OUTCOME o;

    tr->job = *job;
    if ((ret = message_get(db, job->server_id, job->message_id, &m)) > 0) {
        snprintf(tr->token, sizeof(tr->token), "%s", ep_col(m, MESSAGE_COL_TOKEN));
        ret = message_view_raw(db, job->server_id, m, 0, &raw, &raw_len);
    }
    if (ret > 0 && (ret = endpoint_list(db, job->type, job->server_id, NULL, job->endpoint_id, &ep)) == 0)
        error = buf_asprintf("The %s no longer exists", endpoint_type_name(job->type));
    if (ret < 0)
        goto temp;
    if (ret == 0 && error == NULL)
        error = mem_strdup("The message or its stored copy no longer exists");
    if (error == NULL) {
        tr->raw = raw;
        tr->raw_len = raw_len;
        raw = NULL;
        tr->mail_from = mem_strdup(ep_col(m, MESSAGE_COL_MAIL_FROM));
        tr->rcpt_to = mem_strdup(ep_col(m, MESSAGE_COL_RCPT_TO));
        tr->message_id = mem_strdup(ep_col(m, MESSAGE_COL_MESSAGE_ID));
        if (ret > 0) {
            char spf[32], dkim[32], dkim_domain[254];

            if ((ret = message_sender_auth(db, job->server_id, job->message_id, spf, dkim, dkim_domain)) < 0)
                goto temp;
            tr->report_ok = senderauth_report_allowed(tr->mail_from, spf, dkim, dkim_domain,
                                                      cfg->dns_return_path_domain, tr->report_why,
                                                      sizeof(tr->report_why));
            if (tr->report_ok && (ret = server_postmaster_address(db, job->server_id, tr->postmaster)) < 0)
                goto temp;
        }
        switch (job->type) {
        case EP_TYPE_HTTP:
            if (reqsign_refresh(&t->sign, db, t->env->seal) < 0) {
                error = mem_strdup("cannot sign the request (no usable signing key)");
                ret = -1;
            } else {
                ret = ep_http_setup(t, tr, ep, m, &error);
            }
            break;
        case EP_TYPE_SMTP:
            ret = ep_smtp_endpoint_setup(t, tr, db, ep, &error);
            break;
        case EP_TYPE_ADDRESS:
            if (ep_loop_count(tr->raw, tr->raw_len, tr->rcpt_to, &seen) >= LOOP_MAX || seen) {
                tr->kind = KIND_ADDRESS;
                tr->target = mem_strdup(ep_col(ep, EP_COL_NAME));
                error = buf_asprintf("Mail loop: the message already went through %s; not forwarded to %s",
                                     seen ? tr->rcpt_to : "too many routes", tr->target);
                finish(t, tr, QUEUE_FAILED, 1, "5.4.6", error, NULL, error, cfg);
                goto out;
            }
            ret = ep_address_setup(t, tr, ep, cfg, &error);
            break;
        }
        if (ret == -2)
            goto temp;
        if (ret == 0 && (tr->kind == KIND_HTTP || tr->kind == KIND_SMTP))
            httpsend_guard(&tr->x, &cfg->security_outbound_allowed_networks);   /* a tenant's receiver */
        if (ret == 0 && ep_transfer_add(t, tr) == 0) {
            tr = NULL;
            goto out;
        }
        if (error == NULL)
            error = mem_strdup("libcurl refused the transfer");
        /* A request that cannot be built now may be buildable later (a key, a setting). */
        finish(t, tr, QUEUE_RETRY, 1, "4.3.0", error, NULL, error, cfg);
        goto out;
    }
    outcome_set(&o, job, tr->token, QUEUE_ERROR, error, NULL, 0, 0);
    ep_outcome_push(t, &o);
    goto out;
temp:
    if (queue_release(db, t->owner, job->id) < 0)
        msg_warn("endpoints: cannot give back row %llu (due again when its lease ends): %s", job->id, db_error(db));
    temp = 1;
out:
    ep_transfer_free(tr);
    db_result_free(m);
    db_result_free(ep);
    mem_free(raw);
    mem_free(error);
    return temp ? -1 : 0;
}

static void
claim(ENDPOINTS_TASK *t, const PGCONF *cfg)
{
    long long room = cfg->worker_endpoint_max_in_flight - (long long) httpsend_inflight(t->send);
    QUEUE_JOB *jobs = NULL;
    DB *db;
    int n;

    if (room <= 0 || t->ndone >= 256)
        return;
    db = dbpool_get(t->env->pool);
    n = queue_claim(db, t->owner, (unsigned) room, LEASE_SECONDS, &jobs);
    if (n < 0)
        db_failed(t, "claiming due rows", db);
    if (n <= 0) {
        dbpool_put(t->env->pool, db);
        t->next_claim = clock_mono() + IDLE_CLAIM_SECONDS;
        return;
    }
    t->backoff = 0;
    t->next_claim = n < room ? clock_mono() + IDLE_CLAIM_SECONDS : 0;
    for (int i = 0; i < n; i++) {
        if (job_start(t, db, &jobs[i], cfg) < 0) {
            db_failed(t, "loading a queued message", db);
            for (int k = i + 1; k < n; k++)
                if (queue_release(db, t->owner, jobs[k].id) < 0)
                    break;
            break;
        }
    }
    dbpool_put(t->env->pool, db);
    mem_free(jobs);
}

static void *
run(void *arg)
{
    ENDPOINTS_TASK *t = arg;
    double deadline;

    address_init();
    while (!atomic_load(&t->env->stopping)) {
        PGCONF *cfg = conf_holder_get(&t->env->conf);

        if (clock_mono() >= t->db_retry_at) {
            record(t);
            if (clock_mono() >= t->db_retry_at && clock_mono() >= t->next_claim)
                claim(t, cfg);
        }
        drive(t, t->next_claim == 0 && clock_mono() >= t->db_retry_at
              && httpsend_inflight(t->send) < (size_t) cfg->worker_endpoint_max_in_flight ? 0 : POLL_MS, cfg);
        conf_unref(cfg);
    }
    if (httpsend_inflight(t->send))
        msg_info("endpoints: waiting for %zu delivery(ies) in flight", httpsend_inflight(t->send));
    while (httpsend_inflight(t->send) > 0) {
        PGCONF *cfg = conf_holder_get(&t->env->conf);

        drive(t, POLL_MS, cfg);
        conf_unref(cfg);
    }
    deadline = clock_mono() + STOP_RECORD_SECONDS;
    while (t->ndone > 0 && clock_mono() < deadline) {
        record(t);
        if (t->ndone > 0)
            sleep(1);
    }
    if (t->ndone > 0)
        msg_error("endpoints: %zu outcome(s) not recorded (MariaDB unreachable); those messages are delivered "
                  "again when their lease ends", t->ndone);
    return NULL;
}

/* ---------------------------------------------------------------- task.h */

int
endpoints_prepare(WORKER_ENV *env, void **task_r)
{
    (void) env;
    (void) task_r;
    return httpsend_global_init("endpoints");
}

int
endpoints_start(WORKER_ENV *env, void **task_r)
{
    ENDPOINTS_TASK *t = mem_zalloc(sizeof(*t));
    int err;

    t->env = env;
    t->sign.who = "endpoints";
    snprintf(t->owner, sizeof(t->owner), "%s/%ld/endpoints", env->host, (long) getpid());
    if ((t->send = httpsend_new("endpoints", transfer_done, t)) == NULL) {
        mem_free(t);
        return -1;
    }
    if ((err = pthread_create(&t->thread, NULL, run, t)) != 0) {
        msg_error("endpoints: cannot start a thread: %s", strerror(err));
        httpsend_free(t->send);
        mem_free(t);
        return -1;
    }
    t->thread_started = 1;
    *task_r = t;
    return 0;
}

void
endpoints_stop(void *task)
{
    ENDPOINTS_TASK *t = task;

    if (t == NULL)
        return;
    if (t->thread_started)
        pthread_join(t->thread, NULL);
    for (size_t i = 0; i < t->ndone; i++)
        outcome_free(&t->done[i]);
    mem_free(t->done);
    reqsign_free(&t->sign);
    httpsend_free(t->send);
    mem_free(t);
    httpsend_global_cleanup();
}
