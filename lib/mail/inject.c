/*
 * inject.c -- SMTP submission to a loopback Postfix service with libcurl (inject.h).
 */
#include "config.h"

#include <string.h>

#include <curl/curl.h>

#include "mail/inject.h"
#include "util/buf.h"
#include "util/mem.h"

struct upload {
    const char *data;
    size_t len, off;
};

static size_t
read_cb(char *dest, size_t size, size_t nmemb, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nmemb;

    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(dest, u->data + u->off, n);
    u->off += n;
    return n;
}

int
inject_message(const char *spec, const char *mail_from, const char *const *rcpts, size_t nrcpts,
               const char *data, size_t len, long *code_r, char **error_r)
{
    struct upload up = {data, len, 0};
    struct curl_slist *list = NULL;
    char *url, *from;
    CURL *curl;
    CURLcode rc;
    int ret;

    *code_r = 0;
    if (strncmp(spec, "inet:", 5) != 0) {
        *error_r = buf_asprintf("%s: a postgate loopback service must be inet:host:port", spec);
        return -1;
    }
    url = buf_asprintf("smtp://%s", spec + 5);
    from = buf_asprintf("<%s>", mail_from);
    for (size_t i = 0; i < nrcpts; i++)
        list = curl_slist_append(list, rcpts[i]);
    curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, list);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code_r);
    if (rc == CURLE_OK) {
        ret = 1;
    } else {
        *error_r = buf_asprintf("SMTP to %s: %s (reply %ld)", url, curl_easy_strerror(rc), *code_r);
        ret = *code_r >= 500 && *code_r < 600 ? 0 : -1;
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(list);
    mem_free(from);
    mem_free(url);
    return ret;
}
