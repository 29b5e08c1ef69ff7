/*
 * outaddr.h -- which addresses postgate may connect to on a tenant's behalf (webhooks,
 * HTTP and SMTP endpoints): never an internal one (loopback, link-local, RFC 1918,
 * CGNAT, unique-local, multicast, unspecified, reserved, and the IPv4-mapped, NAT64 and
 * 6to4 forms of those) unless security.outbound_allowed_networks lists it.
 *
 * Contract: outaddr_check() is the rule, applied by postgate-worker to the address each
 * connection is about to use (after DNS, so a name that resolves or re-resolves to an
 * internal address is caught); outaddr_check_host() resolves a name now, for a clear
 * error when a URL or host name is saved. Errors read "address 127.0.0.1 is not allowed
 * (loopback)".
 *
 * Must never: allow an internal address the allow-list does not name.
 */
#ifndef PG_OUTADDR_H
#define PG_OUTADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "mail/conf.h"
#include "util/netaddr.h"

typedef struct outaddr_allow OUTADDR_ALLOW;

/* The allow-list of networks ("10.1.2.0/24", "::1"). NULL and *error_r (mem_free it) on a
 * bad entry. */
OUTADDR_ALLOW *outaddr_allow_parse(const CONF_LIST *list, char **error_r);
void outaddr_allow_free(OUTADDR_ALLOW *a);

/* 0 when addr (16 bytes, IPv4 as ::ffff:a.b.c.d) may be connected to; -1 with *error_r
 * ("address ... is not allowed (...)", mem_free it) when not. allow may be NULL (none). */
int outaddr_check(const OUTADDR_ALLOW *allow, const unsigned char addr[NETADDR_LEN], char **error_r);
/* The same for a socket address (AF_INET, AF_INET6; other families are refused): 0, or
 * -1 with *error_r (mem_free it). */
int outaddr_check_sockaddr(const OUTADDR_ALLOW *allow, const struct sockaddr *sa, char **error_r);

/* Host (a name, an IP address, or "[v6]") resolved now: -1 with *error_r when it is or
 * resolves to an address outaddr_check refuses (mem_free it); 0 otherwise (a name that does not
 * resolve now passes: the connection is checked again). */
int outaddr_check_host(const OUTADDR_ALLOW *allow, const char *host, char **error_r);
/* The host of an http(s)://host[:port]/... URL checked as outaddr_check_host (same results;
 * a URL whose host cannot be read passes with 0: the connection is checked again). */
int outaddr_check_url(const OUTADDR_ALLOW *allow, const char *url, char **error_r);

#endif
