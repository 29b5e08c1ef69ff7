/*
 * main.c -- postgate-tracker: click redirects and the open pixel behind the reverse
 * proxy of the track domains (serve.c), clicks and loads written behind (recorder.c).
 *
 * Lifecycle (daemon.h, CONVENTIONS.md §8): the listening socket (tracker.listen) and
 * the spool directory (tracker.spool_directory, handed to daemon.user and locked) are
 * opened as root, then the process drops to daemon.user; clicks and loads an earlier
 * run left in the spool are queued again before the first request. libmicrohttpd's thread pool
 * answers; the recorder thread writes; the main thread only waits for signals: SIGHUP
 * installs a checked configuration snapshot (trusted proxies, flush interval, the
 * geolocation database), SIGTERM/SIGINT stop accepting, let requests in flight finish
 * (at most DRAIN_SECONDS), write every click and load still queued (retrying for
 * FINAL_RETRY_SECONDS while MariaDB is unavailable) and exit 0.
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

#include "mail/daemon.h"
#include "mail/db.h"
#include "mail/dbpool.h"
#include "mail/monitor.h"
#include "tracker.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/netaddr.h"
#include "util/sock.h"

#define PROGNAME "postgate-tracker"
#define DRAIN_SECONDS 10
#define FINAL_RETRY_SECONDS 30
#define LISTEN_BACKLOG 1024

/* -t: what a start needs beyond a configuration that loaded. */
static int
test_config(const PGCONF *cfg)
{
    char *error = NULL;
    SOCK_SPEC s;
    int problems = 0;

    if (sock_parse(cfg->tracker_listen, &s, &error) < 0) {
        msg_error("tracker.listen: %s", error);
        mem_free(error);
        problems++;
    }
    for (size_t i = 0; i < cfg->tracker_trusted_proxies.count; i++) {
        unsigned char start[NETADDR_LEN], end[NETADDR_LEN];
        int prefix;

        if (netaddr_parse_network(cfg->tracker_trusted_proxies.items[i], start, end, &prefix) < 0) {
            msg_error("tracker.trusted_proxies: \"%s\" is not an address or network",
                      cfg->tracker_trusted_proxies.items[i]);
            problems++;
        }
    }
    if (*cfg->tracker_geoip_database) {
        GEO *geo = geo_open(cfg->tracker_geoip_database);

        if (geo == NULL)
            problems++;
        geo_close(geo);
    }
    return daemon_test_result(cfg, problems);
}

/* The configuration /health reads (the monitor's thread), swapped on SIGHUP. */
static CONF_HOLDER health_conf;

/* /health: MariaDB answers (the tracker has no Postfix socket). */
static int
health(void *arg, char **reason_r)
{
    PGCONF *cfg = conf_holder_get(&health_conf);
    int ret = monitor_check_db(cfg, reason_r);

    (void) arg;
    conf_unref(cfg);
    return ret;
}

int
main(int argc, char **argv)
{
    DAEMON_OPTS opts = {.progname = PROGNAME};
    char *error = NULL;
    sigset_t set, saved;
    unsigned long long queued, written, dropped;
    SERVE *srv;
    MONITOR *monitor;
    DBPOOL *pool;
    PGCONF *cfg;
    size_t lost;
    int fd;

    daemon_parse_args(&opts, argc, argv);
    cfg = daemon_load_config(&opts);
    if (opts.test_config) {
        int status = test_config(cfg);

        conf_unref(cfg);
        return status;
    }
    db_library_init();

    fd = sock_listen(cfg->tracker_listen, LISTEN_BACKLOG, 0666, &error);
    if (fd < 0)
        msg_fatal("tracker.listen: %s", error);
    if (spool_open(cfg->tracker_spool_directory, cfg->daemon_user, &error) < 0)
        msg_fatal("tracker.spool_directory: %s", error);
    daemon_drop_privileges(cfg);
    daemon_install_signals();
    daemon_write_pidfile(&opts);

    /* Request threads and the recorder inherit a mask without the signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &saved);

    pool = dbpool_new(cfg, (unsigned) cfg->tracker_threads + 1);
    recorder_start(pool, (size_t) cfg->tracker_queue_limit, (unsigned) cfg->tracker_flush_interval_ms,
                   cfg->tracker_geoip_database);
    srv = serve_new(cfg, pool);
    if (serve_start(srv, fd, &error) < 0)
        msg_fatal("tracker.listen %s: %s", cfg->tracker_listen, error);
    conf_holder_init(&health_conf, conf_ref(cfg));
    monitor = monitor_start(PROGNAME, cfg->tracker_monitor_listen, health, NULL);
    msg_info("started: listening on %s (%lld threads, writing every %lld ms)", cfg->tracker_listen,
             cfg->tracker_threads, cfg->tracker_flush_interval_ms);

    while (!daemon_stop_requested) {
        struct timespec tick = {1, 0};

        if (daemon_reload_requested) {
            PGCONF *fresh;

            daemon_reload_requested = 0;
            if ((fresh = daemon_reload_config(&opts, cfg)) != NULL) {
                serve_set_config(srv, conf_ref(fresh));
                conf_holder_swap(&health_conf, conf_ref(fresh));
                recorder_configure((unsigned) fresh->tracker_flush_interval_ms, fresh->tracker_geoip_database);
                conf_unref(cfg);
                cfg = fresh;
            }
        }
        /* Signals are delivered only while the main thread waits here. */
        if (ppoll(NULL, 0, &tick, &saved) < 0 && errno != EINTR)
            msg_fatal("ppoll: %s", strerror(errno));
    }

    msg_info("stopping: no new connections; waiting for requests in flight");
    monitor_stop(monitor);
    conf_holder_destroy(&health_conf);
    serve_stop(srv, DRAIN_SECONDS);
    lost = recorder_stop(FINAL_RETRY_SECONDS);
    recorder_counts(&queued, &written, &dropped);
    serve_free(srv);
    dbpool_free(pool);
    conf_unref(cfg);
    daemon_remove_pidfile(&opts);
    msg_info("stopped: %llu clicks and loads recorded, %llu dropped, %zu not written", written, dropped, lost);
    return EX_OK;
}
