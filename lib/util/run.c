/*
 * run.c -- programs run without a shell, their output captured (run.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/run.h"

/* Reads what fd has into buf; past buf's limit the bytes are dropped (*dropped_r set). */
static void
append_fd(int fd, BUF *buf, int *open_r, int *dropped_r)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));

    if (n > 0) {
        if (buf_append(buf, chunk, (size_t) n) < 0)
            *dropped_r = 1;     /* past the limit: dropped, still drained */
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        *open_r = 0;
    }
}

int
run_capture(char *const argv[], int timeout_seconds, size_t limit, BUF *out, BUF *err, int *truncated_r)
{
    int outp[2], errp[2], out_open = 1, err_open = 1, wstatus, dropped = 0, err_dropped = 0;
    time_t deadline = clock_mono_seconds() + timeout_seconds;
    pid_t pid;

    if (truncated_r)
        *truncated_r = 0;
    if (pipe2(outp, O_CLOEXEC) < 0)
        goto no_pipe;
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(outp[0]);
        close(outp[1]);
        goto no_pipe;
    }
    if ((pid = fork()) < 0) {
        buf_printf(err, "cannot fork: %s\n", strerror(errno));
        close(outp[0]); close(outp[1]); close(errp[0]); close(errp[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        static const char fail[] = "cannot execute the program\n";

        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(outp[1], STDOUT_FILENO) < 0
            || dup2(errp[1], STDERR_FILENO) < 0)
            _exit(127);
        execv(argv[0], argv);
        if (write(STDERR_FILENO, fail, sizeof(fail) - 1) < 0)
            _exit(127);
        _exit(127);
    }
    close(outp[1]);
    close(errp[1]);
    buf_set_limit(out, limit);
    buf_set_limit(err, limit);
    while (out_open || err_open) {
        struct pollfd fds[2] = {{out_open ? outp[0] : -1, POLLIN, 0}, {err_open ? errp[0] : -1, POLLIN, 0}};
        time_t left = deadline - clock_mono_seconds();

        if (left <= 0) {
            kill(pid, SIGKILL);
            buf_set_limit(err, 0);
            buf_printf(err, "%s: killed after %d seconds\n", argv[0], timeout_seconds);
            break;
        }
        if (poll(fds, 2, (int) left * 1000) < 0) {
            if (errno == EINTR)
                continue;
            kill(pid, SIGKILL);
            buf_set_limit(err, 0);
            buf_printf(err, "poll: %s\n", strerror(errno));
            break;
        }
        if (fds[0].revents)
            append_fd(outp[0], out, &out_open, &dropped);
        if (fds[1].revents)
            append_fd(errp[0], err, &err_open, &err_dropped);
    }
    close(outp[0]);
    close(errp[0]);
    buf_set_limit(err, 0);
    if (truncated_r)
        *truncated_r = dropped;
    while (waitpid(pid, &wstatus, 0) < 0) {
        if (errno != EINTR) {
            buf_printf(err, "waitpid: %s\n", strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    buf_printf(err, "%s: killed by signal %d\n", argv[0], WTERMSIG(wstatus));
    return -1;

no_pipe:
    buf_printf(err, "cannot make a pipe: %s\n", strerror(errno));
    return -1;
}
