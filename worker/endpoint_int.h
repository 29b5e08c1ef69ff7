/*
 * endpoint_int.h -- what the endpoint delivery task's files share (private to worker/:
 * endpoints.c, endpoint_request.c, endpoint_report.c; nothing else includes it).
 *
 * endpoints.c runs the task (claims, the curl multi loop, outcomes, recording);
 * endpoint_request.c builds each endpoint kind's transfer; endpoint_report.c sends the report of a
 * permanent failure. The types below are the task's state and one transfer in flight.
 *
 * Contract: a TRANSFER is owned by whoever holds it until ep_transfer_add() succeeds,
 * then by the multi handle until transfer_done() frees it. An OUTCOME's strings are
 * owned; ep_outcome_push() takes them.
 * Must never: be included outside worker/endpoints.c and worker/endpoint_*.c.
 */
#ifndef PG_WORKER_ENDPOINT_INT_H
#define PG_WORKER_ENDPOINT_INT_H

#include <pthread.h>
#include <stddef.h>

#include "endpoints.h"
#include "httpsend.h"
#include "mail/db.h"
#include "mail/message.h"
#include "mail/queue.h"
#include "reqsign.h"

#define SMTP_TIMEOUT 300                /* seconds for a whole SMTP session */
#define RESPONSE_MAX 1024               /* bytes of an answer kept as a delivery's output */
#define OWNER_MAX 300
#define LOOP_HEADER "X-Postgate-Forwarded-For"
#define LOOP_MAX 10                     /* forwards of one message before it is a loop */

typedef enum { KIND_HTTP, KIND_SMTP, KIND_ADDRESS, KIND_REPORT } KIND;

typedef struct outcome {
    QUEUE_OUTCOME q;                    /* details and output point into the owned copies */
    char *details, *output;
    char token[MESSAGE_TOKEN_LEN + 1];  /* the message's, for the log context ("" unknown) */
} OUTCOME;

typedef struct transfer {
    HTTPSEND_XFER x;                    /* first: the core's part; x.response: HTTP the body's start, SMTP the last reply */
    KIND kind;
    QUEUE_JOB job;
    char token[MESSAGE_TOKEN_LEN + 1];  /* the message's token once loaded ("" before) */
    char *target;                       /* the URL, host:port or address, for details */
    struct curl_slist *rcpts;
    char *data;                         /* the request body or the message sent */
    size_t len, off;
    int tls;                            /* a TLS session was established */
    /* What a report needs: the original message and its envelope. */
    char *raw, *mail_from, *rcpt_to, *message_id;
    size_t raw_len;
    int report_ok;                      /* the sender passed SPF or DKIM (senderauth.h) */
    char report_why[300];               /* why a report may or may not go, for the details */
    char postmaster[321];               /* the server's postmaster address (the report's From), or "" */
    OUTCOME pending;                    /* KIND_REPORT: the outcome it reports */
} TRANSFER;

typedef struct endpoints_task {
    WORKER_ENV *env;
    pthread_t thread;
    int thread_started;
    HTTPSEND *send;
    const PGCONF *cfg;                  /* the snapshot of the current turn, for transfer_done */
    char owner[OWNER_MAX];
    OUTCOME *done;
    size_t ndone, done_cap;
    REQSIGN sign;                       /* the request signature (reqsign.h) */
    double next_claim;
    double db_retry_at;
    double backoff;
} ENDPOINTS_TASK;

/* endpoints.c: the task. */
void ep_outcome_push(ENDPOINTS_TASK *t, OUTCOME *o);
void ep_transfer_free(TRANSFER *tr);
int ep_transfer_add(ENDPOINTS_TASK *t, TRANSFER *tr);

/* endpoint_request.c: building each kind's transfer. */
void ep_smtp_setup(TRANSFER *tr, const char *url, const char *mail_from, const char *rcpt);
char *ep_service_url(const char *spec, const char *helo);
const char *ep_col(const DB_RESULT *res, size_t c);
unsigned ep_loop_count(const char *raw, size_t len, const char *rcpt, int *seen_r);
int ep_http_setup(ENDPOINTS_TASK *t, TRANSFER *tr, const DB_RESULT *ep, const DB_RESULT *m, char **error_r);
int ep_smtp_endpoint_setup(ENDPOINTS_TASK *t, TRANSFER *tr, DB *db, const DB_RESULT *ep, char **error_r);
int ep_address_setup(ENDPOINTS_TASK *t, TRANSFER *tr, const DB_RESULT *ep, const PGCONF *cfg, char **error_r);

/* endpoint_report.c: the report of a permanent failure. */
int ep_report_start(ENDPOINTS_TASK *t, TRANSFER *orig, OUTCOME *o, const char *status, const char *diagnostic,
                    const PGCONF *cfg);
void ep_report_done(ENDPOINTS_TASK *t, TRANSFER *tr, CURLcode result, long code);

#endif
