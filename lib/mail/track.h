/*
 * track.h -- click and open tracking: rewrites the links of an outgoing message and adds
 * the open pixel (DESIGN.md "Tracking", REFERENCE.md "Click and open tracking").
 *
 * Contract: text/html parts (and text/plain parts when track_plain is set), at any depth
 * of nested multiparts, have their http/https links replaced by
 * <scheme>://<host>/<server_token>/<link_token> and, when track_loads is set, an
 * <img src="<scheme>://<host>/img/<server_token>/<message_token>"> inserted before
 * </body> (at the end when there is none). gumbo only LOCATES href values by their byte
 * offsets; the new values are spliced into the original bytes, so the decoded HTML
 * stays byte for byte what it was apart from the splices. Quoted-printable and base64
 * parts are decoded, rewritten and encoded again with the same transfer encoding and
 * line ends; the charset is untouched (only ASCII is ever inserted, and parts whose
 * charset is not ASCII-compatible are left alone). The same URL twice is one link; a
 * link's url is what a browser would follow (entities decoded, surrounding white space
 * and embedded tabs/line breaks removed). http+notrack:// and https+notrack:// lose
 * their "+notrack" and are not tracked; mailto:, tel:, #anchors, relative links and
 * links to excluded domains (or their subdomains) are untouched. Attachments and
 * message/rfc822 parts are never touched. No SQL here.
 *
 * Must never: change a byte of a message it does not rewrite, or abort on malformed
 * input (malformed HTML or MIME is rewritten as far as it can be located, else left).
 */
#ifndef PG_TRACK_H
#define PG_TRACK_H

#include <stddef.h>

#include "util/buf.h"

#define TRACK_TOKEN_LEN 16

/* A source of link tokens: writes TRACK_TOKEN_LEN characters and a NUL; -1 on failure.
 * The default (NULL) draws 16 alphanumerics from token_generate(); tests inject their own. */
typedef int TRACK_TOKEN_FN(void *arg, char out[TRACK_TOKEN_LEN + 1]);

typedef struct track_settings {
    const char *host;               /* the track domain, e.g. "click.example.com" */
    int ssl;                        /* https links and pixel (else http) */
    const char *server_token;
    const char *message_token;      /* the pixel's token */
    int track_clicks;
    int track_loads;
    int track_plain;                /* also rewrite links in text/plain parts */
    const char *excluded_domains;   /* separated by white space or commas; NULL: none */
    TRACK_TOKEN_FN *token_fn;
    void *token_arg;
} TRACK_SETTINGS;

typedef struct track_link {
    char token[TRACK_TOKEN_LEN + 1];
    char *url;                      /* the decoded target */
    char url_hash[65];              /* hex SHA-256 of url (links.url_hash) */
} TRACK_LINK;

typedef struct track_result {
    BUF *body;                      /* the rewritten body (or message) when changed, else NULL */
    TRACK_LINK *links;
    size_t nlinks;
} TRACK_RESULT;

/* 1 when an X-AMP header value (NULL: no header) asks to leave the message alone. */
int track_skip_header(const char *x_amp);

/*
 * Rewrites a message body whose top-level Content-Type and Content-Transfer-Encoding
 * header values are given (NULL: absent, meaning text/plain and 7bit). 1 rewritten
 * (*r filled), 0 nothing to change (r->body NULL, no links), -1 the token source failed
 * (*r empty). Free r with track_result_free in every case.
 */
int track_rewrite(const TRACK_SETTINGS *s, const char *content_type, const char *transfer_encoding,
                  const void *body, size_t len, TRACK_RESULT *r);

/* The same for a whole message (header block, blank line, body), honouring X-AMP: skip;
 * r->body is then the whole rewritten message (headers untouched). */
int track_rewrite_message(const TRACK_SETTINGS *s, const void *msg, size_t len, TRACK_RESULT *r);

void track_result_free(TRACK_RESULT *r);

#endif
