/*
 * sasl.h -- the server side of the Dovecot authentication protocol 1.x, as Postfix's
 * xsasl_dovecot client speaks it (smtpd_sasl_type = dovecot).
 *
 * Mechanisms: PLAIN and LOGIN (a username without '@' is ignored and the password is an
 * SMTP credential key; a username with '@' is a hosted mailbox's address and the password
 * its own, checked against its argon2id hash) and CRAM-MD5 (username "org/server" or
 * "org_server", the key is the shared secret). A successful login answers
 * user=<org/server/ID> (credential.h) or user=<mailbox address> (hosting.h), the name
 * Postfix hands to the policy service and the milter.
 *
 * Temporary failures (MariaDB unreachable): Postfix 3.7 turns every FAIL reply into
 * 535, whatever its flags, and answers 454 4.7.0 only when the auth connection is lost
 * before the reply. So a request that cannot be answered for now is logged and the
 * connection is closed without a reply; Postfix reconnects for its next request.
 */
#ifndef PG_POLICYD_SASL_H
#define PG_POLICYD_SASL_H

#include "conn.h"

/* Longest protocol line accepted (Dovecot documents 8 KB for 1.1). */
#define SASL_MAX_LINE 8192

/* Serves one connection until the peer leaves, it misbehaves or the daemon stops. */
void sasl_serve(CONN *c);

#endif
