/*
 * autoconfig.h -- postgate-admin's answers to mail clients setting up a hosted mailbox
 * from its address (doc/manual.md "Client autoconfiguration"). Unauthenticated, like the
 * DNS names that lead clients here (autoconfig.<domain>, autodiscover.<domain>), and
 * telling nothing DNS does not: only the servers of a hosted domain (verified, hosting on,
 * owner live), never whether a mailbox exists.
 *
 *   GET  /mail/config-v1.1.xml?emailaddress=A              Thunderbird (autoconfig.<domain>)
 *   GET  /.well-known/autoconfig/mail/config-v1.1.xml?…    Thunderbird's second try
 *   POST /autodiscover/autodiscover.xml (and /Autodiscover/…)  Outlook (POX, the request's EMailAddress)
 *   GET  /mail/apple.mobileconfig?emailaddress=A           an Apple configuration profile
 *
 * Without emailaddress, Thunderbird's document is for the domain the request's Host names
 * (autoconfig.<domain>). Any other domain: 404; a malformed address: 400; MariaDB down: 503.
 *
 * arg: the DBPOOL ** of postgate-admin's pool.
 */
#ifndef PG_AUTOCONFIG_H
#define PG_AUTOCONFIG_H

#include "http.h"

void autoconfig_thunderbird_get(HTTP_REQUEST *req, void *arg);
void autoconfig_outlook_post(HTTP_REQUEST *req, void *arg);
void autoconfig_apple_get(HTTP_REQUEST *req, void *arg);

#endif
