/*
 * sign.c -- the last changes postgate-milter makes to mail that leaves (outgoing,
 * released and forwarded): header fields and body lines folded as Postfix would fold
 * them, the return path set to the message's token, and the DKIM signatures (the From
 * domain's keys, or the return-path domain's key for forwards and domains without one).
 *
 * Contract: outgoing.c folds, wraps and sets the return path first, and calls
 * sign_message() last, once the content is final; each returns -1 when Postfix refused
 * the change (sign_message: or the database or signing failed) and the caller tempfails.
 * Must never: change the content after signing, or sign postgate's own stamps.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/dkim.h"
#include "milter.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* Header values for Postfix use "\n" line breaks (as OpenDKIM does), never "\r\n". */
static char *
milter_value(const char *value)
{
    BUF *b = buf_new(strlen(value) + 1);

    for (const char *p = value; *p; p++)
        if (*p != '\r')
            buf_append_char(b, *p);
    return buf_steal(b, NULL);
}

/* Octets of "name:value" CRLF as the message will carry it (every line ending CRLF). */
size_t
sign_header_size(const char *name, const char *value)
{
    size_t n = strlen(name) + 1 + 2;

    for (const char *p = value; *p; p++)
        n += *p == '\n' && (p == value || p[-1] != '\r') ? 2 : 1;
    return n;
}

/*
 * Folds the header fields whose lines would pass 998 octets (dkim_header_fold), in
 * Postfix's copy and in mc->headers, so that the signature, the stored copy and what
 * leaves agree: Postfix would otherwise break them after signing. -1 when Postfix
 * refused the change.
 */
int
sign_fold_headers(SMFICTX *ctx, MILTER_CTX *mc, size_t *changed_r)
{
    *changed_r = 0;
    for (size_t h = 0; h < mc->nheaders; h++) {
        char *folded;
        int index = 0;

        if (outgoing_is_postgate_header(mc->headers[h].name)
            || (folded = dkim_header_fold(mc->headers[h].name, mc->headers[h].value)) == NULL)
            continue;
        for (size_t j = 0; j <= h; j++)
            index += strcasecmp(mc->headers[j].name, mc->headers[h].name) == 0;
        if (smfi_chgheader(ctx, mc->headers[h].name, index, folded) == MI_FAILURE) {
            mem_free(folded);
            return -1;
        }
        *changed_r += sign_header_size(mc->headers[h].name, folded);
        mem_free(mc->headers[h].value);
        mc->headers[h].value = folded;
    }
    return 0;
}

/*
 * Postfix's SMTP client breaks lines longer than 998 octets (RFC 5322) with CRLF SPACE
 * when it delivers, which would change a body after it was signed. Breaking them the
 * same way before signing leaves Postfix nothing to change. Returns 1 when the body
 * was rewritten (into *out), 0 when every line already fits.
 */
#define SMTP_LINE_LIMIT 998

int
sign_wrap_body(const BUF *body, BUF **out)
{
    const char *p = buf_cstr(body), *end = p + buf_len(body);
    size_t run = 0;
    int too_long = 0;

    for (const char *q = p; q < end && !too_long; q++) {
        run = (*q == '\n') ? 0 : run + 1;
        too_long = run > SMTP_LINE_LIMIT + 1;   /* + 1: a CR before the LF is not content */
    }
    if (!too_long)
        return 0;
    *out = buf_new(buf_len(body) + buf_len(body) / SMTP_LINE_LIMIT * 3 + 16);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *line_end = nl ? nl : end;
        size_t len = (size_t) (line_end - p);

        if (len && p[len - 1] == '\r')
            len--;
        /* The first piece holds 998 octets; each continuation line starts with the
         * inserted space, so it holds 997 more. */
        for (size_t room = SMTP_LINE_LIMIT; len > room; room = SMTP_LINE_LIMIT - 1) {
            buf_append(*out, p, room);
            buf_append_str(*out, "\r\n ");
            p += room;
            len -= room;
        }
        buf_append(*out, p, len);
        if (nl)
            buf_append_str(*out, "\r\n");
        p = nl ? nl + 1 : end;
    }
    return 1;
}

int
sign_return_path(SMFICTX *ctx, const char *token)
{
    char *rp = buf_asprintf("<%s@%s>", token, milter_globals.cfg->dns_return_path_domain);
    int ret = smfi_chgfrom(ctx, rp, NULL);

    mem_free(rp);
    return ret == MI_FAILURE ? -1 : 0;
}

static int sign_with(SMFICTX *ctx, MILTER_CTX *mc, LOOKUP_KEYSET *ks, const char *msgid_value, size_t *added_r);

/* Signs the final message (headers as fed, plus the body) with the domain's keys and
 * inserts the DKIM-Signature fields at the top. -1: database or signing failure. */
int
sign_message(SMFICTX *ctx, DB *db, MILTER_CTX *mc, const char *msgid_value, size_t *added_r)
{
    LOOKUP_KEYSET *ks;
    int error, ret = 0;

    *added_r = 0;
    /* A forward's From is somebody else's, and so is a released forward's. */
    if (mc->direction == DIR_FORWARD || (mc->direction == DIR_RELEASE && mc->from_domain_id == 0))
        return sign_with(ctx, mc, NULL, msgid_value, added_r);
    if (mc->from_domain_id == 0)
        return 0;
    if ((ks = lookup_signing_keys(db, mc->from_domain, mc->from_domain_id, &error)) == NULL)
        return -1;
    ret = sign_with(ctx, mc, ks, msgid_value, added_r);
    lookup_release_keys(ks);
    return ret;
}

/* Signs with the keys of ks, or as the return-path domain when ks is NULL or has none
 * (forwarded mail: the From is somebody else's domain). */
static int
sign_with(SMFICTX *ctx, MILTER_CTX *mc, LOOKUP_KEYSET *ks, const char *msgid_value, size_t *added_r)
{
    int n = ks ? ks->n : 0, ret = 0;

    if (n == 0 && milter_globals.return_path_key == NULL)
        msg_warn("domain %s: no usable active DKIM key and no return-path key; the message leaves unsigned",
                 mc->from_domain);
    /* The RSA signature ends up on top; Ed25519 below it (order has no meaning to verifiers).
     * A From domain without a key is signed as the return-path domain. */
    for (int k = (n ? n : milter_globals.return_path_key != NULL) - 1; k >= 0 && ret == 0; k--) {
        char *why = NULL;
        DKIM_SIGNER *signer = n
            ? dkim_signer_new(ks->keys[k], mc->from_domain, ks->selectors[k], NULL)
            : dkim_signer_new(milter_globals.return_path_key, milter_globals.cfg->dns_return_path_domain,
                              milter_globals.cfg->dns_dkim_identifier, NULL);
        char *value = NULL, *mvalue;

        for (size_t h = 0; h < mc->nheaders; h++)
            if (!outgoing_is_postgate_header(mc->headers[h].name))
                dkim_signer_header(signer, mc->headers[h].name, mc->headers[h].value);
        if (msgid_value)
            dkim_signer_header(signer, "X-Postal-MsgID", msgid_value);
        dkim_signer_body(signer, buf_data(mc->body), buf_len(mc->body));
        ret = dkim_signer_finish(signer, time(NULL), &value, &why);
        dkim_signer_free(signer);
        if (ret < 0) {
            msg_warn("domain %s: DKIM signing failed: %s", mc->from_domain, why);
            mem_free(why);
            break;
        }
        mvalue = milter_value(value);
        *added_r += sign_header_size("DKIM-Signature", mvalue);
        ret = smfi_insheader(ctx, 0, "DKIM-Signature", mvalue) == MI_FAILURE ? -1 : 0;
        mem_free(mvalue);
        mem_free(value);
    }
    return ret;
}
