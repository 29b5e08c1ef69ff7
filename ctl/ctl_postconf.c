/*
 * ctl_postconf.c -- ctl_postconf.h: postconf(1) run and parsed, and the instance model
 * (main.cf side) read through it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_postconf.h"
#include "mail/hosting.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/run.h"

/* ---------------------------------------------------------------- small helpers */

void
kv_add(KV_LIST *list, const char *name, size_t name_len, const char *value)
{
    list->items = mem_realloc(list->items, (list->count + 1) * sizeof(KV));
    list->items[list->count].name = mem_strndup(name, name_len);
    list->items[list->count].value = mem_strdup(value);
    list->count++;
}

void
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

const char *
kv_get(const KV_LIST *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].name, name) == 0)
            return list->items[i].value;
    return NULL;
}

/* Parses postconf's "name = value" / "name =" lines; other lines are ignored. */
void
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
int
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

char *
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
char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return mem_strdup(".");
    return slash == path ? mem_strdup("/") : mem_strndup(path, (size_t) (slash - path));
}

/* The absolute path of an executable found in $PATH, or NULL. */
char *
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

void
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
int
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

/* Runs postconf with a variable list: fixed leading args then list[0..n). */
int
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
int
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

void
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
int
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

/* Postfix's name of a Dovecot listener spec after prefix: "<prefix>inet:host:port", or
 * "<prefix>unix:<path>", relative to the queue directory when it is under it (chroot). */
static char *
dovecot_socket(const PF *pf, const char *prefix, const char *spec)
{
    size_t qlen = strlen(pf->queue_dir);

    if (strncmp(spec, "unix:", 5) == 0 && strncmp(spec + 5, pf->queue_dir, qlen) == 0 && spec[5 + qlen] == '/')
        return buf_asprintf("%sunix:%s", prefix, spec + 5 + qlen + strspn(spec + 5 + qlen, "/"));
    return buf_asprintf("%s%s", prefix, spec);
}

/* A Postfix list with item at its end, unless it already holds it (the words compared). */
static char *
list_with(const char *list, const char *item)
{
    static const char sep[] = " \t\r\n,";
    size_t ilen = strlen(item);

    for (const char *p = list + strspn(list, sep); *p; p += strspn(p, sep)) {
        size_t len = strcspn(p, sep);

        if (strncmp(p, item, ilen) == 0 && (p[ilen] == '\0' || strchr(sep, p[ilen]) != NULL))
            return mem_strdup(list);
        p += len;
    }
    if (!list[strspn(list, " \t,")])
        return mem_strdup(item);
    return buf_asprintf("%s, %s", list, item);
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
 * Reads the instance: the queue directory and mail_owner, postgate's sockets as Postfix
 * must name them, and the maillog file.
 */
int
pf_load(PF *pf)
{
    const PGCONF *cfg = pf->cfg;
    KV_LIST basics = {NULL, 0};
    const char *qd, *owner;
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

done:
    kv_free(&basics);
    buf_free(out);
    return status;
}

/* header_checks' privacy tables (PF_RECEIVED_*) with policyd's socketmap. */
static char *
received_checks(const PF *pf)
{
    return buf_asprintf("pipemap:{regexp:{" PF_RECEIVED_LOGIN ", " PF_RECEIVED_CLIENT "}, socketmap:%s:received}, "
                        PF_RECEIVED_STRIP, pf->sock_postfix[SOCK_SOCKETMAP]);
}

/* Every parameter enable sets, their values now, and the explicit main.cf settings. */
int
pf_load_settings(PF *pf)
{
    const PGCONF *cfg = pf->cfg;
    char *names[32];
    size_t nnames = 0;
    const char *prefixes;
    BUF *out = buf_new(4096);
    int status;

    add_setting(pf, "smtpd_sasl_auth_enable", mem_strdup("yes"));
    add_setting(pf, "smtpd_sasl_type", mem_strdup("dovecot"));
    add_setting(pf, "smtpd_sasl_path", mem_strdup(pf->sock_postfix[SOCK_SASL]));
    add_setting(pf, "broken_sasl_auth_clients", mem_strdup("yes"));
    /* Named in smtpd's Received field for header_checks' privacy tables, which remove it
     * again (PF_RECEIVED_STRIP): no login name leaves. */
    add_setting(pf, "smtpd_sasl_authenticated_header", mem_strdup("yes"));
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
    /* IP pools: the return path the milter sets names the message; policyd answers the
     * transport of its pool address (ctl_pfpools.c writes them). */
    if (cfg->postfix_ip_pools)
        add_setting(pf, "sender_dependent_default_transport_maps",
                    buf_asprintf("socketmap:%s:transport", pf->sock_postfix[SOCK_SOCKETMAP]));
    /* Mail hosting (hosting.h): hosted domains, their mailboxes, aliases and catch-alls
     * come from the same socketmap; their mail goes to Dovecot's LMTP. A hosted domain is
     * never in relay_domains (the domain map leaves it out). */
    add_setting(pf, "virtual_mailbox_domains",
                buf_asprintf("socketmap:%s:hosted_domain", pf->sock_postfix[SOCK_SOCKETMAP]));
    add_setting(pf, "virtual_mailbox_maps", buf_asprintf("socketmap:%s:mailbox", pf->sock_postfix[SOCK_SOCKETMAP]));
    add_setting(pf, "virtual_alias_maps", NULL);        /* worked out below: ours first */
    add_setting(pf, "smtpd_sender_login_maps",
                buf_asprintf("socketmap:%s:sender_login", pf->sock_postfix[SOCK_SOCKETMAP]));
    add_setting(pf, "virtual_transport", dovecot_socket(pf, "lmtp:", cfg->dovecot_lmtp_listen));
    /* The quota check at RCPT, last: policyd's hosted_quota map answers "452 4.2.2" for a
     * full mailbox (hosting.h) and nothing for any other recipient, so a full mailbox's mail
     * waits at the sender instead of being accepted and refused by Dovecot later. */
    add_setting(pf, "smtpd_recipient_restrictions", NULL);      /* worked out below: ours last */
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
    /* postgate's verdict headers are for the receiving servers on this host: Postfix's SMTP
     * client removes them from what leaves (mail to routes and elsewhere in one transaction
     * carries them; see milter/outgoing.c). Put before the instance's own tables. */
    add_setting(pf, "smtp_header_checks", NULL);        /* worked out below */
    /* Privacy mode and login names in smtpd's Received field (PF_RECEIVED_*): first among
     * header_checks. nested_header_checks keeps the instance's own tables only, since a
     * change inside an attached message would be a change of the signed body. */
    add_setting(pf, "header_checks", NULL);             /* worked out below */
    add_setting(pf, "nested_header_checks", NULL);      /* worked out below */
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
        pf->settings[i].now = kv_get(&pf->effective, pf->settings[i].name);
        if (pf->settings[i].now == NULL && pf->settings[i].optional) {
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
    for (size_t i = 0; i < pf->nsettings; i++) {
        const char *now = pf->settings[i].now;

        if (strcmp(pf->settings[i].name, "smtp_tls_loglevel") == 0)
            pf->settings[i].want = mem_strdup(atoi(now) >= 1 ? now : "1");
        else if (strcmp(pf->settings[i].name, "smtpd_recipient_restrictions") == 0) {
            char *ours = buf_asprintf("check_recipient_access socketmap:%s:hosted_quota",
                                      pf->sock_postfix[SOCK_SOCKETMAP]);

            pf->settings[i].want = list_with(now, ours);
            mem_free(ours);
        }
        else if (strcmp(pf->settings[i].name, "virtual_alias_maps") == 0) {
            char *ours = buf_asprintf("socketmap:%s:alias", pf->sock_postfix[SOCK_SOCKETMAP]);

            /* The instance's own alias tables stay, after postgate's. */
            if (strncmp(now, ours, strlen(ours)) == 0 || !now[strspn(now, " \t,")]
                || strcmp(now, "$virtual_maps") == 0) {
                pf->settings[i].want = ours;
            } else {
                pf->settings[i].want = buf_asprintf("%s, %s", ours, now);
                mem_free(ours);
            }
        }
        else if (strcmp(pf->settings[i].name, "header_checks") == 0) {
            char *ours = received_checks(pf);
            const char *theirs = strncmp(now, ours, strlen(ours)) == 0 ? now + strlen(ours) : now;

            theirs += strspn(theirs, " \t,");
            pf->settings[i].want = *theirs ? buf_asprintf("%s, %s", ours, theirs) : mem_strdup(ours);
            mem_free(ours);
        }
        else if (strcmp(pf->settings[i].name, "nested_header_checks") == 0) {
            /* By default "$header_checks": the instance's own tables as they were. */
            const char *theirs = now;

            if (strcmp(now, "$header_checks") == 0 || strcmp(now, "${header_checks}") == 0) {
                char *ours = received_checks(pf);

                theirs = kv_get(&pf->effective, "header_checks");
                if (strncmp(theirs, ours, strlen(ours)) == 0)
                    theirs += strlen(ours);
                theirs += strspn(theirs, " \t,");
                mem_free(ours);
            }
            pf->settings[i].want = mem_strdup(theirs);
        }
        else if (strcmp(pf->settings[i].name, "smtp_header_checks") == 0)
            pf->settings[i].want = strncmp(now, PF_VERDICT_STRIP, strlen(PF_VERDICT_STRIP)) == 0 ? mem_strdup(now)
                : now[strspn(now, " \t,")] ? buf_asprintf("%s, %s", PF_VERDICT_STRIP, now) : mem_strdup(PF_VERDICT_STRIP);
    }
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

done:
    buf_free(out);
    return status;
}

/* ---------------------------------------------------------------- reload */

int
pf_maybe_reload(const PF *pf, int reload, int changed)
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
