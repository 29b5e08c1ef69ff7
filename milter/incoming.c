/*
 * incoming.c -- what postgate-milter does with mail from the Internet (no credential)
 * for postgate's routes, return paths and hosted mailboxes: spam and virus checks at SMTP
 * time. Mail for a mailbox goes from Postfix straight to Dovecot, whose Sieve files it
 * into the mailbox's Junk folder when X-Postal-Spam says yes (postgatectl dovecot enable);
 * an organization's hosted domain has no server and is judged by a new server's thresholds.
 *
 * At the end of the headers every recipient is resolved (inbound.h, cached); a
 * message with none of postgate's recipients passes untouched. At the end of the
 * message it is scanned once by clamd and once by spamd, then:
 *   - a virus: 554 5.7.1 naming the signature (refused now, so no backscatter);
 *   - a score at or over a recipient server's spam_failure_threshold: 550 5.7.1;
 *   - a score over a recipient server's spam_threshold for a route in Fail mode: 550 5.7.1
 *     (neither score rule applies to a return path without a route: bounces are not refused;
 *     both are inspection_refuses(), which postgate-worker applies per LMTP recipient when
 *     a tenant's transaction also goes outside: see outgoing.c);
 *   - otherwise accepted with Postal's X-Postal-Spam / -Spam-Threshold / -Spam-Score /
 *     X-Postal-Threat headers (when the scanners are on; on top, as a receiving host's
 *     fields go) and the signed
 *     X-Postgate-Inspection header (inspection.h, always), from which postgate-worker
 *     records the verdict per recipient, holds the mail of routes in Quarantine mode,
 *     and learns whether the sender passed SPF or DKIM (auth.c), which decides whether
 *     a failed endpoint delivery may be reported to it; the same results go on top as an
 *     Authentication-Results field (RFC 8601) for the recipients, replacing any that
 *     claims to come from this host.
 * One SMTP transaction gets one answer: when recipients of several servers or routes
 * disagree, the strictest outcome wins (any refusal refuses the whole message), which
 * is safe because the sender is told; nothing is dropped silently. The visible headers
 * then show the lowest spam_threshold among the servers (the worker still decides per
 * server from the signed verdict).
 *
 * Must never: let X-Postal-Spam*, X-Postal-Threat* or X-Postgate-Inspection headers
 * from the sender through (they are removed first, even when scanning is off), or
 * answer 5xx for a lookup or scanner failure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/delivery.h"
#include "mail/forward.h"
#include "mail/inspection.h"
#include "mail/message.h"
#include "milter.h"
#include "util/mem.h"
#include "util/msg.h"

/* What incoming mail may not bring: verdicts only the milter writes, and the header
 * only postgate-worker writes on the forward service. */
static int
is_incoming_stripped(const char *name)
{
    return inspection_is_verdict_header(name) || strcasecmp(name, FORWARD_HEADER) == 0;
}

/* 1 when an Authentication-Results value claims to come from authserv_id (RFC 8601
 * section 5: such fields from outside must go, they could fake our results). */
static int
claims(const char *value, const char *authserv_id)
{
    size_t n;

    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
        value++;
    n = strcspn(value, "; \t\r\n");
    return n == strlen(authserv_id) && strncasecmp(value, authserv_id, n) == 0;
}

/*
 * Replaces every Authentication-Results field that claims to be ours with ours (RFC 8601),
 * on top: spf= for the envelope sender, dkim= for the signature the result is about.
 */
static int
claims_ours(const MILTER_HEADER *field, void *authserv_id)
{
    return strcasecmp(field->name, "Authentication-Results") == 0 && claims(field->value, authserv_id);
}

static int
authentication_results(SMFICTX *ctx, const MILTER_CTX *mc, const MILTER_AUTH *auth, const char *authserv_id)
{
    static const char name[] = "Authentication-Results";
    int ret;
    char *value;

    if (milter_remove_fields(ctx, mc, claims_ours, (void *) authserv_id) < 0)
        return -1;
    value = buf_asprintf(" %s;\n\tspf=%s smtp.mailfrom=%s;\n\tdkim=%s%s%s", authserv_id, auth->spf,
                         mc->mail_from[0] ? mc->mail_from : "<>", auth->dkim, auth->dkim_domain[0] ? " header.d=" : "",
                         auth->dkim_domain);
    ret = smfi_insheader(ctx, 0, (char *) name, value) == MI_FAILURE ? -1 : 0;
    mem_free(value);
    return ret;
}

int
incoming_targets(SMFICTX *ctx, MILTER_CTX *mc, sfsistat *status_r)
{
    DB *db = dbpool_get(milter_globals.pool);
    int mine = 0;

    mem_free(mc->targets);
    mc->targets = mem_zalloc((mc->nrcpts ? mc->nrcpts : 1) * sizeof(*mc->targets));
    for (size_t i = 0; i < mc->nrcpts; i++) {
        int ret = lookup_inbound(db, mc->rcpts[i], &mc->targets[i]);

        if (ret < 0) {
            *status_r = milter_tempfail(ctx, "incoming recipient %s: %s", mc->rcpts[i], db_error(db));
            dbpool_put(milter_globals.pool, db);
            return -1;
        }
        if (ret == 0)
            mc->targets[i].kind = 0;
        mine += ret > 0;
    }
    dbpool_put(milter_globals.pool, db);
    return mine;
}

sfsistat
incoming_eoh(SMFICTX *ctx, MILTER_CTX *mc)
{
    sfsistat st = SMFIS_CONTINUE;
    int mine = incoming_targets(ctx, mc, &st);

    if (mine < 0)
        return st;
    /* Mail for somebody else on this Postfix host (local users, say): not postgate's. Mail
     * for hosted mailboxes is (INBOUND_MAILBOX): checked here, filed by Dovecot's Sieve. */
    return mine ? SMFIS_CONTINUE : SMFIS_ACCEPT;
}

/* Adds "name: value" on top, below those added before it (*at counts them), where a receiving
 * host's fields go: the sender's header block stays byte for byte at the end of the header
 * (a mailbox's copy ends with exactly what was sent); *added grows by the field's size. */
static int
add_header(SMFICTX *ctx, int *at, const char *name, const char *value, size_t *added)
{
    char *v = buf_asprintf(" %s", value);
    int ret = smfi_insheader(ctx, (*at)++, (char *) name, v) == MI_FAILURE ? -1 : 0;

    *added += strlen(name) + strlen(v) + 3;
    mem_free(v);
    return ret;
}

/* The verdict per recipient server; refuses (*reply filled) when one server's or route's
 * rule says so (inspection_refuses), unless v->worker_refuses: then the worker applies the
 * rules per LMTP recipient. 1 refuse, 0 accept, -1 database error. */
static int
decide(DB *db, MILTER_CTX *mc, INCOMING_VERDICT *v, char *reply, size_t size)
{
    INSPECTION *in = &v->in;
    int have_lowest = 0;

    v->any_spam = 0;
    v->lowest = 0;
    for (size_t i = 0; i < mc->nrcpts; i++) {
        const INBOUND_TARGET *t = &mc->targets[i];
        SERVER server;
        int ret, spam;

        if (t->kind == 0)
            continue;
        if (t->kind == INBOUND_MAILBOX && t->server_id == 0) {
            /* An organization's hosted domain: a new server's thresholds. */
            memset(&server, 0, sizeof(server));
            server.spam_threshold = SERVER_DEFAULT_SPAM_THRESHOLD;
            server.spam_failure_threshold = SERVER_DEFAULT_SPAM_FAILURE_THRESHOLD;
            snprintf(server.org_permalink, sizeof(server.org_permalink), "-");
            snprintf(server.permalink, sizeof(server.permalink), "-");
        } else if ((ret = lookup_server(db, t->server_id, &server)) < 0) {
            return -1;
        } else if (ret == 0) {
            continue;           /* deleted since the lookup: the worker will not take it either */
        }
        if (!have_lowest || server.spam_threshold < v->lowest)
            v->lowest = server.spam_threshold;
        have_lowest = 1;
        if (!in->spam_checked)
            continue;
        spam = in->spam_score > server.spam_threshold;
        v->any_spam |= spam;
        if (server.id)
            inspection_add_server(in, server.id, spam);
        if (!v->worker_refuses && inspection_refuses(in, &server, t, reply, size)) {
            msg_info("server %s/%s: <%s>: %s", server.org_permalink, server.permalink, mc->rcpts[i], reply);
            return 1;
        }
    }
    return 0;
}

sfsistat
incoming_scan(SMFICTX *ctx, MILTER_CTX *mc, const char *queue_id, INCOMING_VERDICT *v)
{
    const char *qid = queue_id ? queue_id : "-";
    SPAMD_RESULT *sr = mem_zalloc(sizeof(*sr));
    char *virus = NULL, reply[256];
    BUF *msg;
    DB *db = NULL;
    sfsistat status = SMFIS_CONTINUE;
    int ret;

    msg = milter_globals.cfg->spamd_enabled || milter_globals.cfg->clamd_enabled ? scan_message(mc) : buf_new(1);
    /* Viruses first: clamd is local and quick, and an infected message needs no score. */
    v->vs = scan_virus(queue_id, msg, &virus, &v->virus_why);
    if (v->vs == SCAN_TEMPFAIL) {
        status = scan_tempfail(ctx);
        goto out;
    }
    if (v->vs == SCAN_DONE && virus) {
        char name[128];

        inspection_safe_name(virus, name, sizeof(name));
        msg_info("%s: %s from=<%s>: virus %s found by clamd; refused", qid, v->what, mc->mail_from, name);
        snprintf(reply, sizeof(reply), "Message rejected: virus found (%s)", name);
        milter_refuse(ctx, REFUSED_VIRUS, "554", "5.7.1", reply);
        status = SMFIS_REJECT;
        goto out;
    }
    v->in.threat_checked = v->vs == SCAN_DONE;

    v->ss = scan_spam(queue_id, msg, sr, &v->spam_why);
    if (v->ss == SCAN_TEMPFAIL) {
        status = scan_tempfail(ctx);
        goto out;
    }
    if (v->ss == SCAN_DONE) {
        v->in.spam_checked = 1;
        v->in.spam_score = sr->score;
        memcpy(v->in.rules, sr->rules, sr->nrules * sizeof(sr->rules[0]));
        v->in.nrules = sr->nrules;
    }

    db = dbpool_get(milter_globals.pool);
    ret = decide(db, mc, v, reply, sizeof(reply));
    if (ret < 0) {
        status = milter_tempfail(ctx, "server lookup: %s", db_error(db));
        goto out;
    }
    if (ret > 0) {
        milter_refuse(ctx, REFUSED_SPAM, "550", "5.7.1", reply);
        status = SMFIS_REJECT;
        goto out;
    }
out:
    if (db)
        dbpool_put(milter_globals.pool, db);
    buf_free(msg);
    mem_free(virus);
    mem_free(sr);
    return status;
}

int
incoming_verdict_headers(SMFICTX *ctx, const MILTER_CTX *mc, const INCOMING_VERDICT *v, size_t *added_r)
{
    const INSPECTION *in = &v->in;
    char *signed_value, num[32];
    size_t added = 0;
    int ret = 0, at = 0;

    /* Postal's headers, then the signed verdict the worker trusts. */
    if (v->ss != SCAN_DISABLED) {
        if (in->spam_checked) {
            ret |= add_header(ctx, &at, "X-Postal-Spam", v->any_spam ? "yes" : "no", &added);
            inspection_decimal(v->lowest, 2, num);
            ret |= add_header(ctx, &at, "X-Postal-Spam-Threshold", num, &added);
            inspection_decimal(in->spam_score, 2, num);
            ret |= add_header(ctx, &at, "X-Postal-Spam-Score", num, &added);
        } else {
            ret |= add_header(ctx, &at, "X-Postal-Spam", "unchecked", &added);
            ret |= add_header(ctx, &at, "X-Postal-Spam-Details", v->spam_why ? v->spam_why : "not checked", &added);
        }
    }
    if (v->vs != SCAN_DISABLED) {
        ret |= add_header(ctx, &at, "X-Postal-Threat", in->threat_checked ? "no" : "unchecked", &added);
        if (!in->threat_checked)
            ret |= add_header(ctx, &at, "X-Postal-Threat-Details", v->virus_why ? v->virus_why : "not checked", &added);
    }
    signed_value = inspection_header_make(milter_globals.seal, in, buf_data(mc->body), buf_len(mc->body));
    if (smfi_insheader(ctx, at, (char *) INSPECTION_HEADER, signed_value) == MI_FAILURE)
        ret = -1;
    added += strlen(INSPECTION_HEADER) + strlen(signed_value) + 3 + 8;
    mem_free(signed_value);
    if (added_r)
        *added_r = added;
    return ret < 0 ? -1 : 0;
}

/* "yes (score 3.2)", "off", "unchecked (why)"; "none" ... for the log line. */
static void
verdict_text(const INCOMING_VERDICT *v, char *spam, char *virus, size_t size)
{
    char num[32];

    inspection_decimal(v->in.spam_score, 2, num);
    if (v->in.spam_checked)
        snprintf(spam, size, "%s (score %s)", v->any_spam ? "yes" : "no", num);
    else if (v->ss == SCAN_DISABLED)
        snprintf(spam, size, "off");
    else
        snprintf(spam, size, "unchecked (%s)", v->spam_why ? v->spam_why : "?");
    if (v->vs == SCAN_DISABLED)
        snprintf(virus, size, "off");
    else if (v->in.threat_checked)
        snprintf(virus, size, "none");
    else
        snprintf(virus, size, "unchecked (%s)", v->virus_why ? v->virus_why : "?");
}

void
incoming_verdict_log(const char *queue_id, const MILTER_CTX *mc, const INCOMING_VERDICT *v)
{
    char spam[96], virus[96];

    verdict_text(v, spam, virus, sizeof(spam));
    msg_info("%s: %s from=<%s>: %zu recipient%s; spam %s; virus %s", queue_id ? queue_id : "-", v->what,
             mc->mail_from, mc->nrcpts, mc->nrcpts == 1 ? "" : "s", spam, virus);
}

/* The copy kept in the history: the header as received without the fields the milter
 * removed (the sender's verdicts, Authentication-Results claiming to be ours). */
static BUF *
stored_header(const MILTER_CTX *mc, const char *authserv_id)
{
    BUF *b = buf_new(mc->header_bytes + 64);

    for (size_t h = 0; h < mc->nheaders; h++)
        if (!is_incoming_stripped(mc->headers[h].name) && !claims_ours(&mc->headers[h], (void *) authserv_id))
            milter_store_header(b, mc->headers[h].name, mc->headers[h].value);
    return b;
}

/* One server's hosted recipients as incoming rows (Pending until Postfix's log says where
 * they went: delivery.c finds them by queue ID, as it finds outgoing rows). 0 or < 0. */
static int
store_for_server(DB *db, const MILTER_CTX *mc, const char *queue_id, const INCOMING_VERDICT *v,
                 const MILTER_AUTH *auth, unsigned long long server_id, const BUF *header)
{
    MESSAGE_RCPT *rows = mem_zalloc(mc->nrcpts * sizeof(*rows));
    char *subject = milter_trimmed(milter_header_value(mc, "Subject"));
    char *message_id = milter_trimmed(milter_header_value(mc, "Message-ID"));
    char *spam_checks = NULL;
    MESSAGE_INSPECTION row;
    size_t n = 0;
    int ret;

    for (size_t i = 0; i < mc->nrcpts; i++)
        if (mc->targets[i].kind == INBOUND_MAILBOX && mc->targets[i].server_id == server_id)
            rows[n++].address = mc->rcpts[i];
    inspection_row(&v->in, server_id, &row, &spam_checks);
    MESSAGE_SENDER_AUTH sender = {.spf = auth->spf, .dkim = auth->dkim,
                                  .dkim_domain = auth->dkim_domain[0] ? auth->dkim_domain : NULL};
    MESSAGE_SUBMISSION sub = {
        .server_id = server_id, .scope = "incoming", .mail_from = mc->mail_from, .subject = subject,
        .message_id = message_id, .queue_id = queue_id,
        .hold_expiry_days = (int) milter_globals.cfg->worker_hold_expiry_days,
        .headers = buf_data(header), .headers_len = buf_len(header),
        .body = buf_data(mc->body), .body_len = buf_len(mc->body), .rcpts = rows, .nrcpts = n,
        .inspection = v->in.spam_checked || v->in.threat_checked ? &row : NULL,
        .sender_auth = auth->spf[0] ? &sender : NULL,
    };
    ret = message_new_tokens(rows, n) < 0 ? DB_ERR_TEMP : message_store(db, &sub);
    if (ret >= 0)
        msg_info("%s: incoming for mailboxes of server %llu: %zu recipient%s, token %s", queue_id, server_id, n,
                 n == 1 ? "" : "s", rows[0].token);
    mem_free(rows);
    mem_free(subject);
    mem_free(message_id);
    mem_free(spam_checks);
    return ret < 0 ? ret : 0;
}

/*
 * Mail for the mailboxes of a server's hosted domains goes into that server's message
 * history, as mail for its routes does (the worker stores that): one transaction per
 * server, before Postfix is answered; should a later one fail, the earlier ones are taken
 * back and the sender gets a 4xx. An organization's hosted domain has no server, so its
 * mail has no history. SMFIS_CONTINUE or the tempfail.
 */
static sfsistat
record_hosted(SMFICTX *ctx, MILTER_CTX *mc, const char *queue_id, const INCOMING_VERDICT *v,
              const MILTER_AUTH *auth, const char *authserv_id)
{
    DB *db = NULL;
    BUF *header = NULL;
    sfsistat status = SMFIS_CONTINUE;

    for (size_t i = 0; i < mc->nrcpts && status == SMFIS_CONTINUE; i++) {
        unsigned long long server_id = mc->targets[i].server_id;
        size_t first = 0;
        int ret;

        if (mc->targets[i].kind != INBOUND_MAILBOX || server_id == 0)
            continue;
        while (first < i && !(mc->targets[first].kind == INBOUND_MAILBOX && mc->targets[first].server_id == server_id))
            first++;
        if (first < i)
            continue;           /* this server's rows are stored */
        if (queue_id == NULL)
            return milter_tempfail(ctx, "no queue ID for the mailboxes' message history");
        if (db == NULL) {
            db = dbpool_get(milter_globals.pool);
            header = stored_header(mc, authserv_id);
        }
        if ((ret = store_for_server(db, mc, queue_id, v, auth, server_id, header)) < 0) {
            status = milter_tempfail(ctx, "storing the message for mailboxes: %s", db_error(db));
            if (delivery_forget_refused(db, queue_id) < 0)
                msg_warn("%s: rows stored for other servers' mailboxes stay Pending: %s", queue_id, db_error(db));
        }
    }
    if (db)
        dbpool_put(milter_globals.pool, db);
    buf_free(header);
    return status;
}

sfsistat
incoming_eom(SMFICTX *ctx, MILTER_CTX *mc)
{
    const char *queue_id = smfi_getsymval(ctx, "{i}"), *host = smfi_getsymval(ctx, "{j}");
    const char *authserv_id = host && *host ? host : milter_globals.cfg->dns_smtp_server_hostname;
    INCOMING_VERDICT *v = mem_zalloc(sizeof(*v));
    sfsistat status = SMFIS_CONTINUE;
    MILTER_AUTH auth;
    char spam[96], virus[96];

    v->what = "incoming";
    if (milter_remove_headers(ctx, mc, is_incoming_stripped) < 0) {
        status = milter_tempfail(ctx, "Postfix refused to remove a header");
        goto out;
    }
    /* Who sent it, for the reports after a failed endpoint delivery (no backscatter). */
    auth_check(mc, &auth);
    snprintf(v->in.spf, sizeof(v->in.spf), "%s", auth.spf);
    snprintf(v->in.dkim, sizeof(v->in.dkim), "%s", auth.dkim);
    snprintf(v->in.dkim_domain, sizeof(v->in.dkim_domain), "%s", auth.dkim_domain);
    if (authentication_results(ctx, mc, &auth, authserv_id) < 0) {
        status = milter_tempfail(ctx, "Postfix refused the Authentication-Results header");
        goto out;
    }
    if ((status = incoming_scan(ctx, mc, queue_id, v)) != SMFIS_CONTINUE)
        goto out;
    if (incoming_verdict_headers(ctx, mc, v, NULL) < 0) {
        status = milter_tempfail(ctx, "Postfix refused a header");
        goto out;
    }
    if ((status = record_hosted(ctx, mc, queue_id, v, &auth, authserv_id)) != SMFIS_CONTINUE)
        goto out;
    verdict_text(v, spam, virus, sizeof(spam));
    msg_info("%s: incoming from=<%s>: %zu recipient%s; spam %s; virus %s; spf %s; dkim %s%s%s",
             queue_id ? queue_id : "-", mc->mail_from, mc->nrcpts, mc->nrcpts == 1 ? "" : "s", spam, virus, auth.spf,
             auth.dkim, auth.dkim_domain[0] ? " d=" : "", auth.dkim_domain);
out:
    mem_free(v);
    return status;
}
