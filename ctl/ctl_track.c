/*
 * ctl_track.c -- `postgatectl track-domain create|list|delete`: the track domains through
 * which a server's links and open pixel go (trackdomain.h). create prints the CNAME to
 * publish; the reverse proxy in front of postgate-tracker must serve the name and add
 * X-Postal-Track-Host: 1 (doc/manual.md).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "mail/db.h"
#include "mail/server.h"
#include "mail/trackdomain.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define USAGE_CREATE "usage: postgatectl track-domain create --server ORG/SERVER --name LABEL --domain DOMAIN " \
                     "[--no-ssl] [--no-clicks] [--no-loads] [--exclude DOMAIN]..."

static int
create_cmd(DB *db, const PGCONF *cfg, int argc, char **argv)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'}, {"name", required_argument, NULL, 'n'},
        {"domain", required_argument, NULL, 'd'}, {"no-ssl", no_argument, NULL, 'S'},
        {"no-clicks", no_argument, NULL, 'C'}, {"no-loads", no_argument, NULL, 'L'},
        {"exclude", required_argument, NULL, 'x'}, {NULL, 0, NULL, 0}
    };
    TRACKDOMAIN_CREATE_ARGS a = {.ssl = 1, .track_clicks = 1, .track_loads = 1};
    const char *path = NULL;
    BUF *excluded = buf_new(64);
    SERVER server;
    char uuid[37], *error = NULL;
    int opt, ret, status;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': path = optarg; break;
        case 'n': a.name = optarg; break;
        case 'd': a.domain = optarg; break;
        case 'S': a.ssl = 0; break;
        case 'C': a.track_clicks = 0; break;
        case 'L': a.track_loads = 0; break;
        case 'x': buf_printf(excluded, "%s%s", buf_len(excluded) ? "\n" : "", optarg); break;
        default: buf_free(excluded); return EX_USAGE;
        }
    }
    if (!path || !a.name || !a.domain) {
        msg_error(USAGE_CREATE);
        buf_free(excluded);
        return EX_USAGE;
    }
    if ((status = ctl_find_server(db, path, &server)) != EX_OK) {
        buf_free(excluded);
        return status;
    }
    a.server_id = server.id;
    a.excluded = buf_cstr(excluded);
    ret = trackdomain_create(db, &a, uuid, &error);
    buf_free(excluded);
    if (ret <= 0) {
        msg_error("%s", error ? error : "failed");
        mem_free(error);
        return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
    }
    printf("created track domain %s.%s (%s) for %s\n", a.name, a.domain, uuid, path);
    printf("publish: %s.%s. IN CNAME %s.\n", a.name, a.domain, cfg->dns_track_domain);
    return EX_OK;
}

static int
list_cmd(DB *db, int argc, char **argv)
{
    SERVER server;
    DB_ROWS rows = {0};
    int status, n;

    if (argc != 2) {
        msg_error("usage: postgatectl track-domain list ORG/SERVER");
        return EX_USAGE;
    }
    if ((status = ctl_find_server(db, argv[1], &server)) != EX_OK)
        return status;
    if ((n = trackdomain_list(db, server.id, NULL, 0, &rows)) < 0) {
        msg_error("database unavailable: %s", db_error(db));
        return ctl_db_status(n);
    }
    for (int i = 0; i < n; i++) {
        const TRACKDOMAIN_ROW *t = (const TRACKDOMAIN_ROW *) rows.v + i;

        printf("%s %s ssl=%s clicks=%s loads=%s dns=%s excluded=", t->uuid, t->host, t->ssl ? "yes" : "no",
               t->track_clicks ? "yes" : "no", t->track_loads ? "yes" : "no", t->dns_status ? t->dns_status : "unchecked");
        for (const char *p = t->excluded ? t->excluded : ""; *p; p++)
            putchar(*p == '\n' || *p == '\r' ? ',' : *p);
        putchar('\n');
    }
    db_rows_free(&rows);
    return EX_OK;
}

static int
delete_cmd(DB *db, int argc, char **argv)
{
    SERVER server;
    int status, ret;

    if (argc != 3) {
        msg_error("usage: postgatectl track-domain delete ORG/SERVER (UUID | HOST)");
        return EX_USAGE;
    }
    if ((status = ctl_find_server(db, argv[1], &server)) != EX_OK)
        return status;
    if ((ret = trackdomain_delete(db, server.id, argv[2])) < 0) {
        msg_error("database unavailable: %s", db_error(db));
        return ctl_db_status(ret);
    }
    if (ret == 0) {
        msg_error("server %s has no track domain %s", argv[1], argv[2]);
        return EX_DATAERR;
    }
    printf("deleted track domain %s\n", argv[2]);
    return EX_OK;
}

int
ctl_track_domain(CTL_CONTEXT *ctx, int argc, char **argv)
{
    DB *db;
    int status;

    if (argc < 2) {
        msg_error("usage: postgatectl track-domain create|list|delete ...");
        return EX_USAGE;
    }
    db = db_new(ctx->cfg);
    optind = 1;
    if (strcmp(argv[1], "create") == 0)
        status = create_cmd(db, ctx->cfg, argc - 1, argv + 1);
    else if (strcmp(argv[1], "list") == 0)
        status = list_cmd(db, argc - 1, argv + 1);
    else if (strcmp(argv[1], "delete") == 0)
        status = delete_cmd(db, argc - 1, argv + 1);
    else {
        msg_error("usage: postgatectl track-domain create|list|delete ...");
        status = EX_USAGE;
    }
    db_free(db);
    return status;
}
