/*
 * msg.h -- logging with fixed levels (after Postfix's msg(3)).
 *
 *   msg_debug  detail for developers; off unless logging.level = "debug"
 *   msg_info   normal events an administrator may want to see
 *   msg_warn   something is wrong but the program keeps going
 *   msg_error  an operation failed (the caller reports a 4xx/5xx or an exit code)
 *   msg_fatal  the program cannot go on: logs and exits with status 1
 *              (or the given status with msg_fatal_status); never call it from a
 *              libmilter or libmicrohttpd callback
 *   msg_panic  a broken invariant: logs and aborts (core dump)
 *
 * Messages go to stderr (default) or syslog, tagged with the program name, as text
 * ("program[pid]: level: message") or as one JSON object per line (msg_set_format), and
 * optionally as a copy to a GELF 1.1 UDP input (msg_gelf_configure). Formatting is in
 * msgfmt.c.
 *
 * Log context: a thread that works on one message names it with
 * msg_context_set_queue_id() / msg_context_set_token(); every line that thread logs
 * until msg_context_clear() carries them (text: " queue_id=... token=..." at the end;
 * JSON: queue_id, message_token; GELF: _queue_id, _message_token). The context is
 * per thread, so a caller that handles messages in turn on one thread (a libmilter
 * connection, a worker loop) must clear it when it is done with each, including on its
 * early returns.
 *
 * Recoverable errors are not logged where they happen but returned, in one convention
 * for the whole tree (CONVENTIONS.md 6, Dovecot's dict_lookup style):
 *
 *   int f(..., char **error_r);
 *
 *   - The return value says what happened, and the comment above each prototype says
 *     which values the function uses: 0 / -1 for one that only succeeds or fails;
 *     1 (done) / 0 (the "no": not found, invalid, taken) / -1 (failed) for one that can
 *     also refuse. Where a caller must tell a temporary failure (4xx, retry later) from
 *     a permanent one (5xx), both are negative and named (db.h's DB_ERR_TEMP and
 *     DB_ERR_PERM) or the comment says which is which.
 *   - *error_r is set exactly on the returns the comment names (normally every return
 *     but success) to a string allocated by mem.h/buf.h (mem_strdup, buf_asprintf) that
 *     the caller owns and must mem_free. It is left untouched otherwise, so a caller may
 *     start with `char *error = NULL;` and mem_free it unconditionally.
 *   - The text names what it is about and reads after a colon ("domain %s: no TXT
 *     record"); the caller adds where it was (request, command, queue id) when logging.
 *   - error_r is never NULL unless the comment says it may be.
 */
#ifndef PG_MSG_H
#define PG_MSG_H

#include <stdarg.h>

typedef enum {
    MSG_LEVEL_DEBUG = 0,
    MSG_LEVEL_INFO,
    MSG_LEVEL_WARN,
    MSG_LEVEL_ERROR,
    MSG_LEVEL_FATAL,
    MSG_LEVEL_PANIC
} MSG_LEVEL;

typedef enum {
    MSG_DEST_STDERR = 0,
    MSG_DEST_SYSLOG
} MSG_DEST;

typedef enum {
    MSG_FORMAT_TEXT = 0,
    MSG_FORMAT_JSON
} MSG_FORMAT;

/* Sets the program name used as the log tag; call first. */
void msg_init(const char *progname);
/* Switches destination and threshold; facility is a syslog facility name ("mail").
 * 0, or -1 when the facility is not one (nothing changed). No error_r: the logger sits
 * below mem.c, which logs through it, so it allocates nothing; -1 has one meaning. */
int msg_configure(MSG_DEST dest, MSG_LEVEL threshold, const char *facility);
/* Parses "debug".."error"; returns -1 when unknown. */
int msg_level_parse(const char *name, MSG_LEVEL *level_r);
const char *msg_progname(void);
/* Parses "text" or "json"; -1 when unknown. */
int msg_format_parse(const char *name, MSG_FORMAT *format_r);
/* Lines on stderr or syslog from now on are text or JSON; any thread may be logging. */
void msg_set_format(MSG_FORMAT format);
/* Sends a GELF copy of every line logged from now on to host:port over UDP (host empty
 * or NULL: no copy), with _facility = facility. Resolves host here (call it at start or
 * on reload, never from a callback); the first call also registers the counter
 * postgate_log_gelf_dropped_total. 0, or -1 with the reason in error (error_size bytes;
 * the previous destination stays). Sending never blocks: a datagram the kernel will not
 * take, or that the receiver refused (ICMP port unreachable, seen on the next send), is
 * counted and forgotten. */
int msg_gelf_configure(const char *host, int port, const char *facility, char *error, size_t error_size);

/* The calling thread's log context (see above). NULL or "" clears one field; bytes
 * other than letters, digits, '.', '_' and '-' are kept as '?', at most 63 of them. */
void msg_context_set_queue_id(const char *queue_id);
void msg_context_set_token(const char *token);
void msg_context_clear(void);
/* The calling thread's current values, "" when unset. */
const char *msg_context_queue_id(void);
const char *msg_context_token(void);

void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_fatal_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
