/*
 * conn.h -- one accepted Postfix connection: bounded line or netstring reading and
 * whole writes.
 *
 * Lines end with LF (a CR before it is dropped). A line longer than the caller's
 * limit, a peer silent in the middle of a line for CONN_PARTIAL_TIMEOUT seconds, or
 * one idle for CONN_IDLE_TIMEOUT seconds ends the connection. Once the daemon is
 * stopping, a connection with nothing in flight reads as end of file, so SIGTERM
 * drains the long-lived connections Postfix keeps open.
 */
#ifndef PG_POLICYD_CONN_H
#define PG_POLICYD_CONN_H

#include <stddef.h>

#include "ctx.h"
#include "util/buf.h"

#define CONN_BUFSIZE 16384
#define CONN_PARTIAL_TIMEOUT 60
#define CONN_IDLE_TIMEOUT 3600

/* conn_read_line() results besides 1 (a line). */
#define CONN_EOF 0              /* peer closed, or stopping with nothing in flight */
#define CONN_ERR (-1)           /* read error or timeout (already logged) */
#define CONN_TOO_LONG (-2)      /* the line passed the limit (caller logs and closes) */
#define CONN_BAD (-3)           /* not a netstring (caller logs and closes) */

typedef struct conn {
    int fd;
    unsigned long id;           /* for log lines */
    const char *service;        /* "sasl", "policy" or "socketmap" */
    PD_CTX *ctx;
    unsigned char in[CONN_BUFSIZE];
    size_t inlen;
} CONN;

/* Reads one line (without its end) into line. busy says a request is in flight, so
 * a stopping daemon still waits for its next line. */
int conn_read_line(CONN *c, BUF *line, size_t max, int busy);
/* Reads one netstring's data (socketmap); CONN_BAD when the input is not one. */
int conn_read_netstring(CONN *c, BUF *data, size_t max, int busy);
/* Writes all of data; -1 (logged) when the peer is gone or stalls. */
int conn_write(CONN *c, const void *data, size_t len);

#endif
