/*
 * otp.c -- TOTP codes (liboath), the enrolment QR code (libqrencode, drawn here as SVG)
 * and recovery codes (otp.h). Randomness is util/token.c's (OpenSSL's generator).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <qrencode.h>

#include "otp.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define B32_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
/* No 0/o, 1/l/i: read off a sheet of paper without doubt. */
#define RECOVERY_ALPHABET "abcdefghjkmnpqrstuvwxyz23456789"
#define QR_QUIET_ZONE 4

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ready;

static void
oath_start(void)
{
    int rc = oath_init();

    if (rc != OATH_OK)
        msg_error("liboath: cannot initialize: %s", oath_strerror(rc));
    oath_ready = rc == OATH_OK;
}

int
otp_secret_new(unsigned char secret[OTP_SECRET_LEN], char b32[OTP_SECRET_B32_LEN + 1])
{
    char *raw = NULL;
    size_t len = 0;
    int rc;

    pthread_once(&oath_once, oath_start);
    /* 32 base32 characters are exactly 160 random bits; liboath turns them into bytes. */
    if (!oath_ready || token_generate(b32, OTP_SECRET_B32_LEN, B32_ALPHABET) < 0)
        return -1;
    rc = oath_base32_decode(b32, OTP_SECRET_B32_LEN, &raw, &len);
    if (rc != OATH_OK || len != OTP_SECRET_LEN) {
        msg_error("liboath: base32 decoding of a new secret: %s", oath_strerror(rc));
        free(raw);
        return -1;
    }
    memcpy(secret, raw, OTP_SECRET_LEN);
    explicit_bzero(raw, len);
    free(raw);
    return 0;
}

int
otp_code_shape(const char *code)
{
    return code && strlen(code) == OTP_DIGITS && strspn(code, "0123456789") == OTP_DIGITS;
}

int
otp_check(const void *secret, size_t len, const char *code, time_t now, unsigned long long *step_r)
{
    uint64_t counter = 0;
    int pos = 0, rc;

    pthread_once(&oath_once, oath_start);
    if (!oath_ready)
        return -1;
    if (!otp_code_shape(code))
        return 0;
    rc = oath_totp_validate3(secret, len, now, OTP_STEP, 0, OTP_WINDOW, &pos, &counter, code);
    if (rc == OATH_INVALID_OTP)
        return 0;
    if (rc < 0) {
        msg_error("liboath: TOTP validation: %s", oath_strerror(rc));
        return -1;
    }
    *step_r = counter;
    return 1;
}

/* Appends s percent-encoded (all but RFC 3986's unreserved characters). */
static void
pct_append(BUF *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            buf_append_char(b, (char) *p);
        else
            buf_printf(b, "%%%02X", *p);
    }
}

char *
otp_uri(const char *issuer, const char *account, const char *b32)
{
    BUF *b = buf_new(160);

    buf_append_str(b, "otpauth://totp/");
    pct_append(b, issuer);
    buf_append_str(b, ":");
    pct_append(b, account);
    buf_printf(b, "?secret=%s&issuer=", b32);
    pct_append(b, issuer);
    buf_printf(b, "&algorithm=SHA1&digits=%d&period=%d", OTP_DIGITS, OTP_STEP);
    return buf_steal(b, NULL);
}

char *
otp_qr_data_uri(const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    BUF *svg;
    char *b64, *uri;
    int size;

    if (qr == NULL) {
        msg_warn("libqrencode: cannot encode %zu bytes: %m", strlen(text));
        return NULL;
    }
    size = qr->width + 2 * QR_QUIET_ZONE;
    svg = buf_new(4096);
    buf_printf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
               "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
               size, size, size * 6, size * 6, size, size);
    /* One horizontal run of dark modules per path segment (bit 0 of each byte: dark). */
    for (int y = 0; y < qr->width; y++) {
        for (int x = 0; x < qr->width;) {
            int run = 0;

            while (x + run < qr->width && (qr->data[y * qr->width + x + run] & 1))
                run++;
            if (run) {
                buf_printf(svg, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE, y + QR_QUIET_ZONE, run, run);
                x += run;
            } else {
                x++;
            }
        }
    }
    buf_append_str(svg, "\"/></svg>");
    QRcode_free(qr);
    b64 = base64_encode(buf_data(svg), buf_len(svg), 0);
    uri = buf_asprintf("data:image/svg+xml;base64,%s", b64);
    mem_free(b64);
    buf_free(svg);
    return uri;
}

int
otp_recovery_new(char shown[OTP_RECOVERY_SHOWN])
{
    char raw[OTP_RECOVERY_LEN + 1];

    if (token_generate(raw, OTP_RECOVERY_LEN, RECOVERY_ALPHABET) < 0)
        return -1;
    snprintf(shown, OTP_RECOVERY_SHOWN, "%.5s-%.5s", raw, raw + 5);
    explicit_bzero(raw, sizeof(raw));
    return 0;
}

int
otp_recovery_normalize(const char *typed, char out[OTP_RECOVERY_LEN + 1])
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *) typed; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        if (n == OTP_RECOVERY_LEN || strchr(RECOVERY_ALPHABET, tolower(*p)) == NULL)
            return 0;
        out[n++] = (char) tolower(*p);
    }
    out[n] = '\0';
    return n == OTP_RECOVERY_LEN;
}
