/*
 * jobs.c -- the "jobs" task: periodic jobs, each under a cluster-wide lease (job.h), so
 * with several hosts sharing one MariaDB each job runs on one of them at a time:
 *
 *   hold_expiry   held messages whose hold_expires_at passed become HoldCancelled
 *   send_limits   SendLimitApproaching (>= 90 %) / SendLimitExceeded (>= 100 %) events,
 *                 at most one of each per server and hour (sendlimit.h), each also mailed
 *                 to the organization's owners and admins (notice.h)
 *   partitions    daily partitions of raw_messages, webhook_requests, clicks and loads
 *                 kept PARTITIONS_AHEAD days ahead; old ones dropped after the retention
 *                 (partition.h), and the IP warm-up's counts and choices after
 *                 WARMUP_KEEP_DAYS; at most hourly
 *   retention     each server's message log, raw messages by age and by size cap, in
 *                 bounded batches (retention.h); every worker.retention_interval
 *   dns_checks    the DNS records of verified domains, each every worker.dns_check_interval;
 *                 DomainDNSError once when a passing domain starts failing (dnsmonitor.h)
 *   retries       messages marked by a bulk retry, oldest first, at most worker.retry_batch
 *                 per round at worker.retry_rate per second (retry.h)
 *   server_purge  the data of deleted servers (server_delete), SERVER_PURGE_STEPS bounded
 *                 steps of SERVER_PURGE_BATCH rows per round, then the server row (purge.h)
 *
 * The thread wakes every worker.jobs_interval seconds (reloadable) and runs the jobs
 * that are due. A database failure is logged and the next round tries again.
 * Must never: hold a lease past a job's end, or msg_fatal after start().
 */
#include "config.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobs.h"
#include "mail/delivery.h"
#include "mail/dnsmonitor.h"
#include "mail/event.h"
#include "mail/ippool.h"
#include "mail/job.h"
#include "mail/notice.h"
#include "mail/partition.h"
#include "mail/purge.h"
#include "mail/retention.h"
#include "mail/retry.h"
#include "mail/sendlimit.h"
#include "mail/server.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define LEASE_SECONDS 600
#define PARTITION_PERIOD 3600
#define PARTITIONS_AHEAD 7
#define WARMUP_KEEP_DAYS 7
#define WEBHOOK_LOG_MIN_DAYS 7
#define HOLD_BATCH 500
#define DNS_BATCH 50
#define RETENTION_BATCH 1000
#define RETENTION_BATCHES 20

typedef struct jobs {
    WORKER_ENV *env;
    pthread_t thread;
    int running;
    char owner[320];            /* host:pid, the lease holder's name */
    int unreleased[8];          /* a lease job_finish() could not give back yet */
} JOBS;

/* A job: 0 done, < 0 database error (why in db_error). */
typedef int JOB_FN(JOBS *jobs, DB *db, const PGCONF *cfg);

static int
hold_expiry(JOBS *jobs, DB *db, const PGCONF *cfg)
{
    int ret, total = 0;

    (void) jobs;
    (void) cfg;
    do {
        if ((ret = delivery_cancel_expired_holds(db, HOLD_BATCH)) < 0)
            return ret;
        total += ret;
    } while (ret == HOLD_BATCH);
    if (total)
        msg_info("hold_expiry: %d held message%s expired (HoldCancelled)", total, total == 1 ? "" : "s");
    return 0;
}

typedef struct limit_event_txn {
    unsigned long long server_id;
    long long limit, volume;
    int queued;                 /* set by the last run */
} LIMIT_EVENT_TXN;

/* The once-an-hour mark and the event, together. */
static int
limit_event_txn(DB *db, void *arg)
{
    LIMIT_EVENT_TXN *t = arg;
    int exceeded = t->volume >= t->limit, ret;
    json_t *server = NULL, *payload;

    t->queued = 0;
    if ((ret = sendlimit_mark_notified(db, t->server_id, exceeded)) <= 0)
        return ret;
    if ((ret = event_server_object(db, t->server_id, &server)) <= 0)
        return ret;
    payload = json_pack("{s:o, s:I, s:I}", "server", server, "volume", (json_int_t) t->volume,
                        "limit", (json_int_t) t->limit);
    ret = payload ? event_queue(db, t->server_id, exceeded ? EVENT_SEND_LIMIT_EXCEEDED : EVENT_SEND_LIMIT_APPROACHING,
                                payload) : DB_ERR_PERM;
    json_decref(payload);
    if (ret < 0)
        return ret;
    t->queued = 1;
    return 0;
}

/* One server's event in a transaction with its once-an-hour mark. */
static int
send_limit_event(DB *db, const PGCONF *cfg, unsigned long long server_id, long long limit, long long volume)
{
    LIMIT_EVENT_TXN t = {.server_id = server_id, .limit = limit, .volume = volume};
    int exceeded = volume >= limit, ret;

    if ((ret = db_transaction(db, limit_event_txn, &t)) < 0 || !t.queued)
        return ret < 0 ? ret : 0;
    msg_info("send_limits: server %llu: %s (volume %lld, limit %lld)", server_id,
             exceeded ? EVENT_SEND_LIMIT_EXCEEDED : EVENT_SEND_LIMIT_APPROACHING, volume, limit);
    /* Committed (once an hour, by the mark): the organization's admins are told by mail too. */
    if ((ret = notice_send_limit(db, cfg, server_id, exceeded, volume, limit)) >= 0)
        msg_info("send_limits: server %llu: notice mailed to %d owner%s and admin%s", server_id, ret,
                 ret == 1 ? "" : "s", ret == 1 ? "" : "s");
    return ret < 0 ? ret : 0;
}

static int
send_limits(JOBS *jobs, DB *db, const PGCONF *cfg)
{
    DB_RESULT *res = NULL;
    int ret = sendlimit_near(db, &res);

    (void) jobs;
    for (int i = 0; i < ret; i++) {
        int r = send_limit_event(db, cfg, strtoull(db_result_get(res, (size_t) i, 0), NULL, 10),
                                 atoll(db_result_get(res, (size_t) i, 1)), atoll(db_result_get(res, (size_t) i, 2)));

        if (r < 0) {
            ret = r;
            break;
        }
    }
    db_result_free(res);
    return ret < 0 ? ret : 0;
}

static int
partitions(JOBS *jobs, DB *db, const PGCONF *cfg)
{
    static const char *const tables[] = {"raw_messages", "webhook_requests", "clicks", "loads"};
    long long raw_days, message_days;
    int ret;

    (void) jobs;
    if ((ret = server_longest_retention(db, &raw_days, &message_days)) < 0)
        return ret;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        long long keep = i == 0 ? raw_days : i == 1 ? cfg->webhooks_request_log_days : message_days;
        int created, dropped;

        if (i == 1 && keep < WEBHOOK_LOG_MIN_DAYS)
            keep = WEBHOOK_LOG_MIN_DAYS;
        if ((ret = partition_maintain(db, tables[i], PARTITIONS_AHEAD, (unsigned) keep, &created, &dropped)) < 0)
            return ret;
        if (created || dropped)
            msg_info("partitions: %s: %d daily partition%s added, %d older than %lld days dropped", tables[i],
                     created, created == 1 ? "" : "s", dropped, keep);
    }
    /* The IP warm-up's daily counts and per-message choices are needed for days, not longer. */
    if ((ret = ippool_warmup_purge(db, WARMUP_KEEP_DAYS)) < 0)
        return ret;
    if (ret > 0)
        msg_info("partitions: %d IP warm-up count%s and choices older than %d days removed", ret, ret == 1 ? "" : "s",
                 WARMUP_KEEP_DAYS);
    return 0;
}

/* The verified domains whose records were not checked for worker.dns_check_interval,
 * DNS_BATCH at a time (the next run takes the rest). */
static int
dns_checks(JOBS *jobs, DB *db, const PGCONF *cfg)
{
    unsigned long long ids[DNS_BATCH];
    int n, ret, alerts = 0;

    (void) jobs;
    if ((n = dnsmonitor_due(db, cfg->worker_dns_check_interval, DNS_BATCH, ids)) < 0)
        return n;
    for (int i = 0; i < n; i++) {
        if ((ret = dnsmonitor_check(db, cfg, ids[i])) < 0)
            return ret;
        alerts += ret;
    }
    if (n)
        msg_info("dns_checks: %d domain%s checked, %d newly failing (DomainDNSError queued)", n, n == 1 ? "" : "s",
                 alerts);
    if ((n = dnsmonitor_track_due(db, cfg->worker_dns_check_interval, DNS_BATCH, ids)) < 0)
        return n;
    for (int i = 0, failing = 0; i < n; i++) {
        if ((ret = dnsmonitor_track_check(db, cfg, ids[i])) < 0)
            return ret;
        failing += ret == 0;
        if (i == n - 1)
            msg_info("dns_checks: %d track domain%s checked, %d failing", n, n == 1 ? "" : "s", failing);
    }
    return 0;
}

/*
 * Per-server retention (retention.h): the message log, raw messages by age and by the
 * size cap, each RETENTION_BATCH rows at a time and at most RETENTION_BATCHES batches per
 * kind and server per run, so one run stays short; the next run goes on.
 */
static int
retention(JOBS *jobs, DB *db, const PGCONF *cfg)
{
    RETENTION_SERVER *servers = NULL;
    unsigned long long removed[3] = {0, 0, 0};
    int n, ret = 0;

    (void) jobs;
    (void) cfg;
    if ((n = retention_servers(db, &servers)) < 0)
        return n;
    for (int i = 0; i < n && ret >= 0; i++) {
        const RETENTION_SERVER *sv = &servers[i];

        for (int b = 0; b < RETENTION_BATCHES; b++) {
            if ((ret = retention_messages(db, sv->id, sv->message_days, RETENTION_BATCH)) < 0)
                break;
            removed[0] += (unsigned) ret;
            if (ret < RETENTION_BATCH)
                break;
        }
        for (int b = 0; ret >= 0 && b < RETENTION_BATCHES; b++) {
            if ((ret = retention_raw_days(db, sv->id, sv->raw_days, RETENTION_BATCH)) < 0)
                break;
            removed[1] += (unsigned) ret;
            if (ret < RETENTION_BATCH)
                break;
        }
        for (int b = 0; ret >= 0 && b < RETENTION_BATCHES; b++) {
            if ((ret = retention_raw_size(db, sv->id, sv->raw_size_mb, RETENTION_BATCH, NULL)) <= 0)
                break;
            removed[2] += (unsigned) ret;
        }
    }
    mem_free(servers);
    if (removed[0] || removed[1] || removed[2])
        msg_info("retention: %llu message row%s past message_retention_days, %llu raw message%s past "
                 "raw_message_retention_days, %llu over raw_message_retention_size removed", removed[0],
                 removed[0] == 1 ? "" : "s", removed[1], removed[1] == 1 ? "" : "s", removed[2]);
    return ret < 0 ? ret : 0;
}

/* Sends the oldest marked messages again, paced: a bulk retry reaches Postfix at
 * worker.retry_rate per second, worker.retry_batch per round. A message that cannot be
 * retried any more (sent meanwhile, deleted) loses its mark; a failed injection leaves it
 * held for a retry. */
static int
retries(JOBS *jobs, DB *db, const PGCONF *cfg)
{
    DB_ROWS rows = {0};
    unsigned done = 0, failed = 0;
    int n, ret = 0;

    if ((n = retry_due(db, (unsigned) cfg->worker_retry_batch, &rows)) <= 0) {
        db_rows_free(&rows);
        return n;
    }
    for (int i = 0; i < n; i++) {
        const RETRY_DUE_ROW *r = (const RETRY_DUE_ROW *) rows.v + i;
        char *why = NULL;

        if (i > 0 && worker_sleep(jobs->env, 1.0 / (double) cfg->worker_retry_rate))
            break;
        ret = retry_message(db, cfg, jobs->env->seal, r->server_id, r->id, "a bulk retry", &why);
        if (ret < 0) {
            mem_free(why);
            break;
        }
        if (ret == RETRY_DONE) {
            done++;
        } else if (ret == RETRY_INJECT_FAILED) {
            failed++;
            msg_warn("retries: message %llu of server %llu: %s", r->id, r->server_id, why);
        }
        mem_free(why);
    }
    db_rows_free(&rows);
    if (done || failed)
        msg_info("retries: %u message%s sent again, %u left held (re-injection failed)", done, done == 1 ? "" : "s",
                 failed);
    return ret < 0 ? ret : 0;
}

/* How often a job runs at most (seconds; 0: every round of the jobs). */
static unsigned
every_round(const PGCONF *cfg)
{
    (void) cfg;
    return 0;
}

static unsigned
hourly(const PGCONF *cfg)
{
    (void) cfg;
    return PARTITION_PERIOD;
}

static unsigned
retention_period(const PGCONF *cfg)
{
    return (unsigned) cfg->worker_retention_interval;
}

#define SERVER_PURGE_BATCH 1000
#define SERVER_PURGE_STEPS 100

/* A deleted server's message log, raw copies, clicks, loads, webhook log and the rest, a
 * bounded step at a time so a server with millions of messages never holds long locks;
 * the next round goes on where this one stopped. */
static int
server_purge(JOBS *jobs, DB *db, const PGCONF *cfg)
{
    unsigned long long rows = 0;
    int ret = 0;

    (void) jobs;
    (void) cfg;
    for (int i = 0; i < SERVER_PURGE_STEPS && (ret = purge_deleted_server_step(db, SERVER_PURGE_BATCH, &rows)) == 0; i++)
        ;
    if (rows)
        msg_info("server_purge: %llu row%s of deleted servers removed%s", rows, rows == 1 ? "" : "s",
                 ret == 0 ? "; more next round" : "");
    return ret < 0 ? ret : 0;
}

static const struct {
    const char *name;
    JOB_FN *fn;
    unsigned (*period)(const PGCONF *cfg);
} job_table[] = {
    {"hold_expiry", hold_expiry, every_round},
    {"send_limits", send_limits, every_round},
    {"partitions", partitions, hourly},
    {"dns_checks", dns_checks, every_round},
    {"retention", retention, retention_period},
    {"retries", retries, every_round},
    {"server_purge", server_purge, every_round},
};

/* Runs the due jobs once. < 0 when the database failed. */
static int
round_of_jobs(JOBS *jobs, DB *db, const PGCONF *cfg)
{
    unsigned interval = (unsigned) cfg->worker_jobs_interval;
    /* A little under the interval, so a job run every interval is always due again. */
    unsigned period = interval > 1 ? interval - 1 : 0;

    for (size_t i = 0; i < sizeof(job_table) / sizeof(job_table[0]); i++) {
        /* A lease kept by a failed job_finish() is given back first, not left to expire. */
        if (jobs->unreleased[i]) {
            if (job_finish(db, job_table[i].name, jobs->owner, "interrupted: the database failed") < 0)
                return DB_ERR_TEMP;
            jobs->unreleased[i] = 0;
        }
    }
    for (size_t i = 0; i < sizeof(job_table) / sizeof(job_table[0]); i++) {
        const char *name = job_table[i].name;
        unsigned own = job_table[i].period(cfg);
        int ret = job_acquire(db, name, jobs->owner, LEASE_SECONDS, own > period ? own - (own > 1) : period);

        if (ret < 0) {
            msg_warn("jobs: %s: taking the lease: %s", name, db_error(db));
            return ret;
        }
        if (ret == 0)
            continue;
        ret = job_table[i].fn(jobs, db, cfg);
        if (ret < 0)
            msg_warn("jobs: %s failed: %s", name, db_error(db));
        if (job_finish(db, name, jobs->owner, ret < 0 ? db_error(db) : NULL) < 0) {
            msg_warn("jobs: %s: giving the lease back: %s", name, db_error(db));
            jobs->unreleased[i] = 1;
            return DB_ERR_TEMP;
        }
    }
    return 0;
}

static void *
run(void *arg)
{
    JOBS *jobs = arg;

    while (!atomic_load(&jobs->env->stopping)) {
        PGCONF *cfg = conf_holder_get(&jobs->env->conf);
        DB *db = dbpool_get(jobs->env->pool);
        double interval = (double) cfg->worker_jobs_interval;

        round_of_jobs(jobs, db, cfg);
        dbpool_put(jobs->env->pool, db);
        conf_unref(cfg);
        worker_sleep(jobs->env, interval);
    }
    return NULL;
}

int
jobs_start(WORKER_ENV *env, void **task_r)
{
    JOBS *jobs = mem_zalloc(sizeof(*jobs));
    int err;

    jobs->env = env;
    snprintf(jobs->owner, sizeof(jobs->owner), "%s:%ld", env->host, (long) getpid());
    if ((err = pthread_create(&jobs->thread, NULL, run, jobs)) != 0) {
        msg_error("jobs: pthread_create: %s", strerror(err));
        mem_free(jobs);
        return -1;
    }
    jobs->running = 1;
    *task_r = jobs;
    return 0;
}

void
jobs_stop(void *task)
{
    JOBS *jobs = task;

    if (jobs == NULL)
        return;
    if (jobs->running)
        pthread_join(jobs->thread, NULL);
    mem_free(jobs);
}
