/*
 * http.h -- postgate-admin's HTTP layer on libmicrohttpd: a thread pool over epoll
 * listening on a socket made by sock_listen(), a small router (method + path), request
 * bodies gathered into a BUF under admin.max_body_size or the route's own smaller limit
 * (413 beyond it), form bodies (urlencoded or multipart) decoded into fields, query
 * strings, cookies, JSON answers, and byte or file answers with their own content type
 * (the web UI's static files).
 *
 * Routes: the method is any token (GET, POST, PATCH, DELETE, ...); the path is exact or
 * contains "{}" segments, each matching one whole path segment of [A-Za-z0-9._@+-]
 * (after libmicrohttpd's URL-decoding; "." and ".." never match), read back with
 * http_path_arg(). The first route whose path and method match wins; a path that
 * matches only with other methods gets 405 with Allow. A GET or HEAD that no route
 * matches goes to the fallback handler when one is set (http_server_set_fallback),
 * else it gets the JSON 404.
 *
 * Contract: a handler runs in one of the pool's threads and must answer exactly once
 * with http_reply_json() / http_reply_error(), or http_reply_bytes() / http_reply_fd();
 * if it does not, the layer answers 500. Each request holds a reference to the
 * configuration snapshot current when it started (req->cfg), so a SIGHUP never changes
 * the ground under a request. JSON answers carry `Content-Type: application/json;
 * charset=utf-8`; byte and file answers the content type their handler gives. Every
 * answer has `X-Content-Type-Options: nosniff` and `Cache-Control: no-store` (unless the
 * handler added its own Cache-Control), plus any headers the handler added (Set-Cookie,
 * ETag, Content-Security-Policy, ...); errors of the layer itself (404, 405, 413, 500,
 * 503) are {"status":"error","data":{"code":...,"message":...}}. One log line per request.
 *
 * Must never: exit inside a libmicrohttpd callback, log request bodies, header values
 * or cookies (API keys and session tokens travel in them), believe X-Forwarded-For or
 * X-Forwarded-Proto from a peer that is not in admin.trusted_proxies, or send a header
 * value containing CR or LF.
 */
#ifndef PG_ADMIN_HTTP_H
#define PG_ADMIN_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "mail/conf.h"

typedef struct http_server HTTP_SERVER;
typedef struct http_request HTTP_REQUEST;

typedef void HTTP_HANDLER(HTTP_REQUEST *req, void *arg);

typedef struct http_route {
    const char *method;         /* "GET", "POST", "PATCH", "DELETE" */
    const char *path;           /* without the query string; "{}" matches one segment */
    HTTP_HANDLER *handler;
    void *arg;
    size_t max_body;            /* 0: admin.max_body_size; else the smaller of the two */
} HTTP_ROUTE;

#define HTTP_MAX_PATH_ARGS 4
#define HTTP_MAX_PATH_ARG_LEN 255

/* What a handler may read; the layer owns all of it. */
struct http_request {
    PGCONF *cfg;                /* referenced for the request's lifetime */
    const char *method;
    const char *path;
    const char *client_ip;      /* the peer, or X-Forwarded-For's rightmost untrusted hop */
    const char *content_type;   /* NULL when absent */
    const unsigned char *body;  /* the raw body, NUL-terminated (also for form bodies) */
    size_t body_len;
    int is_form;                /* urlencoded or multipart: fields via http_form_value() */
    int form_ok;                /* is_form and the fields parsed without error */
    int secure;                 /* came over TLS, or X-Forwarded-Proto https from a trusted proxy */
};

/* Opens nothing: ready for http_server_start(). cfg is referenced; routes must outlive it. */
HTTP_SERVER *http_server_new(PGCONF *cfg, const HTTP_ROUTE *routes, size_t nroutes);
/* Starts the pool on listen_fd (from sock_listen). TLS when cert_pem and key_pem are
 * given (both read before privileges were dropped). -1 with *error_r (mem_free it). */
int http_server_start(HTTP_SERVER *srv, int listen_fd, const char *cert_pem, const char *key_pem,
                      char **error_r);
/* GET and HEAD requests that no route matches (with any method) go to handler(req, arg)
 * instead of the JSON 404. Set before http_server_start(). */
void http_server_set_fallback(HTTP_SERVER *srv, HTTP_HANDLER *handler, void *arg);
/* Installs a new configuration snapshot (the server takes the caller's reference). */
void http_server_set_config(HTTP_SERVER *srv, PGCONF *cfg);
/* Stops accepting (the listening socket is closed), waits up to drain_seconds for
 * requests in flight, then stops the threads. 1 when every request finished. */
int http_server_stop(HTTP_SERVER *srv, int drain_seconds);
void http_server_free(HTTP_SERVER *srv);

/* The handler lost a database conflict before anything it did took effect (nothing
 * committed, nothing written outside a transaction): when it returns, its answer and the
 * headers it added are dropped and it runs again, after a short random pause, up to
 * HTTP_HANDLER_ATTEMPTS runs in all; the last run's answer stands. A handler's answer is
 * held until it returns, so it is never half sent. */
#define HTTP_HANDLER_ATTEMPTS 4
void http_request_again(HTTP_REQUEST *req);
/* A request header (case-insensitive name) or NULL. */
const char *http_header(HTTP_REQUEST *req, const char *name);
/* A field of a form body (the last value when repeated) or NULL; *len_r its length. */
const char *http_form_value(HTTP_REQUEST *req, const char *name, size_t *len_r);
/* The n-th (from 0) "{}" segment of the route's path, decoded, or NULL. */
const char *http_path_arg(HTTP_REQUEST *req, size_t n);
/* A query-string argument (decoded), or NULL when absent. */
const char *http_query(HTTP_REQUEST *req, const char *name);
/* A cookie of the request, or NULL. */
const char *http_cookie(HTTP_REQUEST *req, const char *name);
/* Adds a header to the answer (before it is given); refused (logged, dropped) when the
 * value holds CR or LF or too many were added. */
void http_add_header(HTTP_REQUEST *req, const char *name, const char *value);
/* Adds "Set-Cookie: cookie_line" to the answer. */
void http_set_cookie(HTTP_REQUEST *req, const char *cookie_line);
/* Seconds since the request started (monotonic). */
double http_elapsed(const HTTP_REQUEST *req);
/* Names the API credential in the request's log line. */
void http_set_credential(HTTP_REQUEST *req, unsigned long long credential_id);
/* Names the authenticated user in the request's log line. */
void http_set_user(HTTP_REQUEST *req, unsigned long long user_id);
/* Answers with status and body (the reference is taken). Only the first call counts. */
void http_reply_json(HTTP_REQUEST *req, unsigned status, json_t *body);
/* {"status":"error","data":{"code":code,"message":message}} with status. */
void http_reply_error(HTTP_REQUEST *req, unsigned status, const char *code, const char *message);
/* Answers with status and a copy of len bytes of data as content_type (NULL: none, as
 * for 304). Only the first answer counts. */
void http_reply_bytes(HTTP_REQUEST *req, unsigned status, const char *content_type, const void *data, size_t len);
/* Answers with status and the first size bytes of the open file fd as content_type;
 * fd is the layer's from here on (closed after sending, or at once on failure). */
void http_reply_fd(HTTP_REQUEST *req, unsigned status, const char *content_type, int fd, size_t size);

#endif
