/*
 * api_v1.h -- Postal's HTTP API v1 (doc/api.md): send/message, send/raw,
 * messages/message and messages/deliveries, authenticated by X-Server-API-Key.
 *
 * Contract (Postal's): every answer the API itself gives is HTTP 200 with
 * {"status": "success"|"error"|"parameter-error", "time", "flags": {}, "data"}.
 * postgate adds one case clients must retry: when MariaDB or Postfix cannot be reached
 * the answer is HTTP 503 {"status":"error","data":{"code":"TemporaryFailure",...}}.
 * Mail is handed to Postfix through submit_message() (lib/mail/submit.h), so the
 * API and SMTP take the same milter path; the ids and tokens answered are the rows'.
 */
#ifndef PG_ADMIN_API_V1_H
#define PG_ADMIN_API_V1_H

#include "http.h"
#include "mail/dbpool.h"
#include "util/seal.h"

/* What the handlers share; arg of every route below. */
typedef struct api_v1 {
    DBPOOL *pool;
    const SEAL_KEY *seal;
} API_V1;

HTTP_HANDLER api_v1_send_message;
HTTP_HANDLER api_v1_send_raw;
HTTP_HANDLER api_v1_messages_message;
HTTP_HANDLER api_v1_messages_deliveries;

#endif
