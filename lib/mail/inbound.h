/*
 * inbound.h -- which incoming recipients exist, and where their mail goes
 * (DESIGN.md "Incoming" and "Bounces"). Used by postgate-policyd's socketmap (so an
 * unknown recipient is refused at RCPT time, never accepted and bounced later) and by
 * postgate-worker's LMTP server (to file each recipient's message).
 *
 * An address is, in this order:
 *   <token>@<dns.route_domain>             the route with that token;
 *   <message token>@<dns.return_path_domain>, or @<custom_return_path_prefix>.<a domain>
 *                                          a return path: a bounce for that message's
 *                                          server (the route "__returnpath__" of that
 *                                          server when it has one);
 *   <server token>@ either return-path domain  Postal's per-server return path: a bounce
 *                                          for that server (message_id 0: the worker
 *                                          finds the message by X-Postal-MsgID);
 *   <name>[+tag]@<domain>                  the route name@domain of an incoming domain,
 *                                          else the route *@domain.
 * Only verified domains count (the custom return-path names too), hosted domains never
 * (their mail goes to mailboxes, hosting.h), and of a domain only
 * the routes of the server (or organization) that verified it; a domain name is verified
 * by one owner at a time (schema 003). Routes of deleted servers and organizations, and
 * of domains that lost their verification, stay in the table but receive nothing.
 * Local parts compare case-insensitively: route names and route and message tokens are
 * stored lower case, since Postfix folds table lookup keys to lower case.
 *
 * Contract: every function answers 1 (found), 0 (not found) or < 0 (DB_ERR_TEMP /
 * DB_ERR_PERM): a lookup failure is never "not found", so Postfix says 4xx, not 5xx.
 *
 * Must never: accept a recipient for which no route or message exists, or put the
 * address into SQL text.
 */
#ifndef PG_INBOUND_H
#define PG_INBOUND_H

#include "mail/conf.h"
#include "mail/db.h"

#define INBOUND_MAX_ADDRESS 320

/* INBOUND_MAILBOX is never inbound_resolve()'s answer: postgate-milter sets it for a recipient
 * at a hosted domain (hosting_recipient), whose mail Postfix gives Dovecot, to check it for
 * spam and viruses as the domain's server says (server_id 0: an organization's domain). */
typedef enum { INBOUND_ROUTE = 1, INBOUND_RETURN_PATH, INBOUND_MAILBOX } INBOUND_KIND;

typedef struct inbound_target {
    INBOUND_KIND kind;
    unsigned long long server_id;
    unsigned long long route_id;        /* 0: a return path without a __returnpath__ route */
    unsigned long long message_id;      /* the original message of a return path, else 0 (also for a
                                         * server return path) */
    char mode[16];                      /* the route's Endpoint|Accept|Hold|Bounce|Reject */
    char spam_mode[16];                 /* Mark|Quarantine|Fail */
    int has_endpoint;                   /* the route names an endpoint */
} INBOUND_TARGET;

/* The target of one recipient address. */
int inbound_resolve(DB *db, const PGCONF *cfg, const char *address, INBOUND_TARGET *t);

/* The domains mail is accepted for, besides the configured route and return-path domains:
 * the verified incoming domains with routes and the <prefix>.<domain> return-path names of
 * all verified domains (lower case). policyd keeps this list in memory for Postfix's relay_domains.
 * The count (*names_r: mem_free each and the array) or < 0. */
int inbound_domain_list(DB *db, const PGCONF *cfg, char ***names_r, size_t *count_r);

/* Does domain receive mail now: the route or return-path domain, or a name
 * inbound_domain_list() would list (a verified incoming domain with a route, or
 * <prefix>.<a verified domain>)? 1 yes, 0 no, < 0 database error. policyd asks it when
 * a recipient is unknown: a domain Postfix still takes for a relay domain from a stale
 * answer gets TEMP (4xx), never a permanent "user unknown". */
int inbound_domain_active(DB *db, const PGCONF *cfg, const char *domain);

/* Queues a stored incoming message for delivery to its route's endpoint and additional
 * endpoints (queued_messages), in the caller's transaction. The number queued or < 0. */
int inbound_queue_delivery(DB *db, unsigned long long message_id, unsigned long long server_id,
                           unsigned long long route_id);

#endif
