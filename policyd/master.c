/*
 * master.c -- postgate-policyd's supervisor and systemd socket activation (master.h).
 * Postfix's own master does the same for its daemons: the parent owns the listening
 * sockets and re-forks the child that serves them. Must never: close a listening socket
 * while a worker may come back, or fork in a tight loop.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "master.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

#define SD_LISTEN_FDS_START 3
#define POLL_NS (50 * 1000 * 1000)
#define STOP_WAIT_SECONDS 30

static pid_t master_pid;     /* the supervisor, as its worker knows it */

int
master_inherited_listener(const char *spec)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    char *error = NULL;
    SOCK_SPEC s;
    long n;

    if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long) getpid())
        return -1;
    if (sock_parse(spec, &s, &error) < 0) {
        mem_free(error);
        return -1;
    }
    n = strtol(fds, NULL, 10);
    for (int fd = SD_LISTEN_FDS_START; n > 0 && fd < SD_LISTEN_FDS_START + n; fd++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
            continue;
        if (s.is_unix && ss.ss_family == AF_UNIX
            && strcmp(((struct sockaddr_un *) &ss)->sun_path, s.path) == 0)
            return fd;
        if (!s.is_unix && ss.ss_family == AF_INET
            && ntohs(((struct sockaddr_in *) &ss)->sin_port) == (unsigned) atoi(s.port))
            return fd;
        if (!s.is_unix && ss.ss_family == AF_INET6
            && ntohs(((struct sockaddr_in6 *) &ss)->sin6_port) == (unsigned) atoi(s.port))
            return fd;
    }
    return -1;
}

void
master_inherited_done(void)
{
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
}

/* Waits for child at most seconds (SIGKILL after that); its wait status. */
static int
reap(pid_t child, int seconds)
{
    struct timespec tick = {0, POLL_NS};
    int status = 0;

    for (long waited = 0; waited < seconds * 1000000000L; waited += POLL_NS) {
        pid_t r = waitpid(child, &status, WNOHANG);

        if (r == child || (r < 0 && errno == ECHILD))
            return status;
        nanosleep(&tick, NULL);
    }
    msg_warn("worker %ld still running after %d s; killing it", (long) child, seconds);
    kill(child, SIGKILL);
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

void
master_run(const DAEMON_OPTS *opts)
{
    struct timespec tick = {0, POLL_NS};

    daemon_install_signals();
    master_pid = getpid();
    for (;;) {
        time_t started = time(NULL);
        pid_t child = fork();
        int status = 0;

        if (child < 0) {
            msg_warn("cannot fork a worker: %s; trying again in a second", strerror(errno));
            sleep(1);
            continue;
        }
        if (child == 0) {
            /* The worker: stop with the supervisor, whatever kills it. */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() == 1)
                _exit(EX_OK);
            daemon_stop_requested = 0;
            daemon_reload_requested = 0;
            return;
        }
        msg_info("supervisor: worker %ld started", (long) child);
        for (;;) {
            pid_t r = waitpid(child, &status, WNOHANG);

            if (r == child)
                break;
            if (r < 0 && errno != EINTR) {
                msg_error("supervisor: waitpid: %s", strerror(errno));
                break;
            }
            if (daemon_stop_requested) {
                kill(child, SIGTERM);
                status = reap(child, STOP_WAIT_SECONDS);
                daemon_remove_pidfile(opts);
                msg_info("supervisor: stopped");
                exit(EX_OK);
            }
            if (daemon_reload_requested) {
                daemon_reload_requested = 0;
                kill(child, SIGHUP);
            }
            nanosleep(&tick, NULL);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == EX_CONFIG && time(NULL) - started <= 1) {
            msg_error("supervisor: worker %ld refused the configuration; stopping", (long) child);
            daemon_remove_pidfile(opts);
            exit(EX_CONFIG);
        }
        if (WIFSIGNALED(status))
            msg_warn("supervisor: worker %ld killed by signal %d; starting another (the sockets stayed open, "
                     "so Postfix's connections waited)", (long) child, WTERMSIG(status));
        else
            msg_warn("supervisor: worker %ld exited with status %d; starting another (the sockets stayed open, "
                     "so Postfix's connections waited)", (long) child, WEXITSTATUS(status));
        if (daemon_stop_requested) {
            daemon_remove_pidfile(opts);
            exit(EX_OK);
        }
        /* Never a tight loop: a worker that died at once waits a moment for the next. */
        if (time(NULL) - started < 1)
            sleep(1);
    }
}

void
master_watch_supervisor(void)
{
    /* setuid() and setgid() clear PR_SET_PDEATHSIG: arm it again, then catch a supervisor
     * that died before it was armed. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != master_pid)
        raise(SIGTERM);
}
