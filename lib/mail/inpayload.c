/*
 * inpayload.c -- Postal's incoming HTTP endpoint payloads (inpayload.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/inpayload.h"
#include "mail/message_view.h"
#include "mail/mime.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/utf8.h"

/* ---------------------------------------------------------------- reply stripping */

static int
starts_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && strncasecmp(s, prefix, n) == 0;
}

static int
ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);

    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Whether the line at s (len bytes, no line end; next: the following line or NULL)
 * starts the quoted part of a reply. */
static int
separator(const char *s, size_t len, const char *next, size_t next_len)
{
    const char *p = s;
    size_t n = len;
    size_t dashes = 0;

    if (n > 0 && *p == '>')
        return 1;
    while (dashes < n && p[dashes] == '-')
        dashes++;
    if (dashes >= 2 && dashes <= 10 && n == dashes + 1 && p[dashes] == ' ')
        return 1;                                       /* "-- " signature delimiter */
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    if (starts_ci(p, n, "-----Original Message-----") || starts_ci(p, n, "----- Original Message -----")
        || starts_ci(p, n, "__________________") || starts_ci(p, n, "Sent from my ")
        || starts_ci(p, n, "=== Please reply above this line ===") || starts_ci(p, n, "-----Urspr"))
        return 1;
    if (starts_ci(p, n, "From:") && next && (starts_ci(next, next_len, "Sent:") || starts_ci(next, next_len, "Date:")))
        return 1;
    if (n > 2 && strncmp(p, "On ", 3) == 0) {
        if (ends_with(p, n, "wrote:"))
            return 1;
        if (next && next_len < 200 && ends_with(next, next_len, "wrote:"))
            return 1;                                   /* "On ..., X <x@y>\nwrote:" wrapped */
    }
    if (n > 3 && strncmp(p, "Le ", 3) == 0 && ends_with(p, n, "a \xc3\xa9" "crit :"))
        return 1;
    return 0;
}

static char *
trimmed(const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char) *s)) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char) s[len - 1]))
        len--;
    return mem_strndup(s, len);
}

void
inpayload_strip_replies(const char *plain, char **body_r, char **replies_r)
{
    BUF *text = buf_new(strlen(plain) + 1);
    const char *s, *cut = NULL;

    for (const char *p = plain; *p; p++)        /* Postal drops every CR first */
        if (*p != '\r')
            buf_append_char(text, *p);
    s = buf_cstr(text);
    for (const char *line = s; *line && cut == NULL;) {
        const char *eol = strchr(line, '\n'), *next = eol ? eol + 1 : NULL;
        size_t len = eol ? (size_t) (eol - line) : strlen(line), next_len = 0;

        if (next && *next)
            next_len = strchr(next, '\n') ? (size_t) (strchr(next, '\n') - next) : strlen(next);
        else
            next = NULL;
        if (separator(line, len, next, next_len))
            cut = line;
        if (eol == NULL)
            break;
        line = eol + 1;
    }
    if (cut == NULL) {
        *body_r = trimmed(s, strlen(s));
        *replies_r = NULL;
    } else {
        *body_r = trimmed(s, (size_t) (cut - s));
        *replies_r = trimmed(cut, strlen(cut));
        if (**replies_r == '\0') {
            mem_free(*replies_r);
            *replies_r = NULL;
        }
    }
    buf_free(text);
}

/* ---------------------------------------------------------------- the payload */

/* Text as a JSON string, bytes that are not valid UTF-8 replaced by '?' (never fails). */
static json_t *
text(const char *s, size_t len)
{
    json_t *j;
    char *copy;

    if (s == NULL)
        return json_null();
    if ((j = json_stringn(s, len)) != NULL)
        return j;
    copy = utf8_clean(s, len, NULL);
    j = json_stringn(copy, len);
    mem_free(copy);
    return j ? j : json_string("");
}

static json_t *
str(const char *s)
{
    return text(s, s ? strlen(s) : 0);
}

/* The last value of header field name (Postal's headers[name].last), or null. */
static json_t *
last_header(const MIME_PARSED *p, const char *name)
{
    const char *value = NULL;

    for (size_t i = 0; i < p->nfields; i++)
        if (strcmp(p->fields[i].name, name) == 0)
            value = p->fields[i].value;
    return str(value);
}

static json_t *
timestamp(const char *t)
{
    return json_real(t ? strtod(t, NULL) : 0.0);
}

json_t *
inpayload_object(const INPAYLOAD_MESSAGE *m, const INPAYLOAD_OPTIONS *o)
{
    json_t *obj = json_object();
    MIME_PARSED *p;

    if (o->raw_format) {
        char *b64 = base64_encode(m->raw, m->raw_len, 0);

        json_object_set_new(obj, "id", json_integer((json_int_t) m->id));
        json_object_set_new(obj, "rcpt_to", str(m->rcpt_to));
        json_object_set_new(obj, "mail_from", str(m->mail_from));
        json_object_set_new(obj, "message", json_string(b64));
        json_object_set_new(obj, "base64", json_true());
        json_object_set_new(obj, "size", json_integer((json_int_t) m->raw_len));
        mem_free(b64);
        return obj;
    }
    p = mime_parse(m->raw, m->raw_len, 0);
    json_object_set_new(obj, "id", json_integer((json_int_t) m->id));
    json_object_set_new(obj, "rcpt_to", str(m->rcpt_to));
    json_object_set_new(obj, "mail_from", str(m->mail_from));
    json_object_set_new(obj, "token", str(m->token));
    json_object_set_new(obj, "subject", str(m->subject));
    json_object_set_new(obj, "message_id", str(m->message_id));
    json_object_set_new(obj, "timestamp", timestamp(m->timestamp));
    json_object_set_new(obj, "size", json_integer((json_int_t) m->size));
    json_object_set_new(obj, "spam_status", str(m->spam_status ? m->spam_status : "NotChecked"));
    json_object_set_new(obj, "bounce", json_boolean(m->bounce));
    json_object_set_new(obj, "received_with_ssl", m->received_with_ssl < 0 ? json_null()
                        : json_boolean(m->received_with_ssl));
    json_object_set_new(obj, "to", last_header(p, "to"));
    json_object_set_new(obj, "cc", last_header(p, "cc"));
    json_object_set_new(obj, "from", last_header(p, "from"));
    json_object_set_new(obj, "date", last_header(p, "date"));
    json_object_set_new(obj, "in_reply_to", last_header(p, "in-reply-to"));
    json_object_set_new(obj, "references", last_header(p, "references"));
    json_object_set_new(obj, "html_body", str(p->html_body));
    json_object_set_new(obj, "attachment_quantity", json_integer((json_int_t) p->nfiles));
    json_object_set_new(obj, "auto_submitted", last_header(p, "auto-submitted"));
    json_object_set_new(obj, "reply_to", last_header(p, "reply-to"));
    if (o->strip_replies && p->plain_body) {
        char *body, *replies;

        inpayload_strip_replies(p->plain_body, &body, &replies);
        json_object_set_new(obj, "plain_body", str(body));
        json_object_set_new(obj, "replies_from_plain_body", str(replies));
        mem_free(body);
        mem_free(replies);
    } else {
        json_object_set_new(obj, "plain_body", str(p->plain_body));
        if (o->strip_replies)
            json_object_set_new(obj, "replies_from_plain_body", json_null());
    }
    if (o->include_attachments) {
        json_t *list = json_array();

        for (size_t i = 0; i < p->nfiles; i++) {
            const MIME_FILE *f = &p->files[i];
            char *b64 = base64_encode(f->data, f->len, 0);

            json_array_append_new(list, json_pack("{s:o, s:o, s:I, s:s}", "filename", str(f->filename),
                                                  "content_type", str(f->content_type), "size",
                                                  (json_int_t) f->len, "data", b64));
            mem_free(b64);
        }
        json_object_set_new(obj, "attachments", list);
    }
    mime_parsed_free(p);
    return obj;
}

/* ---------------------------------------------------------------- form encoding */

static void
escape(BUF *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];

        if (isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_')
            buf_append_char(out, (char) c);
        else if (c == ' ')
            buf_append_char(out, '+');
        else
            buf_printf(out, "%%%02X", c);
    }
}

static void
form_value(BUF *out, const char *key, const json_t *v)
{
    char num[64];
    const char *s = NULL;
    size_t len = 0;

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *sub;

        json_object_foreach((json_t *) v, k, sub) {
            char *name = buf_asprintf("%s[%s]", key, k);

            form_value(out, name, sub);
            mem_free(name);
        }
        return;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *sub;
        char *name = buf_asprintf("%s[]", key);

        json_array_foreach(v, i, sub)
            form_value(out, name, sub);
        mem_free(name);
        return;
    }
    case JSON_STRING:
        s = json_string_value(v);
        len = json_string_length(v);
        break;
    case JSON_INTEGER:
        len = (size_t) snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = num;
        break;
    case JSON_REAL:
        len = (size_t) snprintf(num, sizeof(num), "%.16g", json_real_value(v));
        s = num;
        break;
    case JSON_TRUE:
        s = "true";
        len = 4;
        break;
    case JSON_FALSE:
        s = "false";
        len = 5;
        break;
    default:            /* null: "key=" as Rails' to_query writes it */
        break;
    }
    if (buf_len(out) > 0)
        buf_append_char(out, '&');
    escape(out, key, strlen(key));
    buf_append_char(out, '=');
    if (s)
        escape(out, s, len);
}

char *
inpayload_form_encode(const json_t *obj, size_t *len_r)
{
    BUF *out = buf_new(1024);
    const char *k;
    json_t *v;

    json_object_foreach((json_t *) obj, k, v)
        form_value(out, k, v);
    return buf_steal(out, len_r);
}

char *
inpayload_build(const INPAYLOAD_MESSAGE *m, const INPAYLOAD_OPTIONS *o, size_t *len_r, const char **content_type_r)
{
    json_t *obj = inpayload_object(m, o);
    char *body;

    if (o->form) {
        body = inpayload_form_encode(obj, len_r);
        *content_type_r = "application/x-www-form-urlencoded";
    } else {
        char *j = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16));

        body = mem_strdup(j ? j : "{}");
        free(j);
        *len_r = strlen(body);
        *content_type_r = "application/json";
    }
    json_decref(obj);
    return body;
}
