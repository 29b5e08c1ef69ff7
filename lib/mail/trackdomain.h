/*
 * trackdomain.h -- track domains (track_domains): <name>.<domain>, a CNAME to the
 * installation's tracker, through which a server's outgoing links and open pixel go
 * (REFERENCE.md "Objects": one label under a domain, ssl, track_clicks, track_loads,
 * excluded click domains).
 *
 * Contract: a track domain belongs to one server and one of the domains that server may
 * send as (its own or its organization's); the milter uses the one whose domain is the
 * From domain. Must never: return another server's track domain.
 */
#ifndef PG_TRACKDOMAIN_H
#define PG_TRACKDOMAIN_H

#include "mail/db.h"

typedef struct track_domain {
    unsigned long long id;
    char uuid[37];
    char host[320];             /* name.domain */
    int ssl;
    int track_clicks;
    int track_loads;
    char *excluded;             /* excluded_click_domains or NULL; trackdomain_clear frees it */
} TRACK_DOMAIN;

void trackdomain_clear(TRACK_DOMAIN *td);

/* The track domain of server_id on domain_id (the lowest id when several). 1 found (*out),
 * 0 none, < 0 database error. */
int trackdomain_for_domain(DB *db, unsigned long long server_id, unsigned long long domain_id, TRACK_DOMAIN *out);

typedef struct trackdomain_create_args {
    unsigned long long server_id;
    const char *name;           /* one label: [a-z0-9]([a-z0-9-]*[a-z0-9])? */
    const char *domain;         /* a domain of the server or of its organization */
    int ssl;
    int track_clicks;
    int track_loads;
    const char *excluded;       /* NULL: none */
} TRACKDOMAIN_CREATE_ARGS;

/* 1 created (*uuid_r, 37 bytes), 0 invalid or taken (*error_r, mem_free it), < 0 database error. */
int trackdomain_create(DB *db, const TRACKDOMAIN_CREATE_ARGS *args, char uuid_r[37], char **error_r);

/* A track domain as trackdomain_list() gives it: host is <name>.<domain>; excluded the
 * excluded click domains one per line (NULL: none); dns_status NULL until checked. */
typedef struct trackdomain_row {
    unsigned long long id;
    const char *uuid;
    const char *host;
    int ssl;
    int track_clicks;
    int track_loads;
    const char *excluded;
    const char *dns_status;
} TRACKDOMAIN_ROW;
/* The track domains of server_id (only uuid's when not NULL, only id's when not 0) by host,
 * as TRACKDOMAIN_ROWs into *rows (db_rows_free it): the row count, < 0 database error. */
int trackdomain_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows);
/* Changes the settings of the track domain uuid of server_id; a field < 0 (or excluded
 * NULL with set_excluded 0) is left as it is. 1 changed or unchanged, 0 none, < 0 error. */
int trackdomain_update(DB *db, unsigned long long server_id, const char *uuid, int ssl, int track_clicks,
                       int track_loads, int set_excluded, const char *excluded);
/* Deletes the track domain of server_id named by uuid or host. 1 deleted, 0 none, < 0 error. */
int trackdomain_delete(DB *db, unsigned long long server_id, const char *uuid_or_host);

#endif
