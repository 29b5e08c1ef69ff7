/*
 * route.h -- a server's incoming routes (REFERENCE.md "Route"): <name>@<domain of the
 * server>, where name is [a-z0-9.-]+, "*" (any local part) or "__returnpath__"; a mode
 * (Endpoint, Accept, Hold, Bounce, Reject), a spam mode (Mark, Quarantine, Fail), at most
 * one endpoint plus additional endpoints, and an 8-character token that gives the route
 * the address <token>@<dns.route_domain>.
 *
 * Contract: the tables routes and additional_route_endpoints are this module's. The
 * caller checks that the domain and the endpoints belong to the route's server; this
 * module keeps "at most one endpoint column set". Functions return >= 0 on success or
 * DB_ERR_TEMP / DB_ERR_PERM (db.h).
 *
 * Must never: let two routes of a domain share a name, or two routes share a token.
 */
#ifndef PG_ROUTE_H
#define PG_ROUTE_H

#include <stddef.h>

#include "mail/db.h"
#include "mail/endpoint.h"

#define ROUTE_TOKEN_LEN 8
#define ROUTE_NAME_MAX 64

/* An endpoint a route delivers to. */
typedef struct route_endpoint {
    ENDPOINT_TYPE type;
    unsigned long long id;
} ROUTE_ENDPOINT;

/* Lowercases name into out and checks it: 1 good, 0 bad with *error_r saying why
 * (mem_free it). */
int route_name_normalize(const char *name, char *out, size_t len, char **error_r);
/* 1 when mode is Endpoint, Accept, Hold, Bounce or Reject; route_spam_mode_ok likewise
 * for Mark, Quarantine, Fail. */
int route_mode_ok(const char *mode);
int route_spam_mode_ok(const char *mode);

/* Creates a route with a new token (token_r, ROUTE_TOKEN_LEN + 1 bytes); endpoint may be
 * NULL. 1 created (*id_r), 0 the name is taken on that domain, < 0 database error. */
int route_create(DB *db, unsigned long long server_id, unsigned long long domain_id, const char *name,
                 const char *mode, const char *spam_mode, const ROUTE_ENDPOINT *endpoint, char *token_r,
                 unsigned long long *id_r);

/* Changes route id of server_id: domain_id unless 0, name, mode, spam_mode unless NULL,
 * the endpoint when set_endpoint (NULL: none). 1 done, 0 the new name@domain is taken,
 * < 0 database error. */
int route_update(DB *db, unsigned long long server_id, unsigned long long id, unsigned long long domain_id,
                 const char *name, const char *mode, const char *spam_mode, int set_endpoint,
                 const ROUTE_ENDPOINT *endpoint);

/* Replaces the additional endpoints of route id with list[0..n). 0, or < 0 database error. */
int route_set_additional(DB *db, unsigned long long id, const ROUTE_ENDPOINT *list, size_t n);

/* A route as route_list() gives it; times "YYYY-MM-DDTHH:MM:SSZ". endpoint_type
 * ("HTTPEndpoint", ...) and endpoint_uuid are NULL when the route has none. */
typedef struct route_row {
    unsigned long long id;
    const char *uuid;
    const char *name;
    const char *domain;
    const char *token;
    const char *mode;
    const char *spam_mode;
    const char *endpoint_type;
    const char *endpoint_uuid;
    const char *created_at;
    const char *updated_at;
} ROUTE_ROW;
/* The routes of server_id (only uuid's when not NULL, only id's when not 0), by domain
 * and name, as ROUTE_ROWs into *rows (db_rows_free it): the row count, < 0 database error. */
int route_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows);
/* An endpoint a route names: its type name ("HTTPEndpoint", ...) and uuid. */
typedef struct route_endpoint_ref {
    const char *type;
    const char *uuid;
} ROUTE_ENDPOINT_REF;
/* The additional endpoints of route id as ROUTE_ENDPOINT_REFs: the row count, < 0 database error. */
int route_additional_list(DB *db, unsigned long long id, DB_ROWS *rows);

/* Deletes route id of server_id: 1 deleted, 0 none, < 0 database error. */
int route_delete(DB *db, unsigned long long server_id, unsigned long long id);

/* The routes that deliver to endpoint id of type (as main or additional endpoint), as
 * "name@domain" strings (rows->v is a const char *[]), by that text: the row count, < 0
 * database error. */
int route_using_endpoint(DB *db, ENDPOINT_TYPE type, unsigned long long id, DB_ROWS *rows);

#endif
