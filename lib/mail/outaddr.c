/*
 * outaddr.c -- the outbound address rule (outaddr.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "mail/outaddr.h"
#include "util/buf.h"
#include "util/mem.h"

struct outaddr_allow {
    size_t n;
    unsigned char (*start)[NETADDR_LEN], (*end)[NETADDR_LEN];
};

/* The blocked ranges, IPv4 ones as ::ffff:a.b.c.d networks. */
static const struct {
    const char *net, *why;
} blocked[] = {
    {"0.0.0.0/8", "the unspecified network"},
    {"10.0.0.0/8", "a private address"},
    {"100.64.0.0/10", "a shared (CGNAT) address"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"172.16.0.0/12", "a private address"},
    {"192.0.0.0/24", "an IETF protocol address"},
    {"192.0.2.0/24", "a documentation address"},
    {"192.88.99.0/24", "a 6to4 relay address"},
    {"192.168.0.0/16", "a private address"},
    {"198.18.0.0/15", "a benchmarking address"},
    {"198.51.100.0/24", "a documentation address"},
    {"203.0.113.0/24", "a documentation address"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved or broadcast"},
    {"::1/128", "loopback"},
    {"::/128", "unspecified"},
    {"::/96", "an IPv4-compatible address"},
    {"::ffff:0:0:0/96", "an IPv4-translated address"},
    {"64:ff9b:1::/48", "a local NAT64 address"},
    {"100::/64", "a discard address"},
    {"2001::/23", "an IETF special-purpose address"},
    {"2001:db8::/32", "a documentation address"},
    {"fc00::/7", "a unique-local address"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},
    {"ff00::/8", "multicast"},
};

static int
in_range(const unsigned char a[NETADDR_LEN], const unsigned char s[NETADDR_LEN], const unsigned char e[NETADDR_LEN])
{
    return memcmp(a, s, NETADDR_LEN) >= 0 && memcmp(a, e, NETADDR_LEN) <= 0;
}

OUTADDR_ALLOW *
outaddr_allow_parse(const CONF_LIST *list, char **error_r)
{
    OUTADDR_ALLOW *a = mem_zalloc(sizeof(*a));
    size_t n = list ? list->count : 0;

    a->start = mem_zalloc((n ? n : 1) * sizeof(*a->start));
    a->end = mem_zalloc((n ? n : 1) * sizeof(*a->end));
    for (size_t i = 0; i < n; i++) {
        int prefix;

        if (netaddr_parse_network(list->items[i], a->start[i], a->end[i], &prefix) < 0) {
            *error_r = buf_asprintf("security.outbound_allowed_networks: \"%s\" is not a network such as "
                                    "10.1.2.0/24 or fd00::/8", list->items[i]);
            outaddr_allow_free(a);
            return NULL;
        }
        a->n++;
    }
    return a;
}

void
outaddr_allow_free(OUTADDR_ALLOW *a)
{
    if (a == NULL)
        return;
    mem_free(a->start);
    mem_free(a->end);
    mem_free(a);
}

/* Why addr is internal, or NULL. An embedded IPv4 address (NAT64 64:ff9b::/96, 6to4
 * 2002::/16) counts as that IPv4 address. */
static const char *
internal(const unsigned char addr[NETADDR_LEN])
{
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    unsigned char s[NETADDR_LEN], e[NETADDR_LEN], v4[NETADDR_LEN] = {[10] = 0xff, [11] = 0xff};
    int prefix;

    if (memcmp(addr, nat64, 12) == 0) {
        memcpy(v4 + 12, addr + 12, 4);
        return internal(v4);
    }
    if (addr[0] == 0x20 && addr[1] == 0x02) {
        memcpy(v4 + 12, addr + 2, 4);
        if (internal(v4))
            return "a 6to4 address of an internal IPv4 address";
    }
    for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
        if (netaddr_parse_network(blocked[i].net, s, e, &prefix) == 0 && in_range(addr, s, e))
            return blocked[i].why;
    }
    return NULL;
}

static void
addr_text(const unsigned char addr[NETADDR_LEN], char *out, size_t size)
{
    static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};

    if (memcmp(addr, mapped, 12) == 0)
        inet_ntop(AF_INET, addr + 12, out, (socklen_t) size);
    else
        inet_ntop(AF_INET6, addr, out, (socklen_t) size);
}

int
outaddr_check(const OUTADDR_ALLOW *allow, const unsigned char addr[NETADDR_LEN], char **error_r)
{
    const char *why = internal(addr);
    char text[INET6_ADDRSTRLEN];

    if (why == NULL)
        return 0;
    for (size_t i = 0; allow && i < allow->n; i++)
        if (in_range(addr, allow->start[i], allow->end[i]))
            return 0;
    addr_text(addr, text, sizeof(text));
    *error_r = buf_asprintf("address %s is not allowed (%s; see security.outbound_allowed_networks)", text, why);
    return -1;
}

int
outaddr_check_sockaddr(const OUTADDR_ALLOW *allow, const struct sockaddr *sa, char **error_r)
{
    unsigned char addr[NETADDR_LEN] = {[10] = 0xff, [11] = 0xff};

    if (sa->sa_family == AF_INET) {
        memcpy(addr + 12, &((const struct sockaddr_in *) (const void *) sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(addr, &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr, NETADDR_LEN);
    } else {
        *error_r = mem_strdup("only IPv4 and IPv6 connections are allowed");
        return -1;
    }
    return outaddr_check(allow, addr, error_r);
}

int
outaddr_check_host(const OUTADDR_ALLOW *allow, const char *host, char **error_r)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    unsigned char addr[NETADDR_LEN];
    char name[256];
    size_t len = strlen(host);
    int ret = 0;

    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(name))
        return 0;
    memcpy(name, host, len);
    name[len] = '\0';
    if (netaddr_parse(name, addr) == 0)
        return outaddr_check(allow, addr, error_r);
    if (getaddrinfo(name, NULL, &hints, &res) != 0)
        return 0;
    for (const struct addrinfo *ai = res; ai && ret == 0; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            ret = outaddr_check_sockaddr(allow, ai->ai_addr, error_r);
    freeaddrinfo(res);
    if (ret < 0) {
        char *e = buf_asprintf("%s: %s", name, *error_r);

        mem_free(*error_r);
        *error_r = e;
    }
    return ret;
}

int
outaddr_check_url(const OUTADDR_ALLOW *allow, const char *url, char **error_r)
{
    const char *p = strstr(url, "://"), *end;
    char host[256];

    if (p == NULL)
        return 0;
    p += 3;
    if (*p == '[')
        end = strchr(p, ']') ? strchr(p, ']') + 1 : p + strlen(p);
    else
        end = p + strcspn(p, ":/?#");
    if ((size_t) (end - p) >= sizeof(host))
        return 0;
    memcpy(host, p, (size_t) (end - p));
    host[end - p] = '\0';
    return outaddr_check_host(allow, host, error_r);
}
