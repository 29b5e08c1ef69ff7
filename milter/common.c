/*
 * common.c -- what every part of postgate-milter shares (milter.h): the process-wide
 * state and the two answers any callback may give, a logged tempfail and the removal
 * of headers. It calls into no other file of the milter, so the callbacks in milter.c,
 * incoming.c and outgoing.c all stand on it without a loop.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "milter.h"
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
