/*
 * dbpool.h -- a bounded set of MariaDB handles shared by a daemon's threads.
 * dbpool_get() hands out an idle handle or makes a new one (connecting lazily);
 * dbpool_put() returns it. A handle whose connection failed is still returned:
 * db.c reconnects it on next use. Thread-safe.
 */
#ifndef PG_DBPOOL_H
#define PG_DBPOOL_H

#include "mail/db.h"

typedef struct dbpool DBPOOL;

/* Keeps at most max_idle handles; cfg is referenced until dbpool_free(). */
DBPOOL *dbpool_new(PGCONF *cfg, unsigned max_idle);
void dbpool_free(DBPOOL *pool);
DB *dbpool_get(DBPOOL *pool);
void dbpool_put(DBPOOL *pool, DB *db);

#endif
