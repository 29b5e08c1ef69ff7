/*
 * domainmail.c -- domain verification by a mailed code (domainmail.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/address.h"
#include "mail/domain.h"
#include "mail/domainmail.h"
#include "mail/sysmail.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

/* Postal's list (Domain::VERIFICATION_EMAIL_ALIASES). */
static const char *const aliases[] = {"webmaster", "postmaster", "admin", "administrator", "hostmaster", NULL};

size_t
domainmail_addresses(const char *name, char ***addrs_r)
{
    size_t n = 0, cap = 0;
    char **v = NULL;

    /* name and each parent with at least two labels: a.b.example.com, b.example.com, example.com. */
    for (const char *d = name; d != NULL && strchr(d, '.') != NULL; d = strchr(d, '.') + 1)
        for (size_t i = 0; aliases[i]; i++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                v = mem_realloc(v, cap * sizeof(*v));
            }
            v[n++] = buf_asprintf("%s@%s", aliases[i], d);
        }
    *addrs_r = v;
    return n;
}

/* The stored form of a code: SHA-256 of "<uuid>:<code>". */
static void
code_hash(const char *uuid, const char *code, char out[65])
{
    char *s = buf_asprintf("%s:%s", uuid, code);

    token_sha256_hex(s, strlen(s), out);
    mem_free(s);
}

int
domainmail_send(DB *db, const PGCONF *cfg, unsigned long long domain_id, const char *address, char **error_r)
{
    char **addrs = NULL, code[8], hash[65], *subject = NULL, *body = NULL, *why = NULL;
    const char *name, *uuid;
    DB_RESULT *res = NULL;
    size_t n = 0;
    int ret, listed = 0;

    *error_r = NULL;
    if ((ret = db_query(db, &res, "SELECT name, uuid, verified_at IS NOT NULL, verification_code_sent_at IS NOT NULL "
                        "AND verification_code_sent_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND FROM domains WHERE id = ?",
                        DB_ARGS(DB_INT(DOMAINMAIL_INTERVAL), DB_UINT(domain_id)))) <= 0) {
        db_result_free(res);
        return ret < 0 ? ret : DB_ERR_PERM;
    }
    name = db_result_get(res, 0, 0);
    uuid = db_result_get(res, 0, 1);
    if (atoi(db_result_get(res, 0, 2)) != 0) {
        *error_r = buf_asprintf("%s is verified already.", name);
        ret = DOMAINMAIL_VERIFIED;
        goto out;
    }
    n = domainmail_addresses(name, &addrs);
    for (size_t i = 0; i < n; i++)
        listed |= strcasecmp(addrs[i], address) == 0;
    if (!listed) {
        *error_r = buf_asprintf("must be webmaster, postmaster, admin, administrator or hostmaster at %s or at a "
                                "parent domain", name);
        ret = DOMAINMAIL_REFUSED;
        goto out;
    }
    if (atoi(db_result_get(res, 0, 3)) != 0) {
        *error_r = buf_asprintf("A code for %s was mailed less than %d seconds ago; wait for it or try again later.",
                                name, DOMAINMAIL_INTERVAL);
        ret = DOMAINMAIL_TOO_SOON;
        goto out;
    }
    if (token_generate(code, 6, "0123456789") < 0) {
        ret = DB_ERR_TEMP;
        goto out;
    }
    code_hash(uuid, code, hash);
    /* The interval is checked again where it is set, so two requests at once mail one code. */
    ret = db_exec(db, "UPDATE domains SET verification_code_hash = ?, verification_code_sent_at = UTC_TIMESTAMP(6), "
                  "verification_code_attempts = 0, verification_email = ? WHERE id = ? AND verified_at IS NULL AND "
                  "(verification_code_sent_at IS NULL OR verification_code_sent_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND)",
                  DB_ARGS(DB_STR(hash), DB_STR(address), DB_UINT(domain_id), DB_INT(DOMAINMAIL_INTERVAL)));
    if (ret <= 0) {
        if (ret == 0) {
            *error_r = buf_asprintf("A code for %s was mailed a moment ago; wait for it.", name);
            ret = DOMAINMAIL_TOO_SOON;
        }
        goto out;
    }
    subject = buf_asprintf("Verification code for %s: %s", name, code);
    body = buf_asprintf("Someone asked to verify %s for sending and receiving mail through %s.\n\n"
                        "The verification code is:\n\n    %s\n\n"
                        "Enter it where it was asked for within an hour. If you did not ask for it, ignore this\n"
                        "message: nothing changes without the code.\n", name, cfg->dns_smtp_server_hostname, code);
    if (sysmail_send(cfg, address, subject, body, &why) != 0) {
        /* No mail, no code: the next request need not wait. */
        (void) db_exec(db, "UPDATE domains SET verification_code_hash = NULL, verification_code_sent_at = NULL "
                       "WHERE id = ? AND verification_code_hash = ?", DB_ARGS(DB_UINT(domain_id), DB_STR(hash)));
        *error_r = buf_asprintf("The code could not be mailed: %s", why);
        ret = DOMAINMAIL_NOT_SENT;
        goto out;
    }
    ret = 1;
out:
    mem_free(why);
    mem_free(subject);
    mem_free(body);
    address_list_free(addrs, n);
    db_result_free(res);
    return ret;
}

int
domainmail_verify(DB *db, unsigned long long domain_id, const char *code, char **error_r)
{
    char hash[65];
    const char *stored;
    DB_RESULT *res = NULL;
    int ret;

    *error_r = NULL;
    if ((ret = domain_claimed_elsewhere(db, domain_id, error_r)) != 0)
        return ret > 0 ? DOMAIN_CLAIMED : ret;
    /* Count the try first, and only on a code that may still be tried. */
    if ((ret = db_exec(db, "UPDATE domains SET verification_code_attempts = verification_code_attempts + 1 "
                       "WHERE id = ? AND verification_code_hash IS NOT NULL AND verification_code_attempts < ? "
                       "AND verification_code_sent_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND",
                       DB_ARGS(DB_UINT(domain_id), DB_INT(DOMAINMAIL_TRIES), DB_INT(DOMAINMAIL_CODE_SECONDS)))) <= 0) {
        if (ret == 0)
            *error_r = buf_asprintf("No code can be tried: none was mailed, it is more than an hour old, or it was "
                                    "tried %d times. Ask for a new one.", DOMAINMAIL_TRIES);
        return ret;
    }
    if ((ret = db_query(db, &res, "SELECT uuid, verification_code_hash FROM domains WHERE id = ?",
                        DB_ARGS(DB_UINT(domain_id)))) <= 0) {
        db_result_free(res);
        return ret < 0 ? ret : DB_ERR_PERM;
    }
    code_hash(db_result_get(res, 0, 0), code, hash);
    stored = db_result_get(res, 0, 1);
    ret = stored != NULL && strlen(stored) == 64 && token_equal(hash, stored, 64);
    db_result_free(res);
    if (!ret) {
        *error_r = buf_asprintf("The code is not the one mailed.");
        return 0;
    }
    if ((ret = domain_mark_verified(db, domain_id, "Email", error_r)) != 1)
        return ret;
    (void) db_exec(db, "UPDATE domains SET verification_code_hash = NULL WHERE id = ?", DB_ARGS(DB_UINT(domain_id)));
    return 1;
}
