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

/* A pool as the listers below give it; times "YYYY-MM-DDTHH:MM:SSZ". */
typedef struct ippool_row {
    unsigned long long id;
    const char *uuid;
    const char *name;
    int is_default;
    const char *created_at;
    const char *updated_at;
    long long concurrency_limit;        /* per destination and address; -1 Postfix's default */
    long long rate_delay;               /* seconds; -1 Postfix's default */
} IPPOOL_ROW;
/* Every pool (only uuid's when not NULL), by name, as IPPOOL_ROWs into *rows (db_rows_free
 * it): the row count, < 0 database error. */
int ippool_list(DB *db, const char *uuid, DB_ROWS *rows);
/* The pools assigned to organization org_id (only uuid's when not NULL). */
int ippool_list_for_org(DB *db, unsigned long long org_id, const char *uuid, DB_ROWS *rows);
/* The pools assigned to a live organization user_id is a member of (only uuid's when not NULL). */
int ippool_list_for_user(DB *db, unsigned long long user_id, const char *uuid, DB_ROWS *rows);

/* 1 created (*id_r), < 0 database error. A new default pool ends the old one's default. */
int ippool_create(DB *db, const char *name, int is_default, unsigned long long *id_r);
/* Name unless NULL, default unless < 0. 0, < 0 database error. */
int ippool_update(DB *db, unsigned long long id, const char *name, int is_default);
/* 1 deleted (its addresses, assignments and rules with it; servers keep no pool), 0 none. */
int ippool_delete(DB *db, unsigned long long id);

/* An address of a pool. */
typedef struct ippool_address_row {
    unsigned long long id;
    const char *ipv4;
    const char *ipv6;
    const char *hostname;
    long long priority;
    const char *created_at;
    const char *updated_at;
    const char *warmup_started_on;      /* "YYYY-MM-DD" while warming up (schema 019), else NULL */
    long long warmup_day;               /* 1 on the day it started; 0 not warming up */
    long long sent_today;               /* messages given to it today (while warming up) */
} IPPOOL_ADDRESS_ROW;
/* The addresses of pool_id (only id's when not 0), by priority (highest first) and id, as
 * IPPOOL_ADDRESS_ROWs. */
int ippool_addresses(DB *db, unsigned long long pool_id, unsigned long long id, DB_ROWS *rows);
/* ipv4 or ipv6 may be NULL, not both; priority 0..100. 1 added (*id_r), < 0 database error. */
int ippool_address_add(DB *db, unsigned long long pool_id, const char *ipv4, const char *ipv6, const char *hostname,
                       int priority, unsigned long long *id_r);
/* Replaces every value of address id of pool_id. 0, < 0 database error. */
int ippool_address_update(DB *db, unsigned long long pool_id, unsigned long long id, const char *ipv4,
                          const char *ipv6, const char *hostname, int priority);
/* 1 deleted, 0 none, < 0 database error. */
int ippool_address_delete(DB *db, unsigned long long pool_id, unsigned long long id);

/* The permalinks of the live organizations pool_id is assigned to, by permalink (rows->v
 * is a const char *[]). */
int ippool_orgs(DB *db, unsigned long long pool_id, DB_ROWS *rows);
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

/* A pool rule with its pool's uuid and name; from/to NULL when not set. */
typedef struct ippool_rule_row {
    unsigned long long id;
    const char *uuid;
    const char *pool_uuid;
    const char *pool_name;
    const char *from_text;
    const char *to_text;
    const char *created_at;
    const char *updated_at;
} IPPOOL_RULE_ROW;
/* The rules of organization org_id, or of server server_id when it is not 0 (only uuid's
 * when not NULL), by id, as IPPOOL_RULE_ROWs. */
int ippool_rules(DB *db, unsigned long long org_id, unsigned long long server_id, const char *uuid, DB_ROWS *rows);
/* A rule of org_id (server_id 0) or of server_id; from/to may be NULL, not both. 1 (*id_r), < 0. */
int ippool_rule_create(DB *db, unsigned long long org_id, unsigned long long server_id, unsigned long long pool_id,
                       const char *from, const char *to, unsigned long long *id_r);
/* Replaces the pool and texts of rule id. 0, < 0 database error. */
int ippool_rule_update(DB *db, unsigned long long id, unsigned long long pool_id, const char *from, const char *to);
/* 1 deleted, 0 none, < 0 database error. */
int ippool_rule_delete(DB *db, unsigned long long id);

/* ---- the delivery path (doc/architecture.md "IP pools"): Postfix transports pgpool-<address
 * id>, written by postgatectl, chosen per message by postgate-policyd through ipchoice.h. */

/* An address as its Postfix transport needs it, with its pool's limits (-1: Postfix's
 * default). */
typedef struct ippool_transport_row {
    unsigned long long id;
    unsigned long long pool_id;
    const char *ipv4;
    const char *ipv6;
    const char *hostname;
    long long concurrency_limit;
    long long rate_delay;
} IPPOOL_TRANSPORT_ROW;
/* Every address of every pool, by id, as IPPOOL_TRANSPORT_ROWs. */
int ippool_transports(DB *db, DB_ROWS *rows);
/* Address id's transport is in master.cf: policyd may choose it. 0, < 0 database error. */
int ippool_mark_ready(DB *db, unsigned long long id);
/* Sets pool id's per-destination limits (-1: Postfix's default; rate delay in seconds).
 * 0, < 0 database error. */
int ippool_set_limits(DB *db, unsigned long long id, int concurrency_limit, int rate_delay);

/* A rule as the choice needs it. */
typedef struct ippool_delivery_rule_row {
    unsigned long long pool_id;
    int server_rule;            /* 1 a server's rule, 0 its organization's */
    const char *from_text;
    const char *to_text;
} IPPOOL_DELIVERY_RULE_ROW;
/* The rules for mail of server_id of organization org_id: the server's rules, then the
 * organization's, each by id; only rules whose pool is assigned to org_id. */
int ippool_delivery_rules(DB *db, unsigned long long org_id, unsigned long long server_id, DB_ROWS *rows);
/* A server's organization and pool (0 none; only a pool assigned to the organization):
 * 1, 0 no such live server, < 0 database error. */
int ippool_server_delivery(DB *db, unsigned long long server_id, unsigned long long *org_id_r,
                           unsigned long long *pool_id_r);
/* The addresses of pool_id whose transport is ready, by id, as IPPOOL_WEIGHT_ROWs: the
 * priority, and for an address warming up its day of the plan (1 on the day it started)
 * and how many messages it was given today (UTC). */
typedef struct ippool_weight_row {
    unsigned long long id;
    long long priority;
    long long warmup_day;       /* 0: not warming up */
    long long today;            /* messages today (warming addresses only) */
} IPPOOL_WEIGHT_ROW;
int ippool_ready_addresses(DB *db, unsigned long long pool_id, DB_ROWS *rows);

/* The address chosen earlier for the message of token (warm-up pools): 1 (*address_id_r),
 * 0 none, < 0 database error. */
int ippool_warmup_choice(DB *db, const char *token, unsigned long long *address_id_r);
/* Records address_id as token's choice and, when it is warming up, counts the message in
 * its day (one transaction; a choice made meanwhile by another lookup wins: *address_id_r
 * is then that one). >= 0 done, < 0 database error. */
int ippool_warmup_record(DB *db, const char *token, unsigned long long *address_id_r, int warming);
/* Starts (on: today is day 1, unless it is warming up already) or ends (off) the warm-up of
 * address id of pool_id. 1 done, 0 no such address (or nothing changed), < 0 error. */
int ippool_address_warmup(DB *db, unsigned long long pool_id, unsigned long long id, int on);
/* Removes warm-up counts and choices older than days. The rows removed, < 0 error. */
int ippool_warmup_purge(DB *db, int days);

#endif
