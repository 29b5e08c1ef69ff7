/*
 * returnpath.c -- bounces and complaints reaching a return path, sent to the module that
 * records them (returnpath.h).
 */
#include "config.h"

#include "mail/complaint.h"
#include "mail/returnpath.h"
#include "util/buf.h"
#include "util/mem.h"

int
returnpath_find_original(DB *db, const DSN *dsn, unsigned long long server_id, unsigned long long rp_message_id,
                         RETURNPATH_REPORT *rep)
{
    int ret;

    rep->original_id = 0;
    if (dsn == NULL || dsn->kind == DSN_NOT_BOUNCE)
        return 0;
    if (rp_message_id) {
        rep->original_id = rp_message_id;
        return 0;
    }
    if (dsn->postal_msgid && (ret = bounce_find_original(db, server_id, dsn->postal_msgid, &rep->original_id)) < 0)
        return ret;
    return 0;
}

int
returnpath_record(DB *db, unsigned long long server_id, unsigned long long report_id, const DSN *dsn,
                  RETURNPATH_REPORT *rep)
{
    int ret;

    if (dsn->kind == DSN_COMPLAINT)
        ret = complaint_record(db, server_id, report_id, rep->original_id, dsn, &rep->linked);
    else
        ret = bounce_record(db, server_id, report_id, rep->original_id, dsn, &rep->linked, &rep->bounce);
    if (ret < 0)
        return ret;
    rep->recorded = ret > 0;
    return 0;
}

char *
returnpath_describe(const DSN *dsn, const RETURNPATH_REPORT *rep)
{
    const DSN_RCPT *dr = dsn_failed_rcpt(dsn, NULL);

    if (dsn->kind == DSN_COMPLAINT)
        return buf_asprintf("a complaint (%s, from %s) of message %llu: %s", dsn->feedback.type,
                            dsn->reporting_mta ? dsn->reporting_mta : "an unnamed reporter", rep->linked,
                            rep->linked == 0 ? "the original is gone; stored only"
                            : rep->recorded ? "recipient suppressed, MessageComplained queued"
                            : "the message was complained about before; no second event");
    return buf_asprintf("a bounce (%s, %s) of message %llu: %s", dsn->kind == DSN_REPORT ? "RFC 3464" : "plain text",
                        dr && dr->status ? dr->status : "no status", rep->linked,
                        rep->linked == 0 ? "the original is gone; stored only"
                        : rep->bounce == BOUNCE_RECORDED ? "Bounced, MessageBounced queued"
                        : rep->bounce == BOUNCE_POSTFIX_NOTICE ? "Postfix's own notice; the log records the failure"
                        : "the original already failed; no second event");
}
