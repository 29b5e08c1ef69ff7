/*
 * ctl_objects.c -- `postgatectl org|server|domain|credential|message ...`: create the
 * objects a mail server needs, from scripts and the demo, until (and beside) the
 * management API. Secrets are printed once and never stored in plaintext. Also the
 * purges of deleted organizations and users (`org purge`, `user purge`), and the reset of
 * a user's second factor (`user totp-reset`).
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mail/credential.h"
#include "mail/db.h"
#include "mail/domain.h"
#include "mail/org.h"
#include "mail/purge.h"
#include "mail/release.h"
#include "mail/server.h"
#include "mail/twofactor.h"
#include "mail/user.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/seal.h"

static int
org_cmd(DB *db, int argc, char **argv)
{
    static const struct option options[] = {
        {"name", required_argument, NULL, 'n'}, {"permalink", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0}
    };
    const char *name = NULL, *permalink = NULL;
    unsigned long long id;
    char *error = NULL;
    int opt, ret;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'n') name = optarg;
        else if (opt == 'p') permalink = optarg;
        else return EX_USAGE;
    }
    if (!name || !permalink) {
        msg_error("usage: postgatectl org create --name NAME --permalink PERMALINK");
        return EX_USAGE;
    }
    ret = org_create(db, name, permalink, &id, &error);
    if (ret > 0)
        printf("created organization %s (id %llu)\n", permalink, id);
    return ctl_report(ret, error);
}

static int
server_create_cmd(DB *db, int argc, char **argv)
{
    static const struct option options[] = {
        {"org", required_argument, NULL, 'o'}, {"name", required_argument, NULL, 'n'},
        {"permalink", required_argument, NULL, 'p'}, {"mode", required_argument, NULL, 'm'},
        {"send-limit", required_argument, NULL, 'l'}, {"allow-sender", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}
    };
    SERVER_SETTINGS s = {.send_limit = -1};
    const char *org = NULL;
    unsigned long long org_id, id;
    char *error = NULL;
    int opt, ret;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'o': org = optarg; break;
        case 'n': s.name = optarg; break;
        case 'p': s.permalink = optarg; break;
        case 'm':
            if (strcmp(optarg, "Live") != 0 && strcmp(optarg, "Development") != 0) {
                msg_error("--mode is Live or Development");
                return EX_USAGE;
            }
            s.development = strcmp(optarg, "Development") == 0;
            break;
        case 'l': s.send_limit = atoll(optarg); break;
        case 'a': s.allow_sender = 1; break;
        default: return EX_USAGE;
        }
    }
    if (!org || !s.name || !s.permalink) {
        msg_error("usage: postgatectl server create --org ORG --name NAME --permalink PERMALINK "
                  "[--mode Live|Development] [--send-limit N] [--allow-sender]");
        return EX_USAGE;
    }
    ret = org_find(db, org, &org_id);
    if (ret <= 0) {
        if (ret == 0)
            msg_error("no organization \"%s\"", org);
        else
            msg_error("database unavailable: %s", db_error(db));
        return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
    }
    ret = server_create(db, org_id, &s, &id, &error);
    if (ret > 0)
        printf("created server %s/%s (id %llu, %s)\n", org, s.permalink, id, s.development ? "Development" : "Live");
    return ctl_report(ret, error);
}

static int
server_cmd(DB *db, int argc, char **argv)
{
    SERVER server;
    char *error = NULL;
    int status, ret;

    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return server_create_cmd(db, argc - 1, argv + 1);
    if (argc == 5 && strcmp(argv[1], "set") == 0) {
        if ((status = ctl_find_server(db, argv[2], &server)) != EX_OK)
            return status;
        /* server_set's settings, else server_set_more's (postmaster_address, thresholds, ...). */
        if (strcmp(argv[3], "mode") == 0 || strcmp(argv[3], "send_limit") == 0 || strcmp(argv[3], "allow_sender") == 0
            || strcmp(argv[3], "privacy_mode") == 0 || strcmp(argv[3], "suspended") == 0)
            ret = server_set(db, server.id, argv[3], argv[4], &error);
        else
            ret = server_set_more(db, server.id, argv[3], argv[4], &error);
        if (ret > 0)
            printf("server %s: %s = %s\n", argv[2], argv[3], argv[4]);
        return ctl_report(ret, error);
    }
    if (argc == 3 && strcmp(argv[1], "delete") == 0) {
        if ((status = ctl_find_server(db, argv[2], &server)) != EX_OK)
            return status;
        /* Marked and its domains released together, or neither. */
        if ((ret = server_delete(db, server.id)) >= 0) {
            printf("deleted server %s; postgate-worker removes its messages and settings in the background\n",
                   argv[2]);
            return EX_OK;
        }
        msg_error("server delete: %s", db_error(db));
        return ctl_db_status(ret);
    }
    msg_error("usage: postgatectl server create ... | server set ORG/SERVER SETTING VALUE"
              " | server delete ORG/SERVER");
    return EX_USAGE;
}

static int
domain_cmd(DB *db, const PGCONF *cfg, int argc, char **argv)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'}, {"org", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, 'n'}, {"verified", no_argument, NULL, 'v'},
        {"ed25519", no_argument, NULL, 'e'}, {NULL, 0, NULL, 0}
    };
    DOMAIN_CREATE_ARGS args = {0};
    const char *server_path = NULL, *org = NULL;
    unsigned long long id;
    SERVER server;
    SEAL_KEY *seal;
    char *error = NULL, *records;
    int opt, ret, status;

    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        msg_error("usage: postgatectl domain create (--server ORG/SERVER | --org ORG) --name DOMAIN [--verified] [--ed25519]");
        return EX_USAGE;
    }
    argc--;
    argv++;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': server_path = optarg; break;
        case 'o': org = optarg; break;
        case 'n': args.name = optarg; break;
        case 'v': args.verified = 1; break;
        case 'e': args.ed25519 = 1; break;
        default: return EX_USAGE;
        }
    }
    if (!args.name || !!server_path == !!org) {
        msg_error("usage: postgatectl domain create (--server ORG/SERVER | --org ORG) --name DOMAIN [--verified] [--ed25519]");
        return EX_USAGE;
    }
    if (server_path) {
        if ((status = ctl_find_server(db, server_path, &server)) != EX_OK)
            return status;
        args.server_id = server.id;
    } else if ((ret = org_find(db, org, &args.org_id)) <= 0) {
        msg_error(ret == 0 ? "no organization \"%s\"" : "database unavailable (%s)", ret == 0 ? org : db_error(db));
        return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
    }
    if ((seal = ctl_load_seal(cfg)) == NULL)
        return EX_CONFIG;
    ret = domain_create(db, seal, cfg, &args, &id, &error);
    seal_key_free(seal);
    if (ret == DOMAIN_CLAIMED) {
        /* Another server has verified this name: nothing was made (exit status 65). */
        msg_error("%s", error);
        mem_free(error);
        return EX_DATAERR;
    }
    if (ret > 0) {
        printf("created domain %s (id %llu%s)\n", args.name, id, args.verified ? ", verified" : ", not verified");
        if ((records = domain_dns_records(db, cfg, id)) != NULL) {
            fputs(records, stdout);
            mem_free(records);
        }
    }
    return ctl_report(ret, error);
}

/* `credential delete --server ORG/SERVER --name NAME`: revokes the credential named NAME
 * (refused when the server has several of that name: the API deletes by uuid). Every
 * host's milter and policy service stops taking it within milter.cache_ttl. */
static int
credential_delete_cmd(DB *db, int argc, char **argv)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'}, {"name", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}
    };
    const char *server_path = NULL, *name = NULL;
    unsigned long long id = 0;
    size_t matches = 0;
    DB_ROWS rows = {0};
    SERVER server;
    int opt, ret, status;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': server_path = optarg; break;
        case 'n': name = optarg; break;
        default: return EX_USAGE;
        }
    }
    if (!server_path || !name) {
        msg_error("usage: postgatectl credential delete --server ORG/SERVER --name NAME");
        return EX_USAGE;
    }
    if ((status = ctl_find_server(db, server_path, &server)) != EX_OK)
        return status;
    if ((ret = credential_server_list(db, server.id, NULL, 0, &rows)) < 0) {
        msg_error("database unavailable (%s)", db_error(db));
        return ctl_db_status(ret);
    }
    for (size_t i = 0; i < rows.n; i++) {
        const CREDENTIAL_ROW *r = (const CREDENTIAL_ROW *) rows.v + i;

        if (r->name && strcmp(r->name, name) == 0) {
            id = r->id;
            matches++;
        }
    }
    db_rows_free(&rows);
    if (matches != 1) {
        msg_error(matches == 0 ? "server %s has no credential \"%s\"" : "server %s has several credentials \"%s\": "
                  "delete one through the API (by uuid)", server_path, name);
        return EX_DATAERR;
    }
    if ((ret = credential_delete(db, server.id, id)) < 0) {
        msg_error("database unavailable (%s)", db_error(db));
        return ctl_db_status(ret);
    }
    printf("deleted credential %s of %s (id %llu)\n", name, server_path, id);
    return EX_OK;
}

static int
credential_cmd(DB *db, const PGCONF *cfg, int argc, char **argv)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'}, {"type", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'}, {"network", required_argument, NULL, 'w'},
        {"hold", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}
    };
    const char *server_path = NULL, *type = "SMTP", *name = NULL, *network = NULL;
    char key[CREDENTIAL_KEY_LEN + 1], *error = NULL;
    unsigned long long id;
    SERVER server;
    SEAL_KEY *seal;
    int opt, hold = 0, ret, status;

    if (argc >= 2 && strcmp(argv[1], "delete") == 0)
        return credential_delete_cmd(db, argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        msg_error("usage: postgatectl credential create --server ORG/SERVER --name NAME [--type SMTP|API|SMTP-IP] "
                  "[--network CIDR] [--hold]; credential delete --server ORG/SERVER --name NAME");
        return EX_USAGE;
    }
    argc--;
    argv++;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': server_path = optarg; break;
        case 't': type = optarg; break;
        case 'n': name = optarg; break;
        case 'w': network = optarg; break;
        case 'h': hold = 1; break;
        default: return EX_USAGE;
        }
    }
    if ((status = ctl_find_server(db, server_path, &server)) != EX_OK)
        return status;
    if ((seal = ctl_load_seal(cfg)) == NULL)
        return EX_CONFIG;
    ret = credential_create(db, cfg, seal, server.id, type, name, network, hold, key, &id, &error);
    seal_key_free(seal);
    if (ret == CREDENTIAL_CONFLICT)
        ret = 0;                /* refused like any invalid input; the message says why */
    if (ret > 0) {
        printf("created %s credential %s for %s (id %llu)\n", type, name, server_path, id);
        if (*key) {
            printf("key: %s\n", key);
            printf("(shown once: postgate keeps only a hash%s)\n", strcmp(type, "SMTP") == 0
                   ? " and a sealed copy for CRAM-MD5" : "");
            if (strcmp(type, "SMTP") == 0)
                printf("CRAM-MD5 username: %s/%s\n", server.org_permalink, server.permalink);
        }
    }
    return ctl_report(ret, error);
}

static int
message_cmd(DB *db, const PGCONF *cfg, int argc, char **argv)
{
    char *error = NULL;
    int ret;

    if (argc != 3 || strcmp(argv[1], "release") != 0) {
        msg_error("usage: postgatectl message release TOKEN");
        return EX_USAGE;
    }
    SEAL_KEY *seal = ctl_load_seal(cfg);

    if (seal == NULL)
        return EX_CONFIG;
    ret = release_message(db, cfg, seal, argv[2], &error);
    seal_key_free(seal);
    if (ret > 0)
        printf("released %s\n", argv[2]);
    return ctl_report(ret, error);
}

/* org purge UUID: removes a deleted organization and everything it held, batch by batch
 * (lib/mail/purge.c), printing the progress; safe to interrupt and run again. */
static int
org_purge_cmd(DB *db, int argc, char **argv)
{
    unsigned long long id = 0, rows = 0, last = 0;
    int deleted = 0, ret;

    if (argc != 2) {
        msg_error("usage: postgatectl org purge UUID   (the uuid of a deleted organization)");
        return EX_USAGE;
    }
    if ((ret = org_find_uuid(db, argv[1], &id, &deleted)) <= 0) {
        msg_error(ret == 0 ? "no organization with uuid \"%s\"" : "database unavailable (%s)",
                  ret == 0 ? argv[1] : db_error(db));
        return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
    }
    if (!deleted) {
        msg_error("organization %s is not deleted: only a deleted organization can be purged", argv[1]);
        return EX_DATAERR;
    }
    while ((ret = purge_org_step(db, id, 1000, &rows)) == 0) {
        if (rows - last >= 100000) {
            printf("purging organization %s: %llu rows deleted so far\n", argv[1], rows);
            fflush(stdout);
            last = rows;
        }
    }
    if (ret < 0) {
        msg_error("purging organization %s: %s (%llu rows deleted; run again to go on)", argv[1], db_error(db), rows);
        return ctl_db_status(ret);
    }
    printf("purged organization %s: %llu rows deleted\n", argv[1], rows);
    return EX_OK;
}

/* user purge UUID: removes a deleted user's row for good, as POST
 * /api/v2/deleted-users/{uuid}/purge does; refused while a deleted organization not yet
 * purged still names them its owner (purge those first, with org purge). */
static int
user_purge_cmd(DB *db, int argc, char **argv)
{
    unsigned long long id = 0;
    DB_ROWS owned = {0};
    int deleted = 0, ret;

    if (argc != 2) {
        msg_error("usage: postgatectl user purge UUID   (the uuid of a deleted user)");
        return EX_USAGE;
    }
    if ((ret = user_find_uuid(db, argv[1], &id, &deleted)) <= 0) {
        msg_error(ret == 0 ? "no user with uuid \"%s\"" : "database unavailable (%s)",
                  ret == 0 ? argv[1] : db_error(db));
        return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
    }
    if (!deleted) {
        msg_error("user %s is not deleted: only an account its owner deleted can be purged", argv[1]);
        return EX_DATAERR;
    }
    if ((ret = org_list_owned(db, id, 1, &owned)) < 0) {
        msg_error("database unavailable (%s)", db_error(db));
        return ctl_db_status(ret);
    }
    if (owned.n > 0) {
        for (size_t i = 0; i < owned.n; i++) {
            const ORG_OWNED_ROW *o = (const ORG_OWNED_ROW *) owned.v + i;

            msg_error("user %s still owns deleted organization %s (%s): run postgatectl org purge %s first",
                      argv[1], o->permalink, o->uuid, o->uuid);
        }
        db_rows_free(&owned);
        return EX_DATAERR;
    }
    db_rows_free(&owned);
    if ((ret = user_purge(db, id)) <= 0) {
        msg_error(ret == 0 ? "user %s is gone already" : "purging user %s: %s", argv[1], db_error(db));
        return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
    }
    printf("purged user %s\n", argv[1]);
    return EX_OK;
}

/* user totp-reset EMAIL|UUID: removes the user's second factor (secret and recovery codes),
 * as DELETE /api/v2/users/{user}/totp does: for someone who lost their authenticator. */
static int
user_totp_reset_cmd(DB *db, int argc, char **argv)
{
    char *email;
    USER u;
    int ret;

    if (argc != 2) {
        msg_error("usage: postgatectl user totp-reset EMAIL|UUID");
        return EX_USAGE;
    }
    email = mem_strdup(argv[1]);
    for (char *p = email; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    ret = user_find(db, argv[1], email, &u);
    mem_free(email);
    if (ret <= 0) {
        msg_error(ret == 0 ? "no user \"%s\"" : "database unavailable (%s)", ret == 0 ? argv[1] : db_error(db));
        return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
    }
    if ((ret = twofactor_remove(db, u.id)) < 0) {
        msg_error("resetting the second factor of %s: %s", u.email, db_error(db));
        return ctl_db_status(ret);
    }
    msg_info("reset the second factor of user %llu (%s)%s", u.id, u.email, ret ? "" : ": there was none");
    printf("%s: %s\n", u.email, ret ? "second factor removed; the next sign-in takes the password alone "
           "(or enrols first where a second factor is required)" : "had no second factor");
    return EX_OK;
}

int
ctl_objects(CTL_CONTEXT *ctx, const char *command, int argc, char **argv)
{
    DB *db = db_new(ctx->cfg);
    int status;

    optind = 1;
    if (strcmp(command, "org") == 0 && argc >= 2 && strcmp(argv[1], "create") == 0)
        status = org_cmd(db, argc - 1, argv + 1);
    else if (strcmp(command, "org") == 0 && argc >= 2 && strcmp(argv[1], "purge") == 0)
        status = org_purge_cmd(db, argc - 1, argv + 1);
    else if (strcmp(command, "user") == 0 && argc >= 2 && strcmp(argv[1], "purge") == 0)
        status = user_purge_cmd(db, argc - 1, argv + 1);
    else if (strcmp(command, "user") == 0 && argc >= 2 && strcmp(argv[1], "totp-reset") == 0)
        status = user_totp_reset_cmd(db, argc - 1, argv + 1);
    else if (strcmp(command, "server") == 0)
        status = server_cmd(db, argc, argv);
    else if (strcmp(command, "domain") == 0)
        status = domain_cmd(db, ctx->cfg, argc, argv);
    else if (strcmp(command, "credential") == 0)
        status = credential_cmd(db, ctx->cfg, argc, argv);
    else if (strcmp(command, "message") == 0)
        status = message_cmd(db, ctx->cfg, argc, argv);
    else {
        msg_error("usage: postgatectl %s create ...", command);
        status = EX_USAGE;
    }
    db_free(db);
    return status;
}
