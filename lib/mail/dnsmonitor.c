/*
 * dnsmonitor.c -- periodic DNS checks and DomainDNSError (dnsmonitor.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mail/dnscheck.h"
#include "mail/dnsmonitor.h"
#include "mail/domain.h"
#include "mail/event.h"
#include "util/buf.h"
#include "util/mem.h"

/* The ids sql (with an interval and a limit parameter) selects into ids: the count, < 0. */
static int
ids_due(DB *db, const char *sql, long long interval, size_t max, unsigned long long *ids)
{
    DB_RESULT *res = NULL;
    size_t n = 0;
    int ret = db_query(db, &res, sql, DB_ARGS(DB_INT(interval), DB_UINT(max)));

    for (int i = 0; ret > 0 && i < ret && n < max; i++)
        ids[n++] = strtoull(db_result_get(res, (size_t) i, 0), NULL, 10);
    db_result_free(res);
    return ret < 0 ? ret : (int) n;
}

int
dnsmonitor_due(DB *db, long long interval, size_t max, unsigned long long *ids)
{
    /* ix_domains_dns_checked: NULL (never checked) sorts first. */
    return ids_due(db, "SELECT id FROM domains WHERE verified_at IS NOT NULL AND (dns_checked_at IS NULL "
                   "OR dns_checked_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND) ORDER BY dns_checked_at, id LIMIT ?",
                   interval, max, ids);
}

static int
passes(const DOMAIN_DNS_STATUS *st)
{
    return strcmp(st->spf_status, "OK") == 0 && strcmp(st->dkim_status, "OK") == 0
        && strcmp(st->mx_status, "Invalid") != 0 && strcmp(st->return_path_status, "Invalid") != 0;
}

static json_t *
nullable(const char *s)
{
    return s ? json_string(s) : json_null();
}

typedef struct announce_txn {
    unsigned long long id, server_id;
    const char *name, *uuid;
    double checked_at;
    const DOMAIN_DNS_STATUS *st;
} ANNOUNCE_TXN;

static int
announce_txn(DB *db, void *arg)
{
    const ANNOUNCE_TXN *t = arg;
    const DOMAIN_DNS_STATUS *st = t->st;
    json_t *server = NULL, *payload;
    int ret;

    if ((ret = event_server_object(db, t->server_id, &server)) <= 0)
        return ret;
    payload = json_pack("{s:o, s:s, s:s, s:f, s:s, s:o, s:s, s:o, s:s, s:o, s:s, s:o, s:s, s:o}", "server", server,
                        "domain", t->name, "uuid", t->uuid, "dns_checked_at", t->checked_at,
                        "spf_status", st->spf_status, "spf_error", nullable(st->spf_error),
                        "dkim_status", st->dkim_status, "dkim_error", nullable(st->dkim_error),
                        "mx_status", st->mx_status, "mx_error", nullable(st->mx_error),
                        "return_path_status", st->return_path_status,
                        "return_path_error", nullable(st->return_path_error),
                        "dmarc_status", st->dmarc_status, "dmarc_error", nullable(st->dmarc_error));
    ret = payload ? event_queue(db, t->server_id, EVENT_DOMAIN_DNS_ERROR, payload) : DB_ERR_PERM;
    json_decref(payload);
    if (ret >= 0)
        ret = db_exec(db, "UPDATE domains SET dns_monitor_state = 'alerted' WHERE id = ?", DB_ARGS(DB_UINT(t->id)));
    return ret < 0 ? ret : 0;
}

/* Queues the event and marks the domain alerted, in one transaction. 1, or < 0. */
static int
announce(DB *db, unsigned long long id, unsigned long long server_id, const char *name, const char *uuid,
         double checked_at, const DOMAIN_DNS_STATUS *st)
{
    ANNOUNCE_TXN t = {.id = id, .server_id = server_id, .name = name, .uuid = uuid, .checked_at = checked_at, .st = st};
    int ret = db_transaction(db, announce_txn, &t);

    return ret < 0 ? ret : 1;
}

int
dnsmonitor_check(DB *db, const PGCONF *cfg, unsigned long long id)
{
    DB_RESULT *res = NULL;
    DOMAIN_DNS_STATUS st;
    char state[16], name[254], uuid[37];
    unsigned long long server_id;
    double checked_at;
    int ret;

    ret = db_query(db, &res, "SELECT dns_monitor_state, IFNULL(server_id, 0), name, uuid FROM domains WHERE id = ?",
                   DB_ARGS(DB_UINT(id)));
    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    snprintf(state, sizeof(state), "%s", db_result_get(res, 0, 0));
    server_id = strtoull(db_result_get(res, 0, 1), NULL, 10);
    snprintf(name, sizeof(name), "%s", db_result_get(res, 0, 2));
    snprintf(uuid, sizeof(uuid), "%s", db_result_get(res, 0, 3));
    db_result_free(res);
    if ((ret = domain_check_dns(db, cfg, id, &st)) < 0)
        return ret;
    if (passes(&st)) {
        ret = strcmp(state, "ok") == 0 ? 0
            : db_exec(db, "UPDATE domains SET dns_monitor_state = 'ok' WHERE id = ?", DB_ARGS(DB_UINT(id)));
        domain_dns_status_free(&st);
        return ret < 0 ? ret : 0;
    }
    ret = 0;
    if (strcmp(state, "ok") == 0) {
        if (server_id == 0) {
            ret = db_exec(db, "UPDATE domains SET dns_monitor_state = 'alerted' WHERE id = ?", DB_ARGS(DB_UINT(id)));
            ret = ret < 0 ? ret : 0;
        } else {
            res = NULL;
            checked_at = 0;
            if (db_query(db, &res, "SELECT UNIX_TIMESTAMP(dns_checked_at) FROM domains WHERE id = ?",
                         DB_ARGS(DB_UINT(id))) > 0)
                checked_at = strtod(db_result_get(res, 0, 0), NULL);
            db_result_free(res);
            ret = announce(db, id, server_id, name, uuid, checked_at, &st);
        }
    }
    domain_dns_status_free(&st);
    return ret;
}

int
dnsmonitor_track_due(DB *db, long long interval, size_t max, unsigned long long *ids)
{
    return ids_due(db, "SELECT id FROM track_domains WHERE dns_checked_at IS NULL "
                   "OR dns_checked_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND ORDER BY dns_checked_at, id LIMIT ?",
                   interval, max, ids);
}

int
dnsmonitor_track_check(DB *db, const PGCONF *cfg, unsigned long long id)
{
    DB_RESULT *res = NULL;
    DNSCHECK_ANSWER a;
    const char *status = "OK";
    char *host, *why = NULL, *error = NULL;
    int ret;

    ret = db_query(db, &res, "SELECT CONCAT(t.name, '.', d.name) FROM track_domains t JOIN domains d "
                   "ON d.id = t.domain_id WHERE t.id = ?", DB_ARGS(DB_UINT(id)));
    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    host = mem_strdup(db_result_get(res, 0, 0));
    db_result_free(res);
    ret = dnscheck_lookup(cfg->dns_resolver, host, DNSCHECK_CNAME, &a, &why);
    if (ret < 0) {
        status = "Invalid";
        error = mem_strdup(why ? why : "lookup failed");
    } else if (ret == 0) {
        status = "Missing";
        error = buf_asprintf("No CNAME record exists at %s.", host);
    } else if (strcasecmp(a.records[0], cfg->dns_track_domain) != 0) {
        status = "Invalid";
        error = buf_asprintf("The CNAME record at %s points to %s; it should point to %s.", host, a.records[0],
                             cfg->dns_track_domain);
    }
    if (ret > 0)
        dnscheck_answer_free(&a);
    ret = db_exec(db, "UPDATE track_domains SET dns_status = ?, dns_error = LEFT(?, 1000), "
                  "dns_checked_at = UTC_TIMESTAMP(6) WHERE id = ?", DB_ARGS(DB_STR(status), DB_STR(error), DB_UINT(id)));
    mem_free(why);
    mem_free(error);
    mem_free(host);
    return ret < 0 ? ret : strcmp(status, "OK") == 0;
}
