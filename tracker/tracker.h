/*
 * tracker.h -- shared between the files of postgate-tracker: the HTTP side (serve.c),
 * the write-behind recorder (recorder.c), its write-ahead spool (spool.c) and
 * geolocation (geo.c).
 */
#ifndef PG_TRACKER_H
#define PG_TRACKER_H

#include <stddef.h>

#include "mail/conf.h"
#include "mail/dbpool.h"
#include "mail/tracking.h"
#include "util/buf.h"

/* serve.c: the libmicrohttpd server. cfg_holder readers take their own reference. */
typedef struct serve SERVE;

SERVE *serve_new(PGCONF *cfg, DBPOOL *pool);
/* Starts serving on listen_fd with cfg->tracker_threads threads: 0, or -1 with *error_r
 * (mem_free it). */
int serve_start(SERVE *srv, int listen_fd, char **error_r);
/* Installs a reloaded configuration (takes the reference). */
void serve_set_config(SERVE *srv, PGCONF *cfg);
/* Stops accepting, lets requests in flight finish (at most drain_seconds), stops. */
void serve_stop(SERVE *srv, int drain_seconds);
void serve_free(SERVE *srv);

typedef struct spool_seg SPOOL_SEG;

/* recorder.c: clicks and loads queued in memory, written in batches by one thread. */
typedef struct recorder_item {
    TRACKING_KIND kind;
    unsigned long long server_id;
    unsigned long long message_id;      /* 0 with a load: resolve server_token/message_token */
    unsigned long long link_id;
    char *url;
    char *token;                        /* link token, or message token of an unresolved load */
    char *server_token;                 /* unresolved loads */
    char *ip;
    char *user_agent;
    double time;
    SPOOL_SEG *seg;                     /* the spool file holding it; NULL: memory only */
    unsigned long long seq;             /* its number in the spool of its run */
    struct recorder_item *next;
} RECORDER_ITEM;

/* limit: most items kept; flush_ms: most milliseconds an item waits. */
void recorder_start(DBPOOL *pool, size_t limit, unsigned flush_ms, const char *geoip_database);
/* Appends item to the spool and queues it (the recorder owns it from now on; dropped
 * with a log line past the limit). Returns once the spool has it: then answer. */
void recorder_add(RECORDER_ITEM *item);
/* Reloadable settings. */
void recorder_configure(unsigned flush_ms, const char *geoip_database);
/* Writes everything still queued (retrying up to retry_seconds while MariaDB fails) and
 * stops the thread. Returns the number of items that could not be written (they stay
 * in the spool, when there is one, for the next start). */
size_t recorder_stop(int retry_seconds);
/* Counters for the log and the benchmark: items queued, written, dropped. */
void recorder_counts(unsigned long long *queued, unsigned long long *written, unsigned long long *dropped);
void recorder_item_free(RECORDER_ITEM *item);

/* spool.c: the write-ahead spool (tracker.spool_directory; empty: none). */
/* As root, before dropping privileges: creates dir owned by user and locks it. 0, or -1
 * with *error_r. Nothing to do for an empty dir. */
int spool_open(const char *dir, const char *user, char **error_r);
int spool_enabled(void);
/* Hands every record earlier runs left to add, in order, and starts this run's first
 * file. Returns the number of records. */
size_t spool_start(void (*add)(RECORDER_ITEM *));
/* The record of it without its SEQ (the line's other fields and its LF), built before
 * taking the recorder's lock so that formatting does not hold up other threads. */
BUF *spool_record(const RECORDER_ITEM *it);
/* Appends it (SEQ and record, as one line), setting it->seg and it->seq; -1 when that
 * failed (logged: it->seg stays NULL, memory only). With the recorder's lock held, so the
 * spool and the queue share one order. */
int spool_append(RECORDER_ITEM *it, const BUF *record);
/* Starts a new file when the current one has records; returns the old one for
 * spool_sync() (NULL when there is none). With the recorder's lock held. */
SPOOL_SEG *spool_rotate(void);
/* Flushes an old file to disk and closes it (without the recorder's lock). */
void spool_sync(SPOOL_SEG *seg);
/* A record of seg is written or dropped for good; the file goes with its last one. */
void spool_release(SPOOL_SEG *seg);
const char *spool_key(const SPOOL_SEG *seg);
/* The runs with no file left (NULL-terminated, caller frees each and the array; NULL
 * when none): their tracker_spools rows can go. */
char **spool_take_forgotten(void);
/* At stop: closes this run's current file (removed when nothing in it is unwritten). */
void spool_close(void);
void spool_free(void);

/* geo.c: a MaxMind database for country and city, or nothing. */
typedef struct geo GEO;

/* NULL when path is empty or the database does not open (logged). */
GEO *geo_open(const char *path);
void geo_close(GEO *geo);
/* Fills country (3 bytes) and city (size bytes) for ip; empty strings when unknown. */
void geo_lookup(GEO *geo, const char *ip, char country[3], char *city, size_t size);

#endif
