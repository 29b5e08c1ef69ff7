/*
 * migrate.h -- numbered SQL migrations from schema/, applied in order once each.
 *
 * Files are named NNN_description.sql (digits, then [a-z0-9_]); any other *.sql name
 * is an error, other files are ignored. The table schema_migrations records each
 * applied version with the SHA-256 of its file: a file changed after it was applied
 * is refused (migrations are append-only). Running again applies nothing.
 * A lease in the table schema_migration_lock (not GET_LOCK, which Galera does not
 * replicate) keeps two hosts from migrating at once.
 */
#ifndef PG_MIGRATE_H
#define PG_MIGRATE_H

#include <stddef.h>

#include "mail/db.h"

typedef struct migration {
    unsigned version;
    char *name;         /* file name */
    char *path;
} MIGRATION;

typedef struct migration_list {
    MIGRATION *items;
    size_t count;
} MIGRATION_LIST;

/* Lists dir's migrations sorted by version. -1 with *error_r (mem_free it) on error. */
int migrate_scan(const char *dir, MIGRATION_LIST *list, char **error_r);
void migrate_list_free(MIGRATION_LIST *list);
/* Checks a file name; fills *version_r. 0 ok, -1 not a migration name. */
int migrate_parse_name(const char *name, unsigned *version_r);

/* Reports each migration as it is applied; may be NULL. */
typedef void MIGRATE_PROGRESS(const MIGRATION *m, void *context);

/*
 * Applies pending migrations from dir. When must_exist is set and the database has
 * never been migrated, nothing is done and 0 is returned with *uninitialized_r = 1.
 * Returns the number applied (>= 0) or DB_ERR_TEMP/DB_ERR_PERM with *error_r (mem_free it).
 * *version_r receives the schema version afterwards.
 */
int migrate_apply(DB *db, const char *dir, int must_exist, int *uninitialized_r,
                  unsigned *version_r, MIGRATE_PROGRESS *progress, void *context, char **error_r);

/* The schema as the database has it against the migrations in dir, read without the lock
 * and changing nothing (postgatectl status). */
typedef struct migrate_state {
    int initialized;            /* schema_migrations exists */
    unsigned db_version;        /* the highest version applied, 0 none */
    unsigned known_version;     /* the highest version in dir */
    size_t pending;             /* files in dir not applied */
    size_t unknown;             /* applied versions with no file in dir (a newer program migrated) */
    size_t changed;             /* files whose checksum differs from the one recorded */
} MIGRATE_STATE;
/* 0, or DB_ERR_TEMP/DB_ERR_PERM with *error_r (mem_free it). */
int migrate_state(DB *db, const char *dir, MIGRATE_STATE *st, char **error_r);

/* 1 when the database holds tables but no schema_migrations (not postgate's), 0 when
 * not, < 0 (DB_ERR_TEMP / DB_ERR_PERM) with *error_r (mem_free it). */
int migrate_foreign_tables(DB *db, char **error_r);

#endif
