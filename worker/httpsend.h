/*
 * httpsend.h -- the sending core the worker's webhook and endpoint tasks share: one
 * libcurl multi handle per task, the transfers in flight, the loop step that moves them
 * and hands each finished one back, and the request setup both senders use (an HTTP POST
 * whose answer's start is kept).
 *
 * A task embeds an HTTPSEND_XFER as the first member of its own transfer struct, sets up
 * x->easy (httpsend_xfer_init, then httpsend_post or its own options), and adds it with
 * httpsend_add(); httpsend_drive() calls the task's done function once per finished
 * transfer, after taking it out of the multi handle and the in-flight list. The task
 * frees it (httpsend_xfer_cleanup for the core's part).
 *
 * A transfer to a tenant's receiver is guarded (httpsend_guard): every connection it
 * opens, to each address DNS gave, is checked against outaddr.h's rule when the socket
 * is opened (CURLOPT_OPENSOCKETFUNCTION), so a name resolving (or re-resolving) to an
 * internal address is refused before a byte is sent; redirects are never followed and
 * proxies from the environment are not used.
 *
 * Must never: block on one transfer (every transfer has its own libcurl timeout), call
 * back for a transfer twice, or let a guarded transfer connect to a refused address.
 */
#ifndef PG_WORKER_HTTPSEND_H
#define PG_WORKER_HTTPSEND_H

#include <stddef.h>

#include <curl/curl.h>

#include "mail/conf.h"
#include "util/buf.h"

typedef struct httpsend_xfer {
    struct httpsend_xfer *next;         /* in flight: the sender's list */
    CURL *easy;
    struct curl_slist *headers;         /* CURLOPT_HTTPHEADER, freed with the transfer */
    BUF *response;                      /* the start of the answer (httpsend_post) */
    size_t response_max;
    char errbuf[CURL_ERROR_SIZE];
    double started;                     /* clock_mono() when added */
    struct outaddr_allow *allow;        /* guarded: the allow-list (owned) */
    char *refused;                      /* guarded: why a connection was refused, or NULL */
} HTTPSEND_XFER;

typedef struct httpsend HTTPSEND;

/* Called for each finished transfer with libcurl's result. */
typedef void (*HTTPSEND_DONE_FN)(void *ctx, HTTPSEND_XFER *x, CURLcode result);

/* libcurl's global setup, once per task that uses it (name for the log). 0 or -1 (logged). */
int httpsend_global_init(const char *name);
void httpsend_global_cleanup(void);

/* A sender calling done(ctx, ...) for finished transfers. NULL when libcurl cannot make a
 * multi handle (logged). */
HTTPSEND *httpsend_new(const char *name, HTTPSEND_DONE_FN done, void *ctx);
void httpsend_free(HTTPSEND *s);

/* The number of transfers in flight, and the first of them (then x->next). */
size_t httpsend_inflight(const HTTPSEND *s);
HTTPSEND_XFER *httpsend_first(const HTTPSEND *s);

/* A fresh easy handle in x, keeping at most response_max bytes of an answer. */
void httpsend_xfer_init(HTTPSEND_XFER *x, size_t response_max);
/* Frees what the core owns in x (not x itself). */
void httpsend_xfer_cleanup(HTTPSEND_XFER *x);
/* Appends "name: value" to x's request headers; httpsend_header_line a whole line. */
void httpsend_header(HTTPSEND_XFER *x, const char *name, const char *value);
void httpsend_header_line(HTTPSEND_XFER *x, const char *line);
/* A curl_slist_append that never returns NULL. */
struct curl_slist *httpsend_slist_add(struct curl_slist *list, const char *text);

/* An HTTP(S) POST of body (not copied: it must outlive the transfer) to url with x's
 * headers, timeout seconds for connecting and for all of it; the answer's start goes to
 * x->response. */
void httpsend_post(HTTPSEND_XFER *x, const char *url, const char *body, size_t len, long timeout);

/* Guards x (see above) with the allow-list security.outbound_allowed_networks; a bad
 * list allows nothing internal. Call before httpsend_add. */
void httpsend_guard(HTTPSEND_XFER *x, const CONF_LIST *allowed);

/* Starts x. 0 started, -1 libcurl refused it (x stays the caller's). */
int httpsend_add(HTTPSEND *s, HTTPSEND_XFER *x);

/* Moves every transfer and calls back for each finished one; when none finished, waits up
 * to wait_ms for activity (sleeps when nothing is in flight). A finished transfer returns at
 * once: the task's wait was chosen before it freed a slot and left an outcome to record. */
void httpsend_drive(HTTPSEND *s, int wait_ms);

/* Why x failed with result, for people: the guard's refusal, libcurl's error buffer or
 * its code's text. */
const char *httpsend_error(const HTTPSEND_XFER *x, CURLcode result);

#endif
