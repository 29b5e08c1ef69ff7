/*
 * ctx.c -- the shared state of postgate-policyd's threads (ctx.h).
 */
#include "config.h"

#include "ctx.h"

PGCONF *
ctx_config(PD_CTX *ctx)
{
    return conf_holder_get(&ctx->config);
}

void
ctx_swap_config(PD_CTX *ctx, PGCONF *cfg)
{
    conf_holder_swap(&ctx->config, cfg);
}

int
ctx_stopping(PD_CTX *ctx)
{
    return atomic_load(&ctx->stopping);
}
