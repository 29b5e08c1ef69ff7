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
 * A lookup failure is TEMP, never NOTFOUND: Postfix then defers instead of refusing.
 * The domain map answers from an in-memory list refreshed every 10 s and kept through a
 * MariaDB outage, because Postfix consults relay_domains for outgoing mail too.
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
