/*
 * reclaim.c -- the "reclaim" task (reclaim.h).
 *
 * Lease holders are named host/pid (webhooks), host/pid/endpoints (endpoints) and
 * host:pid (jobs). A holder on this host whose process is gone (kill(pid, 0) says ESRCH)
 * can never record what it claimed: its rows are given back, due again now. What it had
 * already delivered without recording it is delivered again (at least once, as when a
 * lease runs out). Runs at start, then every RECLAIM_INTERVAL seconds (a worker on the
 * same host may die while this one runs); a database error is retried then.
 *
 * Must never: give back the rows of a live process, of this process, or of another host
 * (their pids mean nothing here).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/job.h"
#include "mail/queue.h"
#include "mail/webhook.h"
#include "reclaim.h"
#include "util/mem.h"
#include "util/msg.h"

#define RECLAIM_INTERVAL 30.0

typedef struct reclaim_task {
    WORKER_ENV *env;
    pthread_t thread;
    int running;
} RECLAIM;

/* The dead() callback of the lib/mail functions has no context: one host, one process. */
static const char *reclaim_host;

int
reclaim_owner_dead(const char *owner, const char *host, long self_pid)
{
    size_t n = strlen(host);
    char *end;
    long pid;

    if (strncmp(owner, host, n) != 0 || (owner[n] != '/' && owner[n] != ':'))
        return 0;
    errno = 0;
    pid = strtol(owner + n + 1, &end, 10);
    if (errno || end == owner + n + 1 || (*end != '\0' && *end != '/') || pid <= 1 || pid == self_pid)
        return 0;
    /* EPERM: a process exists (another user's): not ours to judge, its lease runs out. */
    return kill((pid_t) pid, 0) < 0 && errno == ESRCH;
}

static int
dead(const char *owner)
{
    return reclaim_owner_dead(owner, reclaim_host, (long) getpid());
}

/* One round: 0 done, -1 a database error (logged; tried again next round). */
static int
round_of_reclaim(DB *db)
{
    int q, w, j;

    if ((q = queue_reclaim_dead(db, dead)) < 0 || (w = webhook_reclaim_dead(db, dead)) < 0 ||
        (j = job_reclaim_dead(db, dead)) < 0) {
        msg_warn("reclaim: giving back the leases of dead workers: %s", db_error(db));
        return -1;
    }
    if (q + w + j > 0)
        msg_info("reclaim: gave back what dead workers on %s held: %d endpoint queue row(s), "
                 "%d webhook event(s), %d job lease(s)", reclaim_host, q, w, j);
    return 0;
}

static void *
run(void *arg)
{
    RECLAIM *r = arg;

    while (!atomic_load(&r->env->stopping)) {
        DB *db = dbpool_get(r->env->pool);
        int ret = round_of_reclaim(db);

        dbpool_put(r->env->pool, db);
        worker_sleep(r->env, ret < 0 ? 2.0 : RECLAIM_INTERVAL);
    }
    return NULL;
}

int
reclaim_start(WORKER_ENV *env, void **task_r)
{
    RECLAIM *r = mem_zalloc(sizeof(*r));
    int err;

    r->env = env;
    reclaim_host = env->host;
    if ((err = pthread_create(&r->thread, NULL, run, r)) != 0) {
        msg_error("reclaim: pthread_create: %s", strerror(err));
        mem_free(r);
        return -1;
    }
    r->running = 1;
    *task_r = r;
    return 0;
}

void
reclaim_stop(void *task)
{
    RECLAIM *r = task;

    if (r == NULL)
        return;
    if (r->running)
        pthread_join(r->thread, NULL);
    mem_free(r);
}
