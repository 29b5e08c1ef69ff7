/*
 * milter.c -- postgate-milter: start-up and the libmilter callbacks.
 *
 * Postfix asks this milter about every message (smtpd_milters, non_smtpd_milters).
 * The envelope callback decides once what a message is (MILTER_DIRECTION) from the
 * service it came through and its credential: mail a credential sends (SASL login or
 * SMTP-IP network) is checked, recorded and stamped by outgoing.c and DKIM-signed by
 * sign.c; mail re-injected through the release service keeps its message row;
 * postgate-worker's forwards (Address endpoints) become outgoing mail of the route's
 * server (forward.c, outgoing.c); mail from the Internet for postgate's routes and
 * return paths is scanned for spam and viruses, and its sender's SPF and DKIM checked,
 * by incoming.c (anything else passes).
 * Only the macros and protocol stages it uses are negotiated, so the others cost no
 * round trip. Callbacks never exit: a failure is a 4xx with a logged reason.
 * The callbacks that log about a message name it in the thread's log context (msg.h):
 * its queue ID from Postfix's {i} and, once chosen, its token; each clears the context
 * before it returns, because libmilter runs the next connection's callbacks on the
 * same threads.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "mail/address.h"
#include "mail/daemon.h"
#include "mail/db.h"
#include "mail/monitor.h"
#include "milter.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/run.h"

void
milter_reset(MILTER_CTX *mc)
{
    mem_free(mc->mail_from);
    for (size_t i = 0; i < mc->nrcpts; i++)
        mem_free(mc->rcpts[i]);
    mem_free(mc->rcpts);
    for (size_t i = 0; i < mc->nheaders; i++) {
        mem_free(mc->headers[i].name);
        mem_free(mc->headers[i].value);
    }
    mem_free(mc->headers);
    buf_free(mc->body);
    mem_free(mc->given_tokens);
    mem_free(mc->targets);
    mc->targets = NULL;
    mc->direction = DIR_NONE;
    memset(&mc->forward, 0, sizeof(mc->forward));
    mc->forwarded_from_id = 0;
    mc->given_tokens = NULL;
    mc->ngiven = 0;
    mc->mail_from = NULL;
    mc->rcpts = NULL;
    mc->nrcpts = 0;
    mc->headers = NULL;
    mc->nheaders = 0;
    mc->header_bytes = 0;
    mc->body = NULL;
    mc->too_big = 0;
    memset(&mc->cred, 0, sizeof(mc->cred));
    mc->login[0] = '\0';
    mc->from_domain_id = 0;
    mc->from_domain[0] = '\0';
    mc->queue_id[0] = '\0';
}

/* Names the message in progress on this thread's log lines: its queue ID, from {i}
 * when Postfix sends it in this stage, else as remembered. */
static void
log_context(SMFICTX *ctx, MILTER_CTX *mc)
{
    const char *qid = smfi_getsymval(ctx, "{i}");

    if (qid && *qid)
        snprintf(mc->queue_id, sizeof(mc->queue_id), "%s", qid);
    msg_context_clear();
    msg_context_set_queue_id(mc->queue_id);
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
             unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    unsigned long want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_CHGFROM | SMFIF_DELRCPT | SMFIF_SETSYMLIST;
    /* Stages never used, replies never needed, and header values with their leading space (DKIM). */
    unsigned long want_proto = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC
        | SMFIP_NR_CONN | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_BODY;

    if ((f0 & want_actions) != want_actions) {
        msg_error("the MTA does not offer the milter actions postgate needs (milter_protocol = 6 required)");
        return SMFIS_REJECT;
    }
    *pf0 = want_actions;
    *pf1 = f1 & want_proto;
    *pf2 = *pf3 = 0;
    if ((*pf1 & SMFIP_HDR_LEADSPC) == 0)
        msg_warn("the MTA does not pass header leading spaces; DKIM signatures may not verify");
    smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name}");
    smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen} {i}");
    smfi_setsymlist(ctx, SMFIM_EOM, "{i} {j}");
    return SMFIS_CONTINUE;
}

/* Callbacks whose reply was negotiated away must answer SMFIS_NOREPLY. */
static sfsistat
noreply(SMFICTX *ctx, unsigned long flag)
{
    (void) ctx;
    (void) flag;
    return SMFIS_NOREPLY;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
    MILTER_CTX *mc = mem_zalloc(sizeof(*mc));
    const char *daemon = smfi_getsymval(ctx, "{daemon_name}");

    if (addr && addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *) addr)->sin_addr, mc->client_addr, sizeof(mc->client_addr));
    else if (addr && addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) addr)->sin6_addr, mc->client_addr, sizeof(mc->client_addr));
    if (daemon && strcmp(daemon, milter_globals.cfg->postfix_release_daemon_name) == 0)
        mc->service = SERVICE_RELEASE;
    else if (daemon && strcmp(daemon, milter_globals.cfg->postfix_injection_daemon_name) == 0)
        mc->service = SERVICE_INJECTION;
    else if (daemon && strcmp(daemon, FORWARD_DAEMON_NAME) == 0)
        mc->service = SERVICE_FORWARD;
    else if (daemon && strcmp(daemon, DOVECOT_DAEMON_NAME) == 0)
        mc->service = SERVICE_DOVECOT;
    else
        mc->service = SERVICE_SMTP;
    smfi_setpriv(ctx, mc);
    return noreply(ctx, SMFIP_NR_CONN);
}

static sfsistat
envfrom(SMFICTX *ctx, MILTER_CTX *mc, char **argv)
{
    sfsistat status = SMFIS_CONTINUE;
    char from[1024];

    if (address_envelope(argv[0] ? argv[0] : "", from, sizeof(from)) < 0) {
        milter_refuse(ctx, REFUSED_SENDER, "553", "5.1.7", "Sender address too long");
        return SMFIS_REJECT;
    }
    mc->mail_from = mem_strdup(from);
    mc->body = buf_new(8192);
    buf_set_limit(mc->body, (size_t) milter_globals.cfg->milter_max_message_size);
    /* The one place the direction is decided. Postgate's own services identify their
     * messages by a signed header at the end of the headers. */
    switch (mc->service) {
    case SERVICE_RELEASE:
        mc->direction = DIR_RELEASE;
        return SMFIS_CONTINUE;
    case SERVICE_INJECTION:
        mc->direction = DIR_INJECTION;
        return SMFIS_CONTINUE;
    case SERVICE_FORWARD:
        mc->direction = DIR_FORWARD;
        return SMFIS_CONTINUE;
    case SERVICE_DOVECOT:
        /* Mail a mailbox's Sieve script makes: its envelope sender is the mailbox (Dovecot's
         * sieve_vacation_send_from_recipient and sieve_redirect_envelope_from), which sends
         * it as its own outgoing mail; nothing else is taken here. */
        if (mc->mail_from[0] == '\0' || strchr(mc->mail_from, '@') == NULL) {
            milter_refuse(ctx, REFUSED_SERVICE, "550", "5.7.1", "Only mail of a hosted mailbox is taken here");
            return SMFIS_REJECT;
        }
        if (outgoing_identify(ctx, mc, mc->mail_from, &status) != 1)
            return status;
        mc->direction = DIR_OUTGOING;
        return SMFIS_CONTINUE;
    case SERVICE_SMTP:
        break;
    }
    switch (outgoing_identify(ctx, mc, smfi_getsymval(ctx, "{auth_authen}"), &status)) {
    case 1:
        mc->direction = DIR_OUTGOING;
        return SMFIS_CONTINUE;
    case 0:
        mc->direction = DIR_INCOMING;   /* not sent by a credential: from the Internet */
        return SMFIS_CONTINUE;
    default:
        return status;
    }
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);
    sfsistat status;

    if (mc == NULL)
        return milter_tempfail(ctx, "no connection context");
    milter_reset(mc);
    log_context(ctx, mc);
    status = envfrom(ctx, mc, argv);
    msg_context_clear();
    return status;
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);
    char rcpt[1024];

    if (address_envelope(argv[0] ? argv[0] : "", rcpt, sizeof(rcpt)) == 0 && mc->nrcpts < 100000) {
        mc->rcpts = mem_realloc(mc->rcpts, (mc->nrcpts + 1) * sizeof(char *));
        mc->rcpts[mc->nrcpts++] = mem_strdup(rcpt);
    }
    return noreply(ctx, SMFIP_NR_RCPT);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);
    size_t len = strlen(name) + strlen(value) + 3;

    if (mc->header_bytes + len > (size_t) milter_globals.cfg->milter_max_message_size || mc->nheaders >= 10000) {
        mc->too_big = 1;
    } else {
        mc->headers = mem_realloc(mc->headers, (mc->nheaders + 1) * sizeof(MILTER_HEADER));
        mc->headers[mc->nheaders].name = mem_strdup(name);
        mc->headers[mc->nheaders].value = mem_strdup(value);
        mc->nheaders++;
        mc->header_bytes += len;
    }
    return noreply(ctx, SMFIP_NR_HDR);
}

static sfsistat
eoh(SMFICTX *ctx, MILTER_CTX *mc)
{
    if (mc->too_big) {
        milter_refuse(ctx, REFUSED_SIZE, "552", "5.3.4", "Message headers too large");
        return SMFIS_REJECT;
    }
    switch (mc->direction) {
    case DIR_INJECTION:
        return injection_eoh(ctx, mc);
    case DIR_INCOMING:
        return incoming_eoh(ctx, mc);
    case DIR_OUTGOING:
        return outgoing_eoh(ctx, mc);
    case DIR_FORWARD:
        return forward_eoh(ctx, mc);
    case DIR_RELEASE:
    case DIR_NONE:
        break;
    }
    return SMFIS_CONTINUE;
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);
    sfsistat status;

    log_context(ctx, mc);
    status = eoh(ctx, mc);
    msg_context_clear();
    return status;
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);

    if (!mc->too_big && buf_append(mc->body, data, len) < 0)
        mc->too_big = 1;
    return noreply(ctx, SMFIP_NR_BODY);
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);
    double started = clock_mono();
    sfsistat ret;

    log_context(ctx, mc);
    if (mc->too_big) {
        milter_refuse(ctx, REFUSED_SIZE, "552", "5.3.4", "Message too big for postgate (milter.max_message_size)");
        ret = SMFIS_REJECT;
    } else {
        switch (mc->direction) {
        case DIR_RELEASE:
            ret = release_eom(ctx, mc);
            break;
        case DIR_INCOMING:
            ret = incoming_eom(ctx, mc);
            break;
        case DIR_FORWARD:
            ret = forward_eom(ctx, mc);
            break;
        case DIR_OUTGOING:
        case DIR_INJECTION:
            ret = outgoing_eom(ctx, mc);
            break;
        default:
            ret = milter_tempfail(ctx, "a message without a direction");
            break;
        }
    }
    milter_stats_eom(mc->direction, ret, clock_mono() - started);
    milter_reset(mc);
    msg_context_clear();
    return ret;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);

    if (mc)
        milter_reset(mc);
    return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);

    if (mc) {
        milter_reset(mc);
        mem_free(mc);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

/* "inet:host:port" (postgate's form) -> "inet:port@host" (libmilter's). */
static char *
libmilter_conn(const char *spec)
{
    const char *colon;

    if (strncmp(spec, "inet:", 5) != 0)
        return mem_strdup(spec);
    colon = strrchr(spec + 5, ':');
    if (colon == NULL)
        return mem_strdup(spec);
    return buf_asprintf("inet:%s@%.*s", colon + 1, (int) (colon - spec - 5), spec + 5);
}

/* The return-path domain's key (security.return_path_dkim_key_file), read as root. */
static DKIM_KEY *
load_return_path_key(const PGCONF *cfg)
{
    const char *path = cfg->security_return_path_dkim_key_file;
    char pem[65536], *why = NULL;
    DKIM_KEY *key;
    FILE *fp = fopen(path, "r");
    size_t n;

    if (fp == NULL) {
        msg_warn("%s: %s: mail from domains without a DKIM key leaves unsigned "
                 "(postgatectl initialize creates the key)", path, strerror(errno));
        return NULL;
    }
    n = fread(pem, 1, sizeof(pem) - 1, fp);
    fclose(fp);
    key = dkim_key_load(pem, n, &why);
    memset(pem, 0, sizeof(pem));
    if (key == NULL)
        msg_fatal_status(EX_CONFIG, "%s: %s", path, why);
    return key;
}

/*
 * Postfix's message_size_limit, from `postconf -h` in postfix.config_directory (postconf
 * beside postfix.postqueue_path). Read once at start: restart the milter after changing
 * the limit. 0 when unknown (Postfix on another host): then only Postfix answers 552.
 */
static unsigned long long
postfix_size_limit(const PGCONF *cfg)
{
    const char *slash = strrchr(cfg->postfix_postqueue_path, '/');
    char *postconf = slash ? buf_asprintf("%.*s/postconf", (int) (slash - cfg->postfix_postqueue_path),
                                          cfg->postfix_postqueue_path) : mem_strdup("/usr/sbin/postconf");
    char *argv[] = {postconf, (char *) "-c", (char *) cfg->postfix_config_directory, (char *) "-h",
                    (char *) "message_size_limit", NULL};
    BUF *out = buf_new(64), *err = buf_new(256);
    unsigned long long limit = 0;
    char *end;
    int st = run_capture(argv, 10, 4096, out, err, NULL);

    if (st == 0) {
        limit = strtoull(buf_cstr(out), &end, 10);
        if (end == buf_cstr(out) || (*end != '\n' && *end != '\0'))
            limit = 0, st = -1;
    }
    if (st != 0)
        msg_warn("%s -c %s -h message_size_limit failed (%s): messages are not checked against Postfix's size "
                 "limit before they are recorded", postconf, cfg->postfix_config_directory,
                 buf_len(err) ? buf_cstr(err) : "no output");
    else
        msg_info("Postfix's message_size_limit: %llu bytes%s", limit, limit ? "" : " (none)");
    buf_free(out);
    buf_free(err);
    mem_free(postconf);
    return limit;
}

/* /health: MariaDB answers and the milter's socket is there for Postfix. */
static int
health(void *arg, char **reason_r)
{
    (void) arg;
    if (monitor_check_socket("milter.listen", milter_globals.cfg->milter_listen, reason_r) < 0)
        return -1;
    return monitor_check_db(milter_globals.cfg, reason_r);
}

int
main(int argc, char **argv)
{
    static struct smfiDesc desc = {
        .xxfi_name = "postgate",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_CHGFROM | SMFIF_DELRCPT | SMFIF_SETSYMLIST,
        .xxfi_connect = cb_connect,
        .xxfi_envfrom = cb_envfrom,
        .xxfi_envrcpt = cb_envrcpt,
        .xxfi_header = cb_header,
        .xxfi_eoh = cb_eoh,
        .xxfi_body = cb_body,
        .xxfi_eom = cb_eom,
        .xxfi_abort = cb_abort,
        .xxfi_close = cb_close,
        .xxfi_negotiate = cb_negotiate,
    };
    DAEMON_OPTS opts = {.progname = "postgate-milter"};
    MONITOR *monitor;
    char *error = NULL, *conn;
    int status;

    daemon_parse_args(&opts, argc, argv);
    milter_globals.cfg = daemon_load_config(&opts);
    milter_globals.seal = seal_key_load(milter_globals.cfg->security_secret_key_file, &error);
    if (milter_globals.seal == NULL)
        msg_fatal_status(EX_CONFIG, "%s", error);
    milter_globals.return_path_key = load_return_path_key(milter_globals.cfg);
    if (opts.test_config)
        return daemon_test_result(milter_globals.cfg, 0);
    db_library_init();
    address_init();
    milter_globals.postfix_size_limit = postfix_size_limit(milter_globals.cfg);
    milter_globals.pool = dbpool_new(milter_globals.cfg, 32);
    lookup_init((unsigned) milter_globals.cfg->milter_cache_ttl);
    auth_init();
    milter_stats_init();
    conn = libmilter_conn(milter_globals.cfg->milter_listen);
    if (smfi_register(desc) == MI_FAILURE || smfi_setconn(conn) == MI_FAILURE
        || smfi_settimeout((int) milter_globals.cfg->milter_timeout) == MI_FAILURE)
        msg_fatal("libmilter set-up failed for %s", conn);
    if (smfi_opensocket(1) == MI_FAILURE)
        msg_fatal("cannot listen on %s", milter_globals.cfg->milter_listen);
    daemon_socket_for_postfix(milter_globals.cfg, milter_globals.cfg->milter_listen);
    daemon_drop_privileges(milter_globals.cfg);
    daemon_write_pidfile(&opts);
    monitor = monitor_start("postgate-milter", milter_globals.cfg->milter_monitor_listen, health, NULL);
    msg_info("listening on %s", milter_globals.cfg->milter_listen);
    /* libmilter handles SIGTERM/SIGINT (stop) itself. */
    status = smfi_main() == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
    msg_info("stopped");
    monitor_stop(monitor);
    daemon_remove_pidfile(&opts);
    lookup_done();
    auth_done();
    dbpool_free(milter_globals.pool);
    seal_key_free(milter_globals.seal);
    dkim_key_free(milter_globals.return_path_key);
    conf_unref(milter_globals.cfg);
    mem_free(conn);
    return status;
}
