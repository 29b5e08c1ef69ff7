/*
 * logopen.c -- the maillog opener and its root helper (logopen.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logopen.h"
#include "util/mem.h"
#include "util/msg.h"

enum { OP_CURRENT = 1, OP_ROTATED = 2 };

typedef struct request {
    int op;
    unsigned long long ino;
} REQUEST;

typedef struct reply {
    int err;                    /* 0: a descriptor follows; else an errno value */
} REPLY;

struct logopen {
    char *path;
    int sock;                   /* to the helper, or -1: open in-process */
    pid_t helper;
};

/* Opens a regular file read-only; -errno on failure. */
static int
open_regular(int dirfd, const char *name, int flags)
{
    struct stat st;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

static int
do_current(const char *path)
{
    return open_regular(AT_FDCWD, path, 0);
}

/* A file in path's directory named "<name>.<anything>" with inode ino. */
static int
do_rotated(const char *path, unsigned long long ino)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? mem_strndup(path, slash == path ? 1 : (size_t) (slash - path)) : mem_strdup(".");
    const char *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    struct dirent *de;
    DIR *d = opendir(dir);
    int fd = -ENOENT;

    mem_free(dir);
    if (d == NULL)
        return -errno;
    while ((de = readdir(d)) != NULL) {
        struct stat st;

        if ((unsigned long long) de->d_ino != ino || strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] != '.')
            continue;
        fd = open_regular(dirfd(d), de->d_name, O_NOFOLLOW);
        if (fd >= 0 && (fstat(fd, &st) < 0 || (unsigned long long) st.st_ino != ino)) {
            close(fd);
            fd = -ENOENT;
        }
        break;
    }
    closedir(d);
    return fd;
}

static int
do_request(const char *path, const REQUEST *rq)
{
    if (rq->op == OP_CURRENT)
        return do_current(path);
    if (rq->op == OP_ROTATED)
        return do_rotated(path, rq->ino);
    return -EINVAL;
}

static int
send_reply(int sock, int fd)
{
    REPLY rp = {.err = fd < 0 ? -fd : 0};
    struct iovec iov = {.iov_base = &rp, .iov_len = sizeof(rp)};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    if (fd >= 0) {
        struct cmsghdr *c;

        memset(&control, 0, sizeof(control));
        mh.msg_control = control.buf;
        mh.msg_controllen = sizeof(control.buf);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* The helper: answers requests until the worker goes away. Never returns. */
static void __attribute__((noreturn))
helper_main(const char *path, int sock)
{
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_NAME, "pg-logopen", 0, 0, 0);
    for (;;) {
        REQUEST rq;
        ssize_t n = recv(sock, &rq, sizeof(rq), 0);
        int fd;

        if (n == 0)
            _exit(0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        if (n != (ssize_t) sizeof(rq))
            _exit(1);
        fd = do_request(path, &rq);
        if (send_reply(sock, fd) < 0)
            _exit(1);
        if (fd >= 0)
            close(fd);
    }
}

LOGOPEN *
logopen_start(const char *path)
{
    LOGOPEN *lo = mem_zalloc(sizeof(*lo));
    int sv[2];
    pid_t parent = getpid();

    lo->path = mem_strdup(path);
    lo->sock = -1;
    lo->helper = -1;
    if (geteuid() != 0)
        return lo;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        msg_error("maillog opener: socketpair: %s", strerror(errno));
        goto fail;
    }
    lo->helper = fork();
    if (lo->helper < 0) {
        msg_error("maillog opener: fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        goto fail;
    }
    if (lo->helper == 0) {
        /* Keep only stderr and our end of the socket. */
        close(sv[0]);
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
            _exit(0);
        if (dup2(sv[1], 3) < 0)
            _exit(1);
        for (int fd = 4; fd < 1024; fd++)
            close(fd);
        close(0);
        close(1);
        helper_main(lo->path, 3);
    }
    close(sv[1]);
    lo->sock = sv[0];
    return lo;
fail:
    mem_free(lo->path);
    mem_free(lo);
    return NULL;
}

/* Asks the helper (or opens here): an fd, or -errno. */
static int
request(LOGOPEN *lo, int op, unsigned long long ino)
{
    REQUEST rq = {.op = op, .ino = ino};
    REPLY rp;
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = &rp, .iov_len = sizeof(rp)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *c;
    ssize_t n;
    int fd = -1;

    if (lo->sock < 0)
        return do_request(lo->path, &rq);
    if (send(lo->sock, &rq, sizeof(rq), MSG_NOSIGNAL) != (ssize_t) sizeof(rq))
        return -EPIPE;
    do
        n = recvmsg(lo->sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof(rp))
        return -EPIPE;
    for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
    if (rp.err != 0) {
        if (fd >= 0)
            close(fd);
        return -rp.err;
    }
    return fd >= 0 ? fd : -EPROTO;
}

static int
answer(LOGOPEN *lo, int fd, int *fd_r, const char *what)
{
    if (fd >= 0) {
        *fd_r = fd;
        return 1;
    }
    if (fd == -ENOENT)
        return 0;
    msg_error("%s: cannot open %s: %s%s", lo->path, what, strerror(-fd),
              fd == -EPIPE ? " (the root helper that opens it is gone; restart postgate-worker)" : "");
    return -1;
}

int
logopen_current(LOGOPEN *lo, int *fd_r)
{
    return answer(lo, request(lo, OP_CURRENT, 0), fd_r, "the log file");
}

int
logopen_rotated(LOGOPEN *lo, unsigned long long ino, int *fd_r)
{
    return answer(lo, request(lo, OP_ROTATED, ino), fd_r, "the rotated log file");
}

void
logopen_stop(LOGOPEN *lo)
{
    if (lo == NULL)
        return;
    if (lo->sock >= 0) {
        close(lo->sock);
        while (waitpid(lo->helper, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    mem_free(lo->path);
    mem_free(lo);
}
