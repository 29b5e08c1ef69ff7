/*
 * admin_main.c -- postgate-admin: the HTTP service for Postal's API v1 (api_v1.c), the
 * management API v2 (mgmt_v2.c, auth.c), GET /health, the signing keys' JWKS (jwks.c) and the
 * web UI's static files (static.c, from admin.www_dir, for every other GET), on the HTTP layer
 * of http.c.
 *
 * Lifecycle (daemon.h, CONVENTIONS.md §8): the listening socket (admin.listen), the seal
 * key (the send API signs its submissions with it) and any TLS certificate are opened as
 * root, then the process drops to daemon.user. libmicrohttpd's thread pool serves the
 * requests; the main thread only waits for signals: SIGHUP installs a checked
 * configuration snapshot (reloadable keys such as admin.max_body_size and
 * admin.trusted_proxies take effect for the next request), SIGTERM stops accepting, lets
 * requests in flight finish (at most DRAIN_SECONDS), records credential uses and exits 0.
 * Credential and personal API token uses are written every FLUSH_SECONDS. The password
 * policy (passwords.*, with its breached list) is built once at start and shared read-only.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "api_v1.h"
#include "api_v1_lookup.h"
#include "auth.h"
#include "autoconfig.h"
#include "http.h"
#include "jwks.h"
#include "mail/address.h"
#include "mail/credential.h"
#include "mail/daemon.h"
#include "mail/db.h"
#include "mail/dbpool.h"
#include "mail/monitor.h"
#include "mail/outaddr.h"
#include "mail/pwpolicy.h"
#include "mgmt_v2.h"
#include "static.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

#define PROGNAME "postgate-admin"
#define FLUSH_SECONDS 30
#define DRAIN_SECONDS 10
#define LISTEN_BACKLOG 128
#define MAX_PEM_SIZE (1024 * 1024)

static API_V1 api;
static MGMT_V2 mgmt;

/* GET /health: 200 when MariaDB answers, 503 when it does not. */
static void
health(HTTP_REQUEST *req, void *arg)
{
    API_V1 *a = arg;
    DB *db = dbpool_get(a->pool);
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT 1", DB_NOARGS);

    db_result_free(res);
    if (ret < 0) {
        msg_warn("health check: database: %s", db_error(db));
        http_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure", "The database cannot be reached.");
    } else {
        http_reply_json(req, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
    }
    dbpool_put(a->pool, db);
}

static const HTTP_ROUTE routes[] = {
    {"GET", "/health", health, &api, 0},
    {"GET", "/.well-known/jwks.json", jwks_get, &api.pool, 0},
    {"POST", "/api/v1/send/message", api_v1_send_message, &api, 0},
    {"POST", "/api/v1/send/raw", api_v1_send_raw, &api, 0},
    {"POST", "/api/v1/messages/message", api_v1_messages_message, &api, 0},
    {"POST", "/api/v1/messages/deliveries", api_v1_messages_deliveries, &api, 0},
    /* Mail clients' autoconfiguration of hosted mailboxes (autoconfig.h); Outlook's request is small. */
    {"GET", "/mail/config-v1.1.xml", autoconfig_thunderbird_get, &api.pool, 0},
    {"GET", "/.well-known/autoconfig/mail/config-v1.1.xml", autoconfig_thunderbird_get, &api.pool, 0},
    {"POST", "/autodiscover/autodiscover.xml", autoconfig_outlook_post, &api.pool, 16384},
    {"POST", "/Autodiscover/Autodiscover.xml", autoconfig_outlook_post, &api.pool, 16384},
    {"GET", "/mail/apple.mobileconfig", autoconfig_apple_get, &api.pool, 0},
};

/* Reads a PEM file (as root, before privileges are dropped). NULL with *error_r. */
static char *
read_pem(const char *path, char **error_r)
{
    FILE *fp = fopen(path, "r");
    BUF *b;
    char chunk[4096];
    size_t n;

    if (fp == NULL) {
        *error_r = buf_asprintf("%s: %s", path, strerror(errno));
        return NULL;
    }
    b = buf_new(4096);
    buf_set_limit(b, MAX_PEM_SIZE);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (buf_append(b, chunk, n) < 0) {
            *error_r = buf_asprintf("%s: larger than %d bytes", path, MAX_PEM_SIZE);
            fclose(fp);
            buf_free(b);
            return NULL;
        }
    }
    if (ferror(fp)) {
        *error_r = buf_asprintf("%s: %s", path, strerror(errno));
        fclose(fp);
        buf_free(b);
        return NULL;
    }
    fclose(fp);
    return buf_steal(b, NULL);
}

/* -t: what a start needs beyond a configuration that loaded. */
/*
 * A listener only loopback can reach is meant for a reverse proxy on this host; with no
 * admin.trusted_proxies its X-Forwarded-For is ignored, so every client has the proxy's
 * address: the per-address login throttle then counts all of them together (one
 * client's failed logins make everyone wait), and logs cannot name a client.
 */
static void
warn_untrusted_proxy(const PGCONF *cfg)
{
    SOCK_SPEC s;
    char *error = NULL;

    if (cfg->admin_trusted_proxies.count > 0 || sock_parse(cfg->admin_listen, &s, &error) < 0) {
        mem_free(error);
        return;
    }
    if (s.is_unix || strncmp(s.host, "127.", 4) == 0 || strcmp(s.host, "::1") == 0 || strcmp(s.host, "[::1]") == 0
        || strcmp(s.host, "localhost") == 0)
        msg_warn("admin.listen %s is reachable from this host only and admin.trusted_proxies is empty: if a "
                 "reverse proxy forwards to it, every client appears as the proxy's address, so one client's "
                 "failed logins make every user wait (the per-address login throttle) and logs cannot tell "
                 "clients apart; set admin.trusted_proxies to the proxy's address (e.g. 127.0.0.1)",
                 cfg->admin_listen);
}

static int
test_config(const PGCONF *cfg)
{
    char *error = NULL;
    SOCK_SPEC s;
    int problems = 0;

    if (sock_parse(cfg->admin_listen, &s, &error) < 0) {
        msg_error("admin.listen: %s", error);
        mem_free(error);
        error = NULL;
        problems++;
    }
    problems += daemon_check_secret_key(cfg);
    {
        OUTADDR_ALLOW *allow = outaddr_allow_parse(&cfg->security_outbound_allowed_networks, &error);

        if (allow == NULL) {
            msg_error("%s", error);
            mem_free(error);
            error = NULL;
            problems++;
        }
        outaddr_allow_free(allow);
    }
    {
        PWPOLICY *policy = pwpolicy_from_config(cfg, &error);

        if (policy == NULL) {
            msg_error("%s", error);
            mem_free(error);
            error = NULL;
            problems++;
        }
        pwpolicy_free(policy);
    }
    if (!*cfg->admin_tls_certificate != !*cfg->admin_tls_key) {
        msg_error("admin.tls_certificate and admin.tls_key must be set together");
        problems++;
    } else if (*cfg->admin_tls_certificate) {
        const char *paths[2] = {cfg->admin_tls_certificate, cfg->admin_tls_key};

        for (int i = 0; i < 2; i++) {
            char *pem = read_pem(paths[i], &error);

            if (pem == NULL) {
                msg_error("admin.%s: %s", i ? "tls_key" : "tls_certificate", error);
                mem_free(error);
                error = NULL;
                problems++;
            }
            mem_free(pem);
        }
    }
    return daemon_test_result(cfg, problems);
}

static void
flush_uses(void)
{
    DB *db = dbpool_get(api.pool);
    int n = credential_flush_touched(db);

    if (n < 0)
        msg_warn("recording credential last use failed (kept for the next try): %s", db_error(db));
    if (auth_flush_touched(db) < 0)
        msg_warn("recording API token last use failed (kept for the next try): %s", db_error(db));
    dbpool_put(api.pool, db);
}

/* The configuration /health reads (the monitor's thread), swapped on SIGHUP. */
static CONF_HOLDER health_conf;

/* The monitor listener's /health: MariaDB answers. */
static int
monitor_health(void *arg, char **reason_r)
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
    char *error = NULL, *cert = NULL, *key = NULL;
    sigset_t set, saved;
    HTTP_SERVER *srv;
    MONITOR *monitor;
    HTTP_ROUTE *all_routes;
    size_t nroutes;
    SEAL_KEY *seal;
    PWPOLICY *pwpolicy;
    OIDC *oidc;
    STATIC_SITE *site;
    PGCONF *cfg;
    time_t last_flush;
    int fd;

    daemon_parse_args(&opts, argc, argv);
    cfg = daemon_load_config(&opts);
    if (opts.test_config) {
        int status = test_config(cfg);

        conf_unref(cfg);
        return status;
    }
    db_library_init();
    address_init();

    /* As root: the socket, the seal key and the TLS files. */
    fd = sock_listen(cfg->admin_listen, LISTEN_BACKLOG, 0660, &error);
    if (fd < 0)
        msg_fatal("admin.listen: %s", error);
    seal = seal_key_load(cfg->security_secret_key_file, &error);
    if (seal == NULL)
        msg_fatal_status(EX_CONFIG, "%s: security.secret_key_file: %s (the send API needs it)",
                         cfg->origin[CONF_K_security_secret_key_file], error);
    if (!*cfg->admin_tls_certificate != !*cfg->admin_tls_key)
        msg_fatal_status(EX_CONFIG, "admin.tls_certificate and admin.tls_key must be set together");
    if (*cfg->admin_tls_certificate) {
        if ((cert = read_pem(cfg->admin_tls_certificate, &error)) == NULL
            || (key = read_pem(cfg->admin_tls_key, &error)) == NULL)
            msg_fatal_status(EX_CONFIG, "admin TLS: %s", error);
    }
    /* The password policy's breached list is read once, here (passwords.* need a restart). */
    if ((pwpolicy = pwpolicy_from_config(cfg, &error)) == NULL)
        msg_fatal_status(EX_CONFIG, "%s", error);
    /* OpenID Connect: oidc.secret is opened with the seal key (oidc.* need a restart). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        msg_fatal("libcurl cannot be initialized");
    if ((oidc = oidc_new(cfg, seal, &error)) == NULL)
        msg_fatal_status(EX_CONFIG, "%s", error);
    if (oidc_enabled(oidc))
        msg_info("OpenID Connect sign-in through %s (%s)%s", cfg->oidc_issuer, cfg->oidc_name,
                 oidc_local_enabled(oidc) ? "" : "; local authentication is disabled");
    daemon_drop_privileges(cfg);
    daemon_install_signals();
    daemon_write_pidfile(&opts);

    api.pool = dbpool_new(cfg, (unsigned) cfg->admin_threads);
    api_v1_lookup_init((unsigned) cfg->admin_cache_ttl);
    api.seal = seal;
    mgmt.pool = api.pool;
    mgmt.seal = seal;
    mgmt.pwpolicy = pwpolicy;
    mgmt.oidc = oidc;

    /* Pool threads inherit a mask without the signals the main thread waits for. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &saved);

    all_routes = mgmt_v2_routes(&mgmt, routes, sizeof(routes) / sizeof(routes[0]), &nroutes);
    srv = http_server_new(cfg, all_routes, nroutes);
    /* Resolved as daemon.user, so an unreadable directory is reported now. */
    site = static_site_new(cfg->admin_www_dir, &error);
    if (error) {
        msg_warn("admin.www_dir %s; the web UI is not served", error);
        mem_free(error);
        error = NULL;
    }
    http_server_set_fallback(srv, static_serve, site);
    if (http_server_start(srv, fd, cert, key, &error) < 0)
        msg_fatal("admin.listen %s: %s", cfg->admin_listen, error);
    if (key) {
        explicit_bzero(key, strlen(key));
        mem_free(key);
        key = NULL;
    }
    mem_free(cert);
    warn_untrusted_proxy(cfg);
    conf_holder_init(&health_conf, conf_ref(cfg));
    monitor = monitor_start(PROGNAME, cfg->admin_monitor_listen, monitor_health, NULL);
    msg_info("started: listening on %s%s (%lld requests at once)", cfg->admin_listen,
             *cfg->admin_tls_certificate ? " (TLS)" : "", cfg->admin_threads);

    last_flush = clock_mono_seconds();
    while (!daemon_stop_requested) {
        struct timespec tick = {1, 0};

        if (daemon_reload_requested) {
            PGCONF *fresh;

            daemon_reload_requested = 0;
            fresh = daemon_reload_config(&opts, cfg);
            if (fresh) {
                http_server_set_config(srv, conf_ref(fresh));
                conf_holder_swap(&health_conf, conf_ref(fresh));
                conf_unref(cfg);
                cfg = fresh;
            }
        }
        /* Signals are delivered only while the main thread waits here. */
        if (ppoll(NULL, 0, &tick, &saved) < 0 && errno != EINTR)
            msg_fatal("ppoll: %s", strerror(errno));
        if (clock_mono_seconds() - last_flush >= FLUSH_SECONDS) {
            flush_uses();
            last_flush = clock_mono_seconds();
        }
    }

    msg_info("stopping: no new connections; waiting for requests in flight");
    monitor_stop(monitor);
    conf_holder_destroy(&health_conf);
    http_server_stop(srv, DRAIN_SECONDS);
    http_server_free(srv);
    static_site_free(site);
    mem_free(all_routes);
    flush_uses();
    dbpool_free(api.pool);
    api_v1_lookup_done();
    seal_key_free(seal);
    pwpolicy_free(pwpolicy);
    oidc_free(oidc);
    curl_global_cleanup();
    conf_unref(cfg);
    daemon_remove_pidfile(&opts);
    msg_info("stopped");
    return EX_OK;
}
