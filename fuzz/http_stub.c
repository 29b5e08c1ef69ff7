/*
 * http_stub.c -- the HTTP layer (admin/http.h) as the API harnesses need it: no
 * libmicrohttpd, no sockets. Answers are checked for being given at all and dropped;
 * headers, cookies, form fields and path arguments are absent unless a harness set
 * fuzz_http_query / fuzz_http_path.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "../admin/http.h"
#include "fuzz.h"
#include "http_stub.h"

const char *fuzz_http_query[2][2];      /* name, value */
const char *fuzz_http_path[HTTP_MAX_PATH_ARGS];
unsigned fuzz_http_status;

const char *
http_header(HTTP_REQUEST *req, const char *name)
{
    return NULL;
}

const char *
http_form_value(HTTP_REQUEST *req, const char *name, size_t *len_r)
{
    return NULL;
}

const char *
http_path_arg(HTTP_REQUEST *req, size_t n)
{
    return n < HTTP_MAX_PATH_ARGS ? fuzz_http_path[n] : NULL;
}

const char *
http_query(HTTP_REQUEST *req, const char *name)
{
    for (size_t i = 0; i < 2; i++)
        if (fuzz_http_query[i][0] && strcmp(fuzz_http_query[i][0], name) == 0)
            return fuzz_http_query[i][1];
    return NULL;
}

const char *
http_cookie(HTTP_REQUEST *req, const char *name)
{
    return NULL;
}

void
http_add_header(HTTP_REQUEST *req, const char *name, const char *value)
{
}

/* The fuzzed handler runs once: a conflict's re-run needs a database. */
void
http_request_again(HTTP_REQUEST *req)
{
}

void
http_set_cookie(HTTP_REQUEST *req, const char *cookie_line)
{
}

double
http_elapsed(const HTTP_REQUEST *req)
{
    return 0.001;
}

void
http_set_credential(HTTP_REQUEST *req, unsigned long long credential_id)
{
}

void
http_set_user(HTTP_REQUEST *req, unsigned long long user_id)
{
}

void
http_reply_json(HTTP_REQUEST *req, unsigned status, json_t *body)
{
    char *text = json_dumps(body, 0);

    if (text == NULL)
        abort();    /* an answer that cannot be sent */
    free(text);
    json_decref(body);
    fuzz_http_status = status;
}

void
http_reply_error(HTTP_REQUEST *req, unsigned status, const char *code, const char *message)
{
    fuzz_http_status = status;
}

void
http_reply_bytes(HTTP_REQUEST *req, unsigned status, const char *content_type, const void *data, size_t len)
{
    fuzz_http_status = status;
}

void
http_reply_fd(HTTP_REQUEST *req, unsigned status, const char *content_type, int fd, size_t size)
{
    close(fd);
    fuzz_http_status = status;
}
