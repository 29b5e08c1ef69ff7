/*
 * sendlimit.h -- a server's outgoing volume over the last 60 minutes (Postal's send
 * limit). Counted per minute in send_volume by message_store(), so every host that
 * shares the database sees the same figure.
 */
#ifndef PG_SENDLIMIT_H
#define PG_SENDLIMIT_H

#include "mail/db.h"

/* 0 with *volume_r, or < 0 database error. */
int sendlimit_volume(DB *db, unsigned long long server_id, long long *volume_r);

/*
 * Notifications (SendLimitApproaching at 90 %, SendLimitExceeded at 100 %), at most one
 * of each per server and hour, across hosts: servers.send_limit_approaching_at and
 * send_limit_exceeded_at record when each last fired.
 */
/* Live servers with a limit whose volume reached 90 % of it: id, send_limit, volume.
 * Row count or < 0; free *res_r. */
int sendlimit_near(DB *db, DB_RESULT **res_r);
/* In the caller's transaction: records that the event (exceeded or approaching) fires
 * now unless it fired within the last hour. 1 recorded (queue the event), 0 not due,
 * < 0 database error. */
int sendlimit_mark_notified(DB *db, unsigned long long server_id, int exceeded);

#endif
