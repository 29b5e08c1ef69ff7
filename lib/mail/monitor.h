/*
 * monitor.h -- a daemon's health and metrics listener: GET /health and GET /metrics on
 * a listener of their own (<program>.monitor_listen), apart from the service it gives
 * Postfix or the web, so monitoring never competes with mail for a connection.
 *
 *   /health   200 "OK" while the daemon can work; 503 and the reason (one line) when it
 *             cannot reach MariaDB or a socket Postfix needs from it is missing.
 *   /metrics  the process's metrics (util/metrics.h) in Prometheus's text format, with
 *             postgate_build_info and postgate_up.
 *
 * Contract: monitor_start() never stops the daemon: a listener it cannot open (a busy
 * port) is logged and the daemon runs on without it, as Postal's health server does.
 * monitor_probe() is the other end, for `postgatectl status`: it asks a daemon's /health
 * on its monitor_listen spec (libcurl, inet or unix socket) within a deadline.
 *
 * Must never: answer /health with 200 from a cached result older than the request, or
 * serve anything but these two paths.
 */
#ifndef PG_MONITOR_H
#define PG_MONITOR_H

#include "mail/conf.h"

typedef struct monitor MONITOR;

/* 0 healthy; -1 with *reason_r (mem_free it) when not. */
typedef int MONITOR_HEALTH_FN(void *arg, char **reason_r);

/* Starts the listener on spec ("inet:127.0.0.1:9091"; "" = none) for program, with its
 * health function. NULL when none was started (logged unless spec is ""). */
MONITOR *monitor_start(const char *program, const char *spec, MONITOR_HEALTH_FN *health, void *arg);
void monitor_stop(MONITOR *m);

/* Health checks the daemons combine: MariaDB answers "SELECT 1" on a connection of its
 * own (the database settings of cfg); a unix socket spec names an existing socket (inet
 * specs always pass). 0 or -1 with *reason_r (mem_free it). */
int monitor_check_db(const PGCONF *cfg, char **reason_r);
int monitor_check_socket(const char *what, const char *spec, char **reason_r);

/* Asks GET /health of the listener at spec, waiting at most timeout_ms. 1 it answered
 * (*http_status_r, and *body_r its first line, mem_free it), 0 no answer (*error_r why:
 * refused, timed out, a bad spec), each mem_free'd by the caller. */
int monitor_probe(const char *spec, long timeout_ms, long *http_status_r, char **body_r, char **error_r);

#endif
