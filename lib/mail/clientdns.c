/*
 * clientdns.c -- clientdns.h: a hosted domain's names for mail clients, published and checked.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/clientdns.h"
#include "mail/dnscheck.h"
#include "util/mem.h"

/* The host clients are sent to. */
static const char *
client_host(const PGCONF *cfg)
{
    return *cfg->autoconfig_hostname ? cfg->autoconfig_hostname : cfg->dns_smtp_server_hostname;
}

/* The SRV records: service label and port, in publishing order. */
typedef struct srv {
    const char *label;
    long port;
} SRV;

static size_t
srv_records(const PGCONF *cfg, SRV out[4])
{
    out[0].label = "_autodiscover";
    out[0].port = 443;
    out[1].label = strcmp(cfg->autoconfig_imap_security, "ssl") == 0 ? "_imaps" : "_imap";
    out[1].port = cfg->autoconfig_imap_port;
    out[2].label = strcmp(cfg->autoconfig_pop3_security, "ssl") == 0 ? "_pop3s" : "_pop3";
    out[2].port = cfg->autoconfig_pop3_port;
    out[3].label = strcmp(cfg->autoconfig_submission_security, "ssl") == 0 ? "_submissions" : "_submission";
    out[3].port = cfg->autoconfig_submission_port;
    return 4;
}

void
clientdns_records(BUF *out, const PGCONF *cfg, const char *name)
{
    const char *host = client_host(cfg);
    SRV srv[4];
    size_t n = srv_records(cfg, srv);

    buf_printf(out, "autoconfig.%s.\t3600\tIN\tCNAME\t%s.\n", name, host);
    buf_printf(out, "autodiscover.%s.\t3600\tIN\tCNAME\t%s.\n", name, host);
    for (size_t i = 0; i < n; i++)
        buf_printf(out, "%s._tcp.%s.\t3600\tIN\tSRV\t0 %d %ld %s.\n", srv[i].label, name, i == 0 ? 0 : 1, srv[i].port,
                   host);
}

/* One problem more, text (taken; at most three are told). */
static void
note(BUF *why, size_t *count, char *text)
{
    if ((*count)++ < 3)
        buf_printf(why, "%s%s", buf_len(why) ? " " : "", text);
    mem_free(text);
}

/* The name is an alias of host: a CNAME to it, or the same A records. 1 yes, 0 absent,
 * -1 elsewhere, -2 lookup failure (*error_r). */
static int
leads_to_host(const PGCONF *cfg, const char *fqdn, const char *host, char **error_r)
{
    DNSCHECK_ANSWER a, mine, theirs;
    int ret = dnscheck_lookup(cfg->dns_resolver, fqdn, DNSCHECK_CNAME, &a, error_r), same = 0;

    if (ret < 0)
        return -2;
    if (ret > 0) {
        same = strcasecmp(a.records[0], host) == 0;
        dnscheck_answer_free(&a);
        return same ? 1 : -1;
    }
    if ((ret = dnscheck_lookup(cfg->dns_resolver, fqdn, DNSCHECK_A, &mine, error_r)) <= 0)
        return ret < 0 ? -2 : 0;
    if ((ret = dnscheck_lookup(cfg->dns_resolver, host, DNSCHECK_A, &theirs, error_r)) < 0) {
        dnscheck_answer_free(&mine);
        return -2;
    }
    for (size_t i = 0; i < mine.n && !same; i++)
        for (size_t k = 0; k < theirs.n && !same; k++)
            same = strcmp(mine.records[i], theirs.records[k]) == 0;
    dnscheck_answer_free(&mine);
    if (ret > 0)
        dnscheck_answer_free(&theirs);
    return same ? 1 : -1;
}

void
clientdns_check(const PGCONF *cfg, const char *name, const char **status_r, char **error_r)
{
    static const char *const aliases[] = {"autoconfig", "autodiscover"};
    const char *host = client_host(cfg);
    BUF *why = buf_new(256);
    SRV srv[4];
    size_t n = srv_records(cfg, srv), missing = 0, wrong = 0, problems = 0;
    char *failure = NULL;

    for (size_t i = 0; i < 2 && failure == NULL; i++) {
        char *fqdn = buf_asprintf("%s.%s", aliases[i], name);
        int ret = leads_to_host(cfg, fqdn, host, &failure);

        if (ret == 0) {
            missing++;
            note(why, &problems, buf_asprintf("%s has no CNAME record (to %s).", fqdn, host));
        } else if (ret == -1) {
            wrong++;
            note(why, &problems, buf_asprintf("%s does not lead to %s.", fqdn, host));
        }
        mem_free(fqdn);
    }
    for (size_t i = 0; i < n && failure == NULL; i++) {
        char *fqdn = buf_asprintf("%s._tcp.%s", srv[i].label, name), *want = buf_asprintf("%ld %s", srv[i].port, host);
        DNSCHECK_ANSWER a;
        int ret = dnscheck_lookup(cfg->dns_resolver, fqdn, DNSCHECK_SRV, &a, &failure), found = 0;

        for (int k = 0; ret > 0 && (size_t) k < a.n && !found; k++) {
            /* "<priority> <weight> <port> <target>": the port and target must be ours. */
            const char *p = strchr(a.records[k], ' ');

            p = p ? strchr(p + 1, ' ') : NULL;
            found = p && strcasecmp(p + 1, want) == 0;
        }
        if (ret == 0) {
            missing++;
            note(why, &problems, buf_asprintf("%s has no SRV record (port and target: %s).", fqdn, want));
        } else if (ret > 0 && !found) {
            wrong++;
            note(why, &problems, buf_asprintf("%s does not name %s.", fqdn, want));
        }
        if (ret > 0)
            dnscheck_answer_free(&a);
        mem_free(fqdn);
        mem_free(want);
    }
    if (failure) {
        *status_r = "Invalid";
        *error_r = failure;
    } else if (missing + wrong == 0) {
        *status_r = "OK";
        *error_r = NULL;
    } else {
        if (problems > 3)
            buf_printf(why, " (and %zu more)", problems - 3);
        *status_r = missing == n + 2 ? "Missing" : "Invalid";
        *error_r = buf_steal(why, NULL);
        why = NULL;
    }
    buf_free(why);
}
