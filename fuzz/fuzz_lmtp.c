/*
 * fuzz_lmtp.c -- libFuzzer harness of postgate-worker's LMTP server (worker/lmtp.c): the
 * input is the client's side of an LMTP session (LHLO, MAIL, RCPT, DATA with its
 * dot-stuffed message, RSET, ...), served by the module's own dialogue, serve(), on a
 * socket pair. The module is included so the static dialogue is reached without a
 * listener or threads. MariaDB cannot be reached: RCPT answers 451, so the first byte of
 * the input can start the session with MAIL given and one recipient already accepted (a
 * route, or a return path, whose DATA also goes through the DSN parser); its message is
 * then parsed (header split, the signed inspection header, DSN, Subject and Message-ID)
 * and storing it fails with 451, the module's temporary-failure path.
 */
#include "../worker/lmtp.c"

#include "fuzz.h"

static WORKER_ENV env;
static LMTP_SERVER server;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    PGCONF *cfg;

    fuzz_quiet("fuzz_lmtp");
    cfg = fuzz_config();
    conf_holder_init(&env.conf, conf_ref(cfg));
    env.pool = dbpool_new(cfg, 1);
    env.seal = fuzz_seal();
    env.host = "fuzz.example";
    conf_unref(cfg);
    address_init();
    server.env = &env;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SESSION *s;
    int peer, fd;

    if (size < 1)
        return 0;
    fd = fuzz_feed(data + 1, size - 1, &peer);
    if (fd < 0)
        return 0;
    s = mem_zalloc(sizeof(*s));
    s->srv = &server;
    s->fd = fd;
    s->id = 1;
    if (data[0] & 1) {
        RCPT *r;

        /* As do_rcpt() grows it: the session owns its recipient table. */
        s->cap = 4;
        s->rcpts = mem_zalloc(s->cap * sizeof(*s->rcpts));
        r = &s->rcpts[0];
        s->have_mail = 1;
        snprintf(s->mail_from, sizeof(s->mail_from), "%s", data[0] & 4 ? "" : "sender@example.org");
        snprintf(r->address, sizeof(r->address), "rcpt@example.com");
        r->t.kind = data[0] & 2 ? INBOUND_RETURN_PATH : INBOUND_ROUTE;
        r->t.server_id = 1;
        r->t.route_id = data[0] & 8 ? 0 : 1;
        r->t.message_id = data[0] & 64 ? 5 : 0;
        r->t.has_endpoint = 1;
        snprintf(r->t.mode, sizeof(r->t.mode), "%s", data[0] & 16 ? "Hold" : "Endpoint");
        snprintf(r->t.spam_mode, sizeof(r->t.spam_mode), "%s", data[0] & 32 ? "Quarantine" : "Mark");
        s->nrcpts = 1;
    }
    serve(s);
    mem_free(s->rcpts);
    mem_free(s);
    fuzz_close(fd, peer);
    return 0;
}
