/*
 * cte.c -- transfer encodings of MIME bodies (cte.h).
 *
 * Base64 is util/base64's (BASE64_MIME reading). Quoted-printable is written out here
 * rather than taken from GMime because GMime's codec does not give the same bytes: its
 * encoder soft-breaks lines of exactly 76 characters and encodes white space before a
 * bare CR, and its decoder leaves lower-case escapes ("=3d") and an escape after a stray
 * "=" undecoded. A rewritten part must keep every line it does not rewrite as it was
 * written, so the codec is the one the golden files were made with.
 *
 * Must never: allocate in proportion to anything but the input, or fail.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mail/cte.h"
#include "util/base64.h"

#define QP_LINE 76
#define B64_LINE 76

CTE
cte_of(const char *value)
{
    char word[32];
    size_t n;

    if (value == NULL)
        return CTE_IDENTITY;
    value += strspn(value, " \t\r\n");
    n = strcspn(value, " \t\r\n;(");
    if (n == 0)
        return CTE_IDENTITY;
    if (n >= sizeof(word))
        return CTE_OTHER;
    memcpy(word, value, n);
    word[n] = '\0';
    if (strcasecmp(word, "quoted-printable") == 0)
        return CTE_QP;
    if (strcasecmp(word, "base64") == 0)
        return CTE_BASE64;
    if (strcasecmp(word, "7bit") == 0 || strcasecmp(word, "8bit") == 0 || strcasecmp(word, "binary") == 0)
        return CTE_IDENTITY;
    return CTE_OTHER;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static BUF *
qp_decode(const char *p, size_t len)
{
    BUF *out = buf_new(len + 1);

    for (size_t i = 0; i < len; i++) {
        if (p[i] != '=') {
            buf_append_char(out, p[i]);
            continue;
        }
        if (i + 2 < len && hexval((unsigned char) p[i + 1]) >= 0 && hexval((unsigned char) p[i + 2]) >= 0) {
            buf_append_char(out, (char) (hexval((unsigned char) p[i + 1]) * 16 + hexval((unsigned char) p[i + 2])));
            i += 2;
            continue;
        }
        {
            /* A soft line break: "=", optional transport white space, line end. */
            size_t j = i + 1;

            while (j < len && (p[j] == ' ' || p[j] == '\t'))
                j++;
            if (j < len && p[j] == '\r' && j + 1 < len && p[j + 1] == '\n') {
                i = j + 1;
                continue;
            }
            if (j < len && p[j] == '\n') {
                i = j;
                continue;
            }
            if (j == len) {
                i = j;
                continue;
            }
        }
        buf_append_char(out, '=');      /* not an escape: kept as it was */
    }
    return out;
}

static void
qp_encode(BUF *out, const char *p, size_t len, const char *eol)
{
    size_t col = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) p[i];
        char enc[4];
        size_t n;

        if (c == '\n' || (c == '\r' && i + 1 < len && p[i + 1] == '\n')) {
            if (c == '\r')
                i++;
            buf_append_str(out, eol);
            col = 0;
            continue;
        }
        {
            int at_line_end = i + 1 == len || p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n');

            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end)) {
                enc[0] = (char) c;
                n = 1;
            } else {
                static const char hex[] = "0123456789ABCDEF";

                enc[0] = '=';
                enc[1] = hex[c >> 4];
                enc[2] = hex[c & 15];
                n = 3;
            }
            /* Keep room for the soft break "=" unless this is the line's last character. */
            if (col + n > (at_line_end ? QP_LINE : QP_LINE - 1)) {
                buf_append_char(out, '=');
                buf_append_str(out, eol);
                col = 0;
            }
            buf_append(out, enc, n);
            col += n;
        }
    }
}

BUF *
cte_decode(CTE enc, const char *body, size_t len)
{
    BUF *out;

    if (enc == CTE_QP)
        return qp_decode(body, len);
    if (enc != CTE_BASE64)
        return NULL;
    /* RFC 2045 reading: what is not base64 is ignored, so this cannot fail. */
    out = buf_new(len * 3 / 4 + 4);
    base64_decode(out, body, len, BASE64_MIME);
    return out;
}

void
cte_encode(BUF *out, CTE enc, const char *data, size_t len, const char *eol)
{
    if (enc == CTE_QP)
        qp_encode(out, data, len, eol);
    else if (enc == CTE_BASE64)
        base64_encode_lines(out, data, len, B64_LINE, eol);
    else
        buf_append(out, data, len);
}
