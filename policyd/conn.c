/*
 * conn.c -- bounded line I/O on a Postfix connection (conn.h). Reads poll in short
 * ticks so a stop request is noticed without signals reaching connection threads.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "util/clock.h"
#include "util/msg.h"

#define TICK_MS 250
#define WRITE_TIMEOUT_MS 10000

/* Moves the first complete line out of the buffer; 1 when there was one. */
static int
take_line(CONN *c, BUF *line)
{
    unsigned char *lf = memchr(c->in, '\n', c->inlen);
    size_t len, used;

    if (lf == NULL)
        return 0;
    len = (size_t) (lf - c->in);
    used = len + 1;
    if (len > 0 && c->in[len - 1] == '\r')
        len--;
    buf_reset(line);
    buf_append(line, c->in, len);
    memmove(c->in, c->in + used, c->inlen - used);
    c->inlen -= used;
    /* What was read may hold a secret (a SASL response): leave no copy behind. */
    memset(c->in + c->inlen, 0, used);
    return 1;
}

/* Moves the first complete netstring ("<len>:<data>,") out of the buffer: 1 when
 * there was one, 0 when more is needed, CONN_TOO_LONG when it is longer than max,
 * CONN_BAD when what arrived cannot be a netstring. */
static int
take_netstring(CONN *c, BUF *out, size_t max)
{
    size_t len = 0, i, used;

    for (i = 0; i < c->inlen && c->in[i] != ':'; i++) {
        if (c->in[i] < '0' || c->in[i] > '9' || i >= 9)
            return CONN_BAD;
        len = len * 10 + (size_t) (c->in[i] - '0');
    }
    if (len > max)
        return CONN_TOO_LONG;
    if (i == c->inlen || c->inlen < i + 1 + len + 1)
        return 0;
    if (i == 0 || c->in[i + 1 + len] != ',')
        return CONN_BAD;
    buf_reset(out);
    buf_append(out, c->in + i + 1, len);
    used = i + 1 + len + 1;
    memmove(c->in, c->in + used, c->inlen - used);
    c->inlen -= used;
    return 1;
}

/* Moves one complete line out of the buffer (1), or says more is needed (0). */
static int
take_line_max(CONN *c, BUF *line, size_t max)
{
    if (take_line(c, line))
        return buf_len(line) > max ? CONN_TOO_LONG : 1;
    /* No line end within max + CR LF: it cannot become a valid line. */
    if (c->inlen > max + 1 || c->inlen == sizeof(c->in))
        return CONN_TOO_LONG;
    return 0;
}

/* Reads until take() finds one complete unit in the buffer. */
static int
conn_read_unit(CONN *c, BUF *out, size_t max, int busy, int (*take)(CONN *, BUF *, size_t))
{
    time_t start = clock_mono_seconds();

    for (;;) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        ssize_t n;
        int r;

        if ((r = take(c, out, max)) != 0)
            return r;
        if (c->inlen == sizeof(c->in))
            return CONN_TOO_LONG;
        if (c->inlen == 0 && !busy && ctx_stopping(c->ctx))
            return CONN_EOF;
        if (clock_mono_seconds() - start >= (c->inlen ? CONN_PARTIAL_TIMEOUT : CONN_IDLE_TIMEOUT)) {
            msg_info("%s connection %lu: no complete request for %d s; closing", c->service, c->id,
                     c->inlen ? CONN_PARTIAL_TIMEOUT : CONN_IDLE_TIMEOUT);
            return CONN_ERR;
        }
        r = poll(&p, 1, TICK_MS);
        if (r < 0 && errno != EINTR) {
            msg_warn("%s connection %lu: poll: %s", c->service, c->id, strerror(errno));
            return CONN_ERR;
        }
        if (r <= 0)
            continue;
        n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            msg_info("%s connection %lu: read: %s", c->service, c->id, strerror(errno));
            return CONN_ERR;
        }
        if (n == 0) {
            if (c->inlen)
                msg_info("%s connection %lu: peer closed in the middle of a request", c->service, c->id);
            return CONN_EOF;
        }
        c->inlen += (size_t) n;
    }
}

int
conn_read_line(CONN *c, BUF *line, size_t max, int busy)
{
    return conn_read_unit(c, line, max, busy, take_line_max);
}

int
conn_read_netstring(CONN *c, BUF *data, size_t max, int busy)
{
    return conn_read_unit(c, data, max, busy, take_netstring);
}

int
conn_write(CONN *c, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (poll(&pfd, 1, WRITE_TIMEOUT_MS) == 0) {
                msg_info("%s connection %lu: peer does not read; closing", c->service, c->id);
                return -1;
            }
            continue;
        }
        if (n < 0) {
            msg_info("%s connection %lu: write: %s", c->service, c->id, strerror(errno));
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}
