/*
 * ippool.h -- IP pools (REFERENCE.md "IP pools"): installation-wide pools of sending
 * addresses (ipv4 and/or ipv6, the HELO hostname, a priority 0-100), which organizations
 * may use them, the pool a server sends with, and rules that choose a pool by sender or
 * recipient text (a server's rules first, then its organization's, then its pool).
 *
 * Contract: the tables ip_pools, ip_addresses, organization_ip_pools and ip_pool_rules are
 * this module's, and so is servers.ip_pool_id. A server's pool and every rule's pool are
 * pools assigned to the organization: taking a pool away from an organization also takes
 * it from its servers and deletes the rules (of the organization and its servers) that
 * chose it. At most one pool is the default. Functions return >= 0 on success or
 * DB_ERR_TEMP / DB_ERR_PERM (db.h); values are checked by the caller.
 *
 * Must never: let an organization's server or rule use a pool not assigned to it.
 */
#ifndef PG_IPPOOL_H
#define PG_IPPOOL_H

#include "mail/db.h"

/* Columns of the pool rows below; times "YYYY-MM-DDTHH:MM:SSZ". */
enum ippool_col { IPPOOL_COL_ID, IPPOOL_COL_UUID, IPPOOL_COL_NAME, IPPOOL_COL_DEFAULT, IPPOOL_COL_CREATED,
    IPPOOL_COL_UPDATED };
/* Every pool (only uuid's when not NULL), by name, into *res_r (db_result_free it): the
 * row count, < 0 database error. */
int ippool_list(DB *db, const char *uuid, DB_RESULT **res_r);
/* The pools assigned to organization org_id (only uuid's when not NULL). */
int ippool_list_for_org(DB *db, unsigned long long org_id, const char *uuid, DB_RESULT **res_r);
/* The pools assigned to a live organization user_id is a member of (only uuid's when not NULL). */
int ippool_list_for_user(DB *db, unsigned long long user_id, const char *uuid, DB_RESULT **res_r);

/* 1 created (*id_r), < 0 database error. A new default pool ends the old one's default. */
int ippool_create(DB *db, const char *name, int is_default, unsigned long long *id_r);
/* Name unless NULL, default unless < 0. 0, < 0 database error. */
int ippool_update(DB *db, unsigned long long id, const char *name, int is_default);
/* 1 deleted (its addresses, assignments and rules with it; servers keep no pool), 0 none. */
int ippool_delete(DB *db, unsigned long long id);

/* Columns of ippool_addresses()'s rows. */
enum ippool_address_col { IPADDR_COL_ID, IPADDR_COL_IPV4, IPADDR_COL_IPV6, IPADDR_COL_HOSTNAME, IPADDR_COL_PRIORITY,
    IPADDR_COL_CREATED, IPADDR_COL_UPDATED };
/* The addresses of pool_id (only id's when not 0), by priority (highest first) and id. */
int ippool_addresses(DB *db, unsigned long long pool_id, unsigned long long id, DB_RESULT **res_r);
/* ipv4 or ipv6 may be NULL, not both; priority 0..100. 1 added (*id_r), < 0 database error. */
int ippool_address_add(DB *db, unsigned long long pool_id, const char *ipv4, const char *ipv6, const char *hostname,
                       int priority, unsigned long long *id_r);
/* Replaces every value of address id of pool_id. 0, < 0 database error. */
int ippool_address_update(DB *db, unsigned long long pool_id, unsigned long long id, const char *ipv4,
                          const char *ipv6, const char *hostname, int priority);
/* 1 deleted, 0 none, < 0 database error. */
int ippool_address_delete(DB *db, unsigned long long pool_id, unsigned long long id);

/* The permalinks of the live organizations pool_id is assigned to, by permalink. */
int ippool_orgs(DB *db, unsigned long long pool_id, DB_RESULT **res_r);
/* 1 assigned, 0 it was already, < 0 database error. */
int ippool_assign(DB *db, unsigned long long pool_id, unsigned long long org_id);
/* 1 taken away (see the header for what goes with it), 0 it was not assigned, < 0 database error. */
int ippool_unassign(DB *db, unsigned long long pool_id, unsigned long long org_id);

/* The pool uuid assigned to org_id: 1 with *id_r, 0 no such pool or not assigned, < 0 database error. */
int ippool_find_for_org(DB *db, unsigned long long org_id, const char *uuid, unsigned long long *id_r);
/* Server server_id's pool: 1 with its uuid in uuid_r (37 bytes), 0 none, < 0 database error. */
int ippool_server_pool(DB *db, unsigned long long server_id, char *uuid_r);
/* Sets server_id's pool (0: none). 0, < 0 database error. */
int ippool_server_set(DB *db, unsigned long long server_id, unsigned long long pool_id);

/* Columns of ippool_rules()'s rows. */
enum ippool_rule_col { IPRULE_COL_ID, IPRULE_COL_UUID, IPRULE_COL_POOL_UUID, IPRULE_COL_POOL_NAME, IPRULE_COL_FROM,
    IPRULE_COL_TO, IPRULE_COL_CREATED, IPRULE_COL_UPDATED };
/* The rules of organization org_id, or of server server_id when it is not 0 (only uuid's
 * when not NULL), by id. */
int ippool_rules(DB *db, unsigned long long org_id, unsigned long long server_id, const char *uuid,
                 DB_RESULT **res_r);
/* A rule of org_id (server_id 0) or of server_id; from/to may be NULL, not both. 1 (*id_r), < 0. */
int ippool_rule_create(DB *db, unsigned long long org_id, unsigned long long server_id, unsigned long long pool_id,
                       const char *from, const char *to, unsigned long long *id_r);
/* Replaces the pool and texts of rule id. 0, < 0 database error. */
int ippool_rule_update(DB *db, unsigned long long id, unsigned long long pool_id, const char *from, const char *to);
/* 1 deleted, 0 none, < 0 database error. */
int ippool_rule_delete(DB *db, unsigned long long id);

#endif
