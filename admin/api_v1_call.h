/*
 * api_v1_call.h -- what the two halves of Postal's API v1 share (private to admin/api_v1*.c):
 * the call (authenticated credential plus the management toolkit's call), its beginning,
 * and Postal's answer envelope. api_v1_call.c defines them; api_v1.c holds the send
 * handlers and api_v1_messages.c the messages handlers.
 *
 * Contract: every handler starts with v1_call_begin() and ends with mgmt_call_end(); every
 * answer goes through one v1_reply_*() exactly once per call.
 * Must never: be included outside admin/api_v1*.c (and the fuzz harness that includes them).
 */
#ifndef PG_ADMIN_API_V1_CALL_H
#define PG_ADMIN_API_V1_CALL_H

#include <jansson.h>

#include "http.h"
#include "mail/credential.h"
#include "mgmt.h"

/* One API call: the management toolkit's call (the request, the database handle, and the
 * parameters as its body) and the credential it authenticated as. */
typedef struct v1_call {
    MGMT_CALL call;
    CREDENTIAL cred;
} V1_CALL;

/* Authenticates and reads the parameters into c->call.body; 0 to go on, -1 when already
 * answered (mgmt_call_end() in both cases). */
int v1_call_begin(V1_CALL *c, HTTP_REQUEST *req, void *arg);

/* Ruby's blank?: NULL, empty or only white space. */
int v1_blank(const char *s);

void v1_reply_success(HTTP_REQUEST *req, json_t *data);
/* An "error" with code and message; extra (may be NULL) adds fields to data. */
void v1_reply_error(HTTP_REQUEST *req, const char *code, const char *message, json_t *extra);
__attribute__((format(printf, 2, 3)))
void v1_reply_param_error(HTTP_REQUEST *req, const char *fmt, ...);
/* MariaDB or Postfix unreachable: HTTP 503 so that clients retry (not a Postal code). */
void v1_reply_temporary(V1_CALL *c, const char *what, const char *detail);

#endif
