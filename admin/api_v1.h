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
#include "mgmt_v2.h"

/* What the handlers share; arg of every route below. The same as the management API's:
 * both run their calls through its toolkit (mgmt.h). */
typedef MGMT_V2 API_V1;

HTTP_HANDLER api_v1_send_message;
HTTP_HANDLER api_v1_send_raw;
HTTP_HANDLER api_v1_messages_message;
HTTP_HANDLER api_v1_messages_deliveries;

#endif
