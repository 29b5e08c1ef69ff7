/*
 * mgmt_v2.h -- the management API, /api/v2/ (doc/api.md, "Management API v2"): sessions,
 * personal API tokens, organizations, their members and their mail servers with what
 * belongs to them. One file per resource family (mgmt_*.c), sharing mgmt.h.
 *
 * Contract: every answer is JSON, {"status":"success","data":{...}} or
 * {"status":"error","data":{"code","message"[,"errors":{"field":["message"]}]}} with the
 * HTTP status that says what happened (200/201; 400 ValidationError, InvalidJSON,
 * InvalidUTF8; 401 AuthenticationRequired, InvalidCredentials; 403 CSRFTokenInvalid,
 * Forbidden; 404 NotFound; 409 PermalinkTaken, AlreadyMember, LastOwner, DomainTaken,
 * RouteTaken, EndpointInUse, RequestExpired; 413; 415 UnsupportedMediaType; 429
 * TooManyAttempts; 503 TemporaryFailure). Writes take JSON bodies only, except the
 * suppression import, which also takes CSV. Who may do what (auth.h for how a principal
 * is found):
 *   readonly  GET
 *   member    GET, and writes on a server's domains, credentials, endpoints, routes,
 *             webhooks and suppression list
 *   admin     manage the organization: its settings, members (not owners), servers,
 *             the IP pool of each server and IP pool rules
 *   owner     also owners, and deleting the organization
 *   installation admin: owner everywhere, the only one who may suspend, and the only
 *             one who writes IP pools, their addresses and which organizations use them.
 * Someone with no role in an organization gets 404 for it and everything under it,
 * exactly as for an organization that does not exist.
 *
 * Must never: answer data of an organization to a non-member, show a password hash, a
 * token hash or a token after its creation, or build SQL from input.
 */
#ifndef PG_ADMIN_MGMT_V2_H
#define PG_ADMIN_MGMT_V2_H

#include "http.h"
#include "mail/dbpool.h"
#include "mail/pwpolicy.h"
#include "oidc.h"
#include "util/seal.h"

/* Largest body a management request may send (the HTTP layer answers 413 beyond it). */
#define MGMT_V2_MAX_BODY (1024 * 1024)
/* ... and a bulk import (mgmt_import_routes), still under admin.max_body_size. */
#define MGMT_V2_MAX_IMPORT_BODY (16 * 1024 * 1024)

/* What the handlers share; arg of every route below. */
typedef struct mgmt_v2 {
    DBPOOL *pool;
    const SEAL_KEY *seal;       /* seals DKIM keys and SMTP credential keys */
    const PWPOLICY *pwpolicy;   /* every password a person sets passes it */
    OIDC *oidc;                 /* OpenID Connect sign-in (oidc_enabled() may say 0) */
} MGMT_V2;

/* A route of the management API: the full path (with "{}" segments, http.h). */
typedef struct mgmt_route {
    const char *method;
    const char *path;
    HTTP_HANDLER *handler;
} MGMT_ROUTE;

/* Each file's routes, ended by {NULL}: one table per resource family. */
extern const MGMT_ROUTE mgmt_session_routes[];          /* mgmt_session.c: session, user tokens */
extern const MGMT_ROUTE mgmt_orgs_routes[];             /* mgmt_orgs.c: organizations, members */
extern const MGMT_ROUTE mgmt_servers_routes[];          /* mgmt_servers.c: servers */
extern const MGMT_ROUTE mgmt_domains_routes[];          /* mgmt_domains.c: a server's domains */
extern const MGMT_ROUTE mgmt_credentials_routes[];      /* mgmt_credentials.c: a server's credentials */
extern const MGMT_ROUTE mgmt_messages_routes[];         /* mgmt_messages.c: a server's message log, holds */
extern const MGMT_ROUTE mgmt_retry_routes[];            /* mgmt_retry.c: retrying failed and held messages */
extern const MGMT_ROUTE mgmt_postfix_routes[];          /* mgmt_postfix.c: the Postfix queue */
extern const MGMT_ROUTE mgmt_users_routes[];            /* mgmt_users.c: profile, passwords, invitations */
extern const MGMT_ROUTE mgmt_admins_routes[];           /* mgmt_admins.c: the installation's users, admin grants */
extern const MGMT_ROUTE mgmt_totp_routes[];             /* mgmt_totp.c: two-factor sign-in, enrolment, resets */
extern const MGMT_ROUTE mgmt_oidc_routes[];             /* mgmt_oidc.c: OpenID Connect sign-in */
extern const MGMT_ROUTE mgmt_endpoints_routes[];        /* mgmt_endpoints.c: a server's HTTP/SMTP/Address endpoints */
extern const MGMT_ROUTE mgmt_routes_routes[];           /* mgmt_routes.c: a server's incoming routes */
extern const MGMT_ROUTE mgmt_webhooks_routes[];         /* mgmt_webhooks.c: a server's webhooks, request log */
extern const MGMT_ROUTE mgmt_ippools_routes[];          /* mgmt_ippools.c: IP pools, addresses, assignments */
extern const MGMT_ROUTE mgmt_ippool_rules_routes[];     /* mgmt_ippool_rules.c: organizations' and servers' pool rules */
extern const MGMT_ROUTE mgmt_suppressions_routes[];     /* mgmt_suppressions.c: a server's suppression list */
extern const MGMT_ROUTE mgmt_trackdomains_routes[];     /* mgmt_trackdomains.c: a server's track domains */
extern const MGMT_ROUTE mgmt_mailboxes_routes[];        /* mgmt_mailboxes.c: hosted mailboxes and aliases */
extern const MGMT_ROUTE mgmt_mailbox_self_routes[];     /* mgmt_mailbox_self.c: a mailbox user's own password */
extern const MGMT_ROUTE mgmt_pwreset_routes[];          /* mgmt_pwreset.c: "forgot your password?" */
extern const MGMT_ROUTE mgmt_stats_routes[];            /* mgmt_stats.c: a server's volume by hour and day */
/* Routes whose bodies may reach MGMT_V2_MAX_IMPORT_BODY. */
extern const MGMT_ROUTE mgmt_import_routes[];           /* mgmt_suppressions.c: suppression list import */

/* Appends every management route to routes (as HTTP routes with arg m and the
 * management body limit) and returns the new array and count (mem_free it). */
HTTP_ROUTE *mgmt_v2_routes(MGMT_V2 *m, const HTTP_ROUTE *routes, size_t nroutes, size_t *n_r);

#endif
