/*
 * otp.h -- the codes of the second sign-in factor (RFC 6238 TOTP through liboath, the
 * enrolment QR code through libqrencode) and the recovery codes, for mgmt_totp.c.
 *
 * Contract: secrets are OTP_SECRET_LEN random bytes, shown to their owner once as base32
 * (OTP_SECRET_B32_LEN characters) inside an otpauth:// URI; codes are six digits for
 * 30-second steps, accepted one step either side of now (clock skew), and otp_check()
 * tells which step matched so that the caller can refuse a step used before. Recovery
 * codes are ten characters of a lower-case alphabet without look-alikes, shown as
 * "xxxxx-xxxxx"; otp_recovery_normalize() takes any case, spaces and dashes.
 * Must never: log a secret, a code or a recovery code.
 */
#ifndef PG_ADMIN_OTP_H
#define PG_ADMIN_OTP_H

#include <stddef.h>
#include <time.h>

#define OTP_SECRET_LEN 20           /* 160 bits, RFC 4226's recommendation */
#define OTP_SECRET_B32_LEN 32
#define OTP_DIGITS 6
#define OTP_STEP 30
#define OTP_WINDOW 1                /* steps accepted either side of now */
#define OTP_RECOVERY_LEN 10         /* characters, without the dash */
#define OTP_RECOVERY_SHOWN 12       /* "xxxxx-xxxxx" and the NUL */

/* A new secret: raw bytes into secret, base32 into b32 (NUL-terminated). 0, or -1 when
 * the random number generator failed. */
int otp_secret_new(unsigned char secret[OTP_SECRET_LEN], char b32[OTP_SECRET_B32_LEN + 1]);

/* Checks code against secret at now: 1 with *step_r (the time step it belongs to), 0 not
 * a valid code for any step in the window (or not six digits), -1 liboath failed. */
int otp_check(const void *secret, size_t len, const char *code, time_t now, unsigned long long *step_r);

/* 1 when code has the shape of a TOTP code (six digits). */
int otp_code_shape(const char *code);

/* The otpauth:// URI of a secret (mem_free it): issuer and account percent-encoded. */
char *otp_uri(const char *issuer, const char *account, const char *b32);

/* The QR code of text as an SVG image in a data: URI (mem_free it); NULL when text does
 * not fit a QR code or libqrencode fails. */
char *otp_qr_data_uri(const char *text);

/* A new recovery code, "xxxxx-xxxxx": 0, or -1 when the random number generator failed. */
int otp_recovery_new(char shown[OTP_RECOVERY_SHOWN]);

/* The canonical form of a recovery code as typed (OTP_RECOVERY_LEN characters into out):
 * 1, or 0 when it cannot be one. */
int otp_recovery_normalize(const char *typed, char out[OTP_RECOVERY_LEN + 1]);

#endif
