/*
 * fuzz_dkim.c -- libFuzzer harness of the DKIM signer's body canonicalization
 * (lib/mail/dkim.c), which reads every outgoing message's body. The first byte picks the
 * chunk size the body is fed in (1 to 255 bytes, 0: all at once); the rest is the body.
 * The contract checked besides memory safety: the signature's bh= is the SHA-256 of the
 * relaxed body (RFC 6376 3.4.4) as a plain second reading of the same bytes computes it
 * here, in every chunking.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuzz.h"
#include "mail/dkim.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"

static DKIM_KEY *key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *pem, *pub, *error = NULL;

    fuzz_quiet("fuzz_dkim");
    if (dkim_key_generate(DKIM_ALG_ED25519_SHA256, &pem, &pub, &error) < 0
        || (key = dkim_key_load(pem, strlen(pem), &error)) == NULL) {
        fprintf(stderr, "fuzz_dkim: no key: %s\n", error ? error : "?");
        abort();
    }
    mem_free(pem);
    mem_free(pub);
    return 0;
}

/* RFC 6376 3.4.4, read line by line: a line ends at CRLF or a bare LF (a bare CR is
 * content); white space runs become one SP, trailing white space goes; empty lines at
 * the end go; every line kept ends in CRLF. */
static BUF *
relaxed_body(const unsigned char *p, size_t n)
{
    BUF *out = buf_new(n + 16), *line = buf_new(256);
    size_t pending_empty = 0, i = 0;

    while (i < n) {
        size_t end = i, next;

        while (end < n && p[end] != '\n' && !(p[end] == '\r' && end + 1 < n && p[end + 1] == '\n'))
            end++;
        next = end == n ? n : p[end] == '\n' ? end + 1 : end + 2;
        buf_truncate(line, 0);
        for (size_t j = i; j < end; j++) {
            if (p[j] == ' ' || p[j] == '\t') {
                if (buf_len(line) == 0 || buf_data(line)[buf_len(line) - 1] != ' ')
                    buf_append_char(line, ' ');
            } else {
                buf_append_char(line, (char) p[j]);
            }
        }
        if (buf_len(line) > 0 && buf_data(line)[buf_len(line) - 1] == ' ')
            buf_truncate(line, buf_len(line) - 1);
        if (buf_len(line) == 0) {
            pending_empty++;
        } else {
            for (; pending_empty > 0; pending_empty--)
                buf_append(out, "\r\n", 2);
            buf_append(out, buf_data(line), buf_len(line));
            buf_append(out, "\r\n", 2);
        }
        i = next;
    }
    buf_free(line);
    return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char md[32];
    char *value = NULL, *error = NULL, *expected, *flat, *bh, *end;
    size_t chunk, len;
    const unsigned char *body;
    DKIM_SIGNER *s;
    BUF *canon;

    if (size < 1)
        return 0;
    chunk = data[0];
    body = data + 1;
    len = size - 1;
    if (chunk == 0)
        chunk = len ? len : 1;
    s = dkim_signer_new(key, "example.com", "s1", NULL);
    dkim_signer_header(s, "From", " a@example.com");
    for (size_t off = 0; off < len; off += chunk)
        dkim_signer_body(s, body + off, len - off < chunk ? len - off : chunk);
    if (dkim_signer_finish(s, 1700000000, &value, &error) < 0) {
        fprintf(stderr, "fuzz_dkim: signing failed: %s\n", error);
        abort();
    }
    dkim_signer_free(s);
    canon = relaxed_body(body, len);
    EVP_Digest(buf_data(canon), buf_len(canon), md, NULL, EVP_sha256(), NULL);
    expected = base64_encode(md, sizeof(md), 0);
    /* The value is folded: its white space goes before the tag is read. */
    flat = mem_zalloc(strlen(value) + 1);
    for (size_t i = 0, j = 0; value[i]; i++)
        if (strchr(" \t\r\n", value[i]) == NULL)
            flat[j++] = value[i];
    if ((bh = strstr(flat, "bh=")) == NULL || (end = strchr(bh, ';')) == NULL
        || (size_t) (end - bh - 3) != strlen(expected) || memcmp(bh + 3, expected, strlen(expected)) != 0) {
        fprintf(stderr, "fuzz_dkim: chunk %zu: signature %s, expected bh=%s\n", chunk, value, expected);
        abort();
    }
    mem_free(flat);
    mem_free(expected);
    mem_free(value);
    buf_free(canon);
    return 0;
}
