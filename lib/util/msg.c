/*
 * msg.c -- logging to stderr or syslog, as text or JSON lines, with an optional GELF copy
 * over UDP, and the per-thread log context (see msg.h).
 * Thread-safe: each message is formatted into local buffers and written with one call.
 * Allocates nothing itself (it reports allocation failure); the JSON and GELF forms
 * allocate inside jansson, and when that fails the text line is written instead.
 * Must never: block on the GELF socket, log from the sending path (it would recurse).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "util/metrics.h"
#include "util/msg.h"
#include "util/msgfmt.h"

#define CONTEXT_MAX 64

static const char *msg_name = "postgate";
static MSG_DEST msg_dest = MSG_DEST_STDERR;
static MSG_LEVEL msg_threshold = MSG_LEVEL_INFO;
static atomic_int msg_format = MSG_FORMAT_TEXT;

/* The message the calling thread works on. */
static __thread char context_queue_id[CONTEXT_MAX];
static __thread char context_token[CONTEXT_MAX];

/* The GELF copy: the socket is connected, so the kernel reports a receiver's ICMP port
 * unreachable on the next send. gelf_lock guards the socket and the strings; gelf_on
 * spares the lock when there is no copy. */
static pthread_mutex_t gelf_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int gelf_on;
static int gelf_fd = -1;
static char gelf_facility[128];
static char gelf_hostname[256];
static METRIC *gelf_dropped;

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
        if (strcasecmp(name, msgfmt_level_name((MSG_LEVEL) i)) == 0 || (i == MSG_LEVEL_WARN && strcasecmp(name, "warn") == 0)) {
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

int
msg_format_parse(const char *name, MSG_FORMAT *format_r)
{
    if (strcasecmp(name, "text") == 0)
        *format_r = MSG_FORMAT_TEXT;
    else if (strcasecmp(name, "json") == 0)
        *format_r = MSG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

void
msg_set_format(MSG_FORMAT format)
{
    atomic_store(&msg_format, (int) format);
}

int
msg_gelf_configure(const char *host, int port, const char *facility, char *error, size_t error_size)
{
    struct addrinfo hints, *res = NULL, *ai;
    char service[16];
    int fd = -1, old, err, saved = 0;

    if (gelf_dropped == NULL)
        gelf_dropped = metrics_counter("postgate_log_gelf_dropped_total",
                                       "Log lines not delivered to the GELF input (logging.gelf_host): the "
                                       "socket would not take them, or the receiver refused them.", NULL);
    if (host && *host) {
        if (port < 1 || port > 65535) {
            snprintf(error, error_size, "logging.gelf_port %d is not a port", port);
            return -1;
        }
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_DGRAM;
        snprintf(service, sizeof(service), "%d", port);
        if ((err = getaddrinfo(host, service, &hints, &res)) != 0) {
            snprintf(error, error_size, "logging.gelf_host %s: %s", host, gai_strerror(err));
            return -1;
        }
        for (ai = res; ai && fd < 0; ai = ai->ai_next) {
            fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                saved = errno;
                close(fd);
                fd = -1;
            } else if (fd < 0) {
                saved = errno;
            }
        }
        freeaddrinfo(res);
        if (fd < 0) {
            snprintf(error, error_size, "logging.gelf_host %s port %d: %s", host, port, strerror(saved));
            return -1;
        }
    }
    pthread_mutex_lock(&gelf_lock);
    old = gelf_fd;
    gelf_fd = fd;
    snprintf(gelf_facility, sizeof(gelf_facility), "%s", facility ? facility : "");
    if (gethostname(gelf_hostname, sizeof(gelf_hostname)) < 0 || gelf_hostname[0] == '\0')
        snprintf(gelf_hostname, sizeof(gelf_hostname), "localhost");
    gelf_hostname[sizeof(gelf_hostname) - 1] = '\0';
    atomic_store(&gelf_on, fd >= 0);
    pthread_mutex_unlock(&gelf_lock);
    if (old >= 0)
        close(old);
    return 0;
}

/* ---------------------------------------------------------------- log context */

static void
context_set(char *field, const char *value)
{
    size_t n = 0;

    for (; value && value[n] && n < CONTEXT_MAX - 1; n++) {
        unsigned char c = (unsigned char) value[n];

        field[n] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.'
            || c == '_' || c == '-' ? (char) c : '?';
    }
    field[n] = '\0';
}

void
msg_context_set_queue_id(const char *queue_id)
{
    context_set(context_queue_id, queue_id);
}

void
msg_context_set_token(const char *token)
{
    context_set(context_token, token);
}

void
msg_context_clear(void)
{
    context_queue_id[0] = '\0';
    context_token[0] = '\0';
}

const char *
msg_context_queue_id(void)
{
    return context_queue_id;
}

const char *
msg_context_token(void)
{
    return context_token;
}

/* ---------------------------------------------------------------- writing */

/* " queue_id=X token=Y" for the text form, or "". */
static void
context_suffix(char *out, size_t size)
{
    int n = 0;

    out[0] = '\0';
    if (context_queue_id[0])
        n = snprintf(out, size, " queue_id=%s", context_queue_id);
    if (context_token[0] && n >= 0 && (size_t) n < size)
        snprintf(out + n, size - (size_t) n, " token=%s", context_token);
}

static void
write_stderr(const char *line, size_t len)
{
    if (write(STDERR_FILENO, line, len) < 0) {
        /* Nowhere left to report it. */
    }
}

static void
write_text(MSG_LEVEL level, char *text)
{
    char line[4400], suffix[2 * CONTEXT_MAX + 32];
    int n;

    /* Control characters from input never reach the log verbatim. */
    for (char *p = text; *p; p++)
        if ((unsigned char) *p < 0x20)
            *p = '?';
    context_suffix(suffix, sizeof(suffix));
    if (msg_dest == MSG_DEST_SYSLOG) {
        if (level == MSG_LEVEL_INFO)
            syslog(msgfmt_severity(level), "%s%s", text, suffix);
        else
            syslog(msgfmt_severity(level), "%s: %s%s", msgfmt_level_name(level), text, suffix);
        return;
    }
    if (level == MSG_LEVEL_INFO)
        n = snprintf(line, sizeof(line), "%s[%ld]: %s%s\n", msg_name, (long) getpid(), text, suffix);
    else
        n = snprintf(line, sizeof(line), "%s[%ld]: %s: %s%s\n", msg_name, (long) getpid(), msgfmt_level_name(level),
                     text, suffix);
    if (n > (int) sizeof(line) - 1)
        n = sizeof(line) - 1;
    write_stderr(line, (size_t) n);
}

/* The JSON line on stderr or syslog; -1 when it could not be made. */
static int
write_json(const MSGFMT_RECORD *r)
{
    char line[16384];
    int n = msgfmt_json(r, line, sizeof(line));

    if (n < 0)
        return -1;
    if (msg_dest == MSG_DEST_SYSLOG) {
        line[n - 1] = '\0';
        syslog(msgfmt_severity(r->level), "%s", line);
    } else {
        write_stderr(line, (size_t) n);
    }
    return 0;
}

/* One datagram per line, never waiting. ECONNREFUSED reports an earlier datagram that
 * the receiver refused; this one is then tried once more. */
static void
send_gelf(const MSGFMT_RECORD *base)
{
    char datagram[MSGFMT_GELF_MAX], facility[sizeof(gelf_facility)], host[sizeof(gelf_hostname)];
    MSGFMT_RECORD r = *base;
    int n;

    pthread_mutex_lock(&gelf_lock);
    memcpy(facility, gelf_facility, sizeof(facility));
    memcpy(host, gelf_hostname, sizeof(host));
    pthread_mutex_unlock(&gelf_lock);
    r.facility = facility;
    r.host = host;
    n = msgfmt_gelf(&r, datagram, sizeof(datagram));
    pthread_mutex_lock(&gelf_lock);
    if (gelf_fd >= 0) {
        if (n < 0) {
            metrics_inc(gelf_dropped);
        } else if (send(gelf_fd, datagram, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
            metrics_inc(gelf_dropped);
            if (errno == ECONNREFUSED && send(gelf_fd, datagram, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                metrics_inc(gelf_dropped);
        }
    }
    pthread_mutex_unlock(&gelf_lock);
}

static void
msg_vlog(MSG_LEVEL level, const char *fmt, va_list ap)
{
    char text[4096];
    int saved_errno = errno;
    struct timespec now;
    MSGFMT_RECORD r;

    if (level < msg_threshold && level < MSG_LEVEL_FATAL)
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    if (atomic_load(&msg_format) == MSG_FORMAT_JSON || atomic_load(&gelf_on)) {
        clock_gettime(CLOCK_REALTIME, &now);
        memset(&r, 0, sizeof(r));
        r.level = level;
        r.program = msg_name;
        r.pid = (long) getpid();
        r.time = (double) now.tv_sec + (double) now.tv_nsec / 1e9;
        r.message = text;
        r.queue_id = context_queue_id;
        r.token = context_token;
        if (atomic_load(&gelf_on))
            send_gelf(&r);
        if (atomic_load(&msg_format) == MSG_FORMAT_JSON && write_json(&r) == 0) {
            errno = saved_errno;
            return;
        }
    }
    write_text(level, text);
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
