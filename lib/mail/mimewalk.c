/*
 * mimewalk.c -- the MIME walk over raw message bytes (mimewalk.h).
 *
 * The structure is found in the bytes (header blocks, delimiter lines) rather than by
 * GMime's parser, because a parsed-and-written message is not the message that came in:
 * everything the callback does not replace is copied from the input as it stands. GMime
 * parses only the Content-Type values. A GMimeContentType made here is unreffed before
 * the part's turn ends.
 *
 * Must never: hand fn a part of an attachment or of a multipart it could not delimit.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mail/cte.h"
#include "mail/mimewalk.h"
#include "util/mem.h"

typedef struct walk {
    MIMEWALK_FN *fn;
    void *arg;
    int stopped;                        /* fn said -1: copy the rest */
} WALK;

static void entity(WALK *w, BUF *out, const char *ct, const char *cte, const char *disposition, const char *body,
                   size_t len, int depth);

int
mimewalk_part_is(const MIMEWALK_PART *part, const char *type, const char *subtype)
{
    return g_mime_content_type_is_type((GMimeContentType *) part->ct, type, subtype);
}

const char *
mimewalk_part_param(const MIMEWALK_PART *part, const char *name)
{
    return g_mime_content_type_get_parameter((GMimeContentType *) part->ct, name);
}

int
mimewalk_part_ascii_compatible(const MIMEWALK_PART *part)
{
    static const char *const bad[] = {"utf-16", "utf16", "utf-32", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4",
                                      "utf-7", "utf7", "unicode", "iso-2022", "hz-gb"};
    const char *charset = mimewalk_part_param(part, "charset");

    if (charset == NULL)
        return 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strncasecmp(charset, bad[i], strlen(bad[i])) == 0)
            return 0;
    return 1;
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

char *
mimewalk_header(const char *h, size_t len, const char *name)
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

int
mimewalk_split_headers(const char *p, size_t len, size_t *hlen_r, size_t *body_at_r)
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
body_part(WALK *w, BUF *out, const char *p, size_t len, int depth)
{
    size_t hlen, body_at;
    char *ct, *cte, *disp;

    if (!mimewalk_split_headers(p, len, &hlen, &body_at)) {
        buf_append(out, p, len);        /* headers only */
        return;
    }
    ct = mimewalk_header(p, hlen, "Content-Type");
    cte = mimewalk_header(p, hlen, "Content-Transfer-Encoding");
    disp = mimewalk_header(p, hlen, "Content-Disposition");
    buf_append(out, p, body_at);
    entity(w, out, ct, cte, disp, p + body_at, len - body_at, depth);
    mem_free(ct);
    mem_free(cte);
    mem_free(disp);
}

static void
multipart(WALK *w, BUF *out, const char *boundary, const char *body, size_t len, int depth)
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
        body_part(w, out, part, (size_t) (part_end - part), depth + 1);
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

/* A leaf text part goes to fn; a body fn leaves (or stops at) is copied. */
static void
leaf(WALK *w, BUF *out, GMimeContentType *ct, const char *cte, const char *disposition, const char *body,
     size_t len, int depth)
{
    MIMEWALK_PART part = {cte, disposition, body, len, depth, ct};
    int r = w->fn(w->arg, &part, out);

    if (r < 0)
        w->stopped = 1;
    if (r <= 0)
        buf_append(out, body, len);
}

static void
entity(WALK *w, BUF *out, const char *ct_value, const char *cte, const char *disposition, const char *body,
       size_t len, int depth)
{
    GMimeContentType *ct = g_mime_content_type_parse(NULL, ct_value ? ct_value : "text/plain");
    const char *boundary;

    if (ct == NULL || w->stopped) {
        buf_append(out, body, len);
    } else if (g_mime_content_type_is_type(ct, "multipart", "*")) {
        boundary = g_mime_content_type_get_parameter(ct, "boundary");
        if (boundary && depth < MIMEWALK_MAX_DEPTH && cte_of(cte) == CTE_IDENTITY)
            multipart(w, out, boundary, body, len, depth);
        else
            buf_append(out, body, len);
    } else if (g_mime_content_type_is_type(ct, "text", "*") && !is_attachment(disposition)) {
        leaf(w, out, ct, cte, disposition, body, len, depth);
    } else {
        buf_append(out, body, len);
    }
    if (ct)
        g_object_unref(ct);
}

int
mimewalk_body(const char *content_type, const char *transfer_encoding, const void *body, size_t len,
              MIMEWALK_FN *fn, void *arg, BUF *out)
{
    WALK w = {fn, arg, 0};

    entity(&w, out, content_type, transfer_encoding, NULL, body, len, 0);
    return w.stopped ? -1 : 0;
}
