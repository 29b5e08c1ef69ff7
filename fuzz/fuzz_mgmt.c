/*
 * fuzz_mgmt.c -- libFuzzer harness of the management API v2's request parsing
 * (admin/mgmt_call.c, the layer every mgmt_*.c handler reads its input through): the
 * input is a request body read by mgmt_read_body() (JSON object, no duplicate keys), then
 * checked by the field readers the handlers use (strings, text without controls, names,
 * time zones, booleans, bounded integers, URLs, e-mail addresses (lib/mail/address.c),
 * unknown fields, SMTP-IP networks) and answered with the collected field errors by mgmt_reply_invalid(); the
 * body's "before", "limit" and "id" strings also feed the query and path readers. A
 * stand-in HTTP layer (http_stub.c) replaces libmicrohttpd; authentication and MariaDB
 * are not reached.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../admin/mgmt.h"
#include "fuzz.h"
#include "http_stub.h"
#include "mail/address.h"
#include "util/mem.h"
#include "util/netaddr.h"

static PGCONF *cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet("fuzz_mgmt");
    cfg = fuzz_config();
    return 0;
}

static const char *
body_string(MGMT_CALL *c, const char *name)
{
    return json_string_value(json_object_get(c->body, name));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const allowed[] = {"name", "permalink", "time_zone", "url", "email", "password", "port",
                                          "suspended", "network", "reason", NULL};
    HTTP_REQUEST req = {0};
    MGMT_CALL c = {0};
    char *body = mem_alloc(size + 1);
    const char *s;
    long long n;
    unsigned long long before, id;
    unsigned limit;

    memcpy(body, data, size);
    body[size] = '\0';
    req.cfg = cfg;
    req.method = "POST";
    req.path = "/api/v2/fuzz";
    req.client_ip = "127.0.0.1";
    req.content_type = "application/json; charset=utf-8";
    req.body = (const unsigned char *) body;
    req.body_len = size;
    c.req = &req;
    c.errors = json_object();
    memset(fuzz_http_query, 0, sizeof(fuzz_http_query));
    memset(fuzz_http_path, 0, sizeof(fuzz_http_path));
    fuzz_http_status = 0;
    if (mgmt_read_body(&c) < 0) {
        if (fuzz_http_status == 0)
            abort();    /* refused without an answer */
        goto out;
    }
    mgmt_check_known(&c, allowed);
    (void) mgmt_field_name(&c, "name", 0);
    (void) mgmt_field_text(&c, "permalink", 0, 64);
    (void) mgmt_field_text(&c, "reason", 0, 1000);
    (void) mgmt_field_string(&c, "password", 0, 1024);
    (void) mgmt_field_time_zone(&c);
    (void) mgmt_field_bool(&c, "suspended");
    (void) mgmt_field_int(&c, "port", 1, 65535, &n);
    if ((s = mgmt_field_text(&c, "url", 0, 2000)) != NULL)
        (void) mgmt_web_url_ok(s);
    if ((s = mgmt_field_text(&c, "email", 0, 320)) != NULL) {
        char *lower = mgmt_lowercase(s);

        (void) address_email_ok(lower);
        mem_free(lower);
    }
    if ((s = mgmt_field_text(&c, "network", 0, 64)) != NULL) {
        unsigned char start[NETADDR_LEN], end[NETADDR_LEN];
        int prefix;

        (void) netaddr_parse_network(s, start, end, &prefix);
    }
    fuzz_http_query[0][0] = "before";
    fuzz_http_query[0][1] = body_string(&c, "before");
    fuzz_http_query[1][0] = "limit";
    fuzz_http_query[1][1] = body_string(&c, "limit");
    fuzz_http_path[0] = body_string(&c, "id");
    (void) mgmt_page_args(&c, &before, &limit, 50, 500);
    (void) mgmt_path_id(&c, 0, &id);
    if (mgmt_has_errors(&c))
        mgmt_reply_invalid(&c);
out:
    json_decref(c.body);
    json_decref(c.errors);
    mem_free(body);
    return 0;
}
