/*
 * netaddr.c -- address and network parsing for netaddr.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/netaddr.h"

int
netaddr_parse(const char *text, unsigned char out[NETADDR_LEN])
{
    struct in_addr a4;

    if (inet_pton(AF_INET, text, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

int
netaddr_parse_network(const char *text, unsigned char start[NETADDR_LEN],
                      unsigned char end[NETADDR_LEN], int *prefix_r)
{
    char addr[64];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t) (slash - text) : strlen(text);
    int prefix, v4;
    char *stop;

    if (alen == 0 || alen >= sizeof(addr))
        return -1;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    if (netaddr_parse(addr, start) < 0)
        return -1;
    v4 = strchr(addr, ':') == NULL;
    if (slash) {
        long p = strtol(slash + 1, &stop, 10);

        if (slash[1] == '\0' || *stop != '\0' || p < 0 || p > (v4 ? 32 : 128))
            return -1;
        prefix = (int) p + (v4 ? 96 : 0);
    } else {
        prefix = 128;
    }
    for (int i = 0; i < NETADDR_LEN; i++) {
        int bits = prefix - 8 * i;
        unsigned char mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (unsigned char) (0xff << (8 - bits));

        if (start[i] & (unsigned char) ~mask)
            return -1;      /* host bits set: 192.0.2.1/24 is a typo for 192.0.2.0/24 */
        end[i] = start[i] | (unsigned char) ~mask;
    }
    *prefix_r = prefix;
    return 0;
}

int
netaddr_in_networks(const char *addr, const char *const *networks, size_t count)
{
    unsigned char a[NETADDR_LEN], start[NETADDR_LEN], end[NETADDR_LEN];
    int prefix;

    if (count == 0 || netaddr_parse(addr, a) < 0)
        return 0;
    for (size_t i = 0; i < count; i++) {
        if (netaddr_parse_network(networks[i], start, end, &prefix) < 0)
            continue;
        if (memcmp(a, start, NETADDR_LEN) >= 0 && memcmp(a, end, NETADDR_LEN) <= 0)
            return 1;
    }
    return 0;
}

int
netaddr_client(const char *peer, const char *xff, const char *const *trusted, size_t count,
               char *out, size_t size)
{
    const char *end;

    if (size == 0)
        return -1;
    if (strlen(peer) >= size) {
        out[0] = '\0';
        return -1;
    }
    memcpy(out, peer, strlen(peer) + 1);
    if (xff == NULL || !netaddr_in_networks(peer, trusted, count))
        return 0;
    end = xff + strlen(xff);
    for (;;) {
        const char *start = end;
        char hop[64];
        unsigned char a[NETADDR_LEN];
        size_t n;

        while (start > xff && start[-1] != ',')
            start--;
        n = (size_t) (end - start);
        while (n && (*start == ' ' || *start == '\t')) {
            start++;
            n--;
        }
        while (n && (start[n - 1] == ' ' || start[n - 1] == '\t'))
            n--;
        if (n == 0 || n >= sizeof(hop) || n >= size)
            return 0;
        memcpy(hop, start, n);
        hop[n] = '\0';
        if (netaddr_parse(hop, a) < 0)
            return 0;
        memcpy(out, hop, n + 1);
        if (!netaddr_in_networks(hop, trusted, count))
            return 0;
        /* Step over this entry and its comma; the leftmost entry ends the walk. */
        while (start > xff && start[-1] != ',')
            start--;
        if (start == xff)
            return 0;
        end = start - 1;
    }
}

int
netaddr_xff_append(BUF *joined, const char *line)
{
    if (line[strspn(line, " \t")] == '\0')
        return 0;
    if (buf_len(joined) > 0 && buf_append_str(joined, ", ") < 0)
        return -1;
    return buf_append_str(joined, line);
}
