/*
 * msg.c -- logging to stderr or syslog with fixed level meanings (see msg.h).
 * Thread-safe: each message is formatted into a local buffer and written with one
 * call. Must never allocate (it is used to report allocation failure).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "util/msg.h"

static const char *msg_name = "postgate";
static MSG_DEST msg_dest = MSG_DEST_STDERR;
static MSG_LEVEL msg_threshold = MSG_LEVEL_INFO;

static const char *const level_names[] = {
    "debug", "info", "warning", "error", "fatal", "panic"
};

static const int level_priority[] = {
    LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT
};

static const struct {
    const char *name;
    int facility;
} facilities[] = {
    {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

void
msg_init(const char *progname)
{
    const char *slash = strrchr(progname, '/');

    msg_name = slash ? slash + 1 : progname;
}

const char *
msg_progname(void)
{
    return msg_name;
}

int
msg_level_parse(const char *name, MSG_LEVEL *level_r)
{
    for (int i = MSG_LEVEL_DEBUG; i <= MSG_LEVEL_ERROR; i++) {
        if (strcasecmp(name, level_names[i]) == 0 || (i == MSG_LEVEL_WARN && strcasecmp(name, "warn") == 0)) {
            *level_r = (MSG_LEVEL) i;
            return 0;
        }
    }
    return -1;
}

int
msg_configure(MSG_DEST dest, MSG_LEVEL threshold, const char *facility)
{
    int fac = -1;

    if (dest == MSG_DEST_SYSLOG) {
        for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
            if (strcasecmp(facility, facilities[i].name) == 0)
                fac = facilities[i].facility;
        if (fac < 0)
            return -1;
        openlog(msg_name, LOG_PID | LOG_NDELAY, fac);
    }
    msg_dest = dest;
    msg_threshold = threshold;
    return 0;
}

static void
msg_vlog(MSG_LEVEL level, const char *fmt, va_list ap)
{
    char text[4096];
    char line[4200];
    int saved_errno = errno;
    int n;

    if (level < msg_threshold && level < MSG_LEVEL_FATAL)
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    /* Control characters from input never reach the log verbatim. */
    for (char *p = text; *p; p++)
        if ((unsigned char) *p < 0x20)
            *p = '?';
    if (msg_dest == MSG_DEST_SYSLOG) {
        if (level == MSG_LEVEL_INFO)
            syslog(level_priority[level], "%s", text);
        else
            syslog(level_priority[level], "%s: %s", level_names[level], text);
    } else {
        if (level == MSG_LEVEL_INFO)
            n = snprintf(line, sizeof(line), "%s[%ld]: %s\n", msg_name, (long) getpid(), text);
        else
            n = snprintf(line, sizeof(line), "%s[%ld]: %s: %s\n", msg_name, (long) getpid(),
                         level_names[level], text);
        if (n > (int) sizeof(line) - 1)
            n = sizeof(line) - 1;
        if (write(STDERR_FILENO, line, (size_t) n) < 0) {
            /* Nowhere left to report it. */
        }
    }
    errno = saved_errno;
}

#define MSG_FUNC(fname, level) \
    void fname(const char *fmt, ...) { va_list ap; va_start(ap, fmt); msg_vlog(level, fmt, ap); va_end(ap); }

MSG_FUNC(msg_debug, MSG_LEVEL_DEBUG)
MSG_FUNC(msg_info, MSG_LEVEL_INFO)
MSG_FUNC(msg_warn, MSG_LEVEL_WARN)
MSG_FUNC(msg_error, MSG_LEVEL_ERROR)

void
msg_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_LEVEL_FATAL, fmt, ap);
    va_end(ap);
    exit(1);
}

void
msg_fatal_status(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_LEVEL_FATAL, fmt, ap);
    va_end(ap);
    exit(status);
}

void
msg_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_LEVEL_PANIC, fmt, ap);
    va_end(ap);
    abort();
}
