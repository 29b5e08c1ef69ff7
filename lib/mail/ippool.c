/*
 * ippool.c -- IP pools, their addresses, their organizations, servers' pools and pool
 * rules (ippool.h). Callers run the changes that touch several tables in a transaction.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/ippool.h"
#include "util/msg.h"
#include "util/token.h"

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"
#define POOL_COLUMNS "p.id, p.uuid, p.name, p.is_default, " TS("p.created_at") ", " TS("p.updated_at") ", " \
    "p.destination_concurrency_limit, p.destination_rate_delay "

#define COL(kind, type, field) DB_COL_AT(kind, type, field)
static const DB_COL pool_cols[] = {
    COL(DB_COL_ID, IPPOOL_ROW, id), COL(DB_COL_STR, IPPOOL_ROW, uuid), COL(DB_COL_STR, IPPOOL_ROW, name),
    COL(DB_COL_BOOL, IPPOOL_ROW, is_default), COL(DB_COL_STR, IPPOOL_ROW, created_at),
    COL(DB_COL_STR, IPPOOL_ROW, updated_at), COL(DB_COL_NUM, IPPOOL_ROW, concurrency_limit),
    COL(DB_COL_NUM, IPPOOL_ROW, rate_delay),
};
static const DB_COL address_cols[] = {
    COL(DB_COL_ID, IPPOOL_ADDRESS_ROW, id), COL(DB_COL_STR, IPPOOL_ADDRESS_ROW, ipv4),
    COL(DB_COL_STR, IPPOOL_ADDRESS_ROW, ipv6), COL(DB_COL_STR, IPPOOL_ADDRESS_ROW, hostname),
    COL(DB_COL_NUM, IPPOOL_ADDRESS_ROW, priority), COL(DB_COL_STR, IPPOOL_ADDRESS_ROW, created_at),
    COL(DB_COL_STR, IPPOOL_ADDRESS_ROW, updated_at), COL(DB_COL_STR, IPPOOL_ADDRESS_ROW, warmup_started_on),
    COL(DB_COL_NUM, IPPOOL_ADDRESS_ROW, warmup_day), COL(DB_COL_NUM, IPPOOL_ADDRESS_ROW, sent_today),
};
static const DB_COL rule_cols[] = {
    COL(DB_COL_ID, IPPOOL_RULE_ROW, id), COL(DB_COL_STR, IPPOOL_RULE_ROW, uuid),
    COL(DB_COL_STR, IPPOOL_RULE_ROW, pool_uuid), COL(DB_COL_STR, IPPOOL_RULE_ROW, pool_name),
    COL(DB_COL_STR, IPPOOL_RULE_ROW, from_text), COL(DB_COL_STR, IPPOOL_RULE_ROW, to_text),
    COL(DB_COL_STR, IPPOOL_RULE_ROW, created_at), COL(DB_COL_STR, IPPOOL_RULE_ROW, updated_at),
};
static const DB_COL string_col[] = {{DB_COL_STR, 0}};
#undef COL
#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))
#define POOL_ROWS(db, rows) db_query_rows(db, rows, pool_cols, NCOLS(pool_cols), sizeof(IPPOOL_ROW),

int
ippool_list(DB *db, const char *uuid, DB_ROWS *rows)
{
    return POOL_ROWS(db, rows) "SELECT " POOL_COLUMNS "FROM ip_pools p WHERE (? IS NULL OR p.uuid = ?) "
                    "ORDER BY p.name, p.id", DB_ARGS(uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL));
}

int
ippool_list_for_org(DB *db, unsigned long long org_id, const char *uuid, DB_ROWS *rows)
{
    return POOL_ROWS(db, rows) "SELECT " POOL_COLUMNS "FROM ip_pools p JOIN organization_ip_pools op "
                    "ON op.ip_pool_id = p.id AND op.organization_id = ? WHERE (? IS NULL OR p.uuid = ?) "
                    "ORDER BY p.name, p.id",
                    DB_ARGS(DB_UINT(org_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL));
}

int
ippool_list_for_user(DB *db, unsigned long long user_id, const char *uuid, DB_ROWS *rows)
{
    return POOL_ROWS(db, rows) "SELECT " POOL_COLUMNS "FROM ip_pools p WHERE (? IS NULL OR p.uuid = ?) AND EXISTS "
                    "(SELECT 1 FROM organization_ip_pools op JOIN organizations o ON o.id = op.organization_id "
                    "AND o.deleted_at IS NULL JOIN organization_users ou ON ou.organization_id = o.id "
                    "WHERE op.ip_pool_id = p.id AND ou.user_id = ?) ORDER BY p.name, p.id",
                    DB_ARGS(uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL, DB_UINT(user_id)));
}

/* Only pool id stays the default. */
static int
only_default(DB *db, unsigned long long id)
{
    return db_exec(db, "UPDATE ip_pools SET is_default = 0 WHERE is_default = 1 AND id <> ?", DB_ARGS(DB_UINT(id)));
}

int
ippool_create(DB *db, const char *name, int is_default, unsigned long long *id_r)
{
    char uuid[37];
    int ret;

    if (token_uuid(uuid) < 0) {
        msg_warn("IP pool: the random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_exec(db, "INSERT INTO ip_pools (uuid, name, is_default) VALUES (?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), DB_STR(name), DB_INT(is_default > 0)));
    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    if (is_default > 0 && (ret = only_default(db, *id_r)) < 0)
        return ret;
    return 1;
}

int
ippool_update(DB *db, unsigned long long id, const char *name, int is_default)
{
    int ret = db_exec(db, "UPDATE ip_pools SET name = COALESCE(?, name), is_default = IF(? < 0, is_default, ?) "
                      "WHERE id = ?", DB_ARGS(DB_STR(name), DB_INT(is_default), DB_INT(is_default > 0), DB_UINT(id)));

    if (ret >= 0 && is_default > 0)
        ret = only_default(db, id);
    return ret < 0 ? ret : 0;
}

int
ippool_delete(DB *db, unsigned long long id)
{
    int ret = db_exec(db, "DELETE FROM ip_pools WHERE id = ?", DB_ARGS(DB_UINT(id)));

    return ret < 0 ? ret : ret > 0;
}

int
ippool_addresses(DB *db, unsigned long long pool_id, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, address_cols, NCOLS(address_cols), sizeof(IPPOOL_ADDRESS_ROW), "SELECT a.id, a.ipv4, a.ipv6, a.hostname, a.priority, " TS("a.created_at") ", " TS("a.updated_at")
                    ", DATE_FORMAT(a.warmup_started_on, '%Y-%m-%d'), IFNULL(DATEDIFF(UTC_DATE(), a.warmup_started_on) + 1, 0), "
                    "IFNULL((SELECT v.count FROM ip_address_volume v WHERE v.ip_address_id = a.id AND v.day = UTC_DATE()), 0)"
                    " FROM ip_addresses a WHERE a.ip_pool_id = ? AND (? = 0 OR a.id = ?) ORDER BY a.priority DESC, a.id",
                    DB_ARGS(DB_UINT(pool_id), DB_UINT(id), DB_UINT(id)));
}

int
ippool_address_add(DB *db, unsigned long long pool_id, const char *ipv4, const char *ipv6, const char *hostname,
                   int priority, unsigned long long *id_r)
{
    int ret = db_exec(db, "INSERT INTO ip_addresses (ip_pool_id, ipv4, ipv6, hostname, priority) VALUES (?, ?, ?, ?, ?)",
                      DB_ARGS(DB_UINT(pool_id), DB_STR(ipv4), DB_STR(ipv6), DB_STR(hostname), DB_INT(priority)));

    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    return 1;
}

int
ippool_address_update(DB *db, unsigned long long pool_id, unsigned long long id, const char *ipv4, const char *ipv6,
                      const char *hostname, int priority)
{
    int ret = db_exec(db, "UPDATE ip_addresses SET ipv4 = ?, ipv6 = ?, hostname = ?, priority = ? "
                      "WHERE id = ? AND ip_pool_id = ?",
                      DB_ARGS(DB_STR(ipv4), DB_STR(ipv6), DB_STR(hostname), DB_INT(priority), DB_UINT(id),
                              DB_UINT(pool_id)));

    return ret < 0 ? ret : 0;
}

int
ippool_address_delete(DB *db, unsigned long long pool_id, unsigned long long id)
{
    int ret = db_exec(db, "DELETE FROM ip_addresses WHERE id = ? AND ip_pool_id = ?", DB_ARGS(DB_UINT(id), DB_UINT(pool_id)));

    return ret < 0 ? ret : ret > 0;
}

int
ippool_orgs(DB *db, unsigned long long pool_id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, string_col, 1, sizeof(const char *), "SELECT o.permalink FROM organization_ip_pools op JOIN organizations o "
                    "ON o.id = op.organization_id AND o.deleted_at IS NULL WHERE op.ip_pool_id = ? ORDER BY o.permalink",
                    DB_ARGS(DB_UINT(pool_id)));
}

int
ippool_assign(DB *db, unsigned long long pool_id, unsigned long long org_id)
{
    int ret = db_exec(db, "INSERT IGNORE INTO organization_ip_pools (organization_id, ip_pool_id) VALUES (?, ?)",
                      DB_ARGS(DB_UINT(org_id), DB_UINT(pool_id)));

    return ret < 0 ? ret : ret > 0;
}

int
ippool_unassign(DB *db, unsigned long long pool_id, unsigned long long org_id)
{
    int ret = db_exec(db, "DELETE FROM organization_ip_pools WHERE organization_id = ? AND ip_pool_id = ?",
                      DB_ARGS(DB_UINT(org_id), DB_UINT(pool_id)));

    if (ret <= 0)
        return ret;
    if ((ret = db_exec(db, "UPDATE servers SET ip_pool_id = NULL WHERE organization_id = ? AND ip_pool_id = ?",
                       DB_ARGS(DB_UINT(org_id), DB_UINT(pool_id)))) < 0
        || (ret = db_exec(db, "DELETE FROM ip_pool_rules WHERE ip_pool_id = ? AND (organization_id = ? OR server_id IN "
                          "(SELECT id FROM servers WHERE organization_id = ?))",
                          DB_ARGS(DB_UINT(pool_id), DB_UINT(org_id), DB_UINT(org_id)))) < 0)
        return ret;
    return 1;
}

int
ippool_find_for_org(DB *db, unsigned long long org_id, const char *uuid, unsigned long long *id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT p.id FROM ip_pools p JOIN organization_ip_pools op ON op.ip_pool_id = p.id "
                       "WHERE op.organization_id = ? AND p.uuid = ?", DB_ARGS(DB_UINT(org_id), DB_STR(uuid)));

    if (ret > 0)
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret < 0 ? ret : ret > 0;
}

int
ippool_server_pool(DB *db, unsigned long long server_id, char *uuid_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT p.uuid FROM servers s JOIN ip_pools p ON p.id = s.ip_pool_id WHERE s.id = ?",
                       DB_ARGS(DB_UINT(server_id)));

    if (ret > 0) {
        snprintf(uuid_r, 37, "%s", db_result_get(res, 0, 0));
    }
    db_result_free(res);
    return ret < 0 ? ret : ret > 0;
}

int
ippool_server_set(DB *db, unsigned long long server_id, unsigned long long pool_id)
{
    int ret = db_exec(db, "UPDATE servers SET ip_pool_id = ? WHERE id = ?",
                      DB_ARGS(pool_id ? DB_UINT(pool_id) : DB_NULL, DB_UINT(server_id)));

    return ret < 0 ? ret : 0;
}

int
ippool_rules(DB *db, unsigned long long org_id, unsigned long long server_id, const char *uuid, DB_ROWS *rows)
{
    return db_query_rows(db, rows, rule_cols, NCOLS(rule_cols), sizeof(IPPOOL_RULE_ROW), "SELECT r.id, r.uuid, p.uuid, p.name, r.from_text, r.to_text, " TS("r.created_at")
                    ", " TS("r.updated_at") " FROM ip_pool_rules r JOIN ip_pools p ON p.id = r.ip_pool_id "
                    "WHERE IF(? = 0, r.organization_id <=> ?, r.server_id <=> ?) AND (? IS NULL OR r.uuid = ?) "
                    "ORDER BY r.id",
                    DB_ARGS(DB_UINT(server_id), DB_UINT(org_id), DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL,
                            uuid ? DB_STR(uuid) : DB_NULL));
}

int
ippool_rule_create(DB *db, unsigned long long org_id, unsigned long long server_id, unsigned long long pool_id,
                   const char *from, const char *to, unsigned long long *id_r)
{
    char uuid[37];
    int ret;

    if (token_uuid(uuid) < 0) {
        msg_warn("IP pool rule: the random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_exec(db, "INSERT INTO ip_pool_rules (uuid, organization_id, server_id, ip_pool_id, from_text, to_text) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_STR(uuid), server_id ? DB_NULL : DB_UINT(org_id), server_id ? DB_UINT(server_id) : DB_NULL,
                          DB_UINT(pool_id), DB_STR(from), DB_STR(to)));
    if (ret < 0)
        return ret;
    *id_r = db_insert_id(db);
    return 1;
}

int
ippool_rule_update(DB *db, unsigned long long id, unsigned long long pool_id, const char *from, const char *to)
{
    int ret = db_exec(db, "UPDATE ip_pool_rules SET ip_pool_id = ?, from_text = ?, to_text = ? WHERE id = ?",
                      DB_ARGS(DB_UINT(pool_id), DB_STR(from), DB_STR(to), DB_UINT(id)));

    return ret < 0 ? ret : 0;
}

int
ippool_rule_delete(DB *db, unsigned long long id)
{
    int ret = db_exec(db, "DELETE FROM ip_pool_rules WHERE id = ?", DB_ARGS(DB_UINT(id)));

    return ret < 0 ? ret : ret > 0;
}

/* ---------------------------------------------------------------- the delivery path */

static const DB_COL transport_cols[] = {
    DB_COL_AT(DB_COL_ID, IPPOOL_TRANSPORT_ROW, id), DB_COL_AT(DB_COL_ID, IPPOOL_TRANSPORT_ROW, pool_id),
    DB_COL_AT(DB_COL_STR, IPPOOL_TRANSPORT_ROW, ipv4), DB_COL_AT(DB_COL_STR, IPPOOL_TRANSPORT_ROW, ipv6),
    DB_COL_AT(DB_COL_STR, IPPOOL_TRANSPORT_ROW, hostname),
    DB_COL_AT(DB_COL_NUM, IPPOOL_TRANSPORT_ROW, concurrency_limit),
    DB_COL_AT(DB_COL_NUM, IPPOOL_TRANSPORT_ROW, rate_delay),
};
static const DB_COL delivery_rule_cols[] = {
    DB_COL_AT(DB_COL_ID, IPPOOL_DELIVERY_RULE_ROW, pool_id), DB_COL_AT(DB_COL_BOOL, IPPOOL_DELIVERY_RULE_ROW, server_rule),
    DB_COL_AT(DB_COL_STR, IPPOOL_DELIVERY_RULE_ROW, from_text), DB_COL_AT(DB_COL_STR, IPPOOL_DELIVERY_RULE_ROW, to_text),
};
static const DB_COL weight_cols[] = {
    DB_COL_AT(DB_COL_ID, IPPOOL_WEIGHT_ROW, id), DB_COL_AT(DB_COL_NUM, IPPOOL_WEIGHT_ROW, priority),
    DB_COL_AT(DB_COL_NUM, IPPOOL_WEIGHT_ROW, warmup_day), DB_COL_AT(DB_COL_NUM, IPPOOL_WEIGHT_ROW, today),
};

int
ippool_transports(DB *db, DB_ROWS *rows)
{
    return db_query_rows(db, rows, transport_cols, NCOLS(transport_cols), sizeof(IPPOOL_TRANSPORT_ROW),
                         "SELECT a.id, a.ip_pool_id, a.ipv4, a.ipv6, a.hostname, p.destination_concurrency_limit, "
                         "p.destination_rate_delay FROM ip_addresses a JOIN ip_pools p ON p.id = a.ip_pool_id "
                         "ORDER BY a.id", DB_NOARGS);
}

int
ippool_mark_ready(DB *db, unsigned long long id)
{
    int ret = db_exec(db, "UPDATE ip_addresses SET transport_ready = 1 WHERE id = ? AND transport_ready = 0",
                      DB_ARGS(DB_UINT(id)));

    return ret < 0 ? ret : 0;
}

int
ippool_set_limits(DB *db, unsigned long long id, int concurrency_limit, int rate_delay)
{
    int ret = db_exec(db, "UPDATE ip_pools SET destination_concurrency_limit = ?, destination_rate_delay = ? WHERE id = ?",
                      DB_ARGS(concurrency_limit < 0 ? DB_NULL : DB_INT(concurrency_limit),
                              rate_delay < 0 ? DB_NULL : DB_INT(rate_delay), DB_UINT(id)));

    return ret < 0 ? ret : 0;
}

int
ippool_delivery_rules(DB *db, unsigned long long org_id, unsigned long long server_id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, delivery_rule_cols, NCOLS(delivery_rule_cols), sizeof(IPPOOL_DELIVERY_RULE_ROW),
                         "SELECT r.ip_pool_id, r.server_id IS NOT NULL, r.from_text, r.to_text FROM ip_pool_rules r "
                         "JOIN organization_ip_pools op ON op.ip_pool_id = r.ip_pool_id AND op.organization_id = ? "
                         "WHERE r.server_id = ? OR r.organization_id = ? ORDER BY r.server_id IS NULL, r.id",
                         DB_ARGS(DB_UINT(org_id), DB_UINT(server_id), DB_UINT(org_id)));
}

int
ippool_server_delivery(DB *db, unsigned long long server_id, unsigned long long *org_id_r,
                       unsigned long long *pool_id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT s.organization_id, op.ip_pool_id FROM servers s "
                       "LEFT JOIN organization_ip_pools op ON op.organization_id = s.organization_id "
                       "AND op.ip_pool_id = s.ip_pool_id WHERE s.id = ? AND s.deleted_at IS NULL",
                       DB_ARGS(DB_UINT(server_id)));

    if (ret > 0) {
        const char *pool = db_result_get(res, 0, 1);

        *org_id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
        *pool_id_r = pool ? strtoull(pool, NULL, 10) : 0;
    }
    db_result_free(res);
    return ret < 0 ? ret : ret > 0;
}

int
ippool_ready_addresses(DB *db, unsigned long long pool_id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, weight_cols, NCOLS(weight_cols), sizeof(IPPOOL_WEIGHT_ROW),
                         "SELECT a.id, a.priority, "
                         "IFNULL(DATEDIFF(UTC_DATE(), a.warmup_started_on) + 1, 0), IFNULL(v.count, 0) "
                         "FROM ip_addresses a LEFT JOIN ip_address_volume v ON v.ip_address_id = a.id "
                         "AND v.day = UTC_DATE() AND a.warmup_started_on IS NOT NULL "
                         "WHERE a.ip_pool_id = ? AND a.transport_ready = 1 ORDER BY a.id",
                         DB_ARGS(DB_UINT(pool_id)));
}

int
ippool_warmup_choice(DB *db, const char *token, unsigned long long *address_id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT ip_address_id FROM ip_warmup_choices WHERE token = ?", DB_ARGS(DB_STR(token)));

    if (ret > 0)
        *address_id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

typedef struct warmup_txn {
    const char *token;
    unsigned long long address_id;
    int warming;
    int taken;                  /* another lookup chose first (last run) */
} WARMUP_TXN;

static int
warmup_txn(DB *db, void *arg)
{
    WARMUP_TXN *t = arg;
    int ret = db_exec(db, "INSERT IGNORE INTO ip_warmup_choices (token, ip_address_id) VALUES (?, ?)",
                      DB_ARGS(DB_STR(t->token), DB_UINT(t->address_id)));

    t->taken = ret == 0;
    if (ret > 0 && t->warming)
        ret = db_exec(db, "INSERT INTO ip_address_volume (ip_address_id, day, count) VALUES (?, UTC_DATE(), 1) "
                      "ON DUPLICATE KEY UPDATE count = count + 1", DB_ARGS(DB_UINT(t->address_id)));
    return ret < 0 ? ret : 0;
}

int
ippool_warmup_record(DB *db, const char *token, unsigned long long *address_id_r, int warming)
{
    WARMUP_TXN t = {.token = token, .address_id = *address_id_r, .warming = warming};
    int ret = db_transaction(db, warmup_txn, &t);

    if (ret < 0 || !t.taken)
        return ret;
    /* Another lookup chose first: that choice stands, and it was counted then. */
    ret = ippool_warmup_choice(db, token, address_id_r);
    return ret < 0 ? ret : 0;
}

int
ippool_address_warmup(DB *db, unsigned long long pool_id, unsigned long long id, int on)
{
    int ret = db_exec(db, "UPDATE ip_addresses SET warmup_started_on = IF(?, COALESCE(warmup_started_on, UTC_DATE()), NULL) "
                      "WHERE id = ? AND ip_pool_id = ?", DB_ARGS(DB_INT(on != 0), DB_UINT(id), DB_UINT(pool_id)));

    return ret < 0 ? ret : ret > 0;
}

int
ippool_warmup_purge(DB *db, int days)
{
    int a = db_exec(db, "DELETE FROM ip_warmup_choices WHERE created_at < UTC_TIMESTAMP(6) - INTERVAL ? DAY LIMIT 10000",
                    DB_ARGS(DB_INT(days))), b;

    if (a < 0)
        return a;
    b = db_exec(db, "DELETE FROM ip_address_volume WHERE day < UTC_DATE() - INTERVAL ? DAY LIMIT 10000",
                DB_ARGS(DB_INT(days)));
    return b < 0 ? b : a + b;
}
