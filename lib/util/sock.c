/*
 * sock.c -- listen on and connect to "unix:" and "inet:" socket specs (sock.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/sock.h"

int
sock_parse(const char *spec, SOCK_SPEC *out, char **error_r)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(spec, "unix:", 5) == 0) {
        if (spec[5] == '\0' || strlen(spec + 5) >= sizeof(out->path)) {
            *error_r = buf_asprintf("\"%s\": unix socket path empty or too long", spec);
            return -1;
        }
        out->is_unix = 1;
        snprintf(out->path, sizeof(out->path), "%s", spec + 5);
        return 0;
    }
    if (strncmp(spec, "inet:", 5) == 0) {
        const char *hp = spec + 5, *colon;
        size_t hlen;

        if (*hp == '[') {
            const char *close = strchr(hp, ']');

            if (close == NULL || close[1] != ':')
                goto bad;
            hp++;
            hlen = (size_t) (close - hp);
            colon = close + 1;
        } else {
            colon = strrchr(hp, ':');
            if (colon == NULL)
                goto bad;
            hlen = (size_t) (colon - hp);
        }
        if (hlen == 0 || hlen >= sizeof(out->host) || strlen(colon + 1) == 0
            || strlen(colon + 1) >= sizeof(out->port) || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            goto bad;
        memcpy(out->host, hp, hlen);
        out->host[hlen] = '\0';
        snprintf(out->port, sizeof(out->port), "%s", colon + 1);
        return 0;
    }
bad:
    *error_r = buf_asprintf("\"%s\": expected unix:/path or inet:host:port", spec);
    return -1;
}

int
sock_listen(const char *spec, int backlog, mode_t mode, char **error_r)
{
    SOCK_SPEC s;
    int fd = -1, one = 1;

    if (sock_parse(spec, &s, error_r) < 0)
        return -1;
    if (s.is_unix) {
        struct sockaddr_un sun;
        struct stat st;

        if (lstat(s.path, &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) {
                *error_r = buf_asprintf("%s exists and is not a socket; not replacing it", s.path);
                return -1;
            }
            unlink(s.path);
        }
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, s.path, strlen(s.path));
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
            || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
            || chmod(s.path, mode) < 0 || listen(fd, backlog) < 0) {
            *error_r = buf_asprintf("listen on %s: %s", spec, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int gai = getaddrinfo(s.host, s.port, &hints, &res);

    if (gai != 0) {
        *error_r = buf_asprintf("listen on %s: %s", spec, gai_strerror(gai));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0
        || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        *error_r = buf_asprintf("listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Non-blocking connect bounded by timeout_ms, then back to blocking. */
static int
connect_timeout(int fd, const struct sockaddr *addr, socklen_t len, int timeout_ms)
{
    int flags = fcntl(fd, F_GETFL), err = 0;
    socklen_t errlen = sizeof(err);
    struct pollfd p = {.fd = fd, .events = POLLOUT};

    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, addr, len) < 0) {
        if (errno != EINPROGRESS)
            return -1;
        if (poll(&p, 1, timeout_ms) <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0 || err != 0) {
            errno = err ? err : errno;
            return -1;
        }
    }
    fcntl(fd, F_SETFL, flags);
    return 0;
}

int
sock_connect(const char *spec, int timeout_ms, char **error_r)
{
    SOCK_SPEC s;
    int fd;

    if (sock_parse(spec, &s, error_r) < 0)
        return -1;
    if (s.is_unix) {
        struct sockaddr_un sun;

        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, s.path, strlen(s.path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect_timeout(fd, (struct sockaddr *) &sun, sizeof(sun), timeout_ms) < 0) {
            *error_r = buf_asprintf("connect to %s: %s", spec, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res, *ai;
    int gai = getaddrinfo(s.host, s.port, &hints, &res);

    if (gai != 0) {
        *error_r = buf_asprintf("connect to %s: %s", spec, gai_strerror(gai));
        return -1;
    }
    fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect_timeout(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms) == 0)
            break;
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    if (fd < 0)
        *error_r = buf_asprintf("connect to %s: %s", spec, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

/* Waits until fd is ready for events or the deadline passes (-1, errno ETIMEDOUT). */
static int
wait_ready(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - clock_mono();
        struct pollfd p = {.fd = fd, .events = events};
        int n;

        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        n = poll(&p, 1, (int) (left * 1000) + 1);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

int
sock_write_all(int fd, const void *data, size_t len, double deadline)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n;

        if (wait_ready(fd, POLLOUT, deadline) < 0)
            return -1;
        n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

ssize_t
sock_read_some(int fd, void *buf, size_t len, double deadline)
{
    for (;;) {
        ssize_t n;

        if (wait_ready(fd, POLLIN, deadline) < 0)
            return -1;
        n = recv(fd, buf, len, MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
    }
}
