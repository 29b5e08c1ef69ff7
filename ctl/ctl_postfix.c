/*
 * ctl_postfix.c -- `postgatectl postfix enable|disable|check`: wire a Postfix instance
 * to postgate's daemons (milter, policy service, Dovecot-protocol SASL, the loopback
 * release service, the maillog file) and unwire it again.
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
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "mail/forward.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/run.h"

#define STATE_FILE "postgate.state"
#define BACKUP_SUFFIX ".postgate-backup"
#define MARKER "postfix/postgate-"
#define POSTLOG_LINE "postlog unix-dgram n - n - 1 postlogd -o syslog_name=" MARKER "postlog"
#define RUN_TIMEOUT_SECONDS 60
#define RUN_OUTPUT_LIMIT (4u * 1024 * 1024)
#define STATE_SIZE_LIMIT (1024 * 1024)
#define CONNECT_TIMEOUT_MS 2000
#define EX_NOT_WIRED 1          /* check: something is missing (like diff(1)'s 1) */

typedef struct kv {
    char *name;
    char *value;
} KV;

typedef struct kv_list {
    KV *items;
    size_t count;
} KV_LIST;

/* One main.cf parameter enable sets. */
typedef struct setting {
    const char *name;
    char *want;
    const char *now;            /* effective value (explicit or default) */
    int optional;               /* left out, with a warning, when this Postfix does not know it */
} SETTING;

enum { SOCK_MILTER, SOCK_POLICY, SOCK_SASL, SOCK_SOCKETMAP, SOCK_LMTP, SOCK_COUNT };

/*
 * The loopback smtpd services enable adds to master.cf: the release service (held
 * mail re-injected by postgate), the injection service (the send API's submissions)
 * and the forward service (postgate-worker's Address endpoints and delivery reports).
 * All three run the milter, which tells them apart by milter_macro_daemon_name and
 * takes on each only messages with postgate's signed header (forward.h for the last).
 */
#define LOOPBACKS 3

typedef struct loopback {
    const char *what;           /* "release", "injection" */
    const char *key;            /* the configuration key of its address */
    char *service;              /* "127.0.0.1:10026/inet" */
    char *line;                 /* its whole master.cf entry */
    char *now;                  /* postconf -M of it, "" when missing */
    int ours;                   /* it carries the marker */
} LOOPBACK;

typedef struct pf {
    const PGCONF *cfg;
    const char *dir;            /* Postfix configuration directory */
    char *postconf;             /* path of postconf(1) */
    char *queue_dir;
    char *mail_owner;
    const char *sock_key[SOCK_COUNT];
    const char *sock_spec[SOCK_COUNT];
    char *sock_postfix[SOCK_COUNT];     /* as Postfix must be told */
    char *sock_path[SOCK_COUNT];        /* absolute unix socket path, or NULL (inet) */
    SETTING settings[32];
    size_t nsettings;
    KV_LIST effective;          /* postconf NAME... */
    KV_LIST explicit;           /* postconf -n */
    KV_LIST marked;             /* services with the marker: name "svc/type", value its syslog_name */
    LOOPBACK loop[LOOPBACKS];   /* the release, injection and forward services */
    int postlog_present;
} PF;

typedef struct state_entry {
    char *name;
    int was_set;
    char *value;
} STATE_ENTRY;

typedef struct state {
    STATE_ENTRY *items;
    size_t count;
    int exists;
} STATE;

/* ---------------------------------------------------------------- small helpers */

static void
kv_add(KV_LIST *list, const char *name, size_t name_len, const char *value)
{
    list->items = mem_realloc(list->items, (list->count + 1) * sizeof(KV));
    list->items[list->count].name = mem_strndup(name, name_len);
    list->items[list->count].value = mem_strdup(value);
    list->count++;
}

static void
kv_free(KV_LIST *list)
{
    for (size_t i = 0; i < list->count; i++) {
        mem_free(list->items[i].name);
        mem_free(list->items[i].value);
    }
    mem_free(list->items);
    list->items = NULL;
    list->count = 0;
}

static const char *
kv_get(const KV_LIST *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].name, name) == 0)
            return list->items[i].value;
    return NULL;
}

/* Parses postconf's "name = value" / "name =" lines; other lines are ignored. */
static void
kv_parse(KV_LIST *list, const char *text)
{
    const char *line = text;

    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen(line);
        char *copy = mem_strndup(line, len);
        char *eq = strstr(copy, " = ");

        if (eq != NULL) {
            kv_add(list, copy, (size_t) (eq - copy), eq + 3);
        } else if (len > 2 && strcmp(copy + len - 2, " =") == 0) {
            kv_add(list, copy, len - 2, "");
        }
        mem_free(copy);
        line = end ? end + 1 : line + len;
    }
}

/* Postfix lists are separated by commas and/or white space: compare the words. */
static int
same_value(const char *a, const char *b)
{
    static const char sep[] = " \t\r\n,";

    for (;;) {
        size_t la, lb;

        a += strspn(a, sep);
        b += strspn(b, sep);
        la = strcspn(a, sep);
        lb = strcspn(b, sep);
        if (la != lb || strncmp(a, b, la) != 0)
            return 0;
        if (la == 0)
            return 1;
        a += la;
        b += lb;
    }
}

static char *
path_join(const char *dir, const char *name)
{
    return buf_asprintf("%s/%s", dir, name);
}

static int
file_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* The directory part of an absolute path ("/" for "/x"). */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return mem_strdup(".");
    return slash == path ? mem_strdup("/") : mem_strndup(path, (size_t) (slash - path));
}

/* The absolute path of an executable found in $PATH, or NULL. */
static char *
find_program(const char *name)
{
    const char *path = getenv("PATH");

    if (path == NULL || *path == '\0')
        return NULL;
    while (*path) {
        size_t len = strcspn(path, ":");
        char *candidate = len ? buf_asprintf("%.*s/%s", (int) len, path, name) : NULL;

        if (candidate && access(candidate, X_OK) == 0)
            return candidate;
        mem_free(candidate);
        path += len;
        if (*path == ':')
            path++;
    }
    return NULL;
}

/* ---------------------------------------------------------------- subprocesses */

/* One line naming the command, for messages. */
static char *
argv_text(char *const argv[])
{
    BUF *b = buf_new(128);

    for (size_t i = 0; argv[i]; i++)
        buf_printf(b, "%s%s", i ? " " : "", argv[i]);
    return buf_steal(b, NULL);
}

static void
show_output(const BUF *out, const BUF *err)
{
    const char *s[2] = {buf_cstr(err), buf_cstr(out)};

    for (int i = 0; i < 2; i++) {
        const char *line = s[i];

        while (*line) {
            size_t len = strcspn(line, "\n");

            msg_error("  | %.*s", (int) len, line);
            line += len;
            if (*line)
                line++;
        }
    }
}

/*
 * Runs postconf -c DIR ARGS... (args NULL-terminated). Returns 0 with its stdout in
 * out (when not NULL), or EX_CONFIG after showing what it said.
 */
static int
postconf_v(PF *pf, BUF *out, const char *const *args)
{
    const char *argv[64];
    size_t n = 0;
    BUF *sink = out ? out : buf_new(256), *err = buf_new(256);
    int code, status = 0;

    argv[n++] = pf->postconf;
    argv[n++] = "-c";
    argv[n++] = pf->dir;
    for (size_t i = 0; args[i]; i++) {
        if (n >= sizeof(argv) / sizeof(argv[0]) - 1)
            msg_panic("postconf_v: too many arguments");
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    code = run_capture((char *const *) argv, RUN_TIMEOUT_SECONDS, RUN_OUTPUT_LIMIT, sink, err, NULL);
    if (code != 0) {
        char *cmd = argv_text((char *const *) argv);

        if (code < 0)
            msg_error("%s could not run", cmd);
        else
            msg_error("%s failed (exit status %d):", cmd, code);
        show_output(sink, err);
        mem_free(cmd);
        status = EX_CONFIG;
    }
    if (sink != out)
        buf_free(sink);
    buf_free(err);
    return status;
}

#define POSTCONF(pf, out, ...) postconf_v((pf), (out), (const char *const[]) {__VA_ARGS__, NULL})

/* Runs postconf with a variable list: fixed leading args then list[0..n). */
static int
postconf_list(PF *pf, BUF *out, const char *a, const char *b, char **list, size_t n)
{
    const char **args = mem_alloc((n + 3) * sizeof(*args));
    size_t k = 0;
    int status;

    if (a)
        args[k++] = a;
    if (b)
        args[k++] = b;
    for (size_t i = 0; i < n; i++)
        args[k++] = list[i];
    args[k] = NULL;
    status = postconf_v(pf, out, args);
    mem_free(args);
    return status;
}

/* ---------------------------------------------------------------- reading the instance */

/* Checks that DIR is a Postfix configuration directory and finds postconf. */
static int
pf_open(PF *pf, const PGCONF *cfg, const char *dir)
{
    struct stat st;
    char *main_cf, *master_cf;
    int ok;

    memset(pf, 0, sizeof(*pf));
    pf->cfg = cfg;
    pf->dir = dir;
    if (stat(dir, &st) != 0) {
        msg_error("Postfix configuration directory %s: %s", dir, strerror(errno));
        return EX_CONFIG;
    }
    if (!S_ISDIR(st.st_mode)) {
        msg_error("%s is not a Postfix configuration directory (not a directory)", dir);
        return EX_CONFIG;
    }
    main_cf = path_join(dir, "main.cf");
    master_cf = path_join(dir, "master.cf");
    ok = file_exists(main_cf) && file_exists(master_cf);
    mem_free(main_cf);
    mem_free(master_cf);
    if (!ok) {
        msg_error("%s is not a Postfix configuration directory (it lacks main.cf or master.cf)", dir);
        return EX_CONFIG;
    }
    if ((pf->postconf = find_program("postconf")) == NULL) {
        msg_error("postconf not found in PATH (%s): install postfix, or add /usr/sbin to PATH",
                  getenv("PATH") ? getenv("PATH") : "unset");
        return EX_UNAVAILABLE;
    }
    return 0;
}

static void
pf_close(PF *pf)
{
    mem_free(pf->postconf);
    mem_free(pf->queue_dir);
    mem_free(pf->mail_owner);
    for (int i = 0; i < SOCK_COUNT; i++) {
        mem_free(pf->sock_postfix[i]);
        mem_free(pf->sock_path[i]);
    }
    for (size_t i = 0; i < pf->nsettings; i++)
        mem_free(pf->settings[i].want);
    kv_free(&pf->effective);
    kv_free(&pf->explicit);
    kv_free(&pf->marked);
    for (int i = 0; i < LOOPBACKS; i++) {
        mem_free(pf->loop[i].service);
        mem_free(pf->loop[i].line);
        mem_free(pf->loop[i].now);
    }
}

/* Parses "inet:host:port" (host may be [v6]); returns 0 when well formed. */
static int
inet_spec_ok(const char *rest)
{
    const char *colon = strrchr(rest, ':');
    char *end;
    long port;

    if (colon == NULL || colon == rest)
        return 0;
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    return colon[1] != '\0' && *end == '\0' && errno == 0 && port >= 1 && port <= 65535;
}

/*
 * Translates a postgate socket address (unix:/path or inet:host:port) into what
 * Postfix is told. A unix path under the queue directory becomes relative to it:
 * Postfix daemons run there (chrooted or not), so relative paths always work.
 */
static int
translate_socket(PF *pf, int which)
{
    const char *key = pf->sock_key[which], *spec = pf->sock_spec[which];
    size_t qlen = strlen(pf->queue_dir);

    if (strpbrk(spec, " \t\r\n,{}=") != NULL) {
        /* It would split into several words in main.cf and master.cf. */
        msg_error("%s: \"%s\" contains white space or one of \",{}=\"", key, spec);
        return EX_CONFIG;
    }
    if (strncmp(spec, "inet:", 5) == 0) {
        if (!inet_spec_ok(spec + 5)) {
            msg_error("%s: \"%s\" is not inet:host:port", key, spec);
            return EX_CONFIG;
        }
        pf->sock_postfix[which] = mem_strdup(spec);
        return 0;
    }
    if (strncmp(spec, "unix:", 5) != 0 || spec[5] != '/' || spec[strlen(spec) - 1] == '/') {
        msg_error("%s: \"%s\" is neither unix:/absolute/path nor inet:host:port", key, spec);
        return EX_CONFIG;
    }
    pf->sock_path[which] = mem_strdup(spec + 5);
    if (strncmp(spec + 5, pf->queue_dir, qlen) == 0 && spec[5 + qlen] == '/') {
        const char *rel = spec + 5 + qlen;

        rel += strspn(rel, "/");
        pf->sock_postfix[which] = which == SOCK_SASL ? mem_strdup(rel) : buf_asprintf("unix:%s", rel);
    } else {
        msg_warn("%s: %s is outside Postfix's queue directory %s: a chrooted smtpd cannot reach it",
                 key, spec + 5, pf->queue_dir);
        pf->sock_postfix[which] = which == SOCK_SASL ? mem_strdup(spec + 5) : mem_strdup(spec);
    }
    return 0;
}

static void
add_setting(PF *pf, const char *name, char *want)
{
    if (pf->nsettings >= sizeof(pf->settings) / sizeof(pf->settings[0]))
        msg_panic("add_setting: too many settings");
    pf->settings[pf->nsettings].name = name;
    pf->settings[pf->nsettings].want = want;
    pf->settings[pf->nsettings].now = NULL;
    pf->settings[pf->nsettings].optional = 0;
    pf->nsettings++;
}

/* True when one of the maillog_file_prefixes is a prefix of path (Postfix's rule). */
static int
prefixes_allow(const char *prefixes, const char *path)
{
    static const char sep[] = " \t\r\n,";
    const char *p = prefixes;

    for (;;) {
        size_t len;

        p += strspn(p, sep);
        if ((len = strcspn(p, sep)) == 0)
            return 0;
        if (strncmp(path, p, len) == 0)
            return 1;
        p += len;
    }
}

/*
 * Reads the instance (queue directory, every parameter enable sets, explicit
 * main.cf settings, marked master.cf services) and works out what enable would set.
 */
static int
pf_load(PF *pf)
{
    const PGCONF *cfg = pf->cfg;
    KV_LIST basics = {NULL, 0};
    char *names[32];
    size_t nnames = 0;
    const char *qd, *owner, *prefixes;
    BUF *out = buf_new(4096);
    int status;

    if ((status = POSTCONF(pf, out, "-x", "queue_directory", "mail_owner")) != 0)
        goto done;
    kv_parse(&basics, buf_cstr(out));
    qd = kv_get(&basics, "queue_directory");
    owner = kv_get(&basics, "mail_owner");
    if (qd == NULL || *qd != '/' || owner == NULL) {
        msg_error("postconf -c %s: no absolute queue_directory or mail_owner in its answer", pf->dir);
        status = EX_CONFIG;
        goto done;
    }
    pf->queue_dir = mem_strdup(qd);
    while (strlen(pf->queue_dir) > 1 && pf->queue_dir[strlen(pf->queue_dir) - 1] == '/')
        pf->queue_dir[strlen(pf->queue_dir) - 1] = '\0';
    pf->mail_owner = mem_strdup(owner);

    pf->sock_key[SOCK_MILTER] = "milter.listen";
    pf->sock_spec[SOCK_MILTER] = cfg->milter_listen;
    pf->sock_key[SOCK_POLICY] = "policyd.policy_listen";
    pf->sock_spec[SOCK_POLICY] = cfg->policyd_policy_listen;
    pf->sock_key[SOCK_SASL] = "policyd.sasl_listen";
    pf->sock_spec[SOCK_SASL] = cfg->policyd_sasl_listen;
    pf->sock_key[SOCK_SOCKETMAP] = "policyd.socketmap_listen";
    pf->sock_spec[SOCK_SOCKETMAP] = cfg->policyd_socketmap_listen;
    pf->sock_key[SOCK_LMTP] = "worker.lmtp_listen";
    pf->sock_spec[SOCK_LMTP] = cfg->worker_lmtp_listen;
    for (int i = 0; i < SOCK_COUNT; i++)
        if ((status = translate_socket(pf, i)) != 0)
            goto done;
    if (cfg->postfix_maillog_file[0] != '/') {
        msg_error("postfix.maillog_file: \"%s\" is not an absolute path", cfg->postfix_maillog_file);
        status = EX_CONFIG;
        goto done;
    }
    {
        const char *addresses[LOOPBACKS] = {cfg->postfix_release_address, cfg->postfix_injection_address,
                                            cfg->postfix_forward_address};
        const char *daemon_names[LOOPBACKS] = {cfg->postfix_release_daemon_name, cfg->postfix_injection_daemon_name,
                                               FORWARD_DAEMON_NAME};
        static const char *const keys[LOOPBACKS] = {"postfix.release", "postfix.injection", "postfix.forward"};

        for (int i = 0; i < LOOPBACKS; i++) {
            if (strncmp(addresses[i], "inet:", 5) != 0 || !inet_spec_ok(addresses[i] + 5)
                || strpbrk(addresses[i], " \t\r\n,{}=/") != NULL) {
                msg_error("%s_address: \"%s\" is not inet:host:port", keys[i], addresses[i]);
                status = EX_CONFIG;
                goto done;
            }
            if (*daemon_names[i] == '\0' || strpbrk(daemon_names[i], " \t\r\n,=") != NULL) {
                msg_error("%s_daemon_name: \"%s\" must be one word", keys[i], daemon_names[i]);
                status = EX_CONFIG;
                goto done;
            }
        }
        if (strcmp(addresses[0], addresses[1]) == 0 || strcmp(daemon_names[0], daemon_names[1]) == 0) {
            msg_error("postfix.release_* and postfix.injection_* must differ in address and daemon name");
            status = EX_CONFIG;
            goto done;
        }
        if (strcmp(addresses[2], addresses[0]) == 0 || strcmp(addresses[2], addresses[1]) == 0
            || strcmp(daemon_names[0], FORWARD_DAEMON_NAME) == 0 || strcmp(daemon_names[1], FORWARD_DAEMON_NAME) == 0) {
            msg_error("postfix.forward_address must differ from the release and injection addresses (and "
                      "\"" FORWARD_DAEMON_NAME "\" is its daemon name)");
            status = EX_CONFIG;
            goto done;
        }
    }

    add_setting(pf, "smtpd_sasl_auth_enable", mem_strdup("yes"));
    add_setting(pf, "smtpd_sasl_type", mem_strdup("dovecot"));
    add_setting(pf, "smtpd_sasl_path", mem_strdup(pf->sock_postfix[SOCK_SASL]));
    add_setting(pf, "broken_sasl_auth_clients", mem_strdup("yes"));
    add_setting(pf, "smtpd_sasl_authenticated_header", mem_strdup("no"));
    /* The policy service comes first so it sees SASL clients too (suspension, rate limits);
     * it answers DUNNO for them and OK only for SMTP-IP networks. */
    add_setting(pf, "smtpd_relay_restrictions",
                buf_asprintf("check_policy_service %s, permit_sasl_authenticated, reject_unauth_destination",
                             pf->sock_postfix[SOCK_POLICY]));
    /* Incoming: the domains and recipients that exist come from policyd's socketmap, so
     * an unknown recipient is refused at RCPT; their mail goes to the worker over LMTP. */
    add_setting(pf, "relay_domains", buf_asprintf("socketmap:%s:domain", pf->sock_postfix[SOCK_SOCKETMAP]));
    add_setting(pf, "relay_recipient_maps", buf_asprintf("socketmap:%s:recipient", pf->sock_postfix[SOCK_SOCKETMAP]));
    add_setting(pf, "relay_transport", buf_asprintf("lmtp:%s", pf->sock_postfix[SOCK_LMTP]));
    add_setting(pf, "smtpd_milters", mem_strdup(pf->sock_postfix[SOCK_MILTER]));
    add_setting(pf, "non_smtpd_milters", mem_strdup(pf->sock_postfix[SOCK_MILTER]));
    add_setting(pf, "milter_default_action", mem_strdup("tempfail"));
    add_setting(pf, "milter_protocol", mem_strdup("6"));
    /* 8BITMIME downgrades after signing would break DKIM body hashes. */
    add_setting(pf, "disable_mime_output_conversion", mem_strdup("yes"));
    add_setting(pf, "enable_long_queue_ids", mem_strdup("yes"));
    /* postgate-worker learns sent_with_ssl from "TLS connection established" lines. */
    add_setting(pf, "smtp_tls_loglevel", NULL);         /* worked out below: at least 1 */
    /* SMTP smuggling: "<LF>.<LF>", "<CR><LF>.<LF>" and "<LF>.<CR><LF>" must not end DATA, or
     * the rest of the data is read as commands (a second, forged message). Postfix's
     * recommended setting: only <CR><LF>.<CR><LF> ends DATA, a bare <LF> elsewhere is read
     * as <CR><LF>, and clients in mynetworks are exempt. Postfix 3.5.23/3.6.13/3.7.9/3.8.4
     * and later know the parameters; "normalize" is 3.7.10's name for 3.7.9's "yes". */
    add_setting(pf, "smtpd_forbid_bare_newline", mem_strdup("normalize"));
    pf->settings[pf->nsettings - 1].optional = 1;
    add_setting(pf, "smtpd_forbid_bare_newline_exclusions", mem_strdup("$mynetworks"));
    pf->settings[pf->nsettings - 1].optional = 1;
    /* Last two: worked out below by position. */
    add_setting(pf, "maillog_file", mem_strdup(cfg->postfix_maillog_file));
    add_setting(pf, "maillog_file_prefixes", NULL);     /* worked out below */

    for (size_t i = 0; i < pf->nsettings; i++)
        names[nnames++] = (char *) pf->settings[i].name;
    buf_reset(out);
    if ((status = postconf_list(pf, out, NULL, NULL, names, nnames)) != 0)
        goto done;
    kv_parse(&pf->effective, buf_cstr(out));
    for (size_t i = 0; i < pf->nsettings; i++) {
        if ((pf->settings[i].now = kv_get(&pf->effective, pf->settings[i].name)) == NULL
            && pf->settings[i].optional) {
            msg_warn("postconf -c %s does not know parameter %s: this Postfix is open to SMTP smuggling "
                     "(upgrade to 3.7.10, 3.8.5 or later)", pf->dir, pf->settings[i].name);
            mem_free(pf->settings[i].want);
            memmove(&pf->settings[i], &pf->settings[i + 1], (pf->nsettings - i - 1) * sizeof(pf->settings[0]));
            pf->nsettings--;
            i--;
            continue;
        }
        if (pf->settings[i].now == NULL) {
            msg_error("postconf -c %s does not know parameter %s (Postfix too old?)",
                      pf->dir, pf->settings[i].name);
            status = EX_CONFIG;
            goto done;
        }
    }
    for (size_t i = 0; i < pf->nsettings; i++)
        if (strcmp(pf->settings[i].name, "smtp_tls_loglevel") == 0)
            pf->settings[i].want = mem_strdup(atoi(pf->settings[i].now) >= 1 ? pf->settings[i].now : "1");
    /* Postfix refuses a maillog_file outside maillog_file_prefixes: allow its directory. */
    prefixes = pf->settings[pf->nsettings - 1].now;
    if (prefixes_allow(prefixes, cfg->postfix_maillog_file)) {
        pf->settings[pf->nsettings - 1].want = mem_strdup(prefixes);
    } else {
        char *dir = dir_of(cfg->postfix_maillog_file);

        pf->settings[pf->nsettings - 1].want = prefixes[strspn(prefixes, " \t,")]
            ? buf_asprintf("%s, %s", prefixes, dir) : mem_strdup(dir);
        mem_free(dir);
    }

    buf_reset(out);
    if ((status = POSTCONF(pf, out, "-n")) != 0)
        goto done;
    kv_parse(&pf->explicit, buf_cstr(out));

    /* Services with the marker: "svc/type/syslog_name = postfix/postgate-..." */
    buf_reset(out);
    if ((status = POSTCONF(pf, out, "-P")) != 0)
        goto done;
    {
        KV_LIST all = {NULL, 0};

        kv_parse(&all, buf_cstr(out));
        for (size_t i = 0; i < all.count; i++) {
            char *slash = strrchr(all.items[i].name, '/');

            if (slash && strcmp(slash + 1, "syslog_name") == 0
                && strncmp(all.items[i].value, MARKER, strlen(MARKER)) == 0)
                kv_add(&pf->marked, all.items[i].name, (size_t) (slash - all.items[i].name),
                       all.items[i].value);
        }
        kv_free(&all);
    }

    for (int i = 0; i < LOOPBACKS; i++) {
        LOOPBACK *lb = &pf->loop[i];
        const char *address = i == 0 ? cfg->postfix_release_address
            : i == 1 ? cfg->postfix_injection_address : cfg->postfix_forward_address;
        const char *name = i == 0 ? cfg->postfix_release_daemon_name
            : i == 1 ? cfg->postfix_injection_daemon_name : FORWARD_DAEMON_NAME;

        lb->what = i == 0 ? "release" : i == 1 ? "injection" : "forward";
        lb->key = i == 0 ? "postfix.release_address" : i == 1 ? "postfix.injection_address" : "postfix.forward_address";
        lb->service = buf_asprintf("%s/inet", address + 5);
        /* Every one runs the milter: a forward is recorded, signed and limited as outgoing mail. */
        lb->line = buf_asprintf(
            "%s inet n - n - - smtpd -o syslog_name=" MARKER "%s"
            " -o milter_macro_daemon_name=%s -o smtpd_sasl_auth_enable=no"
            " -o mynetworks=127.0.0.0/8,[::1]/128 -o smtpd_client_restrictions=permit_mynetworks,reject"
            " -o smtpd_relay_restrictions=permit_mynetworks,reject -o smtpd_recipient_restrictions="
            " -o smtpd_milters=%s",
            address + 5, lb->what, name, pf->sock_postfix[SOCK_MILTER]);
        lb->ours = kv_get(&pf->marked, lb->service) != NULL;
        buf_reset(out);
        if ((status = POSTCONF(pf, out, "-M", lb->service)) != 0)
            goto done;
        lb->now = mem_strdup(buf_cstr(out));
        lb->now[strcspn(lb->now, "\n")] = '\0';
    }
    buf_reset(out);
    if ((status = POSTCONF(pf, out, "-M", "postlog/unix-dgram")) != 0)
        goto done;
    pf->postlog_present = buf_len(out) > 0;

done:
    kv_free(&basics);
    buf_free(out);
    return status;
}

/* Whether a loopback service exists exactly as enable writes it. */
static int
loopback_ok(const LOOPBACK *lb)
{
    return *lb->now && same_value(lb->now, lb->line);
}

/* Marked services enable would not add now (a loopback service at an old address). */
static int
is_stale(const PF *pf, const char *service)
{
    for (int i = 0; i < LOOPBACKS; i++)
        if (strcmp(service, pf->loop[i].service) == 0)
            return 0;
    return strcmp(service, "postlog/unix-dgram") != 0;
}

static int
socket_dir_missing(const PF *pf, int which, char **dir_r)
{
    char *dir;
    struct stat st;

    *dir_r = NULL;
    if (pf->sock_path[which] == NULL)
        return 0;
    dir = dir_of(pf->sock_path[which]);
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        mem_free(dir);
        return 0;
    }
    *dir_r = dir;
    return 1;
}

/* ---------------------------------------------------------------- the state file */

static void
state_free(STATE *st)
{
    for (size_t i = 0; i < st->count; i++) {
        mem_free(st->items[i].name);
        mem_free(st->items[i].value);
    }
    mem_free(st->items);
    memset(st, 0, sizeof(*st));
}

static const STATE_ENTRY *
state_get(const STATE *st, const char *name)
{
    for (size_t i = 0; i < st->count; i++)
        if (strcmp(st->items[i].name, name) == 0)
            return &st->items[i];
    return NULL;
}

static void
state_add(STATE *st, const char *name, size_t name_len, int was_set, const char *value)
{
    st->items = mem_realloc(st->items, (st->count + 1) * sizeof(STATE_ENTRY));
    st->items[st->count].name = mem_strndup(name, name_len);
    st->items[st->count].was_set = was_set;
    st->items[st->count].value = mem_strdup(was_set ? value : "");
    st->count++;
}

static int
name_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/*
 * Reads DIR/postgate.state: "set NAME = VALUE" or "unset NAME" per line, '#' comments.
 * A missing file is an empty state. Returns 0, EX_DATAERR (malformed) or EX_IOERR.
 */
static int
state_load(const PF *pf, STATE *st)
{
    char *path = path_join(pf->dir, STATE_FILE);
    BUF *text = buf_new(4096);
    char chunk[4096];
    ssize_t n;
    int fd, status = 0, lineno = 0;
    const char *line;

    memset(st, 0, sizeof(*st));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno != ENOENT) {
            msg_error("%s: %s", path, strerror(errno));
            status = EX_IOERR;
        }
        goto done;
    }
    st->exists = 1;
    buf_set_limit(text, STATE_SIZE_LIMIT);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || buf_append(text, chunk, (size_t) n) < 0) {
            msg_error("%s: %s", path, n < 0 ? strerror(errno) : "larger than 1 MB: not a postgate state file");
            status = n < 0 ? EX_IOERR : EX_DATAERR;
            close(fd);
            goto done;
        }
    }
    close(fd);
    if (memchr(buf_data(text), '\0', buf_len(text)) != NULL) {
        msg_error("%s: contains a NUL byte: not a postgate state file", path);
        status = EX_DATAERR;
        goto done;
    }
    for (line = buf_cstr(text); *line;) {
        size_t len = strcspn(line, "\n");
        const char *next = line[len] ? line + len + 1 : line + len;

        lineno++;
        if (len == 0 || line[0] == '#') {
            line = next;
            continue;
        }
        if (strncmp(line, "unset ", 6) == 0 && name_ok(line + 6, len - 6)) {
            state_add(st, line + 6, len - 6, 0, NULL);
        } else if (strncmp(line, "set ", 4) == 0) {
            const char *name = line + 4, *eq = memchr(name, '=', len - 4);
            size_t name_len = eq ? (size_t) (eq - name) : 0;
            char *value;

            if (name_len < 2 || name[name_len - 1] != ' ' || !name_ok(name, name_len - 1)) {
                msg_error("%s:%d: malformed line", path, lineno);
                status = EX_DATAERR;
                goto done;
            }
            value = mem_strndup(eq + 1, len - (size_t) (eq + 1 - line));
            state_add(st, name, name_len - 1, 1, value[0] == ' ' ? value + 1 : value);
            mem_free(value);
        } else {
            msg_error("%s:%d: malformed line (expected \"set NAME = VALUE\" or \"unset NAME\")", path, lineno);
            status = EX_DATAERR;
            goto done;
        }
        line = next;
    }
done:
    if (status != 0)
        state_free(st);
    buf_free(text);
    mem_free(path);
    return status;
}

/* Writes text to path atomically (temporary file, fsync, rename). */
static int
write_file_atomic(const char *path, const char *text, mode_t mode)
{
    char *tmp = buf_asprintf("%s.tmp", path);
    size_t len = strlen(text), done = 0;
    int fd, ok = 1;

    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
        msg_error("cannot create %s: %s", tmp, strerror(errno));
        mem_free(tmp);
        return EX_CANTCREAT;
    }
    while (ok && done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            ok = 0;
        else
            done += (size_t) n;
    }
    if (!ok || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        msg_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        mem_free(tmp);
        return EX_CANTCREAT;
    }
    mem_free(tmp);
    return 0;
}

static int
state_save(const PF *pf, const STATE *st)
{
    char *path = path_join(pf->dir, STATE_FILE);
    BUF *b = buf_new(1024);
    time_t now = time(NULL);
    char when[64];
    int status;

    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    buf_printf(b, "# %s -- written by postgatectl postfix enable (%s).\n"
               "# main.cf parameters as they were before postgate changed them;\n"
               "# postgatectl postfix disable restores them and removes this file. Do not edit.\n",
               STATE_FILE, when);
    for (size_t i = 0; i < st->count; i++) {
        if (st->items[i].was_set)
            buf_printf(b, "set %s = %s\n", st->items[i].name, st->items[i].value);
        else
            buf_printf(b, "unset %s\n", st->items[i].name);
    }
    status = write_file_atomic(path, buf_cstr(b), 0644);
    buf_free(b);
    mem_free(path);
    return status;
}

/* Copies src to dst unless dst exists (a backup is never overwritten). */
static int
backup_file(const char *src, const char *dst, int *made_r)
{
    char chunk[8192];
    struct stat st;
    int in, out, status = 0;
    ssize_t n;

    *made_r = 0;
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0 || fstat(in, &st) < 0) {
        msg_error("cannot read %s: %s", src, strerror(errno));
        if (in >= 0)
            close(in);
        return EX_IOERR;
    }
    if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0644)) < 0) {
        close(in);
        if (errno == EEXIST)
            return 0;
        msg_error("cannot create %s: %s", dst, strerror(errno));
        return EX_CANTCREAT;
    }
    while (status == 0 && (n = read(in, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        for (ssize_t done = 0; n > 0 && done < n;) {
            ssize_t w = write(out, chunk + done, (size_t) (n - done));

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                n = -1;
                break;
            }
            done += w;
        }
        if (n < 0)
            status = EX_CANTCREAT;
    }
    if (status != 0 || fsync(out) < 0 || close(out) < 0) {
        msg_error("cannot write %s: %s", dst, strerror(errno));
        unlink(dst);
        close(in);
        return EX_CANTCREAT;
    }
    close(in);
    *made_r = 1;
    return 0;
}

/* ---------------------------------------------------------------- sockets */

/* Tries to connect to a postgate socket; returns NULL or why it failed (static text). */
static const char *
try_connect(const char *spec, char *why, size_t why_len)
{
    int fd = -1;

    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sun;
        struct stat st;

        if (strlen(spec + 5) >= sizeof(sun.sun_path))
            return "path too long for a unix socket";
        if (stat(spec + 5, &st) != 0) {
            snprintf(why, why_len, "%s", strerror(errno));
            return why;
        }
        if (!S_ISSOCK(st.st_mode))
            return "exists but is not a socket";
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, spec + 5, strlen(spec + 5));
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
            || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
            snprintf(why, why_len, "connect: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            return why;
        }
        close(fd);
        return NULL;
    } else {
        const char *hostport = spec + 5, *colon = strrchr(hostport, ':');
        char *host = mem_strndup(hostport, (size_t) (colon - hostport));
        struct addrinfo hints, *res = NULL;
        int err, result = -1;

        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host));
            host[strlen(host) - 1] = '\0';
        }
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        if ((err = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
            snprintf(why, why_len, "%s: %s", host, gai_strerror(err));
            mem_free(host);
            return why;
        }
        mem_free(host);
        snprintf(why, why_len, "no address");
        for (struct addrinfo *ai = res; ai && result != 0; ai = ai->ai_next) {
            struct pollfd pfd;
            int soerr = 0;
            socklen_t slen = sizeof(soerr);

            if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
                continue;
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
                result = 0;
            } else if (errno == EINPROGRESS) {
                pfd.fd = fd;
                pfd.events = POLLOUT;
                if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) == 1
                    && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 && soerr == 0)
                    result = 0;
                else
                    snprintf(why, why_len, "connect: %s", soerr ? strerror(soerr) : "timed out");
            } else {
                snprintf(why, why_len, "connect: %s", strerror(errno));
            }
            close(fd);
        }
        freeaddrinfo(res);
        return result == 0 ? NULL : why;
    }
}

/* Creates a socket directory: mode 0750, owner daemon.user (root when that user does
 * not exist), group of Postfix's mail_owner so smtpd may enter it. */
static int
make_socket_dir(const PF *pf, const char *dir)
{
    struct passwd *pw;
    uid_t uid = 0;
    gid_t gid = 0;
    const char *owner = "root", *group = "root";
    struct group *gr;

    if ((pw = getpwnam(pf->cfg->daemon_user)) != NULL) {
        uid = pw->pw_uid;
        owner = pf->cfg->daemon_user;
    }
    if ((pw = getpwnam(pf->mail_owner)) != NULL) {
        gid = pw->pw_gid;
        gr = getgrgid(gid);
        group = gr ? gr->gr_name : pf->mail_owner;
    } else {
        msg_warn("Postfix mail_owner %s does not exist: %s is group root", pf->mail_owner, dir);
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        msg_error("cannot create socket directory %s: %s", dir, strerror(errno));
        return EX_CANTCREAT;
    }
    if (chown(dir, uid, gid) < 0 || chmod(dir, 0750) < 0) {
        msg_error("%s: cannot set owner and mode: %s", dir, strerror(errno));
        return EX_CANTCREAT;
    }
    printf("created socket directory %s (mode 0750, owner %s, group %s)\n", dir, owner, group);
    if (uid == 0)
        printf("  user %s (daemon.user) does not exist: the directory is owned by root; "
               "chown it to %s once that user exists\n", pf->cfg->daemon_user, pf->cfg->daemon_user);
    return 0;
}

/* ---------------------------------------------------------------- reload */

static int
maybe_reload(const PF *pf, int reload, int changed)
{
    char *postfix;
    const char *argv[5];
    BUF *out, *err;
    int code, status = 0;

    if (!changed)
        return 0;
    if (!reload) {
        printf("Run 'postfix -c %s reload' (or pass --reload) so the running Postfix uses the change.\n", pf->dir);
        return 0;
    }
    if ((postfix = find_program("postfix")) == NULL) {
        msg_error("postfix not found in PATH: cannot reload; run 'postfix -c %s reload' yourself", pf->dir);
        return EX_UNAVAILABLE;
    }
    out = buf_new(256);
    err = buf_new(256);
    argv[0] = postfix;
    argv[1] = "-c";
    argv[2] = pf->dir;
    argv[3] = "status";
    argv[4] = NULL;
    if (run_capture((char *const *) argv, RUN_TIMEOUT_SECONDS, RUN_OUTPUT_LIMIT, out, err, NULL) != 0) {
        printf("Postfix (%s) is not running: nothing to reload.\n", pf->dir);
    } else {
        buf_reset(out);
        buf_reset(err);
        argv[3] = "reload";
        code = run_capture((char *const *) argv, RUN_TIMEOUT_SECONDS, RUN_OUTPUT_LIMIT, out, err, NULL);
        if (code != 0) {
            msg_error("postfix -c %s reload failed (%s %d); the configuration is changed but not in use:",
                      pf->dir, code < 0 ? "could not run," : "exit status", code);
            show_output(out, err);
            status = EX_UNAVAILABLE;
        } else {
            printf("Postfix (%s) reloaded.\n", pf->dir);
        }
    }
    buf_free(out);
    buf_free(err);
    mem_free(postfix);
    return status;
}

/* ---------------------------------------------------------------- the commands */

static int
do_check(PF *pf)
{
    int problems = 0;
    char why[256];

    for (size_t i = 0; i < pf->nsettings; i++) {
        const SETTING *s = &pf->settings[i];

        if (!same_value(s->now, s->want)) {
            printf("main.cf: %s is \"%s\", expected \"%s\"\n", s->name, s->now, s->want);
            problems++;
        }
    }
    if (!pf->postlog_present) {
        printf("master.cf: service postlog/unix-dgram (postlogd, needed by maillog_file) is missing\n");
        problems++;
    }
    for (int i = 0; i < LOOPBACKS; i++) {
        const LOOPBACK *lb = &pf->loop[i];

        if (!*lb->now) {
            printf("master.cf: %s service %s is missing\n", lb->what, lb->service);
            problems++;
        } else if (!loopback_ok(lb)) {
            printf("master.cf: %s service %s is \"%s\", expected \"%s\"\n", lb->what, lb->service,
                   lb->now, lb->line);
            problems++;
        }
    }
    for (size_t i = 0; i < pf->marked.count; i++) {
        if (is_stale(pf, pf->marked.items[i].name)) {
            printf("master.cf: service %s was added by postgate but is no longer wanted "
                   "(postfix.release_address or injection_address changed?)\n", pf->marked.items[i].name);
            problems++;
        }
    }
    for (int i = 0; i < SOCK_COUNT; i++) {
        char *dir;

        if (socket_dir_missing(pf, i, &dir)) {
            printf("socket directory %s (%s) is missing\n", dir, pf->sock_key[i]);
            problems++;
            mem_free(dir);
        } else if (try_connect(pf->sock_spec[i], why, sizeof(why)) != NULL) {
            msg_warn("%s: %s does not accept connections (%s): is the postgate daemon running?",
                     pf->sock_key[i], pf->sock_spec[i], why);
        }
    }
    {
        char *dir = dir_of(pf->cfg->postfix_maillog_file);
        struct stat st;

        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            msg_warn("postfix.maillog_file: directory %s does not exist: Postfix cannot write %s",
                     dir, pf->cfg->postfix_maillog_file);
        mem_free(dir);
    }
    if (problems) {
        printf("Postfix in %s is not wired to postgate: %d thing%s missing or different; "
               "run 'postgatectl postfix enable'.\n", pf->dir, problems, problems == 1 ? "" : "s");
        return EX_NOT_WIRED;
    }
    printf("Postfix in %s is wired to postgate.\n", pf->dir);
    return EX_OK;
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
        printf("Postfix in %s is already wired to postgate: nothing changed.\n", pf->dir);
        state_free(&st);
        return EX_OK;
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
    if (status == 0)
        printf("Postfix in %s is now wired to postgate.\n", pf->dir);
    else if (changed)
        msg_error("enable stopped half way: run it again, or 'postgatectl postfix disable' to undo");
    if (status == 0)
        status = maybe_reload(pf, reload, changed);
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
    char **sets, **unsets, *removals[8];
    const STATE_ENTRY **restored;
    size_t nsets = 0, nunsets = 0, nremovals = 0;
    char *path = path_join(pf->dir, STATE_FILE);
    int status, changed = 0;

    if ((status = state_load(pf, &st)) != 0) {
        mem_free(path);
        return status;
    }
    for (size_t i = 0; i < pf->marked.count && nremovals < 8; i++)
        removals[nremovals++] = pf->marked.items[i].name;
    if (!st.exists && nremovals == 0) {
        printf("Postfix in %s is not wired by postgate (no %s, no postgate services): nothing changed.\n",
               pf->dir, path);
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
        status = maybe_reload(pf, reload, changed);
    for (size_t i = 0; i < nsets; i++)
        mem_free(sets[i]);
    mem_free(sets);
    mem_free(restored);
    mem_free(unsets);
    state_free(&st);
    mem_free(path);
    return status;
}

static int
postfix_usage(void)
{
    msg_error("usage: postgatectl postfix enable|disable [-C POSTFIX_CONFIG_DIR] [--reload]");
    msg_error("       postgatectl postfix check [-C POSTFIX_CONFIG_DIR]");
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
    if (strcmp(sub, "enable") != 0 && strcmp(sub, "disable") != 0 && strcmp(sub, "check") != 0) {
        msg_error("unknown postfix subcommand '%s' (enable, disable or check)", sub);
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
        msg_error("postfix check: --reload applies to enable and disable only");
        return EX_USAGE;
    }
    if ((status = pf_open(&pf, ctx->cfg, dir)) == 0 && (status = pf_load(&pf)) == 0) {
        if (strcmp(sub, "check") == 0)
            status = do_check(&pf);
        else if (strcmp(sub, "enable") == 0)
            status = do_enable(&pf, reload);
        else
            status = do_disable(&pf, reload);
    }
    pf_close(&pf);
    return status;
}
