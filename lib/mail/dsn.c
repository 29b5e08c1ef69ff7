/*
 * dsn.c -- delivery status notifications and feedback reports taken apart (dsn.h).
 *
 * GMime finds the MIME structure (boundaries, transfer encodings); the fields of a
 * message/delivery-status or message/feedback-report part and the quoted headers of a
 * text/rfc822-headers part or a plain-text bounce are read here, line by line, with
 * bounded copies. Every GMime object made here is unreffed before return.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mail/dsn.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/utf8.h"

#define MAX_DEPTH 8
#define MAX_TOKEN 64

typedef struct walk {
    DSN *d;
    int saw_status_part;        /* a message/delivery-status part was read */
    int saw_feedback_part;      /* a message/feedback-report part was read */
    BUF *text;                  /* text/plain parts, for a non-RFC bounce (bounded) */
} WALK;

/* ---------------------------------------------------------------- strings */

/* A trimmed, valid UTF-8 copy of s[0..len) of at most DSN_MAX_FIELD bytes; NULL if empty. */
static char *
clip(const char *s, size_t len)
{
    char *copy, *valid;
    size_t n;

    while (len > 0 && isspace((unsigned char) *s)) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char) s[len - 1]))
        len--;
    if (len == 0)
        return NULL;
    if (len > DSN_MAX_FIELD)
        len = DSN_MAX_FIELD;
    valid = g_utf8_make_valid(s, (gssize) len);
    n = utf8_cut(valid, strlen(valid), DSN_MAX_FIELD);   /* replacement characters may have grown it */
    copy = mem_strndup(valid, n);
    g_free(valid);
    return copy;
}

static void
set_once(char **field, const char *s, size_t len)
{
    if (*field == NULL)
        *field = clip(s, len);
}

/* "type; value" (RFC 3464 address-type, diagnostic-type, mta-name-type): the value. */
static void
typed_value(const char *v, const char **start_r, size_t *len_r)
{
    const char *semi = strchr(v, ';');

    if (semi)
        v = semi + 1;
    *start_r = v;
    *len_r = strlen(v);
}

/* An address from "rfc822; <a@b>" or "a@b". */
static char *
address_value(const char *v)
{
    const char *s;
    size_t len;

    typed_value(v, &s, &len);
    while (len > 0 && isspace((unsigned char) *s)) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char) s[len - 1]))
        len--;
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
        s++;
        len -= 2;
    }
    return clip(s, len);
}

/* The first "X.Y.Z" enhanced status code (class 2, 4 or 5) in s, as a copy; NULL if none. */
static char *
find_status(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        size_t j = i + 1, d2 = 0, d3 = 0;

        if (!(s[i] == '2' || s[i] == '4' || s[i] == '5') || (i > 0 && (isalnum((unsigned char) s[i - 1])
                                                                      || s[i - 1] == '.')))
            continue;
        if (j >= len || s[j] != '.')
            continue;
        for (j++; j < len && isdigit((unsigned char) s[j]) && d2 < 3; j++)
            d2++;
        if (d2 == 0 || j >= len || s[j] != '.')
            continue;
        for (j++; j < len && isdigit((unsigned char) s[j]) && d3 < 3; j++)
            d3++;
        if (d3 == 0 || (j < len && (isalnum((unsigned char) s[j]) || s[j] == '.')))
            continue;
        return mem_strndup(s + i, j - i);
    }
    return NULL;
}

/* A message token from an X-Postal-MsgID value: its leading alphanumerics, lower case. */
static char *
token_value(const char *v)
{
    char out[MAX_TOKEN + 1];
    size_t n = 0;

    while (*v == ' ' || *v == '\t')
        v++;
    while (n < MAX_TOKEN && isalnum((unsigned char) v[n])) {
        out[n] = (char) tolower((unsigned char) v[n]);
        n++;
    }
    if (n == 0)
        return NULL;
    out[n] = '\0';
    return mem_strdup(out);
}

/* A Message-ID value as "<...>" (GMime gives it without brackets). */
static char *
message_id_value(const char *v)
{
    const char *s;
    size_t len;
    char *bare, *out;

    while (*v == ' ' || *v == '\t')
        v++;
    s = v;
    len = strcspn(s, " \t\r\n");
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
        s++;
        len -= 2;
    }
    if ((bare = clip(s, len)) == NULL)
        return NULL;
    /* The brackets count too: at most DSN_MAX_FIELD bytes in all (cut at a character). */
    bare[utf8_cut(bare, strlen(bare), DSN_MAX_FIELD - 2)] = '\0';
    out = buf_asprintf("<%s>", bare);
    mem_free(bare);
    return out;
}

/* ---------------------------------------------------------------- header-style fields */

typedef void (*FIELD_FN)(void *arg, const char *name, const char *value, int block);

#define FIELD_ROOM (DSN_MAX_FIELD * 4)

/* Appends what fits of s[0..len) within FIELD_ROOM bytes. */
static void
append_bounded(BUF *b, const char *s, size_t len)
{
    size_t room = buf_len(b) < FIELD_ROOM ? FIELD_ROOM - buf_len(b) : 0;

    buf_append(b, s, len < room ? len : room);
}

/* Calls fn for each unfolded "Name: value" of text, numbering blocks separated by blank
 * lines; with headers_only it stops at the first blank line. Lines that are not fields
 * are skipped. With quoted (a plain-text bounce quoting headers, perhaps as "> Name:" or
 * indented) every line is a field of its own, leading '>' and blanks dropped. */
static void
scan_fields(const char *text, size_t len, int headers_only, int quoted, FIELD_FN fn, void *arg)
{
    BUF *name = buf_new(64), *value = buf_new(256);
    size_t pos = 0;
    int block = 0, have = 0;

    for (;;) {
        size_t start = pos, end;
        int at_end = pos >= len;

        while (pos < len && text[pos] != '\n')
            pos++;
        end = pos > start && text[pos - 1] == '\r' ? pos - 1 : pos;
        if (pos < len)
            pos++;
        if (quoted)
            while (start < end && (text[start] == '>' || text[start] == ' ' || text[start] == '\t'))
                start++;
        else if (!at_end && end > start && (text[start] == ' ' || text[start] == '\t') && have) {
            /* Unfolding: the line break goes, one blank stays. */
            while (start < end && (text[start] == ' ' || text[start] == '\t'))
                start++;
            append_bounded(value, " ", 1);
            append_bounded(value, text + start, end - start);
            continue;
        }
        if (have) {
            fn(arg, buf_cstr(name), buf_cstr(value), block);
            have = 0;
        }
        if (at_end)
            break;
        if (end == start) {
            if (headers_only && !quoted)
                break;
            block++;
            continue;
        }
        {
            const char *colon = memchr(text + start, ':', end - start);
            size_t nlen = colon ? (size_t) (colon - (text + start)) : 0;
            int good = nlen > 0 && nlen <= 64;

            for (size_t i = 0; good && i < nlen; i++)
                good = isgraph((unsigned char) text[start + i]);
            if (!good)
                continue;
            buf_reset(name);
            for (size_t i = 0; i < nlen; i++)
                buf_append_char(name, (char) tolower((unsigned char) text[start + i]));
            buf_reset(value);
            append_bounded(value, colon + 1, end - start - nlen - 1);
            have = 1;
        }
    }
    buf_free(name);
    buf_free(value);
}

/* ---------------------------------------------------------------- delivery-status */

typedef struct status_ctx {
    DSN *d;
    DSN_RCPT cur;
    int cur_block;
} STATUS_CTX;

static void
rcpt_clear(DSN_RCPT *r)
{
    mem_free(r->final_recipient);
    mem_free(r->original_recipient);
    mem_free(r->action);
    mem_free(r->status);
    mem_free(r->diagnostic);
    mem_free(r->remote_mta);
    memset(r, 0, sizeof(*r));
}

/* The recipient being read is complete: keep it (when it says anything) or drop it. */
static void
rcpt_flush(STATUS_CTX *c)
{
    DSN *d = c->d;

    if ((c->cur.final_recipient || c->cur.original_recipient || c->cur.action || c->cur.status)
        && d->nrcpts < DSN_MAX_RCPTS) {
        d->rcpts = mem_realloc(d->rcpts, (d->nrcpts + 1) * sizeof(*d->rcpts));
        d->rcpts[d->nrcpts++] = c->cur;
        memset(&c->cur, 0, sizeof(c->cur));
    } else {
        rcpt_clear(&c->cur);
    }
}

static void
status_field(void *arg, const char *name, const char *value, int block)
{
    STATUS_CTX *c = arg;
    DSN_RCPT *r = &c->cur;
    const char *s;
    size_t len;

    if (block != c->cur_block) {
        rcpt_flush(c);
        c->cur_block = block;
    }
    if (strcmp(name, "reporting-mta") == 0) {
        typed_value(value, &s, &len);
        set_once(&c->d->reporting_mta, s, len);
    } else if (strcmp(name, "x-postfix-queue-id") == 0) {
        set_once(&c->d->postfix_queue_id, value, strlen(value));
    } else if (strcmp(name, "final-recipient") == 0) {
        if (r->final_recipient)     /* no blank line between two recipients */
            rcpt_flush(c);
        r->final_recipient = address_value(value);
    } else if (strcmp(name, "original-recipient") == 0) {
        if (r->original_recipient == NULL)
            r->original_recipient = address_value(value);
    } else if (strcmp(name, "action") == 0) {
        if (r->action == NULL && (r->action = clip(value, strlen(value))) != NULL) {
            for (char *p = r->action; *p; p++)
                *p = (char) tolower((unsigned char) *p);
            r->action[strcspn(r->action, " \t(")] = '\0';
        }
    } else if (strcmp(name, "status") == 0) {
        if (r->status == NULL)
            r->status = find_status(value, strlen(value));
    } else if (strcmp(name, "diagnostic-code") == 0) {
        typed_value(value, &s, &len);
        set_once(&r->diagnostic, s, len);
    } else if (strcmp(name, "remote-mta") == 0) {
        typed_value(value, &s, &len);
        set_once(&r->remote_mta, s, len);
    }
}

static void
parse_delivery_status(DSN *d, const char *text, size_t len)
{
    STATUS_CTX c = {.d = d};

    scan_fields(text, len, 0, 0, status_field, &c);
    rcpt_flush(&c);
}

/* ---------------------------------------------------------------- feedback-report */

static void
feedback_field(void *arg, const char *name, const char *value, int block)
{
    DSN *d = arg;
    DSN_FEEDBACK *f = &d->feedback;

    (void) block;
    if (strcmp(name, "reporting-mta") == 0) {
        const char *s;
        size_t len;

        typed_value(value, &s, &len);
        set_once(&d->reporting_mta, s, len);
    } else if (strcmp(name, "feedback-type") == 0 && f->type == NULL) {
        const char *s = value;
        size_t len;

        while (*s == ' ' || *s == '\t')
            s++;
        len = strcspn(s, " \t;");
        f->type = clip(s, len);
        for (char *p = f->type; p && *p; p++)
            *p = (char) tolower((unsigned char) *p);
    } else if (strcmp(name, "user-agent") == 0) {
        set_once(&f->user_agent, value, strlen(value));
    } else if (strcmp(name, "original-mail-from") == 0 && f->original_mail_from == NULL) {
        f->original_mail_from = address_value(value);
    } else if (strcmp(name, "original-rcpt-to") == 0 && f->original_rcpt_to == NULL) {
        f->original_rcpt_to = address_value(value);
    } else if (strcmp(name, "arrival-date") == 0 || strcmp(name, "received-date") == 0) {
        set_once(&f->arrival_date, value, strlen(value));
    } else if (strcmp(name, "source-ip") == 0) {
        set_once(&f->source_ip, value, strlen(value));
    }
}

/* A complaint's Feedback-Type (RFC 5965 and 6650's registry): abuse, fraud, virus, other. */
static int
complaint_type(const char *type)
{
    static const char *const types[] = {"abuse", "fraud", "virus", "other", NULL};

    for (int i = 0; type && types[i]; i++)
        if (strcmp(type, types[i]) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- returned headers */

static void
quoted_field(void *arg, const char *name, const char *value, int block)
{
    DSN *d = arg;

    (void) block;
    if (strcmp(name, "x-postal-msgid") == 0 && d->postal_msgid == NULL)
        d->postal_msgid = token_value(value);
    else if (strcmp(name, "message-id") == 0 && d->orig_message_id == NULL)
        d->orig_message_id = message_id_value(value);
}

/* ---------------------------------------------------------------- the MIME walk */

/* The decoded content of a leaf part (transfer encoding undone). */
static GByteArray *
part_content(GMimePart *part, GMimeStream **keep_r)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *mem;

    *keep_r = NULL;
    if (w == NULL)
        return NULL;
    mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(w, mem);
    *keep_r = mem;
    return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
}

static void
returned_message(DSN *d, GMimeMessage *m)
{
    const char *v;

    if (m == NULL)
        return;
    if (d->postal_msgid == NULL && (v = g_mime_object_get_header(GMIME_OBJECT(m), "X-Postal-MsgID")) != NULL)
        d->postal_msgid = token_value(v);
    if (d->orig_message_id == NULL && (v = g_mime_message_get_message_id(m)) != NULL)
        d->orig_message_id = message_id_value(v);
}

static void
walk(WALK *w, GMimeObject *obj, int depth)
{
    GMimeContentType *ct;

    if (obj == NULL || depth > MAX_DEPTH)
        return;
    ct = g_mime_object_get_content_type(obj);
    if (GMIME_IS_MULTIPART(obj)) {
        int n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));

        for (int i = 0; i < n; i++)
            walk(w, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        if (ct && g_mime_content_type_is_type(ct, "message", "*")
            && (g_mime_content_type_is_type(ct, "message", "delivery-status")
                || g_mime_content_type_is_type(ct, "message", "global-delivery-status"))) {
            /* Not expected (GMime keeps these as leaf parts), but harmless. */
            return;
        }
        returned_message(w->d, g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj)));
    } else if (GMIME_IS_PART(obj) && ct) {
        int status = g_mime_content_type_is_type(ct, "message", "delivery-status")
            || g_mime_content_type_is_type(ct, "message", "global-delivery-status");
        int feedback = g_mime_content_type_is_type(ct, "message", "feedback-report");
        int headers = g_mime_content_type_is_type(ct, "text", "rfc822-headers")
            || g_mime_content_type_is_type(ct, "message", "rfc822-headers")
            || g_mime_content_type_is_type(ct, "message", "global-headers");
        int plain = g_mime_content_type_is_type(ct, "text", "plain");
        GMimeStream *keep;
        GByteArray *ba;

        if (!status && !feedback && !headers && !plain)
            return;
        if ((ba = part_content(GMIME_PART(obj), &keep)) != NULL) {
            if (feedback) {
                w->saw_feedback_part = 1;
                scan_fields((const char *) ba->data, ba->len, 0, 0, feedback_field, w->d);
            } else if (status) {
                w->saw_status_part = 1;
                parse_delivery_status(w->d, (const char *) ba->data, ba->len);
            } else if (headers) {
                scan_fields((const char *) ba->data, ba->len, 1, 0, quoted_field, w->d);
            } else if (buf_len(w->text) < DSN_MAX_FIELD * 64) {
                buf_append(w->text, ba->data, ba->len);
                buf_append_str(w->text, "\n");
            }
        }
        if (keep)
            g_object_unref(keep);
    }
}

/* ---------------------------------------------------------------- verdicts */

static int
daemon_address(const char *from)
{
    static const char *const names[] = {"mailer-daemon", "mailer_daemon", "maildaemon", "postmaster", NULL};
    const char *lt = from ? strchr(from, '<') : NULL, *local = lt ? lt + 1 : from;

    if (local == NULL)
        return 0;
    while (*local == ' ' || *local == '"')
        local++;
    for (int i = 0; names[i]; i++)
        if (strncasecmp(local, names[i], strlen(names[i])) == 0 && (local[strlen(names[i])] == '@'
                                                                   || local[strlen(names[i])] == '>'
                                                                   || local[strlen(names[i])] == '\0'))
            return 1;
    return 0;
}

/* An RFC 3834 auto-reply or a vacation notice, by its usual marks. */
static int
auto_reply(GMimeMessage *m)
{
    GMimeObject *o = GMIME_OBJECT(m);
    const char *as = g_mime_object_get_header(o, "Auto-Submitted");
    const char *subject = g_mime_message_get_subject(m);
    static const char *const prefixes[] = {"auto:", "automatic reply", "autoreply", "auto-reply", "out of office",
                                           "abwesenheit", "vacation", NULL};

    if (g_mime_object_get_header(o, "X-Autoreply") || g_mime_object_get_header(o, "X-Autorespond"))
        return 1;
    if (as && strncasecmp(as, "auto-replied", 12) == 0)
        return 1;
    while (subject && *subject == ' ')
        subject++;
    for (int i = 0; subject && prefixes[i]; i++)
        if (strncasecmp(subject, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

static int
is_failure(const DSN_RCPT *r)
{
    if (r->action)
        return strcmp(r->action, "failed") == 0;
    return r->status && r->status[0] == '5';
}

/* A non-RFC bounce: the quoted X-Postal-MsgID, the first status code and its line. */
static void
plain_bounce(DSN *d, GMimeMessage *m, const BUF *text, const char *envelope_from)
{
    const char *t = buf_cstr(text), *from = g_mime_object_get_header(GMIME_OBJECT(m), "From");
    const char *failed = g_mime_object_get_header(GMIME_OBJECT(m), "X-Failed-Recipients");
    int daemon = daemon_address(from);
    char *status;
    DSN_RCPT r = {0};

    scan_fields(t, buf_len(text), 0, 1, quoted_field, d);
    if (d->postal_msgid == NULL)
        return;
    status = find_status(t, buf_len(text));
    if (!daemon && !(envelope_from && *envelope_from == '\0' && status && !auto_reply(m))) {
        mem_free(status);
        return;
    }
    if (status && status[0] != '5' && status[0] != '4') {
        mem_free(status);
        status = NULL;
    }
    if (status && status[0] == '4') {
        /* A delay warning, not a bounce. */
        mem_free(status);
        return;
    }
    if (status) {
        /* The line that carries the code is the best reason there is. */
        const char *at = memmem(t, buf_len(text), status, strlen(status)), *start = at, *end = at;

        while (start > t && start[-1] != '\n')
            start--;
        while (end < t + buf_len(text) && *end != '\n')
            end++;
        r.diagnostic = clip(start, (size_t) (end - start));
    }
    if (failed) {
        /* "a@b, c@d": the first one. */
        char *first = mem_strndup(failed, strcspn(failed, ","));

        r.final_recipient = address_value(first);
        mem_free(first);
    }
    r.action = mem_strdup("failed");
    r.status = status;
    d->rcpts = mem_zalloc(sizeof(*d->rcpts));
    d->rcpts[0] = r;
    d->nrcpts = 1;
    d->kind = DSN_PLAIN;
}

DSN *
dsn_parse(const void *raw, size_t len, const char *envelope_from)
{
    DSN *d = mem_zalloc(sizeof(*d));
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *m;
    WALK w = {.d = d};

    if (raw == NULL || len == 0)
        return d;
    stream = g_mime_stream_mem_new_with_buffer(raw, len);
    parser = g_mime_parser_new_with_stream(stream);
    m = g_mime_parser_construct_message(parser, NULL);
    if (m == NULL)
        goto out;
    w.text = buf_new(4096);
    walk(&w, g_mime_message_get_mime_part(m), 0);
    if (w.saw_feedback_part) {
        if (complaint_type(d->feedback.type))
            d->kind = DSN_COMPLAINT;
    } else if (w.saw_status_part) {
        for (size_t i = 0; i < d->nrcpts; i++)
            if (is_failure(&d->rcpts[i]))
                d->kind = DSN_REPORT;
    } else {
        plain_bounce(d, m, w.text, envelope_from);
    }
    buf_free(w.text);
    g_object_unref(m);
out:
    g_object_unref(parser);
    g_object_unref(stream);
    return d;
}

void
dsn_free(DSN *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nrcpts; i++)
        rcpt_clear(&d->rcpts[i]);
    mem_free(d->rcpts);
    mem_free(d->reporting_mta);
    mem_free(d->postfix_queue_id);
    mem_free(d->orig_message_id);
    mem_free(d->postal_msgid);
    mem_free(d->feedback.type);
    mem_free(d->feedback.user_agent);
    mem_free(d->feedback.original_mail_from);
    mem_free(d->feedback.original_rcpt_to);
    mem_free(d->feedback.arrival_date);
    mem_free(d->feedback.source_ip);
    mem_free(d);
}

const DSN_RCPT *
dsn_failed_rcpt(const DSN *d, const char *rcpt)
{
    const DSN_RCPT *first = NULL;

    for (size_t i = 0; i < d->nrcpts; i++) {
        const DSN_RCPT *r = &d->rcpts[i];

        if (!is_failure(r))
            continue;
        if (first == NULL)
            first = r;
        if (rcpt && ((r->final_recipient && strcasecmp(r->final_recipient, rcpt) == 0)
                     || (r->original_recipient && strcasecmp(r->original_recipient, rcpt) == 0)))
            return r;
    }
    return first;
}

int
dsn_rcpt_is_hard(const DSN_RCPT *r)
{
    return r && r->status && r->status[0] == '5';
}
