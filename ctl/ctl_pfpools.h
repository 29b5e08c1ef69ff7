/*
 * ctl_pfpools.h -- the IP pools' Postfix transports (postfix.ip_pools): one master.cf smtp
 * service "pgpool-<address id>" per pool address, binding its address and saying its
 * host name in HELO, and the pool's per-destination limits as main.cf parameters
 * "pgpool-<id>_destination_concurrency_limit" / "_destination_rate_delay". Every service
 * carries the marker syslog_name "postfix/postgate-pool-<id>", every parameter the
 * "pgpool-" prefix: both are postgate's alone, so sync and disable remove exactly them.
 *
 * Must never: touch a service without the marker, or a parameter without the prefix.
 */
#ifndef PG_CTL_PFPOOLS_H
#define PG_CTL_PFPOOLS_H

#include <stdio.h>

#include "ctl_postconf.h"
#include "mail/db.h"

#define PFPOOLS_PREFIX "pgpool-"

/*
 * Makes the transports match the database's addresses (db NULL: no pools, every transport
 * goes), marks each written address ready for policyd, and says what changed. *changed_r
 * is set when master.cf or main.cf changed. 0, or an exit status after saying why not.
 */
int pfpools_sync(PF *pf, DB *db, int *changed_r);
/* What pfpools_sync() would change, one line each to out, changing nothing: the count in
 * *problems_r. 0, or an exit status after saying why not. */
int pfpools_check(PF *pf, DB *db, FILE *out, int *problems_r);
/* Whether a marked master.cf service ("name/type") is a pool transport. */
int pfpools_owns(const char *service);

#endif
