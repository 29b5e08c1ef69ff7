/*
 * dnsmonitor.h -- the periodic DNS checks of verified domains (postgate-worker's
 * dns_checks job) and Postal's DomainDNSError event, queued once when a domain that
 * passed starts failing (schema 007: domains.dns_monitor_state).
 *
 * Postal's rule for a passing domain: SPF and DKIM OK, MX and return path OK or Missing
 * (a domain may send without receiving). The payload is Postal's: {server, domain, uuid,
 * dns_checked_at, spf_status, spf_error, dkim_status, dkim_error, mx_status, mx_error,
 * return_path_status, return_path_error}; organization domains (no server) have no
 * webhooks and raise nothing, as in Postal.
 *
 * Track domains are checked too (their CNAME to dns.track_domain) and the result kept
 * with them; Postal has no event for them.
 *
 * Must never: raise the event again while the domain stays failing, or for a domain that
 * never passed (its records are likely not published yet).
 */
#ifndef PG_DNSMONITOR_H
#define PG_DNSMONITOR_H

#include <stddef.h>

#include "mail/conf.h"
#include "mail/db.h"

/* Up to max verified domains not checked for interval seconds, oldest check first, into
 * ids. The count, or < 0 database error. */
int dnsmonitor_due(DB *db, long long interval, size_t max, unsigned long long *ids);
/* Checks domain id (domain_check_dns) and moves its monitor state: 1 DomainDNSError
 * queued, 0 nothing to announce, < 0 database error. */
int dnsmonitor_check(DB *db, const PGCONF *cfg, unsigned long long id);

/* The same for track domains (their CNAME to dns.track_domain): the due ones, and one
 * check recorded in track_domains (dns_status, dns_error, dns_checked_at). The check: 1
 * OK, 0 failing, < 0 database error. */
int dnsmonitor_track_due(DB *db, long long interval, size_t max, unsigned long long *ids);
int dnsmonitor_track_check(DB *db, const PGCONF *cfg, unsigned long long id);

#endif
