/*
 * ctl_backup.c -- `postgatectl backup DIR` and `postgatectl restore DIR [--force]`.
 *
 * A backup directory holds database.sql (mariadb-dump --single-transaction: one
 * consistent snapshot of every table, taken while mail flows, without locking the
 * writers), the installation keys (secret.key: the seal of every stored secret;
 * return-path-dkim.key when there is one), postgate.conf as it was, mail.tar with the
 * hosted mailboxes (dovecot.mail_directory: one Maildir per mailbox, archived after the
 * dump so every mailbox row in it has its mail) when that directory exists, and MANIFEST
 * with the SHA-256 of each file. restore checks every checksum before it changes
 * anything, loads the dump into the configured (empty) database, unpacks the mail into
 * an empty mail directory owned by dovecot.mail_user and puts the keys back.
 *
 * Contract: the directory and its files are 0700/0600 (they hold the keys); the database
 * password goes to the client programs in a 0600 options file that is removed after.
 * Must never: restore over a database that has tables, a mail directory with mailboxes
 * or a different key file without --force; restore from a directory whose checksums do
 * not match.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ctl.h"
#include "ctl_postconf.h"
#include "mail/db.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/run.h"

#define DUMP_TIMEOUT (6 * 3600)
#define DUMP_FILE "database.sql"
#define MANIFEST "MANIFEST"
#define MAIL_FILE "mail.tar"

/* ---------------------------------------------------------------- files */

/* SHA-256 of a file as hex into out[65]: 0, or -1 (errno). */
static int
file_sha256(const char *path, char out[65])
{
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

    if (fd < 0)
        return -1;
    ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            EVP_DigestUpdate(ctx, buf, (size_t) n);
        if (n == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1) {
            for (unsigned i = 0; i < mdlen; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
            ret = 0;
        }
    }
    EVP_MD_CTX_free(ctx);
    close(fd);
    return ret;
}

/* Copies src to dst (created with mode, never over an existing file unless replace). */
static int
copy_file(const char *src, const char *dst, mode_t mode, int replace)
{
    char buf[65536];
    ssize_t n;
    int in = open(src, O_RDONLY | O_CLOEXEC), out, ret = 0;

    if (in < 0) {
        msg_error("cannot read %s: %s", src, strerror(errno));
        return EX_NOINPUT;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL), mode);
    if (out < 0) {
        msg_error("cannot create %s: %s", dst, strerror(errno));
        close(in);
        return EX_CANTCREAT;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t) n) != n) {
            n = -1;
            break;
        }
    if (n < 0 || fsync(out) < 0) {
        msg_error("copying %s to %s: %s", src, dst, strerror(errno));
        ret = EX_IOERR;
    }
    close(in);
    if (close(out) < 0 && ret == 0)
        ret = EX_IOERR;
    return ret;
}

/* The client programs' options file (connection and password), 0600 in dir. */
static char *
client_options(const PGCONF *cfg, const char *dir)
{
    char *path = path_join(dir, ".client.cnf");
    FILE *fp;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
        msg_error("cannot create %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        mem_free(path);
        return NULL;
    }
    fprintf(fp, "[client]\nuser=%s\npassword=%s\n", cfg->database_user, cfg->database_password);
    if (*cfg->database_socket)
        fprintf(fp, "socket=%s\n", cfg->database_socket);
    else
        fprintf(fp, "host=%s\nport=%lld\n", cfg->database_host, cfg->database_port);
    fclose(fp);
    return path;
}

/* Runs program (found in PATH; hint names its Debian package) with first (when not NULL)
 * and extra as arguments, stdin/stdout from/to files (-1: none). Exit status 1 counts as
 * success when ok1_r is not NULL (*ok1_r set then): tar's "some files differ". 0, or
 * EX_UNAVAILABLE after showing what the program said. */
static int
run_program(const char *program, const char *hint, const char *first, char *const extra[], int in_fd, int out_fd,
            int *ok1_r)
{
    char *path = find_program(program), *argv[16];
    size_t n = 0;
    BUF *err;
    int code;

    if (path == NULL) {
        msg_error("%s not found in PATH (Debian: %s)", program, hint);
        return EX_UNAVAILABLE;
    }
    argv[n++] = path;
    if (first)
        argv[n++] = (char *) first;
    for (size_t i = 0; extra[i] && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    err = buf_new(1024);
    code = run_files(argv, DUMP_TIMEOUT, in_fd, out_fd, err, 64 * 1024);
    if (code == 1 && ok1_r) {
        *ok1_r = 1;
        code = 0;
    }
    if (code != 0) {
        BUF *none = buf_new(1);

        msg_error("%s failed (%s %d):", program, code < 0 ? "could not run," : "exit status", code);
        show_output(none, err);
        buf_free(none);
    }
    buf_free(err);
    mem_free(path);
    return code == 0 ? 0 : EX_UNAVAILABLE;
}

/* A MariaDB client program with the options file (the connection and its password). */
static int
run_client(const char *program, const char *options, char *const extra[], int in_fd, int out_fd)
{
    char *defaults = buf_asprintf("--defaults-extra-file=%s", options);
    int status = run_program(program, "mariadb-client", defaults, extra, in_fd, out_fd, NULL);

    mem_free(defaults);
    return status;
}

/* ---------------------------------------------------------------- mail */

/* 1 when dir exists and holds anything, 0 when it is empty or missing, -1 (said) else. */
static int
dir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        msg_error("cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    while (!found && (e = readdir(d)) != NULL)
        found = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return found;
}

/* Runs tar with args; exit status 1 ("some files differ": a message that arrived or was
 * expunged while it was read) counts as success when tolerate_changes. */
static int
run_tar(char *const args[], int tolerate_changes)
{
    int changed = 0, status = run_program("tar", "tar", NULL, args, -1, -1, tolerate_changes ? &changed : NULL);

    if (status == 0 && changed)
        msg_info("tar: mail changed while it was archived (kept as it was read)");
    return status;
}

static uid_t mail_uid;
static gid_t mail_gid;

/* nftw callback: one restored file or directory to the mail user. */
static int
chown_mail(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    if (lchown(path, mail_uid, mail_gid) < 0) {
        msg_error("cannot give %s to the mail user: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Unpacks the backup's mail.tar into maildir (created, or empty) and gives it to user. */
static int
restore_mail(const char *dir, const char *maildir, const char *user)
{
    char *tarfile = path_join(dir, MAIL_FILE);
    struct passwd *pw = getpwnam(user);
    int status;

    if (pw == NULL) {
        msg_error("dovecot.mail_user %s does not exist: create it, then restore again", user);
        mem_free(tarfile);
        return EX_NOUSER;
    }
    if (mkdir(maildir, 0750) < 0 && errno != EEXIST) {
        msg_error("cannot create %s: %s", maildir, strerror(errno));
        mem_free(tarfile);
        return EX_CANTCREAT;
    }
    {
        char *args[] = {"--extract", "--file", tarfile, "--directory", (char *) maildir, "--no-same-owner",
                        "--same-permissions", NULL};

        status = run_tar(args, 0);
    }
    mail_uid = pw->pw_uid;
    mail_gid = pw->pw_gid;
    if (status == 0 && nftw(maildir, chown_mail, 32, FTW_PHYS) != 0)
        status = EX_IOERR;
    if (status == 0)
        printf("mailboxes restored into %s (owned by %s)\n", maildir, user);
    mem_free(tarfile);
    return status;
}

/* ---------------------------------------------------------------- backup */

static int
do_backup(CTL_CONTEXT *ctx, const char *dir)
{
    const PGCONF *cfg = ctx->cfg;
    const char *files[4][2] = {
        {cfg->security_secret_key_file, "secret.key"},
        {cfg->security_return_path_dkim_key_file, "return-path-dkim.key"},
        {cfg->path, "postgate.conf"},
        {NULL, NULL},
    };
    char *options = NULL, *dump = path_join(dir, DUMP_FILE), *manifest = path_join(dir, MANIFEST);
    BUF *m = buf_new(1024);
    struct stat st;
    time_t now = time(NULL);
    char when[32], sum[65];
    int fd, status = 0, mail = 0;

    if (mkdir(dir, 0700) < 0 && !(errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))) {
        msg_error("cannot create %s: %s", dir, strerror(errno));
        status = EX_CANTCREAT;
        goto done;
    }
    if (access(dump, F_OK) == 0 || access(manifest, F_OK) == 0) {
        msg_error("%s already holds a backup: choose a new directory", dir);
        status = EX_CANTCREAT;
        goto done;
    }
    chmod(dir, 0700);
    if ((options = client_options(cfg, dir)) == NULL) {
        status = EX_CANTCREAT;
        goto done;
    }
    if ((fd = open(dump, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        msg_error("cannot create %s: %s", dump, strerror(errno));
        status = EX_CANTCREAT;
        goto done;
    }
    {
        char *extra[] = {"--single-transaction", "--quick", "--routines", "--triggers", "--events", "--hex-blob",
                         "--no-tablespaces", "--default-character-set=utf8mb4", (char *) cfg->database_name, NULL};

        status = run_client("mariadb-dump", options, extra, -1, fd);
    }
    if (fsync(fd) < 0 && status == 0)
        status = EX_IOERR;
    close(fd);
    if (status)
        goto done;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    buf_printf(m, "# postgate %s backup of database %s, %s\n", PACKAGE_VERSION, cfg->database_name, when);
    if (file_sha256(dump, sum) < 0) {
        status = EX_IOERR;
        goto done;
    }
    buf_printf(m, "%s  %s\n", sum, DUMP_FILE);
    if (cfg->dovecot_mail_directory[0] && stat(cfg->dovecot_mail_directory, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *tarfile = path_join(dir, MAIL_FILE);
        char *args[] = {"--create", "--file", tarfile, "--directory", (char *) cfg->dovecot_mail_directory,
                        "--numeric-owner", "--warning=no-file-changed", "--warning=no-file-removed",
                        "--ignore-failed-read", ".", NULL};

        if ((status = run_tar(args, 1)) == 0) {
            chmod(tarfile, 0600);
            if (file_sha256(tarfile, sum) < 0)
                status = EX_IOERR;
            else
                buf_printf(m, "%s  %s\n", sum, MAIL_FILE);
            mail = 1;
        }
        mem_free(tarfile);
        if (status)
            goto done;
    }
    for (int i = 0; files[i][0] && status == 0; i++) {
        char *to;

        if (*files[i][0] == '\0' || access(files[i][0], R_OK) != 0)
            continue;                   /* no return-path key, or no config file */
        to = path_join(dir, files[i][1]);
        if ((status = copy_file(files[i][0], to, 0600, 0)) == 0 && file_sha256(to, sum) == 0)
            buf_printf(m, "%s  %s\n", sum, files[i][1]);
        mem_free(to);
    }
    if (status == 0) {
        FILE *fp = fopen(manifest, "wx");

        if (fp == NULL || fputs(buf_cstr(m), fp) < 0 || fclose(fp) != 0) {
            msg_error("cannot write %s: %s", manifest, strerror(errno));
            status = EX_CANTCREAT;
        } else {
            chmod(manifest, 0600);
            printf("backup of %s written to %s (%s, %sthe keys and the configuration; checksums in %s)\n",
                   cfg->database_name, dir, DUMP_FILE, mail ? "the mailboxes in " MAIL_FILE ", " : "", MANIFEST);
        }
    }
done:
    if (options) {
        unlink(options);
        mem_free(options);
    }
    mem_free(dump);
    mem_free(manifest);
    buf_free(m);
    return status;
}

/* ---------------------------------------------------------------- restore */

/* Every file MANIFEST names has its checksum: 0, or EX_DATAERR after saying which not. */
static int
verify_manifest(const char *dir, int *has_key_r, int *has_rp_key_r, int *has_mail_r)
{
    char *manifest = path_join(dir, MANIFEST), line[1024];
    FILE *fp = fopen(manifest, "r");
    int files = 0, dump = 0, status = 0;

    *has_key_r = *has_rp_key_r = *has_mail_r = 0;
    if (fp == NULL) {
        msg_error("%s: %s (not a postgate backup?)", manifest, strerror(errno));
        mem_free(manifest);
        return EX_NOINPUT;
    }
    while (fgets(line, sizeof(line), fp) && status == 0) {
        char want[65], name[256], have[65], *path;

        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%64s %255s", want, name) != 2 || strchr(name, '/') || name[0] == '.') {
            msg_error("%s: malformed line: %s", manifest, line);
            status = EX_DATAERR;
            break;
        }
        path = path_join(dir, name);
        if (file_sha256(path, have) < 0 || strcmp(have, want) != 0) {
            msg_error("%s: checksum mismatch (the backup is damaged or was changed): nothing restored", path);
            status = EX_DATAERR;
        }
        mem_free(path);
        files++;
        dump |= strcmp(name, DUMP_FILE) == 0;
        *has_key_r |= strcmp(name, "secret.key") == 0;
        *has_rp_key_r |= strcmp(name, "return-path-dkim.key") == 0;
        *has_mail_r |= strcmp(name, MAIL_FILE) == 0;
    }
    fclose(fp);
    if (status == 0 && !dump) {
        msg_error("%s names no %s", manifest, DUMP_FILE);
        status = EX_DATAERR;
    }
    mem_free(manifest);
    return status;
}

/* A key file goes back unless a different one is there (then only with --force). */
static int
restore_key(const char *dir, const char *name, const char *target, int force)
{
    char *src = path_join(dir, name), a[65], b[65];
    struct group *gr;
    int status = 0;

    if (*target == '\0') {
        msg_warn("%s is in the backup but the configuration names no file for it: not restored", name);
    } else if (access(target, F_OK) == 0 && file_sha256(target, a) == 0 && file_sha256(src, b) == 0
               && strcmp(a, b) == 0) {
        printf("%s: already the backup's\n", target);
    } else if (access(target, F_OK) == 0 && !force) {
        msg_error("%s exists and differs from the backup's %s: --force replaces it (the data in the backup "
                  "can only be read with the backup's key)", target, name);
        status = EX_CANTCREAT;
    } else if ((status = copy_file(src, target, 0640, 1)) == 0) {
        if ((gr = getgrnam("postgate")) != NULL && chown(target, 0, gr->gr_gid) < 0)
            msg_warn("cannot give %s to group postgate: %s", target, strerror(errno));
        chmod(target, 0640);
        printf("%s restored\n", target);
    }
    mem_free(src);
    return status;
}

static int
do_restore(CTL_CONTEXT *ctx, const char *dir, int force)
{
    const PGCONF *cfg = ctx->cfg;
    char *options = NULL, *dump = path_join(dir, DUMP_FILE), *create = NULL, *drop = NULL;
    int has_key, has_rp_key, has_mail, status, fd;
    DB *db = NULL;
    DB_RESULT *res = NULL;
    long tables = 0;

    if ((status = verify_manifest(dir, &has_key, &has_rp_key, &has_mail)) != 0)
        goto done;
    db = db_new(cfg);
    if ((status = db_connect(db, 1)) < 0) {
        msg_error("%s", db_error(db));
        status = EX_TEMPFAIL;
        goto done;
    }
    status = db_query(db, &res, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ?",
                      DB_ARGS(DB_STR(cfg->database_name)));
    if (status < 0) {
        msg_error("%s", db_error(db));
        status = ctl_db_status(status);
        goto done;
    }
    tables = atol(db_result_get(res, 0, 0));
    status = 0;
    if (tables > 0 && !force) {
        msg_error("database %s has %ld tables: restore needs an empty database (--force drops it first)",
                  cfg->database_name, tables);
        status = EX_CANTCREAT;
        goto done;
    }
    if (has_mail) {
        const char *maildir = cfg->dovecot_mail_directory;
        int used;

        if (*maildir == '\0') {
            msg_error("the backup has mailboxes (%s) but dovecot.mail_directory is empty", MAIL_FILE);
            status = EX_CONFIG;
            goto done;
        }
        if ((used = dir_has_entries(maildir)) < 0) {
            status = EX_NOINPUT;
            goto done;
        }
        if (used && !force) {
            msg_error("%s holds mailboxes: restore needs an empty mail directory (--force unpacks the backup's "
                      "mail over it)", maildir);
            status = EX_CANTCREAT;
            goto done;
        }
    }
    /* The name cannot be a parameter: it comes from the configuration, quoted. */
    if (strchr(cfg->database_name, '`')) {
        msg_error("database.name must not contain a backquote");
        status = EX_CONFIG;
        goto done;
    }
    if (tables > 0) {
        drop = buf_asprintf("DROP DATABASE `%s`", cfg->database_name);
        if (db_exec(db, drop, DB_NOARGS) < 0) {
            msg_error("%s", db_error(db));
            status = EX_UNAVAILABLE;
            goto done;
        }
        printf("database %s dropped (--force)\n", cfg->database_name);
    }
    create = buf_asprintf("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
                          cfg->database_name);
    if (db_exec(db, create, DB_NOARGS) < 0) {
        msg_error("%s", db_error(db));
        status = EX_UNAVAILABLE;
        goto done;
    }
    if ((options = client_options(cfg, dir)) == NULL) {
        status = EX_CANTCREAT;
        goto done;
    }
    if ((fd = open(dump, O_RDONLY | O_CLOEXEC)) < 0) {
        msg_error("cannot read %s: %s", dump, strerror(errno));
        status = EX_NOINPUT;
        goto done;
    }
    {
        char *extra[] = {"--default-character-set=utf8mb4", (char *) cfg->database_name, NULL};

        status = run_client("mariadb", options, extra, fd, -1);
    }
    close(fd);
    if (status)
        goto done;
    printf("database %s restored from %s\n", cfg->database_name, dump);
    if (has_mail && (status = restore_mail(dir, cfg->dovecot_mail_directory, cfg->dovecot_mail_user)) != 0)
        goto done;
    if (has_key)
        status = restore_key(dir, "secret.key", cfg->security_secret_key_file, force);
    if (status == 0 && has_rp_key)
        status = restore_key(dir, "return-path-dkim.key", cfg->security_return_path_dkim_key_file, force);
    if (status == 0)
        printf("restored. The configuration at backup time is %s/postgate.conf (not copied: compare it with "
               "yours); run 'postgatectl upgrade-db' if this postgate is newer, then start the daemons.\n", dir);
done:
    if (options) {
        unlink(options);
        mem_free(options);
    }
    db_result_free(res);
    if (db)
        db_free(db);
    mem_free(create);
    mem_free(drop);
    mem_free(dump);
    return status;
}

int
ctl_backup(CTL_CONTEXT *ctx, int argc, char **argv)
{
    static const struct option options[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    int opt, force = 0, restore = strcmp(argv[0], "restore") == 0;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'f' && restore)
            force = 1;
        else
            goto usage;
    }
    if (optind != argc - 1 || argv[optind][0] == '\0')
        goto usage;
    return restore ? do_restore(ctx, argv[optind], force) : do_backup(ctx, argv[optind]);
usage:
    msg_error("usage: postgatectl backup DIR | postgatectl restore DIR [--force]");
    return EX_USAGE;
}
