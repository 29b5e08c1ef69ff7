/*
 * track.c -- link rewriting and the open pixel (track.h).
 *
 * mimewalk.c walks the raw message and hands over each text part, copying everything
 * else (headers, boundaries, preambles, other parts) untouched; cte.c decodes the part
 * and encodes it again; gumbo locates href attributes. A rewrite is a list of splices
 * (offset, length, replacement) applied to the decoded part.
 *
 * Must never: change a byte of a decoded part outside its splices, or splice into a part
 * whose charset is not ASCII-compatible.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "mail/cte.h"
#include "mail/mimewalk.h"
#include "mail/track.h"
#include "util/mem.h"
#include "util/token.h"

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
/* Parts */

/* A text part (mimewalk's callback): decode, rewrite, encode with the same transfer
 * encoding and line ends. 1 rewritten into out, 0 left as it is, -1 the token source failed. */
static int
text_part(void *arg, const MIMEWALK_PART *part, BUF *out)
{
    REWRITER *rw = arg;
    const char *body = part->body, *eol;
    size_t len = part->len;
    int html = mimewalk_part_is(part, "text", "html");
    CTE enc = cte_of(part->transfer_encoding);
    BUF *decoded, *rewritten;

    if (!html && !(rw->s->track_plain && mimewalk_part_is(part, "text", "plain")))
        return 0;
    if (!mimewalk_part_ascii_compatible(part) || enc == CTE_OTHER)
        return 0;
    eol = memmem(body, len, "\r\n", 2) || memchr(body, '\n', len) == NULL ? "\r\n" : "\n";
    decoded = cte_decode(enc, body, len);
    rewritten = decoded ? (html ? rewrite_html : rewrite_plain)(rw, buf_cstr(decoded), buf_len(decoded))
                        : (html ? rewrite_html : rewrite_plain)(rw, body, len);
    buf_free(decoded);
    if (rewritten == NULL)
        return rw->failed ? -1 : 0;
    rw->changed = 1;
    cte_encode(out, enc, buf_cstr(rewritten), buf_len(rewritten), eol);
    /* base64 lines are written without a last line end: the part's own comes back. */
    if (enc == CTE_BASE64 && len > 0 && body[len - 1] == '\n')
        buf_append_str(out, eol);
    buf_free(rewritten);
    return 1;
}

int
track_rewrite(const TRACK_SETTINGS *s, const char *content_type, const char *transfer_encoding, const void *body,
              size_t len, TRACK_RESULT *r)
{
    REWRITER rw = {.s = s};
    BUF *out = buf_new(len + 1024);

    memset(r, 0, sizeof(*r));
    mimewalk_body(content_type, transfer_encoding, body, len, text_part, &rw, out);
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
    if (!mimewalk_split_headers(p, len, &hlen, &body_at))
        return 0;
    amp = mimewalk_header(p, hlen, "X-AMP");
    if (track_skip_header(amp)) {
        mem_free(amp);
        return 0;
    }
    mem_free(amp);
    ct = mimewalk_header(p, hlen, "Content-Type");
    cte = mimewalk_header(p, hlen, "Content-Transfer-Encoding");
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
