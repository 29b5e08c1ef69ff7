/*
 * ctx.c -- the shared state of postgate-policyd's threads (ctx.h).
 */
#include "config.h"

#include "ctx.h"

PGCONF *
ctx_config(PD_CTX *ctx)
{
    PGCONF *cfg;

    pthread_mutex_lock(&ctx->lock);
    cfg = conf_ref(ctx->cfg);
    pthread_mutex_unlock(&ctx->lock);
    return cfg;
}

void
ctx_swap_config(PD_CTX *ctx, PGCONF *cfg)
{
    PGCONF *old;

    pthread_mutex_lock(&ctx->lock);
    old = ctx->cfg;
    ctx->cfg = cfg;
    pthread_mutex_unlock(&ctx->lock);
    conf_unref(old);
}

int
ctx_stopping(PD_CTX *ctx)
{
    return atomic_load(&ctx->stopping);
}
