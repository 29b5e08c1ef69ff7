/*
 * suppression.h -- a server's suppression list: recipients mail is held for instead
 * of being sent (Postal's semantics), until keep_until passes. Besides the lookup the
 * milter makes, the list is read, added to, imported into and removed from through the
 * management API.
 *
 * Contract: the table suppressions is this module's. Addresses are stored lower-cased
 * (suppression_address_normalize()). Functions return >= 0 on success or DB_ERR_TEMP /
 * DB_ERR_PERM (db.h).
 *
 * Must never: store an address that suppression_check() could not find again (it
 * lower-cases the same way).
 */
#ifndef PG_SUPPRESSION_H
#define PG_SUPPRESSION_H

#include <stddef.h>

#include "mail/db.h"

#define SUPPRESSION_ADDRESS_MAX 320
#define SUPPRESSION_REASON_MAX 1000
#define SUPPRESSION_KEEP_DAYS_MAX 3650

/* 1 suppressed (reason copied), 0 not, < 0 database error. address is lower-cased here.
 * An entry "*@example.com" suppresses every address at example.com (not its subdomains);
 * when the address has an entry of its own, that entry's reason is given. */
int suppression_check(DB *db, unsigned long long server_id, const char *address, char *reason, size_t len);
/* Removes address (lower-cased here) from the server's list, as a successful send does.
 * The number of entries removed (0 or 1), or < 0 database error. */
int suppression_remove_address(DB *db, unsigned long long server_id, const char *address);
/* Message id of server_id is being deleted: entries that point at it as their cause keep
 * their address and reason but lose the reference. The entries changed, or < 0. */
int suppression_forget_message(DB *db, unsigned long long server_id, unsigned long long message_id);

/* Trims spaces and tabs around in[0..len), lower-cases it into out (SUPPRESSION_ADDRESS_MAX
 * + 1 bytes) and checks that it is an address local@domain.example (printable ASCII local
 * part without spaces, <>, (), [], \, ",", ";", ":", '"'; a domain of letters, digits and
 * hyphens with at least two labels). 1 good, 0 bad with *error_r saying why (mem_free it). */
int suppression_address_normalize(const char *in, size_t len, char *out, char **error_r);

/* A suppression list entry; times "YYYY-MM-DDTHH:MM:SSZ" or NULL. */
typedef struct suppression_row {
    unsigned long long id;
    const char *address;
    const char *reason;
    const char *source;
    const char *keep_until;
    const char *created_at;
    const char *updated_at;
} SUPPRESSION_ROW;
/* The entries of server_id, newest (highest id) first: only addresses containing search
 * when it is not NULL, only ids below before_id when it is not 0, only id when id is not 0,
 * at most limit rows, as SUPPRESSION_ROWs into *rows (db_rows_free it): the row count, < 0
 * database error. */
int suppression_list(DB *db, unsigned long long server_id, const char *search, unsigned long long before_id,
                     unsigned long long id, unsigned limit, DB_ROWS *rows);
/* The entry of address (normalized) of server_id: 1 with *id_r, 0 none, < 0 database error. */
int suppression_find(DB *db, unsigned long long server_id, const char *address, unsigned long long *id_r);

/* Days an address stays on the list after a hard failure or a hard bounce (Postal's 30). */
#define SUPPRESSION_FAILURE_DAYS 30

/* Adds address (normalized) with reason and source ("api", "import", "manual", ...),
 * kept keep_days days (0: until removed). With replace, an existing entry takes the new
 * reason, source and keep time; without, it is left as it is.
 * 1 added, 0 it was there already, < 0 database error. */
int suppression_add(DB *db, unsigned long long server_id, const char *address, const char *reason, const char *source,
                    unsigned keep_days, int replace);
/* Removes entry id of server_id: 1 removed, 0 none, < 0 database error. */
int suppression_remove(DB *db, unsigned long long server_id, unsigned long long id);

#endif
