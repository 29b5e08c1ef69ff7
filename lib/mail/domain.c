/*
 * domain.c -- sending domains and their DKIM keys (domain.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/clientdns.h"
#include "mail/dnscheck.h"
#include "mail/domain.h"
#include "mail/turn.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

#define SEAL_CONTEXT "dkim"

int
domain_name_normalize(const char *in, char *out, size_t len)
{
    size_t n = strlen(in), label = 0, labels = 1;

    if (n == 0 || n > 253 || n >= len)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = (char) tolower((unsigned char) in[i]);

        if (c == '.') {
            if (label == 0 || in[i - 1] == '-')
                return 0;
            label = 0;
            labels++;
        } else if (isalnum((unsigned char) c) || (c == '-' && label > 0)) {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
        out[i] = c;
    }
    out[n] = '\0';
    return label > 0 && labels >= 2 && out[n - 1] != '-';
}

/* Generates, seals and stores one key: active now (delay < 0), or pending and signing
 * from delay seconds on (activated_at is then the planned switch); selector_r may be NULL. */
static int
add_key(DB *db, const SEAL_KEY *seal, const PGCONF *cfg, unsigned long long domain_id, DKIM_ALG alg,
        long delay, char selector_r[64], char **error_r)
{
    char *pem = NULL, *pub = NULL, suffix[7], selector[64], *why = NULL;
    BUF *sealed;
    int ret;

    if (dkim_key_generate(alg, &pem, &pub, &why) < 0) {
        *error_r = buf_asprintf("DKIM key generation failed: %s", why);
        mem_free(why);
        return DB_ERR_TEMP;
    }
    if (token_generate(suffix, 6, TOKEN_LOWER_ALNUM) < 0) {
        mem_free(pem);
        mem_free(pub);
        *error_r = buf_asprintf("random number generator failed");
        return DB_ERR_TEMP;
    }
    snprintf(selector, sizeof(selector), "%s-%s", cfg->dns_dkim_identifier, suffix);
    sealed = buf_new(2048);
    if (seal_encrypt(seal, SEAL_CONTEXT, pem, strlen(pem), sealed) < 0) {
        *error_r = buf_asprintf("sealing the DKIM key failed");
        ret = DB_ERR_TEMP;
    } else {
        ret = db_exec(db, "INSERT INTO domain_dkim_keys (domain_id, selector, algorithm, key_bits, "
                      "private_key_encrypted, public_key, state, activated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, IF(? < 0, 'active', 'pending'), "
                      "UTC_TIMESTAMP(6) + INTERVAL GREATEST(?, 0) SECOND)",
                      DB_ARGS(DB_UINT(domain_id), DB_STR(selector),
                              DB_STR(alg == DKIM_ALG_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256"),
                              alg == DKIM_ALG_RSA_SHA256 ? DB_INT(2048) : DB_INT(256),
                              DB_BLOB(buf_data(sealed), buf_len(sealed)), DB_STR(pub), DB_INT(delay), DB_INT(delay)));
        if (ret < 0)
            *error_r = buf_asprintf("%s", db_error(db));
        else if (selector_r)
            snprintf(selector_r, 64, "%s", selector);
    }
    buf_free(sealed);
    memset(pem, 0, strlen(pem));
    mem_free(pem);
    mem_free(pub);
    return ret < 0 ? ret : 1;
}

/* domain_create()'s statements, run whole again when they lose a conflict (db_transaction). */
struct create_txn {
    const SEAL_KEY *seal;
    const PGCONF *cfg;
    const DOMAIN_CREATE_ARGS *args;
    const char *name, *uuid, *vtoken;
    unsigned long long id;      /* out */
    int refused;                /* out: 0, or DOMAIN_CLAIMED / 1 (the owner has it) */
    char **error_r;
};

static int
create_txn(DB *db, void *arg)
{
    struct create_txn *t = arg;
    const DOMAIN_CREATE_ARGS *args = t->args;
    int ret;

    mem_free(*t->error_r);
    *t->error_r = NULL;
    t->refused = 0;
    ret = db_exec(db, "INSERT INTO domains (uuid, organization_id, server_id, name, verification_token, verified_at) "
                  "VALUES (?, ?, ?, ?, ?, IF(?, UTC_TIMESTAMP(6), NULL))",
                  DB_ARGS(DB_STR(t->uuid), args->org_id ? DB_UINT(args->org_id) : DB_NULL,
                          args->server_id ? DB_UINT(args->server_id) : DB_NULL, DB_STR(t->name), DB_STR(t->vtoken),
                          DB_INT(args->verified != 0)));
    if (ret < 0) {
        if (db_errno(db) == DB_ER_DUP_ENTRY && strstr(db_error(db), "uq_domains_verified_name") != NULL)
            t->refused = DOMAIN_CLAIMED;
        else if (db_errno(db) == DB_ER_DUP_ENTRY)
            t->refused = 1;
        return ret;
    }
    t->id = db_insert_id(db);
    if ((ret = add_key(db, t->seal, t->cfg, t->id, DKIM_ALG_RSA_SHA256, -1, NULL, t->error_r)) < 0
        || (args->ed25519 && (ret = add_key(db, t->seal, t->cfg, t->id, DKIM_ALG_ED25519_SHA256, -1, NULL,
                                            t->error_r)) < 0))
        return ret;
    return 1;
}

int
domain_create(DB *db, const SEAL_KEY *seal, const PGCONF *cfg, const DOMAIN_CREATE_ARGS *args,
              unsigned long long *id_r, char **error_r)
{
    char name[254], uuid[37], vtoken[33];
    struct create_txn t = {.seal = seal, .cfg = cfg, .args = args, .name = name, .uuid = uuid, .vtoken = vtoken,
                           .error_r = error_r};
    int ret;

    *error_r = NULL;
    if ((args->server_id == 0) == (args->org_id == 0)) {
        *error_r = buf_asprintf("a domain belongs to either a server or an organization");
        return 0;
    }
    if (!domain_name_normalize(args->name, name, sizeof(name))) {
        *error_r = buf_asprintf("\"%s\" is not a domain name", args->name);
        return 0;
    }
    if (token_uuid(uuid) < 0 || token_generate(vtoken, 32, TOKEN_ALNUM) < 0) {
        *error_r = buf_asprintf("random number generator failed");
        return DB_ERR_TEMP;
    }
    ret = db_transaction(db, create_txn, &t);
    if (t.refused) {
        mem_free(*error_r);
        *error_r = t.refused == DOMAIN_CLAIMED ? buf_asprintf(DOMAIN_CLAIMED_TEXT, name)
            : buf_asprintf("%s already exists for this owner", name);
        return t.refused == DOMAIN_CLAIMED ? DOMAIN_CLAIMED : 0;
    }
    if (ret < 0) {
        if (*error_r == NULL)
            *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    *id_r = t.id;
    return 1;
}

int
domain_for_sending(DB *db, const SERVER *server, const char *name, unsigned long long *domain_id_r)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, "SELECT id FROM domains WHERE name = ? AND verified_at IS NOT NULL AND outgoing "
                       "AND (server_id = ? OR organization_id = ?) ORDER BY server_id IS NULL LIMIT 1",
                       DB_ARGS(DB_STR(name), DB_UINT(server->id), DB_UINT(server->org_id)));

    if (ret > 0)
        *domain_id_r = strtoull(db_result_get(res, 0, 0), NULL, 10);
    db_result_free(res);
    return ret > 0 ? 1 : ret;
}

int
domain_signing_keys(DB *db, const SEAL_KEY *seal, unsigned long long domain_id, DOMAIN_KEY keys[2], int *n_r)
{
    DB_RESULT *res;
    BUF *pem = buf_new(4096);
    /* A pending key whose planned switch (activated_at) has passed signs instead of the
     * active key of its algorithm: rotation needs no job, every host switches at once. */
    int ret = db_query(db, &res, "SELECT algorithm, selector, private_key_encrypted FROM domain_dkim_keys "
                       "WHERE domain_id = ? AND (state = 'active' OR (state = 'pending' AND activated_at <= "
                       "UTC_TIMESTAMP(6))) ORDER BY algorithm = 'ed25519-sha256', state = 'pending' DESC, id DESC "
                       "LIMIT 8", DB_ARGS(DB_UINT(domain_id)));

    *n_r = 0;
    if (ret < 0) {
        buf_free(pem);
        return ret;
    }
    for (size_t r = 0; r < db_result_rows(res) && *n_r < 2; r++) {
        if (r > 0 && strcmp(db_result_get(res, r, 0), db_result_get(res, r - 1, 0)) == 0)
            continue;       /* this algorithm's key is chosen already */
        buf_reset(pem);
        if (seal_decrypt(seal, SEAL_CONTEXT, db_result_get(res, r, 2), db_result_len(res, r, 2), pem) < 0)
            continue;       /* reported by the caller as "no usable key" */
        keys[*n_r].alg = strcmp(db_result_get(res, r, 0), "rsa-sha256") == 0 ? DKIM_ALG_RSA_SHA256
            : DKIM_ALG_ED25519_SHA256;
        snprintf(keys[*n_r].selector, sizeof(keys[*n_r].selector), "%s", db_result_get(res, r, 1));
        keys[*n_r].pem = mem_strndup(buf_cstr(pem), buf_len(pem));
        (*n_r)++;
    }
    memset((void *) buf_data(pem), 0, buf_len(pem));
    buf_free(pem);
    db_result_free(res);
    return *n_r;
}

void
domain_keys_free(DOMAIN_KEY *keys, int n)
{
    for (int i = 0; i < n; i++) {
        if (keys[i].pem) {
            memset(keys[i].pem, 0, strlen(keys[i].pem));
            mem_free(keys[i].pem);
        }
        keys[i].pem = NULL;
    }
}

/* A TXT value in zone-file syntax: quoted strings of at most 255 characters. */
static void
zone_txt(BUF *out, const char *value)
{
    size_t len = strlen(value);

    for (size_t off = 0; off < len; off += 255)
        buf_printf(out, "%s\"%.*s\"", off ? " " : "", (int) (len - off > 255 ? 255 : len - off), value + off);
}

char *
domain_dns_records(DB *db, const PGCONF *cfg, unsigned long long domain_id)
{
    DB_RESULT *res, *keys;
    BUF *out;
    char *txt;
    const char *name;

    if (db_query(db, &res, "SELECT name, verification_token, hosting FROM domains WHERE id = ?",
                 DB_ARGS(DB_UINT(domain_id))) <= 0) {
        db_result_free(res);
        return NULL;
    }
    if (db_query(db, &keys, "SELECT selector, algorithm, public_key FROM domain_dkim_keys "
                 "WHERE domain_id = ? AND state IN ('pending', 'active', 'retiring') ORDER BY id",
                 DB_ARGS(DB_UINT(domain_id))) < 0) {
        db_result_free(res);
        return NULL;
    }
    name = db_result_get(res, 0, 0);
    out = buf_new(2048);
    buf_printf(out, "; DNS records for %s (zone-file syntax)\n", name);
    buf_printf(out, "%s.\t3600\tIN\tTXT\t\"%s %s\"\n", name, cfg->dns_domain_verify_prefix, db_result_get(res, 0, 1));
    buf_printf(out, "%s.\t3600\tIN\tTXT\t\"v=spf1 a mx include:%s ~all\"\n", name, cfg->dns_spf_include);
    for (size_t r = 0; r < db_result_rows(keys); r++) {
        DKIM_ALG alg = strcmp(db_result_get(keys, r, 1), "rsa-sha256") == 0 ? DKIM_ALG_RSA_SHA256
            : DKIM_ALG_ED25519_SHA256;

        txt = dkim_dns_record(alg, db_result_get(keys, r, 2));
        buf_printf(out, "%s._domainkey.%s.\t3600\tIN\tTXT\t", db_result_get(keys, r, 0), name);
        zone_txt(out, txt);
        buf_append_char(out, '\n');
        mem_free(txt);
    }
    buf_printf(out, "%s.%s.\t3600\tIN\tCNAME\t%s.\n", cfg->dns_custom_return_path_prefix, name,
               cfg->dns_return_path_domain);
    for (size_t i = 0; i < cfg->dns_mx_records.count; i++)
        buf_printf(out, "%s.\t3600\tIN\tMX\t10 %s.\n", name, cfg->dns_mx_records.items[i]);
    /* DMARC (RFC 7489): the configured policy, and where aggregate reports go when a usable
     * address is configured (nothing that could end a tag or the TXT string). */
    buf_printf(out, "_dmarc.%s.\t3600\tIN\tTXT\t\"v=DMARC1; p=%s", name, cfg->dns_dmarc_policy);
    if (*cfg->dns_dmarc_report_address && strchr(cfg->dns_dmarc_report_address, '@')
        && strpbrk(cfg->dns_dmarc_report_address, ";\"\\ \t\r\n,!") == NULL)
        buf_printf(out, "; rua=mailto:%s", cfg->dns_dmarc_report_address);
    buf_printf(out, "\"\n");
    if (strcmp(db_result_get(res, 0, 2), "1") == 0)
        clientdns_records(out, cfg, name);
    db_result_free(res);
    db_result_free(keys);
    return buf_steal(out, NULL);
}

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

static const DB_COL domain_cols[] = {
    DB_COL_AT(DB_COL_ID, DOMAIN_ROW, id), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, uuid), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, name),
    DB_COL_AT(DB_COL_BOOL, DOMAIN_ROW, verified), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, verification_method),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, verification_email), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, created_at),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, spf_status),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, spf_error), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, dkim_status),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, dkim_error), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, mx_status),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, mx_error), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, return_path_status),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, return_path_error), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, dmarc_status),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, dmarc_error), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, client_config_status),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, client_config_error), DB_COL_AT(DB_COL_STR, DOMAIN_ROW, dns_checked_at),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, verified_at), DB_COL_AT(DB_COL_BOOL, DOMAIN_ROW, hosting),
    DB_COL_AT(DB_COL_STR, DOMAIN_ROW, alias_of),
};
static const DB_COL dkim_cols[] = {
    DB_COL_AT(DB_COL_STR, DOMAIN_DKIM_ROW, selector), DB_COL_AT(DB_COL_STR, DOMAIN_DKIM_ROW, algorithm),
    DB_COL_AT(DB_COL_STR, DOMAIN_DKIM_ROW, state), DB_COL_AT(DB_COL_BOOL, DOMAIN_DKIM_ROW, signing),
    DB_COL_AT(DB_COL_STR, DOMAIN_DKIM_ROW, activated_at), DB_COL_AT(DB_COL_STR, DOMAIN_DKIM_ROW, created_at),
};

int
domain_server_list(DB *db, unsigned long long server_id, const char *name, DB_ROWS *rows)
{
    return domain_owner_list(db, server_id, 0, name, rows);
}

int
domain_owner_list(DB *db, unsigned long long server_id, unsigned long long org_id, const char *name, DB_ROWS *rows)
{
    return db_query_rows(db, rows, domain_cols, sizeof(domain_cols) / sizeof(domain_cols[0]), sizeof(DOMAIN_ROW),
                         "SELECT id, uuid, name, verified_at IS NOT NULL, verification_method, verification_email, "
                    TS("created_at") ", spf_status, spf_error, dkim_status, dkim_error, mx_status, mx_error, "
                    "return_path_status, return_path_error, dmarc_status, dmarc_error, client_config_status, "
                    "client_config_error, " TS("dns_checked_at") ", "
                    TS("verified_at") ", hosting, (SELECT LOWER(t.name) FROM domains t WHERE t.id = d.alias_of) "
                    "FROM domains d WHERE d.server_id <=> ? AND (? IS NULL OR d.organization_id = ?) "
                    "AND (? IS NULL OR name = ?) ORDER BY name",
                    DB_ARGS(server_id ? DB_UINT(server_id) : DB_NULL, server_id ? DB_NULL : DB_UINT(org_id),
                            DB_UINT(org_id), name ? DB_STR(name) : DB_NULL, name ? DB_STR(name) : DB_NULL));
}

int
domain_dkim_list(DB *db, unsigned long long domain_id, DB_ROWS *rows)
{
    /* signing: the key domain_signing_keys() would choose for its algorithm. */
    return db_query_rows(db, rows, dkim_cols, sizeof(dkim_cols) / sizeof(dkim_cols[0]), sizeof(DOMAIN_DKIM_ROW),
                         "SELECT k.selector, k.algorithm, k.state, k.id = (SELECT s.id FROM domain_dkim_keys s "
                    "WHERE s.domain_id = k.domain_id AND s.algorithm = k.algorithm AND (s.state = 'active' OR "
                    "(s.state = 'pending' AND s.activated_at <= UTC_TIMESTAMP(6))) "
                    "ORDER BY s.state = 'pending' DESC, s.id DESC LIMIT 1), " TS("k.activated_at") ", "
                    TS("k.created_at") " FROM domain_dkim_keys k "
                    "WHERE k.domain_id = ? AND k.state IN ('pending', 'active', 'retiring') ORDER BY k.id",
                    DB_ARGS(DB_UINT(domain_id)));
}

int
domain_server_delete(DB *db, unsigned long long server_id, unsigned long long domain_id)
{
    int ret = db_exec(db, "DELETE FROM domains WHERE id = ? AND server_id = ?",
                      DB_ARGS(DB_UINT(domain_id), DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}

int
domain_org_delete(DB *db, unsigned long long org_id, unsigned long long domain_id)
{
    int ret = db_exec(db, "DELETE FROM domains WHERE id = ? AND organization_id = ? AND server_id IS NULL",
                      DB_ARGS(DB_UINT(domain_id), DB_UINT(org_id)));

    return ret < 0 ? ret : ret > 0;
}

/* ---------------------------------------------------------------- verification */

int
domain_claimed_elsewhere(DB *db, unsigned long long domain_id, char **error_r)
{
    DB_RESULT *res;
    int ret;

    *error_r = NULL;
    if ((ret = db_query(db, &res, "SELECT d.name, d.verified_at IS NULL AND EXISTS (SELECT 1 FROM domains o "
                        "WHERE o.verified_name = d.name AND o.id <> d.id) FROM domains d WHERE d.id = ?",
                        DB_ARGS(DB_UINT(domain_id)))) <= 0) {
        db_result_free(res);
        return ret < 0 ? ret : DB_ERR_PERM;
    }
    ret = atoi(db_result_get(res, 0, 1)) != 0;
    if (ret)
        *error_r = buf_asprintf(DOMAIN_CLAIMED_TEXT, db_result_get(res, 0, 0));
    db_result_free(res);
    return ret;
}

int
domain_mark_verified(DB *db, unsigned long long domain_id, const char *method, char **error_r)
{
    int ret = db_exec(db, "UPDATE domains SET verified_at = COALESCE(verified_at, UTC_TIMESTAMP(6)), "
                      "verification_method = ? WHERE id = ?", DB_ARGS(DB_STR(method), DB_UINT(domain_id)));

    if (ret < 0 && db_errno(db) == DB_ER_DUP_ENTRY) {
        /* Claimed by another owner since the caller looked (uq_domains_verified_name). */
        DB_RESULT *n = NULL;

        if (db_query(db, &n, "SELECT name FROM domains WHERE id = ?", DB_ARGS(DB_UINT(domain_id))) > 0)
            *error_r = buf_asprintf(DOMAIN_CLAIMED_TEXT, db_result_get(n, 0, 0));
        else
            *error_r = buf_asprintf("this domain name is verified by another server");
        db_result_free(n);
        return DOMAIN_CLAIMED;
    }
    return ret < 0 ? ret : 1;
}

int
domain_verify(DB *db, const PGCONF *cfg, unsigned long long domain_id, char **error_r)
{
    DNSCHECK_ANSWER a;
    DB_RESULT *res;
    char *want, *why = NULL;
    int ret, found = 0;

    /* Another owner's claim stands whatever this owner's DNS says: it must go first. */
    if ((ret = domain_claimed_elsewhere(db, domain_id, error_r)) != 0)
        return ret > 0 ? DOMAIN_CLAIMED : ret;
    if ((ret = db_query(db, &res, "SELECT name, verification_token FROM domains WHERE id = ?",
                        DB_ARGS(DB_UINT(domain_id)))) <= 0) {
        db_result_free(res);
        return ret < 0 ? ret : DB_ERR_PERM;
    }
    want = buf_asprintf("%s %s", cfg->dns_domain_verify_prefix, db_result_get(res, 0, 1));
    ret = dnscheck_lookup(cfg->dns_resolver, db_result_get(res, 0, 0), DNSCHECK_TXT, &a, &why);
    for (size_t i = 0; ret > 0 && i < a.n; i++)
        found |= strcmp(a.records[i], want) == 0;
    if (ret < 0)
        *error_r = buf_asprintf("%s", why);
    else if (!found)
        *error_r = buf_asprintf("No TXT record \"%s\" exists at %s (%zu other TXT record%s found).", want,
                                db_result_get(res, 0, 0), ret > 0 ? a.n : 0, ret > 0 && a.n == 1 ? "" : "s");
    if (ret > 0)
        dnscheck_answer_free(&a);
    mem_free(why);
    mem_free(want);
    db_result_free(res);
    if (!found)
        return 0;
    return domain_mark_verified(db, domain_id, "DNS", error_r);
}

int
domain_release_org(DB *db, unsigned long long org_id)
{
    return db_exec(db, "UPDATE domains SET verified_at = NULL WHERE verified_at IS NOT NULL AND (organization_id = ? "
                   "OR server_id IN (SELECT id FROM servers WHERE organization_id = ?))",
                   DB_ARGS(DB_UINT(org_id), DB_UINT(org_id)));
}

/* Sets status ("OK", "Missing", "Invalid") and error (NULL for OK) of one check. */
/* ---------------------------------------------------------------- DKIM rotation */

/* domain_dkim_rotate()'s statements (db_transaction). 1 added, 0 refused (*error_r). */
struct rotate_txn {
    const SEAL_KEY *seal;
    const PGCONF *cfg;
    unsigned long long domain_id;
    DKIM_ALG alg;
    long delay;
    char *selector_r;
    int refused;                /* out: *error_r says why (the turn taken is rolled back) */
    char **error_r;
};

static int
rotate_txn(DB *db, void *arg)
{
    struct rotate_txn *t = arg;
    const char *algname = t->alg == DKIM_ALG_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256";
    DB_RESULT *res;
    int ret;

    mem_free(*t->error_r);
    *t->error_r = NULL;
    t->refused = 0;
    /* The domain's turn serializes rotations of one domain, across Galera nodes too (turn.h). */
    if ((ret = turn_take(db, TURN_DKIM_ROTATION, t->domain_id)) < 0)
        return ret;
    ret = db_query(db, &res, "SELECT (SELECT COUNT(*) FROM domain_dkim_keys WHERE domain_id = d.id AND algorithm = ? "
                   "AND state = 'pending') FROM domains d WHERE d.id = ? FOR UPDATE",
                   DB_ARGS(DB_STR(algname), DB_UINT(t->domain_id)));
    if (ret <= 0 || strcmp(db_result_get(res, 0, 0), "0") != 0) {
        if (ret >= 0) {
            *t->error_r = ret == 0 ? buf_asprintf("no such domain")
                : buf_asprintf("a new %s key is already waiting to sign; activate it first", algname);
            t->refused = 1;
        }
        db_result_free(res);
        return ret < 0 ? ret : DB_ERR_PERM;
    }
    db_result_free(res);
    return add_key(db, t->seal, t->cfg, t->domain_id, t->alg, t->delay < 0 ? 0 : t->delay, t->selector_r, t->error_r);
}

int
domain_dkim_rotate(DB *db, const SEAL_KEY *seal, const PGCONF *cfg, unsigned long long domain_id, DKIM_ALG alg,
                   long delay, char selector_r[64], char **error_r)
{
    struct rotate_txn t = {.seal = seal, .cfg = cfg, .domain_id = domain_id, .alg = alg, .delay = delay,
                           .selector_r = selector_r, .error_r = error_r};
    int ret;

    *error_r = NULL;
    ret = db_transaction(db, rotate_txn, &t);
    if (t.refused)
        return 0;
    if (ret < 0 && *error_r == NULL)
        *error_r = buf_asprintf("%s", db_error(db));
    return ret;
}

/* domain_dkim_activate()'s statements (db_transaction). 1 done, 0 refused (*error_r). */
struct activate_txn {
    unsigned long long domain_id;
    const char *selector;
    char **error_r;
};

static int
activate_txn(DB *db, void *arg)
{
    struct activate_txn *t = arg;
    DB_RESULT *res;
    int ret;

    mem_free(*t->error_r);
    *t->error_r = NULL;
    ret = db_query(db, &res, "SELECT algorithm, state FROM domain_dkim_keys WHERE domain_id = ? AND selector = ? "
                   "FOR UPDATE", DB_ARGS(DB_UINT(t->domain_id), DB_STR(t->selector)));
    if (ret <= 0 || strcmp(db_result_get(res, 0, 1), "pending") != 0) {
        if (ret >= 0)
            *t->error_r = ret == 0 ? buf_asprintf("the domain has no DKIM key with selector %s", t->selector)
                : buf_asprintf("the key %s is %s, not pending", t->selector, db_result_get(res, 0, 1));
        db_result_free(res);
        return ret < 0 ? ret : 0;
    }
    /* The old key keeps its DNS record (retiring) until mail signed with it is verified. */
    ret = db_exec(db, "UPDATE domain_dkim_keys SET state = 'retiring', retiring_at = UTC_TIMESTAMP(6) "
                  "WHERE domain_id = ? AND algorithm = ? AND state = 'active'",
                  DB_ARGS(DB_UINT(t->domain_id), DB_STR(db_result_get(res, 0, 0))));
    if (ret >= 0)
        ret = db_exec(db, "UPDATE domain_dkim_keys SET state = 'active', activated_at = UTC_TIMESTAMP(6) "
                      "WHERE domain_id = ? AND selector = ?", DB_ARGS(DB_UINT(t->domain_id), DB_STR(t->selector)));
    db_result_free(res);
    return ret < 0 ? ret : 1;
}

int
domain_dkim_activate(DB *db, unsigned long long domain_id, const char *selector, char **error_r)
{
    struct activate_txn t = {.domain_id = domain_id, .selector = selector, .error_r = error_r};
    int ret;

    *error_r = NULL;
    ret = db_transaction(db, activate_txn, &t);
    if (ret < 0 && *error_r == NULL)
        *error_r = buf_asprintf("%s", db_error(db));
    return ret;
}
