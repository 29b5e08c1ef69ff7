/*
 * outgoing.c -- what postgate-milter does with mail a credential sends, and with
 * held mail re-injected through the release service.
 *
 * Order at the end of a message: refuse spam when the server sets an
 * outbound_spam_threshold (scored as submitted, before anything changes), decide the
 * holds, judge mail that goes only to postgate's routes as the receiving servers judge
 * mail from the Internet (incoming_scan: a refusal, or a verdict signed over the final
 * body), build the final header list, DKIM-sign it (the very last change to the
 * content; folding, wrapping, return path and signing are sign.c), ask Postfix for the
 * changes, then record everything in one transaction. A database failure at any point is a
 * 4xx: Postfix drops the changes with the transaction and the client retries, so
 * nothing is accepted and lost, and nothing is recorded that was not accepted.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/address.h"
#include "mail/forward.h"
#include "mail/hosting.h"
#include "mail/inspection.h"
#include "mail/message.h"
#include "mail/release.h"
#include "mail/sendlimit.h"
#include "mail/submit.h"
#include "mail/suppression.h"
#include "mail/track.h"
#include "milter.h"
#include "util/mem.h"
#include "util/msg.h"

#define HOLD_DEVELOPMENT "Server is in development mode"
#define HOLD_CREDENTIAL "Credential is configured to hold all messages authenticated by it"

/* Headers a client may not set: postgate's own stamps, and the spam and virus verdict
 * headers, which only incoming.c writes (on mail from the Internet): a credential's
 * message to another tenant's route, a send-API submission or a release did not get
 * them from postgate, so they are removed, never stored, never signed. */
static const char *const postgate_headers[] = {"X-Postal-Tag", "X-Postal-MsgID", SUBMIT_HEADER, RELEASE_HEADER,
                                               FORWARD_HEADER};
#define NPOSTGATE_HEADERS (sizeof(postgate_headers) / sizeof(postgate_headers[0]))

int
outgoing_is_postgate_header(const char *name)
{
    for (size_t i = 0; i < NPOSTGATE_HEADERS; i++)
        if (strcasecmp(name, postgate_headers[i]) == 0)
            return 1;
    return inspection_is_verdict_header(name);
}

/* What a release removes: its own header and any verdict (a release bypasses the
 * quarantine that verdict caused; the stored copy of an incoming message has one). */
static int
is_release_stripped(const char *name)
{
    return strcasecmp(name, RELEASE_HEADER) == 0 || inspection_is_verdict_header(name);
}

/* The hold that applies to the whole message: 1 (reason and *kind_r filled), 0 none, 2 a
 * forward over the send limit (deferred, not held), -1 database error. */
static int
message_hold(DB *db, MILTER_CTX *mc, char *reason, size_t len, MILTER_HOLD *kind_r)
{
    long long volume;

    if (mc->server.development) {
        snprintf(reason, len, HOLD_DEVELOPMENT);
        *kind_r = HELD_DEVELOPMENT;
        return 1;
    }
    if (mc->cred.hold) {
        snprintf(reason, len, HOLD_CREDENTIAL);
        *kind_r = HELD_CREDENTIAL;
        return 1;
    }
    if (mc->server.send_limit >= 0) {
        if (sendlimit_volume(db, mc->server.id, &volume) < 0)
            return -1;
        if (volume >= mc->server.send_limit) {
            snprintf(reason, len, "Message held because send limit (%lld) has been reached.", mc->server.send_limit);
            *kind_r = HELD_SEND_LIMIT;
            /* A forward waits in the endpoint queue instead: it is tried again later. */
            return mc->direction == DIR_FORWARD ? 2 : 1;
        }
    }
    return 0;
}

/*
 * Click and open tracking (track.h) when the server has a track domain on the From
 * domain and the message does not say X-AMP: skip. Postfix hands one body to every
 * recipient of a submission, so the pixel and the links name the first recipient's
 * row: its token is the pixel's, the links are stored against it. The rewritten body
 * replaces mc->body. 1 rewritten, 0 not tracked, -1 database error, -2 no random tokens.
 */
static int
track_links(DB *db, MILTER_CTX *mc, const char *token, TRACK_RESULT *r)
{
    TRACK_DOMAIN td;
    TRACK_SETTINGS s;
    int ret;

    memset(r, 0, sizeof(*r));
    if (mc->from_domain_id == 0 || track_skip_header(milter_header_value(mc, "X-AMP")))
        return 0;
    if ((ret = lookup_track_domain(db, mc->server.id, mc->from_domain_id, &td)) <= 0)
        return ret < 0 ? -1 : 0;
    s = (TRACK_SETTINGS) {
        .host = td.host, .ssl = td.ssl, .server_token = mc->server.token, .message_token = token,
        .track_clicks = td.track_clicks, .track_loads = td.track_loads,
        .track_plain = milter_globals.cfg->milter_track_plain_text, .excluded_domains = td.excluded,
    };
    ret = track_rewrite(&s, milter_header_value(mc, "Content-Type"), milter_header_value(mc, "Content-Transfer-Encoding"),
                        buf_data(mc->body), buf_len(mc->body), r);
    trackdomain_clear(&td);
    if (ret < 0)
        return -2;
    if (ret == 1) {
        buf_free(mc->body);
        mc->body = r->body;
        r->body = NULL;
    }
    return ret;
}

/*
 * Postal's outbound_spam_threshold: when the server sets one, spamd scores the message
 * as it was submitted and a score at or over the threshold is refused at SMTP time
 * (Postal hard-fails it later with the same words). 1 answered (*status_r: refused or
 * tempfailed), 0 go on (in->spam_checked when scored).
 */
static int
outbound_spam_check(SMFICTX *ctx, MILTER_CTX *mc, const char *queue_id, INSPECTION *in, sfsistat *status_r)
{
    SPAMD_RESULT *sr;
    const char *why;
    SCAN_STATUS st;
    BUF *msg;
    int refused = 0;

    if (!mc->server.has_outbound_spam_threshold)
        return 0;
    if (!milter_globals.cfg->spamd_enabled) {
        msg_warn("server %s/%s sets outbound_spam_threshold but spamd.enabled is false: not scored",
                 mc->server.org_permalink, mc->server.permalink);
        return 0;
    }
    msg = scan_message(mc);
    sr = mem_zalloc(sizeof(*sr));
    st = scan_spam(queue_id, msg, sr, &why);
    buf_free(msg);
    if (st == SCAN_TEMPFAIL) {
        *status_r = scan_tempfail(ctx);
        refused = 1;
    } else if (st == SCAN_DONE) {
        char score[32], limit[32], reply[160];

        in->spam_checked = 1;
        in->spam_score = sr->score;
        memcpy(in->rules, sr->rules, sr->nrules * sizeof(sr->rules[0]));
        in->nrules = sr->nrules;
        inspection_add_server(in, mc->server.id, 0);
        inspection_decimal(sr->score, 2, score);
        inspection_decimal(mc->server.outbound_spam_threshold, 2, limit);
        if (sr->score >= mc->server.outbound_spam_threshold) {
            msg_info("%s: server %s/%s: credential %llu: spam score %s reaches outbound_spam_threshold %s; refused",
                     queue_id ? queue_id : "-", mc->server.org_permalink, mc->server.permalink, mc->cred.id, score,
                     limit);
            snprintf(reply, sizeof(reply), "Message is likely spam. Threshold is %s and the message scored %s.",
                     limit, score);
            milter_refuse(ctx, REFUSED_SPAM, "550", "5.7.1", reply);
            *status_r = SMFIS_REJECT;
            refused = 1;
        }
    }
    mem_free(sr);
    return refused;
}

/*
 * The verdict of the receiving servers on mail to routes, when the scanners are on:
 * SMFIS_CONTINUE with *fresh_r (mem_free it; NULL when no recipient is a route) or the
 * answer (incoming_scan's). A transaction that also goes elsewhere still gets the verdict
 * headers: Postfix's SMTP client removes them on the way out (smtp_header_checks, set by
 * postgatectl postfix enable), and spam rules that would refuse the whole transaction are
 * left to postgate-worker, which refuses only the route recipients they concern, so one
 * tenant's threshold never stops another's mail to the Internet; so are they for a
 * release (whole = 0: the release was asked for, only the routes' own rules apply). A
 * virus refuses it all. *db is given back to the pool while the scanners work.
 */
static sfsistat
route_verdict(SMFICTX *ctx, MILTER_CTX *mc, const char *queue_id, int whole, DB **db, INCOMING_VERDICT **fresh_r)
{
    sfsistat status = SMFIS_CONTINUE;
    size_t routes = 0, worker_takes = 0;
    int mine;

    *fresh_r = NULL;
    if (!milter_globals.cfg->spamd_enabled && !milter_globals.cfg->clamd_enabled)
        return SMFIS_CONTINUE;
    if ((mine = incoming_targets(ctx, mc, &status)) < 0)
        return status;
    for (size_t i = 0; i < mc->nrcpts; i++) {
        routes += mc->targets[i].kind == INBOUND_ROUTE;
        worker_takes += mc->targets[i].kind == INBOUND_ROUTE || mc->targets[i].kind == INBOUND_RETURN_PATH;
    }
    if (routes == 0 || mine == 0)
        return SMFIS_CONTINUE;
    *fresh_r = mem_zalloc(sizeof(**fresh_r));
    (*fresh_r)->what = "to routes";
    (*fresh_r)->worker_refuses = !whole || worker_takes < mc->nrcpts;
    dbpool_put(milter_globals.pool, *db);       /* spamd may take seconds */
    *db = NULL;
    status = incoming_scan(ctx, mc, queue_id, *fresh_r);
    *db = dbpool_get(milter_globals.pool);
    return status;
}

/*
 * The size of Postfix's queue file after every change the milter asked for, which is
 * what cleanup compares with message_size_limit once the milter has answered ("message
 * file too big"): edits are appended, not made in place, so the file keeps the message
 * as received and gains the replaced body, the changed and added header fields (the
 * signatures among them), plus the envelope and room for Postfix's own records.
 */
#define POSTFIX_OWN_HEADROOM 1024
#define DKIM_SIGNATURES_ALLOWANCE 2048  /* an RSA-2048 and an Ed25519 signature, folded */

static unsigned long long
final_size(const MILTER_CTX *mc, size_t received_body, int body_replaced, size_t changed_headers,
           const char *msgid_value, size_t signatures)
{
    unsigned long long n = POSTFIX_OWN_HEADROOM + mc->header_bytes + 2 + received_body + changed_headers
        + signatures + strlen(mc->mail_from);

    if (body_replaced)
        n += buf_len(mc->body);
    if (msgid_value)
        n += sign_header_size("X-Postal-MsgID", msgid_value);
    for (size_t i = 0; i < mc->nrcpts; i++)
        n += strlen(mc->rcpts[i]) + 2;
    return n;
}

/* 1 (552 answered) when the changed message would pass Postfix's message_size_limit:
 * Postfix would refuse it after the milter recorded it. */
static int
too_big_for_postfix(SMFICTX *ctx, const MILTER_CTX *mc, const char *queue_id, unsigned long long size)
{
    char reply[200];

    if (milter_globals.postfix_size_limit == 0 || size <= milter_globals.postfix_size_limit)
        return 0;
    msg_info("%s: server %s/%s: credential %llu: %llu bytes after postgate's changes, over Postfix's "
             "message_size_limit %llu; refused", queue_id ? queue_id : "-", mc->server.org_permalink,
             mc->server.permalink, mc->cred.id, size, milter_globals.postfix_size_limit);
    snprintf(reply, sizeof(reply), "Message too big: %llu bytes with postgate's headers, signatures and "
             "tracking, over the limit of %llu", size, milter_globals.postfix_size_limit);
    milter_refuse(ctx, REFUSED_SIZE, "552", "5.3.4", reply);
    return 1;
}

sfsistat
outgoing_eom(SMFICTX *ctx, MILTER_CTX *mc)
{
    const char *queue_id = smfi_getsymval(ctx, "{i}");
    DB *db = NULL;
    MESSAGE_RCPT *rcpts = mem_zalloc((mc->nrcpts ? mc->nrcpts : 1) * sizeof(MESSAGE_RCPT));
    char whole_reason[256], (*reasons)[1100] = mem_zalloc((mc->nrcpts ? mc->nrcpts : 1) * sizeof(*reasons));
    char *subject = milter_trimmed(milter_header_value(mc, "Subject"));
    char *message_id = milter_trimmed(milter_header_value(mc, "Message-ID"));
    char *tag = milter_header_value(mc, "X-Postal-Tag") ? milter_trimmed(milter_header_value(mc, "X-Postal-Tag"))
        : NULL;
    char *msgid_value = NULL;
    BUF *stored = NULL, *wrapped = NULL;
    TRACK_RESULT tracked = {0};
    INSPECTION *inspection = mem_zalloc(sizeof(*inspection));
    MESSAGE_INSPECTION inspection_row_v;
    char *spam_checks = NULL;
    size_t held = 0, received_body = 0, changed_headers = 0, signatures, verdict_bytes = 0;
    INCOMING_VERDICT *fresh = NULL;
    sfsistat status = SMFIS_CONTINUE;
    int whole, body_changed = 0, is_tracked = 0;
    MILTER_HOLD whole_kind = HELD_DEVELOPMENT;
    char limit_reason[100];

    if (mc->given_tokens && mc->nrcpts)
        msg_context_set_token(mc->given_tokens[0]);     /* chosen by the send API or the worker */
    if (mc->nrcpts == 0) {
        status = milter_tempfail(ctx, "message without recipients");
        goto out;
    }
    /* Scored before a database connection is taken: spamd may take seconds. */
    if (outbound_spam_check(ctx, mc, queue_id, inspection, &status))
        goto out;
    db = dbpool_get(milter_globals.pool);
    whole = message_hold(db, mc, whole_reason, sizeof(whole_reason), &whole_kind);
    if (whole < 0) {
        status = milter_tempfail(ctx, "send volume: %s", db_error(db));
        goto out;
    }
    if (whole == 2) {
        msg_info("%s: server %s/%s: forward of message %llu deferred: %s", queue_id ? queue_id : "-",
                 mc->server.org_permalink, mc->server.permalink, mc->forwarded_from_id, whole_reason);
        smfi_setreply(ctx, "451", "4.7.0", FORWARD_SEND_LIMIT_REPLY);
        status = SMFIS_TEMPFAIL;
        goto out;
    }
    for (size_t i = 0; i < mc->nrcpts; i++) {
        rcpts[i].address = mc->rcpts[i];
        if (whole) {
            rcpts[i].hold_reason = whole_reason;
        } else {
            char why[1000];
            int s = suppression_check(db, mc->server.id, mc->rcpts[i], why, sizeof(why));

            if (s < 0) {
                status = milter_tempfail(ctx, "suppression list: %s", db_error(db));
                goto out;
            }
            if (s > 0 && mc->direction == DIR_FORWARD) {
                /* Nobody holds a forward for release: the endpoint delivery fails and says why. */
                snprintf(reasons[i], sizeof(reasons[i]), "Recipient is on the suppression list of the server (%s)",
                         why);
                msg_info("%s: server %s/%s: forward of message %llu to <%s> refused: %s", queue_id ? queue_id : "-",
                         mc->server.org_permalink, mc->server.permalink, mc->forwarded_from_id, mc->rcpts[i],
                         reasons[i]);
                milter_refuse(ctx, REFUSED_SUPPRESSED, "550", "5.7.1", reasons[i]);
                status = SMFIS_REJECT;
                goto out;
            }
            if (s > 0) {
                snprintf(reasons[i], sizeof(reasons[i]), "Recipient is on the suppression list (%s)", why);
                rcpts[i].hold_reason = reasons[i];
            }
        }
        held += rcpts[i].hold_reason != NULL;
    }
    /* Mail to routes (a tenant's own or another's): the receiving servers judge it as they
     * judge mail from the Internet (route_verdict). */
    if (held < mc->nrcpts && (status = route_verdict(ctx, mc, queue_id, 1, &db, &fresh)) != SMFIS_CONTINUE)
        goto out;
    if (mc->given_tokens) {
        for (size_t i = 0; i < mc->nrcpts; i++)
            memcpy(rcpts[i].token, mc->given_tokens[i], sizeof(rcpts[i].token));
    } else if (message_new_tokens(rcpts, mc->nrcpts) < 0) {
        status = milter_tempfail(ctx, "random number generator failed");
        goto out;
    }
    msg_context_set_token(rcpts[0].token);      /* the first recipient's, as in Message-ID */
    msgid_value = buf_asprintf(" %s", rcpts[0].token);
    received_body = buf_len(mc->body);
    if (sign_fold_headers(ctx, mc, &changed_headers) < 0) {
        status = milter_tempfail(ctx, "Postfix refused a folded header");
        goto out;
    }

    /* The stored copy is the message as it leaves, minus its DKIM signatures (a release
     * re-signs it): client stamps removed, ours added. */
    stored = buf_new(mc->header_bytes + 64);
    for (size_t h = 0; h < mc->nheaders; h++)
        if (!outgoing_is_postgate_header(mc->headers[h].name))
            milter_store_header(stored, mc->headers[h].name, mc->headers[h].value);
    milter_store_header(stored, "X-Postal-MsgID", msgid_value);

    /* Postal's return path (bounces parsed by postgate-worker) for applications' mail; a
     * mailbox user's mail keeps the mailbox as envelope sender, so that bounces and
     * automatic replies (RFC 3834 answers the envelope sender) reach the person. */
    if (milter_remove_headers(ctx, mc, outgoing_is_postgate_header) < 0 || smfi_addheader(ctx, "X-Postal-MsgID", msgid_value) == MI_FAILURE
        || (!mc->login[0] && sign_return_path(ctx, rcpts[0].token) < 0)) {
        status = milter_tempfail(ctx, "Postfix refused a header or sender change");
        goto out;
    }
    for (size_t i = 0; i < mc->nrcpts; i++) {
        if (rcpts[i].hold_reason && smfi_delrcpt(ctx, mc->rcpts[i]) == MI_FAILURE) {
            status = milter_tempfail(ctx, "Postfix refused to remove held recipient %s", mc->rcpts[i]);
            goto out;
        }
    }
    /* Every body change happens before signing, and Postfix gets the final body once
     * (smfi_replacebody appends when called again). */
    body_changed = track_links(db, mc, rcpts[0].token, &tracked);
    if (body_changed < 0) {
        status = milter_tempfail(ctx, "click tracking: %s",
                                 body_changed == -1 ? db_error(db) : "random number generator failed");
        goto out;
    }
    is_tracked = body_changed;
    if (sign_wrap_body(mc->body, &wrapped)) {
        /* Break what Postfix would otherwise break after signing. */
        buf_free(mc->body);
        mc->body = wrapped;
        wrapped = NULL;
        body_changed = 1;
    }
    /* The receiving servers' verdict is signed over the final body. */
    if (fresh) {
        if (incoming_verdict_headers(ctx, mc, fresh, &verdict_bytes) < 0) {
            status = milter_tempfail(ctx, "Postfix refused a header");
            goto out;
        }
        changed_headers += verdict_bytes;
        incoming_verdict_log(queue_id, mc, fresh);
    }
    /* Nothing is recorded that Postfix would refuse once the milter has answered; and
     * checked before the body goes to Postfix, whose cleanup gives up as soon as its
     * file passes the limit. */
    if (held < mc->nrcpts
        && too_big_for_postfix(ctx, mc, queue_id, final_size(mc, received_body, body_changed, changed_headers,
                                                             msgid_value, DKIM_SIGNATURES_ALLOWANCE))) {
        status = SMFIS_REJECT;
        goto out;
    }
    if (body_changed
        && smfi_replacebody(ctx, (unsigned char *) buf_cstr(mc->body), (int) buf_len(mc->body)) == MI_FAILURE) {
        status = milter_tempfail(ctx, "Postfix refused the rewritten body");
        goto out;
    }
    if (held < mc->nrcpts && sign_message(ctx, db, mc, msgid_value, &signatures) < 0) {
        status = milter_tempfail(ctx, "DKIM signing for %s: %s", mc->from_domain, db_error(db));
        goto out;
    }

    inspection_row(inspection, mc->server.id, &inspection_row_v, &spam_checks);
    MESSAGE_SUBMISSION sub = {
        .server_id = mc->server.id, .credential_id = mc->cred.id, .scope = "outgoing",
        .mail_from = mc->mail_from, .subject = subject, .message_id = message_id, .tag = tag,
        .queue_id = queue_id, .hold_expiry_days = (int) milter_globals.cfg->worker_hold_expiry_days,
        .headers = buf_data(stored), .headers_len = buf_len(stored),
        .body = buf_data(mc->body), .body_len = buf_len(mc->body), .rcpts = rcpts, .nrcpts = mc->nrcpts,
        .links = tracked.links, .nlinks = tracked.nlinks,
        .inspection = inspection->spam_checked ? &inspection_row_v : NULL,
        .forwarded_from_id = mc->forwarded_from_id,
        /* A forward over the limit is deferred above, never held: the check above decides. */
        .send_limit = mc->direction == DIR_FORWARD ? -1 : mc->server.send_limit,
        .send_limit_reason = limit_reason,
    };
    snprintf(limit_reason, sizeof(limit_reason), "Message held because send limit (%lld) has been reached.",
             mc->server.send_limit);
    if (message_store(db, &sub) < 0) {
        status = milter_tempfail(ctx, "storing the message: %s", db_error(db));
        goto out;
    }
    /* Another host's message took the last place under the limit after the check above:
     * the transaction held the rest, and Postfix must not send them. */
    for (size_t i = 0; i < mc->nrcpts && sub.limit_held; i++) {
        if (rcpts[i].hold_reason == limit_reason && smfi_delrcpt(ctx, mc->rcpts[i]) == MI_FAILURE) {
            status = milter_tempfail(ctx, "Postfix refused to remove held recipient %s", mc->rcpts[i]);
            goto out;
        }
    }
    if (sub.limit_held) {
        milter_stats_held(HELD_SEND_LIMIT, sub.limit_held);
        msg_info("%s: server %s/%s: send limit reached while recording: %zu recipient%s held",
                 queue_id ? queue_id : "-", mc->server.org_permalink, mc->server.permalink, sub.limit_held,
                 sub.limit_held == 1 ? "" : "s");
    }
    /* Held for the whole message, or (the only per-recipient hold) suppressed. */
    if (held)
        milter_stats_held(whole ? whole_kind : HELD_SUPPRESSED, held);
    held += sub.limit_held;
    if (mc->direction == DIR_FORWARD)
        msg_info("%s: server %s/%s: forward of message %llu to <%s>: token %s, return path %s@%s%s",
                 queue_id ? queue_id : "-", mc->server.org_permalink, mc->server.permalink, mc->forwarded_from_id,
                 mc->rcpts[0], rcpts[0].token, rcpts[0].token, milter_globals.cfg->dns_return_path_domain,
                 held ? ", held" : "");
    else if (mc->login[0])
        msg_info("%s: server %s/%s: mailbox %s: %zu recipient%s, %zu held, token %s, return path %s%s",
                 queue_id ? queue_id : "-", mc->server.org_permalink, mc->server.permalink, mc->login, mc->nrcpts,
                 mc->nrcpts == 1 ? "" : "s", held, rcpts[0].token, mc->mail_from, is_tracked ? ", tracked" : "");
    else
        msg_info("%s: server %s/%s: credential %llu: %zu recipient%s, %zu held, token %s, return path %s@%s%s",
                 queue_id ? queue_id : "-", mc->server.org_permalink, mc->server.permalink, mc->cred.id, mc->nrcpts,
                 mc->nrcpts == 1 ? "" : "s", held, rcpts[0].token, rcpts[0].token,
                 milter_globals.cfg->dns_return_path_domain, is_tracked ? ", tracked" : "");
    if (held == mc->nrcpts)
        status = SMFIS_DISCARD;     /* every recipient held: postgate keeps it, Postfix sends nothing */
out:
    if (db)
        dbpool_put(milter_globals.pool, db);
    buf_free(stored);
    buf_free(wrapped);
    track_result_free(&tracked);
    mem_free(msgid_value);
    mem_free(subject);
    mem_free(message_id);
    mem_free(tag);
    mem_free(rcpts);
    mem_free(reasons);
    mem_free(inspection);
    mem_free(spam_checks);
    mem_free(fresh);
    return status;
}

/* The released rows, marked together. */
typedef struct release_txn {
    const unsigned long long *ids;
    size_t n;
    const char *queue_id;
} RELEASE_TXN;

static int
release_txn(DB *db, void *arg)
{
    const RELEASE_TXN *t = arg;
    int ret = 0;

    for (size_t i = 0; i < t->n && ret >= 0; i++)
        ret = message_mark_released(db, t->ids[i], t->queue_id);
    return ret < 0 ? ret : 0;
}

sfsistat
release_eom(SMFICTX *ctx, MILTER_CTX *mc)
{
    const char *queue_id = smfi_getsymval(ctx, "{i}");
    char *token = milter_trimmed(milter_header_value(mc, "X-Postal-MsgID")), released[17];
    DB *db = dbpool_get(milter_globals.pool);
    unsigned long long *ids = mem_zalloc((mc->nrcpts ? mc->nrcpts : 1) * sizeof(*ids));
    unsigned long long server_id = 0;
    size_t signatures, changed_headers;
    INCOMING_VERDICT *fresh = NULL;
    sfsistat status = SMFIS_CONTINUE;
    int ret = 0, error = 0;

    if (*token == '\0' || mc->nrcpts == 0 || milter_header_value(mc, RELEASE_HEADER) == NULL
        || !release_header_verify(milter_globals.seal, milter_header_value(mc, RELEASE_HEADER), released)) {
        msg_warn("release service: a message without a valid %s header was refused", RELEASE_HEADER);
        milter_refuse(ctx, REFUSED_SERVICE, "550", "5.7.1", "The release service only takes held postgate messages");
        status = SMFIS_REJECT;
        goto out;
    }
    msg_context_set_token(token);
    for (size_t i = 0; i < mc->nrcpts; i++) {
        unsigned long long sid;

        ret = message_find_held(db, released, mc->rcpts[i], &ids[i], &sid);
        if (ret <= 0)
            break;
        server_id = sid;
    }
    if (ret < 0) {
        status = milter_tempfail(ctx, "held message lookup: %s", db_error(db));
        goto out;
    }
    if (ret == 0) {
        milter_refuse(ctx, REFUSED_SERVICE, "550", "5.7.1", "No held message matches this release");
        status = SMFIS_REJECT;
        goto out;
    }
    if ((ret = lookup_server(db, server_id, &mc->server)) <= 0) {
        status = milter_tempfail(ctx, "server %llu: %s", server_id, ret < 0 ? db_error(db) : "gone");
        goto out;
    }
    /* Routes among the recipients judge the released mail afresh (it lost every verdict). */
    if ((status = route_verdict(ctx, mc, queue_id, 0, &db, &fresh)) != SMFIS_CONTINUE)
        goto out;
    /* Signed as at first submission: the From domain's keys. */
    if (!sender_addresses_owned(db, mc, "From", &error) && !error && mc->server.allow_sender)
        sender_addresses_owned(db, mc, "Sender", &error);
    if (error || milter_remove_headers(ctx, mc, is_release_stripped) < 0 || sign_fold_headers(ctx, mc, &changed_headers) < 0
        || (fresh && incoming_verdict_headers(ctx, mc, fresh, NULL) < 0)
        || sign_return_path(ctx, token) < 0 || sign_message(ctx, db, mc, NULL, &signatures) < 0) {
        status = milter_tempfail(ctx, "release of %s: %s", token, db_error(db));
        goto out;
    }
    if (fresh)
        incoming_verdict_log(queue_id, mc, fresh);
    RELEASE_TXN rt = {.ids = ids, .n = mc->nrcpts, .queue_id = queue_id};

    if ((ret = db_transaction(db, release_txn, &rt)) < 0) {
        status = milter_tempfail(ctx, "recording the release of %s: %s", token, db_error(db));
        goto out;
    }
    msg_info("%s: released %zu held recipient%s of %s", queue_id ? queue_id : "-", mc->nrcpts,
             mc->nrcpts == 1 ? "" : "s", token);
out:
    if (db)
        dbpool_put(milter_globals.pool, db);
    mem_free(ids);
    mem_free(token);
    mem_free(fresh);
    return status;
}

sfsistat
forward_eom(SMFICTX *ctx, MILTER_CTX *mc)
{
    if (mc->forward.kind == FORWARD_KIND_REPORT) {
        /* A report from postgate-worker (null sender): only its header goes. */
        if (milter_remove_headers(ctx, mc, outgoing_is_postgate_header) < 0)
            return milter_tempfail(ctx, "Postfix refused to remove a header");
        return SMFIS_CONTINUE;
    }
    return outgoing_eom(ctx, mc);
}
