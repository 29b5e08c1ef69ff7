/*
 * tracker.h -- shared between the files of postgate-tracker: the HTTP side (serve.c),
 * the write-behind recorder (recorder.c) and geolocation (geo.c).
 */
#ifndef PG_TRACKER_H
#define PG_TRACKER_H

#include <stddef.h>

#include "mail/conf.h"
#include "mail/dbpool.h"
#include "mail/tracking.h"

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
    struct recorder_item *next;
} RECORDER_ITEM;

/* limit: most items kept; flush_ms: most milliseconds an item waits. */
void recorder_start(DBPOOL *pool, size_t limit, unsigned flush_ms, const char *geoip_database);
/* Queues item (the recorder owns it from now on; dropped with a log line past the limit). */
void recorder_add(RECORDER_ITEM *item);
/* Reloadable settings. */
void recorder_configure(unsigned flush_ms, const char *geoip_database);
/* Writes everything still queued (retrying up to retry_seconds while MariaDB fails) and
 * stops the thread. Returns the number of items that could not be written. */
size_t recorder_stop(int retry_seconds);
/* Counters for the log and the benchmark: items queued, written, dropped. */
void recorder_counts(unsigned long long *queued, unsigned long long *written, unsigned long long *dropped);
void recorder_item_free(RECORDER_ITEM *item);

/* geo.c: a MaxMind database for country and city, or nothing. */
typedef struct geo GEO;

/* NULL when path is empty or the database does not open (logged). */
GEO *geo_open(const char *path);
void geo_close(GEO *geo);
/* Fills country (3 bytes) and city (size bytes) for ip; empty strings when unknown. */
void geo_lookup(GEO *geo, const char *ip, char country[3], char *city, size_t size);

#endif
