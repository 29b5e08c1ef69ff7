/*
 * alias.h -- aliases of hosted domains (DESIGN.md §8): <local part>@<domain> delivered to
 * one or more destination addresses (mailboxes of the host or addresses elsewhere), and
 * "*", the domain's catch-all, which takes mail for any address of the domain that is not
 * a mailbox or an alias. Owns the SQL of aliases and alias_destinations.
 *
 * A local part names one thing of a domain: an alias or a mailbox (mailbox.h), never both.
 * Destinations are lower-cased plain addresses (address_email_ok()); a comma would split
 * Postfix's answer, so none is accepted.
 *
 * Contract: 1 done, 0 refused (bad input, taken, not found; *error_r, mem_free it), < 0
 * database error (DB_ERR_TEMP / DB_ERR_PERM; *error_r too).
 * Must never: put input in SQL text, or leave an alias without a destination.
 */
#ifndef PG_ALIAS_H
#define PG_ALIAS_H

#include "mail/db.h"

#define ALIAS_MAX_DESTINATIONS 100

/* Creates alias local_part ("*": the catch-all) of domain_id delivering to the n
 * destinations, in one transaction (uuid_r). */
int alias_create(DB *db, unsigned long long domain_id, const char *local_part, char *const *destinations,
                 size_t n, char uuid_r[37], char **error_r);
/* Deletes alias local_part of domain_id. */
int alias_delete(DB *db, unsigned long long domain_id, const char *local_part, char **error_r);

/* An alias as alias_list() gives it: destinations comma-separated. */
typedef struct alias_row {
    unsigned long long id;
    const char *uuid;
    const char *local_part;
    int enabled;
    const char *destinations;
    const char *domain;             /* lower case */
} ALIAS_ROW;
/* The aliases of domain_id by local part as ALIAS_ROWs (db_rows_free): the count or < 0. */
int alias_list(DB *db, unsigned long long domain_id, DB_ROWS *rows);
/* The aliases under the domains of server_id and of its organization (only uuid's when not
 * NULL, only id's when not 0): the count or < 0. */
int alias_server_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows);
/* Deletes alias id. 1 done, 0 none, < 0 database error. */
int alias_delete_id(DB *db, unsigned long long id);

#endif
