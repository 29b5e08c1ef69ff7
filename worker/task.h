/*
 * task.h -- the tasks postgate-worker runs, each in its own thread(s): the Postfix log
 * reader (delivery results), the webhook sender, periodic jobs, and later the LMTP
 * server and endpoint delivery. main.c owns the process; a task owns only its threads.
 *
 * Contract: prepare() runs as root before privileges are dropped (open files and keys
 * that only root may read; may be NULL) and returns 0 or -1 after logging why, which
 * stops the start. start() runs after the drop and starts the task's threads; -1 after
 * logging stops the daemon. stop() is called once, from the main thread, after
 * env->stopping became 1: it wakes the task's threads, waits for them to finish what
 * they were doing (never abandoning a claimed row or a half-recorded log line) and frees
 * the task. Tasks read the configuration through conf_holder_get(&env->conf) each time
 * they start a unit of work, so a SIGHUP reaches them without a restart.
 *
 * Must never: call msg_fatal after start() (log, back off and retry: MariaDB or a
 * receiver being down is normal), or share state with another task except through
 * MariaDB.
 */
#ifndef PG_WORKER_TASK_H
#define PG_WORKER_TASK_H

#include <stdatomic.h>

#include "mail/conf.h"
#include "mail/dbpool.h"
#include "util/seal.h"

typedef struct worker_env {
    CONF_HOLDER conf;           /* the current configuration snapshot */
    DBPOOL *pool;
    const SEAL_KEY *seal;       /* security.secret_key_file */
    const char *host;           /* this host's name: lease owner, log position key */
    atomic_int stopping;        /* 1 once SIGTERM/SIGINT arrived */
} WORKER_ENV;

typedef struct worker_task {
    const char *name;
    int (*prepare)(WORKER_ENV *env, void **task_r);    /* as root; may be NULL */
    int (*start)(WORKER_ENV *env, void **task_r);
    void (*stop)(void *task);
} WORKER_TASK;

/* Sleeps up to seconds, returning early (1) once env->stopping is set; 0 on timeout. */
int worker_sleep(WORKER_ENV *env, double seconds);

#endif
