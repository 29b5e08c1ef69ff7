/*
 * ctx.h -- the state postgate-policyd's connection threads share: the current
 * configuration snapshot (swapped on SIGHUP), the MariaDB handle pool, the seal key
 * (for CRAM-MD5), the in-memory counters and the stop flag.
 *
 * A thread takes a reference to the snapshot with ctx_config() for the duration of
 * one request and drops it with conf_unref(); it takes a DB handle from the pool only
 * while it answers one request, so open MariaDB connections follow concurrent
 * requests, not connected Postfix processes.
 */
#ifndef PG_POLICYD_CTX_H
#define PG_POLICYD_CTX_H

#include <pthread.h>
#include <stdatomic.h>

#include "mail/conf.h"
#include "mail/dbpool.h"
#include "throttle.h"
#include "util/seal.h"

typedef struct pd_ctx {
    CONF_HOLDER config;         /* the current configuration snapshot */
    DBPOOL *pool;
    SEAL_KEY *seal;
    THROTTLE *auth_failures;    /* failed SASL logins per client address */
    THROTTLE *rates;            /* relay requests per credential or client address */
    char hostname[256];         /* for CRAM-MD5 challenges */
    atomic_int stopping;        /* SIGTERM: finish what is in flight, take nothing new */
} PD_CTX;

/* The current snapshot, referenced: conf_unref() it when the request is answered. */
PGCONF *ctx_config(PD_CTX *ctx);
/* Installs cfg (the context takes the caller's reference) and drops the old one. */
void ctx_swap_config(PD_CTX *ctx, PGCONF *cfg);
int ctx_stopping(PD_CTX *ctx);

#endif
