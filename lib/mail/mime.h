/*
 * mime.h -- the parts of a stored message (the send API's messages/message and the
 * management API's messages), through GMime 3 (initialized by address_init()):
 * its bodies (CRLF made LF), attachments and top-level header fields, decoded to UTF-8.
 *
 * Must never: fail on a malformed message (what cannot be parsed is left out), or
 * recurse without bound (multipart nesting is cut at a fixed depth).
 */
#ifndef PG_MIME_H
#define PG_MIME_H

#include <stddef.h>

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
