/*
 * fuzz_mime.c -- libFuzzer harness of the MIME reader (lib/mail/mime.c) and of the
 * incoming endpoint payload built from it (lib/mail/inpayload.c): the input is a stored
 * message; mime_parse() takes it apart (headers only when the first byte says so),
 * every header value goes through mime_decode_header(), and the payload is built in the
 * format the first byte picks (Hash or RawMessage, JSON or form, replies stripped,
 * attachments). Checked besides memory safety: the JSON payload is valid UTF-8 JSON.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "mail/address.h"
#include "mail/inpayload.h"
#include "mail/mime.h"
#include "util/mem.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet("fuzz_mime");
    address_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MIME_PARSED *p;
    INPAYLOAD_OPTIONS o;
    INPAYLOAD_MESSAGE m = {
        .id = 1, .token = "tok", .rcpt_to = "in@example.com", .mail_from = "out@example.org",
        .subject = "s", .message_id = "<m@example.org>", .timestamp = "1700000000.000000",
        .spam_status = "NotChecked", .received_with_ssl = -1,
    };
    const char *content_type;
    size_t len;
    char *body;

    if (size < 1)
        return 0;
    p = mime_parse(data + 1, size - 1, data[0] & 1);
    for (size_t i = 0; i < p->nfields; i++)
        mem_free(mime_decode_header(p->fields[i].value));
    if (p->plain_body) {
        char *text, *replies;

        inpayload_strip_replies(p->plain_body, &text, &replies);
        mem_free(text);
        mem_free(replies);
    }
    mime_parsed_free(p);

    o.raw_format = (data[0] & 2) != 0;
    o.form = (data[0] & 4) != 0;
    o.strip_replies = (data[0] & 8) != 0;
    o.include_attachments = (data[0] & 16) != 0;
    m.raw = data + 1;
    m.raw_len = size - 1;
    m.size = size - 1;
    body = inpayload_build(&m, &o, &len, &content_type);
    if (body == NULL)
        abort();
    if (!o.form) {
        json_t *back = json_loadb(body, len, 0, NULL);

        if (back == NULL)
            abort();    /* the payload must be valid (UTF-8) JSON */
        json_decref(back);
    }
    mem_free(body);
    return 0;
}
