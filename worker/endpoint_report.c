/*
 * endpoint_report.c -- the report of a permanent endpoint failure (endpoint_int.h): an
 * RFC 3464 delivery status notification (ndr.h) to the original sender, from <>, handed
 * to Postfix's forward service with postgate's sealed header; the failed delivery's
 * outcome waits in the report's transfer and is recorded with what became of the report.
 *
 * Contract: ep_report_start() takes the outcome on 0 (recorded by ep_report_done()), and
 * leaves it, possibly with a note why no report goes, on -1.
 * Must never: report to an empty or unauthenticated sender (backscatter).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "endpoint_int.h"
#include "httpsend.h"
#include "mail/forward.h"
#include "mail/message.h"
#include "mail/ndr.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

/* Starts the report of a permanent failure; the outcome is recorded when it ends.
 * 0 started; -1 not (the outcome is queued at once with a note). */
int
ep_report_start(ENDPOINTS_TASK *t, TRANSFER *orig, OUTCOME *o, const char *status, const char *diagnostic,
             const PGCONF *cfg)
{
    NDR n = {.reporting_mta = t->env->host, .from = orig->postmaster, .sender = orig->mail_from, .recipient = orig->rcpt_to,
             .status = status, .diagnostic = diagnostic, .details = o->details,
             .original_message_id = orig->message_id, .original = orig->raw, .original_len = orig->raw_len};
    TRANSFER *tr;
    char *url;

    if (!ndr_wanted(orig->mail_from))
        return -1;
    if (!orig->report_ok) {
        /* Never to a sender nobody authenticated: it may be forged (backscatter). */
        char *details = buf_asprintf("%s (no report: %s)", o->details, orig->report_why);

        mem_free(o->details);
        o->details = details;
        return -1;
    }
    if ((url = ep_service_url(cfg->postfix_forward_address, t->env->host)) == NULL) {
        char *details = buf_asprintf("%s (no report: postfix.forward_address is not inet:host:port)", o->details);

        mem_free(o->details);
        o->details = details;
        return -1;
    }
    tr = mem_zalloc(sizeof(*tr));
    tr->kind = KIND_REPORT;
    tr->job = orig->job;
    tr->target = mem_strdup(orig->mail_from);
    {
        /* The forward service takes only mail with postgate's header. */
        FORWARD_INFO fi = {.kind = FORWARD_KIND_REPORT, .server_id = orig->job.server_id,
                           .message_id = orig->job.message_id, .time = (long long) time(NULL)};
        char *report = ndr_build(&n, &tr->len), *header;
        BUF *data;

        snprintf(fi.rcpt, sizeof(fi.rcpt), "%s", orig->mail_from);
        if (token_generate(fi.token, MESSAGE_TOKEN_LEN, TOKEN_LOWER_ALNUM) < 0)
            memset(fi.token, 'x', MESSAGE_TOKEN_LEN);   /* unused in a report; the MAC still holds */
        header = forward_header_make(t->env->seal, &fi);
        data = buf_new(tr->len + strlen(header) + 64);
        buf_printf(data, FORWARD_HEADER ": %s\r\n", header);
        buf_append(data, report, tr->len);
        tr->data = buf_steal(data, &tr->len);
        mem_free(report);
        mem_free(header);
    }
    tr->pending = *o;
    memset(o, 0, sizeof(*o));
    ep_smtp_setup(tr, url, "", orig->mail_from);
    mem_free(url);
    if (ep_transfer_add(t, tr) < 0) {
        *o = tr->pending;
        memset(&tr->pending, 0, sizeof(tr->pending));
        ep_transfer_free(tr);
        return -1;
    }
    return 0;
}

void
ep_report_done(ENDPOINTS_TASK *t, TRANSFER *tr, CURLcode result, long code)
{
    OUTCOME o = tr->pending;
    char *details;

    memset(&tr->pending, 0, sizeof(tr->pending));
    if (result == CURLE_OK) {
        details = buf_asprintf("%s A delivery status notification was sent to %s.", o.details, tr->target);
    } else {
        details = buf_asprintf("%s The delivery status notification to %s could not be handed to Postfix: %s (%ld).",
                               o.details, tr->target, httpsend_error(&tr->x, result), code);
        msg_context_set_token(o.token);
        msg_warn("endpoints: message %llu: report to %s: %s", tr->job.message_id, tr->target,
                 httpsend_error(&tr->x, result));
        msg_context_clear();
    }
    mem_free(o.details);
    o.details = details;
    ep_outcome_push(t, &o);
}
