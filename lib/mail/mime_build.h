/*
 * mime_build.h -- RFC 5322 messages for the send API and `postgatectl send-test` through
 * GMime 3 (initialized by address_init()). Taking stored messages apart is lib/mail/mime.h's.
 *
 * mime_build() writes a complete message with CRLF line ends: multipart/alternative
 * when there is a plain and an HTML body, multipart/mixed around it when there are
 * attachments, encoded-words for non-ASCII header text, quoted-printable or base64
 * where a body needs it, Date, Message-ID and MIME-Version. Bcc never appears.
 *
 * Must never: let a parameter add a header line (CR and LF in values become spaces),
 * or write a line longer than RFC 5322 allows.
 */
#ifndef PG_MIME_BUILD_H
#define PG_MIME_BUILD_H

#include <stddef.h>

#include "mail/mime.h"

typedef struct mime_header {
    const char *name;
    const char *value;
} MIME_HEADER;

typedef struct mime_attachment {
    const char *name;
    const char *content_type;       /* NULL: application/octet-stream */
    const void *data;
    size_t len;
} MIME_ATTACHMENT;

typedef struct mime_spec {
    const char *from;               /* "Name <a@b>" or "a@b"; required */
    const char *sender;             /* optional, likewise reply_to */
    const char *reply_to;
    const char *const *to;          /* each an address list ("Name <a@b>") */
    size_t nto;
    const char *const *cc;
    size_t ncc;
    const char *subject;            /* UTF-8, optional */
    const char *plain_body;         /* UTF-8; at least one of the two bodies */
    const char *html_body;
    const char *tag;                /* becomes X-Postal-Tag (the milter records and removes it) */
    const char *message_id;         /* without angle brackets */
    const char *received;           /* value of a Received header to put first, or NULL */
    const MIME_HEADER *headers;     /* custom headers; names of the ones built here are ignored */
    size_t nheaders;
    const MIME_ATTACHMENT *attachments;
    size_t nattachments;
} MIME_SPEC;

/* The message (mem_free it, *len_r its length), or NULL with *error_r (mem_free it)
 * when an address or a header name cannot be used. */
char *mime_build(const MIME_SPEC *spec, size_t *len_r, char **error_r);

/* 1 when name may be a header field name (RFC 5322 ftext, at most 76 characters). */
int mime_header_name_ok(const char *name);

#endif
