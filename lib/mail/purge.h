/*
 * purge.h -- removing a deleted organization or server for good (doc/api.md "Deleted
 * organizations", "Servers"). Deleting an organization only marks it
 * (organizations.deleted_at); its servers, domains, credentials, routes, endpoints,
 * webhooks, message log, raw copies, clicks, loads and statistics stay until an
 * installation administrator purges it. A deleted server of a live organization
 * (servers.deleted_at) is purged by postgate-worker on its own.
 *
 * Contract: purge_org_step() does one bounded piece of the work (at most batch rows of one
 * table and what cascades from them, or one server row with its configuration), in
 * autocommit, so a purge never holds long locks or a huge undo log and can be stopped and
 * resumed at any point. It touches only organizations and servers whose deleted_at is set.
 *
 * Must never: delete anything of a live organization, or run one unbounded DELETE over
 * the message log.
 */
#ifndef PG_PURGE_H
#define PG_PURGE_H

#include "mail/db.h"

/* One step of purging deleted organization org_id: 1 nothing of it is left (its row is
 * gone too), 0 one batch done and more remains (*rows_r += the rows deleted directly),
 * < 0 database error. */
int purge_org_step(DB *db, unsigned long long org_id, unsigned batch, unsigned long long *rows_r);
/* One step of purging the deleted servers of live organizations (server_delete): 1 none is
 * left, 0 one batch done (*rows_r += the rows deleted directly), < 0 database error. */
int purge_deleted_server_step(DB *db, unsigned batch, unsigned long long *rows_r);

#endif
