/*
 * inject.h -- handing a message to Postfix over SMTP on loopback (libcurl's SMTP client),
 * for postgate's own services: the release service and the send API's injection service.
 * Both run the milter, so everything postgate sends takes one path.
 */
#ifndef PG_INJECT_H
#define PG_INJECT_H

#include <stddef.h>

/* Idle SMTP sessions kept (one per libcurl handle), each this long idle at most and this
 * long in all. */
#define INJECT_KEPT 16
#define INJECT_IDLE_SECONDS 30
#define INJECT_LIFETIME_SECONDS 60

/* Sends data (a CRLF RFC 5322 message) to spec ("inet:host:port") for the envelope.
 * Returns 1 accepted, 0 refused permanently (5xx; *code_r and *error_r say why),
 * -1 temporarily (4xx, connection failure; *error_r). The caller mem_frees *error_r.
 * The SMTP session is kept for a next message, from any thread (inject.c). */
int inject_message(const char *spec, const char *mail_from, const char *const *rcpts, size_t nrcpts,
                   const char *data, size_t len, long *code_r, char **error_r);

#endif
