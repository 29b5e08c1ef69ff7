/*
 * domain.c -- sending domains and their DKIM keys (domain.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/domain.h"
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

/* Generates, seals and stores one active key. */
static int
add_key(DB *db, const SEAL_KEY *seal, const PGCONF *cfg, unsigned long long domain_id, DKIM_ALG alg,
        char **error_r)
{
    char *pem = NULL, *pub = NULL, suffix[7], selector[64];
    const char *why;
    BUF *sealed;
    int ret;

    if (dkim_key_generate(alg, &pem, &pub, &why) < 0) {
        *error_r = buf_asprintf("DKIM key generation failed: %s", why);
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
                      "VALUES (?, ?, ?, ?, ?, ?, 'active', UTC_TIMESTAMP(6))",
                      DB_ARGS(DB_UINT(domain_id), DB_STR(selector),
                              DB_STR(alg == DKIM_ALG_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256"),
                              alg == DKIM_ALG_RSA_SHA256 ? DB_INT(2048) : DB_INT(256),
                              DB_BLOB(buf_data(sealed), buf_len(sealed)), DB_STR(pub)));
        if (ret < 0)
            *error_r = buf_asprintf("%s", db_error(db));
    }
    buf_free(sealed);
    memset(pem, 0, strlen(pem));
    mem_free(pem);
    mem_free(pub);
    return ret < 0 ? ret : 1;
}

int
domain_create(DB *db, const SEAL_KEY *seal, const PGCONF *cfg, const DOMAIN_CREATE_ARGS *args,
              unsigned long long *id_r, char **error_r)
{
    char name[254], uuid[37], vtoken[33];
    int ret;

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
    if ((ret = db_begin(db)) < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    ret = db_exec(db, "INSERT INTO domains (uuid, organization_id, server_id, name, verification_token, verified_at) "
                  "VALUES (?, ?, ?, ?, ?, IF(?, UTC_TIMESTAMP(6), NULL))",
                  DB_ARGS(DB_STR(uuid), args->org_id ? DB_UINT(args->org_id) : DB_NULL,
                          args->server_id ? DB_UINT(args->server_id) : DB_NULL, DB_STR(name), DB_STR(vtoken),
                          DB_INT(args->verified != 0)));
    if (ret < 0) {
        if (db_errno(db) == DB_ER_DUP_ENTRY) {
            *error_r = buf_asprintf("%s already exists for this owner", name);
            ret = 0;
        } else {
            *error_r = buf_asprintf("%s", db_error(db));
        }
        db_rollback(db);
        return ret;
    }
    *id_r = db_insert_id(db);
    if ((ret = add_key(db, seal, cfg, *id_r, DKIM_ALG_RSA_SHA256, error_r)) < 0
        || (args->ed25519 && (ret = add_key(db, seal, cfg, *id_r, DKIM_ALG_ED25519_SHA256, error_r)) < 0)) {
        db_rollback(db);
        return ret;
    }
    if ((ret = db_commit(db)) < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
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
    int ret = db_query(db, &res, "SELECT algorithm, selector, private_key_encrypted FROM domain_dkim_keys "
                       "WHERE domain_id = ? AND state = 'active' ORDER BY algorithm = 'ed25519-sha256' LIMIT 2",
                       DB_ARGS(DB_UINT(domain_id)));

    *n_r = 0;
    if (ret < 0) {
        buf_free(pem);
        return ret;
    }
    for (size_t r = 0; r < db_result_rows(res); r++) {
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

    if (db_query(db, &res, "SELECT name, verification_token FROM domains WHERE id = ?",
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
    db_result_free(res);
    db_result_free(keys);
    return buf_steal(out, NULL);
}

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

int
domain_server_list(DB *db, unsigned long long server_id, const char *name, DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT id, uuid, name, verified_at IS NOT NULL, verification_method, "
                    TS("created_at") " FROM domains WHERE server_id = ? AND (? IS NULL OR name = ?) ORDER BY name",
                    DB_ARGS(DB_UINT(server_id), name ? DB_STR(name) : DB_NULL, name ? DB_STR(name) : DB_NULL));
}

int
domain_dkim_list(DB *db, unsigned long long domain_id, DB_RESULT **res_r)
{
    return db_query(db, res_r, "SELECT selector, algorithm, state FROM domain_dkim_keys "
                    "WHERE domain_id = ? AND state IN ('pending', 'active', 'retiring') ORDER BY id",
                    DB_ARGS(DB_UINT(domain_id)));
}

int
domain_server_delete(DB *db, unsigned long long server_id, unsigned long long domain_id)
{
    int ret = db_exec(db, "DELETE FROM domains WHERE id = ? AND server_id = ?",
                      DB_ARGS(DB_UINT(domain_id), DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}
