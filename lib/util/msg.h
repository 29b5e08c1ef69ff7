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
 * Messages go to stderr (default) or syslog, tagged with the program name.
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

/* Sets the program name used as the log tag; call first. */
void msg_init(const char *progname);
/* Switches destination and threshold; facility is a syslog facility name ("mail"). */
int msg_configure(MSG_DEST dest, MSG_LEVEL threshold, const char *facility, const char **error_r);
/* Parses "debug".."error"; returns -1 when unknown. */
int msg_level_parse(const char *name, MSG_LEVEL *level_r);
const char *msg_progname(void);

void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_fatal_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
