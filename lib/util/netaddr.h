/*
 * netaddr.h -- IP addresses and networks as 16-byte values (IPv4 as ::ffff:a.b.c.d),
 * so one byte-wise comparison orders and ranges both families (the form the
 * credentials table stores SMTP-IP networks in).
 */
#ifndef PG_NETADDR_H
#define PG_NETADDR_H

#include <stddef.h>

#include "util/buf.h"

#define NETADDR_LEN 16

/* "192.0.2.1" or "2001:db8::1" (an IPv6 zone or brackets are not accepted). 0 ok, -1 bad. */
int netaddr_parse(const char *text, unsigned char out[NETADDR_LEN]);
/* "192.0.2.0/24", "2001:db8::/32" or a single address (a /32 or /128). The prefix is
 * reported in IPv6 terms (IPv4 /24 = 120). Host bits set in the address are refused. */
int netaddr_parse_network(const char *text, unsigned char start[NETADDR_LEN],
                          unsigned char end[NETADDR_LEN], int *prefix_r);
/* Is the address text inside one of the count networks (netaddr_parse_network's form;
 * entries that do not parse are skipped)? 1 yes, 0 no or the address does not parse. */
int netaddr_in_networks(const char *addr, const char *const *networks, size_t count);

/* The client's address of an HTTP request that may have come through reverse proxies.
 * peer is the connection's address (text), xff the X-Forwarded-For value (NULL when
 * absent; several headers joined with commas are one value), trusted the count
 * trusted proxies (addresses or networks).
 *
 *   - peer not trusted (or no xff): the client is the peer; the header is ignored, so a
 *     client cannot choose its own address by sending one.
 *   - peer trusted: xff is walked from the right (each hop appends the address it saw);
 *     entries are separated by commas, with spaces and tabs around them ignored. The
 *     first address that is not a trusted proxy is the client.
 *   - an entry that is not a plain address (empty, garbage, a port, brackets, too long)
 *     stops the walk: the client is the last address accepted so far, i.e. what the last
 *     trusted hop saw (the peer itself when the rightmost entry is bad).
 *   - every entry trusted: the leftmost one.
 *
 * The result (NUL-terminated) goes to out, which should hold INET6_ADDRSTRLEN bytes;
 * an address that would not fit is treated as malformed. Returns 0, or -1 when peer
 * itself does not fit in out (out is then empty). */
int netaddr_client(const char *peer, const char *xff, const char *const *trusted, size_t count,
                   char *out, size_t size);

/* Adds one X-Forwarded-For header line to joined, the value netaddr_client() takes.
 * A request may carry several lines (a client sends its own, the proxy appends to the
 * last one or adds a line); RFC 7230 section 3.2.2 makes them one comma-separated list
 * in the order received, so every line is added, in order, with ", " between them. A
 * line of only spaces and tabs adds nothing. Returns buf_append's result. */
int netaddr_xff_append(BUF *joined, const char *line);

#endif
