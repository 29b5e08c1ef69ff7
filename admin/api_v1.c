/*
 * api_v1.c -- Postal's HTTP API v1 (api_v1.h, doc/api.md).
 *
 * Each handler: authenticate the X-Server-API-Key header as an API credential, read
 * the parameters (a JSON body, or a form field `params` holding JSON), validate them in
 * Postal's order with Postal's codes and messages, then act. Sending builds (send/message)
 * or takes (send/raw) an RFC 5322 message and hands it to submit_message(); reading
 * looks the message up among the credential's server's rows only.
 *
 * Must never: answer another server's message, log a key, put a parameter into SQL text
 * (prepared statements only), or answer success before Postfix accepted the message.
 * It holds no SQL: the message log is read through lib/mail/message.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api_v1.h"
#include "mail/address.h"
#include "mail/credential.h"
#include "mail/domain.h"
#include "mail/message.h"
#include "mail/message_view.h"
#include "mail/server.h"
#include "mail/submit.h"
#include "mgmt.h"
#include "mime_build.h"
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

static const char *const expansion_names[] = {
    "status", "details", "inspection", "plain_body", "html_body", "attachments", "headers", "raw_message",
    "activity_entries",
};
enum { X_STATUS, X_DETAILS, X_INSPECTION, X_PLAIN, X_HTML, X_ATTACHMENTS, X_HEADERS, X_RAW, X_ACTIVITY, NX };

/* One API call: the management toolkit's call (the request, the database handle, and the
 * parameters as its body) and the credential it authenticated as. */
typedef struct v1_call {
    MGMT_CALL call;
    CREDENTIAL cred;
} V1_CALL;

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

/* Postal rounds the time to milliseconds. */
static double
elapsed3(HTTP_REQUEST *req)
{
    return (double) (long long) (http_elapsed(req) * 1000.0 + 0.5) / 1000.0;
}

static void
reply(HTTP_REQUEST *req, unsigned http_status, const char *status, json_t *data)
{
    json_t *env = json_object();

    json_object_set_new(env, "status", json_string(status));
    json_object_set_new(env, "time", json_real(elapsed3(req)));
    json_object_set_new(env, "flags", json_object());
    json_object_set_new(env, "data", data ? data : json_object());
    http_reply_json(req, http_status, env);
}

static void
reply_success(HTTP_REQUEST *req, json_t *data)
{
    reply(req, MHD_HTTP_OK, "success", data);
}

/* An "error" with code and message; extra (may be NULL) adds fields to data. */
static void
reply_error(HTTP_REQUEST *req, const char *code, const char *message, json_t *extra)
{
    json_t *data = extra ? extra : json_object();

    if (message)
        json_object_set_new(data, "message", json_string(message));
    json_object_set_new(data, "code", json_string(code));
    reply(req, MHD_HTTP_OK, "error", data);
}

static void
reply_send_error(HTTP_REQUEST *req, const char *code)
{
    for (size_t i = 0; i < sizeof(send_errors) / sizeof(send_errors[0]); i++)
        if (strcmp(send_errors[i].code, code) == 0) {
            reply_error(req, code, send_errors[i].message, NULL);
            return;
        }
    reply_error(req, code, NULL, NULL);
}

__attribute__((format(printf, 2, 3)))
static void
reply_param_error(HTTP_REQUEST *req, const char *fmt, ...)
{
    BUF *b = buf_new(128);
    json_t *data = json_object();
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
    json_object_set_new(data, "message", json_string(buf_cstr(b)));
    buf_free(b);
    reply(req, MHD_HTTP_OK, "parameter-error", data);
}

/* MariaDB or Postfix unreachable: HTTP 503 so that clients retry (not a Postal code). */
static void
reply_temporary(V1_CALL *c, const char *what, const char *detail)
{
    json_t *data = json_object();

    msg_warn("%s %s: %s: %s", c->call.req->method, c->call.req->path, what, detail ? detail : "");
    json_object_set_new(data, "code", json_string("TemporaryFailure"));
    json_object_set_new(data, "message",
                        json_string("A temporary failure prevented the request from completing; retry later."));
    reply(c->call.req, MHD_HTTP_SERVICE_UNAVAILABLE, "error", data);
}

/* ---------------------------------------------------------------- the call */

/* The parameters: the form field `params`, or the body as JSON. NULL with *error_r. */
static json_t *
parse_params(HTTP_REQUEST *req, char **error_r)
{
    const char *text;
    size_t len;
    json_error_t err;
    json_t *root;

    text = req->is_form ? http_form_value(req, "params", &len) : NULL;
    if (text == NULL) {
        /* A JSON body, also under a form content type (curl -d sends one by default). */
        size_t i = 0;

        text = (const char *) req->body;
        len = req->body_len;
        while (i < len && isspace((unsigned char) text[i]))
            i++;
        if (req->is_form && (i == len || text[i] != '{')) {
            if (!req->form_ok) {
                *error_r = mem_strdup("The form body could not be parsed.");
                return NULL;
            }
            return json_object();   /* a form without `params`: no parameters (as Postal) */
        }
        if (i == len)
            return json_object();
    }
    root = json_loadb(text, len, 0, &err);
    if (root == NULL) {
        if (json_error_code(&err) == json_error_invalid_utf8)
            *error_r = mem_strdup("The parameters are not valid UTF-8.");
        else
            *error_r = buf_asprintf("The parameters are not valid JSON: %s (line %d, column %d).", err.text,
                                    err.line, err.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *error_r = mem_strdup("The parameters must be a JSON object.");
        return NULL;
    }
    return root;
}

/* Authenticates and reads the parameters into c->call.body; 0 to go on, -1 when already
 * answered (mgmt_call_end() in both cases). */
static int
v1_call_begin(V1_CALL *c, HTTP_REQUEST *req, void *arg)
{
    const char *key = http_header(req, "X-Server-API-Key");
    char *error = NULL;
    int ret;

    memset(c, 0, sizeof(*c));
    mgmt_call_open(&c->call, req, arg);
    if (key == NULL || key[strspn(key, " \t")] == '\0') {
        reply_error(req, "AccessDenied", "Must be authenticated as a server.", NULL);
        return -1;
    }
    ret = credential_by_key(c->call.db, "API", key, &c->cred);
    if (ret < 0) {
        reply_temporary(c, "credential lookup", db_error(c->call.db));
        return -1;
    }
    if (ret == 0) {
        reply_error(req, "InvalidServerAPIKey", "The API token provided in X-Server-API-Key was not valid.", NULL);
        return -1;
    }
    http_set_credential(req, c->cred.id);
    if (c->cred.suspended) {
        reply_error(req, "ServerSuspended", "The mail server has been suspended.", NULL);
        return -1;
    }
    credential_touch(c->cred.id);
    c->call.body = parse_params(req, &error);
    if (c->call.body == NULL) {
        reply_param_error(req, "%s", error);
        mem_free(error);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- parameters */

/* Ruby's blank?: NULL, empty or only white space. */
static int
blank(const char *s)
{
    if (s == NULL)
        return 1;
    while (*s && isspace((unsigned char) *s))
        s++;
    return *s == '\0';
}

/* A string parameter: 0 with *out (NULL when absent or null), -1 after a parameter-error. */
static int
param_string(V1_CALL *c, const char *name, const char **out)
{
    json_t *v = json_object_get(c->call.body, name);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        reply_param_error(c->call.req, "`%s` must be a string", name);
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
        reply_param_error(c->call.req, "`%s` must be true or false", name);
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
        reply_param_error(c->call.req, "`%s` must be an array of e-mail addresses", name);
        return -1;
    }
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            reply_param_error(c->call.req, "`%s` must be an array of e-mail addresses", name);
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
        reply_param_error(c->call.req, "`%s` contains an invalid e-mail address: \"%s\"", param, entry);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int dup = 0;

        if (!envelope_address_ok(addrs[i])) {
            reply_param_error(c->call.req, "`%s` contains an invalid e-mail address: \"%s\"", param, entry);
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
        unsigned long long domain_id;

        ret = domain ? domain_for_sending(db, server, domain, &domain_id) : 0;
        if (ret > 0)
            ret = 1;
    }
    if (n)
        address_list_free(addrs, n);
    return ret;
}

/* Postal's rule: the From address, or with allow_sender the Sender address. */
static int
from_authenticated(V1_CALL *c, const char *from, const char *sender)
{
    SERVER server;
    int ret = server_by_id(c->call.db, c->cred.server_id, &server);

    if (ret <= 0)
        return ret;
    ret = addresses_owned(c->call.db, &server, from);
    if (ret == 0 && server.allow_sender && !blank(sender))
        ret = addresses_owned(c->call.db, &server, sender);
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
        reply_temporary(c, "submitting to Postfix", error);
    } else if (ret == 0) {
        msg_info("credential %llu: Postfix refused a submission: %d %s", c->cred.id, code, error ? error : "");
        if (code == 530) {
            reply_send_error(c->call.req, "UnauthenticatedFromAddress");
        } else {
            char *message = buf_asprintf("The message was refused: %d %s", code, error ? error : "");

            reply_error(c->call.req, "MessageRejected", message, NULL);
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
        reply_success(c->call.req, data);
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
            reply_param_error(c->call.req, "`headers` must be an object of header names and values");
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
                reply_param_error(c->call.req, "`headers`: the value of \"%s\" must be a string", name);
                return -1;
            }
            if (!mime_header_name_ok(name)) {
                mem_free(text);
                reply_param_error(c->call.req, "`headers`: \"%s\" is not a valid header name", name);
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
            reply_param_error(c->call.req, "`attachments` must be an array");
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
    if (blank(p->plain_body) && blank(p->html_body))
        return "NoContent";
    if (blank(p->from))
        return "FromAddressMissing";
    return NULL;
}

static const char *
attachment_error(const SEND_PARAMS *p)
{
    for (size_t i = 0; i < p->nattachments; i++) {
        if (blank(p->attachments[i].name))
            return "AttachmentMissingName";
        if (blank(p->attachments[i].data))
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
    ret = from_authenticated(&c, p.from, p.sender);
    if (ret < 0) {
        reply_temporary(&c, "sending domain lookup", db_error(c.call.db));
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
            reply_param_error(req, "`attachments`: the data of \"%s\" is not valid base64", p.attachments[i].name);
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
        reply_param_error(req, "`from` is not a valid e-mail address");
        goto out;
    }
    if ((message_id = new_message_id(req->cfg)) == NULL) {
        reply_temporary(&c, "message id", "random number generator failed");
        goto out;
    }
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
        reply_param_error(req, "%s", error);
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
        reply_param_error(req, "`rcpt_to` parameter is required but is missing");
        goto out;
    }
    if (param_string(&c, "mail_from", &mail_from) < 0 || param_string(&c, "data", &data) < 0
        || param_bool(&c, "bounce", &bounce) < 0)
        goto out;
    if (blank(mail_from)) {
        reply_param_error(req, "`mail_from` parameter is required but is missing");
        goto out;
    }
    if (blank(data)) {
        reply_param_error(req, "`data` parameter is required but is missing");
        goto out;
    }
    if ((decoded = base64_decode_str(data, API_V1_BASE64, &len)) == NULL) {
        reply_param_error(req, "`data` is not valid base64");
        goto out;
    }
    {
        char envelope[MAX_ADDRESS_LEN + 1];

        if (address_envelope(mail_from, envelope, sizeof(envelope)) < 0
            || (*envelope && !envelope_address_ok(envelope))) {
            reply_param_error(req, "`mail_from` is not a valid e-mail address");
            goto out;
        }
    }
    json_array_foreach(rcpt_to, i, item) {
        const char *a = json_string_value(item);
        int dup = 0;

        if (a == NULL || !envelope_address_ok(a)) {
            reply_param_error(req, "`rcpt_to` must be an array of e-mail addresses");
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
        reply_param_error(req, "`rcpt_to` lists more than %d addresses", MAX_RAW_RCPTS);
        goto out;
    }
    raw = crlf(decoded, len, &len);
    parsed = mime_parse(raw, len, 1);
    if (mime_parsed_header(parsed, "Message-ID") && !blank(mime_parsed_header(parsed, "Message-ID"))) {
        message_id = message_view_bare_id(mime_parsed_header(parsed, "Message-ID"));
    } else {
        /* Give it one, so the answer and the rows name the message. */
        char *with;

        if ((message_id = new_message_id(req->cfg)) == NULL) {
            reply_temporary(&c, "message id", "random number generator failed");
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

/* ---------------------------------------------------------------- messages/message, messages/deliveries */

/* The id parameter as Postal takes it (an integer, or a string read like Ruby's to_i).
 * 1 with *id_r, 0 after a parameter-error. */
static int
param_id(V1_CALL *c, long long *id_r)
{
    json_t *v = json_object_get(c->call.body, "id");

    if (v == NULL || json_is_null(v) || (json_is_string(v) && blank(json_string_value(v)))) {
        reply_param_error(c->call.req, "`id` parameter is required but is missing");
        return 0;
    }
    if (json_is_integer(v)) {
        *id_r = (long long) json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);

        while (isspace((unsigned char) *s))
            s++;
        *id_r = isdigit((unsigned char) *s) || ((*s == '-' || *s == '+') && isdigit((unsigned char) s[1]))
                ? strtoll(s, NULL, 10) : 0;
    } else {
        reply_param_error(c->call.req, "`id` parameter must be a string or integer");
        return 0;
    }
    return 1;
}

static void
reply_not_found(V1_CALL *c)
{
    json_t *extra = json_object();

    json_object_set(extra, "id", json_object_get(c->call.body, "id"));
    reply_error(c->call.req, "MessageNotFound", "No message found matching provided ID", extra);
}

/* Finds the message of this server. 1 found (*m_r, its row in *rows), 0 answered
 * MessageNotFound or a parameter-error, -1 answered a temporary failure. */
static int
find_message(V1_CALL *c, DB_ROWS *rows, const MESSAGE_ROW **m_r)
{
    long long id;
    int ret;

    *m_r = NULL;
    memset(rows, 0, sizeof(*rows));
    if (!param_id(c, &id))
        return 0;
    if (id <= 0) {
        reply_not_found(c);
        return 0;
    }
    ret = message_get_row(c->call.db, c->cred.server_id, (unsigned long long) id, rows);
    if (ret < 0) {
        reply_temporary(c, "message lookup", db_error(c->call.db));
        return -1;
    }
    if (ret == 0) {
        reply_not_found(c);
        return 0;
    }
    *m_r = rows->v;
    return 1;
}

/* Which expansions: `_expansions` true means all, a list names some. */
static void
read_expansions(const json_t *params, int want[NX])
{
    const json_t *x = json_object_get(params, "_expansions");
    size_t i;
    json_t *item;

    for (int k = 0; k < NX; k++)
        want[k] = json_is_true(x);
    if (!json_is_array(x))
        return;
    json_array_foreach(x, i, item) {
        const char *name = json_string_value(item);

        for (int k = 0; name && k < NX; k++)
            if (strcmp(name, expansion_names[k]) == 0)
                want[k] = 1;
    }
}

/* Adds the expansions that need the raw message. -1 on a temporary failure. */
static int
add_content(V1_CALL *c, const MESSAGE_ROW *m, const int want[NX], json_t *data)
{
    unsigned what = (want[X_PLAIN] ? MESSAGE_VIEW_PLAIN : 0) | (want[X_HTML] ? MESSAGE_VIEW_HTML : 0)
                    | (want[X_ATTACHMENTS] ? MESSAGE_VIEW_ATTACHMENTS : 0) | (want[X_HEADERS] ? MESSAGE_VIEW_HEADERS : 0)
                    | (want[X_RAW] ? MESSAGE_VIEW_RAW : 0);

    return message_view_content(c->call.db, c->cred.server_id, m, what, data) < 0 ? -1 : 0;
}

void
api_v1_messages_message(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    const MESSAGE_ROW *m = NULL;
    json_t *data = NULL;
    int want[NX];
    V1_CALL c;

    if (v1_call_begin(&c, req, arg) < 0 || find_message(&c, &rows, &m) <= 0)
        goto out;
    read_expansions(c.call.body, want);
    data = json_object();
    json_object_set_new(data, "id", json_integer((json_int_t) m->id));
    json_object_set_new(data, "token", message_view_str(m->token));
    if (want[X_STATUS])
        json_object_set_new(data, "status", json_pack("{s:o, s:o, s:b, s:o}",
                            "status", message_view_str(m->status),
                            "last_delivery_attempt", message_view_time(m->last_attempt),
                            "held", strcmp(m->status, "Held") == 0,
                            "hold_expiry", message_view_time(m->hold_expiry)));
    if (want[X_DETAILS]) {
        char *subject = mime_decode_header(m->subject);
        char *message_id = message_view_bare_id(m->message_id);

        json_object_set_new(data, "details", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                            "rcpt_to", message_view_str(m->rcpt_to),
                            "mail_from", message_view_str(m->mail_from),
                            "subject", message_view_str(subject),
                            "message_id", message_view_str(message_id),
                            "timestamp", message_view_time(m->created),
                            "direction", message_view_str(m->scope),
                            "size", json_integer((json_int_t) m->size),
                            "bounce", json_boolean(m->bounce),
                            "bounce_for_id", m->bounce_for ? json_integer((json_int_t) m->bounce_for) : json_null(),
                            "tag", message_view_str(m->tag),
                            "received_with_ssl", m->ssl < 0 ? json_null() : json_boolean(m->ssl)));
        mem_free(subject);
        mem_free(message_id);
    }
    if (want[X_INSPECTION])
        json_object_set_new(data, "inspection", json_pack("{s:o, s:b, s:o, s:o, s:o}",
                            "inspected", json_boolean(m->inspected),
                            "spam", strcmp(m->spam_status, "Spam") == 0,
                            "spam_score", json_real(m->spam_score),
                            "threat", json_boolean(m->threat),
                            "threat_details", message_view_str(m->threat_details)));
    if ((want[X_PLAIN] || want[X_HTML] || want[X_ATTACHMENTS] || want[X_HEADERS] || want[X_RAW])
        && add_content(&c, m, want, data) < 0) {
        reply_temporary(&c, "raw message lookup", db_error(c.call.db));
        goto out;
    }
    if (want[X_ACTIVITY]) {
        json_t *a = NULL;

        if (message_view_activity(c.call.db, c.cred.server_id, m->id, 0, &a) < 0) {
            reply_temporary(&c, "activity lookup", db_error(c.call.db));
            goto out;
        }
        json_object_set_new(data, "activity_entries", a);
    }
    reply_success(req, data);
    data = NULL;
out:
    json_decref(data);
    db_rows_free(&rows);
    mgmt_call_end(&c.call);
}

void
api_v1_messages_deliveries(HTTP_REQUEST *req, void *arg)
{
    DB_ROWS rows = {0};
    const MESSAGE_ROW *m = NULL;
    json_t *list;
    V1_CALL c;
    int ret;

    if (v1_call_begin(&c, req, arg) < 0 || find_message(&c, &rows, &m) <= 0)
        goto out;
    ret = message_view_deliveries(c.call.db, m->id, 0, &list);
    if (ret < 0) {
        reply_temporary(&c, "deliveries lookup", db_error(c.call.db));
        goto out;
    }
    reply_success(req, list);
out:
    db_rows_free(&rows);
    mgmt_call_end(&c.call);
}
