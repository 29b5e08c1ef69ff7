/*
 * release.c -- re-injection of held messages (release.h) with libcurl's SMTP client.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "mail/release.h"
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

/* "inet:host:port" -> "smtp://host:port". */
static char *
smtp_url(const char *spec)
{
    if (strncmp(spec, "inet:", 5) != 0)
        return NULL;
    return buf_asprintf("smtp://%s", spec + 5);
}

int
release_message(DB *db, const PGCONF *cfg, const char *token, char **error_r)
{
    DB_RESULT *res;
    struct upload up;
    struct curl_slist *rcpt = NULL;
    BUF *msg, *envelope;
    CURL *curl;
    CURLcode rc;
    char *url;
    int ret;

    ret = db_query(db, &res, "SELECT m.mail_from, m.rcpt_to, r.headers, r.body FROM messages m "
                   "JOIN raw_messages r ON r.id = m.raw_message_id AND r.created_day = m.raw_message_day "
                   "WHERE m.token = ? AND m.status = 'Held'", DB_ARGS(DB_STR(token)));
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    if (ret == 0) {
        db_result_free(res);
        *error_r = buf_asprintf("no held message with token %s (or its raw copy has expired)", token);
        return 0;
    }
    if ((url = smtp_url(cfg->postfix_release_address)) == NULL) {
        db_result_free(res);
        *error_r = buf_asprintf("postfix.release_address must be inet:host:port");
        return DB_ERR_PERM;
    }
    msg = buf_new(db_result_len(res, 0, 2) + db_result_len(res, 0, 3) + 4);
    buf_append(msg, db_result_get(res, 0, 2), db_result_len(res, 0, 2));
    buf_append_str(msg, "\r\n");
    buf_append(msg, db_result_get(res, 0, 3), db_result_len(res, 0, 3));
    envelope = buf_new(64);
    buf_printf(envelope, "<%s>", db_result_get(res, 0, 0));
    rcpt = curl_slist_append(rcpt, db_result_get(res, 0, 1));
    up.data = buf_cstr(msg);
    up.len = buf_len(msg);
    up.off = 0;
    curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, buf_cstr(envelope));
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        long code = 0;

        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        *error_r = buf_asprintf("re-injecting %s through %s: %s (SMTP %ld)", token, url, curl_easy_strerror(rc), code);
        ret = DB_ERR_TEMP;
    } else {
        ret = 1;
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(rcpt);
    buf_free(msg);
    buf_free(envelope);
    mem_free(url);
    db_result_free(res);
    return ret;
}
