/*
 * mgmt_v2.h -- the management API, /api/v2/ (doc/api.md, "Management API v2"): sessions,
 * personal API tokens, organizations, their members and their mail servers.
 *
 * Contract: every answer is JSON, {"status":"success","data":{...}} or
 * {"status":"error","data":{"code","message"[,"errors":{"field":["message"]}]}} with the
 * HTTP status that says what happened (200/201; 400 ValidationError, InvalidJSON,
 * InvalidUTF8; 401 AuthenticationRequired, InvalidCredentials; 403 CSRFTokenInvalid,
 * Forbidden; 404 NotFound; 409 PermalinkTaken, AlreadyMember, LastOwner; 413; 415
 * UnsupportedMediaType; 429 TooManyAttempts; 503 TemporaryFailure). Writes take JSON
 * bodies only. Who may do what (auth.h for how a principal is found):
 *   readonly  GET
 *   member    GET, and writes on a server's domains and credentials
 *   admin     manage the organization: its settings, members (not owners), servers
 *   owner     also owners, and deleting the organization
 *   installation admin: owner everywhere, and the only one who may suspend.
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
#include "util/seal.h"

/* Largest body a management request may send (the HTTP layer answers 413 beyond it). */
#define MGMT_V2_MAX_BODY (1024 * 1024)

/* What the handlers share; arg of every route below. */
typedef struct mgmt_v2 {
    DBPOOL *pool;
    const SEAL_KEY *seal;       /* seals DKIM keys and SMTP credential keys */
} MGMT_V2;

HTTP_HANDLER mgmt_v2_session_create;    /* POST   /api/v2/session */
HTTP_HANDLER mgmt_v2_session_get;       /* GET    /api/v2/session */
HTTP_HANDLER mgmt_v2_session_delete;    /* DELETE /api/v2/session */
HTTP_HANDLER mgmt_v2_tokens_create;     /* POST   /api/v2/user/tokens */
HTTP_HANDLER mgmt_v2_tokens_list;       /* GET    /api/v2/user/tokens */
HTTP_HANDLER mgmt_v2_tokens_delete;     /* DELETE /api/v2/user/tokens/{uuid} */
HTTP_HANDLER mgmt_v2_orgs_list;         /* GET    /api/v2/organizations */
HTTP_HANDLER mgmt_v2_orgs_create;       /* POST   /api/v2/organizations */
HTTP_HANDLER mgmt_v2_org_get;           /* GET    /api/v2/organizations/{permalink} */
HTTP_HANDLER mgmt_v2_org_update;        /* PATCH  /api/v2/organizations/{permalink} */
HTTP_HANDLER mgmt_v2_org_delete;        /* DELETE /api/v2/organizations/{permalink} */
HTTP_HANDLER mgmt_v2_members_list;      /* GET    /api/v2/organizations/{permalink}/members */
HTTP_HANDLER mgmt_v2_members_add;       /* POST   /api/v2/organizations/{permalink}/members */
HTTP_HANDLER mgmt_v2_member_update;     /* PATCH  /api/v2/organizations/{permalink}/members/{uuid|email} */
HTTP_HANDLER mgmt_v2_member_delete;     /* DELETE /api/v2/organizations/{permalink}/members/{uuid|email} */
HTTP_HANDLER mgmt_v2_servers_list;      /* GET    /api/v2/organizations/{permalink}/servers */
HTTP_HANDLER mgmt_v2_servers_create;    /* POST   /api/v2/organizations/{permalink}/servers */
HTTP_HANDLER mgmt_v2_server_get;        /* GET    /api/v2/organizations/{permalink}/servers/{permalink} */
HTTP_HANDLER mgmt_v2_server_update;     /* PATCH  /api/v2/organizations/{permalink}/servers/{permalink} */
/* Under /api/v2/organizations/{permalink}/servers/{permalink}: readonly GET, member and up all. */
HTTP_HANDLER mgmt_v2_domains_list;      /* GET    …/domains */
HTTP_HANDLER mgmt_v2_domains_create;    /* POST   …/domains */
HTTP_HANDLER mgmt_v2_domain_get;        /* GET    …/domains/{name} */
HTTP_HANDLER mgmt_v2_domain_delete;     /* DELETE …/domains/{name} */
HTTP_HANDLER mgmt_v2_credentials_list;  /* GET    …/credentials */
HTTP_HANDLER mgmt_v2_credentials_create;        /* POST   …/credentials */
HTTP_HANDLER mgmt_v2_credential_update; /* PATCH  …/credentials/{uuid} */
HTTP_HANDLER mgmt_v2_credential_delete; /* DELETE …/credentials/{uuid} */

#endif
