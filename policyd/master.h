/*
 * master.h -- postgate-policyd's supervisor: the listening sockets outlive the process
 * that serves them, so a crash or kill of that process costs Postfix a short wait, never
 * a refused connection (smtpd processes that cannot reach the SASL socket die with
 * "fatal: no SASL authentication mechanisms" and Postfix's master throttles smtpd).
 */
#ifndef PG_POLICYD_MASTER_H
#define PG_POLICYD_MASTER_H

#include "mail/daemon.h"

/* The listening socket for spec that systemd passed (socket activation: LISTEN_PID,
 * LISTEN_FDS; matched by the socket's own address, not by position), or -1. */
int master_inherited_listener(const char *spec);
/* Forgets systemd's LISTEN_* variables (after every listener was looked for). */
void master_inherited_done(void);

/*
 * Runs the supervisor: forks the worker, which returns from this function (with the
 * listening sockets, opened before, inherited) to drop privileges and serve; the
 * supervisor stays, keeps the sockets open and forks a new worker at once when one dies,
 * so the kernel queues Postfix's connections meanwhile. SIGHUP is passed to the worker;
 * SIGTERM/SIGINT stop the worker and then the supervisor (exit 0, pid file removed).
 * A worker that fails within a second of starting with EX_CONFIG stops the supervisor
 * with that status (a configuration problem does not heal by forking again).
 */
void master_run(const DAEMON_OPTS *opts);

/*
 * In the worker, after privileges are dropped (which clears the kernel's parent-death
 * signal): the worker gets SIGTERM, and so drains and exits, when the supervisor dies,
 * even by SIGKILL; at once if it died already.
 */
void master_watch_supervisor(void);

#endif
