/*
 * ctl_dovecot.c -- `postgatectl dovecot enable|disable|check [-c DOVECOT_CONFIG_DIR]`: wire
 * a Dovecot 2.3 instance to postgate's hosted mailboxes and unwire it again.
 *
 * enable writes four files and nothing else: DIR/conf.d/90-postgate.conf (passdb and
 * userdb through Dovecot's SQL driver, the LMTP listener Postfix's virtual_transport
 * names, the mail location, the quota plugin (Dovecot refuses a delivery over quota with
 * a 452), quota_clone copying each mailbox's usage to the table mailbox_usage through the
 * dict service (postgate-policyd's RCPT check and the admin read it there), Sieve at
 * delivery with each user's own scripts, which ManageSieve manages, what the scripts send going to Postfix's loopback service for Dovecot
 * (postfix.dovecot_address) with the mailbox as envelope sender, and the Junk folder), DIR/postgate-sql.conf.ext (the MariaDB connection and
 * queries), DIR/postgate-dict.conf.ext (the same connection and the usage table's map)
 * and DIR/postgate-spam.sieve, run before each user's script: mail postgate-milter judged
 * spam (X-Postal-Spam: yes, a field the milter removes from everything it did not write)
 * goes into Junk and no user rule runs for it (no vacation reply to spam); sievec compiles
 * it beside itself (postgate-spam.svbin), since Dovecot's delivery cannot write there. The
 * two .ext files are mode 0640, group dovecot when it exists, since they hold a password. Dovecot
 * reads the view dovecot_mailboxes (schema 010) and verifies the argon2id hashes itself
 * ({ARGON2ID}, libsodium): the one copy of each hash stays in postgate's table, and a
 * login needs no round trip through a postgate daemon. A disabled mailbox has no passdb
 * row (it cannot log in) but keeps its userdb row (mail for it is still delivered).
 * Each mailbox's home is <dovecot.mail_directory>/<mailbox uuid>, a Maildir, so a rename
 * keeps the mail. disable removes the four files (and the compiled script), only when they
 * carry postgate's marker;
 * check compares them with what enable would write. Dovecot must be reloaded afterwards.
 *
 * Must never: touch any other Dovecot file, overwrite a file without the marker, or write
 * a value that could end a Dovecot setting or SQL string early (they are checked first).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_postconf.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/run.h"

#define SNIPPET "conf.d/90-postgate.conf"
#define SQL_FILE "postgate-sql.conf.ext"
#define DICT_FILE "postgate-dict.conf.ext"
#define SPAM_SIEVE "postgate-spam.sieve"
#define SPAM_SVBIN "postgate-spam.svbin"
#define NFILES 4
#define SIEVEC_TIMEOUT 60
#define MARKER "# postgate: written by `postgatectl dovecot enable`"
#define EX_NOT_WIRED 1

/* A value safe inside a Dovecot setting and a single-quoted SQL string: no white space,
 * quotes, backslash, '%' (Dovecot's variables), '#', braces or control characters. */
static int
plain_value(const char *key, const char *value, int may_be_empty)
{
    if (!*value && may_be_empty)
        return 1;
    for (const char *p = value; *p; p++) {
        if ((unsigned char) *p <= ' ' || strchr("'\"\\%#{}", *p) != NULL || *p == 0x7f) {
            msg_error("%s: \"%s\" has a character Dovecot's configuration cannot carry here ('%c')", key, value,
                      *p);
            return 0;
        }
    }
    if (!*value) {
        msg_error("%s is empty", key);
        return 0;
    }
    return 1;
}

/* Appends a service block (head) with a listener for spec (unix:/path, owned by postfix, or
 * inet:host:port). 0, or -1 after saying why. */
static int
listener(BUF *s, const char *head, const char *name, const char *key, const char *spec)
{
    const char *colon = strrchr(spec, ':');

    buf_printf(s, "%s", head);
    if (strncmp(spec, "inet:", 5) == 0 && colon > spec + 5)
        buf_printf(s, "  inet_listener %s {\n    address = %.*s\n    port = %s\n  }\n", name,
                   (int) (colon - spec - 5), spec + 5, colon + 1);
    else if (strncmp(spec, "unix:/", 6) == 0)
        buf_printf(s, "  unix_listener %s {\n    mode = 0600\n    user = postfix\n    group = postfix\n  }\n",
                   spec + 5);
    else {
        msg_error("%s: \"%s\" is neither unix:/absolute/path nor inet:host:port", key, spec);
        return -1;
    }
    buf_printf(s, "}\n");
    return 0;
}

/* Dovecot's MariaDB connection line (the SQL passdb/userdb and the usage dict share it). */
static void
connect_line(BUF *b, const PGCONF *cfg, const char *user, const char *password)
{
    buf_printf(b, "connect = host=%s", *cfg->database_socket ? cfg->database_socket : cfg->database_host);
    if (!*cfg->database_socket)
        buf_printf(b, " port=%ld", (long) cfg->database_port);
    buf_printf(b, " dbname=%s user=%s", cfg->database_name, user);
    if (*password)
        buf_printf(b, " password=%s", password);
    buf_printf(b, "\n");
}

/* The four files' contents for cfg (out[i] for names[i], mem_free each); EX_OK or
 * EX_CONFIG after saying why. */
static int
render(const PGCONF *cfg, const char *dir, char *out[NFILES])
{
    const char *user = *cfg->dovecot_database_user ? cfg->dovecot_database_user : cfg->database_user;
    const char *password = *cfg->dovecot_database_user ? cfg->dovecot_database_password : cfg->database_password;
    const char *lmtp = cfg->dovecot_lmtp_listen, *mdir = cfg->dovecot_mail_directory;
    struct passwd *pw;
    BUF *s, *q, *d;

    out[0] = out[1] = out[2] = out[3] = NULL;
    if (!plain_value("dovecot.mail_directory", mdir, 0) || !plain_value("dovecot.database_user", user, 0)
        || !plain_value("dovecot.database_password", password, 1)
        || !plain_value("database.name", cfg->database_name, 0)
        || !plain_value("database.socket", cfg->database_socket, 1)
        || !plain_value("database.host", cfg->database_host, 0) || !plain_value("dovecot.lmtp_listen", lmtp, 0)
        || !plain_value("postfix.dovecot_address", cfg->postfix_dovecot_address, 0))
        return EX_CONFIG;
    if (strncmp(cfg->postfix_dovecot_address, "inet:", 5) != 0) {
        msg_error("postfix.dovecot_address: \"%s\" is not inet:host:port", cfg->postfix_dovecot_address);
        return EX_CONFIG;
    }
    if (mdir[0] != '/') {
        msg_error("dovecot.mail_directory: \"%s\" is not an absolute path", mdir);
        return EX_CONFIG;
    }
    if (!plain_value("dovecot.mail_user", cfg->dovecot_mail_user, 0))
        return EX_CONFIG;
    if ((pw = getpwnam(cfg->dovecot_mail_user)) == NULL) {
        msg_error("dovecot.mail_user: no system user \"%s\" (create it, e.g. useradd --system --home %s vmail)",
                  cfg->dovecot_mail_user, mdir);
        return EX_CONFIG;
    }
    s = buf_new(2048);
    buf_printf(s, MARKER "\n"
               "# Mail hosting: passdb and userdb from postgate's mailboxes (MariaDB view dovecot_mailboxes),\n"
               "# argon2id hashes verified by Dovecot ({ARGON2ID}). `postgatectl dovecot disable` removes\n"
               "# this file; it is written anew by enable, so change postgate's settings instead.\n"
               "passdb {\n  driver = sql\n  args = %s/" SQL_FILE "\n}\n"
               "userdb {\n  driver = sql\n  args = %s/" SQL_FILE "\n}\n"
               "mail_location = maildir:~/Maildir\n", dir, dir);
    if (pw->pw_uid < 500)
        buf_printf(s, "# %s's uid is below Dovecot's default first_valid_uid (500)\nfirst_valid_uid = %lu\n",
                   cfg->dovecot_mail_user, (unsigned long) pw->pw_uid);
    /* Quotas: the count backend (no usage file to keep), each mailbox's limits from the
     * userdb's quota_rule, and quota_clone writing the usage to mailbox_usage through the
     * dict service (whose socket only the mail user's processes may use: they are the ones
     * that write). */
    buf_printf(s, "mail_plugins = $mail_plugins quota quota_clone\nquota_full_tempfail = yes\n"
               "dict {\n  postgate-usage = mysql:%s/" DICT_FILE "\n}\n"
               "service dict {\n  unix_listener dict {\n    mode = 0600\n    user = %s\n  }\n}\n",
               dir, cfg->dovecot_mail_user);
    buf_printf(s, "protocol imap {\n  mail_plugins = $mail_plugins imap_quota\n}\n"
               "protocol lmtp {\n  mail_plugins = $mail_plugins quota sieve\n}\n"
               "plugin {\n  quota = count:Mailbox\n  quota_vsizes = yes\n"
               "  quota_clone_dict = proxy::postgate-usage\n}\n");
    /* Sieve: the user's scripts in the home (ManageSieve writes them), postgate's spam rule
     * first; Junk marked as such (RFC 6154) and made for every mailbox, so clients find it. */
    buf_printf(s, "plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n  sieve_before = %s/" SPAM_SIEVE "\n}\n"
               "namespace inbox {\n  inbox = yes\n  mailbox Junk {\n    special_use = \\Junk\n"
               "    auto = subscribe\n  }\n}\n", dir);
    /* What the scripts send (vacation replies, redirects) goes to Postfix's loopback service
     * for Dovecot (postfix.dovecot_address), with the mailbox as envelope sender: the milter
     * takes it there as the mailbox's own outgoing mail (DKIM, history, limits). */
    buf_printf(s, "submission_host = %s\n"
               "plugin {\n  sieve_vacation_send_from_recipient = yes\n  sieve_redirect_envelope_from = recipient\n}\n",
               cfg->postfix_dovecot_address + 5);
    if (listener(s, "service lmtp {\n", "postgate-lmtp", "dovecot.lmtp_listen", lmtp) < 0) {
        buf_free(s);
        return EX_CONFIG;
    }

    q = buf_new(2048);
    buf_printf(q, MARKER "\n# The MariaDB connection and queries of " SNIPPET ".\ndriver = mysql\n");
    connect_line(q, cfg, user, password);
    buf_printf(q, "default_pass_scheme = ARGON2ID\n"
               "password_query = SELECT user, password FROM dovecot_mailboxes "
               "WHERE local_part = '%%Ln' AND domain = '%%Ld' AND enabled = 1\n"
               "user_query = SELECT CONCAT('%s/', storage_key) AS home, %lu AS uid, %lu AS gid, "
               "CONCAT('*:bytes=', IFNULL(quota_bytes, 0), ':messages=', IFNULL(quota_messages, 0)) AS quota_rule "
               "FROM dovecot_mailboxes "
               "WHERE local_part = '%%Ln' AND domain = '%%Ld'\n"
               "iterate_query = SELECT user AS username FROM dovecot_mailboxes\n",
               mdir, (unsigned long) pw->pw_uid, (unsigned long) pw->pw_gid);
    d = buf_new(1024);
    buf_printf(d, MARKER "\n# The usage dict of " SNIPPET ": quota_clone's two keys, one row per user name.\n");
    connect_line(d, cfg, user, password);
    buf_printf(d, "map {\n  pattern = priv/quota/storage\n  table = mailbox_usage\n  username_field = username\n"
               "  value_field = bytes\n}\n"
               "map {\n  pattern = priv/quota/messages\n  table = mailbox_usage\n  username_field = username\n"
               "  value_field = messages\n}\n");
    out[0] = mem_strdup(buf_cstr(s));
    out[1] = mem_strdup(buf_cstr(q));
    out[2] = mem_strdup(buf_cstr(d));
    out[3] = mem_strdup(MARKER "\n"
                        "# Run before every mailbox's own Sieve script (" SNIPPET "): mail that\n"
                        "# postgate-milter judged spam goes into Junk, and nothing else runs for it.\n"
                        "require [\"fileinto\", \"mailbox\"];\n"
                        "if header :is \"X-Postal-Spam\" \"yes\" {\n"
                        "  fileinto :create \"Junk\";\n  stop;\n}\n");
    buf_free(s);
    buf_free(q);
    buf_free(d);
    return EX_OK;
}

/* The file's text (mem_free), NULL when missing (errno ENOENT) or unreadable. */
static char *
read_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    BUF *b;
    char chunk[4096], *text;
    size_t n;

    if (fp == NULL)
        return NULL;
    b = buf_new(4096);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(b, chunk, n);
    fclose(fp);
    text = mem_strdup(buf_cstr(b));
    buf_free(b);
    return text;
}

static int
ours(const char *text)
{
    return text != NULL && strncmp(text, MARKER "\n", strlen(MARKER) + 1) == 0;
}

/* Writes path atomically with mode (and group, when given and it exists). */
static int
write_file(const char *path, const char *text, mode_t mode, const char *group)
{
    char *tmp = buf_asprintf("%s.postgate-tmp", path);
    struct group *gr = group ? getgrnam(group) : NULL;
    int fd, status = EX_OK;
    size_t len = strlen(text);

    (void) unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0
        || (gr && fchown(fd, (uid_t) -1, gr->gr_gid) < 0) || fchmod(fd, mode) < 0
        || write(fd, text, len) != (ssize_t) len || fsync(fd) < 0) {
        msg_error("cannot write %s: %s", tmp, strerror(errno));
        status = EX_CANTCREAT;
    }
    if (fd >= 0 && close(fd) < 0 && status == EX_OK) {
        msg_error("cannot write %s: %s", tmp, strerror(errno));
        status = EX_CANTCREAT;
    }
    if (status == EX_OK && rename(tmp, path) < 0) {
        msg_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        status = EX_CANTCREAT;
    }
    if (status != EX_OK)
        (void) unlink(tmp);
    mem_free(tmp);
    return status;
}

/* Compiles the spam script with sievec against DIR's dovecot.conf. EX_OK, or EX_UNAVAILABLE
 * after showing what sievec said. */
static int
compile_spam_script(const char *dir, const char *script)
{
    char *path = find_program("sievec"), *conf = buf_asprintf("%s/dovecot.conf", dir);
    char *argv[] = {path, (char *) "-c", conf, (char *) script, NULL};
    BUF *err = buf_new(1024);
    int code = -1;

    if (path == NULL)
        msg_error("sievec not found in PATH: install Dovecot's Sieve (Debian: dovecot-sieve)");
    else if ((code = run_files(argv, SIEVEC_TIMEOUT, -1, -1, err, 16 * 1024)) != 0)
        msg_error("sievec %s failed (%s %d): %s", script, code < 0 ? "could not run," : "exit status", code,
                  buf_cstr(err));
    else
        printf("compiled %s\n", script);
    buf_free(err);
    mem_free(conf);
    mem_free(path);
    return code == 0 ? EX_OK : EX_UNAVAILABLE;
}

static int
dovecot_usage(void)
{
    msg_error("usage: postgatectl dovecot enable|disable|check [-c DOVECOT_CONFIG_DIR]\n"
              "       postgatectl dovecot purge [--grace DAYS] [--dry-run]");
    return EX_USAGE;
}

int
ctl_dovecot(CTL_CONTEXT *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"config-directory", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}
    };
    const char *sub, *dir = ctx->cfg->dovecot_config_directory;
    char *paths[NFILES], *want[NFILES] = {NULL, NULL, NULL, NULL}, *now[NFILES], *svbin = NULL;
    static const char *const names[NFILES] = {SNIPPET, SQL_FILE, DICT_FILE, SPAM_SIEVE};
    /* The files holding the database password are not for everybody's eyes. */
    static const int secret[NFILES] = {0, 1, 1, 0};
    int opt, status, problems = 0, changed = 0;

    if (argc < 2)
        return dovecot_usage();
    sub = argv[1];
    if (strcmp(sub, "purge") == 0)
        return ctl_dovecot_purge(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "enable") != 0 && strcmp(sub, "disable") != 0 && strcmp(sub, "check") != 0) {
        msg_error("unknown dovecot subcommand '%s' (enable, disable, check or purge)", sub);
        return dovecot_usage();
    }
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "c:C:", options, NULL)) != -1) {
        switch (opt) {
        case 'c': case 'C': dir = optarg; break;
        default: return dovecot_usage();
        }
    }
    if (optind != argc - 1) {
        msg_error("dovecot %s: unexpected argument '%s'", sub, argv[1 + optind]);
        return dovecot_usage();
    }
    if (dir[0] != '/') {
        msg_error("dovecot: \"%s\" is not an absolute directory", dir);
        return EX_USAGE;
    }
    if (strcmp(sub, "disable") != 0 && (status = render(ctx->cfg, dir, want)) != EX_OK)
        return status;
    status = EX_OK;
    for (int i = 0; i < NFILES; i++) {
        paths[i] = buf_asprintf("%s/%s", dir, names[i]);
        now[i] = read_file(paths[i]);
        if (now[i] && !ours(now[i]) && strcmp(sub, "check") != 0) {
            msg_error("%s exists and was not written by postgate: move it away first", paths[i]);
            status = EX_CONFIG;
        }
    }
    for (int i = 0; i < NFILES && status == EX_OK; i++) {
        if (strcmp(sub, "check") == 0) {
            if (now[i] == NULL || strcmp(now[i], want[i]) != 0) {
                printf("%s: %s\n", paths[i], now[i] == NULL ? "missing" : "differs from what enable writes");
                problems++;
            }
        } else if (strcmp(sub, "enable") == 0) {
            if (now[i] && strcmp(now[i], want[i]) == 0)
                continue;
            if ((status = write_file(paths[i], want[i], secret[i] ? 0640 : 0644, secret[i] ? "dovecot" : NULL))
                == EX_OK) {
                printf("%s %s\n", now[i] ? "rewrote" : "wrote", paths[i]);
                changed = 1;
            }
        } else if (now[i]) {
            if (unlink(paths[i]) < 0) {
                msg_error("cannot remove %s: %s", paths[i], strerror(errno));
                status = EX_CANTCREAT;
            } else {
                printf("removed %s\n", paths[i]);
                changed = 1;
            }
        }
    }
    /* The compiled spam script: made when missing or older than its source, removed with it. */
    svbin = buf_asprintf("%s/" SPAM_SVBIN, dir);
    if (status == EX_OK && strcmp(sub, "enable") == 0) {
        struct stat src, bin;

        if (stat(svbin, &bin) < 0 || stat(paths[3], &src) < 0 || bin.st_mtime < src.st_mtime || changed) {
            if ((status = compile_spam_script(dir, paths[3])) == EX_OK)
                changed = 1;
        }
    } else if (status == EX_OK && strcmp(sub, "disable") == 0 && now[3] && unlink(svbin) == 0) {
        printf("removed %s\n", svbin);
    } else if (status == EX_OK && strcmp(sub, "check") == 0 && access(svbin, R_OK) < 0) {
        printf("%s: missing (sievec has not compiled the spam script)\n", svbin);
        problems++;
    }
    if (status == EX_OK && strcmp(sub, "check") == 0) {
        if (problems)
            printf("Dovecot in %s is not wired to postgate: run 'postgatectl dovecot enable'.\n", dir);
        else
            printf("Dovecot in %s is wired to postgate.\n", dir);
        status = problems ? EX_NOT_WIRED : EX_OK;
    } else if (status == EX_OK) {
        printf("Dovecot in %s %s%s.\n", dir,
               strcmp(sub, "enable") == 0 ? "is wired to postgate" : "is no longer wired to postgate", changed ? "; reload it (doveadm reload)" : ": nothing changed");
    }
    mem_free(svbin);
    for (int i = 0; i < NFILES; i++) {
        mem_free(paths[i]);
        mem_free(want[i]);
        mem_free(now[i]);
    }
    return status;
}
