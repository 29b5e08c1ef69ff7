/*
 * ctl_status.c -- `postgatectl status [--json]`: the whole installation at one look, for
 * a person (a table) or a monitoring system (one JSON object): each daemon's /health on
 * its <daemon>.monitor_listen, MariaDB, the schema against the migrations this program
 * carries, Postfix (running, `postfix check`, postgate's wiring as `postgatectl postfix
 * check` sees it, its queues through postqueue -j), and postgate's own backlogs (webhook
 * requests and endpoint deliveries pending, the oldest one's age).
 *
 * Exit status, Nagios's plugin convention: 0 OK; 1 WARNING (something to look at, mail
 * flows: `postfix check` complains, the database is newer than this program, the queue
 * cannot be counted); 2 CRITICAL (mail is at risk: a daemon down or unhealthy, MariaDB
 * unreachable, migrations not applied, Postfix stopped or not wired). Usage and
 * configuration errors keep postgatectl's 64 and 78.
 *
 * Must never: change anything (no migration, no postconf -e), or wait on any part
 * without a deadline.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_postconf.h"
#include "mail/migrate.h"
#include "mail/monitor.h"
#include "mail/pfqueue.h"
#include "mail/queue.h"
#include "mail/webhook.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/run.h"

#define PROBE_TIMEOUT_MS 5000
#define POSTFIX_TIMEOUT 30

enum { LEVEL_OK, LEVEL_WARNING, LEVEL_CRITICAL };
static const char *const level_name[] = {"ok", "warning", "critical"};

typedef struct status {
    int level;                  /* the worst so far */
    json_t *root;
    BUF *table;                 /* the human-readable rows */
} STATUS;

/* One row of the table; raises the overall level. */
static void
row(STATUS *st, int level, const char *check, const char *state, const char *detail)
{
    if (level > st->level)
        st->level = level;
    buf_printf(st->table, "%-18s %-8s %-14s %s\n", check, level_name[level], state, detail ? detail : "");
}

/* The lines of text as a JSON array of strings (empty lines left out). */
static json_t *
lines_array(const char *text)
{
    json_t *a = json_array();

    while (*text) {
        size_t n = strcspn(text, "\n");

        if (n > 0)
            json_array_append_new(a, json_stringn(text, n));
        text += n + (text[n] == '\n');
    }
    return a;
}

/* ---------------------------------------------------------------- the daemons */

static void
check_daemons(STATUS *st, const PGCONF *cfg)
{
    const struct {
        const char *program, *spec;
    } daemons[] = {
        {"postgate-milter", cfg->milter_monitor_listen},
        {"postgate-policyd", cfg->policyd_monitor_listen},
        {"postgate-worker", cfg->worker_monitor_listen},
        {"postgate-tracker", cfg->tracker_monitor_listen},
        {"postgate-admin", cfg->admin_monitor_listen},
    };
    json_t *all = json_object();

    for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
        const char *spec = daemons[i].spec, *state;
        char *body = NULL, *error = NULL, *detail;
        long code = 0;
        int level;

        if (*spec == '\0') {
            state = "not monitored";
            level = LEVEL_OK;
            detail = buf_asprintf("monitor_listen is empty: no /health to ask");
        } else if (!monitor_probe(spec, PROBE_TIMEOUT_MS, &code, &body, &error)) {
            state = "down";
            level = LEVEL_CRITICAL;
            detail = buf_asprintf("%s", error);
        } else if (code == 200) {
            state = "ok";
            level = LEVEL_OK;
            detail = buf_asprintf("%s", spec);
        } else {
            state = "unhealthy";
            level = LEVEL_CRITICAL;
            detail = buf_asprintf("%s: HTTP %ld: %s", spec, code, *body ? body : "no reason given");
        }
        row(st, level, daemons[i].program, state, detail);
        json_object_set_new(all, daemons[i].program,
                            json_pack("{s:s, s:s, s:s, s:o, s:s}", "state", state, "level", level_name[level],
                                      "listen", spec, "http_status", code ? json_integer(code) : json_null(),
                                      "detail", code == 200 ? body : detail));
        mem_free(detail);
        mem_free(body);
        mem_free(error);
    }
    json_object_set_new(st->root, "daemons", all);
}

/* ---------------------------------------------------------------- MariaDB and the schema */

static double
seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 1 when MariaDB answered. */
static int
check_database(STATUS *st, const PGCONF *cfg, DB *db)
{
    struct timespec t0;
    DB_RESULT *res = NULL;
    char *detail;
    double took;
    int ret;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    ret = db_query(db, &res, "SELECT 1", DB_NOARGS);
    took = seconds_since(&t0);
    db_result_free(res);
    if (ret < 0) {
        detail = buf_asprintf("database %s: %s", cfg->database_name, db_error(db));
        row(st, LEVEL_CRITICAL, "mariadb", "down", detail);
        json_object_set_new(st->root, "database", json_pack("{s:s, s:s, s:s, s:s}", "state", "down", "level",
                                                            "critical", "name", cfg->database_name, "detail",
                                                            db_error(db)));
    } else {
        detail = buf_asprintf("database %s answered in %.1f ms", cfg->database_name, took * 1000);
        row(st, LEVEL_OK, "mariadb", "ok", detail);
        json_object_set_new(st->root, "database", json_pack("{s:s, s:s, s:s, s:f}", "state", "ok", "level", "ok",
                                                            "name", cfg->database_name, "response_seconds", took));
    }
    mem_free(detail);
    return ret >= 0;
}

static void
check_schema(STATUS *st, const PGCONF *cfg, DB *db, int db_up)
{
    MIGRATE_STATE ms;
    char *error = NULL, *detail;
    const char *state;
    int level;

    if (!db_up) {
        row(st, LEVEL_CRITICAL, "schema", "unknown", "MariaDB is unreachable");
        json_object_set_new(st->root, "schema", json_pack("{s:s, s:s, s:s}", "state", "unknown", "level", "critical",
                                                          "detail", "MariaDB is unreachable"));
        return;
    }
    if (migrate_state(db, cfg->database_migrations_dir, &ms, &error) < 0) {
        row(st, LEVEL_CRITICAL, "schema", "unknown", error);
        json_object_set_new(st->root, "schema", json_pack("{s:s, s:s, s:s}", "state", "unknown", "level", "critical",
                                                          "detail", error));
        mem_free(error);
        return;
    }
    if (!ms.initialized) {
        state = "uninitialized", level = LEVEL_CRITICAL;
        detail = buf_asprintf("no schema_migrations table: run postgatectl initialize");
    } else if (ms.pending) {
        state = "behind", level = LEVEL_CRITICAL;
        detail = buf_asprintf("version %u, this program knows %u: %zu migration%s not applied: run postgatectl "
                              "upgrade-db", ms.db_version, ms.known_version, ms.pending, ms.pending == 1 ? "" : "s");
    } else if (ms.unknown) {
        state = "ahead", level = LEVEL_WARNING;
        detail = buf_asprintf("version %u, this program knows %u: the database was migrated by a newer postgate",
                              ms.db_version, ms.known_version);
    } else if (ms.changed) {
        state = "changed", level = LEVEL_WARNING;
        detail = buf_asprintf("version %u: %zu migration file%s changed after being applied (%s)", ms.db_version,
                              ms.changed, ms.changed == 1 ? "" : "s", cfg->database_migrations_dir);
    } else {
        state = "ok", level = LEVEL_OK;
        detail = buf_asprintf("version %u, as this program expects", ms.db_version);
    }
    row(st, level, "schema", state, detail);
    json_object_set_new(st->root, "schema", json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "state", state,
                                                      "level", level_name[level], "version", (json_int_t) ms.db_version,
                                                      "known_version", (json_int_t) ms.known_version,
                                                      "pending", (json_int_t) ms.pending,
                                                      "unknown", (json_int_t) ms.unknown, "detail", detail));
    mem_free(detail);
}

/* ---------------------------------------------------------------- Postfix */

/* "what: the first line of out", or what and where Postfix put its messages when it
 * wrote none here (Postfix writes to stderr only when it is a terminal). mem_free it. */
static char *
postfix_said(const char *what, const BUF *out)
{
    const char *text = buf_cstr(out);
    int n = (int) strcspn(text, "\n");

    return n ? buf_asprintf("%s: %.*s", what, n, text) : buf_asprintf("%s (its messages are in Postfix's log)", what);
}

/* Runs postfix -c DIR command: its exit status (-1 not run), stdout and stderr in out. */
static int
run_postfix(const char *postfix, const char *dir, const char *command, BUF *out)
{
    const char *argv[] = {postfix, "-c", dir, command, NULL};
    BUF *err = buf_new(1024);
    int status = run_capture((char *const *) argv, POSTFIX_TIMEOUT, 65536, out, err, NULL);

    buf_append(out, buf_data(err), buf_len(err));
    buf_free(err);
    return status;
}

/* 1 when Postfix runs. */
static int
check_postfix_running(STATUS *st, const PGCONF *cfg, json_t *pfj, const char *postfix)
{
    const char *dir = cfg->postfix_config_directory;
    BUF *out = buf_new(1024);
    int status, running = 0;
    char *detail;

    if (postfix == NULL) {
        row(st, LEVEL_CRITICAL, "postfix", "unknown", "postfix not found in PATH");
        json_object_set_new(pfj, "running", json_null());
        json_object_set_new(pfj, "check", json_pack("{s:s, s:s, s:[]}", "state", "unknown", "level", "warning",
                                                    "output"));
        buf_free(out);
        return 0;
    }
    status = run_postfix(postfix, dir, "status", out);
    running = status == 0;
    if (running) {
        detail = buf_asprintf("running (%s)", dir);
    } else {
        char *what = buf_asprintf("not running (%s)", dir);

        detail = postfix_said(what, out);
        mem_free(what);
    }
    row(st, running ? LEVEL_OK : LEVEL_CRITICAL, "postfix", running ? "running" : "stopped", detail);
    json_object_set_new(pfj, "running", json_boolean(running));
    mem_free(detail);

    buf_reset(out);
    status = run_postfix(postfix, dir, "check", out);
    if (status == 0) {
        detail = buf_asprintf("postfix check passed%s", buf_len(out) ? " with warnings" : "");
    } else {
        char *what = buf_asprintf("postfix check: exit status %d", status);

        detail = postfix_said(what, out);
        mem_free(what);
    }
    row(st, status == 0 ? LEVEL_OK : LEVEL_WARNING, "postfix check", status == 0 ? "ok" : "failed", detail);
    json_object_set_new(pfj, "check", json_pack("{s:s, s:s, s:i, s:o}", "state", status == 0 ? "ok" : "failed",
                                                "level", status == 0 ? "ok" : "warning", "exit_status", status,
                                                "output", lines_array(buf_cstr(out))));
    mem_free(detail);
    buf_free(out);
    return running;
}

static void
check_wiring(STATUS *st, const PGCONF *cfg, json_t *pfj)
{
    char *text = NULL, *detail;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int problems = 0, status;

    if (mem == NULL) {
        msg_error("open_memstream: %m");
        return;
    }
    status = ctl_postfix_wiring(cfg, mem, &problems);
    fclose(mem);
    if (status != 0) {
        detail = buf_asprintf("cannot read the Postfix instance in %s (why: on stderr)", cfg->postfix_config_directory);
        row(st, LEVEL_CRITICAL, "postfix wiring", "unknown", detail);
        mem_free(detail);
        json_object_set_new(pfj, "wiring", json_pack("{s:s, s:s, s:[]}", "state", "unknown", "level", "critical",
                                                     "problems"));
    } else {
        detail = problems ? buf_asprintf("%d thing%s missing or different: run postgatectl postfix check", problems,
                                         problems == 1 ? "" : "s")
            : buf_asprintf("wired to postgate");
        row(st, problems ? LEVEL_CRITICAL : LEVEL_OK, "postfix wiring", problems ? "incomplete" : "ok", detail);
        json_object_set_new(pfj, "wiring", json_pack("{s:s, s:s, s:o}", "state", problems ? "incomplete" : "ok",
                                                     "level", problems ? "critical" : "ok",
                                                     "problems", lines_array(text)));
        mem_free(detail);
    }
    free(text);             /* open_memstream's buffer is malloc'd */
}

static void
check_queue(STATUS *st, const PGCONF *cfg, json_t *pfj)
{
    PFQUEUE_COUNTS c;
    char *error = NULL, *detail;

    if (pfqueue_count(cfg->postfix_postqueue_path, cfg->postfix_config_directory, &c, &error) < 0) {
        row(st, LEVEL_WARNING, "postfix queue", "unknown", error);
        json_object_set_new(pfj, "queue", json_pack("{s:s, s:s, s:s}", "state", "unknown", "level", "warning",
                                                    "detail", error));
        mem_free(error);
        return;
    }
    detail = buf_asprintf("active %llu, deferred %llu, hold %llu, incoming %llu, maildrop %llu", c.active,
                          c.deferred, c.hold, c.incoming, c.maildrop);
    row(st, LEVEL_OK, "postfix queue", "ok", detail);
    json_object_set_new(pfj, "queue", json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "state", "ok", "level",
                                                "ok", "active", (json_int_t) c.active,
                                                "deferred", (json_int_t) c.deferred, "hold", (json_int_t) c.hold,
                                                "incoming", (json_int_t) c.incoming,
                                                "maildrop", (json_int_t) c.maildrop, "other", (json_int_t) c.other));
    mem_free(detail);
}

static void
check_postfix(STATUS *st, const PGCONF *cfg)
{
    json_t *pfj = json_pack("{s:s}", "config_directory", cfg->postfix_config_directory);
    char *postfix = find_program("postfix");

    check_postfix_running(st, cfg, pfj, postfix);
    check_wiring(st, cfg, pfj);
    check_queue(st, cfg, pfj);
    json_object_set_new(st->root, "postfix", pfj);
    mem_free(postfix);
}

/* ---------------------------------------------------------------- postgate's backlogs */

static void
check_backlog(STATUS *st, const char *key, const char *check, const char *what,
              int (*backlog)(DB *, unsigned long long *, double *), DB *db, int db_up)
{
    unsigned long long n = 0;
    double oldest = 0;
    char *detail;

    if (!db_up || backlog(db, &n, &oldest) < 0) {
        detail = buf_asprintf("%s", db_up ? db_error(db) : "MariaDB is unreachable");
        row(st, LEVEL_CRITICAL, check, "unknown", detail);
        json_object_set_new(st->root, key, json_pack("{s:s, s:s, s:s}", "state", "unknown", "level", "critical",
                                                     "detail", detail));
        mem_free(detail);
        return;
    }
    detail = n ? buf_asprintf("%llu %s pending, the oldest for %.0f s", n, what, oldest)
        : buf_asprintf("no %s pending", what);
    row(st, LEVEL_OK, check, "ok", detail);
    json_object_set_new(st->root, key, json_pack("{s:s, s:s, s:I, s:f}", "state", "ok", "level", "ok",
                                                 "pending", (json_int_t) n, "oldest_pending_seconds", oldest));
    mem_free(detail);
}

/* ---------------------------------------------------------------- the command */

int
ctl_status(CTL_CONTEXT *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0}
    };
    STATUS st = {LEVEL_OK, NULL, NULL};
    int opt, as_json = 0, db_up;
    DB *db;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt != 'j') {
            msg_error("usage: postgatectl status [--json]");
            return EX_USAGE;
        }
        as_json = 1;
    }
    if (optind != argc) {
        msg_error("usage: postgatectl status [--json]");
        return EX_USAGE;
    }
    st.root = json_pack("{s:s}", "version", PACKAGE_VERSION);
    st.table = buf_new(4096);
    db = db_new(ctx->cfg);

    check_daemons(&st, ctx->cfg);
    db_up = check_database(&st, ctx->cfg, db);
    check_schema(&st, ctx->cfg, db, db_up);
    check_postfix(&st, ctx->cfg);
    check_backlog(&st, "webhooks", "webhooks", "webhook requests", webhook_backlog, db, db_up);
    check_backlog(&st, "endpoints", "endpoint queue", "endpoint deliveries", queue_backlog, db, db_up);

    json_object_set_new(st.root, "status", json_string(level_name[st.level]));
    json_object_set_new(st.root, "exit_code", json_integer(st.level));
    if (as_json) {
        char *text = json_dumps(st.root, JSON_INDENT(2) | JSON_SORT_KEYS);

        printf("%s\n", text);
        free(text);             /* jansson's allocation */
    } else {
        printf("postgate %s: %s\n\n%-18s %-8s %-14s %s\n%s", PACKAGE_VERSION,
               st.level == LEVEL_OK ? "OK" : st.level == LEVEL_WARNING ? "WARNING" : "CRITICAL",
               "CHECK", "LEVEL", "STATE", "DETAIL", buf_cstr(st.table));
    }
    fflush(stdout);
    db_free(db);
    buf_free(st.table);
    json_decref(st.root);
    return st.level;
}
