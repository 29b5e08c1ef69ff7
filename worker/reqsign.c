/*
 * reqsign.c -- request signatures of the worker's HTTP senders (reqsign.h).
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "reqsign.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

int
reqsign_refresh(REQSIGN *r, DB *db, const SEAL_KEY *seal)
{
    char kid[SIGNKEY_KID_MAX + 1], *error = NULL;
    SIGNKEY *key = NULL;
    int ret;

    if (r->key && clock_mono() - r->checked < REQSIGN_CHECK_SECONDS)
        return 0;
    if ((ret = signkey_current_kid(db, kid)) == 0) {
        if ((ret = signkey_ensure(db, seal, kid, &error)) > 0)
            msg_info("%s: created the installation signing key %s", r->who, kid);
    }
    if (ret < 0) {
        msg_warn("%s: signing key: %s", r->who, error ? error : db_error(db));
        mem_free(error);
        return r->key ? 0 : -1;
    }
    r->checked = clock_mono();
    if (r->key && strcmp(signkey_kid(r->key), kid) == 0)
        return 0;
    if ((ret = signkey_load(db, seal, &key, &error)) <= 0) {
        msg_error("%s: cannot load the signing key: %s", r->who, ret < 0 ? error : "none left");
        mem_free(error);
        return r->key ? 0 : -1;
    }
    if (r->key)
        msg_info("%s: signing with the new key %s", r->who, signkey_kid(key));
    signkey_free(r->key);
    r->key = key;
    return 0;
}

int
reqsign_headers(const REQSIGN *r, HTTPSEND_XFER *x, const void *body, size_t len)
{
    REQSIGN_SIG sig = {NULL, NULL};

    if (r->key != NULL && signkey_sign(r->key, body, len, &sig.sha1, &sig.sha256) < 0)
        sig.sha1 = sig.sha256 = NULL;
    return reqsign_headers_from(r, x, &sig);
}

typedef struct sign_slice {
    const REQSIGN *r;
    const char *const *bodies;
    const size_t *lens;
    size_t n, first, step;
    REQSIGN_SIG *out;
} SIGN_SLICE;

static void *
sign_slice(void *arg)
{
    SIGN_SLICE *s = arg;

    for (size_t i = s->first; i < s->n; i += s->step) {
        if (s->bodies[i] == NULL)
            continue;
        if (s->r->key == NULL || signkey_sign(s->r->key, s->bodies[i], s->lens[i], &s->out[i].sha1,
                                              &s->out[i].sha256) < 0)
            s->out[i].sha1 = s->out[i].sha256 = NULL;
    }
    return NULL;
}

void
reqsign_many(const REQSIGN *r, const char *const *bodies, const size_t *lens, size_t n, unsigned threads,
             REQSIGN_SIG *out)
{
    SIGN_SLICE slices[REQSIGN_MAX_THREADS];
    pthread_t tids[REQSIGN_MAX_THREADS];
    int started[REQSIGN_MAX_THREADS] = {0};
    unsigned k = threads < 1 ? 1 : threads > REQSIGN_MAX_THREADS ? REQSIGN_MAX_THREADS : threads;

    if (k > n)
        k = n ? (unsigned) n : 1;
    for (unsigned i = 0; i < k; i++)
        slices[i] = (SIGN_SLICE) {r, bodies, lens, n, i, k, out};
    /* Slice 0 on this thread; a slice whose thread cannot start is signed here too. */
    for (unsigned i = 1; i < k; i++)
        started[i] = pthread_create(&tids[i], NULL, sign_slice, &slices[i]) == 0;
    sign_slice(&slices[0]);
    for (unsigned i = 1; i < k; i++) {
        if (started[i])
            pthread_join(tids[i], NULL);
        else
            sign_slice(&slices[i]);
    }
}

int
reqsign_headers_from(const REQSIGN *r, HTTPSEND_XFER *x, REQSIGN_SIG *sig)
{
    int ret = -1;

    if (r->key != NULL && sig->sha1 != NULL && sig->sha256 != NULL) {
        httpsend_header(x, "X-Postal-Signature", sig->sha1);
        httpsend_header(x, "X-Postal-Signature-256", sig->sha256);
        httpsend_header(x, "X-Postal-Signature-KID", signkey_kid(r->key));
        ret = 0;
    }
    reqsign_sig_clear(sig);
    return ret;
}

void
reqsign_sig_clear(REQSIGN_SIG *sig)
{
    mem_free(sig->sha1);
    mem_free(sig->sha256);
    sig->sha1 = sig->sha256 = NULL;
}

void
reqsign_free(REQSIGN *r)
{
    signkey_free(r->key);
    r->key = NULL;
}
