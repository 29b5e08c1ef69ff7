/*
 * dkimfold.c -- folding header fields whose lines would pass 998 octets (RFC 5322 2.1.1)
 * before they are signed (dkim_header_fold(), see dkim.h): at white space where there is
 * some, a long word of a Subject as RFC 2047 encoded words, anything else broken as
 * Postfix would break it.
 *
 * Contract: NULL when the field fits as it is; otherwise a new value with "\n" line
 * breaks, as a milter passes header values.
 *
 * Must never: change what a reader sees in the field (encoded words read the same, existing
 * folds are kept), or cut a UTF-8 character in two.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "mail/dkim.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"

#define DKIM_LINE_LIMIT 998     /* RFC 5322 2.1.1, without the CRLF */
#define DKIM_EW_BYTES 45        /* text per encoded word: 60 base64 characters, 72 in all */

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int
valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s, *end = p + len;

    while (p < end) {
        unsigned c = *p++, n = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2
            : c >= 0xF0 && c <= 0xF4 ? 3 : 4;
        unsigned cp = n == 1 ? c & 0x1F : n == 2 ? c & 0x0F : c & 0x07;

        if (n == 4 || (size_t) (end - p) < n)
            return 0;
        for (unsigned i = 0; i < n; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (*p & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
    }
    return 1;
}

static int
looks_encoded(const char *word, size_t len)
{
    return len >= 4 && word[0] == '=' && word[1] == '?' && word[len - 2] == '?' && word[len - 1] == '=';
}

/* Appends word as RFC 2047 encoded words (UTF-8, base64), split at character
 * boundaries and joined by folding white space, which a reader ignores between
 * encoded words: the Subject reads the same, in lines that fit. */
static void
fold_encoded(BUF *out, size_t *col, const char *word, size_t len)
{
    while (len > 0) {
        size_t n = len < DKIM_EW_BYTES ? len : DKIM_EW_BYTES;
        char *b64;

        while (n < len && n > 1 && ((unsigned char) word[n] & 0xC0) == 0x80)
            n--;                /* never cut a character */
        b64 = base64_encode(word, n, 0);
        if (*col + 12 + strlen(b64) > DKIM_LINE_LIMIT) {
            buf_append_str(out, "\n ");
            *col = 1;
        }
        buf_printf(out, "=?UTF-8?B?%s?=", b64);
        *col += 12 + strlen(b64);
        mem_free(b64);
        word += n;
        len -= n;
        if (len > 0) {
            buf_append_str(out, "\n ");
            *col = 1;
        }
    }
}

/* Appends word in pieces that fill each line, joined by "\n " (what Postfix would do
 * after signing: done before, the signature covers it). */
static void
fold_hard(BUF *out, size_t *col, const char *word, size_t len)
{
    while (len > 0) {
        size_t room = *col < DKIM_LINE_LIMIT ? DKIM_LINE_LIMIT - *col : 0, n = len < room ? len : room;

        if (n == 0) {
            buf_append_str(out, "\n ");
            *col = 1;
            continue;
        }
        buf_append(out, word, n);
        *col += n;
        word += n;
        len -= n;
    }
}

char *
dkim_header_fold(const char *name, const char *value)
{
    size_t col = strlen(name) + 1, start_col = col;
    int too_long = 0, unstructured = strcasecmp(name, "Subject") == 0;
    const char *p = value;
    BUF *out;

    for (const char *q = value; *q && !too_long; q++) {
        col = *q == '\n' ? 0 : col + (*q != '\r');
        too_long = col > DKIM_LINE_LIMIT;
    }
    if (!too_long)
        return NULL;
    out = buf_new(strlen(value) + strlen(value) / 32 + 64);
    col = start_col;
    while (*p) {
        const char *wsp = p, *word;
        size_t wlen, len;

        if (*p == '\r' || *p == '\n') {       /* an existing fold: kept */
            if (*p == '\r')
                p++;
            if (*p == '\n')
                p++;
            buf_append_char(out, '\n');
            col = 0;
            continue;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        wlen = (size_t) (p - wsp);
        word = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
        len = (size_t) (p - word);
        if (wlen > DKIM_LINE_LIMIT / 2)
            wlen = 1;           /* an absurd run of white space: one reads the same */
        if (col + wlen + len > DKIM_LINE_LIMIT && wlen > 0 && wlen + len <= DKIM_LINE_LIMIT && col > 0) {
            buf_append_char(out, '\n');     /* fold before the white space */
            col = 0;
        }
        buf_append(out, wsp, wlen);
        col += wlen;
        if (col + len <= DKIM_LINE_LIMIT) {
            buf_append(out, word, len);
            col += len;
        } else if (unstructured && !looks_encoded(word, len) && valid_utf8(word, len))
            fold_encoded(out, &col, word, len);
        else
            fold_hard(out, &col, word, len);
    }
    return buf_steal(out, NULL);
}
