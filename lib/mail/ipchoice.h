/*
 * ipchoice.h -- which pool address an outgoing message leaves from (doc/architecture.md
 * "IP pools"): the server's rules, then its organization's, then the server's pool; within
 * the pool a weighted choice by the addresses' priorities, fixed per message by its token
 * so that every recipient and every retry of one message leaves from the same address.
 *
 * Contract: only the server the message row belongs to is consulted (its rules, its
 * organization's rules, its pool, each pool assigned to the organization), so another
 * tenant's rule can never move the message. Only addresses whose Postfix transport exists
 * (transport_ready) are chosen. No SQL here: ippool.c and message.c own the tables.
 *
 * Must never: choose an address of a pool not assigned to the message's organization.
 */
#ifndef PG_IPCHOICE_H
#define PG_IPCHOICE_H

#include <stddef.h>

#include "mail/conf.h"
#include "mail/db.h"

/* Postfix transport names: IPCHOICE_TRANSPORT_PREFIX "<address id>". */
#define IPCHOICE_TRANSPORT_PREFIX "pgpool-"

typedef struct ipchoice {
    unsigned long long address_id;
    unsigned long long pool_id;
    const char *why;            /* "server rule", "organization rule", "server pool" */
} IPCHOICE;

/* Whether one rule pattern matches address: a pattern with '@' is a whole address
 * ("@example.com": any address at that domain), without it a domain; ASCII case is
 * ignored; subdomains do not match. */
int ipchoice_pattern_match(const char *pattern, const char *address);
/* Whether a rule (patterns one per line; NULL none) applies: its from patterns match the
 * envelope sender, or its to patterns match every recipient (Postfix chooses one
 * transport for all of a message's recipients). */
int ipchoice_rule_applies(const char *from_text, const char *to_text, const char *mail_from,
                          const char *const *rcpts, size_t nrcpts);
/* Index of the weighted choice among n weights for the value r (weights of 0 are never
 * chosen unless all are 0, then each is equally likely); n > 0. */
size_t ipchoice_pick(const long long *weights, size_t n, unsigned long long r);
/* A stable 64-bit hash of a message token (FNV-1a), the value ipchoice_pick() is given. */
unsigned long long ipchoice_hash(const char *token);

/*
 * The address for the outgoing message whose row token is token. 1 chosen (*choice_r),
 * 0 nothing to choose (not an outgoing token, no rule or pool applies, or the pool has
 * no ready address: Postfix's default transport), < 0 database error. plan is
 * postfix.warmup_plan: a pool with an address warming up gives it at most its day's
 * share (schema 019), the choice recorded per message so that its retries keep it.
 */
int ipchoice_for_token(DB *db, const CONF_LIST *plan, const char *token, IPCHOICE *choice_r);

#endif
