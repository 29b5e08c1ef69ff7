/*
 * track.c -- link rewriting and the open pixel (track.h).
 *
 * The MIME walk is done here over the raw bytes, so everything this module does not
 * rewrite (headers, boundaries, preambles, other parts) is copied untouched; GMime
 * parses Content-Type values and gumbo locates href attributes. A rewrite is a list of
 * splices (offset, length, replacement) applied to the decoded part.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <gumbo.h>

#include "mail/track.h"
#include "util/base64.h"
#include "util/mem.h"
#include "util/token.h"

#define MAX_DEPTH 32                    /* nested multiparts followed */
#define QP_LINE 76
#define B64_LINE 76

typedef struct splice {
    size_t off, len;                    /* bytes of the decoded part replaced */
    char *with;
} SPLICE;

typedef struct rewriter {
    const TRACK_SETTINGS *s;
    TRACK_LINK *links;
    size_t nlinks, cap;
    int failed;                         /* the token source failed */
    int changed;
} REWRITER;

typedef enum { ENC_IDENTITY, ENC_QP, ENC_BASE64, ENC_OTHER } ENCODING;

static void entity(REWRITER *rw, BUF *out, const char *ct, const char *cte, const char *disposition,
                   const char *body, size_t len, int depth);

int
track_skip_header(const char *x_amp)
{
    if (x_amp == NULL)
        return 0;
    while (*x_amp == ' ' || *x_amp == '\t')
        x_amp++;
    return strncasecmp(x_amp, "skip", 4) == 0
        && (x_amp[4] == '\0' || isspace((unsigned char) x_amp[4]) || x_amp[4] == ';');
}

void
track_result_free(TRACK_RESULT *r)
{
    buf_free(r->body);
    for (size_t i = 0; i < r->nlinks; i++)
        mem_free(r->links[i].url);
    mem_free(r->links);
    memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------------------------- */
/* URLs */

static int
prefix_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && strncasecmp(s, prefix, n) == 0;
}

/* What a browser follows: no surrounding white space or controls, no tabs or line breaks. */
static char *
clean_url(const char *value)
{
    size_t len = strlen(value);
    BUF *b;

    while (len && ((unsigned char) *value <= ' ')) {
        value++;
        len--;
    }
    while (len && ((unsigned char) value[len - 1] <= ' '))
        len--;
    b = buf_new(len + 1);
    for (size_t i = 0; i < len; i++)
        if (value[i] != '\t' && value[i] != '\r' && value[i] != '\n')
            buf_append_char(b, value[i]);
    return buf_steal(b, NULL);
}

/* The lowercased host of an absolute http(s) URL into out; 0 when there is none. */
static int
url_host(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://"), *end, *at;
    size_t n;

    if (p == NULL)
        return 0;
    p += 3;
    end = p + strcspn(p, "/?#\\");
    for (at = p; at < end; at++)
        if (*at == '@')
            p = at + 1;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t) (end - p));

        end = close ? close + 1 : end;
    } else {
        const char *colon = memchr(p, ':', (size_t) (end - p));

        if (colon)
            end = colon;
    }
    n = (size_t) (end - p);
    while (n && p[n - 1] == '.')
        n--;
    if (n == 0 || n >= size)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char) tolower((unsigned char) p[i]);
    out[n] = '\0';
    return 1;
}

/* 1 when host is one of the excluded domains or below one. */
static int
excluded(const char *list, const char *url)
{
    char host[256];
    size_t hlen;

    if (list == NULL || !url_host(url, host, sizeof(host)))
        return 0;
    hlen = strlen(host);
    for (const char *p = list; *p;) {
        size_t n;

        p += strspn(p, " \t\r\n,;");
        n = strcspn(p, " \t\r\n,;");
        if (n == 0)
            break;
        {
            const char *d = p;
            size_t dn = n;

            while (dn && (*d == '*' || *d == '.')) {
                d++;
                dn--;
            }
            while (dn && d[dn - 1] == '.')
                dn--;
            if (dn && hlen >= dn && strncasecmp(host + hlen - dn, d, dn) == 0
                && (hlen == dn || host[hlen - dn - 1] == '.'))
                return 1;
        }
        p += n;
    }
    return 0;
}

static int
default_token(void *arg, char out[TRACK_TOKEN_LEN + 1])
{
    return token_generate(out, TRACK_TOKEN_LEN, TOKEN_ALNUM);
}

/* The tracking URL for url (one link per distinct url); NULL when the token source fails. */
static char *
tracked_url(REWRITER *rw, const char *url)
{
    TRACK_LINK *l = NULL;

    for (size_t i = 0; i < rw->nlinks && !l; i++)
        if (strcmp(rw->links[i].url, url) == 0)
            l = &rw->links[i];
    if (l == NULL) {
        TRACK_TOKEN_FN *fn = rw->s->token_fn ? rw->s->token_fn : default_token;

        if (rw->nlinks == rw->cap) {
            rw->cap = rw->cap ? rw->cap * 2 : 8;
            rw->links = mem_realloc(rw->links, rw->cap * sizeof(*rw->links));
        }
        l = &rw->links[rw->nlinks];
        memset(l, 0, sizeof(*l));
        if (fn(rw->s->token_arg, l->token) < 0 || strlen(l->token) != TRACK_TOKEN_LEN) {
            rw->failed = 1;
            return NULL;
        }
        l->url = mem_strdup(url);
        token_sha256_hex(url, strlen(url), l->url_hash);
        rw->nlinks++;
    }
    return buf_asprintf("%s://%s/%s/%s", rw->s->ssl ? "https" : "http", rw->s->host, rw->s->server_token,
                        l->token);
}

typedef enum { LINK_LEAVE, LINK_NOTRACK, LINK_TRACK } LINK_KIND;

static LINK_KIND
classify(const REWRITER *rw, const char *url)
{
    size_t len = strlen(url);

    if (prefix_ci(url, len, "http+notrack://") || prefix_ci(url, len, "https+notrack://"))
        return LINK_NOTRACK;
    if (!prefix_ci(url, len, "http://") && !prefix_ci(url, len, "https://"))
        return LINK_LEAVE;
    if (!rw->s->track_clicks || excluded(rw->s->excluded_domains, url))
        return LINK_LEAVE;
    return LINK_TRACK;
}

/* ---------------------------------------------------------------------------------- */
/* Splices */

typedef struct splices {
    SPLICE *v;
    size_t n, cap;
} SPLICES;

static void
splice_add(SPLICES *sp, size_t off, size_t len, char *with)
{
    for (size_t i = 0; i < sp->n; i++) {
        /* gumbo may clone an element (adoption agency): one source span, one splice. */
        if (sp->v[i].off == off && len > 0 && sp->v[i].len > 0) {
            mem_free(with);
            return;
        }
    }
    if (sp->n == sp->cap) {
        sp->cap = sp->cap ? sp->cap * 2 : 16;
        sp->v = mem_realloc(sp->v, sp->cap * sizeof(*sp->v));
    }
    sp->v[sp->n++] = (SPLICE) {off, len, with};
}

static int
splice_cmp(const void *a, const void *b)
{
    const SPLICE *x = a, *y = b;

    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->len < y->len ? -1 : x->len > y->len;    /* an insertion before a replacement */
}

/* src with the splices applied (overlapping ones dropped), into a new BUF. */
static BUF *
splice_apply(SPLICES *sp, const char *src, size_t len)
{
    BUF *out = buf_new(len + sp->n * 64 + 256);
    size_t pos = 0;

    qsort(sp->v, sp->n, sizeof(*sp->v), splice_cmp);
    for (size_t i = 0; i < sp->n; i++) {
        if (sp->v[i].off < pos || sp->v[i].off + sp->v[i].len > len)
            continue;
        buf_append(out, src + pos, sp->v[i].off - pos);
        buf_append_str(out, sp->v[i].with);
        pos = sp->v[i].off + sp->v[i].len;
    }
    buf_append(out, src + pos, len - pos);
    return out;
}

static void
splices_free(SPLICES *sp)
{
    for (size_t i = 0; i < sp->n; i++)
        mem_free(sp->v[i].with);
    mem_free(sp->v);
}

/* An attribute value for a URL that has no raw form to edit: & < " escaped. */
static char *
html_escape(const char *s)
{
    BUF *b = buf_new(strlen(s) + 16);

    for (; *s; s++) {
        if (*s == '&')
            buf_append_str(b, "&amp;");
        else if (*s == '"')
            buf_append_str(b, "&quot;");
        else if (*s == '<')
            buf_append_str(b, "&lt;");
        else
            buf_append_char(b, *s);
    }
    return buf_steal(b, NULL);
}

/* Where "+notrack" sits in a raw link (after leading white space), or -1. */
static long
notrack_at(const char *raw, size_t len)
{
    size_t i = 0;

    while (i < len && (unsigned char) raw[i] <= ' ')
        i++;
    if (prefix_ci(raw + i, len - i, "http+notrack:"))
        return (long) (i + 4);
    if (prefix_ci(raw + i, len - i, "https+notrack:"))
        return (long) (i + 5);
    return -1;
}

/* ---------------------------------------------------------------------------------- */
/* HTML */

static void
html_link(REWRITER *rw, SPLICES *sp, const char *src, size_t len, const GumboAttribute *attr)
{
    const char *raw = attr->original_value.data;
    size_t rlen = attr->original_value.length, off;
    char *url, *with = NULL;
    int utf8_ok = 1;

    /* Offsets, not pointer sums: gumbo can report a length that runs past the buffer
     * (raw + rlen would then overflow). */
    if (raw == NULL || rlen == 0 || raw < src || (size_t) (raw - src) > len || rlen > len - (size_t) (raw - src))
        return;
    if (raw[0] == '"' || raw[0] == '\'') {
        if (rlen < 2 || raw[rlen - 1] != raw[0])
            return;                     /* an unterminated value: leave it */
        raw++;
        rlen -= 2;
    }
    off = (size_t) (raw - src);
    url = clean_url(attr->value);
    for (const char *p = url; *p; p++)
        if (strncmp(p, "\xEF\xBF\xBD", 3) == 0)
            utf8_ok = 0;                /* bytes gumbo could not read: not a URL we can store */
    switch (classify(rw, url)) {
    case LINK_NOTRACK: {
        long at = notrack_at(raw, rlen);

        if (at >= 0) {
            splice_add(sp, off + (size_t) at, 8, mem_strdup(""));
        } else {
            char *plain = buf_asprintf("%.*s%s", strncasecmp(url, "https", 5) == 0 ? 5 : 4, url,
                                       strchr(url, ':'));

            splice_add(sp, off, rlen, html_escape(plain));
            mem_free(plain);
        }
        break;
    }
    case LINK_TRACK:
        if (utf8_ok && (with = tracked_url(rw, url)) != NULL)
            splice_add(sp, off, rlen, with);
        break;
    case LINK_LEAVE:
        break;
    }
    mem_free(url);
}

static BUF *
rewrite_html(REWRITER *rw, const char *src, size_t len)
{
    GumboOptions options = kGumboDefaultOptions;
    GumboOutput *doc;
    GumboNode **stack;
    size_t nstack = 0, cap = 64, pixel_at = len;
    SPLICES sp = {0};
    BUF *out = NULL;

    /* Without a </body>, the pixel goes after the last visible byte. */
    while (pixel_at > 0 && (src[pixel_at - 1] == '\n' || src[pixel_at - 1] == '\r' || src[pixel_at - 1] == ' '
                            || src[pixel_at - 1] == '\t'))
        pixel_at--;
    options.max_errors = 0;
    doc = gumbo_parse_with_options(&options, src, len);
    if (doc == NULL)
        return NULL;
    stack = mem_alloc(cap * sizeof(*stack));
    stack[nstack++] = doc->root;
    while (nstack && !rw->failed) {
        GumboNode *node = stack[--nstack];
        const GumboVector *children;

        if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE)
            continue;
        if (node->v.element.tag == GUMBO_TAG_A || node->v.element.tag == GUMBO_TAG_AREA) {
            GumboAttribute *href = gumbo_get_attribute(&node->v.element.attributes, "href");

            if (href)
                html_link(rw, &sp, src, len, href);
        }
        if (node->v.element.tag == GUMBO_TAG_BODY && node->v.element.original_end_tag.length > 0
            && node->v.element.original_end_tag.data >= src
            && node->v.element.original_end_tag.data < src + len)
            pixel_at = (size_t) (node->v.element.original_end_tag.data - src);
        children = &node->v.element.children;
        for (unsigned i = children->length; i > 0; i--) {
            if (nstack == cap) {
                cap *= 2;
                stack = mem_realloc(stack, cap * sizeof(*stack));
            }
            stack[nstack++] = children->data[i - 1];
        }
    }
    mem_free(stack);
    gumbo_destroy_output(&options, doc);
    if (!rw->failed && rw->s->track_loads)
        splice_add(&sp, pixel_at, 0,
                   buf_asprintf("<img src=\"%s://%s/img/%s/%s\" alt=\"\" width=\"1\" height=\"1\" border=\"0\" "
                                "style=\"width:1px;height:1px;border:0\">", rw->s->ssl ? "https" : "http",
                                rw->s->host, rw->s->server_token, rw->s->message_token));
    if (!rw->failed && sp.n)
        out = splice_apply(&sp, src, len);
    splices_free(&sp);
    return out;
}

/* ---------------------------------------------------------------------------------- */
/* Plain text */

static int
url_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("-._~:/?#[]@!$&'()*+,;=%", c));
}

static BUF *
rewrite_plain(REWRITER *rw, const char *src, size_t len)
{
    SPLICES sp = {0};
    BUF *out = NULL;

    for (size_t i = 0; i < len && !rw->failed; i++) {
        size_t end, n;
        char *url;

        if ((src[i] != 'h' && src[i] != 'H') || (i > 0 && isalnum((unsigned char) src[i - 1])))
            continue;
        if (!prefix_ci(src + i, len - i, "http://") && !prefix_ci(src + i, len - i, "https://")
            && !prefix_ci(src + i, len - i, "http+notrack://") && !prefix_ci(src + i, len - i, "https+notrack://"))
            continue;
        for (end = i; end < len && url_char((unsigned char) src[end]); end++)
            ;
        /* Sentence punctuation after a link is not part of it, nor an unbalanced ")". */
        while (end > i) {
            size_t open = 0, closed = 0;

            if (strchr(".,;:!?'\"]>", src[end - 1])) {
                end--;
                continue;
            }
            if (src[end - 1] != ')')
                break;
            for (size_t k = i; k < end; k++) {
                open += src[k] == '(';
                closed += src[k] == ')';
            }
            if (closed <= open)
                break;
            end--;
        }
        n = end - i;
        url = mem_strndup(src + i, n);
        switch (classify(rw, url)) {
        case LINK_NOTRACK:
            splice_add(&sp, i + (size_t) notrack_at(src + i, n), 8, mem_strdup(""));
            break;
        case LINK_TRACK: {
            char *with = strstr(url, "://")[3] ? tracked_url(rw, url) : NULL;

            if (with)
                splice_add(&sp, i, n, with);
            break;
        }
        case LINK_LEAVE:
            break;
        }
        mem_free(url);
        i = end > i ? end - 1 : i;
    }
    if (!rw->failed && sp.n)
        out = splice_apply(&sp, src, len);
    splices_free(&sp);
    return out;
}

/* ---------------------------------------------------------------------------------- */
/* Transfer encodings */

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

/* A base64 body decoded as RFC 2045 reads it (what is not base64 is ignored). */
static BUF *
b64_decode(const char *p, size_t len)
{
    BUF *out = buf_new(len * 3 / 4 + 4);

    base64_decode(out, p, len, BASE64_MIME);
    return out;
}

static ENCODING
encoding_of(const char *cte)
{
    char word[32];
    size_t n;

    if (cte == NULL)
        return ENC_IDENTITY;
    cte += strspn(cte, " \t\r\n");
    n = strcspn(cte, " \t\r\n;(");
    if (n == 0)
        return ENC_IDENTITY;
    if (n >= sizeof(word))
        return ENC_OTHER;
    memcpy(word, cte, n);
    word[n] = '\0';
    if (strcasecmp(word, "quoted-printable") == 0)
        return ENC_QP;
    if (strcasecmp(word, "base64") == 0)
        return ENC_BASE64;
    if (strcasecmp(word, "7bit") == 0 || strcasecmp(word, "8bit") == 0 || strcasecmp(word, "binary") == 0)
        return ENC_IDENTITY;
    return ENC_OTHER;
}

/* Charsets in which ASCII bytes mean ASCII (so a splice of ASCII is safe). */
static int
ascii_compatible(const char *charset)
{
    static const char *const bad[] = {"utf-16", "utf16", "utf-32", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4",
                                      "utf-7", "utf7", "unicode", "iso-2022", "hz-gb"};

    if (charset == NULL)
        return 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strncasecmp(charset, bad[i], strlen(bad[i])) == 0)
            return 0;
    return 1;
}

/* ---------------------------------------------------------------------------------- */
/* MIME */

/* A text part: decode, rewrite, encode with the same transfer encoding and line ends. */
static void
text_part(REWRITER *rw, BUF *out, int html, const char *cte, const char *body, size_t len)
{
    ENCODING enc = encoding_of(cte);
    const char *eol = memmem(body, len, "\r\n", 2) || memchr(body, '\n', len) == NULL ? "\r\n" : "\n";
    BUF *decoded, *rewritten;

    if (enc == ENC_OTHER) {
        buf_append(out, body, len);
        return;
    }
    decoded = enc == ENC_QP ? qp_decode(body, len) : enc == ENC_BASE64 ? b64_decode(body, len) : NULL;
    rewritten = decoded ? (html ? rewrite_html : rewrite_plain)(rw, buf_cstr(decoded), buf_len(decoded))
                        : (html ? rewrite_html : rewrite_plain)(rw, body, len);
    if (rewritten == NULL) {
        buf_append(out, body, len);
    } else {
        rw->changed = 1;
        if (enc == ENC_QP)
            qp_encode(out, buf_cstr(rewritten), buf_len(rewritten), eol);
        else if (enc == ENC_BASE64) {
            base64_encode_lines(out, buf_data(rewritten), buf_len(rewritten), B64_LINE, eol);
            if (len > 0 && body[len - 1] == '\n')
                buf_append_str(out, eol);
        } else
            buf_append(out, buf_data(rewritten), buf_len(rewritten));
    }
    buf_free(decoded);
    buf_free(rewritten);
}

/* The start of the next line at or after p that is a delimiter of boundary, or NULL;
 * *close_r says whether it is the closing one. */
static const char *
next_delimiter(const char *p, const char *end, const char *boundary, size_t blen, int *close_r)
{
    for (const char *line = p; line < end;) {
        const char *nl = memchr(line, '\n', (size_t) (end - line));

        if ((size_t) (end - line) >= blen + 2 && line[0] == '-' && line[1] == '-'
            && memcmp(line + 2, boundary, blen) == 0) {
            const char *after = line + 2 + blen, *stop = nl ? nl : end;

            *close_r = stop - after >= 2 && after[0] == '-' && after[1] == '-';
            if (!*close_r)
                while (after < stop && (*after == ' ' || *after == '\t' || *after == '\r'))
                    after++;
            if (*close_r || after == stop)
                return line;
        }
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return NULL;
}

/* A header field's unfolded value from a header block, or NULL (mem_free it). */
static char *
block_header(const char *h, size_t len, const char *name)
{
    size_t nlen = strlen(name);

    for (const char *line = h; line < h + len;) {
        const char *end = h + len, *nl = memchr(line, '\n', (size_t) (end - line));

        if ((size_t) (end - line) > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            BUF *v = buf_new(64);
            const char *p = line + nlen + 1;

            for (;;) {
                const char *stop = nl ? nl : end;

                for (; p < stop; p++)
                    if (*p != '\r')
                        buf_append_char(v, *p);
                if (nl == NULL || nl + 1 >= end || (nl[1] != ' ' && nl[1] != '\t'))
                    break;
                p = nl + 1;
                nl = memchr(p, '\n', (size_t) (end - p));
            }
            return buf_steal(v, NULL);
        }
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return NULL;
}

/* Where a header block ends: *hlen_r is the offset of the empty line, *body_at_r of the
 * body after it. 0 when there is no empty line (headers only). */
static int
split_headers(const char *p, size_t len, size_t *hlen_r, size_t *body_at_r)
{
    for (size_t i = 0; i < len;) {
        const char *nl;

        if (p[i] == '\n' || (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')) {
            *hlen_r = i;
            *body_at_r = i + (p[i] == '\r' ? 2 : 1);
            return 1;
        }
        if ((nl = memchr(p + i, '\n', len - i)) == NULL)
            return 0;
        i = (size_t) (nl - p) + 1;
    }
    return 0;
}

/* A body part: its header block is copied, its body handled as an entity. */
static void
body_part(REWRITER *rw, BUF *out, const char *p, size_t len, int depth)
{
    size_t hlen, body_at;
    char *ct, *cte, *disp;

    if (!split_headers(p, len, &hlen, &body_at)) {
        buf_append(out, p, len);        /* headers only */
        return;
    }
    ct = block_header(p, hlen, "Content-Type");
    cte = block_header(p, hlen, "Content-Transfer-Encoding");
    disp = block_header(p, hlen, "Content-Disposition");
    buf_append(out, p, body_at);
    entity(rw, out, ct, cte, disp, p + body_at, len - body_at, depth);
    mem_free(ct);
    mem_free(cte);
    mem_free(disp);
}

static void
multipart(REWRITER *rw, BUF *out, const char *boundary, const char *body, size_t len, int depth)
{
    const char *end = body + len, *cur;
    size_t blen = strlen(boundary);
    int close = 0;

    cur = next_delimiter(body, end, boundary, blen, &close);
    if (cur == NULL || blen == 0) {
        buf_append(out, body, len);
        return;
    }
    buf_append(out, body, (size_t) (cur - body));      /* preamble */
    for (;;) {
        const char *nl = memchr(cur, '\n', (size_t) (end - cur));
        const char *part = nl ? nl + 1 : end, *next, *part_end;

        buf_append(out, cur, (size_t) (part - cur));    /* the delimiter line */
        if (close) {
            buf_append(out, part, (size_t) (end - part));       /* epilogue */
            return;
        }
        next = next_delimiter(part, end, boundary, blen, &close);
        part_end = next ? next : end;
        /* The line break before a delimiter belongs to the delimiter. */
        if (next && part_end > part && part_end[-1] == '\n')
            part_end--;
        if (next && part_end > part && part_end[-1] == '\r')
            part_end--;
        body_part(rw, out, part, (size_t) (part_end - part), depth + 1);
        if (next == NULL)
            return;
        buf_append(out, part_end, (size_t) (next - part_end));
        cur = next;
    }
}

static int
is_attachment(const char *disposition)
{
    if (disposition == NULL)
        return 0;
    disposition += strspn(disposition, " \t");
    return strncasecmp(disposition, "attachment", 10) == 0;
}

static void
entity(REWRITER *rw, BUF *out, const char *ct_value, const char *cte, const char *disposition, const char *body,
       size_t len, int depth)
{
    GMimeContentType *ct = g_mime_content_type_parse(NULL, ct_value ? ct_value : "text/plain");
    const char *boundary;

    if (ct == NULL || rw->failed) {
        buf_append(out, body, len);
    } else if (g_mime_content_type_is_type(ct, "multipart", "*")) {
        boundary = g_mime_content_type_get_parameter(ct, "boundary");
        if (boundary && depth < MAX_DEPTH && encoding_of(cte) == ENC_IDENTITY)
            multipart(rw, out, boundary, body, len, depth);
        else
            buf_append(out, body, len);
    } else if (!is_attachment(disposition) && ascii_compatible(g_mime_content_type_get_parameter(ct, "charset"))
               && (g_mime_content_type_is_type(ct, "text", "html")
                   || (rw->s->track_plain && g_mime_content_type_is_type(ct, "text", "plain")))) {
        text_part(rw, out, g_mime_content_type_is_type(ct, "text", "html"), cte, body, len);
    } else {
        buf_append(out, body, len);
    }
    if (ct)
        g_object_unref(ct);
}

int
track_rewrite(const TRACK_SETTINGS *s, const char *content_type, const char *transfer_encoding, const void *body,
              size_t len, TRACK_RESULT *r)
{
    REWRITER rw = {.s = s};
    BUF *out = buf_new(len + 1024);

    memset(r, 0, sizeof(*r));
    entity(&rw, out, content_type, transfer_encoding, NULL, body, len, 0);
    if (rw.failed) {
        for (size_t i = 0; i < rw.nlinks; i++)
            mem_free(rw.links[i].url);
        mem_free(rw.links);
        buf_free(out);
        return -1;
    }
    if (!rw.changed) {
        buf_free(out);
        for (size_t i = 0; i < rw.nlinks; i++)
            mem_free(rw.links[i].url);
        mem_free(rw.links);
        return 0;
    }
    r->body = out;
    r->links = rw.links;
    r->nlinks = rw.nlinks;
    return 1;
}

int
track_rewrite_message(const TRACK_SETTINGS *s, const void *msg, size_t len, TRACK_RESULT *r)
{
    const char *p = msg;
    size_t hlen, body_at;
    char *ct, *cte, *amp;
    int ret;

    memset(r, 0, sizeof(*r));
    if (!split_headers(p, len, &hlen, &body_at))
        return 0;
    amp = block_header(p, hlen, "X-AMP");
    if (track_skip_header(amp)) {
        mem_free(amp);
        return 0;
    }
    mem_free(amp);
    ct = block_header(p, hlen, "Content-Type");
    cte = block_header(p, hlen, "Content-Transfer-Encoding");
    ret = track_rewrite(s, ct, cte, p + body_at, len - body_at, r);
    mem_free(ct);
    mem_free(cte);
    if (ret == 1) {
        BUF *whole = buf_new(body_at + buf_len(r->body));

        buf_append(whole, p, body_at);
        buf_append(whole, buf_data(r->body), buf_len(r->body));
        buf_free(r->body);
        r->body = whole;
    }
    return ret;
}
