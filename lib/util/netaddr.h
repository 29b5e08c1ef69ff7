/*
 * netaddr.h -- IP addresses and networks as 16-byte values (IPv4 as ::ffff:a.b.c.d),
 * so one byte-wise comparison orders and ranges both families (the form the
 * credentials table stores SMTP-IP networks in).
 */
#ifndef PG_NETADDR_H
#define PG_NETADDR_H

#define NETADDR_LEN 16

/* "192.0.2.1" or "2001:db8::1" (an IPv6 zone or brackets are not accepted). 0 ok, -1 bad. */
int netaddr_parse(const char *text, unsigned char out[NETADDR_LEN]);
/* "192.0.2.0/24", "2001:db8::/32" or a single address (a /32 or /128). The prefix is
 * reported in IPv6 terms (IPv4 /24 = 120). Host bits set in the address are refused. */
int netaddr_parse_network(const char *text, unsigned char start[NETADDR_LEN],
                          unsigned char end[NETADDR_LEN], int *prefix_r);

#endif
