/*
 * inspection.c -- the signed spam/virus verdict header (inspection.h).
 *
 * The value is built whitespace-free ("v=1;spam=..;...;mac=.."), then folded for the
 * milter; the verifier strips all white space before parsing, so folding never
 * matters. The MAC input is the value up to ";mac=", a "|", and the hex SHA-256 of
 * the body's bytes other than space, tab, CR and LF.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "mail/inspection.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

#define FOLD_AT 72

static int
is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* SHA-256 (hex) of body without white space: Postfix may re-fold long lines and
 * change line ends between the milter and LMTP; neither changes this digest. */
static void
body_digest(const void *body, size_t len, char out[65])
{
    const unsigned char *p = body, *end = p + len;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    while (p < end) {
        const unsigned char *run = p;

        while (p < end && !is_wsp(*p))
            p++;
        if (p > run)
            EVP_DigestUpdate(ctx, run, (size_t) (p - run));
        while (p < end && is_wsp(*p))
            p++;
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
}

static void
mac(const SEAL_KEY *seal, const char *fields, size_t flen, const void *body, size_t blen, char out[65])
{
    char digest[65];
    BUF *b = buf_new(flen + 70);

    body_digest(body, blen, digest);
    buf_append(b, fields, flen);
    buf_append_char(b, '|');
    buf_append_str(b, digest);
    seal_mac_hex(seal, INSPECTION_MAC_CONTEXT, buf_data(b), buf_len(b), out);
    buf_free(b);
}

void
inspection_decimal(double v, int places, char out[32])
{
    size_t len;

    if (places < 1)
        places = 1;
    if (places > 6)
        places = 6;
    snprintf(out, 32, "%.*f", places, v);
    len = strlen(out);
    while (len > 2 && out[len - 1] == '0' && out[len - 2] != '.')
        out[--len] = '\0';
    if (strcmp(out, "-0.0") == 0)
        snprintf(out, 32, "0.0");
}

void
inspection_safe_name(const char *in, char *out, size_t size)
{
    size_t n = 0;

    if (size == 0)
        return;
    for (const char *p = in ? in : ""; *p && n + 1 < size; p++)
        out[n++] = (isalnum((unsigned char) *p) || strchr("._:/+-", *p)) ? *p : '_';
    out[n] = '\0';
}

void
inspection_add_server(INSPECTION *in, unsigned long long server_id, int spam)
{
    for (size_t i = 0; i < in->nservers; i++)
        if (in->servers[i].id == server_id)
            return;
    if (in->nservers < INSPECTION_MAX_SERVERS)
        in->servers[in->nservers++] = (INSPECTION_SERVER) {.id = server_id, .spam = spam != 0};
}

char *
inspection_header_make(const SEAL_KEY *seal, const INSPECTION *in, const void *body, size_t len)
{
    BUF *f = buf_new(512), *out;
    char num[32], hex[65], name[128];
    size_t line = 1;

    buf_append_str(f, "v=1;spam=");
    if (in->spam_checked) {
        inspection_decimal(in->spam_score, 3, num);
        buf_append_str(f, num);
        buf_append_str(f, ";rules=");
        for (size_t i = 0; i < in->nrules; i++) {
            inspection_safe_name(in->rules[i].name, name, sizeof(name));
            inspection_decimal(in->rules[i].score, 3, num);
            buf_printf(f, "%s%s:%s", i ? "," : "", name, num);
        }
    } else {
        buf_append_str(f, "unchecked");
    }
    buf_append_str(f, ";threat=");
    if (!in->threat_checked) {
        buf_append_str(f, "unchecked");
    } else if (in->threat) {
        inspection_safe_name(in->threat_details, name, sizeof(name));
        buf_printf(f, "infected:%s", name);
    } else {
        buf_append_str(f, "clean");
    }
    buf_append_str(f, ";servers=");
    for (size_t i = 0; i < in->nservers; i++)
        buf_printf(f, "%s%llu:%c", i ? "," : "", in->servers[i].id, in->servers[i].spam ? 'S' : 'N');
    if (in->spf[0]) {
        inspection_safe_name(in->spf, name, sizeof(name));
        buf_printf(f, ";spf=%s", name);
    }
    if (in->dkim[0]) {
        inspection_safe_name(in->dkim, name, sizeof(name));
        buf_printf(f, ";dkim=%s", name);
    }
    if (in->dkim_domain[0]) {
        char domain[256];

        inspection_safe_name(in->dkim_domain, domain, sizeof(domain));
        buf_printf(f, ";dkimd=%s", domain);
    }
    mac(seal, buf_cstr(f), buf_len(f), body, len, hex);
    buf_printf(f, ";mac=%s", hex);

    /* Fold after a ';' or ',' once a line grows past FOLD_AT (the MAC is one piece). */
    out = buf_new(buf_len(f) + buf_len(f) / FOLD_AT * 3 + 8);
    buf_append_char(out, ' ');
    for (const char *p = buf_cstr(f); *p; p++) {
        buf_append_char(out, *p);
        line++;
        if ((*p == ';' || *p == ',') && line > FOLD_AT) {
            buf_append_str(out, "\n\t");
            line = 1;
        } else if (*p == ';') {
            buf_append_char(out, ' ');
            line++;
        }
    }
    buf_free(f);
    return buf_steal(out, NULL);
}

/* Parses "name:score,..." into in->rules. */
static int
parse_rules(char *s, INSPECTION *in)
{
    char *save = NULL;

    for (char *item = strtok_r(s, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(item, ':'), *end;

        if (colon == NULL || colon == item || (size_t) (colon - item) >= sizeof(in->rules[0].name))
            return -1;
        if (in->nrules >= SPAMD_MAX_RULES)
            continue;
        *colon = '\0';
        snprintf(in->rules[in->nrules].name, sizeof(in->rules[0].name), "%s", item);
        in->rules[in->nrules].score = strtod(colon + 1, &end);
        if (end == colon + 1 || *end)
            return -1;
        in->nrules++;
    }
    return 0;
}

static int
parse_servers(char *s, INSPECTION *in)
{
    char *save = NULL;

    for (char *item = strtok_r(s, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *end;
        unsigned long long id = strtoull(item, &end, 10);

        if (end == item || end[0] != ':' || (end[1] != 'S' && end[1] != 'N') || end[2])
            return -1;
        inspection_add_server(in, id, end[1] == 'S');
    }
    return 0;
}

int
inspection_header_verify(const SEAL_KEY *seal, const char *value, const void *body, size_t len,
                         INSPECTION *out)
{
    BUF *c = buf_new(strlen(value) + 1);
    char *s, *macp, *save = NULL, expect[65];
    int ok = 0;

    for (const char *p = value; *p; p++)
        if (!is_wsp((unsigned char) *p))
            buf_append_char(c, *p);
    s = (char *) buf_cstr(c);
    memset(out, 0, sizeof(*out));
    if (strncmp(s, "v=1;", 4) != 0 || (macp = strstr(s, ";mac=")) == NULL || strlen(macp + 5) != 64)
        goto out;
    mac(seal, s, (size_t) (macp - s), body, len, expect);
    if (!token_equal(macp + 5, expect, 64))
        goto out;
    *macp = '\0';
    for (char *item = strtok_r(s + 4, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '='), *val, *end;

        if (eq == NULL)
            goto out;
        *eq = '\0';
        val = eq + 1;
        if (strcmp(item, "spam") == 0) {
            if (strcmp(val, "unchecked") != 0) {
                out->spam_score = strtod(val, &end);
                if (end == val || *end)
                    goto out;
                out->spam_checked = 1;
            }
        } else if (strcmp(item, "rules") == 0) {
            if (parse_rules(val, out) < 0)
                goto out;
        } else if (strcmp(item, "threat") == 0) {
            if (strcmp(val, "clean") == 0) {
                out->threat_checked = 1;
            } else if (strncmp(val, "infected:", 9) == 0) {
                out->threat_checked = out->threat = 1;
                snprintf(out->threat_details, sizeof(out->threat_details), "%s", val + 9);
            } else if (strcmp(val, "unchecked") != 0) {
                goto out;
            }
        } else if (strcmp(item, "servers") == 0) {
            if (parse_servers(val, out) < 0)
                goto out;
        } else if (strcmp(item, "spf") == 0) {
            snprintf(out->spf, sizeof(out->spf), "%s", val);
        } else if (strcmp(item, "dkim") == 0) {
            snprintf(out->dkim, sizeof(out->dkim), "%s", val);
        } else if (strcmp(item, "dkimd") == 0) {
            snprintf(out->dkim_domain, sizeof(out->dkim_domain), "%s", val);
        }
        /* Unknown fields are signed too: a later version may add some. */
    }
    ok = 1;
out:
    buf_free(c);
    if (!ok)
        memset(out, 0, sizeof(*out));
    return ok;
}

int
inspection_from_headers(const SEAL_KEY *seal, const char *headers, size_t hlen, const void *body,
                        size_t blen, INSPECTION *out)
{
    size_t nlen = strlen(INSPECTION_HEADER), pos = 0;
    int found = 0;

    while (pos < hlen) {
        size_t start = pos, end;

        /* One field: this line and its continuation lines. */
        end = start;
        for (;;) {
            while (end < hlen && headers[end] != '\n')
                end++;
            if (end < hlen && end + 1 < hlen && (headers[end + 1] == ' ' || headers[end + 1] == '\t')) {
                end++;
                continue;
            }
            break;
        }
        pos = end < hlen ? end + 1 : end;
        if (end - start > nlen && strncasecmp(headers + start, INSPECTION_HEADER, nlen) == 0
            && headers[start + nlen] == ':') {
            char *value = mem_strndup(headers + start + nlen + 1, end - start - nlen - 1);
            int ok = inspection_header_verify(seal, value, body, blen, out);

            mem_free(value);
            if (ok)
                return 1;
            found = 1;
        }
    }
    return found ? -1 : 0;
}

const char *
inspection_spam_status(const INSPECTION *in, unsigned long long server_id)
{
    if (!in->spam_checked)
        return "NotChecked";
    for (size_t i = 0; i < in->nservers; i++)
        if (in->servers[i].id == server_id)
            return in->servers[i].spam ? "Spam" : "NotSpam";
    return "NotChecked";
}

void
inspection_row(const INSPECTION *in, unsigned long long server_id, MESSAGE_INSPECTION *row, char **checks_r)
{
    *checks_r = NULL;
    memset(row, 0, sizeof(*row));
    row->spam_status = inspection_spam_status(in, server_id);
    row->spam_score = in->spam_checked ? in->spam_score : 0;
    row->threat = in->threat;
    row->threat_details = in->threat ? in->threat_details : NULL;
    row->inspected = in->spam_checked || in->threat_checked;
    if (in->spam_checked) {
        json_t *list = json_array();

        for (size_t i = 0; i < in->nrules; i++)
            json_array_append_new(list, json_pack("{s:s, s:f}", "code", in->rules[i].name, "score",
                                                  in->rules[i].score));
        {
            char *dumped = json_dumps(list, JSON_COMPACT);

            *checks_r = mem_strdup(dumped);
            free(dumped);
        }
        json_decref(list);
    }
    row->spam_checks = *checks_r;
}

int
inspection_is_verdict_header(const char *name)
{
    return strncasecmp(name, "X-Postal-Spam", 13) == 0 || strncasecmp(name, "X-Postal-Threat", 15) == 0
        || strcasecmp(name, INSPECTION_HEADER) == 0;
}

int
inspection_refuses(const INSPECTION *in, const SERVER *server, const INBOUND_TARGET *t, char *reply, size_t size)
{
    char score[32], limit[32];

    if (!in->spam_checked || (t->kind == INBOUND_RETURN_PATH && t->route_id == 0))
        return 0;
    inspection_decimal(in->spam_score, 2, score);
    if (in->spam_score >= server->spam_failure_threshold) {
        inspection_decimal(server->spam_failure_threshold, 2, limit);
        snprintf(reply, size, "Message rejected as spam: its score %s reaches the failure threshold %s", score,
                 limit);
        return 1;
    }
    if (in->spam_score > server->spam_threshold && t->route_id && strcmp(t->spam_mode, "Fail") == 0) {
        inspection_decimal(server->spam_threshold, 2, limit);
        snprintf(reply, size, "Message rejected as spam: its score %s is over the threshold %s", score, limit);
        return 1;
    }
    return 0;
}
