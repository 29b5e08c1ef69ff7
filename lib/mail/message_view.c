/*
 * message_view.c -- logged messages as JSON (message_view.h), for both HTTP APIs.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "mail/message.h"
#include "mail/message_view.h"
#include "mail/mime.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"

json_t *
message_view_str(const char *s)
{
    if (s == NULL)
        return json_null();
    if (!g_utf8_validate(s, -1, NULL)) {
        gchar *valid = g_utf8_make_valid(s, -1);
        json_t *j = json_string(valid);

        g_free(valid);
        return j;
    }
    return json_string(s);
}

json_t *
message_view_real(const char *s)
{
    return s ? json_real(strtod(s, NULL)) : json_null();
}

json_t *
message_view_int(const char *s)
{
    return s ? json_integer((json_int_t) strtoll(s, NULL, 10)) : json_null();
}

json_t *
message_view_bool(const char *s)
{
    return s ? json_boolean(strcmp(s, "0") != 0) : json_null();
}

json_t *
message_view_iso_time(const char *unix_seconds)
{
    time_t t;
    struct tm tm;
    char out[32];

    if (unix_seconds == NULL)
        return json_null();
    t = (time_t) strtoll(unix_seconds, NULL, 10);
    if (gmtime_r(&t, &tm) == NULL || strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return json_null();
    return json_string(out);
}

json_t *
message_view_time(double unix_seconds)
{
    return isnan(unix_seconds) ? json_null() : json_real(unix_seconds);
}

json_t *
message_view_iso_at(double unix_seconds)
{
    time_t t;
    struct tm tm;
    char out[32];

    if (isnan(unix_seconds))
        return json_null();
    t = (time_t) unix_seconds;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return json_null();
    return json_string(out);
}

/* Sets the time of an activity entry or delivery the way `what` asks. */
static void
set_time(json_t *o, const char *unix_seconds, unsigned what)
{
    if (what & MESSAGE_VIEW_ISO)
        json_object_set_new(o, "created_at", message_view_iso_time(unix_seconds));
    else
        json_object_set_new(o, "timestamp", message_view_real(unix_seconds));
}

char *
message_view_bare_id(const char *value)
{
    const char *s = value ? value : "";
    size_t n;

    while (*s == ' ' || *s == '\t' || *s == '<')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == '>'))
        n--;
    return mem_strndup(s, n);
}

/* The raw copy raw_id of raw_day (NULL: none recorded) as one text. */
static int
raw_load(DB *db, unsigned long long server_id, unsigned long long raw_id, const char *raw_day, char **raw_r,
         size_t *len_r)
{
    DB_RESULT *res = NULL;
    BUF *b;
    int ret;

    *raw_r = NULL;
    *len_r = 0;
    if (raw_day == NULL)
        return 0;
    ret = message_raw(db, server_id, raw_id, raw_day, &res);
    if (ret <= 0) {
        db_result_free(res);
        return ret;
    }
    b = buf_new(db_result_len(res, 0, 0) + db_result_len(res, 0, 1) + 3);
    buf_append(b, db_result_get(res, 0, 0), db_result_len(res, 0, 0));
    buf_append_str(b, "\r\n");
    buf_append(b, db_result_get(res, 0, 1), db_result_len(res, 0, 1));
    db_result_free(res);
    *raw_r = buf_steal(b, len_r);
    return 1;
}

int
message_view_raw(DB *db, unsigned long long server_id, const DB_RESULT *m, size_t row, char **raw_r,
                 size_t *len_r)
{
    const char *raw_id = db_result_get(m, row, MESSAGE_COL_RAW_ID);

    return raw_load(db, server_id, raw_id ? strtoull(raw_id, NULL, 10) : 0,
                    raw_id ? db_result_get(m, row, MESSAGE_COL_RAW_DAY) : NULL, raw_r, len_r);
}

int
message_view_raw_row(DB *db, unsigned long long server_id, const MESSAGE_ROW *m, char **raw_r, size_t *len_r)
{
    return raw_load(db, server_id, m->raw_id, m->raw_id ? m->raw_day : NULL, raw_r, len_r);
}

/* One attachment as JSON, with its data when with_data. */
static json_t *
file_json(const MIME_FILE *f, int with_data)
{
    gchar *sha1 = g_compute_checksum_for_data(G_CHECKSUM_SHA1, f->data, f->len);
    json_t *o = json_pack("{s:o, s:o, s:I, s:s}", "filename", message_view_str(f->filename),
                          "content_type", message_view_str(f->content_type), "size", (json_int_t) f->len,
                          "hash", sha1);

    if (with_data) {
        char *b64 = base64_encode(f->data, f->len, 0);

        json_object_set_new(o, "data", json_string(b64));
        mem_free(b64);
    }
    g_free(sha1);
    return o;
}

int
message_view_content(DB *db, unsigned long long server_id, const MESSAGE_ROW *m, unsigned what, json_t *data)
{
    unsigned needs_body = MESSAGE_VIEW_PLAIN | MESSAGE_VIEW_HTML | MESSAGE_VIEW_ATTACHMENTS
                          | MESSAGE_VIEW_ATTACHMENT_LIST;
    size_t len = 0;
    char *raw = NULL;
    MIME_PARSED *p;
    int ret = message_view_raw_row(db, server_id, m, &raw, &len);

    if (ret < 0)
        return ret;
    p = raw ? mime_parse(raw, len, !(what & needs_body)) : NULL;
    if (what & MESSAGE_VIEW_PLAIN)
        json_object_set_new(data, "plain_body", message_view_str(p ? p->plain_body : NULL));
    if (what & MESSAGE_VIEW_HTML)
        json_object_set_new(data, "html_body", message_view_str(p ? p->html_body : NULL));
    if (what & (MESSAGE_VIEW_ATTACHMENTS | MESSAGE_VIEW_ATTACHMENT_LIST)) {
        json_t *list = json_array();

        for (size_t i = 0; p && i < p->nfiles; i++)
            json_array_append_new(list, file_json(&p->files[i], (what & MESSAGE_VIEW_ATTACHMENTS) != 0));
        json_object_set_new(data, "attachments", p ? list : (json_decref(list), json_null()));
    }
    if (what & MESSAGE_VIEW_HEADERS) {
        json_t *headers = json_object();

        for (size_t i = 0; p && i < p->nfields; i++) {
            json_t *values = json_object_get(headers, p->fields[i].name);

            if (values == NULL) {
                values = json_array();
                json_object_set_new(headers, p->fields[i].name, values);
            }
            json_array_append_new(values, message_view_str(p->fields[i].value));
        }
        json_object_set_new(data, "headers", p ? headers : (json_decref(headers), json_null()));
    }
    if (what & MESSAGE_VIEW_RAW) {
        char *b64 = raw ? base64_encode(raw, len, 0) : NULL;

        json_object_set_new(data, "raw_message", b64 ? json_string(b64) : json_null());
        mem_free(b64);
    }
    mime_parsed_free(p);
    mem_free(raw);
    return 0;
}

int
message_view_attachment(DB *db, unsigned long long server_id, const MESSAGE_ROW *m, size_t n, json_t **out_r,
                        int *expired_r)
{
    size_t len = 0;
    char *raw = NULL;
    MIME_PARSED *p;
    int ret = message_view_raw_row(db, server_id, m, &raw, &len);

    *out_r = NULL;
    *expired_r = ret == 0;
    if (ret <= 0)
        return ret;
    p = mime_parse(raw, len, 0);
    if (n < p->nfiles)
        *out_r = file_json(&p->files[n], 1);
    mime_parsed_free(p);
    mem_free(raw);
    return *out_r != NULL;
}

int
message_view_activity(DB *db, unsigned long long server_id, unsigned long long id, unsigned what,
                      json_t **out_r)
{
    json_t *loads = json_array(), *clicks = json_array();
    DB_RESULT *res = NULL;
    int ret;

    *out_r = NULL;
    if ((ret = message_loads(db, server_id, id, &res)) < 0)
        goto fail;
    for (size_t r = 0; r < db_result_rows(res); r++) {
        json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "ip_address", message_view_str(db_result_get(res, r, 0)),
                              "user_agent", message_view_str(db_result_get(res, r, 1)),
                              "country", message_view_str(db_result_get(res, r, 2)),
                              "city", message_view_str(db_result_get(res, r, 3)));

        set_time(o, db_result_get(res, r, 4), what);
        json_array_append_new(loads, o);
    }
    db_result_free(res);
    res = NULL;
    if ((ret = message_clicks(db, server_id, id, &res)) < 0)
        goto fail;
    for (size_t r = 0; r < db_result_rows(res); r++) {
        json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "url", message_view_str(db_result_get(res, r, 0)),
                              "ip_address", message_view_str(db_result_get(res, r, 1)),
                              "user_agent", message_view_str(db_result_get(res, r, 2)),
                              "country", message_view_str(db_result_get(res, r, 3)),
                              "city", message_view_str(db_result_get(res, r, 4)));

        set_time(o, db_result_get(res, r, 5), what);
        json_array_append_new(clicks, o);
    }
    db_result_free(res);
    *out_r = json_pack("{s:o, s:o}", "loads", loads, "clicks", clicks);
    return 0;
fail:
    db_result_free(res);
    json_decref(loads);
    json_decref(clicks);
    return ret;
}

int
message_view_deliveries(DB *db, unsigned long long id, unsigned what, json_t **out_r)
{
    DB_RESULT *res = NULL;
    json_t *list;
    int ret = message_deliveries(db, id, &res);

    *out_r = NULL;
    if (ret < 0) {
        db_result_free(res);
        return ret;
    }
    list = json_array();
    for (size_t r = 0; r < db_result_rows(res); r++) {
        const char *output = db_result_get(res, r, 3);
        char *trimmed = NULL;
        json_t *o;

        if (output) {
            size_t n;

            while (isspace((unsigned char) *output))
                output++;
            n = strlen(output);
            while (n && isspace((unsigned char) output[n - 1]))
                n--;
            trimmed = mem_strndup(output, n);
        }
        o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", message_view_int(db_result_get(res, r, 0)),
                      "status", message_view_str(db_result_get(res, r, 1)),
                      "details", message_view_str(db_result_get(res, r, 2)), "output", message_view_str(trimmed),
                      "sent_with_ssl", message_view_bool(db_result_get(res, r, 4)),
                      "log_id", message_view_str(db_result_get(res, r, 5)), "time", message_view_real(db_result_get(res, r, 6)));
        set_time(o, db_result_get(res, r, 7), what);
        json_array_append_new(list, o);
        mem_free(trimmed);
    }
    db_result_free(res);
    *out_r = list;
    return 0;
}
