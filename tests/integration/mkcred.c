/*
 * mkcred.c -- creates a credential through lib/mail/credential.c for the integration
 * tests, so keys are hashed and sealed exactly as production does it.
 *
 *   mkcred -c CONF SERVER_ID SMTP|API NAME        prints "ID KEY"
 *   mkcred -c CONF SERVER_ID SMTP-IP NAME NETWORK prints "ID"
 * Exit codes: 0 created, 65 refused (the reason on stderr), 75 database unavailable,
 * 78 configuration or secret key file unusable. A test program only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "mail/credential.h"
#include "mail/db.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/seal.h"

int
main(int argc, char **argv)
{
    char key[CREDENTIAL_KEY_LEN + 1], *error = NULL;
    unsigned long long id = 0;
    SEAL_KEY *seal;
    PGCONF *cfg;
    DB *db;
    int r, status;

    msg_init("mkcred");
    if ((argc != 6 && argc != 7) || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: mkcred -c CONF SERVER_ID SMTP|API|SMTP-IP NAME [NETWORK]\n");
        return 64;
    }
    if ((cfg = conf_load(argv[2], 0, &error)) == NULL) {
        fprintf(stderr, "%s\n", error);
        return 78;
    }
    if ((seal = seal_key_load(cfg->security_secret_key_file, &error)) == NULL) {
        fprintf(stderr, "%s\n", error);
        mem_free(error);
        conf_unref(cfg);
        return 78;
    }
    db_library_init();
    db = db_new(cfg);
    r = credential_create(db, cfg, seal, strtoull(argv[3], NULL, 10), argv[4], argv[5], argc == 7 ? argv[6] : NULL,
                          0, key, &id, &error);
    if (r == 1) {
        if (key[0])
            printf("%llu %s\n", id, key);
        else
            printf("%llu\n", id);
        status = 0;
    } else {
        fprintf(stderr, "mkcred: %s\n", error ? error : "failed");
        status = r == 0 ? 65 : r == DB_ERR_TEMP ? 75 : 65;
    }
    mem_free(error);
    db_free(db);
    seal_key_free(seal);
    conf_unref(cfg);
    return status;
}
