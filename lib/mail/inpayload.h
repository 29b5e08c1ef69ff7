/*
 * inpayload.h -- the body an HTTP endpoint receives for an incoming message, as Postal
 * sends it (REFERENCE.md "Incoming HTTP endpoint payloads"): format Hash (the message's
 * fields, bodies, optionally its attachments and the plain body split from the quoted
 * replies) or RawMessage (the whole message in base64); encoded as JSON (BodyAsJSON) or
 * as an application/x-www-form-urlencoded form (FormData, nested fields the way Rails
 * encodes them: `attachments[][filename]=...`).
 *
 * Must never: fail on a malformed message (mime.h leaves out what cannot be parsed), or
 * send a body that is not valid UTF-8 JSON (invalid bytes are replaced).
 */
#ifndef PG_INPAYLOAD_H
#define PG_INPAYLOAD_H

#include <stddef.h>

#include <jansson.h>

typedef struct inpayload_message {
    unsigned long long id;
    const char *token, *rcpt_to, *mail_from, *subject, *message_id;
    const char *timestamp;              /* UNIX time as text, "1700000000.123456" */
    unsigned long long size;
    const char *spam_status;            /* "NotChecked", "NotSpam", "Spam" */
    int bounce;
    int received_with_ssl;              /* -1: unknown (null) */
    const void *raw;                    /* the stored message: headers, blank line, body */
    size_t raw_len;
} INPAYLOAD_MESSAGE;

typedef struct inpayload_options {
    int raw_format;                     /* RawMessage, else Hash */
    int form;                           /* FormData, else BodyAsJSON */
    int strip_replies;
    int include_attachments;
} INPAYLOAD_OPTIONS;

/* The payload as a JSON object (json_decref it). */
json_t *inpayload_object(const INPAYLOAD_MESSAGE *m, const INPAYLOAD_OPTIONS *o);

/* The request body (mem_free it) and its Content-Type (static text). */
char *inpayload_build(const INPAYLOAD_MESSAGE *m, const INPAYLOAD_OPTIONS *o, size_t *len_r,
                      const char **content_type_r);

/* Encodes a JSON object as a form, Rails style. mem_free the result. */
char *inpayload_form_encode(const json_t *obj, size_t *len_r);

/* Splits a plain text body into the new text and the quoted replies below it (a line
 * "On ... wrote:", "-----Original Message-----", "From:" followed by "Sent:"/"Date:",
 * an underscore rule, "Sent from my ...", a signature delimiter "-- ", or the first line
 * quoted with '>'), both trimmed. *replies_r is NULL when there are none. mem_free both. */
void inpayload_strip_replies(const char *plain, char **body_r, char **replies_r);

#endif
