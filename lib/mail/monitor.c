/*
 * monitor.c -- the health and metrics listener (monitor.h), on libmicrohttpd, and its
 * probe (libcurl) for postgatectl status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "mail/db.h"
#include "mail/monitor.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/metrics.h"
#include "util/msg.h"
#include "util/sock.h"

#define CONNECTION_LIMIT 16
#define CONNECTION_TIMEOUT 10           /* seconds */

struct monitor {
    struct MHD_Daemon *daemon;
    MONITOR_HEALTH_FN *health;
    void *arg;
    char *program;
};

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, const char *type, const char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method, const char *version,
           const char *upload, size_t *upload_len, void **state)
{
    MONITOR *m = cls;
    static const char text[] = "text/plain; charset=utf-8";
    enum MHD_Result ret;

    (void) version;
    (void) upload;
    if (*state == NULL) {               /* headers only: answer on the next call */
        *state = m;
        return MHD_YES;
    }
    if (*upload_len) {
        *upload_len = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/health") != 0 && strcmp(url, "/metrics") != 0)
        return answer(conn, MHD_HTTP_NOT_FOUND, text, "Not found: /health and /metrics only\n", 37);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);

        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/health") == 0) {
        char *reason = NULL;

        if (m->health(m->arg, &reason) == 0)
            return answer(conn, MHD_HTTP_OK, text, "OK\n", 3);
        BUF *b = buf_new(128);

        buf_printf(b, "%s\n", reason ? reason : "unhealthy");
        msg_warn("health check: %s", reason ? reason : "unhealthy");
        ret = answer(conn, MHD_HTTP_SERVICE_UNAVAILABLE, text, buf_cstr(b), buf_len(b));
        buf_free(b);
        mem_free(reason);
        return ret;
    }
    BUF *b = buf_new(8192);

    metrics_render(b);
    ret = answer(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf_cstr(b), buf_len(b));
    buf_free(b);
    return ret;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    BUF *b = buf_new(128);

    (void) cls;
    buf_vprintf(b, fmt, ap);
    msg_warn("monitor: libmicrohttpd: %s", buf_cstr(b));
    buf_free(b);
}

MONITOR *
monitor_start(const char *program, const char *spec, MONITOR_HEALTH_FN *health, void *arg)
{
    MONITOR *m;
    sigset_t all, old;
    char *error = NULL, *version;
    int fd, fl;

    metrics_set(metrics_gauge("postgate_up", "1 while the process runs", NULL), 1);
    version = buf_asprintf("program=\"%s\",version=\"%s\"", program, PACKAGE_VERSION);
    metrics_set(metrics_gauge("postgate_build_info", "the program and its version (always 1)", version), 1);
    mem_free(version);
    if (spec == NULL || *spec == '\0')
        return NULL;
    if ((fd = sock_listen(spec, 16, 0660, &error)) < 0) {
        msg_warn("%s: no /health or /metrics: cannot listen on %s: %s; running on without them", program, spec,
                 error);
        mem_free(error);
        return NULL;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    m = mem_zalloc(sizeof(*m));
    m->health = health;
    m->arg = arg;
    m->program = mem_strdup(program);
    /* Its thread takes no process signal: those belong to the daemon's own handling
     * (libmilter's signal thread, sigwait loops), whatever the daemon has blocked yet. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, m, MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned) CONNECTION_LIMIT,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) CONNECTION_TIMEOUT, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (m->daemon == NULL) {
        msg_warn("%s: no /health or /metrics: libmicrohttpd could not start on %s", program, spec);
        close(fd);
        mem_free(m->program);
        mem_free(m);
        return NULL;
    }
    msg_info("%s: /health and /metrics on %s", program, spec);
    return m;
}

void
monitor_stop(MONITOR *m)
{
    if (m == NULL)
        return;
    MHD_stop_daemon(m->daemon);
    mem_free(m->program);
    mem_free(m);
}

int
monitor_check_db(const PGCONF *cfg, char **reason_r)
{
    DB *db = db_new(cfg);
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT 1", DB_NOARGS);

    db_result_free(res);
    if (ret < 0)
        *reason_r = buf_asprintf("MariaDB: %s", db_error(db));
    db_free(db);
    return ret < 0 ? -1 : 0;
}

int
monitor_check_socket(const char *what, const char *spec, char **reason_r)
{
    SOCK_SPEC s;
    struct stat st;
    char *error = NULL;

    if (sock_parse(spec, &s, &error) < 0) {
        *reason_r = buf_asprintf("%s: %s", what, error);
        mem_free(error);
        return -1;
    }
    if (!s.is_unix)
        return 0;
    if (stat(s.path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        *reason_r = buf_asprintf("%s: socket %s is missing", what, s.path);
        return -1;
    }
    return 0;
}

#define PROBE_BODY_MAX 4096

static size_t
probe_write(char *data, size_t size, size_t nmemb, void *arg)
{
    BUF *b = arg;
    size_t n = size * nmemb;

    if (buf_len(b) < PROBE_BODY_MAX)
        buf_append(b, data, n > PROBE_BODY_MAX - buf_len(b) ? PROBE_BODY_MAX - buf_len(b) : n);
    return n;
}

int
monitor_probe(const char *spec, long timeout_ms, long *http_status_r, char **body_r, char **error_r)
{
    SOCK_SPEC s;
    CURL *curl;
    CURLcode rc;
    BUF *body;
    char *url;
    int ret;

    *http_status_r = 0;
    *body_r = NULL;
    if (sock_parse(spec, &s, error_r) < 0)
        return 0;
    if (s.is_unix)
        url = mem_strdup("http://localhost/health");
    else
        url = buf_asprintf(strchr(s.host, ':') ? "http://[%s]:%s/health" : "http://%s:%s/health", s.host, s.port);
    body = buf_new(256);
    curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (s.is_unix)
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, s.path);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, probe_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http_status_r);
        *body_r = mem_strndup(buf_cstr(body), strcspn(buf_cstr(body), "\r\n"));
        ret = 1;
    } else {
        *error_r = buf_asprintf("%s: %s", spec, curl_easy_strerror(rc));
        ret = 0;
    }
    curl_easy_cleanup(curl);
    buf_free(body);
    mem_free(url);
    return ret;
}
