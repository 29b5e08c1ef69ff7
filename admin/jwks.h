/*
 * jwks.h -- GET /.well-known/jwks.json: the public halves of the installation's signing keys
 * (signkey.h), so webhook consumers can verify X-Postal-Signature(-256) by the request's
 * X-Postal-Signature-KID. No authentication: public keys only.
 */
#ifndef PG_ADMIN_JWKS_H
#define PG_ADMIN_JWKS_H

#include "http.h"

/* arg: a DBPOOL ** (the pool is made after the routes table). */
void jwks_get(HTTP_REQUEST *req, void *arg);

#endif
