/*
 * ctl_postfix.c -- `postgatectl postfix enable|disable|check|pools`: wire a Postfix instance
 * to postgate's daemons (milter, policy service, Dovecot-protocol SASL, the loopback
 * release service, the maillog file, the IP pools' transports) and unwire it again;
 * `postfix pools` brings the pool transports alone in line with the database. This file
 * holds the four commands; ctl_postconf.c reads the instance, ctl_mastercf.c its master.cf
 * services, ctl_pfpools.c the pool transports, ctl_pfstate.c keeps the state for an exact
 * undo, ctl_pfsock.c the sockets.
 *
 * Contract: main.cf and master.cf change only through postconf(1), run with an argv
 * (never a shell), its output captured and shown when it fails. Before its first change
 * enable saves full copies DIR/main.cf.postgate-backup and DIR/master.cf.postgate-backup
 * (never overwritten) and DIR/postgate.state: for every main.cf parameter it changes,
 * the previous explicit value or that it was unset. disable restores exactly those
 * parameters, removes the master.cf services carrying the marker
 * "-o syslog_name=postfix/postgate-..." (every service enable adds has it) and removes
 * the state file. enable on a wired instance changes nothing; check changes nothing.
 *
 * Must never: edit main.cf or master.cf text itself, overwrite a backup, remove a
 * master.cf service without the marker, or let a client relay by address alone
 * (no permit_mynetworks in smtpd_relay_restrictions: postgate is never an open relay).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_mastercf.h"
#include "ctl_pfpools.h"
#include "ctl_pfsock.h"
#include "ctl_pfstate.h"
#include "ctl_pftls.h"
#include "ctl_postconf.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/run.h"

#define EX_NOT_WIRED 1          /* check: something is missing (like diff(1)'s 1) */

/* ---------------------------------------------------------------- the commands */

/* Writes each thing that is not wired to out; the count. With warn, also warns about
 * what may be passing (a daemon not running, the maillog directory missing). */
static int
wiring_problems(PF *pf, FILE *out, int warn)
{
    int problems = 0;
    char why[256];

    for (size_t i = 0; i < pf->nsettings; i++) {
        const SETTING *s = &pf->settings[i];

        if (!same_value(s->now, s->want)) {
            fprintf(out, "main.cf: %s is \"%s\", expected \"%s\"\n", s->name, s->now, s->want);
            problems++;
        }
    }
    if (!pf->postlog_present) {
        fprintf(out, "master.cf: service postlog/unix-dgram (postlogd, needed by maillog_file) is missing\n");
        problems++;
    }
    for (int i = 0; i < LOOPBACKS; i++) {
        const LOOPBACK *lb = &pf->loop[i];

        if (!*lb->now) {
            fprintf(out, "master.cf: %s service %s is missing\n", lb->what, lb->service);
            problems++;
        } else if (!loopback_ok(lb)) {
            fprintf(out, "master.cf: %s service %s is \"%s\", expected \"%s\"\n", lb->what, lb->service,
                    lb->now, lb->line);
            problems++;
        }
    }
    for (size_t i = 0; i < pf->marked.count; i++) {
        if (is_stale(pf, pf->marked.items[i].name)) {
            fprintf(out, "master.cf: service %s was added by postgate but is no longer wanted "
                    "(postfix.release_address or injection_address changed?)\n", pf->marked.items[i].name);
            problems++;
        }
    }
    for (int i = 0; i < SOCK_COUNT; i++) {
        char *dir;

        if (socket_dir_missing(pf, i, &dir)) {
            fprintf(out, "socket directory %s (%s) is missing\n", dir, pf->sock_key[i]);
            problems++;
            mem_free(dir);
        } else if (warn && try_connect(pf->sock_spec[i], why, sizeof(why)) != NULL) {
            msg_warn("%s: %s does not accept connections (%s): is the postgate daemon running?",
                     pf->sock_key[i], pf->sock_spec[i], why);
        }
    }
    {
        char *dir = dir_of(pf->cfg->postfix_maillog_file);
        struct stat st;

        if (warn && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
            msg_warn("postfix.maillog_file: directory %s does not exist: Postfix cannot write %s",
                     dir, pf->cfg->postfix_maillog_file);
        mem_free(dir);
    }
    problems += pftls_check(pf, out);
    return problems;
}

static int pools_against_db(PF *pf, FILE *report, int *changed_r);

static int
do_check(PF *pf)
{
    int problems = wiring_problems(pf, stdout, 1), pool_problems = 0, status;

    /* The pool transports against the database (status's wiring check leaves them out:
     * it reports MariaDB on its own). */
    if ((status = pools_against_db(pf, stdout, &pool_problems)) != 0)
        return status;
    problems += pool_problems;
    if (problems) {
        printf("Postfix in %s is not wired to postgate: %d thing%s missing or different; "
               "run 'postgatectl postfix enable'.\n", pf->dir, problems, problems == 1 ? "" : "s");
        return EX_NOT_WIRED;
    }
    printf("Postfix in %s is wired to postgate.\n", pf->dir);
    return EX_OK;
}

/* The pool transports as postfix.ip_pools wants them (none when off): 0 or an exit status;
 * *changed_r when something changed. With report, only what differs is written there
 * (*changed_r its count). */
static int
pools_against_db(PF *pf, FILE *report, int *changed_r)
{
    DB *db = NULL;
    int status;

    *changed_r = 0;
    if (pf->cfg->postfix_ip_pools) {
        int ret;

        db = db_new(pf->cfg);
        if ((ret = db_connect(db, 0)) < 0) {
            msg_error("IP pools: cannot reach MariaDB: %s", db_error(db));
            db_free(db);
            return ctl_db_status(ret);
        }
    }
    status = report ? pfpools_check(pf, db, report, changed_r) : pfpools_sync(pf, db, changed_r);
    if (db)
        db_free(db);
    return status;
}

static int
sync_pools(PF *pf, int *changed_r)
{
    return pools_against_db(pf, NULL, changed_r);
}

static int
do_enable(PF *pf, int reload)
{
    STATE st;
    char *changes[32], *removals[8], *dirs[SOCK_COUNT];
    size_t nchanges = 0, nremovals = 0, ndirs = 0;
    int status, loop_needed[LOOPBACKS], any_loop = 0, postlog_needed, changed = 0;

    if ((status = state_load(pf, &st)) != 0)
        return status;
    for (int i = 0; i < LOOPBACKS; i++) {
        if (*pf->loop[i].now && !pf->loop[i].ours) {
            msg_error("%s/master.cf already has a service %s that postgate did not add: "
                      "remove it or choose another %s", pf->dir, pf->loop[i].service, pf->loop[i].key);
            state_free(&st);
            return EX_CONFIG;
        }
        any_loop |= loop_needed[i] = !loopback_ok(&pf->loop[i]);
    }
    for (size_t i = 0; i < pf->nsettings; i++)
        if (!same_value(pf->settings[i].now, pf->settings[i].want))
            changes[nchanges++] = buf_asprintf("%s=%s", pf->settings[i].name, pf->settings[i].want);
    for (size_t i = 0; i < pf->marked.count && nremovals < 8; i++)
        if (is_stale(pf, pf->marked.items[i].name))
            removals[nremovals++] = pf->marked.items[i].name;
    for (int i = 0; i < SOCK_COUNT; i++) {
        char *dir;

        if (socket_dir_missing(pf, i, &dir)) {
            int dup = 0;

            for (size_t k = 0; k < ndirs; k++)
                dup |= strcmp(dirs[k], dir) == 0;
            if (dup)
                mem_free(dir);
            else
                dirs[ndirs++] = dir;
        }
    }
    postlog_needed = !pf->postlog_present;

    if (nchanges == 0 && nremovals == 0 && ndirs == 0 && !any_loop && !postlog_needed) {
        if ((status = sync_pools(pf, &changed)) == 0 && !changed)
            printf("Postfix in %s is already wired to postgate: nothing changed.\n", pf->dir);
        if (status == 0)
            status = pf_maybe_reload(pf, reload, changed);
        state_free(&st);
        return status;
    }

    /* Before the first change: backups (kept from the first time) and the state. */
    if (nchanges || nremovals || any_loop || postlog_needed) {
        static const char *const files[] = {"main.cf", "master.cf"};

        for (int i = 0; i < 2 && status == 0; i++) {
            char *src = path_join(pf->dir, files[i]);
            char *dst = buf_asprintf("%s%s", src, BACKUP_SUFFIX);
            int made;

            if ((status = backup_file(src, dst, &made)) == 0 && made)
                printf("saved %s\n", dst);
            mem_free(src);
            mem_free(dst);
        }
        if (status == 0) {
            size_t before = st.count;

            for (size_t i = 0; i < pf->nsettings; i++) {
                const SETTING *s = &pf->settings[i];
                const char *old;

                if (same_value(s->now, s->want) || state_get(&st, s->name))
                    continue;
                old = kv_get(&pf->explicit, s->name);
                state_add(&st, s->name, strlen(s->name), old != NULL, old);
            }
            if (st.count != before || !st.exists) {
                if ((status = state_save(pf, &st)) == 0)
                    printf("%s %s/%s (the previous main.cf values)\n",
                           st.exists ? "updated" : "saved", pf->dir, STATE_FILE);
            }
        }
    }
    for (size_t i = 0; i < ndirs && status == 0; i++)
        status = make_socket_dir(pf, dirs[i]);
    if (status == 0 && nchanges) {
        if ((status = postconf_list(pf, NULL, "-e", NULL, changes, nchanges)) == 0) {
            changed = 1;
            for (size_t i = 0; i < pf->nsettings; i++) {
                const SETTING *s = &pf->settings[i];

                if (!same_value(s->now, s->want))
                    printf("main.cf: %s = %s (was \"%s\"%s)\n", s->name, s->want, s->now,
                           kv_get(&pf->explicit, s->name) ? "" : ", the default");
            }
        }
    }
    if (status == 0 && postlog_needed) {
        char *arg = buf_asprintf("postlog/unix-dgram=%s", POSTLOG_LINE);

        if ((status = POSTCONF(pf, NULL, "-M", arg)) == 0) {
            changed = 1;
            printf("master.cf: added service postlog/unix-dgram (postlogd, writes maillog_file)\n");
        }
        mem_free(arg);
    }
    for (int i = 0; i < LOOPBACKS && status == 0; i++) {
        const LOOPBACK *lb = &pf->loop[i];
        char *arg;

        if (!loop_needed[i])
            continue;
        arg = buf_asprintf("%s=%s", lb->service, lb->line);
        if ((status = POSTCONF(pf, NULL, "-M", arg)) == 0) {
            changed = 1;
            printf("master.cf: %s %s service %s\n", *lb->now ? "updated" : "added", lb->what, lb->service);
        }
        mem_free(arg);
    }
    if (status == 0 && nremovals) {
        if ((status = postconf_list(pf, NULL, "-MX", NULL, removals, nremovals)) == 0) {
            changed = 1;
            for (size_t i = 0; i < nremovals; i++)
                printf("master.cf: removed service %s (added by postgate, no longer wanted)\n", removals[i]);
        }
    }
    /* The transports before the map that names them takes effect (at the reload). */
    if (status == 0) {
        int pools_changed;

        status = sync_pools(pf, &pools_changed);
        changed |= pools_changed;
    }
    if (status == 0)
        printf("Postfix in %s is now wired to postgate.\n", pf->dir);
    else if (changed)
        msg_error("enable stopped half way: run it again, or 'postgatectl postfix disable' to undo");
    if (status == 0)
        status = pf_maybe_reload(pf, reload, changed);
    for (size_t i = 0; i < nchanges; i++)
        mem_free(changes[i]);
    for (size_t i = 0; i < ndirs; i++)
        mem_free(dirs[i]);
    state_free(&st);
    return status;
}

static int
do_disable(PF *pf, int reload)
{
    STATE st;
    char **sets, **unsets, **removals;
    const STATE_ENTRY **restored;
    size_t nsets = 0, nunsets = 0, nremovals = 0, npools = 0;
    char *path = path_join(pf->dir, STATE_FILE);
    int status, changed = 0;

    if ((status = state_load(pf, &st)) != 0) {
        mem_free(path);
        return status;
    }
    /* The pool transports go through ctl_pfpools.c, with their main.cf parameters. */
    removals = mem_alloc((pf->marked.count + 1) * sizeof(*removals));
    for (size_t i = 0; i < pf->marked.count; i++) {
        if (pfpools_owns(pf->marked.items[i].name))
            npools++;
        else
            removals[nremovals++] = pf->marked.items[i].name;
    }
    for (size_t i = 0; i < pf->explicit.count; i++)
        npools += pfpools_owns(pf->explicit.items[i].name);
    if (!st.exists && nremovals == 0 && npools == 0) {
        printf("Postfix in %s is not wired by postgate (no %s, no postgate services): nothing changed.\n",
               pf->dir, path);
        mem_free(removals);
        mem_free(path);
        return EX_OK;
    }
    sets = mem_alloc((st.count + 1) * sizeof(*sets));
    restored = mem_alloc((st.count + 1) * sizeof(*restored));
    unsets = mem_alloc((st.count + 1) * sizeof(*unsets));
    for (size_t i = 0; i < st.count; i++) {
        const STATE_ENTRY *e = &st.items[i];
        const char *now = kv_get(&pf->explicit, e->name);

        for (size_t k = 0; k < pf->nsettings; k++) {
            const SETTING *s = &pf->settings[k];

            if (strcmp(s->name, e->name) == 0 && !same_value(s->now, s->want))
                msg_warn("main.cf: %s was changed after enable (now \"%s\"); restoring \"%s\" anyway",
                         e->name, s->now, e->was_set ? e->value : "(unset)");
        }
        if (e->was_set && !(now && strcmp(now, e->value) == 0)) {
            restored[nsets] = e;
            sets[nsets++] = buf_asprintf("%s=%s", e->name, e->value);
        }
        else if (!e->was_set && now)
            unsets[nunsets++] = e->name;
    }
    if (nsets && (status = postconf_list(pf, NULL, "-e", NULL, sets, nsets)) == 0) {
        changed = 1;
        for (size_t i = 0; i < nsets; i++)
            printf("main.cf: %s = %s (restored)\n", restored[i]->name, restored[i]->value);
    }
    if (status == 0 && nunsets && (status = postconf_list(pf, NULL, "-X", NULL, unsets, nunsets)) == 0) {
        changed = 1;
        for (size_t i = 0; i < nunsets; i++)
            printf("main.cf: %s removed (it was not set before)\n", unsets[i]);
    }
    if (status == 0 && nremovals && (status = postconf_list(pf, NULL, "-MX", NULL, removals, nremovals)) == 0) {
        changed = 1;
        for (size_t i = 0; i < nremovals; i++)
            printf("master.cf: removed service %s\n", removals[i]);
    }
    /* After main.cf no longer points at them. */
    if (status == 0 && npools) {
        int pools_changed;

        status = pfpools_sync(pf, NULL, &pools_changed);
        changed |= pools_changed;
    }
    if (status == 0 && !st.exists)
        msg_warn("no %s: main.cf parameters were not restored; compare main.cf with main.cf" BACKUP_SUFFIX,
                 path);
    if (status == 0 && st.exists) {
        if (unlink(path) < 0) {
            msg_error("cannot remove %s: %s", path, strerror(errno));
            status = EX_CANTCREAT;
        } else {
            printf("removed %s (the backups *%s stay)\n", path, BACKUP_SUFFIX);
        }
    }
    if (status == 0)
        printf("Postfix in %s is no longer wired to postgate.\n", pf->dir);
    if (status == 0)
        status = pf_maybe_reload(pf, reload, changed);
    for (size_t i = 0; i < nsets; i++)
        mem_free(sets[i]);
    mem_free(sets);
    mem_free(removals);
    mem_free(restored);
    mem_free(unsets);
    state_free(&st);
    mem_free(path);
    return status;
}

/* `postfix pools`: the pool transports follow the database (run after pool addresses or
 * limits change; rules, priorities and servers' pools need nothing, policyd reads them). */
static int
do_pools(PF *pf, int reload)
{
    int changed, status;

    if (!pf->cfg->postfix_ip_pools)
        printf("postfix.ip_pools is off: IP pool transports are removed, mail leaves from Postfix's default "
               "address.\n");
    if ((status = sync_pools(pf, &changed)) == 0 && !changed)
        printf("IP pool transports in %s are up to date: nothing changed.\n", pf->dir);
    if (status == 0)
        status = pf_maybe_reload(pf, reload, changed);
    return status;
}

int
ctl_postfix_wiring(const PGCONF *cfg, FILE *out, int *problems_r)
{
    PF pf;
    int status;

    *problems_r = 0;
    if ((status = pf_open(&pf, cfg, cfg->postfix_config_directory)) == 0 && (status = pf_load(&pf)) == 0
        && (status = mastercf_check(&pf)) == 0 && (status = pf_load_settings(&pf)) == 0
        && (status = mastercf_load(&pf)) == 0)
        *problems_r = wiring_problems(&pf, out, 0);
    pf_close(&pf);
    return status;
}

static int
postfix_usage(void)
{
    msg_error("usage: postgatectl postfix enable|disable|pools [-C POSTFIX_CONFIG_DIR] [--reload]");
    msg_error("       postgatectl postfix check [-C POSTFIX_CONFIG_DIR]");
    msg_error("       postgatectl postfix tls --cert FILE --key FILE ... | --off (see postgatectl(8))");
    return EX_USAGE;
}

int
ctl_postfix(CTL_CONTEXT *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"config-directory", required_argument, NULL, 'C'},
        {"reload", no_argument, NULL, 'r'},
        {NULL, 0, NULL, 0}
    };
    const char *sub, *dir = ctx->cfg->postfix_config_directory;
    int opt, reload = 0, status;
    PF pf;

    if (argc < 2)
        return postfix_usage();
    sub = argv[1];
    if (strcmp(sub, "tls") == 0)
        return ctl_postfix_tls(ctx, argc, argv);
    if (strcmp(sub, "enable") != 0 && strcmp(sub, "disable") != 0 && strcmp(sub, "check") != 0
        && strcmp(sub, "pools") != 0) {
        msg_error("unknown postfix subcommand '%s' (enable, disable, check, pools or tls)", sub);
        return postfix_usage();
    }
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "C:", options, NULL)) != -1) {
        switch (opt) {
        case 'C': dir = optarg; break;
        case 'r': reload = 1; break;
        default: return postfix_usage();
        }
    }
    if (optind != argc - 1) {
        msg_error("postfix %s: unexpected argument '%s'", sub, argv[1 + optind]);
        return postfix_usage();
    }
    if (reload && strcmp(sub, "check") == 0) {
        msg_error("postfix check: --reload applies to enable, disable and pools only");
        return EX_USAGE;
    }
    if ((status = pf_open(&pf, ctx->cfg, dir)) == 0 && (status = pf_load(&pf)) == 0
        && (status = mastercf_check(&pf)) == 0 && (status = pf_load_settings(&pf)) == 0
        && (status = mastercf_load(&pf)) == 0) {
        if (strcmp(sub, "check") == 0)
            status = do_check(&pf);
        else if (strcmp(sub, "enable") == 0)
            status = do_enable(&pf, reload);
        else if (strcmp(sub, "pools") == 0)
            status = do_pools(&pf, reload);
        else
            status = do_disable(&pf, reload);
    }
    pf_close(&pf);
    return status;
}
