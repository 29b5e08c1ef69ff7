/*
 * migrate.c -- schema migrations (see migrate.h). The runner owns schema_migrations;
 * migration files never create it. DDL commits implicitly in MariaDB, so a file that
 * fails half way is reported with the failing statement; the files are written to be
 * re-runnable (CREATE ... IF NOT EXISTS) so running upgrade-db again finishes it.
 * The migration lock is a lease in the one-row table schema_migration_lock, not
 * GET_LOCK(): on a Galera cluster a named lock exists on one node only, so two hosts
 * on two nodes would both migrate.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail/migrate.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

#define MIGRATE_LOCK_TIMEOUT 60
/* The lease is renewed before each file; one file may take this long before another
 * host may decide the holder died. */
#define MIGRATE_LOCK_LEASE 900
#define MIGRATE_MAX_FILE (16 * 1024 * 1024)

int
migrate_parse_name(const char *name, unsigned *version_r)
{
    const char *p = name;
    unsigned long v = 0;
    size_t digits = 0, len = strlen(name);

    if (len < 6 || strcmp(name + len - 4, ".sql") != 0)
        return -1;
    while (isdigit((unsigned char) *p)) {
        v = v * 10 + (unsigned long) (*p - '0');
        if (v > 999999)
            return -1;
        p++;
        digits++;
    }
    if (digits < 3 || *p != '_' || p + 1 == name + len - 4)
        return -1;
    for (p++; p < name + len - 4; p++)
        if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '_'))
            return -1;
    if (v == 0)
        return -1;
    *version_r = (unsigned) v;
    return 0;
}

static int
migration_cmp(const void *a, const void *b)
{
    const MIGRATION *ma = a, *mb = b;

    return ma->version < mb->version ? -1 : ma->version > mb->version;
}

void
migrate_list_free(MIGRATION_LIST *list)
{
    for (size_t i = 0; i < list->count; i++) {
        mem_free(list->items[i].name);
        mem_free(list->items[i].path);
    }
    mem_free(list->items);
    list->items = NULL;
    list->count = 0;
}

int
migrate_scan(const char *dir, MIGRATION_LIST *list, char **error_r)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    list->items = NULL;
    list->count = 0;
    if (d == NULL) {
        *error_r = buf_asprintf("migrations directory %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        unsigned version;

        if (len < 4 || strcmp(de->d_name + len - 4, ".sql") != 0)
            continue;
        if (migrate_parse_name(de->d_name, &version) < 0) {
            *error_r = buf_asprintf("%s/%s: not a migration name (expected NNN_description.sql, "
                              "lowercase letters, digits and _)", dir, de->d_name);
            closedir(d);
            migrate_list_free(list);
            return -1;
        }
        list->items = mem_realloc(list->items, (list->count + 1) * sizeof(MIGRATION));
        list->items[list->count].version = version;
        list->items[list->count].name = mem_strdup(de->d_name);
        list->items[list->count].path = buf_asprintf("%s/%s", dir, de->d_name);
        list->count++;
    }
    closedir(d);
    if (list->count)
        qsort(list->items, list->count, sizeof(MIGRATION), migration_cmp);
    for (size_t i = 1; i < list->count; i++) {
        if (list->items[i].version == list->items[i - 1].version) {
            *error_r = buf_asprintf("%s: two migrations numbered %u: %s and %s", dir,
                              list->items[i].version, list->items[i - 1].name, list->items[i].name);
            migrate_list_free(list);
            return -1;
        }
    }
    if (list->count == 0) {
        *error_r = buf_asprintf("migrations directory %s holds no NNN_*.sql files", dir);
        return -1;
    }
    return 0;
}

static int
read_file(const char *path, BUF *out, char **error_r)
{
    FILE *fp = fopen(path, "r");
    char chunk[8192];
    size_t n;

    if (fp == NULL) {
        *error_r = buf_asprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    buf_set_limit(out, MIGRATE_MAX_FILE);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (buf_append(out, chunk, n) < 0) {
            *error_r = buf_asprintf("%s: larger than %d bytes", path, MIGRATE_MAX_FILE);
            fclose(fp);
            return -1;
        }
    }
    if (ferror(fp)) {
        *error_r = buf_asprintf("%s: read error", path);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    return 0;
}

static int
db_failed(DB *db, int ret, const char *what, char **error_r)
{
    *error_r = buf_asprintf("%s: %s", what, db_error(db));
    return ret;
}

int
migrate_foreign_tables(DB *db, char **error_r)
{
    DB_RESULT *res;
    int ret;
    int foreign;

    ret = db_query(db, &res,
                   "SELECT COUNT(*), SUM(table_name IN ('schema_migrations', 'schema_migration_lock')) "
                   "FROM information_schema.tables WHERE table_schema = DATABASE()", DB_NOARGS);
    if (ret < 0)
        return db_failed(db, ret, "listing tables", error_r);
    /* Only our lock table (made just before schema_migrations) is not foreign either. */
    foreign = atoi(db_result_get(res, 0, 0) ? db_result_get(res, 0, 0) : "0") > 0
        && atoi(db_result_get(res, 0, 1) ? db_result_get(res, 0, 1) : "0") == 0;
    db_result_free(res);
    return foreign;
}

/* Takes (or, already ours, renews) the migration lease for owner: 1 taken, 0 another
 * host holds it, < 0 database error. Plain row writes, so Galera certifies them: of two
 * hosts racing on two nodes one gets the row and the other 0 rows or a conflict. */
static int
lock_try(DB *db, const char *owner)
{
    int ret = db_exec(db, "UPDATE schema_migration_lock SET locked_by = ?, "
                      "locked_until = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE id = 1 AND "
                      "(locked_by IS NULL OR locked_by = ? OR locked_until < UTC_TIMESTAMP(6))",
                      DB_ARGS(DB_STR(owner), DB_INT(MIGRATE_LOCK_LEASE), DB_STR(owner)));

    return ret < 0 ? ret : ret > 0;
}

/* Waits up to MIGRATE_LOCK_TIMEOUT seconds for the migration lease: 1, 0 (timed out), < 0. */
static int
lock_take(DB *db, const char *owner)
{
    int ret = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migration_lock ("
                      " id TINYINT UNSIGNED NOT NULL PRIMARY KEY,"
                      " locked_by VARCHAR(255) NULL,"
                      " locked_until DATETIME(6) NULL"
                      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci", DB_NOARGS);

    if (ret >= 0)
        ret = db_exec(db, "INSERT IGNORE INTO schema_migration_lock (id) VALUES (1)", DB_NOARGS);
    for (int waited = 0; ret >= 0; waited++) {
        if ((ret = lock_try(db, owner)) != 0)
            return ret;
        if (waited >= MIGRATE_LOCK_TIMEOUT)
            return 0;
        sleep(1);
    }
    return ret;
}

/* Gives the migration lease back whatever happened (an error leaves it to expire). */
static void
unlock(DB *db, const char *owner)
{
    (void) db_exec(db, "UPDATE schema_migration_lock SET locked_by = NULL, locked_until = NULL "
                   "WHERE id = 1 AND locked_by = ?", DB_ARGS(DB_STR(owner)));
}

/* Uninitialized: no schema_migrations table. 1, 0, or < 0. */
static int
uninitialized(DB *db)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT COUNT(*) FROM information_schema.tables "
                       "WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'", DB_NOARGS);

    if (ret < 0)
        return ret;
    ret = strcmp(db_result_get(res, 0, 0), "0") == 0;
    db_result_free(res);
    return ret;
}

int
migrate_apply(DB *db, const char *dir, int must_exist, int *uninitialized_r,
              unsigned *version_r, MIGRATE_PROGRESS *progress, void *context, char **error_r)
{
    MIGRATION_LIST list;
    DB_RESULT *res = NULL;
    BUF *text = NULL;
    int ret, applied = 0;
    char owner[300], host[256] = "", nonce[9];

    *uninitialized_r = 0;
    *version_r = 0;
    if (migrate_scan(dir, &list, error_r) < 0)
        return DB_ERR_PERM;
    /* A database never migrated is left untouched (no lock table either) when it must exist. */
    if (must_exist && (ret = uninitialized(db)) != 0) {
        migrate_list_free(&list);
        if (ret < 0)
            return db_failed(db, ret, "looking for schema_migrations", error_r);
        *uninitialized_r = 1;
        return 0;
    }
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    if (token_generate(nonce, sizeof(nonce) - 1, TOKEN_HEX) < 0)
        snprintf(nonce, sizeof(nonce), "%ld", (long) time(NULL));
    snprintf(owner, sizeof(owner), "%s/%ld/%s", host, (long) getpid(), nonce);
    if ((ret = lock_take(db, owner)) <= 0) {
        migrate_list_free(&list);
        if (ret < 0)
            return db_failed(db, ret, "taking the migration lock", error_r);
        *error_r = buf_asprintf("another host has been migrating this database for %d seconds; try again later",
                          MIGRATE_LOCK_TIMEOUT);
        return DB_ERR_TEMP;
    }

    ret = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                  " version INT UNSIGNED NOT NULL PRIMARY KEY,"
                  " name VARCHAR(255) NOT NULL,"
                  " checksum CHAR(64) NOT NULL,"
                  " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
                  ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci", DB_NOARGS);
    if (ret < 0) {
        ret = db_failed(db, ret, "creating schema_migrations", error_r);
        goto out;
    }
    ret = db_query(db, &res, "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
                   DB_NOARGS);
    if (ret < 0) {
        ret = db_failed(db, ret, "reading schema_migrations", error_r);
        goto out;
    }
    text = buf_new(65536);
    for (size_t i = 0; i < list.count; i++) {
        const MIGRATION *m = &list.items[i];
        const char *recorded = NULL;
        char sum[65];
        int failed_stmt;

        buf_reset(text);
        if (read_file(m->path, text, error_r) < 0) {
            ret = DB_ERR_PERM;
            goto out;
        }
        token_sha256_hex(buf_data(text), buf_len(text), sum);
        for (size_t r = 0; r < db_result_rows(res); r++)
            if ((unsigned) strtoul(db_result_get(res, r, 0), NULL, 10) == m->version)
                recorded = db_result_get(res, r, 2);
        if (recorded) {
            if (strcmp(recorded, sum) != 0) {
                *error_r = buf_asprintf("%s was changed after it was applied (checksum differs); "
                                  "migrations are append-only: put the change in a new file", m->path);
                ret = DB_ERR_PERM;
                goto out;
            }
            *version_r = m->version;
            continue;
        }
        if ((ret = lock_try(db, owner)) <= 0) {
            *error_r = ret < 0 ? buf_asprintf("renewing the migration lock: %s", db_error(db))
                               : buf_asprintf("the migration lock expired before %s; run upgrade-db again", m->path);
            ret = ret < 0 ? ret : DB_ERR_TEMP;
            goto out;
        }
        ret = db_run_script(db, buf_cstr(text), buf_len(text), &failed_stmt);
        if (ret < 0) {
            *error_r = buf_asprintf("%s: statement %d failed: %s", m->path, failed_stmt, db_error(db));
            goto out;
        }
        ret = db_exec(db, "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                      DB_ARGS(DB_UINT(m->version), DB_STR(m->name), DB_STR(sum)));
        if (ret < 0) {
            ret = db_failed(db, ret, "recording the migration", error_r);
            goto out;
        }
        *version_r = m->version;
        applied++;
        if (progress)
            progress(m, context);
    }
    /* The database may be newer than this program's files: say so rather than guess. */
    for (size_t r = 0; r < db_result_rows(res); r++) {
        unsigned v = (unsigned) strtoul(db_result_get(res, r, 0), NULL, 10);

        if (v > *version_r)
            *version_r = v;
    }
    ret = applied;
out:
    buf_free(text);
    db_result_free(res);
    unlock(db, owner);
    migrate_list_free(&list);
    return ret;
}

int
migrate_state(DB *db, const char *dir, MIGRATE_STATE *st, char **error_r)
{
    MIGRATION_LIST list;
    DB_RESULT *res = NULL;
    BUF *text = buf_new(65536);
    int ret;

    memset(st, 0, sizeof(*st));
    if (migrate_scan(dir, &list, error_r) < 0) {
        buf_free(text);
        return DB_ERR_PERM;
    }
    if (list.count)
        st->known_version = list.items[list.count - 1].version;
    ret = db_query(db, &res, "SELECT COUNT(*) FROM information_schema.tables "
                   "WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'", DB_NOARGS);
    if (ret < 0) {
        ret = db_failed(db, ret, "looking for schema_migrations", error_r);
        goto out;
    }
    st->initialized = strcmp(db_result_get(res, 0, 0), "0") != 0;
    db_result_free(res);
    res = NULL;
    if (!st->initialized) {
        st->pending = list.count;
        ret = 0;
        goto out;
    }
    ret = db_query(db, &res, "SELECT version, checksum FROM schema_migrations ORDER BY version", DB_NOARGS);
    if (ret < 0) {
        ret = db_failed(db, ret, "reading schema_migrations", error_r);
        goto out;
    }
    for (size_t r = 0; r < db_result_rows(res); r++) {
        unsigned v = (unsigned) strtoul(db_result_get(res, r, 0), NULL, 10);
        const MIGRATION *m = NULL;
        char sum[65];

        if (v > st->db_version)
            st->db_version = v;
        for (size_t i = 0; i < list.count && m == NULL; i++)
            if (list.items[i].version == v)
                m = &list.items[i];
        if (m == NULL) {
            st->unknown++;
            continue;
        }
        buf_reset(text);
        if (read_file(m->path, text, error_r) < 0) {
            ret = DB_ERR_PERM;
            goto out;
        }
        token_sha256_hex(buf_data(text), buf_len(text), sum);
        if (strcmp(sum, db_result_get(res, r, 1)) != 0)
            st->changed++;
    }
    for (size_t i = 0; i < list.count; i++) {
        int applied = 0;

        for (size_t r = 0; r < db_result_rows(res) && !applied; r++)
            applied = (unsigned) strtoul(db_result_get(res, r, 0), NULL, 10) == list.items[i].version;
        st->pending += !applied;
    }
    ret = 0;
out:
    buf_free(text);
    db_result_free(res);
    migrate_list_free(&list);
    return ret;
}
