/*
 * buf.h -- growable, length-carrying byte buffers (after Postfix's VSTRING).
 *
 * Everything built from input is built in a BUF: the buffer grows as needed, always
 * keeps a terminating NUL after the data (so buf_cstr() is safe for text), and may
 * hold NUL bytes in the data. An optional hard limit makes appends past it fail
 * instead of growing without bound.
 */
#ifndef PG_BUF_H
#define PG_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf BUF;

BUF *buf_new(size_t initial);
void buf_free(BUF *buf);
/* 0 means no limit; appends that would pass the limit return -1 and change nothing. */
void buf_set_limit(BUF *buf, size_t limit);

int buf_append(BUF *buf, const void *data, size_t len);
int buf_append_str(BUF *buf, const char *s);
int buf_append_char(BUF *buf, char c);
int buf_printf(BUF *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(BUF *buf, const char *fmt, va_list ap);

void buf_reset(BUF *buf);
/* Shortens to len bytes (no-op when len >= length). */
void buf_truncate(BUF *buf, size_t len);

const char *buf_cstr(const BUF *buf);
const unsigned char *buf_data(const BUF *buf);
size_t buf_len(const BUF *buf);
/* A new NUL-terminated string formatted like printf (free with mem_free). */
char *buf_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Hands the storage to the caller (free with mem_free) and frees the BUF. */
char *buf_steal(BUF *buf, size_t *len_r);

#endif
