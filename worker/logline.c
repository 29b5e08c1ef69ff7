/*
 * logline.c -- Postfix maillog line parser (logline.h). Pure: no I/O, no allocation.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "logline.h"

#define QUEUE_ID_MIN 6
#define QUEUE_ID_MAX 31
#define DAY_SECONDS 86400

static const char *const months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

int
logline_queue_id_valid(const char *s)
{
    size_t n = strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    return s[n] == '\0' && n >= QUEUE_ID_MIN && n <= QUEUE_ID_MAX;
}

const char *
logline_reply(const char *text, size_t *len_r)
{
    static const char said[] = " said: ", in_reply[] = " (in reply to ";
    const char *start, *end;
    size_t n = strlen(text);

    *len_r = n;
    if (strncmp(text, "host ", 5) != 0 || (start = strstr(text, said)) == NULL)
        return text;
    start += sizeof(said) - 1;
    end = text + n;
    if (n > sizeof(in_reply) && text[n - 1] == ')') {
        const char *p = NULL;

        for (const char *q = start; (q = strstr(q, in_reply)) != NULL; q++)
            p = q;
        if (p && strcmp(end - strlen(" command)"), " command)") == 0)
            end = p;
    }
    *len_r = (size_t) (end - start);
    return start;
}

/* Reads exactly n digits at *p; -1 when they are not there. */
static int
digits(const char **p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char) (*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

/* "Nov 22 16:35:57" (syslog, local time, no year): the year is the one that puts the
 * stamp closest before now (a line from Dec 31 read on Jan 1 is last year's). */
static const char *
parse_syslog_time(const char *p, time_t now, time_t *when_r)
{
    struct tm tm, now_tm;
    int mon = -1, day, h, m, s;

    for (int i = 0; i < 12; i++)
        if (strncmp(p, months[i], 3) == 0 && p[3] == ' ')
            mon = i;
    if (mon < 0)
        return NULL;
    p += 4;
    if (*p == ' ')
        p++;
    if (!isdigit((unsigned char) *p))
        return NULL;
    day = *p++ - '0';
    if (isdigit((unsigned char) *p))
        day = day * 10 + (*p++ - '0');
    if (*p++ != ' ' || (h = digits(&p, 2)) < 0 || *p++ != ':' || (m = digits(&p, 2)) < 0 || *p++ != ':'
        || (s = digits(&p, 2)) < 0)
        return NULL;
    if (*p == '.')                      /* fractions of a second, if a writer adds them */
        for (p++; isdigit((unsigned char) *p); p++)
            ;
    if (*p != ' ')
        return NULL;
    localtime_r(&now, &now_tm);
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = now_tm.tm_year;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    *when_r = mktime(&tm);
    if (*when_r != (time_t) -1 && *when_r > now + DAY_SECONDS) {
        tm.tm_year--;
        tm.tm_isdst = -1;
        *when_r = mktime(&tm);
    }
    if (*when_r == (time_t) -1)
        *when_r = 0;
    return p + 1;
}

/* "2024-11-22T16:35:57.123456+01:00" (RFC 3339, as rsyslog writes it). */
static const char *
parse_rfc3339_time(const char *p, time_t *when_r)
{
    struct tm tm;
    int y, mo, d, h, m, s, off = 0;

    if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 || *p++ != '-'
        || (d = digits(&p, 2)) < 0 || *p++ != 'T' || (h = digits(&p, 2)) < 0 || *p++ != ':'
        || (m = digits(&p, 2)) < 0 || *p++ != ':' || (s = digits(&p, 2)) < 0)
        return NULL;
    if (*p == '.')
        for (p++; isdigit((unsigned char) *p); p++)
            ;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;

        if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0)
            return NULL;
        off = sign * (oh * 3600 + om * 60);
    } else {
        return NULL;
    }
    if (*p != ' ' || mo < 1 || mo > 12)
        return NULL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    *when_r = timegm(&tm) - off;
    return p + 1;
}

/* An address between < and >, quoted local parts allowed; p points after '<'. Returns
 * the byte after '>' (which becomes NUL), or NULL. */
static char *
take_address(char *p)
{
    int quoted = 0;

    for (; *p; p++) {
        if (quoted && *p == '\\' && p[1]) {
            p++;
        } else if (*p == '"') {
            quoted = !quoted;
        } else if (*p == '>' && !quoted) {
            *p = '\0';
            return p + 1;
        }
    }
    return NULL;
}

/* "Anonymous|Untrusted|Trusted|Verified TLS connection established to PEER: ..." */
static int
parse_tls(char *p, LOGLINE *ll)
{
    static const char *const kinds[] = {"Anonymous ", "Untrusted ", "Trusted ", "Verified "};
    static const char est[] = "TLS connection established to ";
    size_t k = 0;
    char *end;

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strncmp(p, kinds[i], strlen(kinds[i])) == 0)
            k = strlen(kinds[i]);
    if (k == 0 || strncmp(p + k, est, sizeof(est) - 1) != 0)
        return 0;
    p += k + sizeof(est) - 1;
    /* host[addr]:port -- addr may hold colons (IPv6), so look past the bracket. */
    if ((end = strchr(p, ']')) == NULL || end[1] != ':' || !isdigit((unsigned char) end[2]))
        return 0;
    end += 2;
    while (isdigit((unsigned char) *end))
        end++;
    if (*end != ':')
        return 0;
    *end = '\0';
    ll->peer = p;
    return 1;
}

/* After the to= address: ", key=value" pairs up to status=, which takes the rest. */
static int
parse_delivery(char *p, LOGLINE *ll)
{
    if ((p = take_address(p)) == NULL || strncmp(p, ", ", 2) != 0)
        return 0;
    p += 2;
    for (;;) {
        char *key = p, *eq = strchr(key, '='), *val, *sep;

        if (eq == NULL)
            return 0;
        *eq = '\0';
        val = eq + 1;
        if (strcmp(key, "status") == 0) {
            size_t n = strcspn(val, " ,");
            char *close;

            ll->status = val;
            if (val[n] == '\0') {
                ll->text = val + n;
            } else if (val[n] == ' ' && val[n + 1] == '(' && (close = strrchr(val + n, ')')) != NULL
                       && close[1] == '\0') {
                val[n] = '\0';
                *close = '\0';
                ll->text = val + n + 2;
            } else {
                val[n] = '\0';
                ll->text = "";
            }
            return n > 0;
        }
        if (strcmp(key, "orig_to") == 0) {
            if (*val != '<' || (sep = take_address(val + 1)) == NULL || strncmp(sep, ", ", 2) != 0)
                return 0;
            ll->orig_to = val + 1;
            p = sep + 2;
            continue;
        }
        if ((sep = strstr(val, ", ")) == NULL)
            return 0;
        *sep = '\0';
        p = sep + 2;
        if (strcmp(key, "relay") == 0) {
            ll->relay = val;
        } else if (strcmp(key, "dsn") == 0) {
            ll->dsn = val;
        } else if (strcmp(key, "delay") == 0) {
            char *end;

            ll->delay = strtod(val, &end);
            if (*end != '\0' || ll->delay < 0)
                return 0;
        }
    }
}

/* "reject: ", "milter-reject: ", "milter-header-reject: " (milter_header_checks) or
 * "discard: " refusing the whole message: any such
 * line of cleanup's, and smtpd's only at END-OF-MESSAGE or DATA (an smtpd "QID: reject:
 * RCPT ..." refuses one recipient of a message that may still be accepted). */
static int
is_refusal(const char *service, const char *p)
{
    static const char *const actions[] = {"reject: ", "milter-reject: ", "milter-header-reject: ", "discard: "};
    size_t k = 0;

    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strncmp(p, actions[i], strlen(actions[i])) == 0)
            k = strlen(actions[i]);
    if (k == 0)
        return 0;
    if (strcmp(service, "cleanup") == 0)
        return 1;
    return strcmp(service, "smtpd") == 0
        && (strncmp(p + k, "END-OF-MESSAGE ", 15) == 0 || strncmp(p + k, "DATA ", 5) == 0);
}

LOGLINE_KIND
logline_parse(char *line, time_t now, LOGLINE *ll)
{
    char *p = line, *tag, *br, *qid, *colon;
    const char *q;

    memset(ll, 0, sizeof(*ll));
    ll->kind = LOGLINE_OTHER;
    ll->delay = -1;
    q = isdigit((unsigned char) *p) ? parse_rfc3339_time(p, &ll->when) : parse_syslog_time(p, now, &ll->when);
    if (q == NULL)
        return LOGLINE_OTHER;
    p = line + (q - line);
    /* host, then "syslog_name/service[pid]: " */
    if ((p = strchr(p, ' ')) == NULL)
        return LOGLINE_OTHER;
    tag = p + 1;
    if ((br = strchr(tag, '[')) == NULL || memchr(tag, ' ', (size_t) (br - tag)) != NULL)
        return LOGLINE_OTHER;
    *br = '\0';
    ll->service = strrchr(tag, '/') ? strrchr(tag, '/') + 1 : tag;
    ll->pid = strtoul(br + 1, &p, 10);
    if (p == br + 1 || strncmp(p, "]: ", 3) != 0)
        return LOGLINE_OTHER;
    p += 3;

    if (parse_tls(p, ll))
        return ll->kind = LOGLINE_TLS;
    qid = p;
    if ((colon = strstr(p, ": ")) == NULL)
        return LOGLINE_OTHER;
    *colon = '\0';
    if (!logline_queue_id_valid(qid))
        return LOGLINE_OTHER;
    ll->queue_id = qid;
    p = colon + 2;
    if (strcmp(p, "removed") == 0)
        return ll->kind = LOGLINE_REMOVED;
    if (is_refusal(ll->service, p))
        return ll->kind = LOGLINE_REFUSED;
    if (strncmp(p, "to=<", 4) == 0) {
        ll->to = p + 4;
        if (parse_delivery(p + 4, ll) && ll->to[0] != '\0')
            return ll->kind = LOGLINE_DELIVERY;
    } else if (strncmp(p, "from=<", 6) == 0 && (p = take_address(p + 6)) != NULL
               && (strcmp(p, ", status=expired, returned to sender") == 0
                   || strcmp(p, ", status=force-expired, returned to sender") == 0)) {
        /* force-expired: an administrator ran postsuper -e (Postfix 3.5 and later). */
        ll->status = p[9] == 'f' ? "force-expired" : "expired";
        ll->text = "";
        return ll->kind = LOGLINE_EXPIRED;
    }
    ll->queue_id = NULL;
    ll->to = ll->orig_to = ll->relay = ll->dsn = ll->status = ll->text = NULL;
    return LOGLINE_OTHER;
}
