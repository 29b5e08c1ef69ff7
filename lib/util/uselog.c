/*
 * uselog.c -- batched "last used" times (uselog.h).
 */
#include "config.h"

#include "util/mem.h"
#include "util/uselog.h"

void
uselog_touch(USELOG *log, unsigned long long id, time_t when)
{
    pthread_mutex_lock(&log->lock);
    for (size_t i = 0; i < log->count; i++) {
        if (log->items[i].id == id) {
            if (when > log->items[i].when)
                log->items[i].when = when;
            pthread_mutex_unlock(&log->lock);
            return;
        }
    }
    if (log->count == log->cap) {
        log->cap = log->cap ? 2 * log->cap : 64;
        log->items = mem_realloc(log->items, log->cap * sizeof(*log->items));
    }
    log->items[log->count].id = id;
    log->items[log->count++].when = when;
    pthread_mutex_unlock(&log->lock);
}

USELOG_ENTRY *
uselog_take(USELOG *log, size_t *n_r)
{
    USELOG_ENTRY *batch;

    pthread_mutex_lock(&log->lock);
    batch = log->items;
    *n_r = log->count;
    log->items = NULL;
    log->count = log->cap = 0;
    pthread_mutex_unlock(&log->lock);
    return batch;
}
