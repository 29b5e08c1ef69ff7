/*
 * domaincheck.c -- the DNS check of a domain (domain_check_dns(), domain.h): each record
 * postgate asks for (SPF, DKIM, DMARC, return path, MX, and for hosted domains the
 * client-configuration names) looked up and compared with what it should say; the
 * statuses and reasons are stored on the domain's row.
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
#include "util/buf.h"
#include "util/mem.h"

/* Record text without spaces and a trailing ';', for comparing DKIM records. */
static char *
squeeze(const char *s)
{
    BUF *b = buf_new(strlen(s) + 1);

    for (; *s; s++)
        if (!isspace((unsigned char) *s))
            buf_append_char(b, *s);
    while (buf_len(b) && buf_cstr(b)[buf_len(b) - 1] == ';')
        buf_truncate(b, buf_len(b) - 1);
    return buf_steal(b, NULL);
}

static void
set_check(const char **status_r, char **error_r, const char *status, char *error)
{
    *status_r = status;
    mem_free(*error_r);
    *error_r = error;
}

static void
check_spf(const PGCONF *cfg, const char *name, DOMAIN_DNS_STATUS *st)
{
    DNSCHECK_ANSWER a;
    char *why = NULL, *include = buf_asprintf("include:%s", cfg->dns_spf_include);
    const char *spf = NULL;
    size_t nspf = 0;
    int ret = dnscheck_lookup(cfg->dns_resolver, name, DNSCHECK_TXT, &a, &why);

    for (size_t i = 0; ret > 0 && i < a.n; i++)
        if (strncasecmp(a.records[i], "v=spf1", 6) == 0 && (a.records[i][6] == ' ' || a.records[i][6] == '\0')) {
            spf = a.records[i];
            nspf++;
        }
    if (ret < 0)
        set_check(&st->spf_status, &st->spf_error, "Invalid", buf_asprintf("%s", why));
    else if (nspf == 0)
        set_check(&st->spf_status, &st->spf_error, "Missing", buf_asprintf("No SPF record exists for %s.", name));
    else if (nspf > 1)
        set_check(&st->spf_status, &st->spf_error, "Invalid",
                  buf_asprintf("%s has %zu SPF records; there must be one.", name, nspf));
    else {
        int ok = 0;

        for (const char *p = spf; (p = strstr(p, include)) != NULL; p += strlen(include)) {
            char after = p[strlen(include)];

            if ((p == spf || p[-1] == ' ' || p[-1] == '+') && (after == ' ' || after == '\0'))
                ok = 1;
        }
        if (ok)
            set_check(&st->spf_status, &st->spf_error, "OK", NULL);
        else
            set_check(&st->spf_status, &st->spf_error, "Invalid",
                      buf_asprintf("The SPF record of %s does not include %s: \"%s\".", name, cfg->dns_spf_include, spf));
    }
    if (ret > 0)
        dnscheck_answer_free(&a);
    mem_free(why);
    mem_free(include);
}

/* Every DKIM key still to be published (pending and active) must be in DNS as made. */
static int
check_dkim(DB *db, const PGCONF *cfg, unsigned long long domain_id, const char *name, DOMAIN_DNS_STATUS *st)
{
    DB_RESULT *keys;
    int ret = db_query(db, &keys, "SELECT selector, algorithm, public_key FROM domain_dkim_keys "
                       "WHERE domain_id = ? AND state IN ('pending', 'active') ORDER BY id", DB_ARGS(DB_UINT(domain_id)));

    if (ret < 0)
        return ret;
    set_check(&st->dkim_status, &st->dkim_error, "OK", NULL);
    if (ret == 0)
        set_check(&st->dkim_status, &st->dkim_error, "Missing", buf_asprintf("%s has no DKIM key.", name));
    for (size_t r = 0; r < db_result_rows(keys) && strcmp(st->dkim_status, "OK") == 0; r++) {
        DKIM_ALG alg = strcmp(db_result_get(keys, r, 1), "rsa-sha256") == 0 ? DKIM_ALG_RSA_SHA256
            : DKIM_ALG_ED25519_SHA256;
        char *want_txt = dkim_dns_record(alg, db_result_get(keys, r, 2)), *want = squeeze(want_txt), *why = NULL;
        char *host = buf_asprintf("%s._domainkey.%s", db_result_get(keys, r, 0), name);
        DNSCHECK_ANSWER a;
        int found = 0, lr = dnscheck_lookup(cfg->dns_resolver, host, DNSCHECK_TXT, &a, &why);

        for (size_t i = 0; lr > 0 && i < a.n && !found; i++) {
            char *got = squeeze(a.records[i]);

            found = strcmp(got, want) == 0;
            mem_free(got);
        }
        if (lr < 0)
            set_check(&st->dkim_status, &st->dkim_error, "Invalid", buf_asprintf("%s", why));
        else if (lr == 0)
            set_check(&st->dkim_status, &st->dkim_error, "Missing", buf_asprintf("No DKIM record exists at %s.", host));
        else if (!found)
            set_check(&st->dkim_status, &st->dkim_error, "Invalid",
                      buf_asprintf("The DKIM record at %s is not the key postgate signs with; publish \"%s\".", host,
                                   want_txt));
        if (lr > 0)
            dnscheck_answer_free(&a);
        mem_free(why);
        mem_free(host);
        mem_free(want);
        mem_free(want_txt);
    }
    db_result_free(keys);
    return 0;
}

/* DMARC (RFC 7489): one TXT record at _dmarc.<name> starting v=DMARC1, with a p= tag of
 * none, quarantine or reject. */
static void
check_dmarc(const PGCONF *cfg, const char *name, DOMAIN_DNS_STATUS *st)
{
    char *host = buf_asprintf("_dmarc.%s", name), *why = NULL;
    const char *record = NULL;
    size_t n = 0;
    DNSCHECK_ANSWER a;
    int ret = dnscheck_lookup(cfg->dns_resolver, host, DNSCHECK_TXT, &a, &why);

    for (size_t i = 0; ret > 0 && i < a.n; i++) {
        const char *r = a.records[i];

        if (strncasecmp(r, "v=DMARC1", 8) == 0 && (r[8] == ';' || r[8] == ' ' || r[8] == '\0')) {
            record = r;
            n++;
        }
    }
    if (ret < 0) {
        set_check(&st->dmarc_status, &st->dmarc_error, "Invalid", buf_asprintf("%s", why));
    } else if (n == 0) {
        set_check(&st->dmarc_status, &st->dmarc_error, "Missing", buf_asprintf("No DMARC record exists at %s.", host));
    } else if (n > 1) {
        set_check(&st->dmarc_status, &st->dmarc_error, "Invalid",
                  buf_asprintf("%s has %zu DMARC records; there must be one.", host, n));
    } else {
        const char *p = record;
        int policy = 0;

        /* The tags after v=: "; p=reject; rua=..." (white space allowed around them). */
        while ((p = strchr(p, ';')) != NULL) {
            p++;
            p += strspn(p, " \t");
            if (strncasecmp(p, "p", 1) == 0) {
                const char *v = p + 1 + strspn(p + 1, " \t");

                if (*v == '=') {
                    v++;
                    v += strspn(v, " \t");
                    policy = strncasecmp(v, "none", 4) == 0 || strncasecmp(v, "quarantine", 10) == 0
                        || strncasecmp(v, "reject", 6) == 0;
                    break;
                }
            }
        }
        if (policy)
            set_check(&st->dmarc_status, &st->dmarc_error, "OK", NULL);
        else
            set_check(&st->dmarc_status, &st->dmarc_error, "Invalid",
                      buf_asprintf("The DMARC record at %s has no valid p= policy (none, quarantine or reject): "
                                   "\"%s\".", host, record));
    }
    if (ret > 0)
        dnscheck_answer_free(&a);
    mem_free(why);
    mem_free(host);
}

static void
check_return_path(const PGCONF *cfg, const char *name, DOMAIN_DNS_STATUS *st)
{
    char *host = buf_asprintf("%s.%s", cfg->dns_custom_return_path_prefix, name), *why = NULL;
    DNSCHECK_ANSWER a;
    int ret = dnscheck_lookup(cfg->dns_resolver, host, DNSCHECK_CNAME, &a, &why);

    if (ret < 0)
        set_check(&st->return_path_status, &st->return_path_error, "Invalid", buf_asprintf("%s", why));
    else if (ret == 0)
        set_check(&st->return_path_status, &st->return_path_error, "Missing",
                  buf_asprintf("No CNAME record exists at %s.", host));
    else if (strcasecmp(a.records[0], cfg->dns_return_path_domain) != 0)
        set_check(&st->return_path_status, &st->return_path_error, "Invalid",
                  buf_asprintf("The CNAME record at %s points to %s; it should point to %s.", host, a.records[0],
                               cfg->dns_return_path_domain));
    else
        set_check(&st->return_path_status, &st->return_path_error, "OK", NULL);
    if (ret > 0)
        dnscheck_answer_free(&a);
    mem_free(why);
    mem_free(host);
}

static void
check_mx(const PGCONF *cfg, const char *name, DOMAIN_DNS_STATUS *st)
{
    DNSCHECK_ANSWER a;
    char *why = NULL;
    size_t missing = 0;
    int ret = dnscheck_lookup(cfg->dns_resolver, name, DNSCHECK_MX, &a, &why);

    for (size_t i = 0; ret > 0 && i < cfg->dns_mx_records.count; i++) {
        int found = 0;

        for (size_t k = 0; k < a.n && !found; k++) {
            const char *host = strchr(a.records[k], ' ');

            found = host && strcasecmp(host + 1, cfg->dns_mx_records.items[i]) == 0;
        }
        missing += !found;
    }
    if (ret < 0)
        set_check(&st->mx_status, &st->mx_error, "Invalid", buf_asprintf("%s", why));
    else if (ret == 0)
        set_check(&st->mx_status, &st->mx_error, "Missing", buf_asprintf("No MX records exist for %s.", name));
    else if (missing == cfg->dns_mx_records.count && missing > 0)
        set_check(&st->mx_status, &st->mx_error, "Invalid",
                  buf_asprintf("The MX records of %s do not point to %s.", name, cfg->dns_mx_records.items[0]));
    else
        set_check(&st->mx_status, &st->mx_error, "OK", NULL);
    if (ret > 0)
        dnscheck_answer_free(&a);
    mem_free(why);
}

int
domain_check_dns(DB *db, const PGCONF *cfg, unsigned long long domain_id, DOMAIN_DNS_STATUS *st)
{
    DB_RESULT *res;
    const char *name;
    int ret;

    memset(st, 0, sizeof(*st));
    if ((ret = db_query(db, &res, "SELECT name, hosting FROM domains WHERE id = ?", DB_ARGS(DB_UINT(domain_id)))) <= 0) {
        db_result_free(res);
        return ret < 0 ? ret : DB_ERR_PERM;
    }
    name = db_result_get(res, 0, 0);
    check_spf(cfg, name, st);
    if ((ret = check_dkim(db, cfg, domain_id, name, st)) < 0) {
        db_result_free(res);
        return ret;
    }
    check_return_path(cfg, name, st);
    check_mx(cfg, name, st);
    check_dmarc(cfg, name, st);
    if (strcmp(db_result_get(res, 0, 1), "1") == 0)
        clientdns_check(cfg, name, &st->client_config_status, &st->client_config_error);
    db_result_free(res);
    ret = db_exec(db, "UPDATE domains SET spf_status = ?, spf_error = LEFT(?, 1000), dkim_status = ?, "
                  "dkim_error = LEFT(?, 1000), mx_status = ?, mx_error = LEFT(?, 1000), return_path_status = ?, "
                  "return_path_error = LEFT(?, 1000), dmarc_status = ?, dmarc_error = LEFT(?, 1000), "
                  "client_config_status = ?, client_config_error = LEFT(?, 1000), "
                  "dns_checked_at = UTC_TIMESTAMP(6) WHERE id = ?",
                  DB_ARGS(DB_STR(st->spf_status), DB_STR(st->spf_error), DB_STR(st->dkim_status),
                          DB_STR(st->dkim_error), DB_STR(st->mx_status), DB_STR(st->mx_error),
                          DB_STR(st->return_path_status), DB_STR(st->return_path_error), DB_STR(st->dmarc_status),
                          DB_STR(st->dmarc_error), st->client_config_status ? DB_STR(st->client_config_status) : DB_NULL,
                          st->client_config_error ? DB_STR(st->client_config_error) : DB_NULL, DB_UINT(domain_id)));
    return ret < 0 ? ret : 0;
}

void
domain_dns_status_free(DOMAIN_DNS_STATUS *st)
{
    mem_free(st->spf_error);
    mem_free(st->dkim_error);
    mem_free(st->mx_error);
    mem_free(st->return_path_error);
    mem_free(st->dmarc_error);
    mem_free(st->client_config_error);
    memset(st, 0, sizeof(*st));
}
