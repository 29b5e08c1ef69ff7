/*
 * dkim.c -- the DKIM signer (see dkim.h), written from RFC 6376, RFC 8463 and RFC 8301.
 * Keys are dkimkey.c's, folding long header lines before signing is dkimfold.c's.
 *
 * Canonicalization is relaxed/relaxed (RFC 6376 3.4.2, 3.4.4). Header fields are
 * canonicalized as they arrive and only those named in the signing list are kept; the
 * body goes through a state machine into SHA-256 (runs of plain text copied whole), so a chunk boundary
 * may fall anywhere (inside a CRLF, a whitespace run or a run of empty lines) and the
 * body is never held. RSA signs with PKCS#1 v1.5 over SHA-256; Ed25519 signs the 32-byte
 * SHA-256 digest of the data with PureEd25519 (RFC 8463 3).
 *
 * Must never: keep the body, fold a signature in a way that changes its relaxed
 * canonical form, or leave OpenSSL errors queued for other modules.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "mail/dkim.h"
#include "mail/dkimkey.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"

#define DKIM_FOLD_AT 78             /* RFC 5322 2.1.1: lines SHOULD NOT pass 78 characters */
#define DKIM_NAME_MAX 253           /* domain and selector */
#define DKIM_SIG_FIELD "DKIM-Signature"

/* One header field to sign: lowercase name and canonical "name:value" without CRLF. */
typedef struct {
    char *name;
    char *canon;
} DKIM_HEADER;

struct dkim_signer {
    EVP_PKEY *pkey;                 /* own reference */
    DKIM_ALG alg;
    char *domain;
    char *selector;
    char **names;                   /* lowercase, unique, "from" included */
    size_t names_count;
    DKIM_HEADER *headers;           /* fields whose names are listed, in message order */
    size_t headers_count;
    size_t headers_alloc;
    size_t fields_seen;             /* every field, listed or not */
    const char *error;              /* first error, reported by finish */
    int finished;

    EVP_MD_CTX *body_md;
    /* Relaxed body state carried between chunks. */
    size_t empty_lines;             /* empty lines held back: emitted only if content follows */
    int in_wsp;                     /* whitespace seen since the last emitted character */
    int line_content;               /* the current line has emitted a character */
    int saw_cr;                     /* last byte was CR: a CRLF may be split across chunks */
    unsigned char out[4096];        /* canonical bytes waiting for EVP_DigestUpdate */
    size_t out_len;
};

static const char *const default_headers[] = {
    "from", "to", "cc", "subject", "date", "message-id", "reply-to", "sender",
    "in-reply-to", "references", "mime-version", "content-type",
    "content-transfer-encoding", "list-unsubscribe", "list-unsubscribe-post",
    "x-postal-msgid", NULL
};

static int
is_wsp(int c)
{
    return c == ' ' || c == '\t';
}

static char
ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static void
set_error(DKIM_SIGNER *s, const char *error)
{
    if (s->error == NULL)
        s->error = error;
}

/* RFC 5322 ftext: printable US-ASCII except the colon. */
static int
valid_field_name(const char *name)
{
    if (*name == '\0')
        return 0;
    for (const char *p = name; *p; p++)
        if ((unsigned char) *p < 33 || (unsigned char) *p > 126 || *p == ':')
            return 0;
    return 1;
}

/* Domain names and selectors: dot-separated labels of letters, digits, '-' and '_'. */
static int
valid_domain(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;

    if (len == 0 || len > DKIM_NAME_MAX || name[0] == '.' || name[len - 1] == '.')
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || (c == '.' && p[1] != '.')))
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ header canonicalization */

/* Appends the relaxed form "name:value" (RFC 6376 3.4.2) without the CRLF: lowercase
 * name, folding removed, whitespace runs as one SP, none around the colon or at the end. */
static void
canon_header(BUF *out, const char *name, const char *value)
{
    size_t len = strlen(name);
    int in_wsp = 0, started = 0;

    while (len > 0 && is_wsp(name[len - 1]))
        len--;
    for (size_t i = 0; i < len; i++)
        buf_append_char(out, ascii_lower(name[i]));
    buf_append_char(out, ':');
    for (const char *p = value; *p; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        if (is_wsp(*p)) {
            in_wsp = 1;
            continue;
        }
        if (in_wsp && started)
            buf_append_char(out, ' ');
        in_wsp = 0;
        started = 1;
        buf_append_char(out, *p);
    }
}

/* Compares a field name as written (maybe with trailing WSP) with a lowercase name. */
static int
name_matches(const char *written, const char *lower)
{
    size_t i;

    for (i = 0; lower[i] != '\0'; i++)
        if (ascii_lower(written[i]) != lower[i])
            return 0;
    while (is_wsp(written[i]))
        i++;
    return written[i] == '\0';
}

/* ------------------------------------------------------------------ body canonicalization */

static void
body_flush(DKIM_SIGNER *s)
{
    if (s->out_len > 0 && EVP_DigestUpdate(s->body_md, s->out, s->out_len) != 1)
        set_error(s, "SHA-256 of the body failed");
    s->out_len = 0;
}

static void
body_put(DKIM_SIGNER *s, const char *data, size_t len)
{
    if (s->out_len + len > sizeof(s->out))
        body_flush(s);
    memcpy(s->out + s->out_len, data, len);
    s->out_len += len;
}

/* A run of characters that are neither whitespace nor line ends (one or more): held-back
 * empty lines and a pending whitespace run go first, then the run itself; a run larger
 * than the buffer goes to SHA-256 directly. */
static void
body_text(DKIM_SIGNER *s, const unsigned char *text, size_t len)
{
    /* Empty lines followed by content are not at the end of the body: emit them. */
    for (; s->empty_lines > 0; s->empty_lines--)
        body_put(s, "\r\n", 2);
    if (s->in_wsp)
        body_put(s, " ", 1);
    s->in_wsp = 0;
    s->line_content = 1;
    if (len > sizeof(s->out) - s->out_len) {
        body_flush(s);
        if (len >= sizeof(s->out)) {
            if (EVP_DigestUpdate(s->body_md, text, len) != 1)
                set_error(s, "SHA-256 of the body failed");
            return;
        }
    }
    memcpy(s->out + s->out_len, text, len);
    s->out_len += len;
}

static void
body_char(DKIM_SIGNER *s, unsigned char c)
{
    body_text(s, &c, 1);
}

/* 1 for the bytes body_text takes as they are: all but CR, LF, SP and HTAB. */
static int
is_text(unsigned char c)
{
    return c != '\r' && c != '\n' && c != ' ' && c != '\t';
}

/* End of line: trailing whitespace is dropped; an empty line is held back in case it
 * belongs to the empty lines at the end of the body, which relaxed ignores. */
static void
body_eol(DKIM_SIGNER *s)
{
    if (s->line_content)
        body_put(s, "\r\n", 2);
    else
        s->empty_lines++;
    s->line_content = 0;
    s->in_wsp = 0;
}

void
dkim_signer_body(DKIM_SIGNER *s, const unsigned char *data, size_t len)
{
    if (s->finished || s->body_md == NULL)
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = data[i];

        if (s->saw_cr) {
            s->saw_cr = 0;
            if (c == '\n') {
                body_eol(s);
                continue;
            }
            body_char(s, '\r');     /* a bare CR is an ordinary character */
        }
        if (c == '\r')
            s->saw_cr = 1;
        else if (c == '\n')
            body_eol(s);            /* a bare LF counts as CRLF */
        else if (is_wsp(c))
            s->in_wsp = 1;
        else {
            /* The common case, a run of text, is copied in one piece. */
            size_t run = 1;

            while (i + run < len && is_text(data[i + run]))
                run++;
            body_text(s, data + i, run);
            i += run - 1;
        }
    }
}

/* Ends the body: a last line without CRLF gets one, held-back empty lines are dropped
 * (an empty body stays empty, RFC 6376 3.4.4). */
static int
body_finish(DKIM_SIGNER *s, unsigned char *digest)
{
    unsigned int len = 0;

    if (s->saw_cr) {
        s->saw_cr = 0;
        body_char(s, '\r');
    }
    if (s->line_content)
        body_eol(s);
    body_flush(s);
    if (EVP_DigestFinal_ex(s->body_md, digest, &len) != 1 || len != 32)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ signer */

static void
add_name(DKIM_SIGNER *s, const char *name)
{
    char *lower;

    if (!valid_field_name(name)) {
        set_error(s, "invalid header field name in the signing list");
        return;
    }
    lower = mem_strdup(name);
    for (char *p = lower; *p; p++)
        *p = ascii_lower(*p);
    for (size_t i = 0; i < s->names_count; i++)
        if (strcmp(s->names[i], lower) == 0) {
            mem_free(lower);
            return;
        }
    s->names = mem_realloc(s->names, (s->names_count + 1) * sizeof(*s->names));
    s->names[s->names_count++] = lower;
}

DKIM_SIGNER *
dkim_signer_new(const DKIM_KEY *key, const char *domain, const char *selector,
                const char *const *headers)
{
    DKIM_SIGNER *s = mem_zalloc(sizeof(*s));
    int has_from = 0;

    if (key == NULL)
        set_error(s, "no signing key");
    else {
        s->alg = key->alg;
        if (EVP_PKEY_up_ref(key->pkey) == 1)
            s->pkey = key->pkey;
        else
            set_error(s, "cannot take a reference to the key");
    }
    if (!valid_domain(domain))
        set_error(s, "invalid signing domain");
    if (!valid_domain(selector))
        set_error(s, "invalid selector");
    s->domain = mem_strdup_null(domain);
    s->selector = mem_strdup_null(selector);
    if (headers == NULL)
        headers = default_headers;
    for (size_t i = 0; headers[i] != NULL; i++)
        if (name_matches(headers[i], "from"))
            has_from = 1;
    /* RFC 6376 5.4: the From header field MUST be signed. */
    if (!has_from)
        add_name(s, "from");
    for (size_t i = 0; headers[i] != NULL; i++)
        add_name(s, headers[i]);
    if ((s->body_md = EVP_MD_CTX_new()) == NULL
        || EVP_DigestInit_ex(s->body_md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(s->body_md);
        s->body_md = NULL;
        set_error(s, "SHA-256 is not available");
        ERR_clear_error();
    }
    return s;
}

void
dkim_signer_header(DKIM_SIGNER *s, const char *name, const char *value)
{
    BUF *canon;

    if (s->finished)
        return;
    if (name == NULL || value == NULL) {
        set_error(s, "header field without name or value");
        return;
    }
    if (++s->fields_seen > DKIM_MAX_HEADERS) {
        set_error(s, "more than 1000 header fields");
        return;
    }
    if (strlen(name) + strlen(value) > DKIM_MAX_HEADER_LEN) {
        set_error(s, "header field longer than 1 MB");
        return;
    }
    for (size_t i = 0; i < s->names_count; i++) {
        if (!name_matches(name, s->names[i]))
            continue;
        if (s->headers_count == s->headers_alloc) {
            s->headers_alloc = s->headers_alloc ? 2 * s->headers_alloc : 16;
            s->headers = mem_realloc(s->headers, s->headers_alloc * sizeof(*s->headers));
        }
        canon = buf_new(strlen(name) + strlen(value) + 2);
        canon_header(canon, name, value);
        s->headers[s->headers_count].name = s->names[i];
        s->headers[s->headers_count].canon = buf_steal(canon, NULL);
        s->headers_count++;
        return;
    }
}

/* Builds a folded header value: atoms separated by a space, or by "\r\n\t" when the
 * line would pass 78 characters. Folding only where RFC 6376 allows FWS keeps the
 * relaxed canonical form the same as that of the unfolded value. */
typedef struct {
    BUF *buf;
    size_t column;
} DKIM_FOLD;

static void
fold_atom_reserve(DKIM_FOLD *f, const char *atom, int space, size_t reserve)
{
    size_t len = strlen(atom);

    if (f->column + len + (space ? 1 : 0) + reserve > DKIM_FOLD_AT && f->column > 1) {
        buf_append_str(f->buf, "\r\n\t");
        f->column = 1;
    } else if (space) {
        buf_append_char(f->buf, ' ');
        f->column++;
    }
    buf_append_str(f->buf, atom);
    f->column += len;
}

static void
fold_atom(DKIM_FOLD *f, const char *atom, int space)
{
    fold_atom_reserve(f, atom, space, 0);
}

/* Base64 may be split by FWS anywhere (RFC 6376 2.4): fill each line to the limit. */
static void
fold_base64(DKIM_FOLD *f, const char *data)
{
    size_t left = strlen(data);

    while (left > 0) {
        size_t room = f->column < DKIM_FOLD_AT ? DKIM_FOLD_AT - f->column : 0;
        size_t n = left < room ? left : room;

        if (n == 0) {
            buf_append_str(f->buf, "\r\n\t");
            f->column = 1;
            continue;
        }
        buf_append(f->buf, data, n);
        f->column += n;
        data += n;
        left -= n;
    }
}

/* Appends the chosen fields to data and their names to the h= atoms: each listed name
 * once per occurrence, bottom-most first (RFC 6376 5.4.2), and "from" once more. */
static void
select_headers(DKIM_SIGNER *s, BUF *data, DKIM_FOLD *f)
{
    int first = 1;

    for (size_t n = 0; n < s->names_count; n++) {
        const char *name = s->names[n];
        size_t count = 0, times;

        for (size_t i = 0; i < s->headers_count; i++)
            if (s->headers[i].name == name)
                count++;
        times = count + (strcmp(name, "from") == 0 ? 1 : 0);
        for (size_t i = s->headers_count; i-- > 0 && count > 0;)
            if (s->headers[i].name == name) {
                buf_append_str(data, s->headers[i].canon);
                buf_append(data, "\r\n", 2);
                count--;
            }
        for (size_t t = 0; t < times; t++) {
            char *atom = buf_asprintf("%s%s%s", first ? "h=" : "", name, ":");

            fold_atom(f, atom, first);
            mem_free(atom);
            first = 0;
        }
    }
    /* The last name ends with ':' from the loop: make it the tag's ';'. */
    buf_truncate(f->buf, buf_len(f->buf) - 1);
    buf_append_char(f->buf, ';');
}

static int
sign_data(DKIM_SIGNER *s, const unsigned char *data, size_t len, char **b64_r)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char digest[32];
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    int ok;

    if (ctx == NULL)
        return -1;
    if (s->alg == DKIM_ALG_RSA_SHA256) {
        ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, s->pkey) == 1
            && EVP_DigestSign(ctx, NULL, &sig_len, data, len) == 1
            && (sig = mem_alloc(sig_len)) != NULL
            && EVP_DigestSign(ctx, sig, &sig_len, data, len) == 1;
    } else {
        /* RFC 8463 3: PureEd25519 over the SHA-256 hash of the canonical data. */
        ok = EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL) == 1
            && EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pkey) == 1
            && EVP_DigestSign(ctx, NULL, &sig_len, digest, sizeof(digest)) == 1
            && (sig = mem_alloc(sig_len)) != NULL
            && EVP_DigestSign(ctx, sig, &sig_len, digest, sizeof(digest)) == 1;
    }
    EVP_MD_CTX_free(ctx);
    if (ok)
        *b64_r = base64_encode(sig, sig_len, 0);
    mem_free(sig);
    ERR_clear_error();
    return ok && *b64_r != NULL ? 0 : -1;
}

int
dkim_signer_finish(DKIM_SIGNER *s, time_t now, char **value_r, char **error_r)
{
    unsigned char body_hash[32];
    char *bh = NULL, *b = NULL, *atom;
    BUF *data;
    DKIM_FOLD f;

    *value_r = NULL;
    if (s->finished) {
        *error_r = mem_strdup("DKIM signer already finished");
        return -1;
    }
    s->finished = 1;
    if (s->error == NULL && s->body_md == NULL)
        set_error(s, "SHA-256 is not available");
    if (s->error == NULL && body_finish(s, body_hash) < 0)
        set_error(s, "SHA-256 of the body failed");
    if (s->error != NULL) {
        *error_r = mem_strdup(s->error);
        return -1;
    }
    bh = base64_encode(body_hash, sizeof(body_hash), 0);

    data = buf_new(1024);
    f.buf = buf_new(512);
    f.column = strlen(DKIM_SIG_FIELD ":");
    fold_atom(&f, "v=1;", 1);
    fold_atom(&f, s->alg == DKIM_ALG_RSA_SHA256 ? "a=rsa-sha256;" : "a=ed25519-sha256;", 1);
    fold_atom(&f, "c=relaxed/relaxed;", 1);
    atom = buf_asprintf("d=%s;", s->domain);
    fold_atom(&f, atom, 1);
    mem_free(atom);
    atom = buf_asprintf("s=%s;", s->selector);
    fold_atom(&f, atom, 1);
    mem_free(atom);
    atom = buf_asprintf("t=%lld;", (long long) now);
    fold_atom(&f, atom, 1);
    mem_free(atom);
    select_headers(s, data, &f);
    atom = buf_asprintf("bh=%s;", bh);
    fold_atom(&f, atom, 1);
    mem_free(atom);
    /* FWS may follow "b=", but keep some data beside it for human readers. */
    fold_atom_reserve(&f, "b=", 1, 8);

    /* RFC 6376 3.7: the signature field itself, b= empty, canonicalized, no CRLF. */
    canon_header(data, DKIM_SIG_FIELD, buf_cstr(f.buf));
    if (sign_data(s, buf_data(data), buf_len(data), &b) < 0) {
        *error_r = mem_strdup(s->alg == DKIM_ALG_RSA_SHA256 ? "RSA-SHA256 signing failed" : "Ed25519 signing failed");
        buf_free(data);
        buf_free(f.buf);
        mem_free(bh);
        return -1;
    }
    fold_base64(&f, b);
    *value_r = buf_steal(f.buf, NULL);
    buf_free(data);
    mem_free(bh);
    mem_free(b);
    return 0;
}

void
dkim_signer_free(DKIM_SIGNER *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->headers_count; i++)
        mem_free(s->headers[i].canon);
    mem_free(s->headers);
    for (size_t i = 0; i < s->names_count; i++)
        mem_free(s->names[i]);
    mem_free(s->names);
    mem_free(s->domain);
    mem_free(s->selector);
    EVP_MD_CTX_free(s->body_md);
    EVP_PKEY_free(s->pkey);
    mem_free(s);
}
