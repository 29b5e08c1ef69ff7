/*
 * ctl_db.c -- `postgatectl initialize` and `upgrade-db`: create the database and bring
 * its schema to the version of the installed migrations. Safe to run again and from
 * several hosts at once (the migration runner takes a database lock).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "mail/db.h"
#include "mail/migrate.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/seal.h"
#include "mail/dkim.h"
#include <fcntl.h>

static void
report(const MIGRATION *m, void *context)
{
    printf("applied %s\n", m->name);
    fflush(stdout);
}

/* Database names go into CREATE DATABASE, which takes no parameters: allow a safe set only. */
static int
db_name_ok(const char *name)
{
    if (*name == '\0')
        return 0;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char) *p) || *p == '_'))
            return 0;
    return 1;
}

static int
create_database(DB *db, const PGCONF *cfg)
{
    /* The name is validated by db_name_ok: letters, digits and _ only. */
    char sql[256];
    int ret;

    snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS `%s` "
             "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", cfg->database_name);
    if ((ret = db_connect(db, 1)) < 0)
        return ret;
    int failed;

    ret = db_run_script(db, sql, strlen(sql), &failed);
    if (ret < 0)
        return ret;
    printf("created database %s\n", cfg->database_name);
    return db_connect(db, 0);
}

static int
run_migrations(CTL_CONTEXT *ctx, int initialize)
{
    const PGCONF *cfg = ctx->cfg;
    DB *db = db_new(cfg);
    unsigned version = 0;
    int uninitialized = 0, ret, status = EX_OK;
    char *error = NULL;

    if (initialize && !db_name_ok(cfg->database_name)) {
        msg_error("%s: database.name \"%s\": use letters, digits and _ only",
                  cfg->origin[CONF_K_database_name], cfg->database_name);
        db_free(db);
        return EX_CONFIG;
    }
    ret = db_connect(db, 0);
    if (ret < 0 && initialize && db_errno(db) == DB_ER_BAD_DB)
        ret = create_database(db, cfg);
    if (ret < 0 && !initialize && db_errno(db) == DB_ER_BAD_DB) {
        msg_error("database %s does not exist: run postgatectl initialize", cfg->database_name);
        db_free(db);
        return EX_CONFIG;
    }
    if (ret < 0) {
        msg_error("database unavailable: %s", db_error(db));
        db_free(db);
        return ctl_db_status(DB_ERR_TEMP);
    }
    if (initialize) {
        ret = migrate_foreign_tables(db, &error);
        if (ret != 0) {
            if (ret > 0)
                msg_error("database %s already holds tables that postgate did not create; "
                          "use an empty database", cfg->database_name);
            else
                msg_error("%s", error);
            mem_free(error);
            db_free(db);
            return ret > 0 ? EX_DATAERR : ctl_db_status(ret);
        }
    }
    ret = migrate_apply(db, cfg->database_migrations_dir, !initialize, &uninitialized, &version,
                        report, NULL, &error);
    if (ret < 0) {
        msg_error("%s", error);
        mem_free(error);
        status = ctl_db_status(ret);
    } else if (uninitialized) {
        msg_error("database %s has not been initialized: run postgatectl initialize",
                  cfg->database_name);
        status = EX_CONFIG;
    } else if (ret == 0) {
        printf("database %s is up to date at schema version %u\n", cfg->database_name, version);
    } else {
        printf("database %s %s at schema version %u (%d migration%s applied)\n", cfg->database_name,
               initialize ? "initialized" : "upgraded", version, ret, ret == 1 ? "" : "s");
    }
    db_free(db);
    return status;
}

/* The installation's secret key: created once, never replaced (sealed data depends on it). */
static int
ensure_secret_key(const PGCONF *cfg)
{
    const char *path = cfg->security_secret_key_file;
    char *error = NULL;

    if (access(path, F_OK) == 0)
        return EX_OK;
    if (seal_key_create(path, &error) < 0) {
        msg_error("%s", error);
        mem_free(error);
        return EX_CANTCREAT;
    }
    printf("created secret key %s (copy it to every postgate host of this site; keep it private)\n", path);
    return EX_OK;
}

/* The return-path domain's DKIM key, for mail whose From domain has none. Never replaced
 * (its public half is published in DNS). */
static int
ensure_return_path_key(const PGCONF *cfg)
{
    const char *path = cfg->security_return_path_dkim_key_file;
    char *pem = NULL, *pub = NULL, *why = NULL;
    size_t len;
    int fd, ok;

    if (access(path, F_OK) == 0)
        return EX_OK;
    if (dkim_key_generate(DKIM_ALG_RSA_SHA256, &pem, &pub, &why) < 0) {
        msg_error("return-path DKIM key: %s", why);
        mem_free(why);
        return EX_SOFTWARE;
    }
    len = strlen(pem);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    ok = fd >= 0 && write(fd, pem, len) == (ssize_t) len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    memset(pem, 0, len);
    mem_free(pem);
    mem_free(pub);
    if (!ok) {
        msg_error("cannot write the return-path DKIM key %s: %m", path);
        unlink(path);
        return EX_CANTCREAT;
    }
    printf("created the return-path DKIM key %s (publish it: postgatectl dns-records)\n", path);
    return EX_OK;
}

int
ctl_initialize(CTL_CONTEXT *ctx, int argc, char **argv)
{
    int status;

    if (argc != 1) {
        msg_error("usage: postgatectl initialize");
        return EX_USAGE;
    }
    status = run_migrations(ctx, 1);
    if (status == EX_OK)
        status = ensure_secret_key(ctx->cfg);
    if (status == EX_OK)
        status = ensure_return_path_key(ctx->cfg);
    return status == EX_OK ? ctl_signing_key_ensure(ctx->cfg) : status;
}

int
ctl_upgrade_db(CTL_CONTEXT *ctx, int argc, char **argv)
{
    int status;

    if (argc != 1) {
        msg_error("usage: postgatectl upgrade-db");
        return EX_USAGE;
    }
    status = run_migrations(ctx, 0);
    /* Installations from before the signing key get one (it needs the secret key). */
    if (status == EX_OK && access(ctx->cfg->security_secret_key_file, F_OK) == 0)
        status = ctl_signing_key_ensure(ctx->cfg);
    return status;
}
