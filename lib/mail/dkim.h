/*
 * dkim.h -- DKIM signing (RFC 6376) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463).
 *
 * Keys: generated here (RSA 2048 bits or Ed25519) or loaded from PEM; RSA keys under
 * 1024 bits are refused (RFC 8301). A signer takes one message's header fields and its
 * body in any chunking and yields the DKIM-Signature header value, with relaxed/relaxed
 * canonicalization. The body is hashed as it streams: only a few bytes of state are
 * kept between chunks, never the body. Keys are dkimkey.c's, the signer dkim.c's and
 * dkim_header_fold() dkimfold.c's; this is the one header of all three.
 *
 * Must never: prompt for a passphrase, exit or abort on bad input (errors are return
 * values), or sign a message without signing its From field (it is always signed, and
 * listed once more than it occurs so that a From added later breaks the signature).
 */
#ifndef PG_DKIM_H
#define PG_DKIM_H

#include <stddef.h>
#include <time.h>

typedef enum { DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256 } DKIM_ALG;
typedef struct dkim_key DKIM_KEY;       /* opaque: a private key */
typedef struct dkim_signer DKIM_SIGNER; /* opaque: one message being signed */

/* Limits: finish fails when one header field (name and value) passes DKIM_MAX_HEADER_LEN
 * bytes or the message has more than DKIM_MAX_HEADERS fields. */
#define DKIM_MAX_HEADER_LEN (1024 * 1024)
#define DKIM_MAX_HEADERS 1000

/* Generates a key: RSA 2048 bits or Ed25519. *pem_r = PKCS#8 PEM private key (mem_free it);
 * *public_b64_r = the base64 value for the DNS p= tag (RSA: SubjectPublicKeyInfo DER;
 * Ed25519: the raw 32-byte key, RFC 8463), mem_free it. 0 ok, -1 with *error_r (mem_free it). */
int dkim_key_generate(DKIM_ALG alg, char **pem_r, char **public_b64_r, char **error_r);
/* Loads a PEM private key (RSA >= 1024 bits, or Ed25519); NULL with *error_r (mem_free it) otherwise.
 * Encrypted keys are refused, never prompted for. */
DKIM_KEY *dkim_key_load(const char *pem, size_t len, char **error_r);
void dkim_key_free(DKIM_KEY *key);
/* The key's p= value (as dkim_key_generate reports it); mem_free it; NULL on failure. */
char *dkim_key_public_b64(const DKIM_KEY *key);
DKIM_ALG dkim_key_alg(const DKIM_KEY *key);
/* The DNS TXT record value to publish (free with mem_free):
 * RSA "v=DKIM1; t=s; h=sha256; p=<b64>;" (Postal's format), Ed25519 "v=DKIM1; k=ed25519; p=<b64>;". */
char *dkim_dns_record(DKIM_ALG alg, const char *public_b64);

/* A signer for one message; it keeps its own reference to the key, which may be freed
 * afterwards. headers: NULL-terminated list of header field names to sign (any case),
 * NULL = the default list (from, to, cc, subject, date, message-id, reply-to, sender,
 * in-reply-to, references, mime-version, content-type, content-transfer-encoding,
 * list-unsubscribe, list-unsubscribe-post, x-postal-msgid). "from" is added when the
 * list lacks it. Each listed name goes into h= once per occurrence in the message;
 * "from" once more. Bad domain, selector or names are reported by finish. */
DKIM_SIGNER *dkim_signer_new(const DKIM_KEY *key, const char *domain, const char *selector,
                             const char *const *headers);
/* Feed every header field of the final message in order: name as written, value =
 * everything after the colon exactly as it appears (may start with a space, may contain
 * folding "\r\n\t" or "\n\t"). */
void dkim_signer_header(DKIM_SIGNER *s, const char *name, const char *value);
/* Feed the body in any chunking; line endings CRLF (a bare LF counts as CRLF). */
void dkim_signer_body(DKIM_SIGNER *s, const unsigned char *data, size_t len);
/* Computes the signature; *value_r = the DKIM-Signature header VALUE (without
 * "DKIM-Signature:"), starting with a space, folded with "\r\n\t" so that no line of the
 * field exceeds 78 characters; tags v=1; a=; c=relaxed/relaxed; d=; s=; t=<now>; h=; bh=; b=.
 * mem_free *value_r. 0 ok, -1 with *error_r (mem_free it: limits passed, bad arguments,
 * crypto failure, called twice). */
int dkim_signer_finish(DKIM_SIGNER *s, time_t now, char **value_r, char **error_r);
void dkim_signer_free(DKIM_SIGNER *s);

/* A header field whose lines would pass 998 octets, folded before signing so that
 * Postfix has nothing to break after (it would insert CRLF SP inside a word and
 * change the relaxed form): at white space where there is some; a longer word in a
 * Subject becomes RFC 2047 encoded words (it reads the same); elsewhere it is broken
 * with "\n " as Postfix would. NULL when every line fits; else the new value (with
 * "\n" line breaks, as a milter passes it; mem_free it). */
char *dkim_header_fold(const char *name, const char *value);

#endif
