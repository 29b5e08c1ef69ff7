/*
 * inject.c -- SMTP submission to a loopback Postfix service with libcurl (inject.h), over
 * kept connections.
 */
#include "config.h"

#include <pthread.h>
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

/* Idle libcurl handles are kept, and with each the SMTP connection of its last message
 * (libcurl's connection cache): a process that submits message after message pays the
 * connect, banner, EHLO and QUIT about once per handle, and Postfix keeps one smtpd session
 * per handle. Kept handles are shared by all threads (a thread takes the one used last);
 * a handle goes after any failure, so a session in an unknown state is never reused. */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static CURL *kept[INJECT_KEPT];
static size_t nkept;

static CURL *
handle_take(void)
{
    CURL *curl = NULL;

    pthread_mutex_lock(&kept_lock);
    if (nkept > 0)
        curl = kept[--nkept];
    pthread_mutex_unlock(&kept_lock);
    return curl ? curl : curl_easy_init();
}

static void
handle_keep(CURL *curl)
{
    pthread_mutex_lock(&kept_lock);
    if (nkept < INJECT_KEPT) {
        kept[nkept++] = curl;
        curl = NULL;
    }
    pthread_mutex_unlock(&kept_lock);
    curl_easy_cleanup(curl);
}

/* One SMTP transaction on a kept or new handle. *reused_r: it ran on a kept connection. */
static CURLcode
transact(const char *url, const char *from, struct curl_slist *rcpts, struct upload *up, long *code_r,
         int *reused_r)
{
    CURL *curl = handle_take();
    long connects = 1;
    CURLcode rc;

    *code_r = 0;
    *reused_r = 0;
    if (curl == NULL)
        return CURLE_OUT_OF_MEMORY;
    up->off = 0;
    curl_easy_reset(curl);      /* options only: the connection cache stays */
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    /* A kept session is left well before smtpd's own idle timeout (300 s), and renewed every
     * minute, so a changed master.cf or milter is in use within a minute. */
    curl_easy_setopt(curl, CURLOPT_MAXAGE_CONN, (long) INJECT_IDLE_SECONDS);
    curl_easy_setopt(curl, CURLOPT_MAXLIFETIME_CONN, (long) INJECT_LIFETIME_SECONDS);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code_r);
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    *reused_r = connects == 0;
    if (rc == CURLE_OK)
        handle_keep(curl);
    else
        curl_easy_cleanup(curl);
    return rc;
}

int
inject_message(const char *spec, const char *mail_from, const char *const *rcpts, size_t nrcpts,
               const char *data, size_t len, long *code_r, char **error_r)
{
    struct upload up = {data, len, 0};
    struct curl_slist *list = NULL;
    char *url, *from;
    CURLcode rc;
    int ret, reused;

    *code_r = 0;
    if (strncmp(spec, "inet:", 5) != 0) {
        *error_r = buf_asprintf("%s: a postgate loopback service must be inet:host:port", spec);
        return -1;
    }
    url = buf_asprintf("smtp://%s", spec + 5);
    from = buf_asprintf("<%s>", mail_from);
    for (size_t i = 0; i < nrcpts; i++)
        list = curl_slist_append(list, rcpts[i]);
    rc = transact(url, from, list, &up, code_r, &reused);
    /* A kept session that failed without a permanent refusal (smtpd gone, its milter
     * connection lost to a milter restart: 421 or 451) gets one more try on a new
     * connection. Nothing was accepted: a transaction's data is queued only with its 250. */
    if (rc != CURLE_OK && reused && !(*code_r >= 500 && *code_r < 600))
        rc = transact(url, from, list, &up, code_r, &reused);
    if (rc == CURLE_OK) {
        ret = 1;
    } else {
        *error_r = buf_asprintf("SMTP to %s: %s (reply %ld)", url, curl_easy_strerror(rc), *code_r);
        ret = *code_r >= 500 && *code_r < 600 ? 0 : -1;
    }
    curl_slist_free_all(list);
    mem_free(from);
    mem_free(url);
    return ret;
}
