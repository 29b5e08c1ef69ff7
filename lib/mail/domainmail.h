/*
 * domainmail.h -- verifying a domain by a code mailed to an address at it, Postal's second
 * method beside the DNS TXT record (domain.h): the code goes to webmaster@, postmaster@,
 * admin@, administrator@ or hostmaster@ the domain or one of its parents (not the top-level
 * domain alone), through sysmail.h.
 *
 * A code is six digits, kept only as SHA-256 of "<domain uuid>:<code>", good for
 * DOMAINMAIL_CODE_SECONDS and DOMAINMAIL_TRIES tries; a new one, which replaces it, can be
 * mailed once every DOMAINMAIL_INTERVAL seconds. A correct code claims the name the way a
 * DNS verification does (one verified owner per name).
 * Must never: mail any address but the listed ones (a tenant could otherwise make postgate
 * write to anyone), keep the code in clear, or let a code be tried without counting.
 */
#ifndef PG_DOMAINMAIL_H
#define PG_DOMAINMAIL_H

#include <stddef.h>

#include "mail/conf.h"
#include "mail/db.h"

#define DOMAINMAIL_CODE_SECONDS 3600
#define DOMAINMAIL_TRIES 5
#define DOMAINMAIL_INTERVAL 60

/* The addresses a code for name may go to, aliases of the domain itself first (free with
 * address_list_free()); the count. */
size_t domainmail_addresses(const char *name, char ***addrs_r);

/* Results of domainmail_send() besides 1 (mailed) and < 0 (database error). */
#define DOMAINMAIL_REFUSED 0        /* not one of domainmail_addresses() (*error_r) */
#define DOMAINMAIL_VERIFIED 2       /* the domain is verified already (*error_r) */
#define DOMAINMAIL_TOO_SOON 3       /* a code went out less than DOMAINMAIL_INTERVAL s ago (*error_r) */
#define DOMAINMAIL_NOT_SENT 4       /* sendmail did not take it (*error_r); no code stands */

/* Makes a new code for domain_id and mails it to address. */
int domainmail_send(DB *db, const PGCONF *cfg, unsigned long long domain_id, const char *address, char **error_r);

/* Checks code against domain_id's mailed code (each call is a try). 1 verified by e-mail,
 * 0 wrong, expired, used up or none asked (*error_r), DOMAIN_CLAIMED (domain.h; *error_r),
 * < 0 database error. */
int domainmail_verify(DB *db, unsigned long long domain_id, const char *code, char **error_r);

#endif
