/*
 * submit.h -- the send API's way into Postfix: a message is submitted over SMTP to the
 * loopback injection service (postfix.injection_address), so it takes the milter path
 * every SMTP message takes. The message row tokens are made here and travel in an
 * X-Postgate-Submission header that names the API credential and carries an HMAC under
 * the installation key; the milter accepts submissions on that service only with a
 * valid header, uses those tokens, and removes the header. After Postfix accepts, the
 * row ids are read back, so the API answers with the ids and tokens the rows really have.
 */
#ifndef PG_SUBMIT_H
#define PG_SUBMIT_H

#include <stddef.h>

#include "mail/conf.h"
#include "mail/credential.h"
#include "mail/db.h"
#include "util/seal.h"

#define SUBMIT_HEADER "X-Postgate-Submission"
#define SUBMIT_MAC_CONTEXT "submission"

typedef struct submit_rcpt {
    const char *address;
    char token[17];
    unsigned long long id;
} SUBMIT_RCPT;

/* Submits raw (CRLF RFC 5322 message) for credential cred. Returns 1 ok, 0 refused
 * permanently with *smtp_code_r (e.g. 530 when the From is not owned) and *error_r,
 * < 0 temporary (*error_r). *error_r is the caller's to mem_free. */
int submit_message(DB *db, const PGCONF *cfg, const SEAL_KEY *seal, const CREDENTIAL *cred, const char *mail_from,
                   SUBMIT_RCPT *rcpts, size_t nrcpts, const char *raw, size_t len, int *smtp_code_r,
                   char **error_r);

/* The milter's side: checks a header value; on success fills *credential_id_r and the
 * tokens (each 16 characters, NUL-terminated in tokens_r[i], at most max). Returns the
 * number of tokens, or -1 when the header is malformed or its MAC is wrong. */
int submit_header_verify(const SEAL_KEY *seal, const char *value, unsigned long long *credential_id_r,
                         char (*tokens_r)[17], size_t max);

#endif
