/*
 * main.c -- postgate-worker: the tasks of task.h (the Postfix log reader, the webhook
 * sender, periodic jobs) in one process beside each Postfix.
 *
 * Lifecycle (daemon.h, CONVENTIONS.md §8): every task's prepare() runs as root (files
 * and keys only root may read), then the process drops to daemon.user and starts the
 * tasks. The main thread only waits for signals: SIGHUP installs a checked configuration
 * snapshot in env.conf, which tasks read at their next unit of work; SIGTERM/SIGINT set
 * env.stopping, stop the tasks in reverse order (each finishes what it has claimed) and
 * exit 0. Signals reach only the main thread: task threads inherit a mask without them.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "endpoints.h"
#include "jobs.h"
#include "lmtp.h"
#include "mail/daemon.h"
#include "mail/db.h"
#include "mail/dbpool.h"
#include "mail/monitor.h"
#include "maillog.h"
#include "reclaim.h"
#include "stats.h"
#include "task.h"
#include "webhooks.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/seal.h"

#define PROGNAME "postgate-worker"
#define HOST_NAME_BYTES 256

/* The tasks, started in this order and stopped in the reverse one. */
static const WORKER_TASK tasks[] = {
    {"lmtp", lmtp_prepare, lmtp_start, lmtp_stop},
    {"maillog", maillog_prepare, maillog_start, maillog_stop},
    {"jobs", NULL, jobs_start, jobs_stop},
    {"reclaim", NULL, reclaim_start, reclaim_stop},
    {"webhooks", webhooks_prepare, webhooks_start, webhooks_stop},
    {"endpoints", endpoints_prepare, endpoints_start, endpoints_stop},
    {NULL, NULL, NULL, NULL},
};
#define MAX_TASKS (sizeof(tasks) / sizeof(tasks[0]))

static WORKER_ENV env;

int
worker_sleep(WORKER_ENV *e, double seconds)
{
    double end = clock_mono() + seconds;

    while (!atomic_load(&e->stopping)) {
        double left = end - clock_mono();
        struct timespec ts;

        if (left <= 0)
            return 0;
        if (left > 0.1)
            left = 0.1;
        ts.tv_sec = 0;
        ts.tv_nsec = (long) (left * 1e9);
        nanosleep(&ts, NULL);
    }
    return 1;
}

static int
test_config(const PGCONF *cfg)
{
    return daemon_test_result(cfg, daemon_check_secret_key(cfg) + webhooks_test_config(cfg));
}

/* /health: MariaDB answers and the LMTP socket Postfix delivers to is there. */
static int
health(void *arg, char **reason_r)
{
    PGCONF *cfg = conf_holder_get(&env.conf);
    int ret = -1;

    (void) arg;
    if (monitor_check_socket("worker.lmtp_listen", cfg->worker_lmtp_listen, reason_r) == 0)
        ret = monitor_check_db(cfg, reason_r);
    conf_unref(cfg);
    return ret;
}

int
main(int argc, char **argv)
{
    DAEMON_OPTS opts = {.progname = PROGNAME};
    MONITOR *monitor;
    void *state[MAX_TASKS];
    char host[HOST_NAME_BYTES];
    char *error = NULL;
    sigset_t set, saved;
    SEAL_KEY *seal;
    PGCONF *cfg;
    size_t started = 0, ntasks = 0;

    daemon_parse_args(&opts, argc, argv);
    cfg = daemon_load_config(&opts);
    if (opts.test_config) {
        int status = test_config(cfg);

        conf_unref(cfg);
        return status;
    }
    db_library_init();
    if (gethostname(host, sizeof(host)) < 0)
        msg_fatal("gethostname: %s", strerror(errno));
    host[sizeof(host) - 1] = '\0';

    seal = seal_key_load(cfg->security_secret_key_file, &error);
    if (seal == NULL)
        msg_fatal_status(EX_CONFIG, "%s: security.secret_key_file: %s",
                         cfg->origin[CONF_K_security_secret_key_file], error);
    conf_holder_init(&env.conf, conf_ref(cfg));
    env.seal = seal;
    env.host = host;
    atomic_init(&env.stopping, 0);
    memset(state, 0, sizeof(state));
    while (tasks[ntasks].name)
        ntasks++;

    /* As root: what the tasks must open before privileges go. */
    for (size_t i = 0; i < ntasks; i++)
        if (tasks[i].prepare && tasks[i].prepare(&env, &state[i]) < 0)
            msg_fatal_status(EX_CONFIG, "%s: cannot prepare (see above)", tasks[i].name);
    daemon_drop_privileges(cfg);
    daemon_install_signals();
    daemon_write_pidfile(&opts);
    env.pool = dbpool_new(cfg, (unsigned) cfg->worker_threads + 4);
    stats_init(&env);

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &saved);

    monitor = monitor_start(PROGNAME, cfg->worker_monitor_listen, health, NULL);
    for (; started < ntasks; started++) {
        if (tasks[started].start(&env, &state[started]) < 0) {
            msg_error("%s: cannot start (see above); stopping", tasks[started].name);
            atomic_store(&env.stopping, 1);
            break;
        }
        msg_info("%s: started", tasks[started].name);
    }
    if (!atomic_load(&env.stopping))
        msg_info("started on %s: %zu task(s)", host, started);

    while (!daemon_stop_requested && !atomic_load(&env.stopping)) {
        struct timespec tick = {1, 0};

        if (daemon_reload_requested) {
            PGCONF *fresh;

            daemon_reload_requested = 0;
            fresh = daemon_reload_config(&opts, cfg);
            if (fresh) {
                conf_holder_swap(&env.conf, conf_ref(fresh));
                conf_unref(cfg);
                cfg = fresh;
            }
        }
        /* Signals are delivered only while the main thread waits here. */
        if (ppoll(NULL, 0, &tick, &saved) < 0 && errno != EINTR)
            msg_fatal("ppoll: %s", strerror(errno));
    }

    msg_info("stopping: letting the tasks finish what they claimed");
    atomic_store(&env.stopping, 1);
    while (started > 0) {
        started--;
        tasks[started].stop(state[started]);
        msg_info("%s: stopped", tasks[started].name);
    }
    monitor_stop(monitor);
    dbpool_free(env.pool);
    conf_holder_destroy(&env.conf);
    seal_key_free(seal);
    conf_unref(cfg);
    daemon_remove_pidfile(&opts);
    msg_info("stopped");
    return atomic_load(&env.stopping) && !daemon_stop_requested ? EX_SOFTWARE : EX_OK;
}
