/*
 * mailbox.c -- hosted domains and mailboxes (mailbox.h); owns the SQL of mailboxes and
 * domains.hosting.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mailbox.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

int
mailbox_local_normalize(const char *in, char *out, size_t len, int allow_star)
{
    size_t n = strlen(in);

    if (allow_star && strcmp(in, "*") == 0 && len > 1) {
        memcpy(out, "*", 2);
        return 1;
    }
    if (n == 0 || n > MAILBOX_MAX_LOCAL || n >= len || in[0] == '.' || in[n - 1] == '.' || strstr(in, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];

        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
        out[i] = c;
    }
    out[n] = '\0';
    return 1;
}

int
mailbox_domain_find(DB *db, unsigned long long server_id, unsigned long long org_id, const char *name,
                    MAILBOX_DOMAIN *d)
{
    DB_RESULT *res = NULL;
    int ret;

    memset(d, 0, sizeof(*d));
    /* A server's own domain before its organization's of the same name. */
    ret = db_query(db, &res, "SELECT id, LOWER(name), verified_name IS NOT NULL, hosting, IFNULL(alias_of, 0) "
                   "FROM domains WHERE name = ? AND (server_id = ? OR organization_id = ?) "
                   "ORDER BY server_id IS NULL LIMIT 1", DB_ARGS(DB_STR(name), DB_UINT(server_id), DB_UINT(org_id)));
    if (ret > 0) {
        d->id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        snprintf(d->name, sizeof(d->name), "%s", db_result_get(res, 0, 1));
        d->verified = db_result_get(res, 0, 2)[0] == '1';
        d->hosting = db_result_get(res, 0, 3)[0] == '1';
        d->alias_of = strtoull(db_result_get(res, 0, 4), NULL, 10);
    }
    db_result_free(res);
    return ret;
}

int
mailbox_hosting_set(DB *db, const MAILBOX_DOMAIN *d, int on, char **error_r)
{
    int ret;

    *error_r = NULL;
    /* The verified condition is in the statement too: a verification lost meanwhile counts. */
    ret = db_exec(db, "UPDATE domains SET hosting = ? WHERE id = ? AND (? = 0 OR verified_name IS NOT NULL)",
                  DB_ARGS(DB_INT(on != 0), DB_UINT(d->id), DB_INT(on != 0)));
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    if (ret == 0 && on && !d->hosting) {
        *error_r = buf_asprintf("domain %s is not verified: only a verified domain can host mailboxes", d->name);
        return 0;
    }
    return 1;
}

int
mailbox_domain_holds(const MAILBOX_DOMAIN *d, char *why, size_t size)
{
    if (!d->hosting)
        snprintf(why, size, "domain %s does not host mailboxes", d->name);
    else if (d->alias_of)
        snprintf(why, size, "domain %s is an alias of another domain: its addresses are that domain's", d->name);
    else
        return 1;
    return 0;
}

/* 1 when the query (one id argument) finds a row, 0 not, < 0 error. */
static int
exists(DB *db, const char *sql, unsigned long long id)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, sql, DB_ARGS(DB_UINT(id)));

    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
mailbox_domain_alias_set(DB *db, const MAILBOX_DOMAIN *d, const MAILBOX_DOMAIN *target, char **error_r)
{
    int ret;

    *error_r = NULL;
    if (target == NULL) {
        if ((ret = db_exec(db, "UPDATE domains SET alias_of = NULL WHERE id = ?", DB_ARGS(DB_UINT(d->id)))) < 0)
            *error_r = buf_asprintf("%s", db_error(db));
        return ret < 0 ? ret : 1;
    }
    if (!d->verified)
        *error_r = buf_asprintf("domain %s is not verified: only a verified domain can be an alias", d->name);
    else if (!target->verified || !target->hosting)
        *error_r = buf_asprintf("domain %s does not host mailboxes: switch hosting on there first", target->name);
    else if (target->alias_of)
        *error_r = buf_asprintf("domain %s is an alias itself: name the domain it is an alias of", target->name);
    else if (target->id == d->id)
        *error_r = buf_asprintf("domain %s cannot be an alias of itself", d->name);
    if (*error_r)
        return 0;
    if ((ret = exists(db, "SELECT 1 FROM mailboxes WHERE domain_id = ? LIMIT 1", d->id)) == 0
        && (ret = exists(db, "SELECT 1 FROM aliases WHERE domain_id = ? LIMIT 1", d->id)) == 0
        && (ret = exists(db, "SELECT 1 FROM domains WHERE alias_of = ? LIMIT 1", d->id)) > 0)
        *error_r = buf_asprintf("other domains are aliases of %s: a domain is an alias of a domain with "
                                "mailboxes, not of another alias", d->name);
    else if (ret > 0)
        *error_r = buf_asprintf("domain %s has mailboxes or aliases of its own: move or delete them first", d->name);
    if (ret != 0) {
        if (ret < 0)
            *error_r = buf_asprintf("%s", db_error(db));
        return ret < 0 ? ret : 0;
    }
    if (d->alias_of == target->id && d->hosting)
        return 1;               /* so it is already */
    /* The verifications are in the statement too: one lost meanwhile counts. */
    ret = db_exec(db, "UPDATE domains SET alias_of = ?, hosting = 1 WHERE id = ? AND verified_name IS NOT NULL "
                  "AND EXISTS (SELECT 1 FROM (SELECT id FROM domains WHERE id = ? AND verified_name IS NOT NULL "
                  "AND hosting = 1 AND alias_of IS NULL) t)",
                  DB_ARGS(DB_UINT(target->id), DB_UINT(d->id), DB_UINT(target->id)));
    if (ret < 0)
        *error_r = buf_asprintf("%s", db_error(db));
    else if (ret == 0)
        *error_r = buf_asprintf("domain %s or %s changed meanwhile: try again", d->name, target->name);
    return ret < 0 ? ret : ret > 0 ? 1 : 0;
}

/* The error of a failed write; 0 (with *error_r) for a duplicate address. */
static int
write_failed(DB *db, int ret, const char *what, char **error_r)
{
    if (db_errno(db) == DB_ER_DUP_ENTRY) {
        *error_r = buf_asprintf("%s already exists", what);
        return 0;
    }
    *error_r = buf_asprintf("%s", db_error(db));
    return ret;
}

int
mailbox_create(DB *db, const MAILBOX_NEW *m, char uuid_r[37], char **error_r)
{
    int ret;

    *error_r = NULL;
    if (token_uuid(uuid_r) < 0) {
        *error_r = mem_strdup("random number generator failed");
        return DB_ERR_PERM;
    }
    ret = db_exec(db, "INSERT INTO mailboxes (uuid, domain_id, local_part, name, password_hash, quota_bytes, "
                  "quota_messages) SELECT ?, ?, ?, ?, ?, ?, ? FROM DUAL WHERE NOT EXISTS "
                  "(SELECT 1 FROM aliases WHERE domain_id = ? AND local_part = ?)",
                  DB_ARGS(DB_STR(uuid_r), DB_UINT(m->domain_id), DB_STR(m->local_part), DB_STR(m->name),
                          DB_STR(m->password_hash), m->quota_bytes ? DB_UINT(m->quota_bytes) : DB_NULL,
                          m->quota_messages ? DB_UINT(m->quota_messages) : DB_NULL, DB_UINT(m->domain_id),
                          DB_STR(m->local_part)));
    if (ret < 0)
        return write_failed(db, ret, "a mailbox of that address", error_r);
    if (ret == 0) {
        *error_r = buf_asprintf("%s is an alias already", m->local_part);
        return 0;
    }
    return 1;
}

int
mailbox_find(DB *db, unsigned long long domain_id, const char *local_part, unsigned long long *id_r)
{
    DB_RESULT *res = NULL;
    int ret = db_query(db, &res, "SELECT id FROM mailboxes WHERE domain_id = ? AND local_part = ?",
                       DB_ARGS(DB_UINT(domain_id), DB_STR(local_part)));

    if (ret > 0)
        *id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret;
}

int
mailbox_rename(DB *db, unsigned long long id, unsigned long long new_domain_id, const char *new_local,
               char **error_r)
{
    int ret;

    *error_r = NULL;
    ret = db_exec(db, "UPDATE mailboxes SET domain_id = ?, local_part = ? WHERE id = ? AND NOT EXISTS "
                  "(SELECT 1 FROM aliases WHERE domain_id = ? AND local_part = ?)",
                  DB_ARGS(DB_UINT(new_domain_id), DB_STR(new_local), DB_UINT(id), DB_UINT(new_domain_id),
                          DB_STR(new_local)));
    if (ret < 0)
        return write_failed(db, ret, "a mailbox of the new address", error_r);
    if (ret == 0) {
        *error_r = buf_asprintf("%s is an alias, or the mailbox is gone", new_local);
        return 0;
    }
    return 1;
}

/* One UPDATE of one mailbox: 1 done, 0 no such mailbox. */
static int
update_one(DB *db, int ret, char **error_r)
{
    *error_r = NULL;
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    if (ret == 0)
        *error_r = mem_strdup("no such mailbox");
    return ret > 0;
}

int
mailbox_set_password(DB *db, unsigned long long id, const char *password_hash, char **error_r)
{
    return update_one(db, db_exec(db, "UPDATE mailboxes SET password_hash = ?, updated_at = CURRENT_TIMESTAMP(6) "
                                  "WHERE id = ?", DB_ARGS(DB_STR(password_hash), DB_UINT(id))), error_r);
}

int
mailbox_set_quota(DB *db, unsigned long long id, unsigned long long bytes, unsigned long messages, char **error_r)
{
    return update_one(db, db_exec(db, "UPDATE mailboxes SET quota_bytes = ?, quota_messages = ?, "
                                  "updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
                                  DB_ARGS(bytes ? DB_UINT(bytes) : DB_NULL, messages ? DB_UINT(messages) : DB_NULL,
                                          DB_UINT(id))), error_r);
}

int
mailbox_set_enabled(DB *db, unsigned long long id, int enabled, char **error_r)
{
    return update_one(db, db_exec(db, "UPDATE mailboxes SET enabled = ?, updated_at = CURRENT_TIMESTAMP(6) "
                                  "WHERE id = ?", DB_ARGS(DB_INT(enabled != 0), DB_UINT(id))), error_r);
}

int
mailbox_set_name(DB *db, unsigned long long id, const char *name, char **error_r)
{
    return update_one(db, db_exec(db, "UPDATE mailboxes SET name = ?, updated_at = CURRENT_TIMESTAMP(6) "
                                  "WHERE id = ?", DB_ARGS(DB_STR(name), DB_UINT(id))), error_r);
}

int
mailbox_delete(DB *db, unsigned long long id, char **error_r)
{
    return update_one(db, db_exec(db, "DELETE FROM mailboxes WHERE id = ?", DB_ARGS(DB_UINT(id))), error_r);
}

int
mailbox_storage_keys(DB *db, char ***keys_r, size_t *count_r)
{
    return db_query_strings(db, keys_r, count_r, "SELECT LOWER(uuid) FROM mailboxes ORDER BY 1", DB_NOARGS);
}

#define COL(kind, field) DB_COL_AT(kind, MAILBOX_ROW, field)
static const DB_COL mailbox_cols[] = {
    COL(DB_COL_ID, id), COL(DB_COL_STR, uuid), COL(DB_COL_STR, address), COL(DB_COL_STR, name),
    COL(DB_COL_BOOL, enabled), COL(DB_COL_STR, quota_bytes), COL(DB_COL_STR, quota_messages),
    COL(DB_COL_ID, used_bytes), COL(DB_COL_ID, used_messages), COL(DB_COL_STR, last_login_at),
};
#undef COL

/* Usage is Dovecot's copy (mailbox_usage, schema 015), by address; 0 until its first write. */
#define MAILBOX_SELECT "SELECT m.id, m.uuid, CONCAT(m.local_part, '@', LOWER(d.name)) AS address, m.name, m.enabled, " \
    "m.quota_bytes, m.quota_messages, IFNULL(u.bytes, 0), IFNULL(u.messages, 0), " \
    "DATE_FORMAT(m.last_login_at, '%Y-%m-%dT%H:%i:%sZ') FROM mailboxes m JOIN domains d ON d.id = m.domain_id " \
    "LEFT JOIN mailbox_usage u ON u.username = CONCAT(m.local_part, '@', LOWER(d.name)) "

int
mailbox_server_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, mailbox_cols, sizeof(mailbox_cols) / sizeof(mailbox_cols[0]), sizeof(MAILBOX_ROW),
                         MAILBOX_SELECT "JOIN servers s ON s.id = ? AND (d.server_id = s.id OR d.organization_id = "
                         "s.organization_id) WHERE (? IS NULL OR m.uuid = ?) AND (? = 0 OR m.id = ?) ORDER BY address",
                         DB_ARGS(DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL,
                                 DB_UINT(id), DB_UINT(id)));
}

int
mailbox_list(DB *db, unsigned long long domain_id, DB_ROWS *rows)
{
    return db_query_rows(db, rows, mailbox_cols, sizeof(mailbox_cols) / sizeof(mailbox_cols[0]), sizeof(MAILBOX_ROW),
                         MAILBOX_SELECT "WHERE m.domain_id = ? ORDER BY address",
                         DB_ARGS(DB_UINT(domain_id)));
}
