/*
 * uselog.h -- "last used" times collected in memory and written in batches, so that
 * recording a use (a login, an API call) never costs a database write per request.
 * Thread-safe. A use of an id already pending only moves its time forward.
 */
#ifndef PG_USELOG_H
#define PG_USELOG_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

typedef struct uselog_entry {
    unsigned long long id;
    time_t when;
} USELOG_ENTRY;

typedef struct uselog {
    pthread_mutex_t lock;
    USELOG_ENTRY *items;
    size_t count, cap;
} USELOG;

#define USELOG_INIT {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0}

void uselog_touch(USELOG *log, unsigned long long id, time_t when);
/* Takes every pending use (*n_r of them; mem_free the array); the log starts empty. */
USELOG_ENTRY *uselog_take(USELOG *log, size_t *n_r);

#endif
