/*
 * notice.h -- postgate's notices by mail to the people who run an organization (its owners
 * and admins, live accounts only), through the system mailer (sysmail.h): a server near or
 * over its send limit (beside Postal's SendLimitApproaching/-Exceeded events), and a server or
 * an organization suspended by an installation administrator.
 *
 * A notice that cannot be mailed is logged and given up: the webhook events and the web
 * admin still tell. Must never: mail anyone outside the organization's owners and admins.
 */
#ifndef PG_NOTICE_H
#define PG_NOTICE_H

#include "mail/conf.h"
#include "mail/db.h"

/* server_id's volume of its hourly send limit reached 90 % (exceeded 0) or 100 % (1). The
 * number of people mailed, < 0 database error. */
int notice_send_limit(DB *db, const PGCONF *cfg, unsigned long long server_id, int exceeded, long long volume,
                      long long limit);

/* org_id (server_id 0), or its server server_id, was suspended (reason may be NULL or ""). The
 * number of people mailed, < 0 database error. */
int notice_suspension(DB *db, const PGCONF *cfg, unsigned long long org_id, unsigned long long server_id,
                      const char *reason);

#endif
