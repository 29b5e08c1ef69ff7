/*
 * mimewalk.h -- a walk over the raw bytes of a MIME message that hands each leaf text
 * part to a callback and copies everything else byte for byte: for modules that change
 * the text of some parts and must leave the rest of the message exactly as it was
 * (track.c's link rewriting). GMime only parses Content-Type values here; the structure
 * (header blocks, boundaries, preambles, epilogues) is read from the bytes themselves.
 *
 * Contract: the walk descends multiparts (nested up to MIMEWALK_MAX_DEPTH, only those
 * whose own transfer encoding is the identity) and calls fn for every other part whose
 * media type is text (any subtype) and whose Content-Disposition is not attachment;
 * message/rfc822 parts are not entered. Output = input, except for what fn writes in
 * place of a part's body. GMime must be initialized (address_init()).
 *
 * Must never: change a byte fn did not replace, recurse without bound, or fail on
 * malformed MIME (a multipart without its delimiters is copied as it is).
 */
#ifndef PG_MIMEWALK_H
#define PG_MIMEWALK_H

#include <stddef.h>

#include "util/buf.h"

#define MIMEWALK_MAX_DEPTH 32           /* nested multiparts followed */

typedef struct mimewalk_part {
    const char *transfer_encoding;      /* the Content-Transfer-Encoding value, or NULL */
    const char *disposition;            /* the Content-Disposition value, or NULL */
    const char *body;                   /* the part's raw body (still transfer-encoded) */
    size_t len;
    int depth;                          /* 0: the message's own body */
    const void *ct;                     /* private: the parsed Content-Type */
} MIMEWALK_PART;

/*
 * Called for a leaf text part. Returns 1 after appending the part's new body to out,
 * 0 to have the walk copy the body unchanged (out untouched), -1 to stop: this body and
 * the rest of the message are then copied without further calls.
 */
typedef int MIMEWALK_FN(void *arg, const MIMEWALK_PART *part, BUF *out);

/* Walks an entity body whose Content-Type and Content-Transfer-Encoding values are given
 * (NULL: absent, meaning text/plain and 7bit), appending the result to out. Returns 0,
 * or -1 when fn stopped the walk. */
int mimewalk_body(const char *content_type, const char *transfer_encoding, const void *body, size_t len,
                  MIMEWALK_FN *fn, void *arg, BUF *out);

/* 1 when the part's media type is type/subtype (case-insensitive; "*" matches any). */
int mimewalk_part_is(const MIMEWALK_PART *part, const char *type, const char *subtype);
/* A Content-Type parameter of the part (e.g. "charset"), or NULL; valid during the call. */
const char *mimewalk_part_param(const MIMEWALK_PART *part, const char *name);
/* 1 when the part's charset is one in which ASCII bytes mean ASCII (no charset: yes), so
 * that ASCII text can be spliced into its bytes. */
int mimewalk_part_ascii_compatible(const MIMEWALK_PART *part);

/* Where a header block ends: *hlen_r is the offset of the empty line, *body_at_r that of
 * the body after it. 0 when there is no empty line (headers only). */
int mimewalk_split_headers(const char *p, size_t len, size_t *hlen_r, size_t *body_at_r);
/* A header field's unfolded value (CRs dropped) from a header block of hlen bytes, or
 * NULL; mem_free it. */
char *mimewalk_header(const char *h, size_t hlen, const char *name);

#endif
