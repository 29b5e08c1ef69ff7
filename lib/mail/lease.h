/*
 * lease.h -- claiming due rows of a work table under a lease, the one shape the endpoint
 * queue (queue.h) and the webhook outbox (webhook.h) share.
 *
 * Contract: lease_claim() runs, in one transaction, the owning module's SELECT (due rows,
 * FOR UPDATE SKIP LOCKED, the row id in its first column) and then its lease UPDATE, which
 * takes exactly four parameters: the claimed ids as a JSON array (for JSON_TABLE), the
 * owner, and the lease in seconds twice (locked_until, next_attempt_at). Workers on any
 * number of hosts never claim one row at once; a worker that dies leaves rows that fall
 * due again when the lease ends. The SQL stays in the module that owns the table.
 *
 * Must never: return rows whose lease was not committed.
 */
#ifndef PG_LEASE_H
#define PG_LEASE_H

#include "mail/db.h"

/* The number of rows claimed (their SELECT result in *res_r: db_result_free it), 0 (none
 * due, *res_r NULL), or < 0 (rolled back). */
int lease_claim(DB *db, const char *select_sql, const DB_PARAM *params, size_t nparams, const char *lease_sql,
                const char *owner, unsigned lease_seconds, DB_RESULT **res_r);

/*
 * Gives back the leases of holders that are gone: OWNERS_SQL lists the distinct lease
 * holders (one column); for each one dead() says is gone, RELEASE_SQL runs with it as its
 * one parameter. The SQL stays in the owning module. Rows given back, or < 0.
 */
int lease_reclaim_dead(DB *db, const char *owners_sql, const char *release_sql, int (*dead)(const char *owner));

#endif
