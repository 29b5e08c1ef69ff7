/*
 * lease.c -- claiming due rows under a lease (lease.h).
 */
#include "config.h"

#include <stdlib.h>

#include <jansson.h>

#include "mail/lease.h"

int
lease_claim(DB *db, const char *select_sql, const DB_PARAM *params, size_t nparams, const char *lease_sql,
            const char *owner, unsigned lease_seconds, DB_RESULT **res_r)
{
    DB_RESULT *res = NULL;
    json_t *ids;
    char *ids_json;
    size_t n;
    int ret;

    *res_r = NULL;
    if ((ret = db_begin(db)) < 0)
        return ret;
    if ((ret = db_query(db, &res, select_sql, params, nparams)) <= 0) {
        db_result_free(res);
        if (ret < 0) {
            db_rollback(db);
            return ret;
        }
        return db_commit(db) < 0 ? DB_ERR_TEMP : 0;
    }
    n = db_result_rows(res);
    ids = json_array();
    for (size_t r = 0; r < n; r++)
        json_array_append_new(ids, json_integer((json_int_t) strtoull(db_result_get(res, r, 0), NULL, 10)));
    ids_json = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    /* The lease: the rows are ours until locked_until, and due again then if we vanish. */
    ret = db_exec(db, lease_sql, DB_ARGS(DB_STR(ids_json), DB_STR(owner), DB_UINT(lease_seconds),
                                         DB_UINT(lease_seconds)));
    free(ids_json);
    if (ret < 0 || (ret = db_commit(db)) < 0) {
        if (ret < 0)
            db_rollback(db);
        db_result_free(res);
        return ret;
    }
    *res_r = res;
    return (int) n;
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
