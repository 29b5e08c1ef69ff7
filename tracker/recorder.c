/*
 * recorder.c -- write-behind for clicks and loads: request threads append each to the
 * spool file (spool.c: in the page cache before the answer, so a crash of the tracker
 * loses nothing answered)
 * and to an in-memory queue (never waiting for MariaDB); one thread writes the queue
 * every tracker.flush_interval_ms in transactions of up to BATCH_SIZE items, each item
 * with its message timestamp and webhook event (tracking_record) and how far its spool
 * is written (tracker_spools), so a batch commits whole or not at all, and an item
 * replayed from the spool or retried after a lost COMMIT answer is written only once.
 *
 * MariaDB unavailable: the items stay queued (up to tracker.queue_limit; past it new
 * ones are dropped and counted in the log) and the next interval tries again. A
 * statement that fails permanently drops only its own item (logged). recorder_stop()
 * writes what is left, retrying for a while, and reports what it could not write
 * (still in the spool for the next start).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "mail/tracking.h"
#include "tracker.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

#define BATCH_SIZE 500
#define LOG_EVERY_SECONDS 30

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    RECORDER_ITEM *head, *tail;
    size_t count, limit;
    unsigned flush_ms;
    int stopping;
    pthread_t thread;
    DBPOOL *pool;
    char *geo_path;             /* wanted; geo is reopened by the writer when it changes */
    char *geo_open_path;
    GEO *geo;
    unsigned long long queued, written, dropped;
    double last_drop_log, last_fail_log;
    int failing;
} rec = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

void
recorder_item_free(RECORDER_ITEM *item)
{
    if (item == NULL)
        return;
    mem_free(item->url);
    mem_free(item->token);
    mem_free(item->server_token);
    mem_free(item->ip);
    mem_free(item->user_agent);
    mem_free(item);
}

/* An item is written, or dropped for good: its spool record is no longer needed. */
static void
item_done(RECORDER_ITEM *item)
{
    if (item->seg)
        spool_release(item->seg);
    recorder_item_free(item);
}

/* Queues an item replayed from the spool (before the writer starts; no limit: each was
 * answered). */
static void
add_replayed(RECORDER_ITEM *item)
{
    item->next = NULL;
    if (rec.tail)
        rec.tail->next = item;
    else
        rec.head = item;
    rec.tail = item;
    rec.count++;
    rec.queued++;
}

void
recorder_add(RECORDER_ITEM *item)
{
    BUF *record = spool_enabled() ? spool_record(item) : NULL;
    double now;

    item->next = NULL;
    pthread_mutex_lock(&rec.lock);
    if (rec.count >= rec.limit) {
        rec.dropped++;
        now = clock_mono_seconds();
        if (now - rec.last_drop_log >= LOG_EVERY_SECONDS) {
            msg_error("%zu clicks and loads are waiting for MariaDB (tracker.queue_limit): %llu dropped so far",
                      rec.count, rec.dropped);
            rec.last_drop_log = now;
        }
        pthread_mutex_unlock(&rec.lock);
        recorder_item_free(item);
        buf_free(record);
        return;
    }
    if (record)
        spool_append(item, record);
    if (rec.tail)
        rec.tail->next = item;
    else
        rec.head = item;
    rec.tail = item;
    rec.count++;
    rec.queued++;
    pthread_mutex_unlock(&rec.lock);
    buf_free(record);
}

/* Puts a list of unwritten items back at the front of the queue (lock held). */
static void
requeue_front(RECORDER_ITEM *list, size_t n)
{
    RECORDER_ITEM *last = list;

    if (list == NULL)
        return;
    while (last->next)
        last = last->next;
    last->next = rec.head;
    rec.head = list;
    if (rec.tail == NULL)
        rec.tail = last;
    rec.count += n;
}

/* Resolves a load queued before its message was known. 1 resolved, 0 nothing to record,
 * < 0 database error. */
static int
resolve(DB *db, RECORDER_ITEM *it)
{
    int ret;

    if (it->message_id != 0)
        return 1;
    if (it->server_id == 0 && (ret = tracking_find_server(db, it->server_token, &it->server_id)) <= 0)
        return ret;
    return tracking_find_message(db, it->server_id, it->token, &it->message_id);
}

/* The hit of a resolved item; country and city point into the buffers given. */
static TRACKING_HIT
hit_of(const RECORDER_ITEM *it, char country[3], char *city, size_t size)
{
    geo_lookup(rec.geo, it->ip, country, city, size);
    return (TRACKING_HIT) {
        .kind = it->kind, .server_id = it->server_id, .message_id = it->message_id, .link_id = it->link_id,
        .url = it->url, .link_token = it->token, .ip = it->ip, .user_agent = it->user_agent,
        .country = *country ? country : NULL, .city = *city ? city : NULL, .time = it->time,
    };
}

typedef struct geo_text {
    char country[3];
    char city[256];
} GEO_TEXT;

/* How far one spool of a batch is written: before it (read) and with it. */
typedef struct spool_mark {
    const char *key;
    unsigned long long written, last;
} SPOOL_MARK;

/* The mark of it's spool in marks[0..*n), read from tracker_spools on first sight. NULL
 * with *ret_r < 0 on a database error. */
static SPOOL_MARK *
spool_mark(DB *db, SPOOL_MARK *marks, size_t *n, const RECORDER_ITEM *it, int *ret_r)
{
    const char *key = spool_key(it->seg);
    SPOOL_MARK *m;

    for (size_t i = 0; i < *n; i++)
        if (strcmp(marks[i].key, key) == 0)
            return &marks[i];
    m = &marks[*n];
    m->key = key;
    m->last = 0;
    if ((*ret_r = tracking_spool_written(db, key, &m->written)) < 0)
        return NULL;
    (*n)++;
    return m;
}

typedef struct batch_txn {
    RECORDER_ITEM **items;
    size_t n;
    TRACKING_HIT *hits;
    GEO_TEXT *geo;
    SPOOL_MARK *marks;
    size_t skipped;             /* of the last run */
} BATCH_TXN;

/* One run of the batch: every count starts afresh, since a run lost to a conflict wrote nothing. */
static int
batch_txn(DB *db, void *arg)
{
    BATCH_TXN *t = arg;
    size_t nhits = 0, nmarks = 0;
    int ret = 0;

    t->skipped = 0;
    for (size_t i = 0; i < t->n && ret >= 0; i++) {
        int r;

        if (t->items[i]->seg) {
            SPOOL_MARK *m = spool_mark(db, t->marks, &nmarks, t->items[i], &ret);

            if (m == NULL)
                break;
            if (t->items[i]->seq > m->last)
                m->last = t->items[i]->seq;
            /* Written before a crash, or by a COMMIT whose answer was lost. */
            if (t->items[i]->seq <= m->written) {
                t->skipped++;
                continue;
            }
        }
        r = resolve(db, t->items[i]);

        if (r < 0) {
            ret = r;
        } else if (r > 0) {
            t->hits[nhits] = hit_of(t->items[i], t->geo[nhits].country, t->geo[nhits].city,
                                    sizeof(t->geo[nhits].city));
            nhits++;
        }
    }
    if (ret >= 0)
        ret = tracking_record_batch(db, t->hits, nhits);
    for (size_t i = 0; i < nmarks && ret >= 0; i++)
        if (t->marks[i].last > t->marks[i].written)
            ret = tracking_spool_mark(db, t->marks[i].key, t->marks[i].last);
    return ret < 0 ? ret : 0;
}

/* Writes items[0..n) in one transaction. 0 ok, < 0 database error (rolled back). */
static int
write_batch(DB *db, RECORDER_ITEM **items, size_t n)
{
    BATCH_TXN t = {
        .items = items, .n = n, .hits = mem_alloc((n ? n : 1) * sizeof(*t.hits)),
        .geo = mem_alloc((n ? n : 1) * sizeof(*t.geo)), .marks = mem_alloc((n ? n : 1) * sizeof(*t.marks)),
    };
    int ret = db_transaction(db, batch_txn, &t);

    if (ret >= 0 && t.skipped)
        msg_info("%zu clicks and loads were written before (a crash or a lost COMMIT answer): not again", t.skipped);
    mem_free(t.hits);
    mem_free(t.geo);
    mem_free(t.marks);
    return ret < 0 ? ret : 0;
}

/* Deletes the tracker_spools rows of runs with no spool file left (best effort: a row
 * left behind only takes a few bytes). */
static void
forget_spools(DB *db)
{
    char **keys = spool_take_forgotten();

    if (keys == NULL)
        return;
    for (size_t i = 0; keys[i]; i++) {
        if (tracking_spool_forget(db, keys[i]) < 0)
            msg_warn("spool %s: cannot delete its tracker_spools row: %s", keys[i], db_error(db));
        mem_free(keys[i]);
    }
    mem_free(keys);
}

/*
 * Writes list in batches of BATCH_SIZE. A batch MariaDB refuses permanently is written
 * again item by item, so only the item at fault is dropped (logged). Returns what could
 * not be written (MariaDB unavailable), in order, with its length in *left_r.
 */
static RECORDER_ITEM *
write_list(RECORDER_ITEM *list, size_t *left_r)
{
    DB *db = dbpool_get(rec.pool);
    RECORDER_ITEM *batch[BATCH_SIZE];
    unsigned long long done = 0;
    int ret = 0;

    *left_r = 0;
    while (list && ret >= 0) {
        size_t n = 0;

        for (RECORDER_ITEM *it = list; it && n < BATCH_SIZE; it = it->next)
            batch[n++] = it;
        ret = write_batch(db, batch, n);
        if (ret == DB_ERR_PERM) {
            ret = 0;
            for (size_t i = 0; i < n && ret >= 0; i++) {
                ret = write_batch(db, &batch[i], 1);
                if (ret == DB_ERR_PERM) {
                    msg_warn("dropping a %s of message %llu that MariaDB refuses: %s",
                             batch[i]->kind == TRACKING_CLICK ? "click" : "load", batch[i]->message_id,
                             db_error(db));
                    ret = 0;
                }
                if (ret >= 0) {
                    list = batch[i]->next;
                    item_done(batch[i]);
                    done++;
                }
            }
            continue;
        }
        if (ret < 0)
            break;
        for (size_t i = 0; i < n; i++) {
            list = batch[i]->next;
            item_done(batch[i]);
        }
        done += n;
    }
    if (ret < 0) {
        double now = clock_mono_seconds();

        for (RECORDER_ITEM *it = list; it; it = it->next)
            (*left_r)++;
        if (!rec.failing || now - rec.last_fail_log >= LOG_EVERY_SECONDS) {
            msg_warn("MariaDB unavailable (%s): %zu clicks and loads kept, retrying", db_error(db), *left_r);
            rec.last_fail_log = now;
        }
        rec.failing = 1;
    }
    if (ret >= 0)
        forget_spools(db);
    dbpool_put(rec.pool, db);
    if (list == NULL && rec.failing) {
        msg_info("MariaDB is back: the waiting clicks and loads are written");
        rec.failing = 0;
    }
    pthread_mutex_lock(&rec.lock);
    rec.written += done;
    pthread_mutex_unlock(&rec.lock);
    return list;
}

/* Reopens the geolocation database when its configured path changed (writer thread). */
static void
geo_refresh(void)
{
    char *want;

    pthread_mutex_lock(&rec.lock);
    want = mem_strdup_null(rec.geo_path);
    pthread_mutex_unlock(&rec.lock);
    if ((want == NULL) != (rec.geo_open_path == NULL)
        || (want && strcmp(want, rec.geo_open_path) != 0)) {
        geo_close(rec.geo);
        rec.geo = geo_open(want);
        mem_free(rec.geo_open_path);
        rec.geo_open_path = want;
        return;
    }
    mem_free(want);
}

/* Takes the whole queue and writes it; puts back what could not be written. 1 when
 * something is left. */
static int
flush_once(void)
{
    RECORDER_ITEM *list, *left;
    SPOOL_SEG *old = NULL;
    size_t nleft;

    geo_refresh();
    pthread_mutex_lock(&rec.lock);
    list = rec.head;
    rec.head = rec.tail = NULL;
    rec.count = 0;
    /* Everything in the spool's current file is in list: new items go to a new file. */
    if (list && spool_enabled())
        old = spool_rotate();
    pthread_mutex_unlock(&rec.lock);
    if (old)
        spool_sync(old);
    if (list == NULL)
        return 0;
    left = write_list(list, &nleft);
    if (left == NULL)
        return 0;
    pthread_mutex_lock(&rec.lock);
    requeue_front(left, nleft);
    pthread_mutex_unlock(&rec.lock);
    return 1;
}

static void *
writer(void *arg)
{
    pthread_mutex_lock(&rec.lock);
    while (!rec.stopping) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += rec.flush_ms / 1000;
        until.tv_nsec += (long) (rec.flush_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!rec.stopping && pthread_cond_timedwait(&rec.wake, &rec.lock, &until) != ETIMEDOUT)
            ;
        if (rec.stopping)
            break;
        pthread_mutex_unlock(&rec.lock);
        flush_once();
        pthread_mutex_lock(&rec.lock);
    }
    pthread_mutex_unlock(&rec.lock);
    return NULL;
}

void
recorder_start(DBPOOL *pool, size_t limit, unsigned flush_ms, const char *geoip_database)
{
    int err;

    rec.pool = pool;
    rec.limit = limit;
    rec.flush_ms = flush_ms;
    rec.geo_path = *geoip_database ? mem_strdup(geoip_database) : NULL;
    geo_refresh();
    spool_start(add_replayed);
    if ((err = pthread_create(&rec.thread, NULL, writer, NULL)) != 0)
        msg_fatal("cannot start the recorder thread: %s", strerror(err));
}

void
recorder_configure(unsigned flush_ms, const char *geoip_database)
{
    pthread_mutex_lock(&rec.lock);
    rec.flush_ms = flush_ms;
    mem_free(rec.geo_path);
    rec.geo_path = *geoip_database ? mem_strdup(geoip_database) : NULL;
    pthread_cond_signal(&rec.wake);
    pthread_mutex_unlock(&rec.lock);
}

size_t
recorder_stop(int retry_seconds)
{
    double deadline = clock_mono_seconds() + retry_seconds;
    size_t lost;

    pthread_mutex_lock(&rec.lock);
    rec.stopping = 1;
    pthread_cond_signal(&rec.wake);
    pthread_mutex_unlock(&rec.lock);
    pthread_join(rec.thread, NULL);
    while (flush_once() && clock_mono_seconds() < deadline) {
        struct timespec pause = {0, 500000000L};

        nanosleep(&pause, NULL);
    }
    pthread_mutex_lock(&rec.lock);
    lost = rec.count;
    while (rec.head) {
        RECORDER_ITEM *it = rec.head;

        rec.head = it->next;
        recorder_item_free(it);         /* its spool record stays */
    }
    rec.tail = NULL;
    rec.count = 0;
    pthread_mutex_unlock(&rec.lock);
    spool_close();
    if (lost == 0) {
        DB *db = dbpool_get(rec.pool);

        forget_spools(db);
        dbpool_put(rec.pool, db);
    }
    if (lost && spool_enabled())
        msg_error("stopping with MariaDB unavailable: %zu clicks and loads could not be written; "
                  "they stay in the spool for the next start", lost);
    else if (lost)
        msg_error("stopping with MariaDB unavailable: %zu clicks and loads could not be written", lost);
    spool_free();
    geo_close(rec.geo);
    rec.geo = NULL;
    mem_free(rec.geo_path);
    mem_free(rec.geo_open_path);
    rec.geo_path = rec.geo_open_path = NULL;
    return lost;
}

void
recorder_counts(unsigned long long *queued, unsigned long long *written, unsigned long long *dropped)
{
    pthread_mutex_lock(&rec.lock);
    *queued = rec.queued;
    *written = rec.written;
    *dropped = rec.dropped;
    pthread_mutex_unlock(&rec.lock);
}
