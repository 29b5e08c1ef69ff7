/*
 * fuzz.c -- helpers shared by the harnesses (fuzz.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "util/msg.h"

void
fuzz_quiet(const char *progname)
{
    msg_init(progname);
    if (getenv("FUZZ_VERBOSE") == NULL)
        msg_configure(MSG_DEST_STDERR, MSG_LEVEL_FATAL, "mail");
}

PGCONF *
fuzz_config(void)
{
    char *error = NULL;
    PGCONF *cfg;

    setenv("POSTGATE_DATABASE_SOCKET", "/nonexistent/postgate-fuzz/mysqld.sock", 1);
    cfg = conf_load(NULL, 1, &error);
    if (cfg == NULL) {
        fprintf(stderr, "fuzz: configuration: %s\n", error ? error : "?");
        abort();
    }
    return cfg;
}

SEAL_KEY *
fuzz_seal(void)
{
    char path[] = "/tmp/postgate-fuzz-key.XXXXXX", *error = NULL;
    int fd = mkstemp(path);
    SEAL_KEY *key;

    if (fd < 0)
        abort();
    close(fd);
    unlink(path);
    if (seal_key_create(path, &error) < 0 || (key = seal_key_load(path, &error)) == NULL) {
        fprintf(stderr, "fuzz: seal key: %s\n", error ? error : "?");
        abort();
    }
    unlink(path);
    return key;
}

/* The daemon's answers are read as they come (one small write is a whole socket buffer
 * entry, so a few hundred unread answers would block the daemon's writes). */
static pthread_t drain_thread;

static void *
drain(void *arg)
{
    int fd = (int) (intptr_t) arg;
    char sink[4096];

    while (read(fd, sink, sizeof(sink)) > 0)
        ;
    return NULL;
}

int
fuzz_feed(const uint8_t *data, size_t size, int *peer_r)
{
    int sv[2], bufsize = 4 * FUZZ_MAX_INPUT;
    size_t off = 0;

    if (size > FUZZ_MAX_INPUT)
        size = FUZZ_MAX_INPUT;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
        setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
    }
    while (off < size) {
        ssize_t n = write(sv[1], data + off, size - off);

        if (n <= 0) {
            close(sv[0]);
            close(sv[1]);
            return -1;
        }
        off += (size_t) n;
    }
    shutdown(sv[1], SHUT_WR);
    if (pthread_create(&drain_thread, NULL, drain, (void *) (intptr_t) sv[1]) != 0)
        abort();
    *peer_r = sv[1];
    return sv[0];
}

void
fuzz_close(int fd, int peer)
{
    close(fd);
    pthread_join(drain_thread, NULL);
    close(peer);
}
