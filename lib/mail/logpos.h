/*
 * logpos.h -- where each host's postgate-worker has read its Postfix log up to
 * (postfix_log_positions): the file's inode and the byte after the last line whose
 * results are recorded.
 *
 * Contract: logpos_set() is meant to run in the same transaction as the results of the
 * lines it moves past, so a position and the rows it stands for commit together.
 */
#ifndef PG_LOGPOS_H
#define PG_LOGPOS_H

#include "mail/db.h"

/* 1 with *inode_r and *offset_r, 0 no position yet, < 0 database error. */
int logpos_get(DB *db, const char *host, const char *path, unsigned long long *inode_r,
               unsigned long long *offset_r);
/* Records the position (insert or update). 0 ok, < 0 database error. */
int logpos_set(DB *db, const char *host, const char *path, unsigned long long inode, unsigned long long offset);

#endif
