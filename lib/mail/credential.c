/*
 * credential.c -- credential lookups and creation (credential.h).
 * Suspension is checked on the server and its organization in the same query.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "mail/credential.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/netaddr.h"
#include "util/token.h"
#include "util/uselog.h"

#define SEAL_CONTEXT "credential"

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Columns every lookup selects, in this order (see fill()). */
#define CRED_COLUMNS \
    "c.id, c.server_id, c.type, c.name, c.hold, o.permalink, s.permalink, " \
    "(s.suspended_at IS NOT NULL OR o.suspended_at IS NOT NULL) "
#define CRED_FROM \
    "FROM credentials c JOIN servers s ON s.id = c.server_id AND s.deleted_at IS NULL " \
    "JOIN organizations o ON o.id = s.organization_id AND o.deleted_at IS NULL "

static void
fill(const DB_RESULT *res, size_t row, CREDENTIAL *out)
{
    memset(out, 0, sizeof(*out));
    out->id = strtoull(db_result_get(res, row, 0), NULL, 10);
    out->server_id = strtoull(db_result_get(res, row, 1), NULL, 10);
    snprintf(out->type, sizeof(out->type), "%s", db_result_get(res, row, 2));
    snprintf(out->name, sizeof(out->name), "%s", db_result_get(res, row, 3));
    out->hold = atoi(db_result_get(res, row, 4));
    snprintf(out->org_permalink, sizeof(out->org_permalink), "%s", db_result_get(res, row, 5));
    snprintf(out->server_permalink, sizeof(out->server_permalink), "%s", db_result_get(res, row, 6));
    out->suspended = atoi(db_result_get(res, row, 7));
}

/* Runs a lookup returning at most one credential. */
static int
lookup_one(DB *db, const char *sql, const DB_PARAM *params, size_t n, CREDENTIAL *out)
{
    DB_RESULT *res;
    int ret = db_query(db, &res, sql, params, n);

    if (ret < 0)
        return ret;
    if (ret > 0)
        fill(res, 0, out);
    db_result_free(res);
    return ret > 0 ? 1 : 0;
}

int
credential_by_key(DB *db, const char *type, const char *key, CREDENTIAL *out)
{
    char hash[65];

    token_sha256_hex(key, strlen(key), hash);
    return lookup_one(db, "SELECT " CRED_COLUMNS CRED_FROM "WHERE c.key_hash = ? AND c.type = ?",
                      DB_ARGS(DB_STR(hash), DB_STR(type)), out);
}

int
credential_by_id(DB *db, unsigned long long id, CREDENTIAL *out)
{
    return lookup_one(db, "SELECT " CRED_COLUMNS CRED_FROM "WHERE c.id = ?", DB_ARGS(DB_UINT(id)), out);
}

/* Text of a stored network ("192.0.2.0/24", "2001:db8::/32"). */
static void
network_text(const unsigned char *start, int prefix, char *out, size_t len)
{
    char addr[INET6_ADDRSTRLEN];
    int v4 = prefix >= 96 && memcmp(start, v4_mapped, sizeof(v4_mapped)) == 0;

    if (v4)
        inet_ntop(AF_INET, start + 12, addr, sizeof(addr));
    else
        inet_ntop(AF_INET6, start, addr, sizeof(addr));
    snprintf(out, len, "%s/%d", addr, v4 ? prefix - 96 : prefix);
}

/* True when [s1, e1] and [s2, e2] share an address. */
static int
ranges_meet(const unsigned char *s1, const unsigned char *e1, const unsigned char *s2, const unsigned char *e2)
{
    return memcmp(s1, e2, NETADDR_LEN) <= 0 && memcmp(s2, e1, NETADDR_LEN) <= 0;
}

int
credential_network_check(const PGCONF *cfg, const unsigned char *start, const unsigned char *end, int prefix,
                         char **error_r)
{
    /* Loopback and unspecified ranges, as netaddr.h stores them. */
    static const struct { const char *net, *what; } special[] = {
        {"127.0.0.0/8", "loopback"}, {"::1", "loopback"}, {"0.0.0.0/8", "unspecified"}, {"::", "unspecified"},
    };
    unsigned char mapped_start[NETADDR_LEN] = {0}, mapped_end[NETADDR_LEN];
    char text[INET6_ADDRSTRLEN + 8];

    memcpy(mapped_start, v4_mapped, sizeof(v4_mapped));
    memcpy(mapped_end, v4_mapped, sizeof(v4_mapped));
    memset(mapped_end + 12, 0xff, 4);
    network_text(start, prefix, text, sizeof(text));
    if (ranges_meet(start, end, mapped_start, mapped_end)) {
        int v4prefix = prefix > 96 ? prefix - 96 : 0;

        if (v4prefix < (int) cfg->credentials_smtp_ip_min_prefix_ipv4) {
            *error_r = buf_asprintf("network %s is too wide for an SMTP-IP credential: IPv4 networks need a "
                                    "prefix of at least /%d", text, (int) cfg->credentials_smtp_ip_min_prefix_ipv4);
            return 0;
        }
    } else if (prefix < (int) cfg->credentials_smtp_ip_min_prefix_ipv6) {
        *error_r = buf_asprintf("network %s is too wide for an SMTP-IP credential: IPv6 networks need a "
                                "prefix of at least /%d", text, (int) cfg->credentials_smtp_ip_min_prefix_ipv6);
        return 0;
    }
    if (cfg->credentials_smtp_ip_allow_loopback)
        return 1;
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        unsigned char s[NETADDR_LEN], e[NETADDR_LEN];
        int p;

        if (netaddr_parse_network(special[i].net, s, e, &p) == 0 && ranges_meet(start, end, s, e)) {
            *error_r = buf_asprintf("network %s holds %s addresses (%s), which an SMTP-IP credential may not "
                                    "claim on this installation (credentials.smtp_ip_allow_loopback)",
                                    text, special[i].what, special[i].net);
            return 0;
        }
    }
    return 1;
}

/* Rate-limits the warnings about stored networks that lookups skip. */
static void
warn_skipped(const char *id, const char *why)
{
    static time_t last;
    time_t now = time(NULL);

    if (now - last < 60)
        return;
    last = now;
    msg_warn("SMTP-IP credential %s: not used: %s", id, why);
}

int
credential_by_ip(DB *db, const PGCONF *cfg, const char *address, CREDENTIAL *out)
{
    unsigned char ip[NETADDR_LEN];
    DB_RESULT *res;
    size_t chosen = (size_t) -1;
    int ret;

    if (netaddr_parse(address, ip) < 0)
        return 0;
    /* Every stored network that contains the address, most specific first: a row the
     * configuration does not allow is skipped, and two servers' rows make it ambiguous. */
    ret = db_query(db, &res, "SELECT " CRED_COLUMNS ", c.ip_start, c.ip_end, c.prefix_len " CRED_FROM
                   "WHERE c.type = 'SMTP-IP' AND c.ip_start <= ? AND c.ip_end >= ? "
                   "ORDER BY c.prefix_len DESC, c.id LIMIT 64",
                   DB_ARGS(DB_BLOB(ip, sizeof(ip)), DB_BLOB(ip, sizeof(ip))));
    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    for (size_t r = 0; r < db_result_rows(res); r++) {
        char *why = NULL;

        if (db_result_len(res, r, 8) != NETADDR_LEN || db_result_len(res, r, 9) != NETADDR_LEN
            || !credential_network_check(cfg, (const unsigned char *) db_result_get(res, r, 8),
                                         (const unsigned char *) db_result_get(res, r, 9),
                                         atoi(db_result_get(res, r, 10)), &why)) {
            warn_skipped(db_result_get(res, r, 0), why ? why : "malformed network");
            mem_free(why);
            continue;
        }
        if (chosen == (size_t) -1) {
            chosen = r;
        } else if (strcmp(db_result_get(res, r, 1), db_result_get(res, chosen, 1)) != 0) {
            msg_warn("client %s: SMTP-IP credentials %s (server %s) and %s (server %s) both contain it: "
                     "neither is used until one is deleted", address, db_result_get(res, chosen, 0),
                     db_result_get(res, chosen, 1), db_result_get(res, r, 0), db_result_get(res, r, 1));
            db_result_free(res);
            return CREDENTIAL_ERR_AMBIGUOUS;
        }
    }
    if (chosen != (size_t) -1)
        fill(res, chosen, out);
    db_result_free(res);
    return chosen != (size_t) -1;
}

/* Splits "org/server" or "org_server" (permalinks never contain / or _). */
static int
split_username(const char *username, char *org, size_t olen, char *server, size_t slen)
{
    const char *sep = strchr(username, '/');

    if (sep == NULL)
        sep = strchr(username, '_');
    if (sep == NULL || sep == username || sep[1] == '\0' || (size_t) (sep - username) >= olen
        || strlen(sep + 1) >= slen)
        return -1;
    memcpy(org, username, (size_t) (sep - username));
    org[sep - username] = '\0';
    snprintf(server, slen, "%s", sep + 1);
    return 0;
}

int
credential_by_cram(DB *db, const SEAL_KEY *seal, const char *username, const char *challenge,
                   const char *digest_hex, CREDENTIAL *out)
{
    char org[65], server[65];
    DB_RESULT *res;
    BUF *key;
    int ret, found = 0;

    if (split_username(username, org, sizeof(org), server, sizeof(server)) < 0 || strlen(digest_hex) != 32)
        return 0;
    ret = db_query(db, &res, "SELECT " CRED_COLUMNS ", c.key_encrypted " CRED_FROM
                   "WHERE o.permalink = ? AND s.permalink = ? AND c.type = 'SMTP' "
                   "AND c.key_encrypted IS NOT NULL", DB_ARGS(DB_STR(org), DB_STR(server)));
    if (ret <= 0)
        return ret;
    key = buf_new(64);
    for (size_t r = 0; r < db_result_rows(res) && !found; r++) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 1];

        buf_reset(key);
        if (seal_decrypt(seal, SEAL_CONTEXT, db_result_get(res, r, 8), db_result_len(res, r, 8), key) < 0) {
            msg_warn("credential %s: sealed key does not open with this installation's secret key",
                     db_result_get(res, r, 0));
            continue;
        }
        HMAC(EVP_md5(), buf_data(key), (int) buf_len(key), (const unsigned char *) challenge,
             strlen(challenge), mac, &maclen);
        for (unsigned i = 0; i < maclen; i++)
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        if (strlen(digest_hex) == 2 * maclen) {
            char lower[33];

            for (int i = 0; i < 32; i++)
                lower[i] = (char) tolower((unsigned char) digest_hex[i]);
            lower[32] = '\0';
            if (token_equal(lower, hex, 32)) {
                fill(res, r, out);
                found = 1;
            }
        }
    }
    OPENSSL_cleanse((void *) buf_data(key), buf_len(key));
    buf_free(key);
    db_result_free(res);
    return found;
}

void
credential_sasl_identity(const CREDENTIAL *cred, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%llu", cred->org_permalink, cred->server_permalink, cred->id);
}

int
credential_id_from_identity(const char *identity, unsigned long long *id_r)
{
    const char *slash = strrchr(identity, '/');
    char *end;

    if (slash == NULL || slash[1] == '\0' || !isdigit((unsigned char) slash[1]))
        return -1;
    *id_r = strtoull(slash + 1, &end, 10);
    return *end == '\0' && *id_r > 0 ? 0 : -1;
}

int
credential_create(DB *db, const PGCONF *cfg, const SEAL_KEY *seal, unsigned long long server_id,
                  const char *type, const char *name, const char *network, int hold,
                  char key_r[CREDENTIAL_KEY_LEN + 1], unsigned long long *id_r, char **error_r)
{
    char uuid[37];
    int ret;

    key_r[0] = '\0';
    if (token_uuid(uuid) < 0) {
        *error_r = buf_asprintf("random number generator failed");
        return DB_ERR_TEMP;
    }
    if (name == NULL || *name == '\0' || strlen(name) > 255) {
        *error_r = buf_asprintf("a credential needs a name of 1 to 255 characters");
        return 0;
    }
    if (strcmp(type, "SMTP-IP") == 0) {
        unsigned char start[NETADDR_LEN], end[NETADDR_LEN];
        int prefix;

        if (network == NULL || netaddr_parse_network(network, start, end, &prefix) < 0) {
            *error_r = buf_asprintf("\"%s\" is not an IP address or network (like 192.0.2.0/24)",
                                    network ? network : "");
            return 0;
        }
        if (!credential_network_check(cfg, start, end, prefix, error_r))
            return 0;
        /* Neither inside nor around another server's network: the longest prefix would
         * take that server's clients (or all of them). Named, its owner never. A stored
         * network the rules refuse (lookups skip it) is no obstacle. */
        {
            DB_RESULT *res;
            char text[INET6_ADDRSTRLEN + 8], mine[INET6_ADDRSTRLEN + 8];
            size_t hit = (size_t) -1;

            ret = db_query(db, &res, "SELECT ip_start, prefix_len, ip_end FROM credentials WHERE type = 'SMTP-IP' "
                           "AND server_id <> ? AND ip_start <= ? AND ip_end >= ? ORDER BY prefix_len LIMIT 64",
                           DB_ARGS(DB_UINT(server_id), DB_BLOB(end, sizeof(end)), DB_BLOB(start, sizeof(start))));
            if (ret < 0) {
                db_result_free(res);
                *error_r = buf_asprintf("%s", db_error(db));
                return ret;
            }
            for (size_t r = 0; ret > 0 && r < db_result_rows(res) && hit == (size_t) -1; r++) {
                char *why = NULL;

                if (db_result_len(res, r, 0) == NETADDR_LEN && db_result_len(res, r, 2) == NETADDR_LEN
                    && credential_network_check(cfg, (const unsigned char *) db_result_get(res, r, 0),
                                                (const unsigned char *) db_result_get(res, r, 2),
                                                atoi(db_result_get(res, r, 1)), &why))
                    hit = r;
                mem_free(why);
            }
            if (hit != (size_t) -1) {
                network_text((const unsigned char *) db_result_get(res, hit, 0), atoi(db_result_get(res, hit, 1)),
                             text, sizeof(text));
                network_text(start, prefix, mine, sizeof(mine));
                db_result_free(res);
                *error_r = buf_asprintf("network %s overlaps %s, which another mail server's SMTP-IP credential "
                                        "holds: SMTP-IP networks of different servers may not contain each other",
                                        mine, text);
                return CREDENTIAL_CONFLICT;
            }
            db_result_free(res);
        }
        ret = db_exec(db, "INSERT INTO credentials (uuid, server_id, type, name, ip_start, ip_end, prefix_len, hold) "
                      "VALUES (?, ?, 'SMTP-IP', ?, ?, ?, ?, ?)",
                      DB_ARGS(DB_STR(uuid), DB_UINT(server_id), DB_STR(name), DB_BLOB(start, sizeof(start)),
                              DB_BLOB(end, sizeof(end)), DB_INT(prefix), DB_INT(hold != 0)));
        if (ret < 0 && db_errno(db) == DB_ER_DUP_ENTRY) {
            *error_r = buf_asprintf("network %s already belongs to an SMTP-IP credential", network);
            return 0;
        }
    } else if (strcmp(type, "SMTP") == 0 || strcmp(type, "API") == 0) {
        char hash[65], prefix[9];
        BUF *sealed = buf_new(64);

        if (token_generate(key_r, CREDENTIAL_KEY_LEN, TOKEN_ALNUM) < 0
            || seal_encrypt(seal, SEAL_CONTEXT, key_r, CREDENTIAL_KEY_LEN, sealed) < 0) {
            buf_free(sealed);
            *error_r = buf_asprintf("random number generator or cipher failed");
            return DB_ERR_TEMP;
        }
        token_sha256_hex(key_r, CREDENTIAL_KEY_LEN, hash);
        snprintf(prefix, sizeof(prefix), "%.4s", key_r);
        /* API keys never need CRAM-MD5, so only SMTP keys keep a sealed copy. */
        ret = db_exec(db, "INSERT INTO credentials (uuid, server_id, type, name, key_hash, key_encrypted, "
                      "key_prefix, hold) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      DB_ARGS(DB_STR(uuid), DB_UINT(server_id), DB_STR(type), DB_STR(name), DB_STR(hash),
                              strcmp(type, "SMTP") == 0 ? DB_BLOB(buf_data(sealed), buf_len(sealed)) : DB_NULL,
                              DB_STR(prefix), DB_INT(hold != 0)));
        buf_free(sealed);
    } else {
        *error_r = buf_asprintf("credential type \"%s\": use SMTP, API or SMTP-IP", type);
        return 0;
    }
    if (ret < 0) {
        OPENSSL_cleanse(key_r, CREDENTIAL_KEY_LEN + 1);
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    *id_r = db_insert_id(db);
    return 1;
}

#define TS(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

static const DB_COL credential_cols[] = {
    DB_COL_AT(DB_COL_ID, CREDENTIAL_ROW, id), DB_COL_AT(DB_COL_STR, CREDENTIAL_ROW, uuid),
    DB_COL_AT(DB_COL_STR, CREDENTIAL_ROW, type), DB_COL_AT(DB_COL_STR, CREDENTIAL_ROW, name),
    DB_COL_AT(DB_COL_STR, CREDENTIAL_ROW, key_prefix), DB_COL_AT(DB_COL_STR, CREDENTIAL_ROW, network),
    DB_COL_AT(DB_COL_BOOL, CREDENTIAL_ROW, hold), DB_COL_AT(DB_COL_STR, CREDENTIAL_ROW, last_used_at),
    DB_COL_AT(DB_COL_STR, CREDENTIAL_ROW, created_at),
};

int
credential_server_list(DB *db, unsigned long long server_id, const char *uuid, unsigned long long id,
                       DB_ROWS *rows)
{
    return db_query_rows(db, rows, credential_cols, sizeof(credential_cols) / sizeof(credential_cols[0]),
                         sizeof(CREDENTIAL_ROW), "SELECT id, uuid, type, name, key_prefix, "
                    "IF(type <> 'SMTP-IP', NULL, IF(IS_IPV4_MAPPED(ip_start), "
                    "CONCAT(INET6_NTOA(SUBSTR(ip_start, 13)), '/', prefix_len - 96), "
                    "CONCAT(INET6_NTOA(ip_start), '/', prefix_len))), hold, "
                    TS("last_used_at") ", " TS("created_at") " FROM credentials "
                    "WHERE server_id = ? AND (? IS NULL OR uuid = ?) AND (? = 0 OR id = ?) ORDER BY id",
                    DB_ARGS(DB_UINT(server_id), uuid ? DB_STR(uuid) : DB_NULL, uuid ? DB_STR(uuid) : DB_NULL,
                            DB_UINT(id), DB_UINT(id)));
}

int
credential_update(DB *db, unsigned long long id, const char *name, int hold)
{
    int ret = db_exec(db, "UPDATE credentials SET name = COALESCE(?, name), hold = IF(? < 0, hold, ?) WHERE id = ?",
                      DB_ARGS(name ? DB_STR(name) : DB_NULL, DB_INT(hold), DB_INT(hold > 0), DB_UINT(id)));

    return ret < 0 ? ret : 0;
}

int
credential_delete(DB *db, unsigned long long server_id, unsigned long long id)
{
    int ret = db_exec(db, "DELETE FROM credentials WHERE id = ? AND server_id = ?",
                      DB_ARGS(DB_UINT(id), DB_UINT(server_id)));

    return ret < 0 ? ret : ret > 0;
}

/* Uses recorded since the last flush: credential id -> latest time. */
static USELOG credential_uses = USELOG_INIT;

void
credential_touch(unsigned long long id)
{
    uselog_touch(&credential_uses, id, time(NULL));
}

int
credential_flush_touched(DB *db)
{
    size_t n;
    USELOG_ENTRY *batch = uselog_take(&credential_uses, &n);
    int ret = 0, updated = 0;

    for (size_t i = 0; i < n; i++) {
        ret = db_exec(db, "UPDATE credentials SET last_used_at = FROM_UNIXTIME(?) "
                      "WHERE id = ? AND (last_used_at IS NULL OR last_used_at < FROM_UNIXTIME(?))",
                      DB_ARGS(DB_INT(batch[i].when), DB_UINT(batch[i].id), DB_INT(batch[i].when)));
        if (ret < 0) {
            /* Keep what was not written for the next flush. */
            for (size_t j = i; j < n; j++)
                uselog_touch(&credential_uses, batch[j].id, batch[j].when);
            break;
        }
        updated += ret;
    }
    mem_free(batch);
    return ret < 0 ? ret : updated;
}
