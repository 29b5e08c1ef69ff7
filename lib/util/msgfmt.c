/*
 * msgfmt.c -- JSON lines and GELF 1.1 objects for the logger (msgfmt.h). Allocates only
 * inside jansson (the json_t of one line, freed before returning); a failure there is a
 * -1 the logger answers with the plain text line.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <jansson.h>

#include "util/msgfmt.h"
#include "util/utf8.h"

/* The longest message kept before any fitting; msg.c formats at most 4 KB. */
#define CLEAN_MAX 8192

static const char *const level_names[] = {
    "debug", "info", "warning", "error", "fatal", "panic"
};

static const int level_severity[] = {
    LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT
};

const char *
msgfmt_level_name(MSG_LEVEL level)
{
    return level >= MSG_LEVEL_DEBUG && level <= MSG_LEVEL_PANIC ? level_names[level] : "error";
}

int
msgfmt_severity(MSG_LEVEL level)
{
    return level >= MSG_LEVEL_DEBUG && level <= MSG_LEVEL_PANIC ? level_severity[level] : LOG_ERR;
}

/* Copies msg into clean (size bytes) with every invalid byte as '?', cut on a character
 * boundary when it does not fit (*cut_r = 1). The length. */
static size_t
clean_copy(const char *msg, char *clean, size_t size, int *cut_r)
{
    size_t len = strlen(msg), i = 0, n = 0, c;

    *cut_r = 0;
    while (i < len) {
        c = utf8_char_len(msg + i, len - i);
        if (n + (c ? c : 1) > size - 1) {
            *cut_r = 1;
            break;
        }
        if (c == 0) {
            clean[n++] = '?';
            i++;
        } else {
            memcpy(clean + n, msg + i, c);
            n += c;
            i += c;
        }
    }
    clean[n] = '\0';
    return n;
}

static int
set_str(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key, json_string(value ? value : ""));
}

static int
known(const char *s)
{
    return s != NULL && *s != '\0';
}

static json_t *
json_line(const MSGFMT_RECORD *r, const char *text)
{
    json_t *obj = json_object();
    double whole = floor(r->time);
    time_t secs = (time_t) whole;
    int ms = (int) ((r->time - whole) * 1000);
    char stamp[40], date[32];
    struct tm tm;

    if (obj == NULL)
        return NULL;
    if (gmtime_r(&secs, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        date[0] = '\0';
    snprintf(stamp, sizeof(stamp), "%s.%03dZ", date, ms > 999 ? 999 : ms);
    if (set_str(obj, "timestamp", stamp) < 0 || set_str(obj, "level", msgfmt_level_name(r->level)) < 0
        || set_str(obj, "program", r->program) < 0 || json_object_set_new(obj, "pid", json_integer(r->pid)) < 0
        || set_str(obj, "message", text) < 0
        || (known(r->queue_id) && set_str(obj, "queue_id", r->queue_id) < 0)
        || (known(r->token) && set_str(obj, "message_token", r->token) < 0)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *
gelf_object(const MSGFMT_RECORD *r, const char *text, int truncated)
{
    json_t *obj = json_object();

    if (obj == NULL)
        return NULL;
    if (set_str(obj, "version", "1.1") < 0 || set_str(obj, "host", known(r->host) ? r->host : "localhost") < 0
        || set_str(obj, "short_message", *text ? text : "-") < 0
        || json_object_set_new(obj, "timestamp", json_real(floor(r->time * 1000) / 1000)) < 0
        || json_object_set_new(obj, "level", json_integer(msgfmt_severity(r->level))) < 0
        || set_str(obj, "_facility", r->facility) < 0 || set_str(obj, "_program", r->program) < 0
        || json_object_set_new(obj, "_pid", json_integer(r->pid)) < 0
        || set_str(obj, "_level_name", msgfmt_level_name(r->level)) < 0
        || (known(r->queue_id) && set_str(obj, "_queue_id", r->queue_id) < 0)
        || (known(r->token) && set_str(obj, "_message_token", r->token) < 0)
        || (truncated && json_object_set_new(obj, "_truncated", json_integer(1)) < 0)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/*
 * Dumps the record into out, cutting the message until the whole fits. Escaping only
 * ever lengthens text, so removing k bytes of message shortens the output by at least
 * k: one cut normally suffices; a few rounds cover the marker and character edges.
 */
static int
build(const MSGFMT_RECORD *r, int gelf, char *out, size_t size)
{
    char clean[CLEAN_MAX], text[CLEAN_MAX + sizeof(MSGFMT_TRUNCATED)];
    size_t reserve = gelf ? 1 : 2, keep, need, room, marker = strlen(MSGFMT_TRUNCATED);
    int truncated;
    json_t *obj;

    if (size < 512)
        return -1;
    room = size - reserve;
    keep = clean_copy(r->message ? r->message : "", clean, sizeof(clean), &truncated);
    for (int round = 0; round < 8; round++) {
        memcpy(text, clean, keep);
        if (truncated)
            memcpy(text + keep, MSGFMT_TRUNCATED, marker + 1);
        else
            text[keep] = '\0';
        obj = gelf ? gelf_object(r, text, truncated) : json_line(r, text);
        if (obj == NULL)
            return -1;
        need = json_dumpb(obj, out, room, JSON_COMPACT | JSON_REAL_PRECISION(13));
        json_decref(obj);
        if (need == 0)
            return -1;
        if (need <= room) {
            if (!gelf)
                out[need++] = '\n';
            out[need] = '\0';
            return (int) need;
        }
        if (keep == 0)
            return -1;          /* the other fields alone do not fit */
        need -= room;
        if (!truncated)
            need += marker;
        keep = keep > need ? keep - need : 0;
        while (keep > 0 && ((unsigned char) clean[keep] & 0xC0) == 0x80)
            keep--;             /* never cut a character in two */
        truncated = 1;
    }
    return -1;
}

int
msgfmt_json(const MSGFMT_RECORD *r, char *out, size_t size)
{
    return build(r, 0, out, size);
}

int
msgfmt_gelf(const MSGFMT_RECORD *r, char *out, size_t size)
{
    return build(r, 1, out, size);
}
