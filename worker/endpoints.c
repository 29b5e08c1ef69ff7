/*
 * endpoints.c -- the endpoint delivery task (endpoints.h): one thread, one curl multi
 * handle, modelled on webhooks.c.
 *
 * Each turn of the loop: record the outcomes gathered so far, claim due rows while there
 * is room and start their transfers (the database reads that build a request happen
 * here, between turns), let libcurl move every transfer, and wait at most POLL_MS. A
 * permanent failure that deserves a report starts a second transfer (the report to the
 * forward service) and is recorded when that one ends, with what became of the report.
 * On stop: no new claims, transfers in flight finish (each within its own timeout),
 * their outcomes are recorded (retried for STOP_RECORD_SECONDS while MariaDB is away).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "endpoints.h"
#include "httpsend.h"
#include "mail/address.h"
#include "mail/endpoint.h"
#include "mail/forward.h"
#include "mail/inpayload.h"
#include "mail/message.h"
#include "mail/message_view.h"
#include "mail/ndr.h"
#include "mail/queue.h"
#include "mail/senderauth.h"
#include "mail/signkey.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"
#include "util/utf8.h"

#define POLL_MS 100
#define IDLE_CLAIM_SECONDS 0.25
#define KEY_CHECK_SECONDS 30
#define SMTP_TIMEOUT 300                /* seconds for a whole SMTP session */
#define SMTP_CONNECT_TIMEOUT 30
#define LEASE_SECONDS (2 * SMTP_TIMEOUT + 120)  /* a transfer and its report, and recording */
#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 30.0
#define STOP_RECORD_SECONDS 10
#define RESPONSE_MAX 1024               /* bytes of an answer kept as a delivery's output */
#define OWNER_MAX 300
#define LOOP_HEADER "X-Postgate-Forwarded-For"
#define LOOP_MAX 10                     /* forwards of one message before it is a loop */

typedef enum { KIND_HTTP, KIND_SMTP, KIND_ADDRESS, KIND_REPORT } KIND;

typedef struct outcome {
    QUEUE_OUTCOME q;                    /* details and output point into the owned copies */
    char *details, *output;
} OUTCOME;

typedef struct transfer {
    HTTPSEND_XFER x;                    /* first: the core's part; x.response: HTTP the body's start, SMTP the last reply */
    KIND kind;
    QUEUE_JOB job;
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
    SIGNKEY *key;
    double key_checked;
    double next_claim;
    double db_retry_at;
    double backoff;
} ENDPOINTS_TASK;

/* ---------------------------------------------------------------- small helpers */

/* Text fit for a utf8mb4 column: invalid UTF-8 bytes and controls but TAB/LF become '?'
 * (CR a space). */
static char *
clean_text(const char *s, size_t len)
{
    char *out = utf8_clean(s, len, NULL);

    for (char *p = out; *p; p++)        /* no NUL inside: utf8_clean replaced them */
        if ((unsigned char) *p < 0x20 && *p != '\t' && *p != '\n')
            *p = *p == '\r' ? ' ' : '?';
    return out;
}

static void
outcome_set(OUTCOME *o, const QUEUE_JOB *job, QUEUE_RESULT result, const char *details, const char *output,
            int tls, double seconds)
{
    memset(o, 0, sizeof(*o));
    o->q.id = job->id;
    o->q.message_id = job->message_id;
    o->q.result = result;
    o->q.attempt = job->attempts + 1;
    o->q.sent_with_ssl = tls;
    o->q.seconds = seconds;
    o->details = clean_text(details, strlen(details));
    o->output = output ? clean_text(output, strlen(output)) : NULL;
}

static void
outcome_free(OUTCOME *o)
{
    mem_free(o->details);
    mem_free(o->output);
    memset(o, 0, sizeof(*o));
}

/* Queues a finished outcome for recording (taking its strings). */
static void
outcome_push(ENDPOINTS_TASK *t, OUTCOME *o)
{
    if (t->ndone == t->done_cap) {
        t->done_cap = t->done_cap ? t->done_cap * 2 : 64;
        t->done = mem_realloc(t->done, t->done_cap * sizeof(*t->done));
    }
    t->done[t->ndone++] = *o;
    memset(o, 0, sizeof(*o));
}

static void
db_failed(ENDPOINTS_TASK *t, const char *what, DB *db)
{
    t->backoff = t->backoff ? t->backoff * 2 : BACKOFF_MIN;
    if (t->backoff > BACKOFF_MAX)
        t->backoff = BACKOFF_MAX;
    t->db_retry_at = clock_mono() + t->backoff;
    msg_warn("endpoints: %s: %s (retrying in %.0f s)", what, db_error(db), t->backoff);
}

/* Records what finished; keeps what MariaDB cannot take. */
static void
record(ENDPOINTS_TASK *t)
{
    size_t i = 0;
    DB *db;

    if (t->ndone == 0)
        return;
    db = dbpool_get(t->env->pool);
    for (; i < t->ndone; i++) {
        OUTCOME *o = &t->done[i];

        o->q.details = o->details;
        o->q.output = o->output;
        if (queue_record(db, t->owner, &o->q) < 0) {
            db_failed(t, "recording an outcome", db);
            break;
        }
        msg_info("endpoints: message %llu attempt %u: %s: %s", o->q.message_id, o->q.attempt,
                 queue_message_status(o->q.result), o->details);
        outcome_free(o);
        t->backoff = 0;
    }
    dbpool_put(t->env->pool, db);
    memmove(t->done, t->done + i, (t->ndone - i) * sizeof(*t->done));
    t->ndone -= i;
}

/* ---------------------------------------------------------------- transfers */

static void
transfer_free(TRANSFER *tr)
{
    if (tr == NULL)
        return;
    httpsend_xfer_cleanup(&tr->x);
    curl_slist_free_all(tr->rcpts);
    mem_free(tr->target);
    mem_free(tr->data);
    mem_free(tr->raw);
    mem_free(tr->mail_from);
    mem_free(tr->rcpt_to);
    mem_free(tr->message_id);
    outcome_free(&tr->pending);
    mem_free(tr);
}

static size_t
on_read(char *dest, size_t size, size_t nmemb, void *arg)
{
    TRANSFER *tr = arg;
    size_t n = size * nmemb;

    if (n > tr->len - tr->off)
        n = tr->len - tr->off;
    memcpy(dest, tr->data + tr->off, n);
    tr->off += n;
    return n;
}

/* SMTP: keeps the server's last reply line and notes a TLS handshake. */
static int
on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *arg)
{
    TRANSFER *tr = arg;

    (void) easy;
    if (type == CURLINFO_HEADER_IN && size > 0) {
        buf_reset(tr->x.response);
        while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
            size--;
        buf_append(tr->x.response, data, size < RESPONSE_MAX ? size : RESPONSE_MAX);
    } else if (type == CURLINFO_TEXT && size > 14
               && (memcmp(data, "SSL connection", 14) == 0 || memcmp(data, "TLS connection", 14) == 0)) {
        tr->tls = 1;
    }
    return 0;
}

static int
transfer_add(ENDPOINTS_TASK *t, TRANSFER *tr)
{
    return httpsend_add(t->send, &tr->x);
}

/* An SMTP session that sends tr->data from mail_from to rcpt at url. */
static void
smtp_setup(TRANSFER *tr, const char *url, const char *mail_from, const char *rcpt)
{
    char *from = buf_asprintf("<%s>", mail_from), *to = buf_asprintf("<%s>", rcpt);

    httpsend_xfer_init(&tr->x, RESPONSE_MAX);
    tr->rcpts = httpsend_slist_add(NULL, to);
    curl_easy_setopt(tr->x.easy, CURLOPT_URL, url);
    curl_easy_setopt(tr->x.easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(tr->x.easy, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(tr->x.easy, CURLOPT_MAIL_RCPT, tr->rcpts);
    curl_easy_setopt(tr->x.easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(tr->x.easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(tr->x.easy, CURLOPT_READDATA, tr);
    curl_easy_setopt(tr->x.easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t) tr->len);
    curl_easy_setopt(tr->x.easy, CURLOPT_CONNECTTIMEOUT, (long) SMTP_CONNECT_TIMEOUT);
    curl_easy_setopt(tr->x.easy, CURLOPT_TIMEOUT, (long) SMTP_TIMEOUT);
    curl_easy_setopt(tr->x.easy, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(tr->x.easy, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(tr->x.easy, CURLOPT_DEBUGDATA, tr);
    mem_free(from);
    mem_free(to);
}

/* "smtp://host:port/helo" for an inet:host:port spec, or NULL. */
static char *
service_url(const char *spec, const char *helo)
{
    if (strncmp(spec, "inet:", 5) != 0)
        return NULL;
    return buf_asprintf("smtp://%s/%s", spec + 5, helo);
}

/* ---------------------------------------------------------------- reports */

/* Starts the report of a permanent failure; the outcome is recorded when it ends.
 * 0 started; -1 not (the outcome is queued at once with a note). */
static int
report_start(ENDPOINTS_TASK *t, TRANSFER *orig, OUTCOME *o, const char *status, const char *diagnostic,
             const PGCONF *cfg)
{
    NDR n = {.reporting_mta = t->env->host, .sender = orig->mail_from, .recipient = orig->rcpt_to,
             .status = status, .diagnostic = diagnostic, .details = o->details,
             .original_message_id = orig->message_id, .original = orig->raw, .original_len = orig->raw_len};
    TRANSFER *tr;
    char *url;

    if (!ndr_wanted(orig->mail_from))
        return -1;
    if (!orig->report_ok) {
        /* Never to a sender nobody authenticated: it may be forged (backscatter). */
        char *details = buf_asprintf("%s (no report: %s)", o->details, orig->report_why);

        mem_free(o->details);
        o->details = details;
        return -1;
    }
    if ((url = service_url(cfg->postfix_forward_address, t->env->host)) == NULL) {
        char *details = buf_asprintf("%s (no report: postfix.forward_address is not inet:host:port)", o->details);

        mem_free(o->details);
        o->details = details;
        return -1;
    }
    tr = mem_zalloc(sizeof(*tr));
    tr->kind = KIND_REPORT;
    tr->job = orig->job;
    tr->target = mem_strdup(orig->mail_from);
    {
        /* The forward service takes only mail with postgate's header. */
        FORWARD_INFO fi = {.kind = FORWARD_KIND_REPORT, .server_id = orig->job.server_id,
                           .message_id = orig->job.message_id, .time = (long long) time(NULL)};
        char *report = ndr_build(&n, &tr->len), *header;
        BUF *data;

        snprintf(fi.rcpt, sizeof(fi.rcpt), "%s", orig->mail_from);
        if (token_generate(fi.token, MESSAGE_TOKEN_LEN, TOKEN_LOWER_ALNUM) < 0)
            memset(fi.token, 'x', MESSAGE_TOKEN_LEN);   /* unused in a report; the MAC still holds */
        header = forward_header_make(t->env->seal, &fi);
        data = buf_new(tr->len + strlen(header) + 64);
        buf_printf(data, FORWARD_HEADER ": %s\r\n", header);
        buf_append(data, report, tr->len);
        tr->data = buf_steal(data, &tr->len);
        mem_free(report);
        mem_free(header);
    }
    tr->pending = *o;
    memset(o, 0, sizeof(*o));
    smtp_setup(tr, url, "", orig->mail_from);
    mem_free(url);
    if (transfer_add(t, tr) < 0) {
        *o = tr->pending;
        memset(&tr->pending, 0, sizeof(tr->pending));
        transfer_free(tr);
        return -1;
    }
    return 0;
}

static void
report_done(ENDPOINTS_TASK *t, TRANSFER *tr, CURLcode result, long code)
{
    OUTCOME o = tr->pending;
    char *details;

    memset(&tr->pending, 0, sizeof(tr->pending));
    if (result == CURLE_OK) {
        details = buf_asprintf("%s A delivery status notification was sent to %s.", o.details, tr->target);
    } else {
        details = buf_asprintf("%s The delivery status notification to %s could not be handed to Postfix: %s (%ld).",
                               o.details, tr->target, httpsend_error(&tr->x, result), code);
        msg_warn("endpoints: message %llu: report to %s: %s", tr->job.message_id, tr->target,
                 httpsend_error(&tr->x, result));
    }
    mem_free(o.details);
    o.details = details;
    outcome_push(t, &o);
}

/* ---------------------------------------------------------------- outcomes of transfers */

/* Finishes tr with result: queues the outcome, or starts a report first. */
static void
finish(ENDPOINTS_TASK *t, TRANSFER *tr, QUEUE_RESULT result, int bounce, const char *status,
       const char *details, const char *output, const char *diagnostic, const PGCONF *cfg)
{
    OUTCOME o;
    double seconds = tr->x.started > 0 ? clock_mono() - tr->x.started : 0;
    int max = (int) cfg->worker_endpoint_max_attempts;

    if (result == QUEUE_RETRY && (int) tr->job.attempts + 1 >= max) {
        char *d = buf_asprintf("%s (attempt %u of %d: giving up)", details, tr->job.attempts + 1, max);

        outcome_set(&o, &tr->job, QUEUE_FAILED, d, output, tr->tls, seconds);
        mem_free(d);
        bounce = 1;
        status = status[0] == '4' ? "4.4.7" : status;
    } else {
        outcome_set(&o, &tr->job, result, details, output, tr->tls, seconds);
    }
    if (o.q.result == QUEUE_RETRY)
        o.q.delay = queue_retry_delay(o.q.attempt, (unsigned) cfg->worker_endpoint_retry_delay);
    if (o.q.result == QUEUE_FAILED && bounce && report_start(t, tr, &o, status, diagnostic, cfg) == 0)
        return;
    outcome_push(t, &o);
}

/* A forward the server's send limit holds back: due again later, and the attempt does not
 * count against worker.endpoint_max_attempts (the message is neither lost nor failed). */
static void
deferred(ENDPOINTS_TASK *t, TRANSFER *tr, const char *reply, const PGCONF *cfg)
{
    OUTCOME o;
    char *details = buf_asprintf("Forward to %s deferred: the server's send limit is reached; tried again later",
                                 tr->target);
    double seconds = tr->x.started > 0 ? clock_mono() - tr->x.started : 0;

    outcome_set(&o, &tr->job, QUEUE_RETRY, details, reply, 0, seconds);
    o.q.attempt = tr->job.attempts;     /* not an attempt */
    o.q.delay = (unsigned) (cfg->worker_endpoint_retry_delay > 0 ? cfg->worker_endpoint_retry_delay : 1) * 5;
    mem_free(details);
    outcome_push(t, &o);
}

static void
http_done(ENDPOINTS_TASK *t, TRANSFER *tr, CURLcode result, long code, const PGCONF *cfg)
{
    char *details, *output = NULL, *diag;

    if (result != CURLE_OK) {
        const char *why = httpsend_error(&tr->x, result);

        details = buf_asprintf("Could not deliver to %s: %s", tr->target, why);
        diag = buf_asprintf("%s", why);
        finish(t, tr, QUEUE_RETRY, 1, "4.4.1", details, NULL, diag, cfg);
    } else {
        output = buf_asprintf("%ld %.*s", code, (int) buf_len(tr->x.response), (const char *) buf_data(tr->x.response));
        details = buf_asprintf("Received a %ld from %s", code, tr->target);
        diag = buf_asprintf("HTTP %ld from %s", code, tr->target);
        if (code >= 200 && code <= 299)
            finish(t, tr, QUEUE_SENT, 0, "2.0.0", details, output, NULL, cfg);
        else if (code >= 500)
            finish(t, tr, QUEUE_RETRY, 1, "4.0.0", details, output, diag, cfg);
        else if (code == 429)
            finish(t, tr, QUEUE_FAILED, 0, "5.0.0", details, output, diag, cfg);
        else
            finish(t, tr, QUEUE_FAILED, 1, "5.0.0", details, output, diag, cfg);
    }
    mem_free(details);
    mem_free(output);
    mem_free(diag);
}

static void
smtp_done(ENDPOINTS_TASK *t, TRANSFER *tr, CURLcode result, long code, const PGCONF *cfg)
{
    const char *reply = buf_len(tr->x.response) ? buf_cstr(tr->x.response) : NULL;
    const char *what = tr->kind == KIND_ADDRESS ? "forwarded to" : "delivered to SMTP endpoint";
    char *details;

    if (result == CURLE_OK) {
        details = buf_asprintf("Message %s %s", what, tr->target);
        finish(t, tr, QUEUE_SENT, 0, "2.0.0", details, reply, NULL, cfg);
    } else {
        const char *why = httpsend_error(&tr->x, result);
        char *diag = reply ? buf_asprintf("smtp; %s", reply) : buf_asprintf("%s", why);

        details = buf_asprintf("Could not be %s %s: %s", what, tr->target, why);
        if (tr->kind == KIND_ADDRESS && reply && strstr(reply, FORWARD_SEND_LIMIT_REPLY)) {
            deferred(t, tr, reply, cfg);
        } else if (tr->kind == KIND_ADDRESS && reply && strstr(reply, "suppression list")) {
            /* The server's own list, not the sender's fault: no report. */
            mem_free(details);
            details = buf_asprintf("Not forwarded to %s: %s", tr->target, reply);
            finish(t, tr, QUEUE_FAILED, 0, "5.7.1", details, reply, diag, cfg);
        } else if (code >= 500 && code <= 599) {
            finish(t, tr, QUEUE_FAILED, 1, "5.0.0", details, reply, diag, cfg);
        } else {
            finish(t, tr, QUEUE_RETRY, 1, "4.0.0", details, reply, diag, cfg);
        }
        mem_free(diag);
    }
    mem_free(details);
}

/* httpsend's callback for a finished transfer. */
static void
transfer_done(void *ctx, HTTPSEND_XFER *x, CURLcode result)
{
    ENDPOINTS_TASK *t = ctx;
    TRANSFER *tr = (TRANSFER *) x;
    const PGCONF *cfg = t->cfg;
    long code = 0;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    switch (tr->kind) {
    case KIND_HTTP:
        http_done(t, tr, result, code, cfg);
        break;
    case KIND_SMTP:
    case KIND_ADDRESS:
        smtp_done(t, tr, result, code, cfg);
        break;
    case KIND_REPORT:
        report_done(t, tr, result, code);
        break;
    }
    transfer_free(tr);
    if (httpsend_inflight(t->send) < (size_t) cfg->worker_endpoint_max_in_flight)
        t->next_claim = 0;
}

static void
drive(ENDPOINTS_TASK *t, int wait_ms, const PGCONF *cfg)
{
    t->cfg = cfg;
    httpsend_drive(t->send, wait_ms);
    t->cfg = NULL;
}

/* ---------------------------------------------------------------- starting a job */

/* The signing key (loaded, or created on an installation without one yet). */
static int
refresh_key(ENDPOINTS_TASK *t, DB *db)
{
    char kid[SIGNKEY_KID_MAX + 1], *error = NULL;
    SIGNKEY *key = NULL;
    int ret;

    if (t->key && clock_mono() - t->key_checked < KEY_CHECK_SECONDS)
        return 0;
    if ((ret = signkey_current_kid(db, kid)) == 0)
        ret = signkey_ensure(db, t->env->seal, kid, &error);
    if (ret < 0) {
        msg_warn("endpoints: signing key: %s", error ? error : db_error(db));
        mem_free(error);
        return t->key ? 0 : -1;
    }
    t->key_checked = clock_mono();
    if (t->key && strcmp(signkey_kid(t->key), kid) == 0)
        return 0;
    if ((ret = signkey_load(db, t->env->seal, &key, &error)) <= 0) {
        msg_error("endpoints: cannot load the signing key: %s", ret < 0 ? error : "none left");
        mem_free(error);
        return t->key ? 0 : -1;
    }
    signkey_free(t->key);
    t->key = key;
    return 0;
}

static const char *
col(const DB_RESULT *res, size_t c)
{
    const char *v = db_result_get(res, 0, c);

    return v ? v : "";
}

/* Counts the LOOP_HEADER fields of the raw message's header; *seen_r when one names rcpt. */
static unsigned
loop_count(const char *raw, size_t len, const char *rcpt, int *seen_r)
{
    size_t hlen = strlen(LOOP_HEADER), rlen = strlen(rcpt);
    unsigned n = 0;

    *seen_r = 0;
    for (size_t i = 0; i < len;) {
        const char *line = raw + i, *eol = memchr(line, '\n', len - i);
        size_t l = eol ? (size_t) (eol - line) : len - i;

        if (l == 0 || (l == 1 && line[0] == '\r'))
            break;                                  /* end of the header */
        if (l > hlen && strncasecmp(line, LOOP_HEADER, hlen) == 0 && line[hlen] == ':') {
            const char *v = line + hlen + 1;
            size_t vl = l - hlen - 1;

            n++;
            while (vl > 0 && (*v == ' ' || *v == '\t' || *v == '<'))
                v++, vl--;
            while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' ' || v[vl - 1] == '>'))
                vl--;
            if (vl == rlen && strncasecmp(v, rcpt, rlen) == 0)
                *seen_r = 1;
        }
        i += l + 1;
    }
    return n;
}

/* Builds the request of an HTTP endpoint (row of endpoint_list). 0 or -1 (error_r). */
static int
http_setup(ENDPOINTS_TASK *t, TRANSFER *tr, const DB_RESULT *ep, const DB_RESULT *m, char **error_r)
{
    const char *ssl = db_result_get(m, 0, MESSAGE_COL_SSL);
    INPAYLOAD_MESSAGE pm = {
        .id = tr->job.message_id, .token = col(m, MESSAGE_COL_TOKEN), .rcpt_to = tr->rcpt_to,
        .mail_from = tr->mail_from, .subject = col(m, MESSAGE_COL_SUBJECT), .message_id = tr->message_id,
        .timestamp = col(m, MESSAGE_COL_CREATED), .size = strtoull(col(m, MESSAGE_COL_SIZE), NULL, 10),
        .spam_status = col(m, MESSAGE_COL_SPAM_STATUS), .bounce = atoi(col(m, MESSAGE_COL_BOUNCE)) != 0,
        .received_with_ssl = ssl ? atoi(ssl) != 0 : -1, .raw = tr->raw, .raw_len = tr->raw_len,
    };
    INPAYLOAD_OPTIONS po = {
        .raw_format = strcmp(col(ep, EP_HTTP_COL_FORMAT), "RawMessage") == 0,
        .form = strcmp(col(ep, EP_HTTP_COL_ENCODING), "FormData") == 0,
        .strip_replies = atoi(col(ep, EP_HTTP_COL_STRIP_REPLIES)) != 0,
        .include_attachments = atoi(col(ep, EP_HTTP_COL_INCLUDE_ATTACHMENTS)) != 0,
    };
    const char *content_type;
    char *sha1, *sha256, *ct;
    long timeout = atol(col(ep, EP_HTTP_COL_TIMEOUT));

    tr->kind = KIND_HTTP;
    tr->target = mem_strdup(col(ep, EP_HTTP_COL_URL));
    tr->data = inpayload_build(&pm, &po, &tr->len, &content_type);
    if (t->key == NULL || signkey_sign(t->key, tr->data, tr->len, &sha1, &sha256) < 0) {
        *error_r = mem_strdup("cannot sign the request (no usable signing key)");
        return -1;
    }
    httpsend_xfer_init(&tr->x, RESPONSE_MAX);
    ct = buf_asprintf("Content-Type: %s", content_type);
    httpsend_header_line(&tr->x, ct);
    mem_free(ct);
    httpsend_header_line(&tr->x, "Expect:");
    httpsend_header(&tr->x, "X-Postal-Signature", sha1);
    httpsend_header(&tr->x, "X-Postal-Signature-256", sha256);
    httpsend_header(&tr->x, "X-Postal-Signature-KID", signkey_kid(t->key));
    mem_free(sha1);
    mem_free(sha256);
    /* The same on every attempt of this message to this endpoint: the receiver's
     * de-duplication key (deliveries are at least once). */
    ct = buf_asprintf("\"msg-%llu-%s-ep-%llu\"", tr->job.message_id, col(m, MESSAGE_COL_TOKEN), tr->job.endpoint_id);
    httpsend_header(&tr->x, "Idempotency-Key", ct);
    mem_free(ct);
    tr->tls = strncasecmp(tr->target, "https:", 6) == 0;
    if (timeout < 1)
        timeout = 5;
    httpsend_post(&tr->x, tr->target, tr->data, tr->len, timeout);
    return 0;
}

/* An SMTP endpoint: the stored message, as received, to the route address. */
static int
smtp_endpoint_setup(ENDPOINTS_TASK *t, TRANSFER *tr, DB *db, const DB_RESULT *ep, char **error_r)
{
    const char *host = col(ep, EP_SMTP_COL_HOSTNAME), *mode = col(ep, EP_SMTP_COL_SSL_MODE);
    const char *user = db_result_get(ep, 0, EP_SMTP_COL_USERNAME);
    int tls = strcmp(mode, "TLS") == 0;
    char *url;

    tr->kind = KIND_SMTP;
    tr->target = buf_asprintf(strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, col(ep, EP_SMTP_COL_PORT));
    tr->data = mem_alloc(tr->raw_len + 1);
    memcpy(tr->data, tr->raw, tr->raw_len);
    tr->len = tr->raw_len;
    url = buf_asprintf("%s://%s/%s", tls ? "smtps" : "smtp", tr->target, t->env->host);
    smtp_setup(tr, url, tr->mail_from, tr->rcpt_to);
    mem_free(url);
    if (strcmp(mode, "None") == 0) {
        curl_easy_setopt(tr->x.easy, CURLOPT_USE_SSL, (long) CURLUSESSL_NONE);
    } else if (strcmp(mode, "Auto") == 0) {
        /* Opportunistic, as Postfix's smtp_tls_security_level = may: no certificate check. */
        curl_easy_setopt(tr->x.easy, CURLOPT_USE_SSL, (long) CURLUSESSL_TRY);
        curl_easy_setopt(tr->x.easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(tr->x.easy, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        curl_easy_setopt(tr->x.easy, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
    }
    if (user && *user) {
        BUF *password = buf_new(64);
        int ret = endpoint_smtp_password(db, t->env->seal, tr->job.endpoint_id, password);

        if (ret < 0) {
            buf_free(password);
            *error_r = ret == DB_ERR_TEMP ? NULL : mem_strdup("the endpoint's password does not open with this "
                                                              "installation's secret key");
            return ret == DB_ERR_TEMP ? -2 : -1;
        }
        curl_easy_setopt(tr->x.easy, CURLOPT_USERNAME, user);
        curl_easy_setopt(tr->x.easy, CURLOPT_PASSWORD, buf_cstr(password));  /* libcurl copies it */
        buf_free(password);
    }
    return 0;
}

/* An Address endpoint: the stored message to Postfix's forward service for address. */
static int
address_setup(ENDPOINTS_TASK *t, TRANSFER *tr, const DB_RESULT *ep, const PGCONF *cfg, char **error_r)
{
    const char *address = col(ep, EP_COL_NAME);
    char *url = service_url(cfg->postfix_forward_address, t->env->host), *header;
    FORWARD_INFO fi = {0};
    BUF *data;

    tr->kind = KIND_ADDRESS;
    tr->target = mem_strdup(address);
    if (url == NULL) {
        *error_r = buf_asprintf("postfix.forward_address \"%s\" is not inet:host:port", cfg->postfix_forward_address);
        return -1;
    }
    /* The milter makes it an outgoing message of the route's server with this token
     * (forward.h): return path, DKIM signature, send limit and suppression list. */
    fi.kind = FORWARD_KIND_FORWARD;
    fi.server_id = tr->job.server_id;
    fi.message_id = tr->job.message_id;
    fi.time = (long long) time(NULL);
    snprintf(fi.rcpt, sizeof(fi.rcpt), "%s", address);
    if (token_generate(fi.token, MESSAGE_TOKEN_LEN, TOKEN_LOWER_ALNUM) < 0) {
        *error_r = mem_strdup("random number generator failed");
        mem_free(url);
        return -1;
    }
    header = forward_header_make(t->env->seal, &fi);
    data = buf_new(tr->raw_len + strlen(header) + 512);
    buf_printf(data, FORWARD_HEADER ": %s\r\n", header);
    buf_printf(data, LOOP_HEADER ": <%s>\r\n", tr->rcpt_to);
    buf_append(data, tr->raw, tr->raw_len);
    tr->data = buf_steal(data, &tr->len);
    mem_free(header);
    smtp_setup(tr, url, tr->mail_from, address);
    curl_easy_setopt(tr->x.easy, CURLOPT_USE_SSL, (long) CURLUSESSL_NONE);
    mem_free(url);
    return 0;
}

/* Loads what job needs and starts its transfer; what cannot be attempted is an outcome.
 * 0 handled, -1 MariaDB failed (the row is given back). */
static int
job_start(ENDPOINTS_TASK *t, DB *db, QUEUE_JOB *job, const PGCONF *cfg)
{
    TRANSFER *tr = mem_zalloc(sizeof(*tr));
    DB_RESULT *m = NULL, *ep = NULL;
    char *error = NULL, *raw = NULL;
    size_t raw_len = 0;
    int ret, seen = 0, temp = 0;
    OUTCOME o;

    tr->job = *job;
    if ((ret = message_get(db, job->server_id, job->message_id, &m)) > 0)
        ret = message_view_raw(db, job->server_id, m, 0, &raw, &raw_len);
    if (ret > 0 && (ret = endpoint_list(db, job->type, job->server_id, NULL, job->endpoint_id, &ep)) == 0)
        error = buf_asprintf("The %s no longer exists", endpoint_type_name(job->type));
    if (ret < 0)
        goto temp;
    if (ret == 0 && error == NULL)
        error = mem_strdup("The message or its stored copy no longer exists");
    if (error == NULL) {
        tr->raw = raw;
        tr->raw_len = raw_len;
        raw = NULL;
        tr->mail_from = mem_strdup(col(m, MESSAGE_COL_MAIL_FROM));
        tr->rcpt_to = mem_strdup(col(m, MESSAGE_COL_RCPT_TO));
        tr->message_id = mem_strdup(col(m, MESSAGE_COL_MESSAGE_ID));
        if (ret > 0) {
            char spf[32], dkim[32], dkim_domain[254];

            if ((ret = message_sender_auth(db, job->server_id, job->message_id, spf, dkim, dkim_domain)) < 0)
                goto temp;
            tr->report_ok = senderauth_report_allowed(tr->mail_from, spf, dkim, dkim_domain,
                                                      cfg->dns_return_path_domain, tr->report_why,
                                                      sizeof(tr->report_why));
        }
        switch (job->type) {
        case EP_TYPE_HTTP:
            if (refresh_key(t, db) < 0) {
                error = mem_strdup("cannot sign the request (no usable signing key)");
                ret = -1;
            } else {
                ret = http_setup(t, tr, ep, m, &error);
            }
            break;
        case EP_TYPE_SMTP:
            ret = smtp_endpoint_setup(t, tr, db, ep, &error);
            break;
        case EP_TYPE_ADDRESS:
            if (loop_count(tr->raw, tr->raw_len, tr->rcpt_to, &seen) >= LOOP_MAX || seen) {
                tr->kind = KIND_ADDRESS;
                tr->target = mem_strdup(col(ep, EP_COL_NAME));
                error = buf_asprintf("Mail loop: the message already went through %s; not forwarded to %s",
                                     seen ? tr->rcpt_to : "too many routes", tr->target);
                finish(t, tr, QUEUE_FAILED, 1, "5.4.6", error, NULL, error, cfg);
                goto out;
            }
            ret = address_setup(t, tr, ep, cfg, &error);
            break;
        }
        if (ret == -2)
            goto temp;
        if (ret == 0 && (tr->kind == KIND_HTTP || tr->kind == KIND_SMTP))
            httpsend_guard(&tr->x, &cfg->security_outbound_allowed_networks);   /* a tenant's receiver */
        if (ret == 0 && transfer_add(t, tr) == 0) {
            tr = NULL;
            goto out;
        }
        if (error == NULL)
            error = mem_strdup("libcurl refused the transfer");
        /* A request that cannot be built now may be buildable later (a key, a setting). */
        finish(t, tr, QUEUE_RETRY, 1, "4.3.0", error, NULL, error, cfg);
        goto out;
    }
    outcome_set(&o, job, QUEUE_ERROR, error, NULL, 0, 0);
    outcome_push(t, &o);
    goto out;
temp:
    if (queue_release(db, t->owner, job->id) < 0)
        msg_warn("endpoints: cannot give back row %llu (due again when its lease ends): %s", job->id, db_error(db));
    temp = 1;
out:
    transfer_free(tr);
    db_result_free(m);
    db_result_free(ep);
    mem_free(raw);
    mem_free(error);
    return temp ? -1 : 0;
}

static void
claim(ENDPOINTS_TASK *t, const PGCONF *cfg)
{
    long long room = cfg->worker_endpoint_max_in_flight - (long long) httpsend_inflight(t->send);
    QUEUE_JOB *jobs = NULL;
    DB *db;
    int n;

    if (room <= 0 || t->ndone >= 256)
        return;
    db = dbpool_get(t->env->pool);
    n = queue_claim(db, t->owner, (unsigned) room, LEASE_SECONDS, &jobs);
    if (n < 0)
        db_failed(t, "claiming due rows", db);
    if (n <= 0) {
        dbpool_put(t->env->pool, db);
        t->next_claim = clock_mono() + IDLE_CLAIM_SECONDS;
        return;
    }
    t->backoff = 0;
    t->next_claim = n < room ? clock_mono() + IDLE_CLAIM_SECONDS : 0;
    for (int i = 0; i < n; i++) {
        if (job_start(t, db, &jobs[i], cfg) < 0) {
            db_failed(t, "loading a queued message", db);
            for (int k = i + 1; k < n; k++)
                if (queue_release(db, t->owner, jobs[k].id) < 0)
                    break;
            break;
        }
    }
    dbpool_put(t->env->pool, db);
    mem_free(jobs);
}

static void *
run(void *arg)
{
    ENDPOINTS_TASK *t = arg;
    double deadline;

    address_init();
    while (!atomic_load(&t->env->stopping)) {
        PGCONF *cfg = conf_holder_get(&t->env->conf);

        if (clock_mono() >= t->db_retry_at) {
            record(t);
            if (clock_mono() >= t->db_retry_at && clock_mono() >= t->next_claim)
                claim(t, cfg);
        }
        drive(t, t->next_claim == 0 && clock_mono() >= t->db_retry_at
              && httpsend_inflight(t->send) < (size_t) cfg->worker_endpoint_max_in_flight ? 0 : POLL_MS, cfg);
        conf_unref(cfg);
    }
    if (httpsend_inflight(t->send))
        msg_info("endpoints: waiting for %zu delivery(ies) in flight", httpsend_inflight(t->send));
    while (httpsend_inflight(t->send) > 0) {
        PGCONF *cfg = conf_holder_get(&t->env->conf);

        drive(t, POLL_MS, cfg);
        conf_unref(cfg);
    }
    deadline = clock_mono() + STOP_RECORD_SECONDS;
    while (t->ndone > 0 && clock_mono() < deadline) {
        record(t);
        if (t->ndone > 0)
            sleep(1);
    }
    if (t->ndone > 0)
        msg_error("endpoints: %zu outcome(s) not recorded (MariaDB unreachable); those messages are delivered "
                  "again when their lease ends", t->ndone);
    return NULL;
}

/* ---------------------------------------------------------------- task.h */

int
endpoints_prepare(WORKER_ENV *env, void **task_r)
{
    (void) env;
    (void) task_r;
    return httpsend_global_init("endpoints");
}

int
endpoints_start(WORKER_ENV *env, void **task_r)
{
    ENDPOINTS_TASK *t = mem_zalloc(sizeof(*t));
    int err;

    t->env = env;
    snprintf(t->owner, sizeof(t->owner), "%s/%ld/endpoints", env->host, (long) getpid());
    if ((t->send = httpsend_new("endpoints", transfer_done, t)) == NULL) {
        mem_free(t);
        return -1;
    }
    if ((err = pthread_create(&t->thread, NULL, run, t)) != 0) {
        msg_error("endpoints: cannot start a thread: %s", strerror(err));
        httpsend_free(t->send);
        mem_free(t);
        return -1;
    }
    t->thread_started = 1;
    *task_r = t;
    return 0;
}

void
endpoints_stop(void *task)
{
    ENDPOINTS_TASK *t = task;

    if (t == NULL)
        return;
    if (t->thread_started)
        pthread_join(t->thread, NULL);
    for (size_t i = 0; i < t->ndone; i++)
        outcome_free(&t->done[i]);
    mem_free(t->done);
    signkey_free(t->key);
    httpsend_free(t->send);
    mem_free(t);
    httpsend_global_cleanup();
}
