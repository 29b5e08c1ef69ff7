/*
 * purge.c -- purging deleted organizations in bounded batches (purge.h).
 */
#include "config.h"

#include <stdlib.h>

#include "mail/purge.h"

/* What a server holds that is large or has no foreign key to it, each deleted batch by
 * batch on an index that starts with server_id. Deleting messages cascades to their
 * deliveries, links and queued_messages; the rest (credentials, domains with their keys,
 * routes, endpoints, webhooks, track domains) goes with the server row. */
static const char *const server_batches[] = {
    "DELETE FROM messages WHERE server_id = ? LIMIT ?",
    "DELETE FROM raw_messages WHERE server_id = ? LIMIT ?",
    "DELETE FROM clicks WHERE server_id = ? LIMIT ?",
    "DELETE FROM loads WHERE server_id = ? LIMIT ?",
    "DELETE FROM webhook_requests WHERE server_id = ? LIMIT ?",
    "DELETE FROM webhook_outbox WHERE server_id = ? LIMIT ?",
    "DELETE FROM queued_messages WHERE server_id = ? LIMIT ?",
    "DELETE FROM suppressions WHERE server_id = ? LIMIT ?",
    "DELETE FROM statistics WHERE server_id = ? LIMIT ?",
    "DELETE FROM send_volume WHERE server_id = ? LIMIT ?",
    NULL
};

/* One batch of server_id's data, or (nothing else left) its row with its configuration. */
static int
server_step(DB *db, unsigned long long server_id, unsigned batch, unsigned long long *rows_r)
{
    int ret;

    for (size_t i = 0; server_batches[i]; i++) {
        if ((ret = db_exec(db, server_batches[i], DB_ARGS(DB_UINT(server_id), DB_UINT(batch)))) < 0)
            return ret;
        if (ret > 0) {
            *rows_r += (unsigned long long) ret;
            return 0;
        }
    }
    if ((ret = db_exec(db, "DELETE FROM servers WHERE id = ? AND deleted_at IS NOT NULL",
                       DB_ARGS(DB_UINT(server_id)))) < 0)
        return ret;
    *rows_r += (unsigned long long) ret;
    return 0;
}

int
purge_deleted_server_step(DB *db, unsigned batch, unsigned long long *rows_r)
{
    DB_RESULT *res = NULL;
    unsigned long long server_id;
    int ret;

    ret = db_query(db, &res, "SELECT s.id FROM servers s JOIN organizations o ON o.id = s.organization_id "
                   "AND o.deleted_at IS NULL WHERE s.deleted_at IS NOT NULL ORDER BY s.id LIMIT 1", DB_NOARGS);
    if (ret <= 0) {
        db_result_free(res);
        return ret < 0 ? ret : 1;
    }
    server_id = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return server_step(db, server_id, batch ? batch : 1, rows_r);
}

int
purge_org_step(DB *db, unsigned long long org_id, unsigned batch, unsigned long long *rows_r)
{
    DB_RESULT *res = NULL;
    unsigned long long server_id;
    int ret;

    if (batch == 0)
        batch = 1;
    /* Only servers of a deleted organization, whatever the caller checked before. */
    ret = db_query(db, &res, "SELECT s.id FROM servers s JOIN organizations o ON o.id = s.organization_id "
                   "AND o.deleted_at IS NOT NULL WHERE o.id = ? ORDER BY s.id LIMIT 1", DB_ARGS(DB_UINT(org_id)));
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    if (ret > 0) {
        server_id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        db_result_free(res);
        /* A server of a deleted organization is deleted with it, marked or not. */
        if ((ret = db_exec(db, "UPDATE servers SET deleted_at = IFNULL(deleted_at, UTC_TIMESTAMP(6)) WHERE id = ?",
                           DB_ARGS(DB_UINT(server_id)))) < 0)
            return ret;
        return server_step(db, server_id, batch, rows_r);
    }
    db_result_free(res);
    /* No server left: the organization row, with its members, invitations, IP pool
     * assignments, rules and organization domains (ON DELETE CASCADE). */
    if ((ret = db_exec(db, "DELETE FROM organizations WHERE id = ? AND deleted_at IS NOT NULL",
                       DB_ARGS(DB_UINT(org_id)))) < 0)
        return ret;
    *rows_r += (unsigned long long) ret;
    return 1;
}
