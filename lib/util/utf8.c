/*
 * utf8.c -- utf8.h on GLib's validator (g_utf8_validate_len), which implements RFC 3629
 * exactly; this file only walks past what it refuses, one byte at a time.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "util/mem.h"
#include "util/utf8.h"

/* Bytes at the start of s[0..n) that are valid UTF-8 without NUL. */
static size_t
valid_prefix(const char *s, size_t n)
{
    const gchar *end;

    g_utf8_validate_len(s, n, &end);
    return (size_t) (end - s);
}

size_t
utf8_char_len(const char *s, size_t n)
{
    size_t want;

    if (n == 0)
        return 0;
    want = (size_t) g_utf8_skip[(unsigned char) s[0]];
    /* The first character alone: valid exactly when the validator gets past all of it. */
    return want <= n && want <= 4 && valid_prefix(s, want) == want ? want : 0;
}

int
utf8_valid(const char *s, size_t n)
{
    return valid_prefix(s, n) == n;
}

char *
utf8_clean(const char *s, size_t n, size_t *len_r)
{
    char *out = mem_alloc(n + 1);
    size_t i = 0;

    while (i < n) {
        size_t k = valid_prefix(s + i, n - i);

        memcpy(out + i, s + i, k);
        i += k;
        if (i < n)
            out[i++] = '?';
    }
    out[n] = '\0';
    if (len_r)
        *len_r = n;
    return out;
}

size_t
utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80)
        max--;
    return max;
}
