/*
 * endpoint_request.c -- builds the transfer of each endpoint kind for the endpoint task
 * (endpoints.c, endpoint_int.h): an HTTP endpoint's signed Postal payload, an SMTP
 * endpoint's session with the stored message, an Address endpoint's forward to Postfix's
 * forward service with its sealed X-Postgate-Forward header, and the SMTP session every
 * SMTP-borne transfer (forwards and reports too) goes through.
 *
 * Contract: each *_setup fills tr (kind, target, data, the easy handle) from rows the
 * caller loaded and returns 0, or -1 with *error_r (ep_smtp_endpoint_setup: -2 when
 * MariaDB failed); the caller adds the transfer and records every outcome.
 * Must never: start a transfer, record anything, or send a request unsigned.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "endpoint_int.h"
#include "httpsend.h"
#include "mail/endpoint.h"
#include "mail/forward.h"
#include "mail/inpayload.h"
#include "mail/message.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define SMTP_CONNECT_TIMEOUT 30

/* ---------------------------------------------------------------- SMTP sessions */

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

/* An SMTP session that sends tr->data from mail_from to rcpt at url. */
void
ep_smtp_setup(TRANSFER *tr, const char *url, const char *mail_from, const char *rcpt)
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
char *
ep_service_url(const char *spec, const char *helo)
{
    if (strncmp(spec, "inet:", 5) != 0)
        return NULL;
    return buf_asprintf("smtp://%s/%s", spec + 5, helo);
}

/* ---------------------------------------------------------------- each kind */

const char *
ep_col(const DB_RESULT *res, size_t c)
{
    const char *v = db_result_get(res, 0, c);

    return v ? v : "";
}

/* Counts the LOOP_HEADER fields of the raw message's header; *seen_r when one names rcpt. */
unsigned
ep_loop_count(const char *raw, size_t len, const char *rcpt, int *seen_r)
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
int
ep_http_setup(ENDPOINTS_TASK *t, TRANSFER *tr, const DB_RESULT *ep, const DB_RESULT *m, char **error_r)
{
    const char *ssl = db_result_get(m, 0, MESSAGE_COL_SSL);
    INPAYLOAD_MESSAGE pm = {
        .id = tr->job.message_id, .token = ep_col(m, MESSAGE_COL_TOKEN), .rcpt_to = tr->rcpt_to,
        .mail_from = tr->mail_from, .subject = ep_col(m, MESSAGE_COL_SUBJECT), .message_id = tr->message_id,
        .timestamp = ep_col(m, MESSAGE_COL_CREATED), .size = strtoull(ep_col(m, MESSAGE_COL_SIZE), NULL, 10),
        .spam_status = ep_col(m, MESSAGE_COL_SPAM_STATUS), .bounce = atoi(ep_col(m, MESSAGE_COL_BOUNCE)) != 0,
        .received_with_ssl = ssl ? atoi(ssl) != 0 : -1, .raw = tr->raw, .raw_len = tr->raw_len,
    };
    INPAYLOAD_OPTIONS po = {
        .raw_format = strcmp(ep_col(ep, EP_HTTP_COL_FORMAT), "RawMessage") == 0,
        .form = strcmp(ep_col(ep, EP_HTTP_COL_ENCODING), "FormData") == 0,
        .strip_replies = atoi(ep_col(ep, EP_HTTP_COL_STRIP_REPLIES)) != 0,
        .include_attachments = atoi(ep_col(ep, EP_HTTP_COL_INCLUDE_ATTACHMENTS)) != 0,
    };
    const char *content_type;
    char *ct;
    long timeout = atol(ep_col(ep, EP_HTTP_COL_TIMEOUT));

    tr->kind = KIND_HTTP;
    tr->target = mem_strdup(ep_col(ep, EP_HTTP_COL_URL));
    tr->data = inpayload_build(&pm, &po, &tr->len, &content_type);
    httpsend_xfer_init(&tr->x, RESPONSE_MAX);
    if (reqsign_headers(&t->sign, &tr->x, tr->data, tr->len) < 0) {
        *error_r = mem_strdup("cannot sign the request (no usable signing key)");
        return -1;
    }
    ct = buf_asprintf("Content-Type: %s", content_type);
    httpsend_header_line(&tr->x, ct);
    mem_free(ct);
    httpsend_header_line(&tr->x, "Expect:");
    /* The same on every attempt of this message to this endpoint: the receiver's
     * de-duplication key (deliveries are at least once). */
    ct = buf_asprintf("\"msg-%llu-%s-ep-%llu\"", tr->job.message_id, ep_col(m, MESSAGE_COL_TOKEN), tr->job.endpoint_id);
    httpsend_header(&tr->x, "Idempotency-Key", ct);
    mem_free(ct);
    tr->tls = strncasecmp(tr->target, "https:", 6) == 0;
    if (timeout < 1)
        timeout = 5;
    httpsend_post(&tr->x, tr->target, tr->data, tr->len, timeout);
    return 0;
}

/* An SMTP endpoint: the stored message, as received, to the route address. */
int
ep_smtp_endpoint_setup(ENDPOINTS_TASK *t, TRANSFER *tr, DB *db, const DB_RESULT *ep, char **error_r)
{
    const char *host = ep_col(ep, EP_SMTP_COL_HOSTNAME), *mode = ep_col(ep, EP_SMTP_COL_SSL_MODE);
    const char *user = db_result_get(ep, 0, EP_SMTP_COL_USERNAME);
    int tls = strcmp(mode, "TLS") == 0;
    char *url;

    tr->kind = KIND_SMTP;
    tr->target = buf_asprintf(strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, ep_col(ep, EP_SMTP_COL_PORT));
    tr->data = mem_alloc(tr->raw_len + 1);
    memcpy(tr->data, tr->raw, tr->raw_len);
    tr->len = tr->raw_len;
    url = buf_asprintf("%s://%s/%s", tls ? "smtps" : "smtp", tr->target, t->env->host);
    ep_smtp_setup(tr, url, tr->mail_from, tr->rcpt_to);
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
int
ep_address_setup(ENDPOINTS_TASK *t, TRANSFER *tr, const DB_RESULT *ep, const PGCONF *cfg, char **error_r)
{
    const char *address = ep_col(ep, EP_COL_NAME);
    char *url = ep_service_url(cfg->postfix_forward_address, t->env->host), *header;
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
    ep_smtp_setup(tr, url, tr->mail_from, address);
    curl_easy_setopt(tr->x.easy, CURLOPT_USE_SSL, (long) CURLUSESSL_NONE);
    mem_free(url);
    return 0;
}
