/*
 * mime_build.c -- building messages with GMime 3 (mime_build.h).
 *
 * GMime objects are reference-counted GObjects: every one made here is unreffed
 * before return, and strings GLib allocates are copied into mem_* storage so callers
 * free everything with mem_free.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mail/mime_build.h"
#include "util/buf.h"
#include "util/mem.h"

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
