/*
 * serve.c -- postgate-tracker's HTTP side (libmicrohttpd, a thread pool).
 *
 * Only requests with X-Postal-Track-Host: 1 are tracking requests (the reverse proxy
 * of the track domains adds it), as in Postal:
 *   GET /<server_token>/<link_token>        307 to the link's URL; records a click
 *   GET /img/<server_token>/<message_token> a 1x1 transparent GIF, never cached; records
 *                                           a load (an unknown message still gets the
 *                                           image; an unknown server is 404)
 *   an unknown link                         404
 *   anything else                           200 "Hello."
 * Without the header: 404, not a tracking request. HEAD answers like GET but records
 * nothing (link scanners and prefetchers).
 *
 * The answer never waits on a write: clicks and loads go to the recorder's queue.
 * Lookups are cached for tracker.cache_ttl seconds (a link never changes; unknown tokens
 * are cached as unknown), each cached link holding its ready-made redirect response.
 * Only a cache miss reads MariaDB; when that fails a click gets 503 and a load its image
 * (the load is queued by token and resolved when it is written).
 *
 * Must never: redirect to anything but a stored link of the server the token names;
 * believe X-Forwarded-For from a peer that is not in tracker.trusted_proxies.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "tracker.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/metrics.h"
#include "util/msg.h"
#include "util/netaddr.h"
#include "util/ttlcache.h"

#define CACHE_ENTRIES 200000
#define CONNECTION_LIMIT 8192
#define CONNECTION_TIMEOUT 30
/* libmicrohttpd's memory per connection (request line, headers, the answer's header):
 * it clears the unused part of it after every request, so its default of 32 KiB costs a
 * 32 KiB memset per request; a tracking request's headers take 1-2 KiB, and a request
 * whose headers do not fit gets 431. */
#define CONNECTION_MEMORY 16384
#define MAX_TOKEN 64
#define MAX_USER_AGENT 512

struct serve {
    CONF_HOLDER config;
    DBPOOL *pool;
    struct MHD_Daemon *daemon;
    TTLCACHE *links, *pixels;
    struct MHD_Response *pixel, *hello, *not_found, *not_tracking, *unavailable, *bad_src;
    pthread_mutex_t lock;               /* for idle only */
    pthread_cond_t idle;
    atomic_uint active;                 /* requests in flight: no lock per request */
    atomic_int draining;                /* serve_stop() waits on idle */
};

/* A 1x1 transparent GIF. */
static const unsigned char pixel_gif[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

typedef struct cached_link {
    int found;
    unsigned long long id, message_id, server_id;
    char *url;
    struct MHD_Response *redirect;
} CACHED_LINK;

typedef struct cached_pixel {
    int server_found;
    unsigned long long server_id, message_id;   /* message_id 0: unknown message */
} CACHED_PIXEL;

static void
free_link(void *value)
{
    CACHED_LINK *c = value;

    if (c->redirect)
        MHD_destroy_response(c->redirect);
    mem_free(c->url);
    mem_free(c);
}

static struct MHD_Response *
text_response(const char *text, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *) text, MHD_RESPMEM_PERSISTENT);

    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return r;
}

static void
no_cache(struct MHD_Response *r)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, no-store, must-revalidate, max-age=0");
    MHD_add_response_header(r, MHD_HTTP_HEADER_PRAGMA, "no-cache");
    MHD_add_response_header(r, MHD_HTTP_HEADER_EXPIRES, "0");
}

/* The Location value: bytes a header or a browser would not take as they are are
 * percent-encoded (what a browser does with such a URL before following it). */
static char *
location_value(const char *url)
{
    static const char hex[] = "0123456789ABCDEF";
    BUF *b = buf_new(strlen(url) + 16);

    for (const unsigned char *p = (const unsigned char *) url; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
            buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
        else
            buf_append_char(b, (char) *p);
    }
    return buf_steal(b, NULL);
}

static struct MHD_Response *
redirect_response(const char *url)
{
    char *location = location_value(url);
    char *body = buf_asprintf("Redirected to: %s", location);
    size_t len = strlen(body);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);

    mem_free(body);
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, no-store, max-age=0");
    mem_free(location);
    return r;
}

SERVE *
serve_new(PGCONF *cfg, DBPOOL *pool)
{
    SERVE *srv = mem_zalloc(sizeof(*srv));
    unsigned ttl = (unsigned) cfg->tracker_cache_ttl;

    conf_holder_init(&srv->config, conf_ref(cfg));
    srv->pool = pool;
    srv->links = ttlcache_new(ttl, CACHE_ENTRIES, free_link);
    srv->pixels = ttlcache_new(ttl, CACHE_ENTRIES, mem_free);
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    srv->pixel = MHD_create_response_from_buffer(sizeof(pixel_gif), (void *) pixel_gif, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(srv->pixel, MHD_HTTP_HEADER_CONTENT_TYPE, "image/gif");
    no_cache(srv->pixel);
    srv->hello = text_response("Hello.", "text/plain; charset=utf-8");
    srv->not_found = text_response("Not found.", "text/plain; charset=utf-8");
    srv->not_tracking = text_response("Not a tracking request.", "text/plain; charset=utf-8");
    srv->unavailable = text_response("Temporarily unavailable.", "text/plain; charset=utf-8");
    MHD_add_response_header(srv->unavailable, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    srv->bad_src = text_response("Invalid/missing source image", "text/plain; charset=utf-8");
    return srv;
}

void
serve_set_config(SERVE *srv, PGCONF *cfg)
{
    conf_holder_swap(&srv->config, cfg);
}

/* ---------------------------------------------------------------- requests */

/* MHD_get_connection_values callback: joins every X-Forwarded-For line in order. */
static enum MHD_Result
xff_line(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    if (strcasecmp(key, "X-Forwarded-For") == 0 && value)
        netaddr_xff_append(cls, value);
    return MHD_YES;
}

/* The client's address: netaddr_client()'s rule over the peer, every X-Forwarded-For
 * line (joined) and tracker.trusted_proxies. */
static void
client_ip(SERVE *srv, struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    BUF *joined;
    PGCONF *cfg;

    snprintf(out, size, "%s", "");
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) size);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *) sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a6))
            inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t) size);
        else
            inet_ntop(AF_INET6, a6, out, (socklen_t) size);
    }
    if (*out == '\0')
        return;
    joined = buf_new(64);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, xff_line, joined);
    if (buf_len(joined) == 0) {
        buf_free(joined);
        return;
    }
    cfg = conf_holder_get(&srv->config);
    {
        char peer[INET6_ADDRSTRLEN];

        snprintf(peer, sizeof(peer), "%s", out);
        if (netaddr_client(peer, buf_cstr(joined), (const char *const *) cfg->tracker_trusted_proxies.items,
                           cfg->tracker_trusted_proxies.count, out, size) < 0)
            snprintf(out, size, "%s", peer);
    }
    conf_unref(cfg);
    buf_free(joined);
}

static int
token_ok(const char *s, size_t n)
{
    if (n == 0 || n > MAX_TOKEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char) s[i]) && s[i] != '-')
            return 0;
    return 1;
}

/* Splits "/a/b" (an optional trailing slash allowed) into two tokens. */
static int
two_segments(const char *path, char a[MAX_TOKEN + 1], char b[MAX_TOKEN + 1])
{
    const char *p = path + 1, *slash = strchr(p, '/');
    size_t na, nb;

    if (path[0] != '/' || slash == NULL)
        return 0;
    na = (size_t) (slash - p);
    nb = strcspn(slash + 1, "/");
    if (slash[1 + nb] == '/' && slash[2 + nb] != '\0')
        return 0;
    if (!token_ok(p, na) || !token_ok(slash + 1, nb))
        return 0;
    memcpy(a, p, na);
    a[na] = '\0';
    memcpy(b, slash + 1, nb);
    b[nb] = '\0';
    return 1;
}

/* postgate_tracker_hits_total by kind: every click and load queued for recording. */
static METRIC *hits[2];
static pthread_once_t hits_once = PTHREAD_ONCE_INIT;

static void
hits_init(void)
{
    static const char help[] = "Clicks and opens (loads) recorded by the tracker";

    hits[TRACKING_CLICK] = metrics_counter("postgate_tracker_hits_total", help, "kind=\"click\"");
    hits[TRACKING_LOAD] = metrics_counter("postgate_tracker_hits_total", help, "kind=\"load\"");
}

static RECORDER_ITEM *
new_item(SERVE *srv, struct MHD_Connection *conn, TRACKING_KIND kind)
{
    RECORDER_ITEM *it = mem_zalloc(sizeof(*it));
    const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    char ip[INET6_ADDRSTRLEN];
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    client_ip(srv, conn, ip, sizeof(ip));
    it->kind = kind;
    it->time = (double) now.tv_sec + now.tv_nsec / 1e9;
    it->ip = *ip ? mem_strdup(ip) : NULL;
    it->user_agent = ua && *ua ? mem_strndup(ua, strnlen(ua, MAX_USER_AGENT)) : NULL;
    pthread_once(&hits_once, hits_init);
    metrics_inc(hits[kind == TRACKING_LOAD]);
    return it;
}

static enum MHD_Result
click(SERVE *srv, struct MHD_Connection *conn, const char *server_token, const char *link_token, int record)
{
    char key[2 * MAX_TOKEN + 2];
    CACHED_LINK *c;
    enum MHD_Result ret;

    snprintf(key, sizeof(key), "%s/%s", server_token, link_token);
    if ((c = ttlcache_get(srv->links, key)) == NULL) {
        DB *db = dbpool_get(srv->pool);
        TRACKING_LINK l;
        int found = tracking_find_link(db, server_token, link_token, &l);

        if (found < 0) {
            msg_warn("link %s: lookup failed: %s", link_token, db_error(db));
            dbpool_put(srv->pool, db);
            return MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, srv->unavailable);
        }
        dbpool_put(srv->pool, db);
        c = mem_zalloc(sizeof(*c));
        c->found = found;
        if (found) {
            c->id = l.id;
            c->message_id = l.message_id;
            c->server_id = l.server_id;
            c->url = l.url;
            c->redirect = redirect_response(l.url);
        }
        c = ttlcache_put_held(srv->links, key, c);
    }
    if (!c->found) {
        ttlcache_release(srv->links, c);
        return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, srv->not_found);
    }
    if (record) {
        RECORDER_ITEM *it = new_item(srv, conn, TRACKING_CLICK);

        it->server_id = c->server_id;
        it->message_id = c->message_id;
        it->link_id = c->id;
        it->url = mem_strdup(c->url);
        it->token = mem_strdup(link_token);
        recorder_add(it);
    }
    ret = MHD_queue_response(conn, MHD_HTTP_TEMPORARY_REDIRECT, c->redirect);
    ttlcache_release(srv->links, c);
    return ret;
}

static enum MHD_Result
load(SERVE *srv, struct MHD_Connection *conn, const char *server_token, const char *message_token, int record)
{
    char key[2 * MAX_TOKEN + 2];
    CACHED_PIXEL *c;
    RECORDER_ITEM *it;

    if (MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "src") != NULL)
        return MHD_queue_response(conn, MHD_HTTP_BAD_REQUEST, srv->bad_src);
    snprintf(key, sizeof(key), "%s/%s", server_token, message_token);
    if ((c = ttlcache_get(srv->pixels, key)) == NULL) {
        DB *db = dbpool_get(srv->pool);
        unsigned long long server_id = 0, message_id = 0;
        int found = tracking_find_server(db, server_token, &server_id);

        if (found > 0 && (found = tracking_find_message(db, server_id, message_token, &message_id)) == 0)
            found = 1;          /* a known server, an unknown message: the image, no record */
        dbpool_put(srv->pool, db);
        if (found < 0) {
            /* Serve the image; the load is resolved when it is written. */
            msg_warn("pixel %s: lookup failed; queued by token", message_token);
            if (record) {
                it = new_item(srv, conn, TRACKING_LOAD);
                it->token = mem_strdup(message_token);
                it->server_token = mem_strdup(server_token);
                recorder_add(it);
            }
            return MHD_queue_response(conn, MHD_HTTP_OK, srv->pixel);
        }
        c = mem_zalloc(sizeof(*c));
        c->server_found = found > 0 && server_id != 0;
        c->server_id = server_id;
        c->message_id = message_id;
        c = ttlcache_put_held(srv->pixels, key, c);
    }
    if (!c->server_found) {
        ttlcache_release(srv->pixels, c);
        return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, srv->not_found);
    }
    if (record && c->message_id) {
        it = new_item(srv, conn, TRACKING_LOAD);
        it->server_id = c->server_id;
        it->message_id = c->message_id;
        recorder_add(it);
    }
    ttlcache_release(srv->pixels, c);
    return MHD_queue_response(conn, MHD_HTTP_OK, srv->pixel);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method, const char *version,
           const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    SERVE *srv = cls;
    const char *track = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Postal-Track-Host");
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0, head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    char a[MAX_TOKEN + 1], b[MAX_TOKEN + 1];

    if (*con_cls == NULL) {
        /* First call: count the request (for draining). Answering only once the whole
         * request is in keeps the connection alive (libmicrohttpd closes a connection
         * whose answer came before the end of its request). */
        *con_cls = srv;
        atomic_fetch_add(&srv->active, 1);
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;  /* a body means nothing here */
        return MHD_YES;
    }
    if (track == NULL || atoi(track) != 1)
        return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, srv->not_tracking);
    if ((get || head) && strncmp(url, "/img/", 5) == 0 && two_segments(url + 4, a, b))
        return load(srv, conn, a, b, get);
    if ((get || head) && strncmp(url, "/img/", 5) != 0 && two_segments(url, a, b))
        return click(srv, conn, a, b, get);
    return MHD_queue_response(conn, MHD_HTTP_OK, srv->hello);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode code)
{
    SERVE *srv = cls;

    if (*con_cls == NULL)
        return;
    *con_cls = NULL;
    /* The lock only for the last request of a drain: serve_stop() sets draining before it
     * reads active (both sequentially consistent), so one of the two sees the other. */
    if (atomic_fetch_sub(&srv->active, 1) == 1 && atomic_load(&srv->draining)) {
        pthread_mutex_lock(&srv->lock);
        pthread_cond_broadcast(&srv->idle);
        pthread_mutex_unlock(&srv->lock);
    }
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    msg_warn("libmicrohttpd: %s", line);
}

int
serve_start(SERVE *srv, int listen_fd, char **error_r)
{
    pthread_once(&hits_once, hits_init);        /* the series exist before the first hit */
    unsigned threads = (unsigned) srv->config.cfg->tracker_threads;
    int fl = fcntl(listen_fd, F_GETFL);

    /* Every pool thread polls the one socket: a blocking accept would stall the losers. */
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        *error_r = buf_asprintf("cannot make the listening socket non-blocking: %s", strerror(errno));
        return -1;
    }
    srv->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                   on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                                   MHD_OPTION_LISTEN_SOCKET, (MHD_socket) listen_fd,
                                   MHD_OPTION_THREAD_POOL_SIZE, threads,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned) CONNECTION_LIMIT,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) CONNECTION_TIMEOUT,
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONNECTION_MEMORY,
                                   MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                   MHD_OPTION_END);
    if (srv->daemon == NULL) {
        *error_r = mem_strdup("libmicrohttpd could not start (see the warnings above)");
        return -1;
    }
    return 0;
}

void
serve_stop(SERVE *srv, int drain_seconds)
{
    struct timespec deadline;
    MHD_socket fd;

    if (srv->daemon == NULL)
        return;
    fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += drain_seconds;
    atomic_store(&srv->draining, 1);
    pthread_mutex_lock(&srv->lock);
    while (atomic_load(&srv->active) > 0 && pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) != ETIMEDOUT)
        ;
    if (atomic_load(&srv->active) > 0)
        msg_warn("%u request(s) still busy after %d s; stopping anyway", atomic_load(&srv->active), drain_seconds);
    pthread_mutex_unlock(&srv->lock);
    MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}

void
serve_free(SERVE *srv)
{
    if (srv == NULL)
        return;
    serve_stop(srv, 0);
    ttlcache_free(srv->links);
    ttlcache_free(srv->pixels);
    MHD_destroy_response(srv->pixel);
    MHD_destroy_response(srv->hello);
    MHD_destroy_response(srv->not_found);
    MHD_destroy_response(srv->not_tracking);
    MHD_destroy_response(srv->unavailable);
    MHD_destroy_response(srv->bad_src);
    conf_holder_destroy(&srv->config);
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
    mem_free(srv);
}
