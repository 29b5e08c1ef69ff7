/*
 * http_req.h -- the private state of one request of postgate-admin's HTTP layer, shared by
 * http.c (libmicrohttpd's callbacks, the request helpers, the server) and http_reply.c
 * (the answers). Handlers see only HTTP_REQUEST (http.h).
 */
#ifndef PG_ADMIN_HTTP_REQ_H
#define PG_ADMIN_HTTP_REQ_H

#include <arpa/inet.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "http.h"
#include "util/buf.h"

#define HTTP_MAX_FIELDS 64
#define HTTP_MAX_HEADERS 16     /* headers a handler may add to its answer */
#define JSON_CONTENT_TYPE "application/json; charset=utf-8"

typedef struct form_field {
    char *name;
    BUF *value;
} FORM_FIELD;

/* One request's state: the public part first, so HTTP_REQUEST * converts back. */
typedef struct req_state {
    HTTP_REQUEST pub;
    HTTP_SERVER *srv;
    struct MHD_Connection *conn;
    struct timespec start;
    const HTTP_ROUTE *route;
    char *method;
    char *path;
    char client_ip[INET6_ADDRSTRLEN];
    BUF *body;
    size_t received;
    size_t limit;
    struct MHD_PostProcessor *pp;
    FORM_FIELD fields[HTTP_MAX_FIELDS];
    size_t nfields;
    char *args[HTTP_MAX_PATH_ARGS];
    size_t nargs;
    char *headers[HTTP_MAX_HEADERS][2];     /* added to the answer: name, value */
    size_t nheaders;
    int too_large;
    int form_bad;
    int answered;
    unsigned status;
    int in_handler;             /* the handler runs: its answer is held in held */
    struct MHD_Response *held;  /* the handler's answer, queued when it returns */
    int again;                  /* http_request_again(): drop the answer, run the handler again */
    unsigned long long credential_id;
    unsigned long long user_id;
} REQ;

/* Answers body (taken) with status, once: a second answer is dropped. allow: an Allow header or NULL. */
void http_req_reply(REQ *r, unsigned status, json_t *body, const char *allow);
/* {"status": "error", "data": {"code", "message"}} */
json_t *http_req_error_body(const char *code, const char *message);
/* Hands resp (destroyed here) to libmicrohttpd and counts it. */
void http_req_send(REQ *r, unsigned status, struct MHD_Response *resp);
/* Drops what the handler answered and the headers it added, before it runs again. */
void http_req_forget_answer(REQ *r);

#endif
