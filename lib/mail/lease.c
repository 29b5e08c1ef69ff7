/*
 * lease.c -- claiming due rows under a lease (lease.h).
 */
#include "config.h"

#include <stdlib.h>

#include <jansson.h>

#include "mail/lease.h"

typedef struct claim_txn {
    const char *select_sql, *lease_sql, *owner;
    const DB_PARAM *params;
    size_t nparams;
    unsigned lease_seconds;
    DB_RESULT *res;             /* the claimed rows of the last run */
} CLAIM_TXN;

/* One run of the claim: the rows' SELECT, then their lease. The rows, 0, or < 0. */
static int
claim_txn(DB *db, void *arg)
{
    CLAIM_TXN *t = arg;
    json_t *ids;
    char *ids_json;
    size_t n;
    int ret;

    db_result_free(t->res);
    t->res = NULL;
    if ((ret = db_query(db, &t->res, t->select_sql, t->params, t->nparams)) <= 0)
        return ret;
    n = db_result_rows(t->res);
    ids = json_array();
    for (size_t r = 0; r < n; r++)
        json_array_append_new(ids, json_integer((json_int_t) strtoull(db_result_get(t->res, r, 0), NULL, 10)));
    ids_json = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    /* The lease: the rows are ours until locked_until, and due again then if we vanish. */
    ret = db_exec(db, t->lease_sql, DB_ARGS(DB_STR(ids_json), DB_STR(t->owner), DB_UINT(t->lease_seconds),
                                            DB_UINT(t->lease_seconds)));
    free(ids_json);
    return ret < 0 ? ret : (int) n;
}

/* On Galera two hosts on two nodes may select the same rows (SKIP LOCKED sees local locks
 * only); their leases then name the same rows, certification aborts one (1213), and
 * db_transaction() runs it again: it selects what is still free. */
int
lease_claim(DB *db, const char *select_sql, const DB_PARAM *params, size_t nparams, const char *lease_sql,
            const char *owner, unsigned lease_seconds, DB_RESULT **res_r)
{
    CLAIM_TXN t = {.select_sql = select_sql, .lease_sql = lease_sql, .owner = owner, .params = params,
                   .nparams = nparams, .lease_seconds = lease_seconds};
    int ret = db_transaction(db, claim_txn, &t);

    *res_r = NULL;
    if (ret <= 0) {
        db_result_free(t.res);
        return ret;
    }
    *res_r = t.res;
    return ret;
}

int
lease_reclaim_dead(DB *db, const char *owners_sql, const char *release_sql, int (*dead)(const char *owner))
{
    DB_RESULT *res = NULL;
    int ret, total = 0;

    if ((ret = db_query(db, &res, owners_sql, NULL, 0)) < 0)
        return ret;
    for (size_t i = 0; i < db_result_rows(res) && ret >= 0; i++) {
        const char *owner = db_result_get(res, i, 0);

        if (owner == NULL || !dead(owner))
            continue;
        if ((ret = db_exec(db, release_sql, DB_ARGS(DB_STR(owner)))) > 0)
            total += ret;
    }
    db_result_free(res);
    return ret < 0 ? ret : total;
}
