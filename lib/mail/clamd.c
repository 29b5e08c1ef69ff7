/*
 * clamd.c -- ClamAV's clamd protocol client (clamd.h).
 *
 * Request: "zINSTREAM\0", then chunks each preceded by its length as a 4-byte
 * big-endian number, then a zero length. Answer (NUL-terminated): "stream: OK",
 * "stream: <signature> FOUND", or "<reason> ERROR".
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mail/clamd.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/sock.h"

#define MAX_ANSWER 1024

int
clamd_parse_answer(const char *answer, char **virus_r, char **error_r)
{
    size_t len = strlen(answer);
    const char *body = answer;

    *virus_r = NULL;
    while (len > 0 && (answer[len - 1] == '\n' || answer[len - 1] == '\r'))
        len--;
    if (len > 8 && strncmp(body, "stream: ", 8) == 0) {
        body += 8;
        len -= 8;
    }
    if (len == 2 && strncmp(body, "OK", 2) == 0)
        return 0;
    if (len > 6 && strncmp(body + len - 6, " FOUND", 6) == 0) {
        *virus_r = buf_asprintf("%.*s", (int) (len - 6), body);
        return 1;
    }
    *error_r = buf_asprintf("clamd could not scan: %.*s", (int) (len > 200 ? 200 : len), body);
    return -1;
}

int
clamd_scan(const char *address, int timeout, const void *msg, size_t len, char **virus_r, char **error_r)
{
    double deadline = clock_mono() + timeout;
    static const char command[] = "zINSTREAM";
    const unsigned char *p = msg;
    char answer[MAX_ANSWER + 1];
    size_t have = 0;
    uint32_t zero = 0;
    int fd;
    ssize_t n;

    *virus_r = NULL;
    fd = sock_connect(address, timeout * 1000, error_r);
    if (fd < 0)
        return -1;
    if (sock_write_all(fd, command, sizeof(command), deadline) < 0)
        goto io_error;
    while (len > 0) {
        size_t chunk = len > CLAMD_CHUNK ? CLAMD_CHUNK : len;
        uint32_t be = htonl((uint32_t) chunk);

        /* clamd closes the stream early when a limit is hit: its answer says why. */
        if (sock_write_all(fd, &be, sizeof(be), deadline) < 0 || sock_write_all(fd, p, chunk, deadline) < 0)
            break;
        p += chunk;
        len -= chunk;
    }
    if (len == 0 && sock_write_all(fd, &zero, sizeof(zero), deadline) < 0)
        goto io_error;
    while (have < MAX_ANSWER && (n = sock_read_some(fd, answer + have, MAX_ANSWER - have, deadline)) > 0) {
        have += (size_t) n;
        if (memchr(answer, '\0', have))
            break;
    }
    answer[have] = '\0';
    close(fd);
    if (have == 0) {
        *error_r = buf_asprintf("clamd %s: no answer: %m", address);
        return -1;
    }
    return clamd_parse_answer(answer, virus_r, error_r);
io_error:
    *error_r = buf_asprintf("clamd %s: sending: %m", address);
    close(fd);
    return -1;
}
