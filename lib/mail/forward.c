/*
 * forward.c -- the X-Postgate-Forward header (forward.h).
 * Made as one line "v=1; kind=..; ...; mac=<hex>"; the verifier drops folding white space
 * (CR, LF, and a TAB or space that follows a line break) before it parses.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/forward.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

static const char *
kind_name(FORWARD_KIND k)
{
    return k == FORWARD_KIND_REPORT ? "report" : "forward";
}

char *
forward_header_make(const SEAL_KEY *seal, const FORWARD_INFO *fi)
{
    BUF *b = buf_new(256);
    char mac[65];

    buf_printf(b, "v=1; kind=%s; server=%llu; message=%llu; rcpt=%s; token=%s; time=%lld", kind_name(fi->kind),
               fi->server_id, fi->message_id, fi->rcpt, fi->token, fi->time);
    seal_mac_hex(seal, FORWARD_MAC_CONTEXT, buf_data(b), buf_len(b), mac);
    buf_printf(b, "; mac=%s", mac);
    return buf_steal(b, NULL);
}

/* The value with folding undone and the leading white space gone. */
static char *
unfolded(const char *value)
{
    BUF *b = buf_new(strlen(value) + 1);

    while (*value == ' ' || *value == '\t')
        value++;
    for (const char *p = value; *p; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        if ((*p == '\t' || *p == ' ') && p > value && p[-1] == '\n')
            continue;
        buf_append_char(b, *p);
    }
    while (buf_len(b) && (buf_cstr(b)[buf_len(b) - 1] == ' ' || buf_cstr(b)[buf_len(b) - 1] == '\t'))
        buf_truncate(b, buf_len(b) - 1);
    return buf_steal(b, NULL);
}

/* Reads "name=value" at *p into out (at most size - 1 bytes); moves *p past "; ". */
static int
field(const char **p, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name), vlen;
    const char *v, *end;

    if (strncmp(*p, name, nlen) != 0 || (*p)[nlen] != '=')
        return -1;
    v = *p + nlen + 1;
    end = strstr(v, "; ");
    vlen = end ? (size_t) (end - v) : strlen(v);
    if (vlen == 0 || vlen >= size)
        return -1;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
    *p = end ? end + 2 : v + vlen;
    return 0;
}

static int
number(const char *s, unsigned long long *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    *out = strtoull(s, &end, 10);
    return *end ? -1 : 0;
}

int
forward_header_verify(const SEAL_KEY *seal, const char *value, const char *rcpt, time_t now,
                      FORWARD_INFO *out, const char **why_r)
{
    char *v = unfolded(value), *mac_at, expect[65], kind[16], num[32], t[32];
    const char *p = v;
    unsigned long long n;
    int ok = 0;

    memset(out, 0, sizeof(*out));
    *why_r = "malformed header";
    if (strncmp(v, "v=1; ", 5) != 0 || (mac_at = strstr(v, "; mac=")) == NULL || strlen(mac_at + 6) != 64)
        goto out;
    seal_mac_hex(seal, FORWARD_MAC_CONTEXT, v, (size_t) (mac_at - v), expect);
    if (!token_equal(mac_at + 6, expect, 64)) {
        *why_r = "bad MAC";
        goto out;
    }
    *mac_at = '\0';
    p = v + 5;
    if (field(&p, "kind", kind, sizeof(kind)) < 0 || field(&p, "server", num, sizeof(num)) < 0
        || number(num, &out->server_id) < 0 || field(&p, "message", num, sizeof(num)) < 0
        || number(num, &out->message_id) < 0 || field(&p, "rcpt", out->rcpt, sizeof(out->rcpt)) < 0
        || field(&p, "token", out->token, sizeof(out->token)) < 0 || field(&p, "time", t, sizeof(t)) < 0
        || number(t, &n) < 0 || *p != '\0')
        goto out;
    out->time = (long long) n;
    if (strcmp(kind, "forward") == 0)
        out->kind = FORWARD_KIND_FORWARD;
    else if (strcmp(kind, "report") == 0)
        out->kind = FORWARD_KIND_REPORT;
    else
        goto out;
    if (strlen(out->token) != 16 || strspn(out->token, TOKEN_LOWER_ALNUM) != 16 || out->server_id == 0
        || out->message_id == 0)
        goto out;
    if (strcasecmp(out->rcpt, rcpt) != 0) {
        *why_r = "made for another recipient";
        goto out;
    }
    if (out->time > (long long) now + 300 || (long long) now - out->time > FORWARD_MAX_AGE) {
        *why_r = "expired";
        goto out;
    }
    ok = 1;
    *why_r = NULL;
out:
    mem_free(v);
    if (!ok)
        memset(out, 0, sizeof(*out));
    return ok;
}
