/*
 * lmtp.c -- the LMTP server task (lmtp.h). One thread accepts; each connection gets a
 * thread of its own (at most LMTP_MAX_CLIENTS; Postfix's lmtp client keeps few open).
 * All socket I/O has deadlines, so a stalled peer costs a thread for at most
 * LMTP_TIMEOUT seconds. The spam/virus verdict comes only from the milter's signed
 * X-Postgate-Inspection header (inspection.h), never from the visible X-Postal-Spam*
 * headers; a route in Quarantine mode holds what that verdict calls spam, and a
 * recipient whose server's spam rules refuse it gets its own 550 (refuse_spam).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "lmtp.h"
#include "mail/address.h"
#include "mail/daemon.h"
#include "mail/dsn.h"
#include "mail/inbound.h"
#include "mail/inspection.h"
#include "mail/message.h"
#include "mail/returnpath.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

#define LMTP_MAX_CLIENTS 64
#define LMTP_MAX_RCPTS 1000
#define LMTP_MAX_LINE 4096
#define LMTP_TIMEOUT 300
#define LMTP_DRAIN_SECONDS 30

typedef struct lmtp_server {
    WORKER_ENV *env;
    int fd;
    pthread_t acceptor;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    unsigned active;
    unsigned long next_id;
} LMTP_SERVER;

typedef struct rcpt {
    char address[INBOUND_MAX_ADDRESS + 1];
    INBOUND_TARGET t;
    const char *reply;          /* after DATA: NULL until decided */
    RETURNPATH_REPORT report;   /* a return path's bounce or complaint: its original message */
    char reply_buf[INBOUND_MAX_ADDRESS + 192];
} RCPT;

typedef struct session {
    LMTP_SERVER *srv;
    int fd;
    unsigned long id;
    char in[16384];
    size_t inlen;
    char mail_from[INBOUND_MAX_ADDRESS + 1];
    int have_mail;
    RCPT *rcpts;                /* grown as RCPTs come, up to LMTP_MAX_RCPTS: a RCPT is */
    size_t nrcpts, cap;         /* ~1 KiB, and most transactions have one */
} SESSION;

/* ---------------------------------------------------------------- I/O */

static int
say(SESSION *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
say(SESSION *s, const char *fmt, ...)
{
    BUF *b = buf_new(256);
    va_list ap;
    int ret;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
    buf_append_str(b, "\r\n");
    ret = sock_write_all(s->fd, buf_data(b), buf_len(b), clock_mono() + LMTP_TIMEOUT);
    buf_free(b);
    return ret;
}

/* One line without its CRLF into line. 1, 0 at end of stream (or, between commands,
 * once the worker is stopping), -1 on error/timeout, -2 when longer than max (the rest
 * of the line is consumed). */
static int
read_line(SESSION *s, BUF *line, size_t max, int between_commands)
{
    double deadline = clock_mono() + LMTP_TIMEOUT;
    int too_long = 0;

    buf_reset(line);
    for (;;) {
        char *lf = memchr(s->in, '\n', s->inlen);

        if (lf) {
            size_t len = (size_t) (lf - s->in), used = len + 1;

            if (len > 0 && s->in[len - 1] == '\r')
                len--;
            if (!too_long && buf_len(line) + len <= max)
                buf_append(line, s->in, len);
            else
                too_long = 1;
            memmove(s->in, s->in + used, s->inlen - used);
            s->inlen -= used;
            return too_long ? -2 : 1;
        }
        if (s->inlen == sizeof(s->in)) {
            /* A line longer than the buffer: keep what fits, drop the rest. */
            if (!too_long && buf_len(line) + s->inlen <= max)
                buf_append(line, s->in, s->inlen);
            else
                too_long = 1;
            s->inlen = 0;
        }
        {
            /* Short waits, so an idle connection notices a stop. */
            double tick = clock_mono() + 0.25;
            ssize_t n = sock_read_some(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen,
                                       tick < deadline ? tick : deadline);

            if (n < 0 && errno == ETIMEDOUT && clock_mono() < deadline) {
                if (between_commands && s->inlen == 0 && buf_len(line) == 0
                    && atomic_load(&s->srv->env->stopping))
                    return 0;
                continue;
            }
            if (n <= 0)
                return n == 0 ? 0 : -1;
            s->inlen += (size_t) n;
        }
    }
}

/* ---------------------------------------------------------------- storing */

/* Subject and Message-ID of the message, for the message rows. */
static void
summarize(const char *data, size_t len, char **subject_r, char **message_id_r)
{
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
    const char *subject = m ? g_mime_message_get_subject(m) : NULL;
    const char *message_id = m ? g_mime_message_get_message_id(m) : NULL;

    *subject_r = mem_strdup(subject ? subject : "");
    *message_id_r = message_id ? buf_asprintf("<%s>", message_id) : mem_strdup("");
    if (m)
        g_object_unref(m);
    g_object_unref(parser);
    g_object_unref(stream);
}

/* Where headers end: the offset of the body (after the empty line), headers_len_r the
 * header block's length with its last CRLF and without the empty line. */
static size_t
split_headers(const char *data, size_t len, size_t *headers_len_r)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (data[i] == '\n' && (data[i + 1] == '\n' || (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n'))) {
            *headers_len_r = i + 1;
            return data[i + 1] == '\n' ? i + 2 : i + 3;
        }
        if (i == 0 && (data[0] == '\n' || (data[0] == '\r' && data[1] == '\n'))) {
            *headers_len_r = 0;
            return data[0] == '\n' ? 1 : 2;
        }
    }
    *headers_len_r = len;
    return len;
}

typedef struct store_ctx {
    RCPT **rcpts;               /* of this submission, parallel to sub->rcpts */
    const DSN *dsn;             /* the message as a DSN, when a recipient is a return path */
} STORE_CTX;

/* Postal's spam_mode Quarantine: spam (under the recipient server's threshold) for a
 * route that quarantines is held, whatever the route's mode. */
static int
quarantined(const INSPECTION *in, const INBOUND_TARGET *t)
{
    return in && t->route_id && strcmp(t->spam_mode, "Quarantine") == 0
        && strcmp(inspection_spam_status(in, t->server_id), "Spam") == 0;
}

static int
queue_deliveries(DB *db, MESSAGE_SUBMISSION *sub, void *arg)
{
    STORE_CTX *sc = arg;

    for (size_t i = 0; i < sub->nrcpts; i++) {
        const INBOUND_TARGET *t = &sc->rcpts[i]->t;

        if (sc->rcpts[i]->report.original_id) {
            /* The report row commits with what it changes, or nothing does. */
            int ret = returnpath_record(db, sub->server_id, sub->rcpts[i].id, sc->dsn, &sc->rcpts[i]->report);

            if (ret < 0)
                return ret;
            continue;
        }
        if (sub->rcpts[i].status == NULL && sub->rcpts[i].hold_reason == NULL && t->route_id) {
            int ret = inbound_queue_delivery(db, sub->rcpts[i].id, sub->server_id, t->route_id);

            if (ret < 0)
                return ret;
        }
    }
    return 0;
}

/* The row's status for a target: NULL (Pending, delivery queued), "Processed", or held
 * with *hold_r. */
static const char *
row_status(const RCPT *r, const char **hold_r)
{
    const INBOUND_TARGET *t = &r->t;

    *hold_r = NULL;
    if (r->report.original_id)
        return "Processed";
    if (t->kind == INBOUND_RETURN_PATH && t->route_id == 0)
        return "Processed";
    if (strcmp(t->mode, "Accept") == 0)
        return "Processed";
    if (strcmp(t->mode, "Hold") == 0) {
        *hold_r = "Route is in Hold mode";
        return NULL;
    }
    if (!t->has_endpoint) {
        *hold_r = "Route has no endpoint";
        return NULL;
    }
    return NULL;
}

/* Return-path recipients of a bounce or complaint: the original message each one is
 * about (returnpath.h). A recipient whose original cannot be found keeps its ordinary
 * target (the __returnpath__ route or Processed). < 0 on a database error. */
static int
find_reports(SESSION *s, DB *db, const DSN *dsn)
{
    for (size_t i = 0; i < s->nrcpts; i++) {
        RCPT *r = &s->rcpts[i];
        int ret;

        r->report = (RETURNPATH_REPORT) {0};
        if (r->t.kind == INBOUND_RETURN_PATH
            && (ret = returnpath_find_original(db, dsn, r->t.server_id, r->t.message_id, &r->report)) < 0)
            return ret;
    }
    return 0;
}

/*
 * Postal's spam rules per recipient (inspection_refuses): the milter refuses a whole
 * transaction when they say so, except one that also went outside or a release, whose
 * route recipients are refused here, one by one (Postfix bounces them to the sender's
 * return path). A server that cannot be read is a 451 for its recipients.
 */
static void
refuse_spam(SESSION *s, DB *db, const INSPECTION *in)
{
    SERVER server = {0};
    int have = 0;

    if (!in->spam_checked)
        return;
    for (size_t i = 0; i < s->nrcpts; i++) {
        RCPT *r = &s->rcpts[i];
        char why[128];
        int ret = 1;

        if (r->reply || r->report.original_id || r->t.kind == 0)
            continue;
        if (!have || server.id != r->t.server_id) {
            ret = server_by_id(db, r->t.server_id, &server);
            have = ret > 0;
        }
        if (ret < 0)
            snprintf(r->reply_buf, sizeof(r->reply_buf), "451 4.3.0 <%s> temporary failure reading its server",
                     r->address);
        else if (ret == 0 || !inspection_refuses(in, &server, &r->t, why, sizeof(why)))
            continue;
        else {
            msg_info("lmtp %lu: from=<%s> to=<%s> server %llu: %s", s->id, s->mail_from, r->address,
                     r->t.server_id, why);
            snprintf(r->reply_buf, sizeof(r->reply_buf), "550 5.7.1 <%s> %s", r->address, why);
        }
        r->reply = r->reply_buf;
    }
}

/* Stores the message once per server of the accepted recipients and sets each one's reply. */
static void
store(SESSION *s, DB *db, const PGCONF *cfg, const char *data, size_t len)
{
    size_t headers_len, body_at = split_headers(data, len, &headers_len);
    char *subject, *message_id;
    DSN *dsn = NULL;
    INSPECTION *in = mem_zalloc(sizeof(*in));
    int inspected = inspection_from_headers(s->srv->env->seal, data, headers_len, data + body_at, len - body_at, in);

    if (inspected < 0)
        msg_warn("lmtp %lu: from=<%s>: ignoring an %s header that postgate-milter did not make for this message",
                 s->id, s->mail_from, INSPECTION_HEADER);
    for (size_t i = 0; i < s->nrcpts && dsn == NULL; i++)
        if (s->rcpts[i].t.kind == INBOUND_RETURN_PATH)
            dsn = dsn_parse(data, len, s->mail_from);
    if (dsn && find_reports(s, db, dsn) < 0) {
        msg_warn("lmtp %lu: looking up a bounce's original message: %s", s->id, db_error(db));
        for (size_t i = 0; i < s->nrcpts; i++)
            snprintf(s->rcpts[i].reply_buf, sizeof(s->rcpts[i].reply_buf),
                     "451 4.3.0 <%s> temporary failure storing the message", s->rcpts[i].address);
        for (size_t i = 0; i < s->nrcpts; i++)
            s->rcpts[i].reply = s->rcpts[i].reply_buf;
        dsn_free(dsn);
        mem_free(in);
        return;
    }
    if (inspected > 0)
        refuse_spam(s, db, in);
    summarize(data, len, &subject, &message_id);
    for (size_t i = 0; i < s->nrcpts; i++) {
        unsigned long long server_id = s->rcpts[i].t.server_id;
        MESSAGE_RCPT *rows;
        MESSAGE_INSPECTION verdict;
        char *spam_checks = NULL;
        RCPT **mine;
        size_t n = 0;
        STORE_CTX sc;
        int ret;

        if (s->rcpts[i].reply)
            continue;
        rows = mem_zalloc(s->nrcpts * sizeof(*rows));
        mine = mem_zalloc(s->nrcpts * sizeof(*mine));
        for (size_t j = i; j < s->nrcpts; j++) {
            if (s->rcpts[j].reply || s->rcpts[j].t.server_id != server_id)
                continue;
            rows[n].address = s->rcpts[j].address;
            rows[n].route_id = s->rcpts[j].report.original_id ? 0 : s->rcpts[j].t.route_id;
            rows[n].status = row_status(&s->rcpts[j], &rows[n].hold_reason);
            if (!s->rcpts[j].report.original_id && quarantined(inspected > 0 ? in : NULL, &s->rcpts[j].t)) {
                rows[n].status = NULL;
                rows[n].hold_reason = INSPECTION_QUARANTINE_REASON;
            }
            mine[n++] = &s->rcpts[j];
        }
        sc.rcpts = mine;
        sc.dsn = dsn;
        if (inspected > 0)
            inspection_row(in, server_id, &verdict, &spam_checks);
        MESSAGE_SENDER_AUTH auth = {.spf = in->spf, .dkim = in->dkim, .dkim_domain = in->dkim_domain};
        MESSAGE_SUBMISSION sub = {
            .server_id = server_id, .scope = "incoming", .mail_from = s->mail_from, .subject = subject,
            .message_id = message_id, .hold_expiry_days = (int) cfg->worker_hold_expiry_days,
            .headers = data, .headers_len = headers_len, .body = data + body_at, .body_len = len - body_at,
            .rcpts = rows, .nrcpts = n, .in_txn = queue_deliveries, .in_txn_arg = &sc,
            .inspection = inspected > 0 ? &verdict : NULL,
            .sender_auth = inspected > 0 && in->spf[0] ? &auth : NULL,
        };
        if (message_new_tokens(rows, n) < 0)
            ret = DB_ERR_TEMP;
        else
            ret = message_store(db, &sub);
        for (size_t k = 0; k < n; k++) {
            if (ret < 0) {
                snprintf(mine[k]->reply_buf, sizeof(mine[k]->reply_buf),
                         "451 4.3.0 <%s> temporary failure storing the message", mine[k]->address);
            } else {
                snprintf(mine[k]->reply_buf, sizeof(mine[k]->reply_buf),
                         "250 2.0.0 <%s> stored as message %llu", mine[k]->address, rows[k].id);
                msg_context_set_token(rows[k].token);   /* the row's line names its token */
                if (mine[k]->report.original_id) {
                    char *what = returnpath_describe(dsn, &mine[k]->report);

                    msg_info("lmtp %lu: from=<%s> to=<%s> server %llu: message %llu is %s", s->id, s->mail_from,
                             mine[k]->address, server_id, rows[k].id, what);
                    mem_free(what);
                } else
                    msg_info("lmtp %lu: from=<%s> to=<%s> server %llu route %llu: message %llu %s%s", s->id,
                             s->mail_from, mine[k]->address, server_id, mine[k]->t.route_id, rows[k].id,
                             rows[k].status ? rows[k].status : rows[k].hold_reason ? "Held: " : "queued for delivery",
                             rows[k].hold_reason && !rows[k].status ? rows[k].hold_reason : "");
                msg_context_clear();
            }
            mine[k]->reply = mine[k]->reply_buf;
        }
        if (ret < 0)
            msg_warn("lmtp %lu: storing a message for server %llu failed: %s", s->id, server_id, db_error(db));
        mem_free(rows);
        mem_free(mine);
        mem_free(spam_checks);
    }
    mem_free(subject);
    mem_free(message_id);
    dsn_free(dsn);
    mem_free(in);
}

/* ---------------------------------------------------------------- the dialogue */

static void
reset(SESSION *s)
{
    s->have_mail = 0;
    s->mail_from[0] = '\0';
    s->nrcpts = 0;
}

/* "FROM:<addr> params" / "TO:<addr> params" after the verb: the address (may be empty). */
static int
path_arg(const char *arg, const char *prefix, char *out, size_t size)
{
    size_t plen = strlen(prefix);

    if (strncasecmp(arg, prefix, plen) != 0)
        return -1;
    arg += plen;
    while (*arg == ' ')
        arg++;
    return address_envelope(arg, out, size);
}

static void
do_rcpt(SESSION *s, const char *arg)
{
    char address[INBOUND_MAX_ADDRESS + 1];
    PGCONF *cfg;
    DB *db;
    RCPT *r;
    int ret;

    if (!s->have_mail) {
        say(s, "503 5.5.1 MAIL first");
        return;
    }
    if (path_arg(arg, "TO:", address, sizeof(address)) < 0 || address[0] == '\0') {
        say(s, "501 5.5.4 Syntax: RCPT TO:<address>");
        return;
    }
    if (s->nrcpts >= LMTP_MAX_RCPTS) {
        say(s, "452 4.5.3 Too many recipients");
        return;
    }
    if (s->nrcpts == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        if (s->cap > LMTP_MAX_RCPTS)
            s->cap = LMTP_MAX_RCPTS;
        s->rcpts = mem_realloc(s->rcpts, s->cap * sizeof(*s->rcpts));
    }
    r = &s->rcpts[s->nrcpts];
    memset(r, 0, sizeof(*r));
    cfg = conf_holder_get(&s->srv->env->conf);
    db = dbpool_get(s->srv->env->pool);
    ret = inbound_resolve(db, cfg, address, &r->t);
    if (ret < 0)
        msg_warn("lmtp %lu: looking up <%s>: %s", s->id, address, db_error(db));
    dbpool_put(s->srv->env->pool, db);
    conf_unref(cfg);
    if (ret < 0) {
        say(s, "451 4.3.0 <%s>: temporary lookup failure", address);
    } else if (ret == 0) {
        say(s, "550 5.1.1 <%s>: no such recipient here", address);
    } else if (r->t.kind == INBOUND_ROUTE && strcmp(r->t.mode, "Reject") == 0) {
        say(s, "550 5.7.1 <%s>: this address does not accept mail", address);
    } else if (r->t.kind == INBOUND_ROUTE && strcmp(r->t.mode, "Bounce") == 0) {
        /* Refusing here makes Postfix return the mail to its sender: the route's bounce. */
        say(s, "550 5.1.1 <%s>: this address returns all mail to its sender", address);
    } else {
        snprintf(r->address, sizeof(r->address), "%s", address);
        s->nrcpts++;
        say(s, "250 2.1.5 Ok");
    }
}

static void
do_data(SESSION *s, BUF *line)
{
    PGCONF *cfg;
    BUF *data;
    size_t max;
    int r, too_big = 0, broken = 0;

    if (s->nrcpts == 0) {
        say(s, "503 5.5.1 No valid recipients");
        return;
    }
    cfg = conf_holder_get(&s->srv->env->conf);
    max = (size_t) cfg->milter_max_message_size;
    if (say(s, "354 End data with <CR><LF>.<CR><LF>") < 0) {
        conf_unref(cfg);
        return;
    }
    data = buf_new(65536);
    for (;;) {
        const char *l;
        size_t len;

        r = read_line(s, line, LMTP_MAX_LINE * 256, 0);
        if (r == 0 || r == -1) {
            broken = 1;
            break;
        }
        if (r == -2) {
            too_big = 1;
            continue;
        }
        l = buf_cstr(line);
        len = buf_len(line);
        if (len == 1 && l[0] == '.')
            break;
        if (l[0] == '.') {
            l++;
            len--;
        }
        if (!too_big && buf_len(data) + len + 2 > max)
            too_big = 1;
        if (!too_big) {
            buf_append(data, l, len);
            buf_append_str(data, "\r\n");
        }
    }
    if (broken) {
        msg_info("lmtp %lu: connection lost during DATA; nothing stored", s->id);
        buf_free(data);
        conf_unref(cfg);
        return;
    }
    if (too_big) {
        for (size_t i = 0; i < s->nrcpts; i++)
            say(s, "552 5.3.4 <%s> message larger than %zu bytes", s->rcpts[i].address, max);
    } else {
        DB *db = dbpool_get(s->srv->env->pool);

        store(s, db, cfg, (const char *) buf_data(data), buf_len(data));
        dbpool_put(s->srv->env->pool, db);
        for (size_t i = 0; i < s->nrcpts; i++)
            say(s, "%s", s->rcpts[i].reply);
    }
    buf_free(data);
    conf_unref(cfg);
    reset(s);
}

static void
serve(SESSION *s)
{
    BUF *line = buf_new(512);
    char host[256] = "localhost";

    gethostname(host, sizeof(host) - 1);
    say(s, "220 %s LMTP postgate-worker ready", host);
    for (;;) {
        const char *cmd, *arg;
        size_t vlen;
        int r = read_line(s, line, LMTP_MAX_LINE, 1);

        if (r == 0 || r == -1)
            break;
        if (r == -2) {
            say(s, "500 5.5.2 Line too long");
            continue;
        }
        cmd = buf_cstr(line);
        vlen = strcspn(cmd, " ");
        arg = cmd + vlen;
        while (*arg == ' ')
            arg++;
        if (vlen == 4 && strncasecmp(cmd, "LHLO", 4) == 0) {
            reset(s);
            say(s, "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE", host);
        } else if (vlen == 4 && strncasecmp(cmd, "MAIL", 4) == 0) {
            if (s->have_mail)
                say(s, "503 5.5.1 Nested MAIL command");
            else if (path_arg(arg, "FROM:", s->mail_from, sizeof(s->mail_from)) < 0)
                say(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
            else {
                s->have_mail = 1;
                say(s, "250 2.1.0 Ok");
            }
        } else if (vlen == 4 && strncasecmp(cmd, "RCPT", 4) == 0) {
            do_rcpt(s, arg);
        } else if (vlen == 4 && strncasecmp(cmd, "DATA", 4) == 0) {
            do_data(s, line);
        } else if (vlen == 4 && strncasecmp(cmd, "RSET", 4) == 0) {
            reset(s);
            say(s, "250 2.0.0 Ok");
        } else if (vlen == 4 && strncasecmp(cmd, "NOOP", 4) == 0) {
            say(s, "250 2.0.0 Ok");
        } else if (vlen == 4 && strncasecmp(cmd, "VRFY", 4) == 0) {
            say(s, "252 2.5.2 Send some mail and see");
        } else if (vlen == 4 && strncasecmp(cmd, "QUIT", 4) == 0) {
            say(s, "221 2.0.0 Bye");
            break;
        } else {
            say(s, "500 5.5.2 Command not recognized");
        }
    }
    buf_free(line);
}

/* ---------------------------------------------------------------- threads */

static void *
session_thread(void *arg)
{
    SESSION *s = arg;
    LMTP_SERVER *srv = s->srv;

    serve(s);
    close(s->fd);
    mem_free(s->rcpts);
    mem_free(s);
    pthread_mutex_lock(&srv->lock);
    srv->active--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

static void *
accept_thread(void *arg)
{
    LMTP_SERVER *srv = arg;

    while (!atomic_load(&srv->env->stopping)) {
        struct pollfd p = {.fd = srv->fd, .events = POLLIN};
        pthread_attr_t attr;
        pthread_t tid;
        SESSION *s;
        int fd;

        if (poll(&p, 1, 250) <= 0)
            continue;
        fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&srv->lock);
        if (srv->active >= LMTP_MAX_CLIENTS) {
            pthread_mutex_unlock(&srv->lock);
            msg_warn("lmtp: %d connections busy; refusing one", LMTP_MAX_CLIENTS);
            (void) !write(fd, "421 4.3.2 Too many connections\r\n", 32);
            close(fd);
            continue;
        }
        srv->active++;
        pthread_mutex_unlock(&srv->lock);
        s = mem_zalloc(sizeof(*s));
        s->srv = srv;
        s->fd = fd;
        s->id = ++srv->next_id;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&tid, &attr, session_thread, s) != 0) {
            msg_error("lmtp: cannot start a thread; closing a connection");
            close(fd);
            mem_free(s->rcpts);
            mem_free(s);
            pthread_mutex_lock(&srv->lock);
            srv->active--;
            pthread_mutex_unlock(&srv->lock);
        }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

int
lmtp_prepare(WORKER_ENV *env, void **task_r)
{
    PGCONF *cfg = conf_holder_get(&env->conf);
    LMTP_SERVER *srv = mem_zalloc(sizeof(*srv));
    char *error = NULL;
    SOCK_SPEC spec;

    srv->env = env;
    if (sock_parse(cfg->worker_lmtp_listen, &spec, &error) < 0) {
        msg_error("worker.lmtp_listen: %s", error);
        goto fail;
    }
    if (spec.is_unix) {
        char *slash = strrchr(spec.path, '/');

        if (slash && slash != spec.path) {
            *slash = '\0';
            if (mkdir(spec.path, 0755) < 0 && errno != EEXIST) {
                msg_error("worker.lmtp_listen: cannot create directory %s: %s", spec.path, strerror(errno));
                goto fail;
            }
        }
    }
    srv->fd = sock_listen(cfg->worker_lmtp_listen, 64, 0660, &error);
    if (srv->fd < 0) {
        msg_error("worker.lmtp_listen: %s", error);
        goto fail;
    }
    daemon_socket_for_postfix(cfg, cfg->worker_lmtp_listen);
    address_init();
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    msg_info("lmtp: listening on %s", cfg->worker_lmtp_listen);
    conf_unref(cfg);
    *task_r = srv;
    return 0;
fail:
    mem_free(error);
    mem_free(srv);
    conf_unref(cfg);
    return -1;
}

int
lmtp_start(WORKER_ENV *env, void **task_r)
{
    LMTP_SERVER *srv = *task_r;

    (void) env;
    if (pthread_create(&srv->acceptor, NULL, accept_thread, srv) != 0) {
        msg_error("lmtp: cannot start the accept thread");
        return -1;
    }
    srv->started = 1;
    return 0;
}

void
lmtp_stop(void *task)
{
    LMTP_SERVER *srv = task;
    struct timespec deadline;

    if (srv == NULL)
        return;
    if (srv->started)
        pthread_join(srv->acceptor, NULL);
    close(srv->fd);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += LMTP_DRAIN_SECONDS;
    pthread_mutex_lock(&srv->lock);
    while (srv->active > 0 && pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) != ETIMEDOUT)
        ;
    if (srv->active > 0) {
        /* Threads still use srv: leave it to the exit. */
        msg_warn("lmtp: %u connection(s) still busy after %d s", srv->active, LMTP_DRAIN_SECONDS);
        pthread_mutex_unlock(&srv->lock);
        return;
    }
    pthread_mutex_unlock(&srv->lock);
    pthread_mutex_destroy(&srv->lock);
    pthread_cond_destroy(&srv->idle);
    mem_free(srv);
}
