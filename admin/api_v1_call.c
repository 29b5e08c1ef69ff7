/*
 * api_v1_call.c -- one call of Postal's HTTP API v1 (api_v1_call.h), shared by the
 * sending (api_v1.c) and reading (api_v1_messages.c) handlers: authentication by the
 * X-Server-API-Key header as an API credential, the parameters (a JSON body, or a form
 * field `params` holding JSON), and Postal's answer envelope.
 *
 * Contract: every answer the API itself gives is HTTP 200 with Postal's
 * {"status", "time", "flags", "data"}; only v1_reply_temporary() answers 503, for a
 * dependency that is down.
 *
 * Must never: log a key, or go on with a call that was not authenticated.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api_v1_call.h"
#include "api_v1_lookup.h"
#include "mail/credential.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

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

void
v1_reply_success(HTTP_REQUEST *req, json_t *data)
{
    reply(req, MHD_HTTP_OK, "success", data);
}

/* An "error" with code and message; extra (may be NULL) adds fields to data. */
void
v1_reply_error(HTTP_REQUEST *req, const char *code, const char *message, json_t *extra)
{
    json_t *data = extra ? extra : json_object();

    if (message)
        json_object_set_new(data, "message", json_string(message));
    json_object_set_new(data, "code", json_string(code));
    reply(req, MHD_HTTP_OK, "error", data);
}

void
v1_reply_param_error(HTTP_REQUEST *req, const char *fmt, ...)
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
void
v1_reply_temporary(V1_CALL *c, const char *what, const char *detail)
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
int
v1_call_begin(V1_CALL *c, HTTP_REQUEST *req, void *arg)
{
    const char *key = http_header(req, "X-Server-API-Key");
    char *error = NULL;
    int ret;

    memset(c, 0, sizeof(*c));
    mgmt_call_open(&c->call, req, arg);
    if (key == NULL || key[strspn(key, " \t")] == '\0') {
        v1_reply_error(req, "AccessDenied", "Must be authenticated as a server.", NULL);
        return -1;
    }
    ret = api_v1_credential(c->call.db, key, &c->cred);
    if (ret < 0) {
        v1_reply_temporary(c, "credential lookup", db_error(c->call.db));
        return -1;
    }
    if (ret == 0) {
        v1_reply_error(req, "InvalidServerAPIKey", "The API token provided in X-Server-API-Key was not valid.", NULL);
        return -1;
    }
    http_set_credential(req, c->cred.id);
    if (c->cred.suspended) {
        v1_reply_error(req, "ServerSuspended", "The mail server has been suspended.", NULL);
        return -1;
    }
    credential_touch(c->cred.id);
    c->call.body = parse_params(req, &error);
    if (c->call.body == NULL) {
        v1_reply_param_error(req, "%s", error);
        mem_free(error);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- parameters */

/* Ruby's blank?: NULL, empty or only white space. */
int
v1_blank(const char *s)
{
    if (s == NULL)
        return 1;
    while (*s && isspace((unsigned char) *s))
        s++;
    return *s == '\0';
}

