/*
 * message_view.h -- a logged message as JSON, shared by the send API's messages/message
 * and deliveries (Postal's shapes) and the management API's messages (postgate's):
 * the stored raw message taken apart (bodies, attachments, headers), its opens and
 * clicks, and its delivery attempts. Rows come from message.h's readers, so every
 * lookup stays confined to the caller's server.
 *
 * Contract: text is valid UTF-8 (invalid bytes replaced); times are Postal's float
 * "timestamp" or, with MESSAGE_VIEW_ISO, "created_at" as "YYYY-MM-DDTHH:MM:SSZ". Once the
 * raw message has passed its retention the content values are null. Functions that
 * read the database return < 0 (DB_ERR_TEMP / DB_ERR_PERM) on its failures.
 * Must never: read a row of another server, or hand out a value that is not UTF-8.
 */
#ifndef PG_MESSAGE_VIEW_H
#define PG_MESSAGE_VIEW_H

#include <stddef.h>

#include <jansson.h>

#include "mail/db.h"
#include "mail/message.h"

/* What message_view_content() adds (bit set). */
enum {
    MESSAGE_VIEW_PLAIN = 1,             /* "plain_body" */
    MESSAGE_VIEW_HTML = 2,              /* "html_body" */
    MESSAGE_VIEW_ATTACHMENTS = 4,       /* "attachments": [{filename, content_type, data, size, hash}] */
    MESSAGE_VIEW_ATTACHMENT_LIST = 8,   /* "attachments" without data */
    MESSAGE_VIEW_HEADERS = 16,          /* "headers": {"lower-case-name": ["value", ...]} */
    MESSAGE_VIEW_RAW = 32,              /* "raw_message": base64 */
    MESSAGE_VIEW_ISO = 64,              /* activity and deliveries: ISO times, not floats */
};

/* The text of a Message-ID without white space or angle brackets (mem_free it). */
char *message_view_bare_id(const char *value);
/* A JSON string of s made valid UTF-8, or null for NULL. */
json_t *message_view_str(const char *s);
/* A column's text as a JSON number (real, integer) or boolean ("0" false), or null for NULL. */
json_t *message_view_real(const char *s);
json_t *message_view_int(const char *s);
json_t *message_view_bool(const char *s);

/* The stored raw message (headers, blank line, body) of row `row` of m (message.h's
 * enum message_col): 1 with *raw_r (mem_free it) and *len_r, 0 when it has expired. */
int message_view_raw(DB *db, unsigned long long server_id, const DB_RESULT *m, size_t row, char **raw_r,
                     size_t *len_r);
/* message_view_raw() for a MESSAGE_ROW. */
int message_view_raw_row(DB *db, unsigned long long server_id, const MESSAGE_ROW *m, char **raw_r, size_t *len_r);
/* Adds what `what` names to data. 0 done, < 0 database error. */
int message_view_content(DB *db, unsigned long long server_id, const MESSAGE_ROW *m, unsigned what, json_t *data);
/* Attachment n (from 0) as {filename, content_type, size, hash, data}: 1 with *out_r,
 * 0 no such attachment (or the raw message expired: *expired_r set), < 0 database error. */
int message_view_attachment(DB *db, unsigned long long server_id, const MESSAGE_ROW *m, size_t n, json_t **out_r,
                            int *expired_r);
/* {"loads": [{ip_address, user_agent, country, city, time}], "clicks": [{url, ...}]}:
 * 0 with *out_r, < 0 database error. */
int message_view_activity(DB *db, unsigned long long server_id, unsigned long long id, unsigned what,
                          json_t **out_r);
/* [{id, status, details, output, sent_with_ssl, log_id, time, timestamp}], oldest first:
 * 0 with *out_r, < 0 database error. */
int message_view_deliveries(DB *db, unsigned long long id, unsigned what, json_t **out_r);
/* A UNIX timestamp text ("1700000000.123456") as "YYYY-MM-DDTHH:MM:SSZ", or null. */
json_t *message_view_iso_time(const char *unix_seconds);
/* A MESSAGE_ROW time as a JSON number (Postal's "timestamp"), or null for NAN. */
json_t *message_view_time(double unix_seconds);
/* A MESSAGE_ROW time as "YYYY-MM-DDTHH:MM:SSZ", or null for NAN. */
json_t *message_view_iso_at(double unix_seconds);

#endif
