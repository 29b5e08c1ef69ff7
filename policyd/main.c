/*
 * main.c -- postgate-policyd: answers Postfix's SASL logins (Dovecot auth protocol,
 * sasl.c), relay policy questions (policy delegation, policy.c) and incoming domain and
 * recipient lookups (socketmap, socketmap.c).
 *
 * Lifecycle (daemon.h, CONVENTIONS.md §8): sockets (or those systemd passed, socket
 * activation) and the seal key are opened as root; then a supervisor (master.c) keeps
 * the sockets and forks the worker, which drops to daemon.user and serves, and forks a
 * new one at once should it die: Postfix's connections wait in the kernel's queue
 * meanwhile instead of finding no socket (smtpd would die without SASL mechanisms and
 * Postfix would throttle it for a minute). One thread per Postfix connection (smtpd
 * keeps a few long-lived ones), at most policyd.max_clients; extra connections are
 * closed with a log line. SIGHUP swaps in a checked configuration snapshot; SIGTERM
 * stops accepting, lets requests in flight finish (at most DRAIN_SECONDS), writes the
 * recorded credential uses and exits 0. A background thread writes those uses every
 * FLUSH_SECONDS. Signals reach only the main thread: connection threads block them.
 */
/* ppoll() and accept4() are Linux (GNU) interfaces. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "ctx.h"
#include "master.h"
#include "mail/credential.h"
#include "mail/daemon.h"
#include "mail/db.h"
#include "mail/monitor.h"
#include "policy.h"
#include "sasl.h"
#include "socketmap.h"
#include "stats.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

#define PROGNAME "postgate-policyd"
#define FLUSH_SECONDS 30
#define DRAIN_SECONDS 10
#define LISTEN_BACKLOG 128
#define THREAD_STACK (512 * 1024)
#define MAX_TRACKED_KEYS 100000
#define MAX_IDLE_DB 16

enum { L_SASL, L_POLICY, L_SOCKETMAP, NLISTENERS };

static const char *const service_names[NLISTENERS] = {"sasl", "policy", "socketmap"};

static PD_CTX ctx;

/* Connection threads in flight; the main thread waits on `idle` when draining. */
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t active_cond = PTHREAD_COND_INITIALIZER;
static unsigned active;

static pthread_mutex_t flush_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flush_cond = PTHREAD_COND_INITIALIZER;

static void
flush_uses(void)
{
    DB *db = dbpool_get(ctx.pool);
    int n = credential_flush_touched(db);

    if (n < 0)
        msg_warn("recording credential last use failed (kept for the next try): %s", db_error(db));
    else if (n > 0)
        msg_debug("recorded the last use of %d credential(s)", n);
    dbpool_put(ctx.pool, db);
}

static void *
flush_thread(void *arg)
{
    struct timespec deadline;

    pthread_mutex_lock(&flush_lock);
    while (!ctx_stopping(&ctx)) {
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += FLUSH_SECONDS;
        while (!ctx_stopping(&ctx) && pthread_cond_timedwait(&flush_cond, &flush_lock, &deadline) != ETIMEDOUT)
            ;
        if (ctx_stopping(&ctx))
            break;
        pthread_mutex_unlock(&flush_lock);
        flush_uses();
        pthread_mutex_lock(&flush_lock);
    }
    pthread_mutex_unlock(&flush_lock);
    return NULL;
}

static void *
conn_thread(void *arg)
{
    CONN *c = arg;

    msg_debug("%s connection %lu: accepted", c->service, c->id);
    if (strcmp(c->service, "sasl") == 0)
        sasl_serve(c);
    else if (strcmp(c->service, "socketmap") == 0)
        socketmap_serve(c);
    else
        policy_serve(c);
    msg_debug("%s connection %lu: closed", c->service, c->id);
    close(c->fd);
    mem_free(c);
    pthread_mutex_lock(&active_lock);
    active--;
    pthread_cond_broadcast(&active_cond);
    pthread_mutex_unlock(&active_lock);
    return NULL;
}

/* Hands an accepted connection to a new thread, or refuses it over max_clients. */
static void
serve(int fd, int which, unsigned max_clients)
{
    static unsigned long next_id = 1;
    static time_t last_refusal_log;
    pthread_attr_t attr;
    pthread_t tid;
    CONN *c;
    int err;

    pthread_mutex_lock(&active_lock);
    if (active >= max_clients) {
        pthread_mutex_unlock(&active_lock);
        if (time(NULL) != last_refusal_log)
            msg_warn("%s: %u connections already served (policyd.max_clients); closing a new one",
                     service_names[which], max_clients);
        last_refusal_log = time(NULL);
        close(fd);
        return;
    }
    active++;
    pthread_mutex_unlock(&active_lock);
    c = mem_zalloc(sizeof(*c));
    c->fd = fd;
    c->id = next_id++;
    c->service = service_names[which];
    c->ctx = &ctx;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    err = pthread_create(&tid, &attr, conn_thread, c);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        msg_error("%s: cannot start a thread: %s; closing the connection", service_names[which], strerror(err));
        close(fd);
        mem_free(c);
        pthread_mutex_lock(&active_lock);
        active--;
        pthread_mutex_unlock(&active_lock);
    }
}

/* Opens a listener as root; a unix socket's directory is created when missing. */
static int
open_listener(const PGCONF *cfg, const char *spec, const char *key)
{
    SOCK_SPEC s;
    char *error = NULL;
    int fd;

    if (sock_parse(spec, &s, &error) < 0)
        msg_fatal_status(EX_CONFIG, "policyd.%s: %s", key, error);
    if ((fd = master_inherited_listener(spec)) >= 0) {
        msg_info("%s: listening on %s (socket passed by systemd)", key, spec);
        return fd;
    }
    if (s.is_unix) {
        char *slash = strrchr(s.path, '/');

        if (slash && slash != s.path) {
            *slash = '\0';
            if (mkdir(s.path, 0755) < 0 && errno != EEXIST)
                msg_fatal("policyd.%s: cannot create directory %s: %s", key, s.path, strerror(errno));
        }
    }
    fd = sock_listen(spec, LISTEN_BACKLOG, 0660, &error);
    if (fd < 0)
        msg_fatal("policyd.%s: %s", key, error);
    daemon_socket_for_postfix(cfg, spec);
    msg_info("%s: listening on %s", key, spec);
    return fd;
}

/* -t: the configuration loaded (daemon_load_config checked every key); check what a
 * start would need beyond it. */
static int
test_config(const PGCONF *cfg)
{
    const char *specs[NLISTENERS] = {cfg->policyd_sasl_listen, cfg->policyd_policy_listen,
                                     cfg->policyd_socketmap_listen};
    const char *keys[NLISTENERS] = {"sasl_listen", "policy_listen", "socketmap_listen"};
    char *error = NULL;
    SOCK_SPEC s;
    int problems = 0;

    for (int i = 0; i < NLISTENERS; i++) {
        if (sock_parse(specs[i], &s, &error) < 0) {
            msg_error("policyd.%s: %s", keys[i], error);
            mem_free(error);
            error = NULL;
            problems++;
        }
    }
    problems += daemon_check_secret_key(cfg);
    return daemon_test_result(cfg, problems);
}

/* Blocks the signals the main thread handles in every thread created from now on. */
static void
block_signals(sigset_t *saved)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, saved);
}

/* Waits for connection threads to finish, at most DRAIN_SECONDS; 1 when all did. */
static int
drain(void)
{
    struct timespec deadline;
    int done;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DRAIN_SECONDS;
    pthread_mutex_lock(&active_lock);
    while (active > 0 && pthread_cond_timedwait(&active_cond, &active_lock, &deadline) != ETIMEDOUT)
        ;
    done = active == 0;
    if (!done)
        msg_warn("%u connection(s) still busy after %d s; exiting anyway", active, DRAIN_SECONDS);
    pthread_mutex_unlock(&active_lock);
    return done;
}

/* /health: MariaDB answers and the three sockets Postfix uses are there. */
static int
health(void *arg, char **reason_r)
{
    PGCONF *cfg = ctx_config(&ctx);
    int ret = -1;

    (void) arg;
    if (monitor_check_socket("policyd.sasl_listen", cfg->policyd_sasl_listen, reason_r) == 0
        && monitor_check_socket("policyd.policy_listen", cfg->policyd_policy_listen, reason_r) == 0
        && monitor_check_socket("policyd.socketmap_listen", cfg->policyd_socketmap_listen, reason_r) == 0)
        ret = monitor_check_db(cfg, reason_r);
    conf_unref(cfg);
    return ret;
}

int
main(int argc, char **argv)
{
    DAEMON_OPTS opts = {.progname = PROGNAME};
    struct pollfd pfd[NLISTENERS];
    MONITOR *monitor;
    char *error = NULL;
    pthread_t flusher;
    sigset_t saved;
    PGCONF *cfg;
    unsigned max_clients;

    daemon_parse_args(&opts, argc, argv);
    cfg = daemon_load_config(&opts);
    if (opts.test_config) {
        int status = test_config(cfg);

        conf_unref(cfg);
        return status;
    }
    db_library_init();
    pfd[L_SASL].fd = open_listener(cfg, cfg->policyd_sasl_listen, "sasl_listen");
    pfd[L_POLICY].fd = open_listener(cfg, cfg->policyd_policy_listen, "policy_listen");
    pfd[L_SOCKETMAP].fd = open_listener(cfg, cfg->policyd_socketmap_listen, "socketmap_listen");
    master_inherited_done();
    ctx.seal = seal_key_load(cfg->security_secret_key_file, &error);
    if (ctx.seal == NULL)
        msg_fatal_status(EX_CONFIG, "%s: security.secret_key_file: %s (CRAM-MD5 needs it)",
                         cfg->origin[CONF_K_security_secret_key_file], error);
    daemon_write_pidfile(&opts);
    master_run(&opts);
    /* The worker, from here on; the supervisor owns the pid file. */
    opts.pid_file = NULL;
    daemon_drop_privileges(cfg);
    daemon_install_signals();
    master_watch_supervisor();

    conf_holder_init(&ctx.config, cfg);
    stats_init();
    max_clients = (unsigned) cfg->policyd_max_clients;
    ctx.pool = dbpool_new(cfg, max_clients < MAX_IDLE_DB ? max_clients : MAX_IDLE_DB);
    ctx.auth_failures = throttle_new("SASL failure throttle", MAX_TRACKED_KEYS);
    ctx.rates = throttle_new("rate limit", MAX_TRACKED_KEYS);
    if (gethostname(ctx.hostname, sizeof(ctx.hostname) - 1) < 0 || ctx.hostname[0] == '\0')
        snprintf(ctx.hostname, sizeof(ctx.hostname), "localhost");

    block_signals(&saved);
    monitor = monitor_start(PROGNAME, cfg->policyd_monitor_listen, health, NULL);
    if (pthread_create(&flusher, NULL, flush_thread, NULL) != 0)
        msg_fatal("cannot start the flush thread");
    for (int i = 0; i < NLISTENERS; i++)
        pfd[i].events = POLLIN;
    msg_info("started (max_clients %u)", max_clients);

    while (!daemon_stop_requested) {
        /* Signals are delivered only while the main thread waits in ppoll. */
        if (daemon_reload_requested) {
            PGCONF *fresh;

            daemon_reload_requested = 0;
            fresh = daemon_reload_config(&opts, ctx.config.cfg);
            if (fresh)
                ctx_swap_config(&ctx, fresh);
        }
        struct timespec tick = {1, 0};

        if (ppoll(pfd, NLISTENERS, &tick, &saved) < 0) {
            if (errno != EINTR)
                msg_fatal("poll: %s", strerror(errno));
            continue;
        }
        for (int i = 0; i < NLISTENERS; i++) {
            if (pfd[i].revents & POLLIN) {
                int fd = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);

                if (fd >= 0)
                    serve(fd, i, max_clients);
                else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                    msg_warn("%s: accept: %s", service_names[i], strerror(errno));
            }
        }
    }

    msg_info("stopping: no new connections; waiting for requests in flight");
    for (int i = 0; i < NLISTENERS; i++)
        close(pfd[i].fd);
    atomic_store(&ctx.stopping, 1);
    pthread_mutex_lock(&flush_lock);
    pthread_cond_broadcast(&flush_cond);
    pthread_mutex_unlock(&flush_lock);
    pthread_join(flusher, NULL);
    if (!drain()) {
        /* Busy threads still use the context: record the uses and leave it be. */
        flush_uses();
        daemon_remove_pidfile(&opts);
        msg_info("stopped");
        exit(EX_OK);
    }
    flush_uses();
    monitor_stop(monitor);
    dbpool_free(ctx.pool);
    throttle_free(ctx.auth_failures);
    throttle_free(ctx.rates);
    seal_key_free(ctx.seal);
    conf_holder_destroy(&ctx.config);
    daemon_remove_pidfile(&opts);
    msg_info("stopped");
    return EX_OK;
}
