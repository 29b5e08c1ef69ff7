/*
 * http.c -- the HTTP layer of postgate-admin on libmicrohttpd (http.h).
 *
 * libmicrohttpd calls on_request() several times per request: once when the headers
 * are in (the route is chosen, its "{}" segments captured, and a Content-Length over
 * the limit -- admin.max_body_size or the route's smaller max_body -- is refused before
 * a byte of body is read), once per piece of body (gathered into a BUF with a hard
 * limit, and for form bodies also fed to MHD's form parser), and once at the end, when
 * the handler runs. A chunked body that passes the limit is read and dropped, and the
 * answer is 413. on_completed() logs the request and frees its state. libmicrohttpd
 * has already split off the query string and URL-decoded the path it hands us.
 * Each connection has a thread of its own (a handler blocks: MariaDB, an SMTP injection,
 * an OpenID provider), so a slow call never holds up another connection's requests; at
 * most admin.threads handlers run at once (each holds a MariaDB connection), the others
 * wait for a slot with their request read. A GET
 * or HEAD that no route matches (with any method) goes to the fallback handler when
 * one is set (the web UI's files, static.c); HEAD answers lose their body in MHD.
 *
 * Must never: exit in a callback (every failure becomes an answer: JSON from the layer),
 * queue a second answer for one request, or put CR/LF into a header of the answer.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "http_req.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/netaddr.h"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result MHD_RESULT;
#else
typedef int MHD_RESULT;
#endif

#define HTTP_CONNECTION_LIMIT 1024
#define HTTP_CONNECTION_TIMEOUT 60      /* seconds a connection may stay silent */
#define HTTP_POST_BUFFER 16384
#define PATH_ARG_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+*-"
/* 413 by number: its MHD name changed between versions. */
#define HTTP_TOO_LARGE 413
#define HTTP_FALLBACK_MAX_BODY 1024     /* the fallback serves GET and HEAD: no body expected */

struct http_server {
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;       /* guards active and running */
    pthread_cond_t idle;
    pthread_cond_t slot_free;
    unsigned slots;             /* admin.threads: handlers that run at once */
    unsigned running;
    CONF_HOLDER config;         /* the current snapshot; each request holds its own reference */
    const HTTP_ROUTE *routes;
    size_t nroutes;
    HTTP_ROUTE fallback;        /* GET/HEAD that no route matches, when handler is set */
    unsigned active;            /* requests between their first call and completion */
    int listen_fd;
    int tls;                    /* serving HTTPS itself */
};


/* ---------------------------------------------------------------- request helpers */

const char *
http_header(HTTP_REQUEST *req, const char *name)
{
    return MHD_lookup_connection_value(((REQ *) req)->conn, MHD_HEADER_KIND, name);
}

const char *
http_form_value(HTTP_REQUEST *req, const char *name, size_t *len_r)
{
    REQ *r = (REQ *) req;

    for (size_t i = r->nfields; i-- > 0;) {
        if (strcmp(r->fields[i].name, name) == 0) {
            if (len_r)
                *len_r = buf_len(r->fields[i].value);
            return buf_cstr(r->fields[i].value);
        }
    }
    return NULL;
}

double
http_elapsed(const HTTP_REQUEST *req)
{
    const REQ *r = (const REQ *) req;
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - r->start.tv_sec) + (double) (now.tv_nsec - r->start.tv_nsec) / 1e9;
}

void
http_set_credential(HTTP_REQUEST *req, unsigned long long credential_id)
{
    ((REQ *) req)->credential_id = credential_id;
}

void
http_set_user(HTTP_REQUEST *req, unsigned long long user_id)
{
    ((REQ *) req)->user_id = user_id;
}

const char *
http_path_arg(HTTP_REQUEST *req, size_t n)
{
    REQ *r = (REQ *) req;

    return n < r->nargs ? r->args[n] : NULL;
}

const char *
http_query(HTTP_REQUEST *req, const char *name)
{
    return MHD_lookup_connection_value(((REQ *) req)->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_cookie(HTTP_REQUEST *req, const char *name)
{
    return MHD_lookup_connection_value(((REQ *) req)->conn, MHD_COOKIE_KIND, name);
}

void
http_request_again(HTTP_REQUEST *req)
{
    ((REQ *) req)->again = 1;
}

void
http_add_header(HTTP_REQUEST *req, const char *name, const char *value)
{
    REQ *r = (REQ *) req;

    if (r->answered || r->nheaders == HTTP_MAX_HEADERS || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
        msg_error("%s %s: header %s refused (answered, too many, or CR/LF in it)", r->method, r->path, name);
        return;
    }
    r->headers[r->nheaders][0] = mem_strdup(name);
    r->headers[r->nheaders][1] = mem_strdup(value);
    r->nheaders++;
}

void
http_set_cookie(HTTP_REQUEST *req, const char *cookie_line)
{
    http_add_header(req, MHD_HTTP_HEADER_SET_COOKIE, cookie_line);
}

/* Is addr (text) inside one of the trusted proxies (addresses or CIDR networks)? */
static int
trusted_proxy(const PGCONF *cfg, const char *addr)
{
    return netaddr_in_networks(addr, (const char *const *) cfg->admin_trusted_proxies.items,
                               cfg->admin_trusted_proxies.count);
}

/* MHD_get_connection_values callback: joins every X-Forwarded-For line in order. */
static enum MHD_Result
xff_line(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    if (strcasecmp(key, "X-Forwarded-For") == 0 && value)
        netaddr_xff_append(cls, value);
    return MHD_YES;
}

/* The client's address: netaddr_client()'s rule over the peer, every X-Forwarded-For
 * line (joined) and admin.trusted_proxies. */
static void
find_client_ip(REQ *r)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    BUF *joined = buf_new(64);
    const char *xff;

    snprintf(r->client_ip, sizeof(r->client_ip), "unknown");
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;
        socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

        if (getnameinfo(sa, len, r->client_ip, sizeof(r->client_ip), NULL, 0, NI_NUMERICHOST) != 0)
            snprintf(r->client_ip, sizeof(r->client_ip), "unknown");
        if (strncmp(r->client_ip, "::ffff:", 7) == 0 && strchr(r->client_ip, '.'))
            memmove(r->client_ip, r->client_ip + 7, strlen(r->client_ip + 7) + 1);
    }
    r->pub.secure = r->srv->tls;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, xff_line, joined);
    xff = buf_len(joined) ? buf_cstr(joined) : NULL;
    if (!r->pub.secure && trusted_proxy(r->pub.cfg, r->client_ip)) {
        /* As for X-Forwarded-For, the last value is what the trusted proxy saw itself. */
        const char *xfp = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
        const char *last = xfp ? strrchr(xfp, ',') : NULL;

        if (xfp) {
            last = last ? last + 1 : xfp;
            last += strspn(last, " \t");
            r->pub.secure = strncasecmp(last, "https", 5) == 0 && (last[5] == '\0' || strchr(" \t", last[5]));
        }
    }
    if (xff && strcmp(r->client_ip, "unknown") != 0) {
        char peer[sizeof(r->client_ip)];

        memcpy(peer, r->client_ip, sizeof(peer));
        if (netaddr_client(peer, xff, (const char *const *) r->pub.cfg->admin_trusted_proxies.items,
                           r->pub.cfg->admin_trusted_proxies.count, r->client_ip, sizeof(r->client_ip)) < 0)
            snprintf(r->client_ip, sizeof(r->client_ip), "unknown");
    }
    buf_free(joined);
    r->pub.client_ip = r->client_ip;
}

static int
is_form_type(const char *ct)
{
    return ct && (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0
                  || strncasecmp(ct, "multipart/form-data", 19) == 0);
}

/* MHD's form parser hands each field in pieces; off == 0 starts a value. */
static MHD_RESULT
on_form_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
              const char *content_type, const char *transfer_encoding, const char *data,
              uint64_t off, size_t size)
{
    REQ *r = cls;
    FORM_FIELD *f = r->nfields ? &r->fields[r->nfields - 1] : NULL;

    if (key == NULL)
        return MHD_YES;
    if (f == NULL || off == 0 || strcmp(f->name, key) != 0) {
        if (r->nfields == HTTP_MAX_FIELDS) {
            r->form_bad = 1;
            return MHD_NO;
        }
        f = &r->fields[r->nfields++];
        f->name = mem_strdup(key);
        f->value = buf_new(size + 1);
        buf_set_limit(f->value, r->limit);
    }
    if (size && buf_append(f->value, data, size) < 0) {
        r->too_large = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

/* ---------------------------------------------------------------- the MHD callbacks */

static REQ *
req_new(HTTP_SERVER *srv, struct MHD_Connection *conn, const char *url, const char *method)
{
    REQ *r = mem_zalloc(sizeof(*r));

    clock_gettime(CLOCK_MONOTONIC, &r->start);
    r->srv = srv;
    r->conn = conn;
    r->method = mem_strdup(method);
    r->path = mem_strdup(url);
    r->pub.cfg = conf_holder_get(&srv->config);
    pthread_mutex_lock(&srv->lock);
    srv->active++;
    pthread_mutex_unlock(&srv->lock);
    r->pub.method = r->method;
    r->pub.path = r->path;
    r->limit = (size_t) r->pub.cfg->admin_max_body_size;
    r->pub.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    r->pub.body = (const unsigned char *) "";
    find_client_ip(r);
    return r;
}

static void
req_free(REQ *r)
{
    HTTP_SERVER *srv = r->srv;

    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    if (r->held)
        MHD_destroy_response(r->held);
    for (size_t i = 0; i < r->nfields; i++) {
        mem_free(r->fields[i].name);
        buf_free(r->fields[i].value);
    }
    for (size_t i = 0; i < r->nargs; i++)
        mem_free(r->args[i]);
    for (size_t i = 0; i < r->nheaders; i++) {
        mem_free(r->headers[i][0]);
        mem_free(r->headers[i][1]);
    }
    if (r->body)
        buf_free(r->body);
    conf_unref(r->pub.cfg);
    mem_free(r->method);
    mem_free(r->path);
    mem_free(r);
    pthread_mutex_lock(&srv->lock);
    srv->active--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

static const char *
too_large_message(const REQ *r)
{
    return r->limit < (size_t) r->pub.cfg->admin_max_body_size
        ? "The request body is larger than this path accepts."
        : "The request body is larger than this server accepts (admin.max_body_size).";
}

/* Does path match pattern? Each "{}" of pattern takes one whole segment of path, which
 * is stored in r->args when r is not NULL. */
static int
route_match(const char *pattern, const char *path, REQ *r)
{
    size_t nargs = 0;

    for (;;) {
        size_t pn = strcspn(pattern, "/"), n = strcspn(path, "/");

        if (pn == 2 && memcmp(pattern, "{}", 2) == 0) {
            if (n == 0 || n > HTTP_MAX_PATH_ARG_LEN || strspn(path, PATH_ARG_CHARS) < n
                || (n == 1 && path[0] == '.') || (n == 2 && memcmp(path, "..", 2) == 0)
                || nargs == HTTP_MAX_PATH_ARGS)
                return 0;
            if (r)
                r->args[r->nargs++] = mem_strndup(path, n);
            nargs++;
        } else if (pn != n || memcmp(pattern, path, n) != 0) {
            return 0;
        }
        pattern += pn;
        path += n;
        if (*pattern == '\0' || *path == '\0')
            return *pattern == *path;
        pattern++;      /* both at '/' */
        path++;
    }
}

/* Chooses the route; answers 404 / 405 / 413 at once when there is nothing to read for. */
static void
first_call(REQ *r)
{
    const HTTP_SERVER *srv = r->srv;
    const char *cl;
    BUF *allow = NULL;

    for (size_t i = 0; i < srv->nroutes; i++) {
        if (!route_match(srv->routes[i].path, r->path, NULL))
            continue;
        if (strcmp(srv->routes[i].method, r->method) == 0) {
            r->route = &srv->routes[i];
            break;
        }
        if (allow == NULL)
            allow = buf_new(32);
        else
            buf_append_str(allow, ", ");
        buf_append_str(allow, srv->routes[i].method);
    }
    if (r->route == NULL && allow == NULL && srv->fallback.handler
        && (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0))
        r->route = &srv->fallback;
    if (r->route == NULL) {
        if (allow) {
            char *message = buf_asprintf("%s is not allowed here (allowed: %s).", r->method, buf_cstr(allow));

            http_req_reply(r, MHD_HTTP_METHOD_NOT_ALLOWED, http_req_error_body("MethodNotAllowed", message), buf_cstr(allow));
            mem_free(message);
            buf_free(allow);
        } else {
            http_req_reply(r, MHD_HTTP_NOT_FOUND, http_req_error_body("NotFound", "There is nothing at this path."), NULL);
        }
        return;
    }
    buf_free(allow);
    route_match(r->route->path, r->path, r);
    if (r->route->max_body && r->route->max_body < r->limit)
        r->limit = r->route->max_body;
    cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long n;

        errno = 0;
        n = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && n > r->limit) {
            http_req_reply(r, HTTP_TOO_LARGE, http_req_error_body("PayloadTooLarge", too_large_message(r)), NULL);
            return;
        }
    }
    r->body = buf_new(1024);
    buf_set_limit(r->body, r->limit);
    if (is_form_type(r->pub.content_type)) {
        r->pub.is_form = 1;
        r->pp = MHD_create_post_processor(r->conn, HTTP_POST_BUFFER, on_form_field, r);
        if (r->pp == NULL)
            r->form_bad = 1;
    }
}

static void
upload(REQ *r, const char *data, size_t size)
{
    r->received += size;
    if (r->too_large)
        return;             /* read and dropped; the final call answers */
    if (r->received > r->limit || buf_append(r->body, data, size) < 0) {
        r->too_large = 1;
        return;
    }
    if (r->pp && !r->form_bad && MHD_post_process(r->pp, data, size) != MHD_YES)
        r->form_bad = 1;
}

/* A handler slot (admin.threads of them): taken before the handler runs, given back after. */
static void
slot_take(HTTP_SERVER *srv)
{
    pthread_mutex_lock(&srv->lock);
    while (srv->running >= srv->slots)
        pthread_cond_wait(&srv->slot_free, &srv->lock);
    srv->running++;
    pthread_mutex_unlock(&srv->lock);
}

static void
slot_give(HTTP_SERVER *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->running--;
    pthread_cond_signal(&srv->slot_free);
    pthread_mutex_unlock(&srv->lock);
}

static void
final_call(REQ *r)
{
    if (r->pp) {
        /* Destroying the parser delivers the last urlencoded field. */
        if (MHD_destroy_post_processor(r->pp) != MHD_YES && !r->too_large)
            r->form_bad = 1;
        r->pp = NULL;
    }
    if (r->too_large) {
        http_req_reply(r, HTTP_TOO_LARGE, http_req_error_body("PayloadTooLarge", too_large_message(r)), NULL);
        return;
    }
    r->pub.form_ok = r->pub.is_form && !r->form_bad;
    r->pub.body = buf_data(r->body);
    r->pub.body_len = buf_len(r->body);
    slot_take(r->srv);
    for (int attempt = 1;; attempt++) {
        r->again = 0;
        r->in_handler = 1;
        r->route->handler(&r->pub, r->route->arg);
        r->in_handler = 0;
        if (!r->again || attempt == HTTP_HANDLER_ATTEMPTS)
            break;
        msg_info("%s %s: lost a database conflict before anything took effect; running it again (attempt %d of %d)",
                 r->method, r->path, attempt + 1, HTTP_HANDLER_ATTEMPTS);
        http_req_forget_answer(r);
        clock_backoff_pause(attempt);
    }
    slot_give(r->srv);
    if (r->held) {
        struct MHD_Response *resp = r->held;

        r->held = NULL;
        http_req_send(r, r->status, resp);
    }
    if (!r->answered) {
        msg_error("%s %s: the handler gave no answer", r->method, r->path);
        http_req_reply(r, MHD_HTTP_INTERNAL_SERVER_ERROR, http_req_error_body("InternalError", "No answer was produced."), NULL);
    }
}

static MHD_RESULT
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method, const char *version,
           const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    REQ *r = *con_cls;

    if (r == NULL) {
        *con_cls = r = req_new(cls, conn, url, method);
        first_call(r);
        return MHD_YES;
    }
    if (r->answered) {
        /* Answered early (413 on Content-Length): MHD drops the rest and closes. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        upload(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    final_call(r);
    return MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    REQ *r = *con_cls;
    char cred[96] = "";

    if (r == NULL)
        return;
    *con_cls = NULL;
    if (r->credential_id)
        snprintf(cred, sizeof(cred), " credential %llu", r->credential_id);
    else if (r->user_id)
        snprintf(cred, sizeof(cred), " user %llu", r->user_id);
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        msg_info("%s %s %u %.3fs client %s%s", r->method, r->path, r->status, http_elapsed(&r->pub),
                 r->client_ip, cred);
    else
        msg_info("%s %s %u %.3fs client %s%s (connection ended early: %s)", r->method, r->path, r->status,
                 http_elapsed(&r->pub), r->client_ip, cred,
                 toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
                 : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown"
                 : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client gone" : "error");
    req_free(r);
}

__attribute__((format(printf, 2, 0)))
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    msg_warn("libmicrohttpd: %s", line);
}

/* ---------------------------------------------------------------- the server */

HTTP_SERVER *
http_server_new(PGCONF *cfg, const HTTP_ROUTE *routes, size_t nroutes)
{
    HTTP_SERVER *srv = mem_zalloc(sizeof(*srv));

    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    pthread_cond_init(&srv->slot_free, NULL);
    conf_holder_init(&srv->config, conf_ref(cfg));
    srv->routes = routes;
    srv->nroutes = nroutes;
    srv->listen_fd = -1;
    return srv;
}

int
http_server_start(HTTP_SERVER *srv, int listen_fd, const char *cert_pem, const char *key_pem, char **error_r)
{
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    int fl = fcntl(listen_fd, F_GETFL);

    srv->slots = (unsigned) srv->config.cfg->admin_threads;
    /* The listening thread accepts what poll says is there: never block in accept. */
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        *error_r = buf_asprintf("cannot make the listening socket non-blocking: %s", strerror(errno));
        return -1;
    }
    if (cert_pem && key_pem) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            *error_r = mem_strdup("admin.tls_certificate is set but this libmicrohttpd has no TLS support");
            return -1;
        }
        flags |= MHD_USE_TLS;
        srv->tls = 1;
    }
    srv->listen_fd = listen_fd;
    if (cert_pem && key_pem)
        srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
                                       MHD_OPTION_LISTEN_SOCKET, (MHD_socket) listen_fd,
                                       MHD_OPTION_CONNECTION_LIMIT, (unsigned) HTTP_CONNECTION_LIMIT,
                                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) HTTP_CONNECTION_TIMEOUT,
                                       MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                       MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                                       MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
                                       MHD_OPTION_HTTPS_MEM_KEY, key_pem,
                                       MHD_OPTION_END);
    else
        srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
                                       MHD_OPTION_LISTEN_SOCKET, (MHD_socket) listen_fd,
                                       MHD_OPTION_CONNECTION_LIMIT, (unsigned) HTTP_CONNECTION_LIMIT,
                                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) HTTP_CONNECTION_TIMEOUT,
                                       MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                       MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                                       MHD_OPTION_END);
    if (srv->daemon == NULL) {
        *error_r = mem_strdup("libmicrohttpd could not start (see the warnings above)");
        srv->listen_fd = -1;
        return -1;
    }
    return 0;
}

void
http_server_set_fallback(HTTP_SERVER *srv, HTTP_HANDLER *handler, void *arg)
{
    srv->fallback = (HTTP_ROUTE) {"GET", "", handler, arg, HTTP_FALLBACK_MAX_BODY};
}

void
http_server_set_config(HTTP_SERVER *srv, PGCONF *cfg)
{
    conf_holder_swap(&srv->config, cfg);
}

int
http_server_stop(HTTP_SERVER *srv, int drain_seconds)
{
    struct timespec deadline;
    MHD_socket fd;
    int done;

    if (srv->daemon == NULL)
        return 1;
    fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    else if (srv->listen_fd >= 0)
        msg_warn("could not stop accepting before draining; closing at once");
    srv->listen_fd = -1;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += drain_seconds;
    pthread_mutex_lock(&srv->lock);
    while (srv->active > 0 && pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) != ETIMEDOUT)
        ;
    done = srv->active == 0;
    if (!done)
        msg_warn("%u request(s) still busy after %d s; stopping anyway", srv->active, drain_seconds);
    pthread_mutex_unlock(&srv->lock);
    MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    return done;
}

void
http_server_free(HTTP_SERVER *srv)
{
    if (srv == NULL)
        return;
    if (srv->daemon)
        http_server_stop(srv, 0);
    conf_holder_destroy(&srv->config);
    pthread_cond_destroy(&srv->idle);
    pthread_cond_destroy(&srv->slot_free);
    pthread_mutex_destroy(&srv->lock);
    mem_free(srv);
}
