/*
 * mime_build.c -- building and taking apart messages with GMime 3 (mime_build.h).
 *
 * GMime objects are reference-counted GObjects: every one made here is unreffed
 * before return, and strings GLib allocates are copied into mem_* storage so callers
 * free everything with mem_free. Text handed to JSON is made valid UTF-8 here.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mime_build.h"
#include "util/buf.h"
#include "util/mem.h"

#define MAX_FIELDS 1000
#define MAX_DEPTH 32

/* Headers mime_build writes itself: a custom header of the same name is ignored, as
 * Postal lets its own values win. */
static const char *const built_headers[] = {
    "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version",
    "Received", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Content-ID",
    "Content-Description", NULL,
};

int
mime_header_name_ok(const char *name)
{
    size_t n = 0;

    for (const char *p = name; *p; p++, n++)
        if ((unsigned char) *p < 33 || (unsigned char) *p > 126 || *p == ':')
            return 0;
    return n > 0 && n <= 76;
}

static int
is_built_header(const char *name)
{
    for (size_t i = 0; built_headers[i]; i++)
        if (strcasecmp(built_headers[i], name) == 0)
            return 1;
    return 0;
}

/* A copy with CR, LF and other C0 controls (but TAB) turned into spaces: one header line. */
static char *
one_line(const char *s)
{
    char *copy = mem_strdup(s);

    for (char *p = copy; *p; p++)
        if ((unsigned char) *p < 32 && *p != '\t')
            *p = ' ';
    return copy;
}

/* Parses value as an address list and appends its members to list. -1 when it holds none. */
static int
add_addresses(InternetAddressList *list, const char *value, const char *what, char **error_r)
{
    char *clean = one_line(value);
    InternetAddressList *parsed = internet_address_list_parse(NULL, clean);
    int ok = parsed && internet_address_list_length(parsed) > 0;

    if (ok)
        internet_address_list_append(list, parsed);
    else
        *error_r = buf_asprintf("`%s` is not a valid e-mail address: \"%s\"", what, clean);
    if (parsed)
        g_object_unref(parsed);
    mem_free(clean);
    return ok ? 0 : -1;
}

static GMimeObject *
text_part(const char *subtype, const char *text)
{
    GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);

    g_mime_text_part_set_text(tp, text);
    g_mime_part_set_content_encoding(GMIME_PART(tp),
                                     g_mime_part_get_best_content_encoding(GMIME_PART(tp),
                                                                           GMIME_ENCODING_CONSTRAINT_7BIT));
    return GMIME_OBJECT(tp);
}

static GMimeObject *
attachment_part(const MIME_ATTACHMENT *a)
{
    GMimePart *part = g_mime_part_new();
    GMimeContentType *ct = NULL;
    GMimeStream *stream;
    GMimeDataWrapper *wrapper;
    char *name = one_line(a->name);

    if (a->content_type && strchr(a->content_type, '/') && strpbrk(a->content_type, "\r\n") == NULL)
        ct = g_mime_content_type_parse(NULL, a->content_type);
    if (ct == NULL || g_mime_content_type_get_media_type(ct) == NULL
        || g_mime_content_type_get_media_subtype(ct) == NULL) {
        if (ct)
            g_object_unref(ct);
        ct = g_mime_content_type_new("application", "octet-stream");
    }
    g_mime_object_set_content_type(GMIME_OBJECT(part), ct);
    g_object_unref(ct);
    g_mime_part_set_filename(part, name);
    stream = g_mime_stream_mem_new_with_buffer(a->len ? a->data : "", a->len);
    wrapper = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(part, wrapper);
    g_object_unref(wrapper);
    g_object_unref(stream);
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
    mem_free(name);
    return GMIME_OBJECT(part);
}

static GMimeObject *
build_body(const MIME_SPEC *spec)
{
    int has_plain = spec->plain_body && *spec->plain_body, has_html = spec->html_body && *spec->html_body;
    GMimeObject *body;

    if (has_plain && has_html) {
        GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
        GMimeObject *p = text_part("plain", spec->plain_body), *h = text_part("html", spec->html_body);

        g_mime_multipart_add(alt, p);
        g_mime_multipart_add(alt, h);
        g_object_unref(p);
        g_object_unref(h);
        body = GMIME_OBJECT(alt);
    } else {
        body = text_part(has_html ? "html" : "plain", has_html ? spec->html_body : spec->plain_body ? spec->plain_body : "");
    }
    if (spec->nattachments > 0) {
        GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");

        g_mime_multipart_add(mixed, body);
        g_object_unref(body);
        for (size_t i = 0; i < spec->nattachments; i++) {
            GMimeObject *a = attachment_part(&spec->attachments[i]);

            g_mime_multipart_add(mixed, a);
            g_object_unref(a);
        }
        body = GMIME_OBJECT(mixed);
    }
    return body;
}

char *
mime_build(const MIME_SPEC *spec, size_t *len_r, char **error_r)
{
    GMimeMessage *msg = g_mime_message_new(FALSE);
    GMimeObject *obj = GMIME_OBJECT(msg), *body;
    GMimeFormatOptions *fo;
    GMimeStream *out;
    GByteArray *bytes;
    GDateTime *now = g_date_time_new_now_utc();
    char *result = NULL, *clean;

    *error_r = NULL;
    if (spec->received) {
        char *date = g_mime_utils_header_format_date(now);
        char *value;

        clean = one_line(spec->received);
        value = buf_asprintf("%s; %s", clean, date);
        g_mime_object_append_header(obj, "Received", value, NULL);
        mem_free(value);
        mem_free(clean);
        g_free(date);
    }
    g_mime_message_set_date(msg, now);
    if (add_addresses(g_mime_message_get_from(msg), spec->from, "from", error_r) < 0)
        goto out;
    if (spec->sender && *spec->sender
        && add_addresses(g_mime_message_get_sender(msg), spec->sender, "sender", error_r) < 0)
        goto out;
    if (spec->reply_to && *spec->reply_to
        && add_addresses(g_mime_message_get_reply_to(msg), spec->reply_to, "reply_to", error_r) < 0)
        goto out;
    for (size_t i = 0; i < spec->nto; i++)
        if (add_addresses(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), spec->to[i], "to", error_r) < 0)
            goto out;
    for (size_t i = 0; i < spec->ncc; i++)
        if (add_addresses(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), spec->cc[i], "cc", error_r) < 0)
            goto out;
    if (spec->subject) {
        clean = one_line(spec->subject);
        g_mime_message_set_subject(msg, clean, "utf-8");
        mem_free(clean);
    }
    g_mime_message_set_message_id(msg, spec->message_id);
    g_mime_object_set_header(obj, "MIME-Version", "1.0", NULL);
    for (size_t i = 0; i < spec->nheaders; i++) {
        const MIME_HEADER *h = &spec->headers[i];

        if (!mime_header_name_ok(h->name)) {
            *error_r = buf_asprintf("`headers`: \"%s\" is not a valid header name", h->name);
            goto out;
        }
        if (is_built_header(h->name) || (spec->tag && *spec->tag && strcasecmp(h->name, "X-Postal-Tag") == 0))
            continue;
        clean = one_line(h->value);
        g_mime_object_append_header(obj, h->name, clean, "utf-8");
        mem_free(clean);
    }
    if (spec->tag && *spec->tag) {
        clean = one_line(spec->tag);
        g_mime_object_set_header(obj, "X-Postal-Tag", clean, "utf-8");
        mem_free(clean);
    }
    body = build_body(spec);
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);

    fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    out = g_mime_stream_mem_new();
    if (g_mime_object_write_to_stream(obj, fo, out) < 0) {
        *error_r = mem_strdup("the message could not be written");
    } else {
        bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
        result = mem_alloc(bytes->len + 1);
        memcpy(result, bytes->data, bytes->len);
        result[bytes->len] = '\0';
        *len_r = bytes->len;
    }
    g_object_unref(out);
    g_mime_format_options_free(fo);
out:
    g_date_time_unref(now);
    g_object_unref(msg);
    return result;
}

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
