/*
 * dbtxn.c -- db_transaction() (db.h): a multi-statement write that loses a conflict (an
 * InnoDB deadlock, or a Galera certification failure: error 1213, at any statement or at
 * COMMIT) was not applied, so it is rolled back and run whole again after a short random
 * pause. Built on db.h's public calls only.
 *
 * Must never: run a transaction again after a failed COMMIT that may have committed (a
 * lost connection), or retry one statement of a transaction on its own.
 */
#include "config.h"

#include <pthread.h>

#include "mail/db.h"
#include "util/clock.h"
#include "util/metrics.h"
#include "util/msg.h"

/* postgate_db_transaction_retries_total: transactions run again after losing a conflict. */
static METRIC *txn_retries;
static pthread_once_t txn_retries_once = PTHREAD_ONCE_INIT;

static void
txn_retries_init(void)
{
    txn_retries = metrics_counter("postgate_db_transaction_retries_total",
                                  "Transactions rolled back after a deadlock or Galera certification failure and run again",
                                  NULL);
}

int
db_transaction(DB *db, DB_TXN_BODY *body, void *arg)
{
    int ret = DB_ERR_TEMP;

    for (int attempt = 0; attempt < DB_TXN_ATTEMPTS; attempt++) {
        if (attempt > 0) {
            pthread_once(&txn_retries_once, txn_retries_init);
            metrics_inc(txn_retries);
            msg_info("database: transaction lost a conflict (%s); running it again (attempt %d of %d)",
                     db_error(db), attempt + 1, DB_TXN_ATTEMPTS);
            clock_backoff_pause(attempt);
        }
        if ((ret = db_begin(db)) < 0)
            return ret;
        ret = body(db, arg);
        if (ret < 0) {
            db_rollback(db);
        } else {
            int committed = db_commit(db);

            if (committed == 0)
                return ret;
            ret = committed;
            /* A failed COMMIT leaves nothing applied only when the server said so (1213);
             * a connection lost at COMMIT may have committed, so it is never re-run. */
        }
        if (ret != DB_ERR_TEMP || db_errno(db) != DB_ER_LOCK_DEADLOCK)
            return ret;
    }
    return ret;
}
