/*
 * conf.h -- postgate's configuration: one typed snapshot built from one table.
 *
 * conf_load() reads a libconfig file, applies POSTGATE_<SECTION>_<KEY> environment
 * overrides, checks every value against the table in conf_keys.def and returns an
 * immutable, reference-counted snapshot. A daemon reloads by loading a new snapshot,
 * checking it with conf_reload_check() and swapping the pointer; readers hold a
 * reference while they use one. Errors always name the file, the line and the key.
 */
#ifndef PG_CONF_H
#define PG_CONF_H

#include <pthread.h>
#include <stdio.h>

#define CONF_RELOAD 0x1
#define CONF_STATIC 0x2
#define CONF_SECRET 0x4

typedef struct conf_list {
    char **items;   /* NULL-terminated */
    size_t count;
} CONF_LIST;

typedef enum {
    CONF_TYPE_STR, CONF_TYPE_INT, CONF_TYPE_BOOL, CONF_TYPE_ENUM, CONF_TYPE_LIST
} CONF_TYPE;

/* Key indexes: CONF_K_database_host, ... */
enum conf_key_index {
#define CONF_STR(s, k, ...) CONF_K_##s##_##k,
#define CONF_INT(s, k, ...) CONF_K_##s##_##k,
#define CONF_BOOL(s, k, ...) CONF_K_##s##_##k,
#define CONF_ENUM(s, k, ...) CONF_K_##s##_##k,
#define CONF_LIST(s, k, ...) CONF_K_##s##_##k,
#include "mail/conf_keys.def"
#undef CONF_STR
#undef CONF_INT
#undef CONF_BOOL
#undef CONF_ENUM
#undef CONF_LIST
    CONF_NKEYS
};

/* The snapshot: read the typed fields directly (cfg->database_port). */
typedef struct conf {
#define CONF_STR(s, k, ...) char *s##_##k;
#define CONF_INT(s, k, ...) long long s##_##k;
#define CONF_BOOL(s, k, ...) int s##_##k;
#define CONF_ENUM(s, k, ...) char *s##_##k;
#define CONF_LIST(s, k, ...) CONF_LIST s##_##k;
#include "mail/conf_keys.def"
#undef CONF_STR
#undef CONF_INT
#undef CONF_BOOL
#undef CONF_ENUM
#undef CONF_LIST
    /* Where each value came from: "default", "FILE:LINE" or "env NAME". */
    char *origin[CONF_NKEYS];
    char *path;     /* the file read, or NULL */
    int refcount;
} PGCONF;

/* Description of one key, as the table declares it. */
typedef struct conf_key {
    const char *section;
    const char *name;
    CONF_TYPE type;
    const char *def;
    long long min, max;
    const char *choices;
    int flags;
    const char *doc;
} CONF_KEY;

/*
 * Loads path (NULL or a missing default file: defaults and environment only when
 * allow_missing is set). Returns NULL with *error_r (a string to mem_free) on error.
 */
PGCONF *conf_load(const char *path, int allow_missing, char **error_r);
PGCONF *conf_ref(PGCONF *cfg);
void conf_unref(PGCONF *cfg);

/*
 * The current snapshot of a running daemon, swapped on SIGHUP while other threads read
 * it: each reader takes its own reference with conf_holder_get() and drops it when done,
 * so a swap never frees a snapshot still in use.
 */
typedef struct conf_holder {
    pthread_mutex_t lock;
    PGCONF *cfg;
} CONF_HOLDER;

void conf_holder_init(CONF_HOLDER *h, PGCONF *cfg);     /* takes the caller's reference */
PGCONF *conf_holder_get(CONF_HOLDER *h);                /* a new reference: conf_unref it */
void conf_holder_swap(CONF_HOLDER *h, PGCONF *cfg);     /* takes cfg's reference, drops the old */
void conf_holder_destroy(CONF_HOLDER *h);

/* 0 when new_cfg differs from old only in reloadable keys; else -1 with *error_r naming
 * the key (mem_free it). */
int conf_reload_check(const PGCONF *old_cfg, const PGCONF *new_cfg, char **error_r);

const CONF_KEY *conf_keys(size_t *count_r);
/* The environment variable name of a key: POSTGATE_<SECTION>_<KEY> (static buffer). */
const char *conf_env_name(const CONF_KEY *key);
/* Formats key's value in cfg (secrets as "(set)"/"(empty)") into buf. */
void conf_format_value(const PGCONF *cfg, size_t index, char *buf, size_t len);

/* `config dump`: every effective value and where it came from. */
void conf_dump(const PGCONF *cfg, FILE *fp);
/* The default of key index as conf_keys.def writes it (build-time names unexpanded). */
const char *conf_default_source_of(size_t index);
/* confdoc.c: doc/configuration.md and the postgate.conf(5) page, generated from the table. */
void conf_write_markdown(FILE *fp);
void conf_write_man(FILE *fp);

#endif
