/*
 * dkimkey.h -- private to the DKIM module (dkimkey.c, dkim.c): what a DKIM_KEY holds, so
 * that the signer can take its own reference to the OpenSSL key. Callers use dkim.h,
 * where DKIM_KEY is opaque.
 *
 * Must never: be included outside lib/mail/dkim*.c.
 */
#ifndef PG_DKIMKEY_H
#define PG_DKIMKEY_H

#include <openssl/evp.h>

#include "mail/dkim.h"

struct dkim_key {
    EVP_PKEY *pkey;
    DKIM_ALG alg;
};

#endif
