/*
 * base64.h -- base64 (RFC 4648) for every module: the standard and the URL-safe alphabet,
 * with or without padding, MIME's line-wrapped output, and decoding that is strict unless
 * the caller names the leniency it needs.
 *
 * Contract: encoders never fail (memory failure exits in mem.c); decoders append to a
 * BUF and say -1 for input that is not base64 under the flags given, never guessing.
 * Must never: accept data after padding, or a lone trailing character, in any mode but
 * BASE64_MIME (which by RFC 2045 ignores what is not base64 and cannot fail).
 */
#ifndef PG_BASE64_H
#define PG_BASE64_H

#include <stddef.h>

#include "util/buf.h"

/* Flags (or them together). */
#define BASE64_URL      0x01    /* RFC 4648 section 5 alphabet ('-', '_') instead of '+', '/' */
#define BASE64_NOPAD    0x02    /* encode: no trailing '=' (decoding takes padding as optional always) */
#define BASE64_ANY      0x04    /* decode: either alphabet, even mixed */
#define BASE64_SPACE    0x08    /* decode: skip white space anywhere (folded or wrapped input) */
#define BASE64_LAX      0x10    /* decode: 0-2 '=' at the end whatever the length, and non-zero
                                 * unused bits in the last character accepted */
#define BASE64_MIME     0x20    /* decode: RFC 2045 bodies: characters outside the alphabet are
                                 * ignored, the first '=' ends the data; never fails */

/* Length of the encoding of len bytes with padding, without the NUL. */
#define BASE64_ENCODED_LEN(len) (((len) + 2) / 3 * 4)

/* The encoding of data (BASE64_URL / BASE64_NOPAD honoured), NUL-terminated; mem_free it. */
char *base64_encode(const void *data, size_t len, int flags);
/* Appends the encoding of data to out. Returns 0, or -1 when out's limit is reached. */
int base64_encode_buf(BUF *out, const void *data, size_t len, int flags);
/* Appends the padded standard encoding in lines of width characters (a multiple of 4;
 * MIME uses 76) separated by eol; no eol after the last line. 0, or -1 at out's limit. */
int base64_encode_lines(BUF *out, const void *data, size_t len, size_t width, const char *eol);

/* Decodes len characters of in (BASE64_URL, _ANY, _SPACE, _LAX, _MIME honoured) and
 * appends the bytes to out. Without _LAX the input must be canonical: padding, when
 * present, completes the last group, and unused bits are zero. Returns 0, or -1 when
 * in is not base64 or out's limit is reached (out may then hold part of the result). */
int base64_decode(BUF *out, const char *in, size_t len, int flags);
/* Decodes the NUL-terminated in to a new NUL-terminated buffer (mem_free it) of
 * *len_r bytes, or returns NULL when in is not base64 under flags. */
unsigned char *base64_decode_str(const char *in, int flags, size_t *len_r);

#endif
