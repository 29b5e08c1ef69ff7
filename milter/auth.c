/*
 * auth.c -- how postgate-milter authenticates the envelope sender of incoming mail: SPF
 * of the MAIL FROM domain for the connecting address (libspf2) and the message's DKIM
 * signatures (libopendkim). postgate-worker uses the results to decide whether a report
 * after a failed endpoint delivery may go to that sender (senderauth.h).
 *
 * Both libraries look names up through dnscheck (the system resolver, or dns.resolver
 * when set): libspf2 through a DNS layer of our own (auth_spf_dns_lookup), libopendkim
 * through its key-lookup callback. A DNS failure is a temperror, never a 4xx: the
 * message is accepted and its sender gets no report.
 *
 * Must never: block without a timeout (dnscheck's), or answer pass for anything it could
 * not verify.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_record.h>
#include <opendkim/dkim.h>

#include "mail/dnscheck.h"
#include "mail/senderauth.h"
#include "milter.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

static DKIM_LIB *dkim_lib;

/* ---------------------------------------------------------------- SPF */

/* libspf2's DNS layer interface over dnscheck_lookup (hook: the resolver spec). */
static SPF_dns_rr_t *
auth_spf_dns_lookup(SPF_dns_server_t *d, const char *domain, ns_type type, int should_cache)
{
    DNSCHECK_TYPE t;
    DNSCHECK_ANSWER a;
    SPF_dns_rr_t *rr;
    char *error = NULL;
    int ret, n = 0;

    (void) should_cache;
    switch (type) {
    case ns_t_a: t = DNSCHECK_A; break;
    case ns_t_aaaa: t = DNSCHECK_AAAA; break;
    case ns_t_mx: t = DNSCHECK_MX; break;
    case ns_t_txt: t = DNSCHECK_TXT; break;
    case ns_t_ptr: t = DNSCHECK_PTR; break;
    default: return SPF_dns_rr_new_init(d, domain, type, 0, NO_DATA);       /* type SPF (99): obsolete */
    }
    ret = dnscheck_lookup((const char *) d->hook, domain, t, &a, &error);
    if (ret < 0) {
        msg_info("SPF: %s", error);
        mem_free(error);
        return SPF_dns_rr_new_init(d, domain, type, 0, TRY_AGAIN);
    }
    if (ret == 0)
        return SPF_dns_rr_new_init(d, domain, type, 0, HOST_NOT_FOUND);
    rr = SPF_dns_rr_new_init(d, domain, type, 60, NETDB_SUCCESS);
    for (size_t i = 0; rr && i < a.n; i++) {
        const char *text = a.records[i];

        if (type == ns_t_mx) {
            const char *sp = strchr(text, ' ');     /* "<preference> <host>" */

            text = sp ? sp + 1 : text;
        }
        if (type == ns_t_a || type == ns_t_aaaa) {
            if (SPF_dns_rr_buf_realloc(rr, n, type == ns_t_a ? sizeof(struct in_addr) : sizeof(struct in6_addr))
                != SPF_E_SUCCESS)
                break;
            if (inet_pton(type == ns_t_a ? AF_INET : AF_INET6, text,
                          type == ns_t_a ? (void *) &rr->rr[n]->a : (void *) &rr->rr[n]->aaaa) != 1)
                continue;
        } else {
            if (SPF_dns_rr_buf_realloc(rr, n, strlen(text) + 1) != SPF_E_SUCCESS)
                break;
            memcpy(rr->rr[n]->txt, text, strlen(text) + 1);
        }
        n++;
    }
    if (rr)
        rr->num_rr = n;
    dnscheck_answer_free(&a);
    return rr;
}

static void
auth_spf_dns_free(SPF_dns_server_t *d)
{
    mem_free(d->hook);
    free(d);
}

static const char *
spf_result_name(SPF_result_t r)
{
    switch (r) {
    case SPF_RESULT_PASS: return "pass";
    case SPF_RESULT_FAIL: return "fail";
    case SPF_RESULT_SOFTFAIL: return "softfail";
    case SPF_RESULT_NEUTRAL: return "neutral";
    case SPF_RESULT_NONE: return "none";
    case SPF_RESULT_TEMPERROR: return "temperror";
    case SPF_RESULT_PERMERROR: return "permerror";
    default: return "temperror";
    }
}

/* SPF of sender (an address) for client: a result name. */
static const char *
check_spf(const char *client, const char *sender)
{
    SPF_dns_server_t *d = calloc(1, sizeof(*d));
    SPF_server_t *srv;
    SPF_request_t *req;
    SPF_response_t *resp = NULL;
    const char *result = "none";

    if (d == NULL)
        return "temperror";
    d->lookup = auth_spf_dns_lookup;
    d->destroy = auth_spf_dns_free;
    d->name = "postgate";
    d->hook = mem_strdup(milter_globals.cfg->dns_resolver);
    if ((srv = SPF_server_new_dns(d, 0)) == NULL) {
        auth_spf_dns_free(d);
        return "temperror";
    }
    req = SPF_request_new(srv);
    if ((strchr(client, ':') ? SPF_request_set_ipv6_str(req, client) : SPF_request_set_ipv4_str(req, client))
        != SPF_E_SUCCESS || SPF_request_set_env_from(req, sender) != 0) {
        result = "permerror";
    } else {
        /* The record, interpreted: not SPF_request_query_mailfrom, which answers pass for
         * any loopback client without asking DNS (a local program is no proof of who the
         * sender is, and the tests connect from 127.0.0.1). */
        SPF_record_t *record = NULL;
        SPF_errcode_t err;

        /* What SPF_request_query_mailfrom sets first: the domain whose record applies
         * (libspf2 aborts the process on a request without one). */
        req->cur_dom = req->env_from_dp;
        resp = SPF_response_new(req);
        err = resp && req->cur_dom ? SPF_server_get_record(srv, req, resp, &record) : SPF_E_NO_MEMORY;
        if (err == SPF_E_SUCCESS && record) {
            resp->spf_record_exp = record;      /* the record whose exp= explains a fail */
            SPF_record_interpret(record, req, resp, 0);
            resp->spf_record_exp = NULL;
            result = spf_result_name(SPF_response_result(resp));
        } else {
            result = err == SPF_E_NOT_SPF ? "none" : err == SPF_E_DNS_ERROR || err == SPF_E_NO_MEMORY ? "temperror"
                : "permerror";
        }
        if (record)
            SPF_record_free(record);
    }
    if (resp)
        SPF_response_free(resp);
    SPF_request_free(req);
    SPF_server_free(srv);       /* frees d through its destroy */
    return result;
}

/* ---------------------------------------------------------------- DKIM */

/* libopendkim's key lookup: the TXT record <selector>._domainkey.<domain>. */
static DKIM_CBSTAT
auth_dkim_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
    const char *sel = (const char *) dkim_sig_getselector(sig), *dom = (const char *) dkim_sig_getdomain(sig);
    char *name, *error = NULL;
    DNSCHECK_ANSWER a;
    int ret;

    (void) dkim;
    if (sel == NULL || dom == NULL)
        return DKIM_CBSTAT_ERROR;
    name = buf_asprintf("%s._domainkey.%s", sel, dom);
    ret = dnscheck_lookup(milter_globals.cfg->dns_resolver, name, DNSCHECK_TXT, &a, &error);
    mem_free(name);
    if (ret < 0) {
        msg_info("DKIM: %s", error);
        mem_free(error);
        return DKIM_CBSTAT_TRYAGAIN;
    }
    if (ret == 0)
        return DKIM_CBSTAT_NOTFOUND;
    snprintf((char *) buf, buflen, "%s", a.records[0]);
    dnscheck_answer_free(&a);
    return DKIM_CBSTAT_CONTINUE;
}

/* "Name:value" with every line break CRLF, as libopendkim wants a header field. */
static char *
dkim_field(const MILTER_HEADER *h, size_t *len_r)
{
    BUF *b = buf_new(strlen(h->name) + strlen(h->value) + 8);

    buf_printf(b, "%s:", h->name);
    for (const char *p = h->value; *p; p++) {
        if (*p == '\n' && (p == h->value || p[-1] != '\r'))
            buf_append_char(b, '\r');
        buf_append_char(b, *p);
    }
    return buf_steal(b, len_r);
}

/* The DKIM result for mail from sender_domain: an aligned valid signature beats another
 * valid one, which beats failures; *domain_r the signature's d=. */
static const char *
check_dkim(const MILTER_CTX *mc, const char *sender_domain, char *domain_r, size_t size)
{
    DKIM_STAT st;
    DKIM *d = dkim_lib ? dkim_verify(dkim_lib, (const u_char *) "postgate", NULL, &st) : NULL;
    DKIM_SIGINFO **sigs = NULL;
    const char *result = "none";
    int nsigs = 0, best = 0;     /* 3 aligned pass, 2 pass, 1 failure seen */

    domain_r[0] = '\0';
    if (d == NULL)
        return "temperror";
    for (size_t i = 0; i < mc->nheaders; i++) {
        size_t len;
        char *f = dkim_field(&mc->headers[i], &len);

        st = dkim_header(d, (u_char *) f, len);
        mem_free(f);
        if (st != DKIM_STAT_OK)
            break;
    }
    st = dkim_eoh(d);
    if (st == DKIM_STAT_OK)
        st = dkim_body(d, (u_char *) buf_data(mc->body), buf_len(mc->body));
    if (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG)
        st = dkim_eom(d, NULL);
    (void) st;                  /* each signature's own result decides, below */
    if (dkim_getsiglist(d, &sigs, &nsigs) == DKIM_STAT_OK) {
        for (int i = 0; i < nsigs; i++) {
            const char *dom = (const char *) dkim_sig_getdomain(sigs[i]);
            int err = dkim_sig_geterror(sigs[i]), rank;
            const char *r;

            if (DKIM_SIG_CHECK(sigs[i])) {
                rank = senderauth_aligned(sender_domain, dom) ? 3 : 2;
                r = "pass";
            } else {
                rank = 1;
                r = err == DKIM_SIGERROR_KEYFAIL ? "temperror" : "fail";
            }
            if (rank > best) {
                best = rank;
                result = r;
                snprintf(domain_r, size, "%s", dom ? dom : "");
            }
        }
    }
    dkim_free(d);
    return result;
}

/* ---------------------------------------------------------------- the checks */

void
auth_init(void)
{
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;

    dkim_lib = dkim_init(NULL, NULL);
    if (dkim_lib == NULL) {
        msg_warn("libopendkim did not initialize: DKIM signatures of incoming mail are not checked");
        return;
    }
    dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags));
    dkim_set_key_lookup(dkim_lib, auth_dkim_key_lookup);
}

void
auth_done(void)
{
    if (dkim_lib)
        dkim_close(dkim_lib);
    dkim_lib = NULL;
}

void
auth_check(const MILTER_CTX *mc, MILTER_AUTH *out)
{
    const char *at = strrchr(mc->mail_from, '@');

    memset(out, 0, sizeof(*out));
    if (mc->mail_from[0] == '\0' || at == NULL) {
        /* A bounce: nobody gets a report about it anyway. */
        snprintf(out->spf, sizeof(out->spf), "none");
    } else if (mc->client_addr[0] == '\0') {
        snprintf(out->spf, sizeof(out->spf), "temperror");
    } else {
        snprintf(out->spf, sizeof(out->spf), "%s", check_spf(mc->client_addr, mc->mail_from));
    }
    snprintf(out->dkim, sizeof(out->dkim), "%s",
             check_dkim(mc, at ? at + 1 : "", out->dkim_domain, sizeof(out->dkim_domain)));
}
