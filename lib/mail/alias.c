/*
 * alias.c -- aliases of hosted domains (alias.h); owns the SQL of aliases and
 * alias_destinations.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "mail/address.h"
#include "mail/alias.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

/* The lower-cased destination (mem_free), or NULL when it is not a plain address. */
static char *
destination_normalize(const char *in)
{
    char *out;

    if (!address_email_ok(in) || strchr(in, ',') != NULL)
        return NULL;
    out = mem_strdup(in);
    for (char *p = out; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return out;
}

/* alias_create()'s statements, run whole again when they lose a conflict (db_transaction). */
struct create_txn {
    unsigned long long domain_id;
    const char *local_part;
    char *const *destinations;
    size_t n;
    const char *uuid;
    int taken;                  /* out: the name is a mailbox or an alias already */
};

static int
create_txn(DB *db, void *arg)
{
    struct create_txn *t = arg;
    unsigned long long id;
    int ret;

    t->taken = 0;
    ret = db_exec(db, "INSERT INTO aliases (uuid, domain_id, local_part) SELECT ?, ?, ? FROM DUAL WHERE NOT EXISTS "
                  "(SELECT 1 FROM mailboxes WHERE domain_id = ? AND local_part = ?)",
                  DB_ARGS(DB_STR(t->uuid), DB_UINT(t->domain_id), DB_STR(t->local_part), DB_UINT(t->domain_id),
                          DB_STR(t->local_part)));
    if (ret == 0 || (ret < 0 && db_errno(db) == DB_ER_DUP_ENTRY)) {
        t->taken = 1;
        return DB_ERR_PERM;
    }
    if (ret < 0)
        return ret;
    id = db_insert_id(db);
    for (size_t i = 0; i < t->n; i++) {
        char *d = destination_normalize(t->destinations[i]);

        ret = db_exec(db, "INSERT IGNORE INTO alias_destinations (alias_id, address) VALUES (?, ?)",
                      DB_ARGS(DB_UINT(id), DB_STR(d)));
        mem_free(d);
        if (ret < 0)
            return ret;
    }
    return 1;
}

int
alias_create(DB *db, unsigned long long domain_id, const char *local_part, char *const *destinations,
             size_t n, char uuid_r[37], char **error_r)
{
    struct create_txn t = {.domain_id = domain_id, .local_part = local_part, .destinations = destinations, .n = n};
    int ret;

    *error_r = NULL;
    if (n == 0 || n > ALIAS_MAX_DESTINATIONS) {
        *error_r = buf_asprintf("an alias needs 1 to %d destinations", ALIAS_MAX_DESTINATIONS);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char *d = destination_normalize(destinations[i]);

        if (d == NULL) {
            *error_r = buf_asprintf("destination \"%s\" is not a plain e-mail address", destinations[i]);
            return 0;
        }
        mem_free(d);
    }
    if (token_uuid(uuid_r) < 0) {
        *error_r = mem_strdup("random number generator failed");
        return DB_ERR_PERM;
    }
    t.uuid = uuid_r;
    ret = db_transaction(db, create_txn, &t);
    if (t.taken) {
        *error_r = buf_asprintf("%s is a mailbox or an alias already", local_part);
        return 0;
    }
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    return 1;
}

int
alias_delete(DB *db, unsigned long long domain_id, const char *local_part, char **error_r)
{
    int ret = db_exec(db, "DELETE FROM aliases WHERE domain_id = ? AND local_part = ?",
                      DB_ARGS(DB_UINT(domain_id), DB_STR(local_part)));

    *error_r = NULL;
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    if (ret == 0)
        *error_r = buf_asprintf("no alias %s", local_part);
    return ret > 0;
}

#define COL(kind, field) DB_COL_AT(kind, ALIAS_ROW, field)
static const DB_COL alias_cols[] = {
    COL(DB_COL_ID, id), COL(DB_COL_STR, uuid), COL(DB_COL_STR, local_part), COL(DB_COL_BOOL, enabled),
    COL(DB_COL_STR, destinations), COL(DB_COL_STR, domain),
};
#undef COL

int
alias_list(DB *db, unsigned long long domain_id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, alias_cols, sizeof(alias_cols) / sizeof(alias_cols[0]), sizeof(ALIAS_ROW),
                         "SELECT a.id, a.uuid, a.local_part, a.enabled, GROUP_CONCAT(t.address ORDER BY t.address "
                         "SEPARATOR ','), LOWER(d.name) FROM aliases a JOIN domains d ON d.id = a.domain_id "
                         "LEFT JOIN alias_destinations t ON t.alias_id = a.id "
                         "WHERE a.domain_id = ? GROUP BY a.id ORDER BY a.local_part", DB_ARGS(DB_UINT(domain_id)));
}

int
alias_server_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, alias_cols, sizeof(alias_cols) / sizeof(alias_cols[0]), sizeof(ALIAS_ROW),
                         "SELECT a.id, a.uuid, a.local_part, a.enabled, GROUP_CONCAT(t.address ORDER BY t.address "
                         "SEPARATOR ','), LOWER(d.name) AS dname FROM aliases a JOIN domains d ON d.id = a.domain_id "
                         "JOIN servers s ON s.id = ? AND (d.server_id = s.id OR d.organization_id = s.organization_id) "
                         "LEFT JOIN alias_destinations t ON t.alias_id = a.id WHERE (? IS NULL OR a.uuid = ?) "
                         "AND (? = 0 OR a.id = ?) GROUP BY a.id ORDER BY dname, a.local_part",
                         DB_ARGS(DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL,
                                 DB_UINT(id), DB_UINT(id)));
}

int
alias_delete_id(DB *db, unsigned long long id)
{
    return db_exec(db, "DELETE FROM aliases WHERE id = ?", DB_ARGS(DB_UINT(id)));
}
