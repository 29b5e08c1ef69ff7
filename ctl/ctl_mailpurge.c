/*
 * ctl_mailpurge.c -- `postgatectl dovecot purge [--grace DAYS] [--dry-run]`: removes the mail
 * of mailboxes that no longer exist.
 *
 * Each hosted mailbox keeps its mail in <dovecot.mail_directory>/<mailbox uuid>. Deleting a
 * mailbox (postgatectl, the API, a domain or organization deleted with it) removes its row;
 * the directory, owned by the mail user, is this command's to remove, run as root (the
 * daemons cannot: they do not own the mail). A directory named like a uuid that no mailbox
 * row has is an orphan: its first sighting is recorded in
 * <mail_directory>/.postgate-orphans, and it is removed only when a later run finds it
 * still orphaned after the grace period (default 7 days), so a database restored from a
 * backup, or pointed at by mistake, costs nobody their mail at once.
 *
 * Contract: nothing is removed unless the full list of mailboxes was read; symbolic links
 * are never followed (a link in place of a directory is reported and left); entries whose
 * names are not uuids are left alone.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "mail/mailbox.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define STATE_FILE ".postgate-orphans"
#define DEFAULT_GRACE_DAYS 7

typedef struct orphan {
    char key[37];
    long long since;        /* first seen orphaned, seconds since the epoch */
} ORPHAN;

/* A mailbox storage key as the database writes it: 8-4-4-4-12 lower-case hex digits. */
static int
is_storage_key(const char *name)
{
    static const int dash[] = {8, 13, 18, 23};
    size_t d = 0;

    if (strlen(name) != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        if (d < 4 && (int) i == dash[d]) {
            if (name[i] != '-')
                return 0;
            d++;
        } else if (!isxdigit((unsigned char) name[i]) || isupper((unsigned char) name[i])) {
            return 0;
        }
    }
    return 1;
}

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The recorded orphans of state (path) into *list (mem_free); a missing file is none. */
static size_t
state_read(const char *path, ORPHAN **list)
{
    FILE *fp = fopen(path, "r");
    char line[128];
    size_t n = 0, cap = 0;

    *list = NULL;
    if (fp == NULL)
        return 0;
    while (fgets(line, sizeof(line), fp)) {
        ORPHAN o;

        if (sscanf(line, "%36s %lld", o.key, &o.since) != 2 || !is_storage_key(o.key))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            *list = mem_realloc(*list, cap * sizeof(**list));
        }
        (*list)[n++] = o;
    }
    fclose(fp);
    return n;
}

static long long
state_since(const ORPHAN *list, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].key, key) == 0)
            return list[i].since;
    return -1;
}

/* nftw callback: removes what it is given, deepest first, never following a link. */
static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0) {
        msg_error("cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes the still-waiting orphans (text) to path atomically, mode 0600. */
static int
state_write(const char *path, const char *text)
{
    char *tmp = buf_asprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), ok;
    size_t len = strlen(text);

    ok = fd >= 0 && write(fd, text, len) == (ssize_t) len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) < 0)
        ok = 0;
    if (ok && rename(tmp, path) < 0)
        ok = 0;
    if (!ok) {
        msg_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    mem_free(tmp);
    return ok ? EX_OK : EX_CANTCREAT;
}

int
ctl_dovecot_purge(CTL_CONTEXT *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"grace", required_argument, NULL, 'g'}, {"dry-run", no_argument, NULL, 'n'}, {NULL, 0, NULL, 0}
    };
    const char *mdir = ctx->cfg->dovecot_mail_directory;
    long long grace = DEFAULT_GRACE_DAYS * 86400LL, now = (long long) time(NULL);
    char **keys = NULL, *state = NULL, *end;
    size_t nkeys = 0, nold, removed = 0, waiting = 0;
    ORPHAN *old = NULL;
    BUF *next = buf_new(256);
    DIR *d = NULL;
    struct dirent *e;
    DB *db;
    int opt, dry = 0, status = EX_OK, ret;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'g') {
            double days = strtod(optarg, &end);

            if (*optarg == '\0' || *end != '\0' || days < 0 || days > 3650) {
                msg_error("--grace: \"%s\" is not a number of days from 0 to 3650", optarg);
                buf_free(next);
                return EX_USAGE;
            }
            grace = (long long) (days * 86400);
        } else if (opt == 'n') {
            dry = 1;
        } else {
            msg_error("usage: postgatectl dovecot purge [--grace DAYS] [--dry-run]");
            buf_free(next);
            return EX_USAGE;
        }
    }
    if (optind != argc || mdir[0] != '/') {
        msg_error(optind != argc ? "usage: postgatectl dovecot purge [--grace DAYS] [--dry-run]"
                                 : "dovecot.mail_directory is not an absolute path");
        buf_free(next);
        return optind != argc ? EX_USAGE : EX_CONFIG;
    }
    db = db_new(ctx->cfg);
    ret = mailbox_storage_keys(db, &keys, &nkeys);
    db_free(db);
    if (ret < 0) {
        msg_error("cannot read the mailboxes (nothing removed)");
        buf_free(next);
        return ctl_db_status(ret);
    }
    if ((d = opendir(mdir)) == NULL) {
        if (errno == ENOENT) {
            printf("%s does not exist: no mail to purge\n", mdir);
        } else {
            msg_error("cannot read %s: %s", mdir, strerror(errno));
            status = EX_NOINPUT;
        }
        goto done;
    }
    state = buf_asprintf("%s/%s", mdir, STATE_FILE);
    nold = state_read(state, &old);
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        char *path;
        struct stat st;
        long long since;

        if (!is_storage_key(name) || bsearch(&name, keys, nkeys, sizeof(*keys), key_cmp) != NULL)
            continue;
        path = buf_asprintf("%s/%s", mdir, name);
        if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
            msg_warn("%s is not a directory: left alone", path);
            mem_free(path);
            continue;
        }
        since = state_since(old, nold, name);
        if (since < 0 || since > now)
            since = now;
        if (now - since >= grace) {
            if (dry) {
                printf("would remove %s (no mailbox since %lld s ago)\n", path, now - since);
            } else if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS) == 0) {
                printf("removed %s (no mailbox since %lld s ago)\n", path, now - since);
                removed++;
                mem_free(path);
                continue;
            } else {
                status = EX_IOERR;
            }
        } else {
            printf("kept %s: no mailbox since %lld s ago, removed after %lld s\n", path, now - since, grace);
        }
        buf_printf(next, "%s %lld\n", name, since);
        waiting++;
        mem_free(path);
    }
    if (!dry && (ret = state_write(state, buf_cstr(next))) != EX_OK && status == EX_OK)
        status = ret;
    printf("%zu mailboxes, %zu orphaned directories removed, %zu waiting\n", nkeys, removed, waiting);
done:
    if (d)
        closedir(d);
    for (size_t i = 0; i < nkeys; i++)
        mem_free(keys[i]);
    mem_free(keys);
    mem_free(old);
    mem_free(state);
    buf_free(next);
    return status;
}
