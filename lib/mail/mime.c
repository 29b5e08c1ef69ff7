/*
 * mime.c -- taking stored messages apart with GMime 3 (mime.h).
 *
 * GMime objects are reference-counted GObjects: every one made here is unreffed
 * before return, and strings GLib allocates are copied into mem_* storage so callers
 * free everything with mem_free. Text handed out is made valid UTF-8 here.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mail/mime.h"
#include "util/buf.h"
#include "util/mem.h"

#define MAX_FIELDS 1000
#define MAX_DEPTH 32

/* ---------------------------------------------------------------- parsing */

/* Takes a GLib string and returns a mem_* copy that is valid UTF-8. */
static char *
utf8_take(char *gstr)
{
    char *valid, *copy;

    if (gstr == NULL)
        return NULL;
    valid = g_utf8_make_valid(gstr, -1);
    copy = mem_strdup(valid);
    g_free(valid);
    g_free(gstr);
    return copy;
}

/* A body's text with CRLF line ends made LF, as a client wrote it. */
static char *
text_body(char *gstr)
{
    char *text = utf8_take(gstr), *w = text;

    for (const char *r = text; r && *r; r++)
        if (!(r[0] == '\r' && r[1] == '\n'))
            *w++ = *r;
    if (w)
        *w = '\0';
    return text;
}

char *
mime_decode_header(const char *value)
{
    return utf8_take(g_mime_utils_header_decode_text(NULL, value ? value : ""));
}

/* The header section, unfolded, as (lower-cased name, decoded value) pairs. */
static void
parse_fields(MIME_PARSED *p, const char *raw, size_t len)
{
    size_t pos = 0;
    BUF *value = buf_new(256);
    char *name = NULL;

    for (;;) {
        size_t start = pos, end;
        int last;

        while (pos < len && raw[pos] != '\n')
            pos++;
        end = pos > start && raw[pos - 1] == '\r' ? pos - 1 : pos;
        if (pos < len)
            pos++;
        last = end == start || start >= len;   /* the blank line, or the end */
        if (!last && (raw[start] == ' ' || raw[start] == '\t')) {
            if (name)
                buf_append(value, raw + start, end - start);
            continue;
        }
        if (name) {
            if (p->nfields < MAX_FIELDS) {
                const char *v = buf_cstr(value);

                while (*v == ' ' || *v == '\t')
                    v++;
                p->fields = mem_realloc(p->fields, (p->nfields + 1) * sizeof(*p->fields));
                p->fields[p->nfields].name = name;
                p->fields[p->nfields].value = mime_decode_header(v);
                p->nfields++;
            } else {
                mem_free(name);
            }
            name = NULL;
        }
        if (last)
            break;
        {
            const char *colon = memchr(raw + start, ':', end - start);

            if (colon == NULL || colon == raw + start)
                continue;   /* not a header line: skipped */
            name = mem_strndup(raw + start, (size_t) (colon - (raw + start)));
            for (char *c = name; *c; c++)
                *c = (char) tolower((unsigned char) *c);
            buf_reset(value);
            buf_append(value, colon + 1, (size_t) (end - (start + (size_t) (colon - (raw + start)) + 1)));
        }
    }
    buf_free(value);
}

static unsigned char *
stream_bytes(GMimeStream *stream, size_t *len_r)
{
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
    unsigned char *copy = mem_alloc(bytes->len + 1);

    /* An empty part has no byte array data at all (NULL), which memcpy may not take. */
    if (bytes->len)
        memcpy(copy, bytes->data, bytes->len);
    copy[bytes->len] = '\0';
    *len_r = bytes->len;
    return copy;
}

static void
add_file(MIME_PARSED *p, const char *filename, GMimeContentType *ct, unsigned char *data, size_t len)
{
    MIME_FILE *f;
    char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;

    p->files = mem_realloc(p->files, (p->nfiles + 1) * sizeof(*p->files));
    f = &p->files[p->nfiles++];
    f->filename = utf8_take(g_strdup(filename ? filename : ""));
    f->content_type = utf8_take(type ? type : g_strdup("application/octet-stream"));
    f->data = data;
    f->len = len;
}

static void
walk(MIME_PARSED *p, GMimeObject *obj, int depth)
{
    if (obj == NULL || depth > MAX_DEPTH)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        int n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));

        for (int i = 0; i < n; i++)
            walk(p, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        GMimeStream *out = g_mime_stream_mem_new();
        GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
        const char *filename = cd ? g_mime_content_disposition_get_parameter(cd, "filename") : NULL;
        unsigned char *data;
        size_t len;

        if (inner)
            g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, out);
        data = stream_bytes(out, &len);
        add_file(p, filename, g_mime_object_get_content_type(obj), data, len);
        g_object_unref(out);
    } else if (GMIME_IS_PART(obj)) {
        GMimePart *part = GMIME_PART(obj);
        GMimeContentType *ct = g_mime_object_get_content_type(obj);
        const char *filename = g_mime_part_get_filename(part);
        int attachment = g_mime_part_is_attachment(part) || (filename && *filename);

        if (!attachment && GMIME_IS_TEXT_PART(obj) && ct && g_mime_content_type_is_type(ct, "text", "plain")) {
            if (p->plain_body == NULL)
                p->plain_body = text_body(g_mime_text_part_get_text(GMIME_TEXT_PART(obj)));
        } else if (!attachment && GMIME_IS_TEXT_PART(obj) && ct && g_mime_content_type_is_type(ct, "text", "html")) {
            if (p->html_body == NULL)
                p->html_body = text_body(g_mime_text_part_get_text(GMIME_TEXT_PART(obj)));
        } else if (attachment) {
            GMimeDataWrapper *content = g_mime_part_get_content(part);
            GMimeStream *out = g_mime_stream_mem_new();
            unsigned char *data;
            size_t len;

            if (content)
                g_mime_data_wrapper_write_to_stream(content, out);   /* decodes base64 / QP */
            data = stream_bytes(out, &len);
            add_file(p, filename, ct, data, len);
            g_object_unref(out);
        }
    }
}

MIME_PARSED *
mime_parse(const void *raw, size_t len, int headers_only)
{
    MIME_PARSED *p = mem_zalloc(sizeof(*p));
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *msg;

    parse_fields(p, raw, len);
    if (headers_only)
        return p;
    stream = g_mime_stream_mem_new_with_buffer(raw, len);
    parser = g_mime_parser_new_with_stream(stream);
    msg = g_mime_parser_construct_message(parser, NULL);
    if (msg) {
        walk(p, g_mime_message_get_mime_part(msg), 0);
        g_object_unref(msg);
    }
    g_object_unref(parser);
    g_object_unref(stream);
    return p;
}

const char *
mime_parsed_header(const MIME_PARSED *p, const char *name)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (strcasecmp(p->fields[i].name, name) == 0)
            return p->fields[i].value;
    return NULL;
}

void
mime_parsed_free(MIME_PARSED *p)
{
    if (p == NULL)
        return;
    mem_free(p->plain_body);
    mem_free(p->html_body);
    for (size_t i = 0; i < p->nfiles; i++) {
        mem_free(p->files[i].filename);
        mem_free(p->files[i].content_type);
        mem_free(p->files[i].data);
    }
    mem_free(p->files);
    for (size_t i = 0; i < p->nfields; i++) {
        mem_free(p->fields[i].name);
        mem_free(p->fields[i].value);
    }
    mem_free(p->fields);
    mem_free(p);
}
