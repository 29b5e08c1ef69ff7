/*
 * daemon.c -- the shared daemon lifecycle (daemon.h). Runs before threads start,
 * except daemon_reload_config(), which only reads files.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/daemon.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/seal.h"
#include "util/sock.h"

volatile sig_atomic_t daemon_reload_requested;
volatile sig_atomic_t daemon_stop_requested;

static void
usage(const DAEMON_OPTS *opts, int status)
{
    fprintf(status ? stderr : stdout,
            "usage: %s [-c FILE] [-p PIDFILE] [-t]\n"
            "  -c FILE     configuration file (default " PG_SYSCONFDIR_DEFAULT ")\n"
            "  -p PIDFILE  write the process id to PIDFILE\n"
            "  -t          check the configuration and exit\n"
            "Runs in the foreground; SIGHUP reloads the configuration, SIGTERM stops.\n",
            opts->progname);
    exit(status);
}

void
daemon_parse_args(DAEMON_OPTS *opts, int argc, char **argv)
{
    int opt;

    opts->config_path = PG_SYSCONFDIR_DEFAULT;
    msg_init(opts->progname);
    while ((opt = getopt(argc, argv, "c:p:thV")) != -1) {
        switch (opt) {
        case 'c':
            opts->config_path = optarg;
            opts->config_explicit = 1;
            break;
        case 'p':
            opts->pid_file = optarg;
            break;
        case 't':
            opts->test_config = 1;
            break;
        case 'V':
            printf("%s (%s) %s\n", opts->progname, PACKAGE_NAME, PACKAGE_VERSION);
            exit(EX_OK);
        case 'h':
            usage(opts, EX_OK);
            break;
        default:
            usage(opts, EX_USAGE);
        }
    }
    if (optind != argc)
        usage(opts, EX_USAGE);
}

/* Destination, level, format and the GELF copy; on error nothing after the failed step
 * changes (a reload keeps the previous GELF destination). */
static int
apply_logging(const PGCONF *cfg, char **error_r)
{
    MSG_LEVEL level = MSG_LEVEL_INFO;
    MSG_FORMAT format = MSG_FORMAT_TEXT;
    char why[512];

    msg_level_parse(cfg->logging_level, &level);
    msg_format_parse(cfg->logging_format, &format);
    if (msg_configure(strcmp(cfg->logging_destination, "syslog") == 0 ? MSG_DEST_SYSLOG : MSG_DEST_STDERR,
                      level, cfg->logging_syslog_facility) < 0) {
        *error_r = mem_strdup("unknown syslog facility");
        return -1;
    }
    msg_set_format(format);
    if (msg_gelf_configure(cfg->logging_gelf_host, (int) cfg->logging_gelf_port, cfg->logging_gelf_facility,
                           why, sizeof(why)) < 0) {
        *error_r = mem_strdup(why);
        return -1;
    }
    return 0;
}

PGCONF *
daemon_load_config(const DAEMON_OPTS *opts)
{
    char *error = NULL;
    PGCONF *cfg = conf_load(opts->config_path, !opts->config_explicit, &error);

    if (cfg == NULL)
        msg_fatal_status(EX_CONFIG, "%s", error);
    if (apply_logging(cfg, &error) < 0)
        msg_fatal_status(EX_CONFIG, "logging: %s", error);
    return cfg;
}

void
daemon_socket_for_postfix(const PGCONF *cfg, const char *spec)
{
    SOCK_SPEC s;
    char *error = NULL;
    struct passwd *pw;
    struct group *gr;

    if (sock_parse(spec, &s, &error) < 0 || !s.is_unix) {
        mem_free(error);
        return;
    }
    if (geteuid() != 0)
        return;
    pw = getpwnam(cfg->daemon_user);
    gr = getgrnam("postfix");
    if (chown(s.path, pw ? pw->pw_uid : (uid_t) -1, gr ? gr->gr_gid : (gid_t) -1) < 0
        || chmod(s.path, 0660) < 0)
        msg_warn("%s: cannot hand the socket to postfix: %s", s.path, strerror(errno));
}

void
daemon_write_pidfile(const DAEMON_OPTS *opts)
{
    FILE *fp;

    if (opts->pid_file == NULL)
        return;
    fp = fopen(opts->pid_file, "w");
    if (fp == NULL || fprintf(fp, "%ld\n", (long) getpid()) < 0 || fclose(fp) != 0)
        msg_fatal("pid file %s: %s", opts->pid_file, strerror(errno));
}

void
daemon_remove_pidfile(const DAEMON_OPTS *opts)
{
    if (opts->pid_file)
        unlink(opts->pid_file);
}

void
daemon_drop_privileges(const PGCONF *cfg)
{
    struct passwd *pw;

    if (geteuid() != 0)
        return;
    pw = getpwnam(cfg->daemon_user);
    if (pw == NULL)
        msg_fatal_status(EX_CONFIG, "%s: daemon.user \"%s\" does not exist (create it, e.g. "
                         "adduser --system --group %s)", cfg->origin[CONF_K_daemon_user],
                         cfg->daemon_user, cfg->daemon_user);
    if (pw->pw_uid == 0)
        msg_fatal_status(EX_CONFIG, "daemon.user \"%s\" is root; use an unprivileged user", cfg->daemon_user);
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
        msg_fatal("cannot switch to user %s: %s", cfg->daemon_user, strerror(errno));
    if (setuid(0) == 0)
        msg_panic("privileges were not dropped");
    msg_info("running as user %s", cfg->daemon_user);
}

static void
on_hup(int sig)
{
    daemon_reload_requested = 1;
}

static void
on_stop(int sig)
{
    daemon_stop_requested = 1;
}

void
daemon_install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

PGCONF *
daemon_reload_config(const DAEMON_OPTS *opts, const PGCONF *current)
{
    char *error = NULL;
    PGCONF *cfg = conf_load(opts->config_path, !opts->config_explicit, &error);

    if (cfg == NULL || conf_reload_check(current, cfg, &error) < 0) {
        msg_error("reload refused, keeping the current configuration: %s", error);
        mem_free(error);
        conf_unref(cfg);
        return NULL;
    }
    if (apply_logging(cfg, &error) < 0) {
        msg_warn("logging: %s", error);
        mem_free(error);
    }
    msg_info("configuration reloaded from %s", cfg->path ? cfg->path : "defaults and environment");
    return cfg;
}

int
daemon_check_secret_key(const PGCONF *cfg)
{
    char *error = NULL;
    SEAL_KEY *key = seal_key_load(cfg->security_secret_key_file, &error);

    if (key == NULL) {
        msg_error("security.secret_key_file: %s", error);
        mem_free(error);
        return 1;
    }
    seal_key_free(key);
    return 0;
}

int
daemon_test_result(const PGCONF *cfg, int problems)
{
    if (problems)
        return EX_CONFIG;
    printf("configuration OK: %s\n", cfg->path ? cfg->path : "(defaults and environment only)");
    return EX_OK;
}
