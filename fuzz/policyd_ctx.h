/*
 * policyd_ctx.h -- the postgate-policyd context the policyd harnesses serve with
 * (fuzz_policy.c, fuzz_socketmap.c, fuzz_sasl.c): the built-in configuration, a MariaDB
 * pool that cannot connect (lookups answer the daemon's temporary-failure path), a seal
 * key and the in-memory throttles.
 */
#ifndef PG_FUZZ_POLICYD_CTX_H
#define PG_FUZZ_POLICYD_CTX_H

#include <string.h>

#include "conn.h"
#include "ctx.h"
#include "fuzz.h"

static PD_CTX fuzz_pd;

static void
fuzz_pd_init(const char *progname)
{
    PGCONF *cfg;

    fuzz_quiet(progname);
    cfg = fuzz_config();
    conf_holder_init(&fuzz_pd.config, conf_ref(cfg));
    fuzz_pd.pool = dbpool_new(cfg, 1);
    conf_unref(cfg);
    fuzz_pd.seal = fuzz_seal();
    fuzz_pd.auth_failures = throttle_new("fuzz auth failures", 64);
    fuzz_pd.rates = throttle_new("fuzz rates", 64);
    snprintf(fuzz_pd.hostname, sizeof(fuzz_pd.hostname), "fuzz.example");
}

/* Runs serve() on one connection that reads data. */
static void
fuzz_pd_serve(void (*serve)(CONN *), const uint8_t *data, size_t size)
{
    static unsigned long id;
    CONN *c;
    int peer, fd = fuzz_feed(data, size, &peer);

    if (fd < 0)
        return;
    c = calloc(1, sizeof(*c));
    c->fd = fd;
    c->id = ++id;
    c->service = "fuzz";
    c->ctx = &fuzz_pd;
    /* Fresh counters: every input starts from the same state. */
    throttle_free(fuzz_pd.auth_failures);
    throttle_free(fuzz_pd.rates);
    fuzz_pd.auth_failures = throttle_new("fuzz auth failures", 64);
    fuzz_pd.rates = throttle_new("fuzz rates", 64);
    serve(c);
    free(c);
    fuzz_close(fd, peer);
}

#endif
