/*
 * cte.h -- Content-Transfer-Encoding of a MIME body (RFC 2045 section 6): which encoding a
 * header value names, and a body decoded and encoded again in it, for modules that
 * change a part's text and put it back in the encoding it came in (track.c).
 *
 * Contract: pure functions over bytes; decoding is lenient as mail readers are (a
 * quoted-printable "=" that starts no escape is kept, lower-case hex is read, what is not
 * base64 in a base64 body is ignored) and never fails. Encoding writes the given line
 * end; quoted-printable lines are at most 76 characters, base64 lines exactly 76.
 *
 * Must never: fail or read past len on malformed input, or produce a quoted-printable
 * line longer than 76 characters.
 */
#ifndef PG_CTE_H
#define PG_CTE_H

#include <stddef.h>

#include "util/buf.h"

typedef enum {
    CTE_IDENTITY,                   /* absent, 7bit, 8bit, binary: the bytes are the content */
    CTE_QP,                         /* quoted-printable */
    CTE_BASE64,
    CTE_OTHER,                      /* anything else: not to be touched */
} CTE;

/* The encoding a Content-Transfer-Encoding value (NULL: absent) names. */
CTE cte_of(const char *value);

/* The content of a CTE_QP or CTE_BASE64 body, in a new BUF; NULL for the other kinds
 * (CTE_IDENTITY bodies are their content; CTE_OTHER ones cannot be read). */
BUF *cte_decode(CTE enc, const char *body, size_t len);

/* Appends data encoded in enc to out, eol ("\r\n" or "\n") ending its lines. CTE_QP: the
 * data's line ends become eol, soft breaks keep lines to 76 characters; CTE_BASE64: 76
 * characters a line, no eol after the last one; other kinds: the data as it is. */
void cte_encode(BUF *out, CTE enc, const char *data, size_t len, const char *eol);

#endif
