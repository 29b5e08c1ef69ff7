/*
 * suppression.h -- a server's suppression list: recipients mail is held for instead
 * of being sent (Postal's semantics), until keep_until passes.
 */
#ifndef PG_SUPPRESSION_H
#define PG_SUPPRESSION_H

#include <stddef.h>

#include "mail/db.h"

/* 1 suppressed (reason copied), 0 not, < 0 database error. address is lower-cased here. */
int suppression_check(DB *db, unsigned long long server_id, const char *address, char *reason, size_t len);
/* Removes address (lower-cased here) from the server's list, as a successful send does.
 * The number of entries removed (0 or 1), or < 0 database error. */
int suppression_remove(DB *db, unsigned long long server_id, const char *address);

#endif
