/*
 * fuzz_api_v1.c -- libFuzzer harness of the parameter parsing of Postal's HTTP API v1
 * (admin/api_v1_call.c, api_v1.c, api_v1_messages.c): the input is a request body, read
 * by the module's parse_params() as its handlers read it, then (by the first byte) taken
 * through the checks of send/message (every parameter, Postal's validation order, the
 * recipients' address lists, the From address, the attachments' base64, and the message
 * built from them by mime_build()), of send/raw (envelope, recipients, base64 data, its
 * headers) or of messages/message (id and _expansions). The module's three files are
 * included so its static parameter readers are called as they are, with a stand-in HTTP
 * layer (http_stub.c) instead of libmicrohttpd; authentication and MariaDB are not reached.
 */
#include "../admin/api_v1_call.c"
#include "../admin/api_v1.c"
#include "../admin/api_v1_messages.c"

#include "fuzz.h"
#include "http_stub.h"

static PGCONF *cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet("fuzz_api_v1");
    cfg = fuzz_config();
    address_init();
    return 0;
}

static void
send_message(V1_CALL *c)
{
    SEND_PARAMS p = {0};
    STRV rcpts = {0};
    char **from_addrs = NULL, *raw = NULL, *error = NULL;
    size_t nfrom = 0, len = 0;

    if (read_send_params(c, &p) < 0 || send_error(&p) || attachment_error(&p))
        goto out;
    for (size_t i = 0; i < p.nattachments; i++) {
        size_t n;
        unsigned char *bytes = base64_decode_str(p.attachments[i].data, API_V1_BASE64, &n);

        if (bytes == NULL)
            goto out;
        strv_add(&p.attachment_data, (char *) bytes);
        p.attachments[i].data = bytes;
        p.attachments[i].len = n;
    }
    for (size_t i = 0; i < p.to.n; i++)
        if (add_recipients(c, "to", p.to.items[i], &rcpts) < 0)
            goto out;
    for (size_t i = 0; i < p.cc.n; i++)
        if (add_recipients(c, "cc", p.cc.items[i], &rcpts) < 0)
            goto out;
    for (size_t i = 0; i < p.bcc.n; i++)
        if (add_recipients(c, "bcc", p.bcc.items[i], &rcpts) < 0)
            goto out;
    nfrom = address_list_parse(p.from, &from_addrs);
    if (nfrom == 0 || !envelope_address_ok(from_addrs[0]))
        goto out;
    {
        MIME_SPEC spec = {
            .from = p.from, .sender = p.sender, .reply_to = p.reply_to,
            .to = (const char *const *) p.to.items, .nto = p.to.n,
            .cc = (const char *const *) p.cc.items, .ncc = p.cc.n,
            .subject = p.subject, .plain_body = p.plain_body, .html_body = p.html_body, .tag = p.tag,
            .message_id = "<fuzz@example.com>", .received = "from api ([127.0.0.1]) by fuzz (postgate) with HTTP",
            .headers = p.headers, .nheaders = p.nheaders,
            .attachments = p.attachments, .nattachments = p.nattachments,
        };

        raw = mime_build(&spec, &len, &error);
        if (raw == NULL && error == NULL)
            abort();    /* a refusal says why */
    }
out:
    if (from_addrs)
        address_list_free(from_addrs, nfrom);
    strv_free(&rcpts);
    send_params_free(&p);
    mem_free(raw);
    mem_free(error);
}

static void
send_raw(V1_CALL *c)
{
    json_t *rcpt_to = json_object_get(c->call.body, "rcpt_to"), *item;
    const char *mail_from, *data;
    unsigned char *decoded = NULL;
    char envelope[MAX_ADDRESS_LEN + 1], *raw = NULL, *message_id = NULL;
    MIME_PARSED *parsed = NULL;
    size_t len, i;
    int bounce;

    if (!json_is_array(rcpt_to) || param_string(c, "mail_from", &mail_from) < 0
        || param_string(c, "data", &data) < 0 || param_bool(c, "bounce", &bounce) < 0
        || v1_blank(mail_from) || v1_blank(data) || (decoded = base64_decode_str(data, API_V1_BASE64, &len)) == NULL)
        goto out;
    if (address_envelope(mail_from, envelope, sizeof(envelope)) == 0 && *envelope)
        (void) envelope_address_ok(envelope);
    json_array_foreach(rcpt_to, i, item) {
        const char *a = json_string_value(item);

        if (a)
            (void) envelope_address_ok(a);
    }
    raw = crlf(decoded, len, &len);
    parsed = mime_parse(raw, len, 1);
    if (mime_parsed_header(parsed, "Message-ID") && !v1_blank(mime_parsed_header(parsed, "Message-ID")))
        message_id = message_view_bare_id(mime_parsed_header(parsed, "Message-ID"));
out:
    mem_free(message_id);
    if (parsed)
        mime_parsed_free(parsed);
    mem_free(raw);
    mem_free(decoded);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HTTP_REQUEST req = {0};
    API_V1 api = {0};
    V1_CALL c = {0};
    char *body, *error = NULL;

    if (size < 1)
        return 0;
    body = mem_alloc(size);
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    req.cfg = cfg;
    req.method = "POST";
    req.path = "/api/v1/send/message";
    req.client_ip = "127.0.0.1";
    req.content_type = "application/json";
    req.body = (const unsigned char *) body;
    req.body_len = size - 1;
    c.call.req = &req;
    c.call.m = &api;
    c.call.body = parse_params(&req, &error);
    if (c.call.body == NULL) {
        if (error == NULL)
            abort();
        mem_free(error);
        mem_free(body);
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        send_message(&c);
        break;
    case 1:
        send_raw(&c);
        break;
    default: {
        int want[NX];
        long long id;

        read_expansions(c.call.body, want);
        (void) param_id(&c, &id);
    }
    }
    json_decref(c.call.body);
    mem_free(body);
    return 0;
}
