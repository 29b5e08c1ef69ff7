/*
 * socketmap.h -- Postfix socketmap lookups (socketmap_table(5)): netstring requests
 * "<map> <key>" answered "OK <value>", "NOTFOUND ", "TEMP <reason>" or
 * "PERM <reason>". The maps postgatectl postfix enable wires:
 *   domain     relay_domains: the incoming domains (lib/mail/inbound.h)
 *   recipient  relay_recipient_maps: the recipients that exist; routes in Reject mode
 *              do not, so their mail is refused at RCPT time
 *   transport  sender_dependent_default_transport_maps (IP pools): the key is the return
 *              path the milter set, "<token>@<dns.return_path_domain>"; the answer is the
 *              transport of the pool address chosen for that message (lib/mail/ipchoice.h),
 *              "pgpool-<address id>", or NOTFOUND (Postfix's default_transport)
 *   hosted_domain  virtual_mailbox_domains: the hosted domains (lib/mail/hosting.h)
 *   mailbox    virtual_mailbox_maps: the mailboxes of hosted domains
 *   alias      virtual_alias_maps: an alias's destinations, a mailbox itself, "@domain"
 *              the domain's catch-all
 *   sender_login  smtpd_sender_login_maps: the mailbox logins that own an address
 * A lookup failure is TEMP, never NOTFOUND: Postfix then defers instead of refusing.
 * The domain and hosted_domain maps answer from in-memory lists refreshed every 10 s and
 * kept through a MariaDB outage, because Postfix consults relay_domains and
 * virtual_mailbox_domains for outgoing mail too; the other hosting maps answer NOTFOUND
 * for a domain not in the hosted list without asking MariaDB.
 * Requests longer than SOCKETMAP_MAX_REQUEST or that are not netstrings end the
 * connection (logged).
 */
#ifndef PG_POLICYD_SOCKETMAP_H
#define PG_POLICYD_SOCKETMAP_H

#include "conn.h"

#define SOCKETMAP_MAX_REQUEST 1024

/* Serves one connection until the peer leaves, it misbehaves or the daemon stops. */
void socketmap_serve(CONN *c);

#endif
