/*
 * turn.h -- turns: serializing transactions that decide from rows they read and then
 * write other rows, on one MariaDB and across the nodes of a Galera cluster (the table
 * turns, schema 021).
 *
 * Contract: inside a transaction run by db_transaction(), turn_take() first, before the
 * reads the decision rests on. It writes the row (scope, id), so a second transaction
 * taking the same turn waits for the first on one node, or on another node loses
 * certification (1213) and is run again by db_transaction(), reading the first one's
 * outcome. Outside db_transaction() the loser gets DB_ERR_TEMP (try again later).
 *
 * Must never: be taken outside a transaction (it would order nothing), or for a whole
 * table's worth of work where a row of the table itself can be written instead.
 */
#ifndef PG_TURN_H
#define PG_TURN_H

#include "mail/db.h"

/* Scopes in use (at most 32 ASCII characters). */
#define TURN_SEND_LIMIT "send_limit"    /* id: server; the hour's volume against its limit */
#define TURN_DKIM_ROTATION "dkim_rotation"      /* id: domain; one pending key per algorithm */
#define TURN_ADMINS "admins"            /* id: 0; the last installation administrator stays */
#define TURN_ORG_OWNERS "org_owners"    /* id: organization; its last owner stays */
#define TURN_COMPLAINT "complaint"      /* id: the complained-of message; one MessageComplained */

/* 0, or < 0 database error. */
int turn_take(DB *db, const char *scope, unsigned long long id);

#endif
