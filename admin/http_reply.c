/*
 * http_reply.c -- the answers of postgate-admin's HTTP layer (http.h's http_reply_*()):
 * JSON and raw bodies turned into libmicrohttpd responses with the layer's headers, held
 * while the handler runs (http_request_again() may drop them) and queued once, counted in
 * postgate_admin_responses_total.
 *
 * Must never: queue a second answer for one request, or put CR/LF into a header.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "http_req.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/metrics.h"
#include "util/msg.h"

/* postgate_admin_responses_total by status class (2xx..5xx). */
static METRIC *responses[6];
static pthread_once_t responses_once = PTHREAD_ONCE_INIT;

static void
responses_init(void)
{
    for (int c = 2; c <= 5; c++) {
        char labels[24];

        snprintf(labels, sizeof(labels), "code=\"%dxx\"", c);
        responses[c] = metrics_counter("postgate_admin_responses_total",
                                       "Answers of the API and web admin by status class", labels);
    }
}

/* Hands resp (destroyed here) to libmicrohttpd and counts it. */
void
http_req_send(REQ *r, unsigned status, struct MHD_Response *resp)
{
    pthread_once(&responses_once, responses_init);
    if (status >= 200 && status < 600)
        metrics_inc(responses[status / 100]);
    if (MHD_queue_response(r->conn, status, resp) != MHD_YES)
        msg_error("%s %s: cannot queue the %u answer", r->method, r->path, status);
    MHD_destroy_response(resp);
}

/* Queues resp (destroyed here; held while the handler runs) with the headers: Content-Type, nosniff,
 * Cache-Control: no-store unless the handler set its own, Allow, then the handler's. */
static void
queue_reply(REQ *r, unsigned status, struct MHD_Response *resp, const char *content_type, const char *allow)
{
    int own_cache_control = 0;

    if (resp == NULL) {
        msg_error("%s %s: cannot create a response (out of memory?)", r->method, r->path);
        return;
    }
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i][0], MHD_HTTP_HEADER_CACHE_CONTROL) == 0)
            own_cache_control = 1;
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (!own_cache_control)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    for (size_t i = 0; i < r->nheaders; i++)
        if (MHD_add_response_header(resp, r->headers[i][0], r->headers[i][1]) != MHD_YES)
            msg_error("%s %s: cannot add header %s to the answer", r->method, r->path, r->headers[i][0]);
    if (r->in_handler) {
        r->held = resp;         /* queued when the handler returns, unless it runs again */
        return;
    }
    http_req_send(r, status, resp);
}

void
http_req_reply(REQ *r, unsigned status, json_t *body, const char *allow)
{
    struct MHD_Response *resp;
    char *text;

    if (r->answered) {
        json_decref(body);
        return;
    }
    r->answered = 1;
    r->status = status;
    text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(16));
    json_decref(body);
    if (text == NULL) {
        static const char fallback[] = "{\"status\":\"error\",\"data\":{\"code\":\"InternalError\","
                                       "\"message\":\"The answer could not be encoded.\"}}";

        r->status = status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        resp = MHD_create_response_from_buffer(sizeof(fallback) - 1, (void *) fallback, MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
        free(text);
    }
    queue_reply(r, status, resp, JSON_CONTENT_TYPE, allow);
}

json_t *
http_req_error_body(const char *code, const char *message)
{
    return json_pack("{s:s, s:{s:s, s:s}}", "status", "error", "data", "code", code, "message", message);
}

void
http_reply_json(HTTP_REQUEST *req, unsigned status, json_t *body)
{
    http_req_reply((REQ *) req, status, body, NULL);
}

void
http_reply_error(HTTP_REQUEST *req, unsigned status, const char *code, const char *message)
{
    http_req_reply((REQ *) req, status, http_req_error_body(code, message), NULL);
}

void
http_reply_bytes(HTTP_REQUEST *req, unsigned status, const char *content_type, const void *data, size_t len)
{
    REQ *r = (REQ *) req;

    if (r->answered)
        return;
    r->answered = 1;
    r->status = status;
    queue_reply(r, status, MHD_create_response_from_buffer(len, (void *) data, MHD_RESPMEM_MUST_COPY),
                content_type, NULL);
}

void
http_reply_fd(HTTP_REQUEST *req, unsigned status, const char *content_type, int fd, size_t size)
{
    REQ *r = (REQ *) req;
    struct MHD_Response *resp;

    if (r->answered) {
        close(fd);
        return;
    }
    /* MHD owns fd from here on, and closes it with the response. */
    resp = MHD_create_response_from_fd64(size, fd);
    if (resp == NULL) {
        close(fd);
        msg_error("%s %s: cannot answer from a file", r->method, r->path);
        http_req_reply(r, MHD_HTTP_INTERNAL_SERVER_ERROR, http_req_error_body("InternalError", "The file could not be sent."), NULL);
        return;
    }
    r->answered = 1;
    r->status = status;
    queue_reply(r, status, resp, content_type, NULL);
}

/* Drops what the handler answered and the headers it added, before it runs again. */
void
http_req_forget_answer(REQ *r)
{
    if (r->held)
        MHD_destroy_response(r->held);
    r->held = NULL;
    r->answered = 0;
    r->status = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        mem_free(r->headers[i][0]);
        mem_free(r->headers[i][1]);
    }
    r->nheaders = 0;
}
