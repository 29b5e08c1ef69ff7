/*
 * policy.h -- Postfix policy delegation (check_policy_service) for relay decisions.
 *
 * Wired as `smtpd_relay_restrictions = check_policy_service <socket>,
 * permit_sasl_authenticated, reject_unauth_destination`, it answers per RCPT:
 *   SASL login (sasl_username = org/server/ID): the credential was deleted since the
 *     login -> REJECT 5.7.8; its server or organization is suspended -> REJECT 5.7.1;
 *     over policyd.rate_limit -> DEFER_IF_PERMIT 4.7.1; else DUNNO (the login permits).
 *   No login: an SMTP-IP credential covering client_address -> OK (it may relay), or
 *     REJECT 5.7.1 when suspended, or DEFER 4.7.1 over the rate limit; no credential ->
 *     DUNNO (reject_unauth_destination refuses relaying, local recipients go on), or
 *     DEFER_IF_PERMIT 4.7.1 when that client address is over the rate limit.
 *   MariaDB unavailable: never a permit. With a login DEFER_IF_PERMIT 4.3.0; without
 *     one DEFER 4.3.0, because the client may be an SMTP-IP sender that must retry,
 *     not have its mail refused as relaying.
 * Requests are bounded: POLICY_MAX_ATTRS attributes of at most POLICY_MAX_LINE bytes;
 * anything else is logged and the connection closed.
 */
#ifndef PG_POLICYD_POLICY_H
#define PG_POLICYD_POLICY_H

#include "conn.h"

#define POLICY_MAX_LINE 8192
#define POLICY_MAX_ATTRS 100

/* Serves one connection until the peer leaves, it misbehaves or the daemon stops. */
void policy_serve(CONN *c);

#endif
