/*
 * clientdns.h -- the DNS names mail clients use to find a hosted domain's services: the
 * records to publish (Thunderbird's autoconfig.<domain>, Outlook's autodiscover.<domain>
 * and _autodiscover._tcp SRV, RFC 6186's _imap(s)/_pop3(s)/_submission(s) SRV records, all
 * pointing at autoconfig.hostname or else dns.smtp_server_hostname) and the check that
 * they are published so.
 *
 * Must never: report OK for a name that leads clients elsewhere.
 */
#ifndef PG_CLIENTDNS_H
#define PG_CLIENTDNS_H

#include "mail/conf.h"
#include "util/buf.h"

/* Appends the zone-file lines of name's client records to out. */
void clientdns_records(BUF *out, const PGCONF *cfg, const char *name);

/* Looks the records up: *status_r "OK" (all as published), "Missing" (none of them) or
 * "Invalid" (some missing or pointing elsewhere); *error_r (mem_free; NULL when OK) names
 * what is wrong, or the lookup that failed. */
void clientdns_check(const PGCONF *cfg, const char *name, const char **status_r, char **error_r);

#endif
