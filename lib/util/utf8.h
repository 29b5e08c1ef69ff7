/*
 * utf8.h -- UTF-8 checks and cleaning for text that leaves postgate in JSON or lands in a
 * utf8mb4 column (webhook and endpoint request logs, incoming-mail payloads, import
 * reports). Valid means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF, no truncated sequence; NUL bytes count as invalid here, since
 * neither a C string nor a database column keeps them.
 *
 * Contract: the cleaner never fails and never grows its input (one '?' per bad byte).
 * Must never: cut a valid character in two or let an invalid byte through.
 */
#ifndef PG_UTF8_H
#define PG_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid character at s, n bytes available; 0 when the bytes there
 * are not one (or are NUL, or n is 0). */
size_t utf8_char_len(const char *s, size_t n);
/* 1 when s[0..n) is valid UTF-8 without NUL bytes, else 0. */
int utf8_valid(const char *s, size_t n);
/* A NUL-terminated copy of s[0..n) (mem_free it) in which every byte that does not
 * belong to a valid character, and every NUL, is '?'; *len_r (may be NULL) gets its
 * length, which is n. */
char *utf8_clean(const char *s, size_t n, size_t *len_r);
/* The length, at most max, at which the valid UTF-8 s[0..n) can be cut without cutting
 * a character in two (a column's or a field's byte limit). */
size_t utf8_cut(const char *s, size_t n, size_t max);

#endif
