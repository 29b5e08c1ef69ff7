/*
 * hosting.c -- Postfix's lookups of hosted domains and mailbox users' logins (hosting.h).
 * Reads domains, mailboxes and aliases; writes nothing.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/hosting.h"
#include "mail/mailbox.h"
#include "util/mem.h"

/* A hosted domain d: verified, hosting on, its server (if any) and organization live. The
 * caller's WHERE adds HOSTED_WHERE; HOSTED_OWNER joins d's owner (s, o) alone. */
#define HOSTED_OWNER "LEFT JOIN servers s ON s.id = d.server_id " \
    "JOIN organizations o ON o.id = COALESCE(d.organization_id, s.organization_id) AND o.deleted_at IS NULL "
#define HOSTED_JOIN "JOIN domains d ON d.id = x.domain_id AND d.verified_name IS NOT NULL AND d.hosting = 1 " HOSTED_OWNER
#define HOSTED_WHERE "(s.id IS NULL OR s.deleted_at IS NULL)"

/* Splits a lower-cased key into local part (may be empty: "@domain") and domain; 0 bad. */
static int
split(const char *key, char *local, size_t lsize, char *domain, size_t dsize)
{
    const char *at = strrchr(key, '@');
    size_t llen, dlen;

    if (at == NULL || at[1] == '\0')
        return 0;
    llen = (size_t) (at - key);
    dlen = strlen(at + 1);
    if (llen >= lsize || dlen >= dsize)
        return 0;
    for (size_t i = 0; i < llen; i++)
        local[i] = (char) tolower((unsigned char) key[i]);
    local[llen] = '\0';
    for (size_t i = 0; i < dlen; i++)
        domain[i] = (char) tolower((unsigned char) at[1 + i]);
    domain[dlen] = '\0';
    if (domain[dlen - 1] == '.')
        domain[dlen - 1] = '\0';
    return domain[0] != '\0';
}

int
hosting_domain_list(DB *db, char ***names_r, size_t *count_r)
{
    return db_query_strings(db, names_r, count_r,
                            "SELECT DISTINCT LOWER(d.name) FROM domains d " HOSTED_OWNER
                            "WHERE d.verified_name IS NOT NULL AND d.hosting = 1 AND " HOSTED_WHERE, DB_NOARGS);
}

int
hosting_mailbox(DB *db, const char *address)
{
    char local[MAILBOX_MAX_LOCAL + 1], domain[254];
    DB_RESULT *res = NULL;
    int ret;

    if (!split(address, local, sizeof(local), domain, sizeof(domain)) || local[0] == '\0')
        return 0;
    ret = db_query(db, &res, "SELECT 1 FROM mailboxes x " HOSTED_JOIN "WHERE d.verified_name = ? AND x.local_part = ? "
                   "AND " HOSTED_WHERE, DB_ARGS(DB_STR(domain), DB_STR(local)));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
hosting_quota_full(DB *db, const char *address, const char **which_r)
{
    char local[MAILBOX_MAX_LOCAL + 1], domain[254];
    DB_RESULT *res = NULL;
    int ret;

    *which_r = NULL;
    if (!split(address, local, sizeof(local), domain, sizeof(domain)) || local[0] == '\0')
        return 0;
    ret = db_query(db, &res, "SELECT IFNULL(x.quota_bytes, 0) > 0 AND IFNULL(u.bytes, 0) >= x.quota_bytes, "
                   "IFNULL(x.quota_messages, 0) > 0 AND IFNULL(u.messages, 0) >= x.quota_messages "
                   "FROM mailboxes x " HOSTED_JOIN
                   "LEFT JOIN mailbox_usage u ON u.username = CONCAT(x.local_part, '@', LOWER(d.name)) "
                   "WHERE d.verified_name = ? AND x.local_part = ? AND " HOSTED_WHERE,
                   DB_ARGS(DB_STR(domain), DB_STR(local)));
    if (ret > 0) {
        const char *bytes = db_result_get(res, 0, 0), *messages = db_result_get(res, 0, 1);

        if (bytes && strcmp(bytes, "1") == 0)
            *which_r = "bytes";
        else if (messages && strcmp(messages, "1") == 0)
            *which_r = "messages";
    }
    db_result_free(res);
    return ret < 0 ? ret : *which_r != NULL;
}

int
hosting_recipient(DB *db, const char *address, unsigned long long *server_id_r)
{
    char local[MAILBOX_MAX_LOCAL + 1], domain[254];
    DB_RESULT *res = NULL;
    int ret;

    *server_id_r = 0;
    if (!split(address, local, sizeof(local), domain, sizeof(domain)))
        return 0;
    ret = db_query(db, &res, "SELECT IFNULL(d.server_id, 0) FROM domains d " HOSTED_OWNER
                   "WHERE d.verified_name = ? AND d.hosting = 1 AND " HOSTED_WHERE, DB_ARGS(DB_STR(domain)));
    if (ret > 0)
        *server_id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

/* The target of alias domain domain (schema 016), lower case, into target: 1, 0 when domain is
 * no alias with a live target (verified, hosting, no alias itself), < 0 error. */
static int
alias_target(DB *db, const char *domain, char *target, size_t size)
{
    DB_RESULT *res = NULL;
    int ret;

    /* The target is checked afresh: verified, hosting, no alias itself, and of the same
     * organization (whatever wrote alias_of, one tenant's name never reaches another's). */
    ret = db_query(db, &res, "SELECT LOWER(t.name) FROM domains d JOIN domains t ON t.id = d.alias_of "
                   "AND t.verified_name IS NOT NULL AND t.hosting = 1 AND t.alias_of IS NULL "
                   "LEFT JOIN servers ts ON ts.id = t.server_id " HOSTED_OWNER
                   "WHERE d.verified_name = ? AND d.hosting = 1 AND " HOSTED_WHERE " "
                   "AND COALESCE(t.organization_id, ts.organization_id) = o.id AND (ts.id IS NULL OR ts.deleted_at IS NULL)",
                   DB_ARGS(DB_STR(domain)));
    if (ret > 0)
        snprintf(target, size, "%s", db_result_get(res, 0, 0));
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

/* The destinations of enabled alias local ("*": the catch-all) of hosted domain into out. */
static int
alias_destinations(DB *db, const char *local, const char *domain, BUF *out)
{
    DB_RESULT *res = NULL;
    int ret;

    ret = db_query(db, &res, "SELECT GROUP_CONCAT(t.address ORDER BY t.address SEPARATOR ',') FROM aliases x "
                   HOSTED_JOIN "JOIN alias_destinations t ON t.alias_id = x.id WHERE d.verified_name = ? "
                   "AND x.local_part = ? AND x.enabled = 1 AND " HOSTED_WHERE, DB_ARGS(DB_STR(domain), DB_STR(local)));
    if (ret > 0 && db_result_get(res, 0, 0) != NULL)
        buf_append_str(out, db_result_get(res, 0, 0));
    else if (ret > 0)
        ret = 0;
    db_result_free(res);
    return ret;
}

/* An alias domain's address answers as the same local part of its target: lookup(local@target). */
static int
via_alias_domain(DB *db, const char *local, const char *domain, BUF *out, int (*lookup)(DB *, const char *, BUF *))
{
    char target[254], *key;
    int ret;

    if (local[0] == '\0' || (ret = alias_target(db, domain, target, sizeof(target))) == 0)
        return 0;
    if (ret < 0)
        return ret;
    key = buf_asprintf("%s@%s", local, target);
    ret = lookup(db, key, out);
    mem_free(key);
    return ret;
}

int
hosting_alias(DB *db, const char *key, BUF *out)
{
    char local[MAILBOX_MAX_LOCAL + 1], domain[254];
    int ret;

    if (!split(key, local, sizeof(local), domain, sizeof(domain)))
        return 0;
    if (local[0] == '\0' || strcmp(local, "*") == 0)
        return alias_destinations(db, "*", domain, out);
    if ((ret = alias_destinations(db, local, domain, out)) != 0)
        return ret;
    /* A mailbox maps to itself, so the catch-all never takes its mail. */
    if ((ret = hosting_mailbox(db, key)) != 0) {
        if (ret > 0)
            buf_printf(out, "%s@%s", local, domain);
        return ret;
    }
    /* Postfix skips its own "@domain" fallback for socketmap tables (they are not
     * DICT_FLAG_FIXED), so the catch-all is applied here. */
    if ((ret = alias_destinations(db, "*", domain, out)) != 0)
        return ret;
    return via_alias_domain(db, local, domain, out, hosting_alias);
}

int
hosting_sender_logins(DB *db, const char *address, BUF *out)
{
    char local[MAILBOX_MAX_LOCAL + 1], domain[254];
    DB_RESULT *res = NULL;
    int ret;

    if (!split(address, local, sizeof(local), domain, sizeof(domain)) || local[0] == '\0')
        return 0;
    ret = db_query(db, &res, "SELECT CONCAT(x.local_part, '@', LOWER(d.name)) FROM mailboxes x " HOSTED_JOIN
                   "WHERE d.verified_name = ? AND x.local_part = ? AND " HOSTED_WHERE " "
                   "UNION SELECT t.address FROM aliases x " HOSTED_JOIN "JOIN alias_destinations t ON t.alias_id = x.id "
                   "WHERE d.verified_name = ? AND x.local_part = ? AND x.enabled = 1 AND " HOSTED_WHERE,
                   DB_ARGS(DB_STR(domain), DB_STR(local), DB_STR(domain), DB_STR(local)));
    for (int i = 0; i < ret; i++)
        buf_printf(out, "%s%s", i ? "," : "", db_result_get(res, (size_t) i, 0));
    db_result_free(res);
    if (ret == 0)
        return via_alias_domain(db, local, domain, out, hosting_sender_logins);
    return ret > 0 ? 1 : ret;
}

int
hosting_login(DB *db, const char *address, HOSTING_LOGIN *out, char **hash_r)
{
    char local[MAILBOX_MAX_LOCAL + 1], domain[254];
    DB_RESULT *res = NULL;
    int ret;

    memset(out, 0, sizeof(*out));
    if (hash_r)
        *hash_r = NULL;
    if (!split(address, local, sizeof(local), domain, sizeof(domain)) || local[0] == '\0')
        return 0;
    ret = db_query(db, &res, "SELECT x.id, IFNULL(d.server_id, 0), "
                   "(s.suspended_at IS NOT NULL OR o.suspended_at IS NOT NULL), x.password_hash "
                   "FROM mailboxes x " HOSTED_JOIN "WHERE d.verified_name = ? AND x.local_part = ? AND x.enabled = 1 "
                   "AND " HOSTED_WHERE, DB_ARGS(DB_STR(domain), DB_STR(local)));
    if (ret > 0) {
        out->mailbox_id = strtoull(db_result_get(res, 0, 0), NULL, 10);
        out->server_id = strtoull(db_result_get(res, 0, 1), NULL, 10);
        out->suspended = atoi(db_result_get(res, 0, 2));
        snprintf(out->address, sizeof(out->address), "%s@%s", local, domain);
        if (hash_r)
            *hash_r = mem_strdup(db_result_get(res, 0, 3));
    }
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
hosting_login_owns(DB *db, const char *login, const char *address)
{
    BUF *owners;
    int ret;

    /* A signed-in mailbox owns its own address: the usual case costs no query. */
    if (strcasecmp(login, address) == 0)
        return 1;
    owners = buf_new(256);
    ret = hosting_sender_logins(db, address, owners);

    if (ret > 0) {
        const char *p = buf_cstr(owners);
        size_t n = strlen(login);

        ret = 0;
        while (*p) {
            size_t len = strcspn(p, ",");

            if (len == n && strncasecmp(p, login, n) == 0)
                ret = 1;
            p += len + (p[len] == ',');
        }
    }
    buf_free(owners);
    return ret;
}
