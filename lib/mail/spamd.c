/*
 * spamd.c -- SpamAssassin's spamd protocol client (spamd.h).
 *
 * Request:  "REPORT SPAMC/1.5\r\nContent-length: N\r\n\r\n" + message; spamd answers
 * "SPAMD/1.1 0 EX_OK\r\n", headers including "Spam: True ; 15.3 / 5.0", a blank line
 * and the text report whose table lists each matching rule as "<points> <RULE> <text>"
 * under a "---- ----" rule line.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/spamd.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/sock.h"

/* The line of s (up to end) starting at *pos, without its line end; advances *pos. */
static int
next_line(const char *s, size_t len, size_t *pos, const char **line_r, size_t *line_len_r)
{
    size_t start = *pos, end;

    if (start >= len)
        return 0;
    end = start;
    while (end < len && s[end] != '\n')
        end++;
    *line_r = s + start;
    *line_len_r = end > start && s[end - 1] == '\r' ? end - start - 1 : end - start;
    *pos = end < len ? end + 1 : end;
    return 1;
}

static void
parse_rule_line(const char *line, size_t len, SPAMD_RESULT *r)
{
    char copy[512], *end, *name;
    double points;
    size_t n;

    if (len == 0 || len >= sizeof(copy) || r->nrules >= SPAMD_MAX_RULES)
        return;
    memcpy(copy, line, len);
    copy[len] = '\0';
    /* Continuation lines of a description start with blanks and have no points. */
    points = strtod(copy, &end);
    if (end == copy || !isspace((unsigned char) *end))
        return;
    while (isspace((unsigned char) *end))
        end++;
    name = end;
    n = strcspn(name, " \t");
    if (n == 0 || n >= sizeof(r->rules[0].name))
        return;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char) name[i]) && name[i] != '_')
            return;
    memcpy(r->rules[r->nrules].name, name, n);
    r->rules[r->nrules].name[n] = '\0';
    r->rules[r->nrules].score = points;
    r->nrules++;
}

int
spamd_parse_answer(const char *s, size_t len, SPAMD_RESULT *r, char **error_r)
{
    const char *line;
    size_t pos = 0, llen;
    int have_spam = 0, in_table = 0;

    memset(r, 0, sizeof(*r));
    if (!next_line(s, len, &pos, &line, &llen) || llen < 7 || strncmp(line, "SPAMD/", 6) != 0) {
        *error_r = buf_asprintf("spamd answered something that is not SPAMD protocol");
        return -1;
    }
    {
        char status[128];
        const char *sp = memchr(line, ' ', llen);

        snprintf(status, sizeof(status), "%.*s", (int) (llen < 127 ? llen : 127), line);
        if (sp == NULL || (size_t) (sp - line) + 2 > llen || sp[1] != '0' || sp[2] != ' ') {
            *error_r = buf_asprintf("spamd refused the request: %s", status);
            return -1;
        }
    }
    while (next_line(s, len, &pos, &line, &llen) && llen > 0) {
        if (llen > 5 && strncasecmp(line, "Spam:", 5) == 0) {
            char v[128], *semi, *slash;

            snprintf(v, sizeof(v), "%.*s", (int) (llen - 5 < 127 ? llen - 5 : 127), line + 5);
            semi = strchr(v, ';');
            slash = semi ? strchr(semi, '/') : NULL;
            if (semi == NULL || slash == NULL) {
                *error_r = buf_asprintf("spamd's Spam header is malformed");
                return -1;
            }
            *semi = '\0';
            r->is_spam = strstr(v, "True") != NULL || strstr(v, "Yes") != NULL;
            r->score = strtod(semi + 1, NULL);
            r->threshold = strtod(slash + 1, NULL);
            have_spam = 1;
        }
    }
    if (!have_spam) {
        *error_r = buf_asprintf("spamd's answer has no Spam header");
        return -1;
    }
    /* The report: rules follow the "---- ----" line of its table. */
    while (next_line(s, len, &pos, &line, &llen)) {
        if (!in_table) {
            in_table = llen >= 9 && strncmp(line, "---- ----", 9) == 0;
            continue;
        }
        parse_rule_line(line, llen, r);
    }
    return 0;
}

int
spamd_check(const char *address, int timeout, const void *msg, size_t len, SPAMD_RESULT *r, char **error_r)
{
    double deadline = clock_mono() + timeout;
    char head[128], chunk[8192];
    BUF *answer;
    int fd, ret = -1;
    ssize_t n;

    fd = sock_connect(address, timeout * 1000, error_r);
    if (fd < 0)
        return -1;
    snprintf(head, sizeof(head), "REPORT SPAMC/1.5\r\nContent-length: %zu\r\n\r\n", len);
    if (sock_write_all(fd, head, strlen(head), deadline) < 0 || sock_write_all(fd, msg, len, deadline) < 0) {
        *error_r = buf_asprintf("spamd %s: sending: %m", address);
        close(fd);
        return -1;
    }
    shutdown(fd, SHUT_WR);
    answer = buf_new(4096);
    buf_set_limit(answer, SPAMD_MAX_ANSWER);
    while ((n = sock_read_some(fd, chunk, sizeof(chunk), deadline)) > 0) {
        if (buf_append(answer, chunk, (size_t) n) < 0) {
            *error_r = buf_asprintf("spamd %s: answer larger than %d bytes", address, SPAMD_MAX_ANSWER);
            goto out;
        }
    }
    if (n < 0) {
        *error_r = buf_asprintf("spamd %s: reading the answer: %m", address);
        goto out;
    }
    ret = spamd_parse_answer((const char *) buf_data(answer), buf_len(answer), r, error_r);
out:
    buf_free(answer);
    close(fd);
    return ret;
}
