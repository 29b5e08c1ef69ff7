/*
 * api_v1.c -- Postal's HTTP API v1 (api_v1.h, doc/api.md).
 *
 * Each handler: authenticate the X-Server-API-Key header as an API credential, read
 * the parameters (a JSON body, or a form field `params` holding JSON), validate them in
 * Postal's order with Postal's codes and messages, then act. Sending builds (send/message)
 * or takes (send/raw) an RFC 5322 message and hands it to submit_message(); reading
 * looks the message up among the credential's server's rows only. This file holds the
 * sending; the call and the answers are api_v1_call.c's, the reading api_v1_messages.c's.
 *
 * Must never: answer another server's message, log a key, put a parameter into SQL text
 * (prepared statements only), or answer success before Postfix accepted the message.
 * It holds no SQL: the message log is read through lib/mail/message.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api_v1.h"
#include "api_v1_call.h"
#include "api_v1_lookup.h"
#include "mail/address.h"
#include "mail/credential.h"
#include "mail/domain.h"
#include "mail/message.h"
#include "mail/message_view.h"
#include "mail/server.h"
#include "mail/submit.h"
#include "mgmt.h"
#include "mail/mime_build.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define MAX_ADDRESSES 50        /* per To, CC and BCC: Postal's limit */
#define MAX_RAW_RCPTS 1000      /* send/raw: Postfix's default smtpd_recipient_limit */
#define MAX_ADDRESS_LEN 320
/* Base64 as Postal reads it: either alphabet, white space ignored, padding optional. */
#define API_V1_BASE64 (BASE64_ANY | BASE64_SPACE | BASE64_LAX)

/* Postal's messages for the send errors (LegacyAPI::SendController::ERROR_MESSAGES). */
static const struct {
    const char *code;
    const char *message;
} send_errors[] = {
    {"NoRecipients", "There are no recipients defined to receive this message"},
    {"NoContent", "There is no content defined for this e-mail"},
    {"TooManyToAddresses", "The maximum number of To addresses has been reached (maximum 50)"},
    {"TooManyCCAddresses", "The maximum number of CC addresses has been reached (maximum 50)"},
    {"TooManyBCCAddresses", "The maximum number of BCC addresses has been reached (maximum 50)"},
    {"FromAddressMissing", "The From address is missing and is required"},
    {"UnauthenticatedFromAddress", "The From address is not authorised to send mail from this server"},
    {"AttachmentMissingName", "An attachment is missing a name"},
    {"AttachmentMissingData", "An attachment is missing data"},
};

/* A growable list of strings (mem_* owned). */
typedef struct strv {
    char **items;
    size_t n;
} STRV;

static void
strv_add(STRV *v, char *s)
{
    v->items = mem_realloc(v->items, (v->n + 1) * sizeof(char *));
    v->items[v->n++] = s;
}

static void
strv_free(STRV *v)
{
    for (size_t i = 0; i < v->n; i++)
        mem_free(v->items[i]);
    mem_free(v->items);
    v->items = NULL;
    v->n = 0;
}

/* ---------------------------------------------------------------- answers */

static void
reply_send_error(HTTP_REQUEST *req, const char *code)
{
    for (size_t i = 0; i < sizeof(send_errors) / sizeof(send_errors[0]); i++)
        if (strcmp(send_errors[i].code, code) == 0) {
            v1_reply_error(req, code, send_errors[i].message, NULL);
            return;
        }
    v1_reply_error(req, code, NULL, NULL);
}

/* ---------------------------------------------------------------- parameters */

/* A string parameter: 0 with *out (NULL when absent or null), -1 after a parameter-error. */
static int
param_string(V1_CALL *c, const char *name, const char **out)
{
    json_t *v = json_object_get(c->call.body, name);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        v1_reply_param_error(c->call.req, "`%s` must be a string", name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* to / cc / bcc: an array of strings, or one string of comma-separated entries (as
 * Postal splits it). Entries are kept as given (they may carry display names). */
/* A boolean parameter: Postal takes true/false, and also 1/0 and "true"/"false". */
static int
param_bool(V1_CALL *c, const char *name, int *out)
{
    json_t *v = json_object_get(c->call.body, name);

    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_boolean(v))
        *out = json_is_true(v);
    else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        *out = json_integer_value(v) == 1;
    else if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 || strcmp(json_string_value(v), "false") == 0))
        *out = strcmp(json_string_value(v), "true") == 0;
    else {
        v1_reply_param_error(c->call.req, "`%s` must be true or false", name);
        return -1;
    }
    return 0;
}

static int
param_address_list(V1_CALL *c, const char *name, STRV *out)
{
    json_t *v = json_object_get(c->call.body, name), *item;
    size_t i;

    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);

        while (*s) {
            size_t n = strcspn(s, ",");

            if (n > 0)
                strv_add(out, mem_strndup(s, n));
            s += n;
            if (*s == ',')
                for (s++; *s && isspace((unsigned char) *s); s++)
                    ;
        }
        return 0;
    }
    if (!json_is_array(v)) {
        v1_reply_param_error(c->call.req, "`%s` must be an array of e-mail addresses", name);
        return -1;
    }
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            v1_reply_param_error(c->call.req, "`%s` must be an array of e-mail addresses", name);
            return -1;
        }
        strv_add(out, mem_strdup(json_string_value(item)));
    }
    return 0;
}

/* An address usable in an SMTP envelope: no controls, spaces or angle brackets, one '@'
 * with something on both sides. */
static int
envelope_address_ok(const char *a)
{
    const char *at = strrchr(a, '@');
    size_t n = strlen(a);

    if (n == 0 || n > MAX_ADDRESS_LEN || at == NULL || at == a || at[1] == '\0')
        return 0;
    for (const char *p = a; *p; p++)
        if ((unsigned char) *p <= 32 || *p == '<' || *p == '>' || *p == '"' || *p == 127)
            return 0;
    return 1;
}

/* Adds the addr-specs of an address-list entry to rcpts (lower-cased duplicates skipped).
 * -1 after a parameter-error. */
static int
add_recipients(V1_CALL *c, const char *param, const char *entry, STRV *rcpts)
{
    char **addrs;
    size_t n = address_list_parse(entry, &addrs);

    if (n == 0) {
        v1_reply_param_error(c->call.req, "`%s` contains an invalid e-mail address: \"%s\"", param, entry);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int dup = 0;

        if (!envelope_address_ok(addrs[i])) {
            v1_reply_param_error(c->call.req, "`%s` contains an invalid e-mail address: \"%s\"", param, entry);
            address_list_free(addrs, n);
            return -1;
        }
        for (size_t j = 0; j < rcpts->n && !dup; j++)
            dup = strcasecmp(rcpts->items[j], addrs[i]) == 0;
        if (!dup)
            strv_add(rcpts, mem_strdup(addrs[i]));
    }
    address_list_free(addrs, n);
    return 0;
}

/* ---------------------------------------------------------------- From ownership */

/* 1 when every address of the list value is in a verified sending domain of server,
 * 0 when one is not (or there is none, or the value reads more than one way: the same
 * strict reading as the milter's), < 0 database error. */
static int
addresses_owned(DB *db, const SERVER *server, const char *value)
{
    char **addrs, *why = NULL;
    size_t n = value ? address_list_parse_strict(value, &addrs, &why) : 0;
    int ret = n > 0;

    mem_free(why);

    for (size_t i = 0; i < n && ret == 1; i++) {
        const char *domain = address_domain(addrs[i]);

        ret = domain ? api_v1_sending_domain(db, server, domain) : 0;
    }
    if (n)
        address_list_free(addrs, n);
    return ret;
}

/* Postal's rule: the From address, or with allow_sender the Sender address. */
static int
from_authenticated(V1_CALL *c, const SERVER *server, const char *from, const char *sender)
{
    int ret = addresses_owned(c->call.db, server, from);

    if (ret == 0 && server->allow_sender && !v1_blank(sender))
        ret = addresses_owned(c->call.db, server, sender);
    return ret;
}

/* ---------------------------------------------------------------- submitting */

/* Hands raw to Postfix and answers; rcpts are the envelope recipients. */
static void
submit_and_answer(V1_CALL *c, const char *mail_from, const STRV *rcpts, const char *raw, size_t len,
                  const char *message_id, int bounce)
{
    SUBMIT_RCPT *sr = mem_zalloc(rcpts->n * sizeof(*sr));
    char *error = NULL;
    int code = 0, ret;

    for (size_t i = 0; i < rcpts->n; i++)
        sr[i].address = rcpts->items[i];
    ret = submit_message(c->call.db, c->call.req->cfg, c->call.m->seal, &c->cred, mail_from, sr, rcpts->n, raw, len, &code,
                         &error);
    if (ret < 0) {
        v1_reply_temporary(c, "submitting to Postfix", error);
    } else if (ret == 0) {
        msg_info("credential %llu: Postfix refused a submission: %d %s", c->cred.id, code, error ? error : "");
        if (code == 530) {
            reply_send_error(c->call.req, "UnauthenticatedFromAddress");
        } else {
            char *message = buf_asprintf("The message was refused: %d %s", code, error ? error : "");

            v1_reply_error(c->call.req, "MessageRejected", message, NULL);
            mem_free(message);
        }
    } else {
        json_t *data = json_object(), *messages = json_object();

        /* The rows exist now (their ids were read back): mark them as bounces. */
        for (size_t i = 0; bounce && i < rcpts->n; i++)
            if (sr[i].id && (ret = message_mark_bounce(c->call.db, c->cred.server_id, sr[i].id)) < 0)
                msg_warn("credential %llu: marking message %llu as a bounce: %s", c->cred.id, sr[i].id,
                         db_error(c->call.db));
        json_object_set_new(data, "message_id", message_id ? json_string(message_id) : json_null());
        for (size_t i = 0; i < rcpts->n; i++)
            json_object_set_new(messages, sr[i].address,
                                json_pack("{s:I, s:s}", "id", (json_int_t) sr[i].id, "token", sr[i].token));
        json_object_set_new(data, "messages", messages);
        v1_reply_success(c->call.req, data);
    }
    mem_free(error);
    mem_free(sr);
}

/* "<uuid>@<return path domain>": Postal's Message-ID form. NULL if the CSPRNG fails. */
static char *
new_message_id(const PGCONF *cfg)
{
    char uuid[37];

    if (token_uuid(uuid) < 0)
        return NULL;
    return buf_asprintf("%s@%s", uuid, cfg->dns_return_path_domain);
}

/* ---------------------------------------------------------------- send/message */

typedef struct send_params {
    STRV to, cc, bcc;
    const char *from, *sender, *subject, *reply_to, *plain_body, *html_body, *tag;
    int bounce;                 /* Postal's `bounce`: the message is itself a bounce */
    MIME_HEADER *headers;
    size_t nheaders;
    STRV header_values;
    MIME_ATTACHMENT *attachments;
    size_t nattachments;
    STRV attachment_data;
} SEND_PARAMS;

static void
send_params_free(SEND_PARAMS *p)
{
    strv_free(&p->to);
    strv_free(&p->cc);
    strv_free(&p->bcc);
    strv_free(&p->header_values);
    strv_free(&p->attachment_data);
    mem_free(p->headers);
    mem_free(p->attachments);
}

/* Reads every parameter; -1 after a parameter-error. Attachments are listed as given
 * (their checks come later, in Postal's order). */
static int
read_send_params(V1_CALL *c, SEND_PARAMS *p)
{
    json_t *headers = json_object_get(c->call.body, "headers");
    json_t *attachments = json_object_get(c->call.body, "attachments");

    if (param_address_list(c, "to", &p->to) < 0 || param_address_list(c, "cc", &p->cc) < 0
        || param_address_list(c, "bcc", &p->bcc) < 0 || param_string(c, "from", &p->from) < 0
        || param_string(c, "sender", &p->sender) < 0 || param_string(c, "subject", &p->subject) < 0
        || param_string(c, "reply_to", &p->reply_to) < 0 || param_string(c, "plain_body", &p->plain_body) < 0
        || param_string(c, "html_body", &p->html_body) < 0 || param_string(c, "tag", &p->tag) < 0
        || param_bool(c, "bounce", &p->bounce) < 0)
        return -1;
    if (headers && !json_is_null(headers)) {
        const char *name;
        json_t *value;

        if (!json_is_object(headers)) {
            v1_reply_param_error(c->call.req, "`headers` must be an object of header names and values");
            return -1;
        }
        p->headers = mem_zalloc((json_object_size(headers) + 1) * sizeof(*p->headers));
        json_object_foreach(headers, name, value) {
            char *text;

            if (json_is_string(value)) {
                text = mem_strdup(json_string_value(value));
            } else if (json_is_number(value) || json_is_boolean(value)) {
                char *dumped = json_dumps(value, JSON_ENCODE_ANY);   /* as Postal's to_s */

                text = mem_strdup(dumped ? dumped : "");
                free(dumped);
            } else {
                text = NULL;
            }
            if (text == NULL) {
                v1_reply_param_error(c->call.req, "`headers`: the value of \"%s\" must be a string", name);
                return -1;
            }
            if (!mime_header_name_ok(name)) {
                mem_free(text);
                v1_reply_param_error(c->call.req, "`headers`: \"%s\" is not a valid header name", name);
                return -1;
            }
            strv_add(&p->header_values, text);
            p->headers[p->nheaders].name = name;
            p->headers[p->nheaders].value = text;
            p->nheaders++;
        }
    }
    if (attachments && !json_is_null(attachments)) {
        size_t i;
        json_t *a;

        if (!json_is_array(attachments)) {
            v1_reply_param_error(c->call.req, "`attachments` must be an array");
            return -1;
        }
        p->attachments = mem_zalloc((json_array_size(attachments) + 1) * sizeof(*p->attachments));
        json_array_foreach(attachments, i, a) {
            MIME_ATTACHMENT *m;

            if (!json_is_object(a))
                continue;   /* as Postal: entries that are not objects are ignored */
            m = &p->attachments[p->nattachments++];
            m->name = json_string_value(json_object_get(a, "name"));
            m->content_type = json_string_value(json_object_get(a, "content_type"));
            m->data = json_string_value(json_object_get(a, "data"));
        }
    }
    return 0;
}

/* Postal's validation order; the first failure is answered. NULL when all is well. */
static const char *
send_error(const SEND_PARAMS *p)
{
    if (p->to.n == 0 && p->cc.n == 0 && p->bcc.n == 0)
        return "NoRecipients";
    if (p->to.n > MAX_ADDRESSES)
        return "TooManyToAddresses";
    if (p->cc.n > MAX_ADDRESSES)
        return "TooManyCCAddresses";
    if (p->bcc.n > MAX_ADDRESSES)
        return "TooManyBCCAddresses";
    if (v1_blank(p->plain_body) && v1_blank(p->html_body))
        return "NoContent";
    if (v1_blank(p->from))
        return "FromAddressMissing";
    return NULL;
}

static const char *
attachment_error(const SEND_PARAMS *p)
{
    for (size_t i = 0; i < p->nattachments; i++) {
        if (v1_blank(p->attachments[i].name))
            return "AttachmentMissingName";
        if (v1_blank(p->attachments[i].data))
            return "AttachmentMissingData";
    }
    return NULL;
}

void
api_v1_send_message(HTTP_REQUEST *req, void *arg)
{
    SEND_PARAMS p = {0};
    STRV rcpts = {0};
    char *message_id = NULL, *raw = NULL, *error = NULL, *received = NULL, **from_addrs = NULL;
    size_t len = 0, nfrom = 0;
    const char *code;
    SERVER server;
    V1_CALL c;
    int ret;

    if (v1_call_begin(&c, req, arg) < 0)
        goto out;
    if (read_send_params(&c, &p) < 0)
        goto out;
    if ((code = send_error(&p)) != NULL) {
        reply_send_error(req, code);
        goto out;
    }
    /* The credential's server (gone: the From is not its own). */
    if ((ret = api_v1_server(c.call.db, c.cred.server_id, &server)) > 0)
        ret = from_authenticated(&c, &server, p.from, p.sender);
    if (ret < 0) {
        v1_reply_temporary(&c, "sending domain lookup", db_error(c.call.db));
        goto out;
    }
    if (ret == 0) {
        reply_send_error(req, "UnauthenticatedFromAddress");
        goto out;
    }
    if ((code = attachment_error(&p)) != NULL) {
        reply_send_error(req, code);
        goto out;
    }
    /* The data: base64 decoded in place of the text (kept alive by attachment_data). */
    for (size_t i = 0; i < p.nattachments; i++) {
        size_t n;
        unsigned char *bytes = base64_decode_str(p.attachments[i].data, API_V1_BASE64, &n);

        if (bytes == NULL) {
            v1_reply_param_error(req, "`attachments`: the data of \"%s\" is not valid base64", p.attachments[i].name);
            goto out;
        }
        strv_add(&p.attachment_data, (char *) bytes);
        p.attachments[i].data = bytes;
        p.attachments[i].len = n;
    }
    for (size_t i = 0; i < p.to.n; i++)
        if (add_recipients(&c, "to", p.to.items[i], &rcpts) < 0)
            goto out;
    for (size_t i = 0; i < p.cc.n; i++)
        if (add_recipients(&c, "cc", p.cc.items[i], &rcpts) < 0)
            goto out;
    for (size_t i = 0; i < p.bcc.n; i++)
        if (add_recipients(&c, "bcc", p.bcc.items[i], &rcpts) < 0)
            goto out;
    nfrom = address_list_parse(p.from, &from_addrs);
    if (nfrom == 0 || !envelope_address_ok(from_addrs[0])) {
        v1_reply_param_error(req, "`from` is not a valid e-mail address");
        goto out;
    }
    if ((message_id = new_message_id(req->cfg)) == NULL) {
        v1_reply_temporary(&c, "message id", "random number generator failed");
        goto out;
    }
    /* Privacy mode: the trace field names this host only, not the API client. */
    if (server.privacy_mode)
        received = buf_asprintf("by %s (postgate) with HTTP", req->cfg->dns_smtp_server_hostname);
    else
        received = buf_asprintf("from api ([%s]) by %s (postgate) with HTTP", req->client_ip,
                                req->cfg->dns_smtp_server_hostname);
    {
        MIME_SPEC spec = {
            .from = p.from, .sender = p.sender, .reply_to = p.reply_to,
            .to = (const char *const *) p.to.items, .nto = p.to.n,
            .cc = (const char *const *) p.cc.items, .ncc = p.cc.n,
            .subject = p.subject, .plain_body = p.plain_body, .html_body = p.html_body, .tag = p.tag,
            .message_id = message_id, .received = received, .headers = p.headers, .nheaders = p.nheaders,
            .attachments = p.attachments, .nattachments = p.nattachments,
        };

        raw = mime_build(&spec, &len, &error);
    }
    if (raw == NULL) {
        v1_reply_param_error(req, "%s", error);
        goto out;
    }
    submit_and_answer(&c, from_addrs[0], &rcpts, raw, len, message_id, p.bounce);
out:
    if (from_addrs)
        address_list_free(from_addrs, nfrom);
    strv_free(&rcpts);
    send_params_free(&p);
    mem_free(message_id);
    mem_free(received);
    mem_free(raw);
    mem_free(error);
    mgmt_call_end(&c.call);
}

/* ---------------------------------------------------------------- send/raw */

/* The message with every line ending CRLF. */
static char *
crlf(const unsigned char *in, size_t len, size_t *len_r)
{
    BUF *b = buf_new(len + len / 32 + 16);

    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
            buf_append_char(b, '\r');
        buf_append_char(b, (char) in[i]);
    }
    if (len == 0 || in[len - 1] != '\n')
        buf_append_str(b, "\r\n");
    return buf_steal(b, len_r);
}

void
api_v1_send_raw(HTTP_REQUEST *req, void *arg)
{
    json_t *rcpt_to, *item;
    const char *mail_from, *data;
    unsigned char *decoded = NULL;
    char *raw = NULL, *message_id = NULL;
    size_t len, i;
    STRV rcpts = {0};
    MIME_PARSED *parsed = NULL;
    int bounce = 0;
    V1_CALL c;

    if (v1_call_begin(&c, req, arg) < 0)
        goto out;
    rcpt_to = json_object_get(c.call.body, "rcpt_to");
    if (!json_is_array(rcpt_to)) {
        v1_reply_param_error(req, "`rcpt_to` parameter is required but is missing");
        goto out;
    }
    if (param_string(&c, "mail_from", &mail_from) < 0 || param_string(&c, "data", &data) < 0
        || param_bool(&c, "bounce", &bounce) < 0)
        goto out;
    if (v1_blank(mail_from)) {
        v1_reply_param_error(req, "`mail_from` parameter is required but is missing");
        goto out;
    }
    if (v1_blank(data)) {
        v1_reply_param_error(req, "`data` parameter is required but is missing");
        goto out;
    }
    if ((decoded = base64_decode_str(data, API_V1_BASE64, &len)) == NULL) {
        v1_reply_param_error(req, "`data` is not valid base64");
        goto out;
    }
    {
        char envelope[MAX_ADDRESS_LEN + 1];

        if (address_envelope(mail_from, envelope, sizeof(envelope)) < 0
            || (*envelope && !envelope_address_ok(envelope))) {
            v1_reply_param_error(req, "`mail_from` is not a valid e-mail address");
            goto out;
        }
    }
    json_array_foreach(rcpt_to, i, item) {
        const char *a = json_string_value(item);
        int dup = 0;

        if (a == NULL || !envelope_address_ok(a)) {
            v1_reply_param_error(req, "`rcpt_to` must be an array of e-mail addresses");
            goto out;
        }
        for (size_t j = 0; j < rcpts.n && !dup; j++)
            dup = strcasecmp(rcpts.items[j], a) == 0;
        if (!dup)
            strv_add(&rcpts, mem_strdup(a));
    }
    if (rcpts.n == 0) {
        reply_send_error(req, "NoRecipients");
        goto out;
    }
    if (rcpts.n > MAX_RAW_RCPTS) {
        v1_reply_param_error(req, "`rcpt_to` lists more than %d addresses", MAX_RAW_RCPTS);
        goto out;
    }
    raw = crlf(decoded, len, &len);
    parsed = mime_parse(raw, len, 1);
    if (mime_parsed_header(parsed, "Message-ID") && !v1_blank(mime_parsed_header(parsed, "Message-ID"))) {
        message_id = message_view_bare_id(mime_parsed_header(parsed, "Message-ID"));
    } else {
        /* Give it one, so the answer and the rows name the message. */
        char *with;

        if ((message_id = new_message_id(req->cfg)) == NULL) {
            v1_reply_temporary(&c, "message id", "random number generator failed");
            goto out;
        }
        with = buf_asprintf("Message-ID: <%s>\r\n", message_id);
        {
            BUF *b = buf_new(strlen(with) + len + 1);

            buf_append_str(b, with);
            buf_append(b, raw, len);
            mem_free(raw);
            raw = buf_steal(b, &len);
        }
        mem_free(with);
    }
    {
        char envelope[MAX_ADDRESS_LEN + 1];

        address_envelope(mail_from, envelope, sizeof(envelope));
        submit_and_answer(&c, envelope, &rcpts, raw, len, message_id, bounce);
    }
out:
    mime_parsed_free(parsed);
    strv_free(&rcpts);
    mem_free(decoded);
    mem_free(raw);
    mem_free(message_id);
    mgmt_call_end(&c.call);
}
