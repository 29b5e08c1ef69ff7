/*
 * pfqueue.h -- Postfix's queue as postqueue(1) lists it: `postqueue -c DIR -j` run with a
 * fixed argv and no shell (util/run.h), within PFQUEUE_TIMEOUT seconds and
 * PFQUEUE_OUTPUT_MAX bytes, and its JSON lines (one object per queued message, Postfix
 * 3.1 and later) taken apart with jansson. The management API lists the entries,
 * `postgatectl status` counts them per queue (maildrop, incoming, active, deferred, hold).
 *
 * Must never: run postqueue through a shell or put anything but the configured path and
 * directory on its command line, or count a line that is not a JSON object.
 */
#ifndef PG_PFQUEUE_H
#define PG_PFQUEUE_H

#include <jansson.h>

#include "util/buf.h"

#define PFQUEUE_TIMEOUT 10
#define PFQUEUE_OUTPUT_MAX (16u * 1024 * 1024)

/* Messages per queue; other: a queue_name this code does not know. */
typedef struct pfqueue_counts {
    unsigned long long maildrop, incoming, active, deferred, hold, other;
} PFQUEUE_COUNTS;

/*
 * Runs path -c config_dir -j, its stdout into out (*truncated_r set when the output limit
 * cut it). 1 ok; 0 path is not an executable absolute path (nothing was run); -1 it failed
 * (*status_r its exit status, -1 killed or not started; *error_r the first line it wrote
 * on stderr, possibly "", mem_free it).
 */
int pfqueue_run(const char *path, const char *config_dir, BUF *out, int *truncated_r, int *status_r,
                char **error_r);

/* Called with each entry (borrowed: json_incref it to keep it). */
typedef void PFQUEUE_ENTRY_FN(json_t *entry, void *arg);
/* Hands each line of text (postqueue -j output) that is a JSON object to fn; with
 * truncated, the last line without a newline (the one the limit cut) is dropped. Returns
 * how many non-empty lines were not JSON objects. */
int pfqueue_parse(const char *text, int truncated, PFQUEUE_ENTRY_FN *fn, void *arg);
/* A PFQUEUE_ENTRY_FN: adds the entry to the PFQUEUE_COUNTS arg by its queue_name. */
void pfqueue_count_entry(json_t *entry, void *arg);

/* Runs postqueue and counts: 0, or -1 with *error_r (mem_free it) saying why not. */
int pfqueue_count(const char *path, const char *config_dir, PFQUEUE_COUNTS *counts, char **error_r);

#endif
