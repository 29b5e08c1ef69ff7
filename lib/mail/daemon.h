/*
 * daemon.h -- what every postgate daemon does the same way (CONVENTIONS.md §8):
 * command line (-c FILE, -p PIDFILE, -t to test the configuration and exit),
 * configuration and logging set-up, sockets owned for Postfix, dropping to the
 * unprivileged daemon.user after opening sockets and secrets, signal flags
 * (SIGHUP reload, SIGTERM/SIGINT stop; handlers only set flags), and reloading by
 * swapping a checked configuration snapshot. Daemons run in the foreground.
 */
#ifndef PG_DAEMON_H
#define PG_DAEMON_H

#include <signal.h>

#include "mail/conf.h"

typedef struct daemon_opts {
    const char *progname;
    const char *config_path;
    int config_explicit;
    const char *pid_file;
    int test_config;
} DAEMON_OPTS;

extern volatile sig_atomic_t daemon_reload_requested;
extern volatile sig_atomic_t daemon_stop_requested;

/* Parses the common options; prints usage and exits on bad ones. */
void daemon_parse_args(DAEMON_OPTS *opts, int argc, char **argv);
/* Loads the configuration and configures logging; exits EX_CONFIG with the reason on error. */
PGCONF *daemon_load_config(const DAEMON_OPTS *opts);
/* Lets Postfix's user reach a unix socket we created: owner daemon.user, group postfix, 0660. */
void daemon_socket_for_postfix(const PGCONF *cfg, const char *spec);
/* Writes the pid file if one was asked for; exits on failure. */
void daemon_write_pidfile(const DAEMON_OPTS *opts);
void daemon_remove_pidfile(const DAEMON_OPTS *opts);
/* Switches to daemon.user when running as root; exits if that user is missing. */
void daemon_drop_privileges(const PGCONF *cfg);
void daemon_install_signals(void);
/* Loads a new snapshot for SIGHUP. Returns it (the caller swaps and unrefs the old),
 * or NULL after logging why the current configuration stays in force. */
PGCONF *daemon_reload_config(const DAEMON_OPTS *opts, const PGCONF *current);

/* -t: 1 (a logged problem) when security.secret_key_file does not load, else 0. */
int daemon_check_secret_key(const PGCONF *cfg);
/* Ends -t: EX_CONFIG after problems, else prints "configuration OK: FILE" and EX_OK. */
int daemon_test_result(const PGCONF *cfg, int problems);

#endif
