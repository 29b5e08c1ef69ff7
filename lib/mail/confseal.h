/*
 * confseal.h -- configuration values kept sealed at rest: a secret that postgate.conf
 * holds (oidc.secret) is written as "sealed:" + base64 of util/seal's AES-256-GCM form
 * under the installation key, bound to the key's name (context "config:<section>.<key>"),
 * so the file and its backups never hold it in clear and a sealed value cannot be moved
 * to another key. `postgatectl seal KEY` makes one; the daemon that needs it opens it.
 *
 * Must never: log a value, sealed or open.
 */
#ifndef PG_CONFSEAL_H
#define PG_CONFSEAL_H

#include "util/seal.h"

#define CONFSEAL_PREFIX "sealed:"

/* 1 when name ("section.key") is a key that takes a sealed value. */
int confseal_key_ok(const char *name);
/* The sealed form of plain for key name (mem_free it), or NULL when sealing failed. */
char *confseal_seal(const SEAL_KEY *key, const char *name, const char *plain);
/* Opens value of key name: 0 with *plain_r (mem_free it; "" for an empty value), or -1
 * with *error_r (mem_free it) saying why (not sealed, damaged, another key or name). */
int confseal_open(const SEAL_KEY *key, const char *name, const char *value, char **plain_r, char **error_r);

#endif
