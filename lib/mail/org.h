/*
 * org.h -- organizations: the top of postgate's ownership tree.
 * Permalinks are [a-z0-9-], 1 to 64 characters, and a few words are reserved.
 */
#ifndef PG_ORG_H
#define PG_ORG_H

#include "mail/db.h"

/* 1 when permalink is acceptable, else 0 with *why_r. */
int org_permalink_ok(const char *permalink, const char **why_r);
/* 1 created (*id_r), 0 invalid or taken (*error_r), < 0 database error. */
int org_create(DB *db, const char *name, const char *permalink, unsigned long long *id_r, char **error_r);
/* 1 found (*id_r), 0 no such live organization, < 0 database error. */
int org_find(DB *db, const char *permalink, unsigned long long *id_r);

#endif
