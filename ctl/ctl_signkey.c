/*
 * ctl_signkey.c -- `postgatectl signing-key show|jwks|rotate|retire KID`: the installation's
 * request-signing key (signkey.h), kept in the database so every host signs with it.
 * `initialize` and `upgrade-db` create one when there is none (ctl_signing_key_ensure).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "mail/db.h"
#include "mail/signkey.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/seal.h"

/* The database and the installation key, or an exit status. */
static int
open_both(const PGCONF *cfg, DB **db_r, SEAL_KEY **seal_r)
{
    char *error = NULL;

    *db_r = NULL;
    if (seal_r) {
        if ((*seal_r = seal_key_load(cfg->security_secret_key_file, &error)) == NULL) {
            msg_error("security.secret_key_file: %s", error);
            mem_free(error);
            return EX_CONFIG;
        }
    }
    *db_r = db_new(cfg);
    if (db_connect(*db_r, 0) < 0) {
        msg_error("database unavailable: %s", db_error(*db_r));
        db_free(*db_r);
        *db_r = NULL;
        if (seal_r) {
            seal_key_free(*seal_r);
            *seal_r = NULL;
        }
        return EX_TEMPFAIL;
    }
    return EX_OK;
}

int
ctl_signing_key_ensure(const PGCONF *cfg)
{
    char kid[SIGNKEY_KID_MAX + 1], *error = NULL;
    SEAL_KEY *seal;
    DB *db;
    int status = open_both(cfg, &db, &seal), ret;

    if (status != EX_OK)
        return status;
    ret = signkey_ensure(db, seal, kid, &error);
    if (ret < 0) {
        msg_error("creating the signing key: %s", error);
        mem_free(error);
        status = ctl_db_status(ret);
    } else if (ret > 0) {
        printf("created the webhook signing key %s (published at /.well-known/jwks.json)\n", kid);
    }
    db_free(db);
    seal_key_free(seal);
    return status;
}

static int
show(DB *db)
{
    DB_ROWS rows;
    int ret = signkey_list(db, &rows);

    if (ret < 0) {
        msg_error("%s", db_error(db));
        return ctl_db_status(ret);
    }
    if (ret == 0)
        printf("no signing key: run postgatectl initialize\n");
    for (size_t r = 0; r < rows.n; r++) {
        const SIGNKEY_ROW *k = (const SIGNKEY_ROW *) rows.v + r;

        printf("%s  created %s  %s%s\n", k->kid, k->created_at,
               k->retired_at ? "retired " : k->signing ? "signing"
               : "published (verifies requests signed before a rotation)", k->retired_at ? k->retired_at : "");
    }
    db_rows_free(&rows);
    return EX_OK;
}

static int
jwks(DB *db)
{
    json_t *doc;
    int ret = signkey_jwks(db, &doc);
    char *text;

    if (ret < 0) {
        msg_error("%s", db_error(db));
        return ctl_db_status(ret);
    }
    text = json_dumps(doc, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(doc);
    return EX_OK;
}

int
ctl_signing_key(CTL_CONTEXT *ctx, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    char kid[SIGNKEY_KID_MAX + 1], *error = NULL;
    SEAL_KEY *seal = NULL;
    DB *db;
    int status, ret;

    if (!((argc == 2 && (strcmp(sub, "show") == 0 || strcmp(sub, "jwks") == 0 || strcmp(sub, "rotate") == 0))
          || (argc == 3 && strcmp(sub, "retire") == 0))) {
        msg_error("usage: postgatectl signing-key show | jwks | rotate | retire KID");
        return EX_USAGE;
    }
    status = open_both(ctx->cfg, &db, strcmp(sub, "rotate") == 0 ? &seal : NULL);
    if (status != EX_OK)
        return status;
    if (strcmp(sub, "show") == 0) {
        status = show(db);
    } else if (strcmp(sub, "jwks") == 0) {
        status = jwks(db);
    } else if (strcmp(sub, "rotate") == 0) {
        if ((ret = signkey_rotate(db, seal, kid, &error)) < 0) {
            msg_error("%s", error);
            status = ctl_db_status(ret);
        } else {
            printf("created the signing key %s; it signs from now on (workers pick it up within a minute)\n"
                   "the older keys stay in the JWKS until you retire them: postgatectl signing-key retire KID\n",
                   kid);
        }
    } else if ((ret = signkey_retire(db, argv[2], &error)) <= 0) {
        msg_error("%s", ret < 0 && error == NULL ? db_error(db) : error);
        status = ret < 0 ? ctl_db_status(ret) : EX_DATAERR;
    } else {
        printf("retired %s: it is no longer in the JWKS\n", argv[2]);
    }
    mem_free(error);
    db_free(db);
    seal_key_free(seal);
    return status;
}
