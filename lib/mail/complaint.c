/*
 * complaint.c -- a spam complaint recorded against its original message (complaint.h).
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mail/complaint.h"
#include "mail/event.h"
#include "mail/suppression.h"
#include "mail/turn.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/utf8.h"

char *
complaint_reason(const DSN *dsn)
{
    const DSN_FEEDBACK *f = &dsn->feedback;
    BUF *b = buf_new(256);
    size_t n;
    char *out;

    buf_printf(b, "Spam complaint (%s)", f->type ? f->type : "abuse");
    if (dsn->reporting_mta)
        buf_printf(b, " reported by %s", dsn->reporting_mta);
    if (f->user_agent)
        buf_printf(b, " (%s)", f->user_agent);
    out = buf_steal(b, &n);
    out[utf8_cut(out, n, SUPPRESSION_REASON_MAX)] = '\0';     /* the column's limit */
    return out;
}

static int
queue_event(DB *db, unsigned long long server_id, unsigned long long original_id, unsigned long long report_id,
            const DSN *dsn)
{
    const DSN_FEEDBACK *f = &dsn->feedback;
    json_t *original, *report, *payload;
    int ret;

    if ((ret = event_message_object(db, original_id, &original)) <= 0)
        return ret < 0 ? ret : DB_ERR_PERM;
    if ((ret = event_message_object(db, report_id, &report)) <= 0) {
        json_decref(original);
        return ret < 0 ? ret : DB_ERR_PERM;
    }
    /* Shaped like MessageBounced's {original_message, bounce}, plus the report's fields. */
    payload = json_pack("{s:o, s:o, s:{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}}", "original_message", original,
                        "complaint", report, "feedback", "type", f->type, "user_agent", f->user_agent,
                        "reporting_mta", dsn->reporting_mta, "source_ip", f->source_ip, "arrival_date",
                        f->arrival_date, "original_rcpt_to", f->original_rcpt_to, "original_mail_from",
                        f->original_mail_from);
    if (payload == NULL)
        return DB_ERR_PERM;
    ret = event_queue(db, server_id, EVENT_MESSAGE_COMPLAINED, payload);
    json_decref(payload);
    return ret < 0 ? ret : 0;
}

int
complaint_record(DB *db, unsigned long long server_id, unsigned long long report_id, unsigned long long original_id,
                 const DSN *dsn, unsigned long long *original_r)
{
    DB_RESULT *res = NULL, *dup = NULL;
    char address[SUPPRESSION_ADDRESS_MAX + 1], *why = NULL, *reason = NULL;
    const char *rcpt;
    int ret;

    *original_r = 0;
    /* The original's turn first: its row is only read here, so on Galera two reports of one
     * message on two nodes would not otherwise conflict, and both would queue the event. */
    if ((ret = turn_take(db, TURN_COMPLAINT, original_id)) < 0)
        goto out;
    ret = db_query(db, &res, "SELECT id, rcpt_to FROM messages WHERE id = ? AND server_id = ? AND scope = 'outgoing' "
                   "FOR UPDATE", DB_ARGS(DB_UINT(original_id), DB_UINT(server_id)));
    if (ret <= 0)
        goto out;
    *original_r = original_id;
    ret = db_query(db, &dup, "SELECT id FROM messages WHERE complaint_for_id = ? AND server_id = ? AND id <> ? LIMIT 1",
                   DB_ARGS(DB_UINT(original_id), DB_UINT(server_id), DB_UINT(report_id)));
    if (ret < 0)
        goto out;
    {
        int again = ret > 0;

        ret = db_exec(db, "UPDATE messages SET complaint_for_id = ? WHERE id = ? AND server_id = ?",
                      DB_ARGS(DB_UINT(original_id), DB_UINT(report_id), DB_UINT(server_id)));
        if (ret < 0 || again) {
            ret = ret < 0 ? ret : 0;
            goto out;
        }
    }
    rcpt = db_result_get(res, 0, 1);
    if (suppression_address_normalize(rcpt, strlen(rcpt), address, &why)) {
        reason = complaint_reason(dsn);
        if ((ret = suppression_add(db, server_id, address, reason, "complaint", 0, 1)) < 0)
            goto out;
    }
    if ((ret = queue_event(db, server_id, original_id, report_id, dsn)) < 0)
        goto out;
    ret = 1;
out:
    mem_free(why);
    mem_free(reason);
    db_result_free(dup);
    db_result_free(res);
    return ret;
}
