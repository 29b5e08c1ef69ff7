/*
 * msgfmt.h -- the structured forms of one log line (msg.c's JSON lines and GELF 1.1
 * datagrams), built with jansson into the caller's buffer.
 *
 * Contract: the message may hold any bytes: control characters and quotes are escaped
 * by jansson, and every byte that is not part of valid UTF-8 becomes '?'. The result,
 * newline included for JSON lines, always fits the buffer: when it would not, the
 * message (never another field) is cut on a character boundary and ends with
 * MSGFMT_TRUNCATED; GELF then carries "_truncated": 1.
 * Must never: chunk a GELF message, write past the buffer, or call msg_*() (the logger
 * calls these).
 */
#ifndef PG_MSGFMT_H
#define PG_MSGFMT_H

#include <stddef.h>

#include "util/msg.h"

/* Graylog's limit for an unchunked GELF datagram over UDP. */
#define MSGFMT_GELF_MAX 8192
#define MSGFMT_TRUNCATED " [truncated]"

typedef struct msgfmt_record {
    MSG_LEVEL level;
    const char *program;
    long pid;
    double time;                /* Unix seconds */
    const char *message;
    const char *queue_id;       /* NULL or "" when not known */
    const char *token;          /* the message token; NULL or "" when not known */
    const char *host;           /* GELF: the sending host */
    const char *facility;       /* GELF: _facility */
} MSGFMT_RECORD;

/* One JSON object and "\n" into out (size bytes, NUL-terminated): timestamp (RFC 3339,
 * UTC, milliseconds), level ("info", "warning", ...), program, pid, message, and
 * queue_id / message_token when known. The length without the NUL, or -1 when jansson
 * failed (no memory) or size is under 512. */
int msgfmt_json(const MSGFMT_RECORD *r, char *out, size_t size);
/* One GELF 1.1 object (no newline) into out: version, host, short_message, timestamp,
 * level (syslog severity), _facility, _program, _pid, _queue_id, _message_token. The
 * length, or -1 as msgfmt_json's. */
int msgfmt_gelf(const MSGFMT_RECORD *r, char *out, size_t size);
/* The syslog severity of a level (LOG_DEBUG ... LOG_CRIT). */
int msgfmt_severity(MSG_LEVEL level);
/* "debug", "info", "warning", "error", "fatal", "panic". */
const char *msgfmt_level_name(MSG_LEVEL level);

#endif
