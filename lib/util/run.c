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

/* The one runner: stdin from in_fd (-1: /dev/null), stdout to out_fd or, when out_fd is -1,
 * into out; stderr into err. */
static int
run_io(char *const argv[], int timeout_seconds, int in_fd, int out_fd, size_t limit, BUF *out, BUF *err,
       int *truncated_r)
{
    int outp[2] = {-1, -1}, errp[2], out_open = out_fd < 0, err_open = 1, wstatus, dropped = 0, err_dropped = 0;
    time_t deadline = clock_mono_seconds() + timeout_seconds;
    pid_t pid;

    if (truncated_r)
        *truncated_r = 0;
    if (out_fd < 0 && pipe2(outp, O_CLOEXEC) < 0)
        goto no_pipe;
    if (pipe2(errp, O_CLOEXEC) < 0) {
        if (out_fd < 0) {
            close(outp[0]);
            close(outp[1]);
        }
        goto no_pipe;
    }
    if ((pid = fork()) < 0) {
        buf_printf(err, "cannot fork: %s\n", strerror(errno));
        if (out_fd < 0) {
            close(outp[0]);
            close(outp[1]);
        }
        close(errp[0]);
        close(errp[1]);
        return -1;
    }
    if (pid == 0) {
        int in = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
        static const char fail[] = "cannot execute the program\n";

        if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out_fd >= 0 ? out_fd : outp[1], STDOUT_FILENO) < 0
            || dup2(errp[1], STDERR_FILENO) < 0)
            _exit(127);
        execv(argv[0], argv);
        if (write(STDERR_FILENO, fail, sizeof(fail) - 1) < 0)
            _exit(127);
        _exit(127);
    }
    if (out_fd < 0)
        close(outp[1]);
    close(errp[1]);
    if (out)
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
    if (out_fd < 0)
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

int
run_capture(char *const argv[], int timeout_seconds, size_t limit, BUF *out, BUF *err, int *truncated_r)
{
    return run_io(argv, timeout_seconds, -1, -1, limit, out, err, truncated_r);
}

int
run_files(char *const argv[], int timeout_seconds, int in_fd, int out_fd, BUF *err, size_t err_limit)
{
    return run_io(argv, timeout_seconds, in_fd, out_fd, err_limit, NULL, err, NULL);
}
