/*
 * sock.h -- sockets named the way postgate's configuration names them:
 * "unix:/path" or "inet:host:port" (host may be an IPv6 address in brackets).
 * Listening sockets are close-on-exec; a stale unix socket file is replaced, but
 * never a file that is not a socket.
 */
#ifndef PG_SOCK_H
#define PG_SOCK_H

#include <sys/types.h>

typedef struct sock_spec {
    int is_unix;
    char path[108];     /* unix */
    char host[256];     /* inet */
    char port[8];
} SOCK_SPEC;

/* -1 with *error_r (mem_free it) when spec is malformed. */
int sock_parse(const char *spec, SOCK_SPEC *out, char **error_r);
/* Returns a listening fd, or -1 with *error_r (mem_free it); unix sockets get mode. */
int sock_listen(const char *spec, int backlog, mode_t mode, char **error_r);
/* Connects with a timeout (milliseconds); returns a blocking fd, or -1 with *error_r
 * (mem_free it). */
int sock_connect(const char *spec, int timeout_ms, char **error_r);

/* I/O against an absolute deadline (clock_mono()): both retry on EINTR and fail
 * with errno ETIMEDOUT once the deadline passes. sock_write_all sends all of len
 * (MSG_NOSIGNAL: a closed peer is EPIPE, never a signal) and returns 0 or -1;
 * sock_read_some returns the bytes read (0 at end of stream) or -1. */
int sock_write_all(int fd, const void *data, size_t len, double deadline);
ssize_t sock_read_some(int fd, void *buf, size_t len, double deadline);

#endif
