/*
 * reqsign.c -- request signatures of the worker's HTTP senders (reqsign.h).
 */
#include "config.h"

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
    char *sha1, *sha256;

    if (r->key == NULL || signkey_sign(r->key, body, len, &sha1, &sha256) < 0)
        return -1;
    httpsend_header(x, "X-Postal-Signature", sha1);
    httpsend_header(x, "X-Postal-Signature-256", sha256);
    httpsend_header(x, "X-Postal-Signature-KID", signkey_kid(r->key));
    mem_free(sha1);
    mem_free(sha256);
    return 0;
}

void
reqsign_free(REQSIGN *r)
{
    signkey_free(r->key);
    r->key = NULL;
}
