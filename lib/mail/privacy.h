/*
 * privacy.h -- privacy mode (a server's privacy_mode, as in Postal): the Received field
 * Postfix's smtpd writes for a sender of such a server names no client. Postfix hides its
 * own field from milters, so the rewrite is Postfix's header_checks asking postgate-policyd's
 * "received" socketmap (ctl_postconf.h PF_RECEIVED_*): the key names the sender as SMTP
 * AUTH login or SMTP-IP client address, and the rest of the field from "by ".
 *
 * Contract: privacy_of_sender is 1 private, 0 not (or no such sender), < 0 database error.
 * Must never: decide for a client the milter would not take as that server's sender (the
 * same credential and SMTP-IP lookups as policyd's policy and the milter).
 */
#ifndef PG_PRIVACY_H
#define PG_PRIVACY_H

#include "mail/conf.h"
#include "mail/db.h"

/* Splits a socketmap key "login NAME by ..." or "client ADDRESS by ...": 1 with the kind
 * ("login"/"client"), the sender and a pointer to "by ..." in key; 0 malformed. */
int privacy_key_parse(const char *key, char kind[8], char *sender, size_t sender_size, const char **rest_r);
/* Whether the server of a login (credential identity or mailbox address) or of an SMTP-IP
 * client address has privacy mode. */
int privacy_of_sender(DB *db, const PGCONF *cfg, const char *kind, const char *sender);

#endif
