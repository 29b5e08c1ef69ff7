/*
 * httpsend.c -- the worker's shared libcurl multi sending core (httpsend.h).
 */
#include "config.h"

#include <sys/socket.h>
#include <time.h>

#include "httpsend.h"
#include "mail/outaddr.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

struct httpsend {
    CURLM *multi;
    HTTPSEND_XFER *inflight;
    size_t ninflight;
    HTTPSEND_DONE_FN done;
    void *ctx;
};

int
httpsend_global_init(const char *name)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        msg_error("%s: libcurl cannot be initialized", name);
        return -1;
    }
    return 0;
}

void
httpsend_global_cleanup(void)
{
    curl_global_cleanup();
}

HTTPSEND *
httpsend_new(const char *name, HTTPSEND_DONE_FN done, void *ctx)
{
    HTTPSEND *s = mem_zalloc(sizeof(*s));

    if ((s->multi = curl_multi_init()) == NULL) {
        msg_error("%s: curl_multi_init failed", name);
        mem_free(s);
        return NULL;
    }
    s->done = done;
    s->ctx = ctx;
    return s;
}

void
httpsend_free(HTTPSEND *s)
{
    if (s == NULL)
        return;
    curl_multi_cleanup(s->multi);
    mem_free(s);
}

size_t
httpsend_inflight(const HTTPSEND *s)
{
    return s->ninflight;
}

HTTPSEND_XFER *
httpsend_first(const HTTPSEND *s)
{
    return s->inflight;
}

struct curl_slist *
httpsend_slist_add(struct curl_slist *list, const char *text)
{
    struct curl_slist *l = curl_slist_append(list, text);

    if (l == NULL)
        mem_exhausted("curl_slist_append");
    return l;
}

void
httpsend_xfer_init(HTTPSEND_XFER *x, size_t response_max)
{
    if ((x->easy = curl_easy_init()) == NULL)
        mem_exhausted("curl_easy_init");
    x->response_max = response_max;
    x->response = buf_new(response_max < 512 ? response_max : 512);
}

void
httpsend_xfer_cleanup(HTTPSEND_XFER *x)
{
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    x->easy = NULL;
    buf_free(x->response);
    x->response = NULL;
    outaddr_allow_free(x->allow);
    x->allow = NULL;
    mem_free(x->refused);
    x->refused = NULL;
}

void
httpsend_header_line(HTTPSEND_XFER *x, const char *line)
{
    x->headers = httpsend_slist_add(x->headers, line);
}

void
httpsend_header(HTTPSEND_XFER *x, const char *name, const char *value)
{
    char *line = buf_asprintf("%s: %s", name, value);

    httpsend_header_line(x, line);
    mem_free(line);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    HTTPSEND_XFER *x = arg;
    size_t len = size * nmemb, room = x->response_max - buf_len(x->response);

    buf_append(x->response, data, len < room ? len : room);
    return len;         /* the rest is read and dropped: the receiver may keep talking */
}

void
httpsend_post(HTTPSEND_XFER *x, const char *url, const char *body, size_t len, long timeout)
{
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "postgate/" PACKAGE_VERSION);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
}

/* CURLOPT_OPENSOCKETFUNCTION of a guarded transfer: the address about to be connected. */
static curl_socket_t
open_guarded(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    HTTPSEND_XFER *x = arg;
    char *error = NULL;

    (void) purpose;
    if (outaddr_check_sockaddr(x->allow, &a->addr, &error) < 0) {
        mem_free(x->refused);
        x->refused = error;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

void
httpsend_guard(HTTPSEND_XFER *x, const CONF_LIST *allowed)
{
    char *error = NULL;

    outaddr_allow_free(x->allow);
    if ((x->allow = outaddr_allow_parse(allowed, &error)) == NULL) {
        msg_warn("%s (allowing no internal address)", error);
        mem_free(error);
        x->allow = outaddr_allow_parse(NULL, &error);
    }
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
}

int
httpsend_add(HTTPSEND *s, HTTPSEND_XFER *x)
{
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(s->multi, x->easy) != CURLM_OK)
        return -1;
    x->started = clock_mono();
    x->next = s->inflight;
    s->inflight = x;
    s->ninflight++;
    return 0;
}

static void
finished(HTTPSEND *s, CURL *easy, CURLcode result)
{
    HTTPSEND_XFER *x = NULL, **pp;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &x);
    curl_multi_remove_handle(s->multi, easy);
    for (pp = &s->inflight; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            s->ninflight--;
            break;
        }
    }
    x->next = NULL;
    s->done(s->ctx, x, result);
}

void
httpsend_drive(HTTPSEND *s, int wait_ms)
{
    CURLMsg *m;
    int running, left, nfinished = 0;

    curl_multi_perform(s->multi, &running);
    while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (m->msg == CURLMSG_DONE) {
            finished(s, m->easy_handle, m->data.result);
            nfinished++;
        }
    }
    if (wait_ms > 0 && nfinished == 0) {
        if (s->ninflight > 0) {
            curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
        } else {
            struct timespec ts = {0, (long) wait_ms * 1000000L};

            nanosleep(&ts, NULL);
        }
    }
}

const char *
httpsend_error(const HTTPSEND_XFER *x, CURLcode result)
{
    if (x->refused && result != CURLE_OK)
        return x->refused;
    return x->errbuf[0] ? x->errbuf : curl_easy_strerror(result);
}
