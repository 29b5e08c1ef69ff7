/*
 * buf.c -- growable byte buffers; see buf.h for the contract.
 * Invariant: data[len] == '\0' and len < size at all times.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

struct buf {
    char *data;
    size_t len;
    size_t size;
    size_t limit;
};

BUF *
buf_new(size_t initial)
{
    BUF *buf = mem_alloc(sizeof(*buf));

    buf->size = initial < 16 ? 16 : initial + 1;
    buf->data = mem_alloc(buf->size);
    buf->data[0] = '\0';
    buf->len = 0;
    buf->limit = 0;
    return buf;
}

void
buf_free(BUF *buf)
{
    if (buf == NULL)
        return;
    mem_free(buf->data);
    mem_free(buf);
}

void
buf_set_limit(BUF *buf, size_t limit)
{
    buf->limit = limit;
}

/* Makes room for extra more bytes plus the NUL; -1 when over the limit. */
static int
buf_reserve(BUF *buf, size_t extra)
{
    size_t need;

    if (extra > ((size_t) -1) / 2 - buf->len)
        msg_panic("buf_reserve: length overflow (%zu + %zu)", buf->len, extra);
    need = buf->len + extra + 1;
    if (buf->limit && buf->len + extra > buf->limit)
        return -1;
    if (need > buf->size) {
        size_t size = buf->size;

        while (size < need)
            size *= 2;
        buf->data = mem_realloc(buf->data, size);
        buf->size = size;
    }
    return 0;
}

int
buf_append(BUF *buf, const void *data, size_t len)
{
    if (buf_reserve(buf, len) < 0)
        return -1;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int
buf_append_str(BUF *buf, const char *s)
{
    return buf_append(buf, s, strlen(s));
}

int
buf_append_char(BUF *buf, char c)
{
    return buf_append(buf, &c, 1);
}

int
buf_vprintf(BUF *buf, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(buf->data + buf->len, buf->size - buf->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        msg_panic("buf_vprintf: bad format \"%s\"", fmt);
    if ((size_t) n >= buf->size - buf->len) {
        if (buf_reserve(buf, (size_t) n) < 0) {
            buf->data[buf->len] = '\0';
            return -1;
        }
        vsnprintf(buf->data + buf->len, buf->size - buf->len, fmt, ap);
    } else if (buf->limit && buf->len + (size_t) n > buf->limit) {
        buf->data[buf->len] = '\0';
        return -1;
    }
    buf->len += (size_t) n;
    return 0;
}

int
buf_printf(BUF *buf, const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return ret;
}

void
buf_reset(BUF *buf)
{
    buf->len = 0;
    buf->data[0] = '\0';
}

void
buf_truncate(BUF *buf, size_t len)
{
    if (len < buf->len) {
        buf->len = len;
        buf->data[len] = '\0';
    }
}

const char *
buf_cstr(const BUF *buf)
{
    return buf->data;
}

const unsigned char *
buf_data(const BUF *buf)
{
    return (const unsigned char *) buf->data;
}

size_t
buf_len(const BUF *buf)
{
    return buf->len;
}

char *
buf_steal(BUF *buf, size_t *len_r)
{
    char *data = buf->data;

    if (len_r)
        *len_r = buf->len;
    mem_free(buf);
    return data;
}

char *
buf_asprintf(const char *fmt, ...)
{
    BUF *b = buf_new(128);
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
    return buf_steal(b, NULL);
}
