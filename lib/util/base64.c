/*
 * base64.c -- base64.h on OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock, which do the bit
 * work; this file adds what they lack: the URL alphabet, unpadded input and output,
 * line wrapping, and the checks that make decoding strict (EVP_DecodeBlock skips white
 * space at the edges and counts padding as zero bytes) or, on request, lenient. Only
 * whole, checked groups of standard-alphabet characters reach OpenSSL, in bounded
 * chunks, so any length works with its int-sized API.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/base64.h"
#include "util/mem.h"

#define CHUNK 3072                      /* bytes per EVP_EncodeBlock call (multiple of 3) */
#define DCHUNK (CHUNK / 3 * 4)          /* characters per EVP_DecodeBlock call (multiple of 4) */

static const char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes n bytes (n <= CHUNK) into out (4 * ceil(n/3) + 1 bytes), applying flags. */
static size_t
encode_chunk(char *out, const unsigned char *p, size_t n, int flags)
{
    size_t len = (size_t) EVP_EncodeBlock((unsigned char *) out, p, (int) n);

    if (flags & BASE64_URL)
        for (size_t i = 0; i < len; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    if (flags & BASE64_NOPAD)
        while (len > 0 && out[len - 1] == '=')
            len--;
    return len;
}

int
base64_encode_buf(BUF *out, const void *data, size_t len, int flags)
{
    const unsigned char *p = data;
    char tmp[DCHUNK + 1];

    while (len > 0) {
        size_t n = len < CHUNK ? len : CHUNK;

        if (buf_append(out, tmp, encode_chunk(tmp, p, n, flags)) < 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

char *
base64_encode(const void *data, size_t len, int flags)
{
    BUF *b = buf_new(BASE64_ENCODED_LEN(len) + 1);

    base64_encode_buf(b, data, len, flags);
    return buf_steal(b, NULL);
}

int
base64_encode_lines(BUF *out, const void *data, size_t len, size_t width, const char *eol)
{
    const unsigned char *p = data;
    size_t per_line = width >= 4 && width <= DCHUNK ? width / 4 * 3 : CHUNK;
    char tmp[DCHUNK + 1];

    while (len > 0) {
        size_t n = len < per_line ? len : per_line;

        if (p != data && buf_append_str(out, eol) < 0)
            return -1;
        if (buf_append(out, tmp, encode_chunk(tmp, p, n, 0)) < 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

/* The value of c in the alphabets flags allow, or -1. */
static int
sextet(unsigned char c, int flags)
{
    const char *hit;

    if (c == '\0' || c == '=')
        return -1;
    if (c == '-' || c == '_') {
        if (!(flags & (BASE64_URL | BASE64_ANY)))
            return -1;
        return c == '-' ? 62 : 63;
    }
    if ((c == '+' || c == '/') && (flags & BASE64_URL) && !(flags & BASE64_ANY))
        return -1;
    hit = strchr(std_alphabet, c);
    return hit ? (int) (hit - std_alphabet) : -1;
}

/* Decodes n characters of the standard alphabet (n a multiple of 4, the last group
 * possibly padded) and appends the bytes, less the pad padding ones. The stack copy is
 * wiped: SASL decodes passwords through here. */
static int
decode_chunk(BUF *out, const char *chars, size_t n, size_t pad)
{
    unsigned char bytes[CHUNK];
    int len, ret;

    if (n == 0)
        return 0;
    if ((len = EVP_DecodeBlock(bytes, (const unsigned char *) chars, (int) n)) < 0)
        return -1;      /* cannot happen: only alphabet characters reach here */
    ret = buf_append(out, bytes, (size_t) len - pad);
    OPENSSL_cleanse(bytes, (size_t) len);
    return ret;
}

/* base64_decode with chars as its work space. */
static int
decode(BUF *out, const char *in, size_t len, int flags, char chars[DCHUNK])
{
    size_t n = 0, ndata = 0, pad = 0;
    int last = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) in[i];
        int v;

        if ((flags & (BASE64_SPACE | BASE64_MIME)) && isspace(c))
            continue;
        if (c == '=') {
            if (flags & BASE64_MIME)
                break;
            pad++;
            continue;
        }
        if ((v = sextet(c, flags)) < 0) {
            if (flags & BASE64_MIME)
                continue;
            return -1;
        }
        if (pad)
            return -1;          /* data after padding */
        chars[n++] = std_alphabet[v];
        ndata++;
        last = v;
        if (n == DCHUNK) {
            if (decode_chunk(out, chars, n, 0) < 0)
                return -1;
            n = 0;
        }
    }
    if (flags & BASE64_MIME) {
        if (n % 4 == 1)
            n--;                /* a lone character carries no whole byte */
    } else {
        if (pad > 2 || ndata % 4 == 1)
            return -1;
        if (!(flags & BASE64_LAX)) {
            if (pad && (ndata + pad) % 4 != 0)
                return -1;      /* padding that does not complete the group */
            if ((ndata % 4 == 2 && (last & 0x0f)) || (ndata % 4 == 3 && (last & 0x03)))
                return -1;      /* not canonical: unused bits set */
        }
    }
    if (n % 4 == 0)
        return decode_chunk(out, chars, n, 0);
    pad = 4 - n % 4;
    memset(chars + n, '=', pad);
    return decode_chunk(out, chars, n + pad, pad);
}

int
base64_decode(BUF *out, const char *in, size_t len, int flags)
{
    char chars[DCHUNK];
    int ret = decode(out, in, len, flags, chars);

    OPENSSL_cleanse(chars, sizeof(chars));
    return ret;
}

unsigned char *
base64_decode_str(const char *in, int flags, size_t *len_r)
{
    size_t len = strlen(in);
    BUF *b = buf_new(len / 4 * 3 + 4);

    if (base64_decode(b, in, len, flags) < 0) {
        buf_free(b);
        return NULL;
    }
    return (unsigned char *) buf_steal(b, len_r);
}
