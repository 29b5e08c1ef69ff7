/*
 * dnscheck.c -- TXT, CNAME and MX lookups with libresolv (dnscheck.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "mail/dnscheck.h"
#include "util/buf.h"
#include "util/mem.h"

#define ANSWER_MAX 65536

/* Splits "a.b.c.d:port" into a socket address. 1 ok, 0 not that form. */
static int
parse_resolver(const char *spec, struct sockaddr_in *sin)
{
    const char *colon = strrchr(spec, ':');
    char host[INET_ADDRSTRLEN];
    char *end;
    long port;

    if (colon == NULL || (size_t) (colon - spec) >= sizeof(host) || colon == spec)
        return 0;
    memcpy(host, spec, (size_t) (colon - spec));
    host[colon - spec] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || port < 1 || port > 65535)
        return 0;
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    sin->sin_port = htons((unsigned short) port);
    return inet_pton(AF_INET, host, &sin->sin_addr) == 1;
}

int
dnscheck_resolver_ok(const char *spec)
{
    struct sockaddr_in sin;

    return spec[0] == '\0' || parse_resolver(spec, &sin);
}

static char *
lower_host(const char *s)
{
    size_t n = strlen(s);
    char *out;

    while (n && s[n - 1] == '.')
        n--;
    out = mem_strndup(s, n);
    for (char *p = out; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return out;
}

/* One record's data as text, or NULL when it cannot be read. */
static char *
record_text(const ns_msg *msg, const ns_rr *rr, DNSCHECK_TYPE type)
{
    const unsigned char *rd = ns_rr_rdata(*rr);
    size_t len = ns_rr_rdlen(*rr);
    char name[NS_MAXDNAME];

    if (type == DNSCHECK_TXT) {
        BUF *b = buf_new(len + 1);

        for (size_t off = 0; off < len;) {
            size_t n = rd[off];

            if (off + 1 + n > len) {
                buf_free(b);
                return NULL;
            }
            buf_append(b, rd + off + 1, n);
            off += 1 + n;
        }
        return buf_steal(b, NULL);
    }
    if (type == DNSCHECK_A || type == DNSCHECK_AAAA) {
        char text[INET6_ADDRSTRLEN];

        if (len != (type == DNSCHECK_A ? 4u : 16u)
            || inet_ntop(type == DNSCHECK_A ? AF_INET : AF_INET6, rd, text, sizeof(text)) == NULL)
            return NULL;
        return mem_strdup(text);
    }
    if (type == DNSCHECK_CNAME || type == DNSCHECK_PTR) {
        if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd, name, sizeof(name)) < 0)
            return NULL;
        return lower_host(name);
    }
    if (type == DNSCHECK_SRV) {
        char *host, *text;

        if (len < 7 || dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd + 6, name, sizeof(name)) < 0)
            return NULL;
        host = lower_host(name);
        text = buf_asprintf("%u %u %u %s", (unsigned) ns_get16(rd), (unsigned) ns_get16(rd + 2),
                            (unsigned) ns_get16(rd + 4), host);
        mem_free(host);
        return text;
    }
    if (len < 3 || dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd + 2, name, sizeof(name)) < 0)
        return NULL;
    {
        char *host = lower_host(name), *text = buf_asprintf("%u %s", (unsigned) ns_get16(rd), host);

        mem_free(host);
        return text;
    }
}

static const int qtypes[] = {ns_t_txt, ns_t_cname, ns_t_mx, ns_t_a, ns_t_aaaa, ns_t_ptr, ns_t_srv};

int
dnscheck_parse(const unsigned char *answer, size_t len, DNSCHECK_TYPE type, DNSCHECK_ANSWER *out)
{
    ns_msg msg;

    memset(out, 0, sizeof(*out));
    if (len > INT_MAX || ns_initparse(answer, (int) len, &msg) < 0)
        return -1;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an) && out->n < DNSCHECK_MAX_RECORDS; i++) {
        ns_rr rr;
        char *text;

        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || (int) ns_rr_type(rr) != qtypes[type])
            continue;   /* e.g. the CNAME a TXT query followed */
        if ((text = record_text(&msg, &rr, type)) != NULL)
            out->records[out->n++] = text;
    }
    return (int) out->n;
}

int
dnscheck_lookup(const char *resolver, const char *name, DNSCHECK_TYPE type, DNSCHECK_ANSWER *out,
                char **error_r)
{
    static const char *const qnames[] = {"TXT", "CNAME", "MX", "A", "AAAA", "PTR", "SRV"};
    struct __res_state st;
    struct sockaddr_in sin;
    unsigned char *answer;
    int len, ret = 0;

    memset(out, 0, sizeof(*out));
    memset(&st, 0, sizeof(st));
    if (resolver[0] && !parse_resolver(resolver, &sin)) {
        *error_r = buf_asprintf("dns.resolver \"%s\" is not an IPv4 address:port", resolver);
        return -1;
    }
    if (res_ninit(&st) < 0) {
        *error_r = buf_asprintf("the resolver could not be initialized");
        return -1;
    }
    if (resolver[0]) {
        st.nsaddr_list[0] = sin;
        st.nscount = 1;
    }
    st.retrans = 2;
    st.retry = 2;
    st.options &= ~(unsigned long) (RES_DNSRCH | RES_DEFNAMES);
    answer = mem_alloc(ANSWER_MAX);
    len = res_nquery(&st, name, ns_c_in, qtypes[type], answer, ANSWER_MAX);
    if (len < 0) {
        if (st.res_h_errno == HOST_NOT_FOUND || st.res_h_errno == NO_DATA) {
            ret = 0;
        } else {
            *error_r = buf_asprintf("%s lookup of %s failed: %s", qnames[type], name,
                                    st.res_h_errno == TRY_AGAIN ? "no answer from the DNS server (timeout or SERVFAIL)"
                                    : "the DNS server refused the query");
            ret = -1;
        }
        goto out;
    }
    if (dnscheck_parse(answer, len > ANSWER_MAX ? ANSWER_MAX : (size_t) len, type, out) < 0) {
        *error_r = buf_asprintf("%s lookup of %s: the answer could not be parsed", qnames[type], name);
        ret = -1;
        goto out;
    }
    ret = out->n > 0;
out:
    mem_free(answer);
    res_nclose(&st);
    return ret;
}

void
dnscheck_answer_free(DNSCHECK_ANSWER *a)
{
    for (size_t i = 0; i < a->n; i++)
        mem_free(a->records[i]);
    a->n = 0;
}
