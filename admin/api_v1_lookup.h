/*
 * api_v1_lookup.h -- the send API's per-request lookups through short-lived caches
 * (private to admin/): the credential of an API key, its server, and whether the server
 * may send as a domain. Every send repeats them; from memory for admin.cache_ttl seconds
 * they cost MariaDB nothing. Only found answers are kept (a key or domain added a moment
 * ago works at once); a change or removal is seen within the TTL, as the milter sees it.
 *
 * Contract: the same answers as credential_by_key(), server_by_id() and
 * domain_for_sending(); database errors are never cached. Before api_v1_lookup_init(), or
 * with a TTL of 0, every call goes to MariaDB.
 */
#ifndef PG_ADMIN_API_V1_LOOKUP_H
#define PG_ADMIN_API_V1_LOOKUP_H

#include "mail/credential.h"
#include "mail/db.h"
#include "mail/server.h"

void api_v1_lookup_init(unsigned ttl_seconds);
void api_v1_lookup_done(void);

/* credential_by_key(db, "API", key, out), cached. */
int api_v1_credential(DB *db, const char *key, CREDENTIAL *out);
/* server_by_id(db, id, out), cached. */
int api_v1_server(DB *db, unsigned long long id, SERVER *out);
/* domain_for_sending(db, server, domain, &id) > 0, cached: 1 yes, 0 no, < 0 database error. */
int api_v1_sending_domain(DB *db, const SERVER *server, const char *domain);

#endif
