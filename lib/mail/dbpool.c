/*
 * dbpool.c -- a mutex-protected stack of idle DB handles (dbpool.h).
 */
#include "config.h"

#include <pthread.h>

#include "mail/dbpool.h"
#include "util/mem.h"

struct dbpool {
    pthread_mutex_t lock;
    PGCONF *cfg;
    DB **idle;
    unsigned nidle, max_idle;
};

DBPOOL *
dbpool_new(PGCONF *cfg, unsigned max_idle)
{
    DBPOOL *pool = mem_zalloc(sizeof(*pool));

    pthread_mutex_init(&pool->lock, NULL);
    pool->cfg = conf_ref(cfg);
    pool->max_idle = max_idle ? max_idle : 1;
    pool->idle = mem_zalloc(pool->max_idle * sizeof(DB *));
    return pool;
}

void
dbpool_free(DBPOOL *pool)
{
    if (pool == NULL)
        return;
    for (unsigned i = 0; i < pool->nidle; i++)
        db_free(pool->idle[i]);
    mem_free(pool->idle);
    conf_unref(pool->cfg);
    pthread_mutex_destroy(&pool->lock);
    mem_free(pool);
}

DB *
dbpool_get(DBPOOL *pool)
{
    DB *db = NULL;

    pthread_mutex_lock(&pool->lock);
    if (pool->nidle)
        db = pool->idle[--pool->nidle];
    pthread_mutex_unlock(&pool->lock);
    return db ? db : db_new(pool->cfg);
}

void
dbpool_put(DBPOOL *pool, DB *db)
{
    if (db == NULL)
        return;
    db_rollback(db);
    pthread_mutex_lock(&pool->lock);
    if (pool->nidle < pool->max_idle) {
        pool->idle[pool->nidle++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    db_free(db);
}
