/*
 * mime_build.h -- RFC 5322 messages for the send API, and the parts of stored ones
 * for messages/message, through GMime 3 (initialized by address_init()).
 *
 * mime_build() writes a complete message with CRLF line ends: multipart/alternative
 * when there is a plain and an HTML body, multipart/mixed around it when there are
 * attachments, encoded-words for non-ASCII header text, quoted-printable or base64
 * where a body needs it, Date, Message-ID and MIME-Version. Bcc never appears.
 * mime_parse() finds a stored message's bodies (CRLF made LF), attachments and headers.
 *
 * Must never: let a parameter add a header line (CR and LF in values become spaces),
 * or write a line longer than RFC 5322 allows.
 */
#ifndef PG_ADMIN_MIME_BUILD_H
#define PG_ADMIN_MIME_BUILD_H

#include <stddef.h>

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

typedef struct mime_file {
    char *filename;                 /* "" when the part has none */
    char *content_type;             /* "type/subtype" */
    unsigned char *data;            /* decoded content */
    size_t len;
} MIME_FILE;

typedef struct mime_field {
    char *name;                     /* lower-cased */
    char *value;                    /* unfolded, encoded-words decoded to UTF-8 */
} MIME_FIELD;

typedef struct mime_parsed {
    char *plain_body;               /* first text/plain part that is not an attachment, UTF-8, or NULL */
    char *html_body;
    MIME_FILE *files;
    size_t nfiles;
    MIME_FIELD *fields;             /* the top-level header fields in order */
    size_t nfields;
} MIME_PARSED;

/* Parses a message (headers, blank line, body). Never fails: what cannot be parsed
 * is left out. headers_only skips the body. Free with mime_parsed_free. */
MIME_PARSED *mime_parse(const void *raw, size_t len, int headers_only);
void mime_parsed_free(MIME_PARSED *p);
/* The first value of header name (case-insensitive) or NULL. */
const char *mime_parsed_header(const MIME_PARSED *p, const char *name);
/* Decodes RFC 2047 encoded-words in a header value (mem_free the result). */
char *mime_decode_header(const char *value);

#endif
