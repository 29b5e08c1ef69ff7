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

#endif
