/*
 * bounce.c -- a bounce recorded against its original message (bounce.h).
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/bounce.h"
#include "mail/event.h"
#include "mail/suppression.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/utf8.h"

enum { O_ID, O_RCPT, O_STATUS, O_QUEUE_ID, O_RAW_ID, O_RAW_DAY };
#define ORIGINAL_COLS "id, rcpt_to, status, IFNULL(postfix_queue_id, ''), IFNULL(raw_message_id, 0), " \
    "IFNULL(raw_message_day, '')"

int
bounce_find_original(DB *db, unsigned long long server_id, const char *token, unsigned long long *id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT id FROM messages WHERE token = ? AND server_id = ? AND scope = 'outgoing'",
                       DB_ARGS(DB_STR(token), DB_UINT(server_id)));

    if (ret > 0)
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret < 0 ? ret : ret > 0;
}

char *
bounce_reason(const DSN_RCPT *r)
{
    BUF *b = buf_new(256);
    size_t n;
    char *out;

    buf_printf(b, "%s bounce", dsn_rcpt_is_hard(r) ? "Hard" : "Soft");
    if (r && r->status)
        buf_printf(b, " (%s)", r->status);
    if (r && r->final_recipient)
        buf_printf(b, " for %s", r->final_recipient);
    if (r && r->diagnostic)
        buf_printf(b, ": %s", r->diagnostic);
    out = buf_steal(b, &n);
    out[utf8_cut(out, n, SUPPRESSION_REASON_MAX)] = '\0';     /* the column's limit */
    return out;
}

/* The original row, locked: original_id itself, or the row of the same submission whose
 * recipient the DSN names. */
static int
lock_original(DB *db, unsigned long long server_id, unsigned long long original_id, const DSN *dsn,
              DB_RESULT **res_r)
{
    const DSN_RCPT *r;
    DB_RESULT *sib = NULL;
    int ret;

    ret = db_query(db, res_r, "SELECT " ORIGINAL_COLS " FROM messages WHERE id = ? AND server_id = ? "
                   "AND scope = 'outgoing' FOR UPDATE", DB_ARGS(DB_UINT(original_id), DB_UINT(server_id)));
    if (ret <= 0)
        return ret;
    r = dsn_failed_rcpt(dsn, db_result_get(*res_r, 0, O_RCPT));
    if (r == NULL || r->final_recipient == NULL || strcasecmp(r->final_recipient, db_result_get(*res_r, 0, O_RCPT)) == 0
        || strcmp(db_result_get(*res_r, 0, O_RAW_ID), "0") == 0)
        return ret;
    ret = db_query(db, &sib, "SELECT " ORIGINAL_COLS " FROM messages WHERE raw_message_id = ? AND raw_message_day = ? "
                   "AND server_id = ? AND scope = 'outgoing' AND rcpt_to = ? ORDER BY id LIMIT 1 FOR UPDATE",
                   DB_ARGS(DB_STR(db_result_get(*res_r, 0, O_RAW_ID)), DB_STR(db_result_get(*res_r, 0, O_RAW_DAY)),
                           DB_UINT(server_id), DB_STR(r->final_recipient)));
    if (ret > 0) {
        db_result_free(*res_r);
        *res_r = sib;
        return 1;
    }
    db_result_free(sib);
    return ret < 0 ? ret : 1;
}

static int
queue_event(DB *db, unsigned long long server_id, unsigned long long original_id, unsigned long long bounce_id,
            const DSN_RCPT *r)
{
    json_t *original, *bounce, *payload;
    int ret;

    if ((ret = event_message_object(db, original_id, &original)) <= 0)
        return ret < 0 ? ret : DB_ERR_PERM;
    if ((ret = event_message_object(db, bounce_id, &bounce)) <= 0) {
        json_decref(original);
        return ret < 0 ? ret : DB_ERR_PERM;
    }
    /* Postal's {original_message, bounce}; "dsn" is postgate's addition. */
    payload = json_pack("{s:o, s:o, s:{s:s?, s:s?, s:s?, s:s?}}", "original_message", original, "bounce", bounce,
                        "dsn", "status", r ? r->status : NULL, "action", r ? r->action : NULL,
                        "diagnostic_code", r ? r->diagnostic : NULL,
                        "final_recipient", r ? r->final_recipient : NULL);
    if (payload == NULL)
        return DB_ERR_PERM;
    ret = event_queue(db, server_id, EVENT_MESSAGE_BOUNCED, payload);
    json_decref(payload);
    return ret < 0 ? ret : 0;
}

int
bounce_record(DB *db, unsigned long long server_id, unsigned long long bounce_id, unsigned long long original_id,
              const DSN *dsn, unsigned long long *original_r, BOUNCE_RESULT *result_r)
{
    DB_RESULT *res = NULL;
    const DSN_RCPT *r;
    const char *status, *queue_id;
    char *reason = NULL;
    unsigned long long id;
    int ret;

    *original_r = 0;
    *result_r = BOUNCE_ALREADY_FAILED;
    if ((ret = lock_original(db, server_id, original_id, dsn, &res)) <= 0)
        goto out;
    id = strtoull(db_result_get(res, 0, O_ID), NULL, 10);
    *original_r = id;
    status = db_result_get(res, 0, O_STATUS);
    queue_id = db_result_get(res, 0, O_QUEUE_ID);
    r = dsn_failed_rcpt(dsn, db_result_get(res, 0, O_RCPT));
    ret = db_exec(db, "UPDATE messages SET bounce = 1, bounce_for_id = ? WHERE id = ? AND server_id = ?",
                  DB_ARGS(DB_UINT(id), DB_UINT(bounce_id), DB_UINT(server_id)));
    if (ret < 0)
        goto out;
    if (dsn->postfix_queue_id && *queue_id && strcmp(dsn->postfix_queue_id, queue_id) == 0) {
        *result_r = BOUNCE_POSTFIX_NOTICE;
        ret = 0;
        goto out;
    }
    if (strcmp(status, "HardFail") == 0 || strcmp(status, "Bounced") == 0) {
        *result_r = BOUNCE_ALREADY_FAILED;
        ret = 0;
        goto out;
    }
    reason = bounce_reason(r);
    ret = db_exec(db, "INSERT INTO deliveries (message_id, status, details, output, dsn, relay) "
                  "VALUES (?, 'Bounced', ?, LEFT(?, 65535), LEFT(?, 16), LEFT(?, 320))",
                  DB_ARGS(DB_UINT(id), DB_STR(reason), DB_STR(r ? r->diagnostic : NULL),
                          DB_STR(r ? r->status : NULL),
                          DB_STR(r && r->remote_mta ? r->remote_mta : dsn->reporting_mta)));
    if (ret < 0)
        goto out;
    if ((ret = db_exec(db, "UPDATE messages SET status = 'Bounced' WHERE id = ?", DB_ARGS(DB_UINT(id)))) < 0)
        goto out;
    if (dsn_rcpt_is_hard(r)) {
        const char *rcpt = db_result_get(res, 0, O_RCPT);
        char address[SUPPRESSION_ADDRESS_MAX + 1], *why = NULL;
        int ok = suppression_address_normalize(rcpt, strlen(rcpt), address, &why);

        mem_free(why);
        if (ok && (ret = suppression_add(db, server_id, address, reason, "bounce", BOUNCE_SUPPRESS_DAYS, 1)) < 0)
            goto out;
    }
    if ((ret = queue_event(db, server_id, id, bounce_id, r)) < 0)
        goto out;
    *result_r = BOUNCE_RECORDED;
    ret = 1;
out:
    mem_free(reason);
    db_result_free(res);
    return ret;
}
