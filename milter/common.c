/*
 * common.c -- what every part of postgate-milter shares (milter.h): the process-wide
 * state, the two answers any callback may give (a logged tempfail and the removal of
 * headers) and the readers of the message's header the stored copies are made with. It calls into no other file of the milter, so the callbacks in milter.c,
 * incoming.c and outgoing.c all stand on it without a loop.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "milter.h"
#include "util/mem.h"
#include "util/msg.h"

MILTER_GLOBALS milter_globals;

sfsistat
milter_tempfail(SMFICTX *ctx, const char *fmt, ...)
{
    char reason[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    msg_warn("%s: tempfail: %s", smfi_getsymval(ctx, "{i}") ? smfi_getsymval(ctx, "{i}") : "-", reason);
    smfi_setreply(ctx, "451", "4.3.0", "Temporary failure in postgate, try again later");
    return SMFIS_TEMPFAIL;
}

sfsistat
milter_refuse(SMFICTX *ctx, MILTER_REFUSAL why, const char *code, const char *xcode, const char *text)
{
    milter_stats_refused(why);
    /* libmilter's prototype lacks const; it only copies the strings. */
    smfi_setreply(ctx, (char *) code, (char *) xcode, (char *) text);
    return SMFIS_REJECT;
}

int
milter_remove_fields(SMFICTX *ctx, const MILTER_CTX *mc, int (*match)(const MILTER_HEADER *field, void *arg), void *arg)
{
    for (size_t h = mc->nheaders; h-- > 0;) {
        const char *name = mc->headers[h].name;
        int index = 1;

        if (!match(&mc->headers[h], arg))
            continue;
        for (size_t j = 0; j < h; j++)
            index += strcasecmp(mc->headers[j].name, name) == 0;
        if (smfi_chgheader(ctx, (char *) name, index, NULL) == MI_FAILURE)
            return -1;
    }
    return 0;
}

typedef struct name_match {
    int (*match)(const char *name);
} NAME_MATCH;

static int
field_name_matches(const MILTER_HEADER *field, void *arg)
{
    return ((NAME_MATCH *) arg)->match(field->name);
}

int
milter_remove_headers(SMFICTX *ctx, const MILTER_CTX *mc, int (*match)(const char *name))
{
    NAME_MATCH m = {match};

    return milter_remove_fields(ctx, mc, field_name_matches, &m);
}

const char *
milter_header_value(const MILTER_CTX *mc, const char *name)
{
    for (size_t i = 0; i < mc->nheaders; i++)
        if (strcasecmp(mc->headers[i].name, name) == 0)
            return mc->headers[i].value;
    return NULL;
}

char *
milter_trimmed(const char *value)
{
    const char *s = value ? value : "";
    size_t len;

    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    return mem_strndup(s, len);
}

void
milter_store_header(BUF *out, const char *name, const char *value)
{
    buf_printf(out, "%s:", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\n' && (p == value || p[-1] != '\r'))
            buf_append_char(out, '\r');
        buf_append_char(out, *p);
    }
    buf_append_str(out, "\r\n");
}
