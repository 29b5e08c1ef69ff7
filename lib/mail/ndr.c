/*
 * ndr.c -- RFC 3464 non-delivery reports (ndr.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/ndr.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

#define LINE_MAX_OCTETS 998

int
ndr_wanted(const char *sender)
{
    const char *at;

    if (sender == NULL || *sender == '\0' || strcmp(sender, "<>") == 0)
        return 0;
    at = strchr(sender, '@');
    if (at && (size_t) (at - sender) == 13 && strncasecmp(sender, "mailer-daemon", 13) == 0)
        return 0;
    return 1;
}

/* One header-safe line of text: no CR/LF/controls, at most max octets. */
static void
line_text(BUF *out, const char *s, size_t max)
{
    size_t n = 0;

    for (; s && *s && n < max; s++, n++)
        buf_append_char(out, (unsigned char) *s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/* The original's header, every line ending CRLF, long lines cut. */
static void
original_header(BUF *out, const char *raw, size_t len)
{
    size_t i = 0, col = 0;

    while (i < len) {
        char c = raw[i];

        if (c == '\r' && i + 1 < len && raw[i + 1] == '\n')
            i++, c = '\n';
        if (c == '\n') {
            if (col == 0)
                break;                  /* the blank line ends the header */
            buf_append_str(out, "\r\n");
            col = 0;
        } else if (col < LINE_MAX_OCTETS - 2) {
            buf_append_char(out, c == '\r' ? ' ' : c);
            col++;
        }
        i++;
    }
    if (col > 0)
        buf_append_str(out, "\r\n");
}

char *
ndr_build(const NDR *n, size_t *len_r)
{
    BUF *out = buf_new(4096);
    char boundary[40], id[24], date[64];
    const char *domain = strchr(n->recipient, '@');
    time_t now = time(NULL);
    struct tm tm;

    if (token_generate(id, 16, TOKEN_LOWER_ALNUM) < 0)
        snprintf(id, sizeof(id), "%lx", (unsigned long) now);
    snprintf(boundary, sizeof(boundary), "postgate-ndr-%s", id);
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    domain = domain ? domain + 1 : n->reporting_mta;

    buf_append_str(out, "From: Mail Delivery System <");
    if (n->from && *n->from) {
        line_text(out, n->from, 320);
    } else {
        buf_append_str(out, "MAILER-DAEMON@");
        line_text(out, domain, 255);
    }
    buf_append_str(out, ">\r\nTo: <");
    line_text(out, n->sender, 320);
    buf_printf(out, ">\r\nDate: %s\r\nMessage-ID: <%s.ndr@", date, id);
    line_text(out, domain, 255);
    buf_append_str(out, ">\r\nSubject: Undelivered Mail Returned to Sender\r\n"
                   "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
    buf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n",
               boundary);
    buf_append_str(out, "This is a MIME-encapsulated message.\r\n\r\n");

    buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
               boundary);
    buf_append_str(out, "Your message could not be delivered to the following recipient:\r\n\r\n    <");
    line_text(out, n->recipient, 320);
    buf_append_str(out, ">: ");
    line_text(out, n->details ? n->details : "delivery failed", 900);
    buf_append_str(out, "\r\n\r\nThe delivery will not be tried again. The header of your message follows.\r\n\r\n");

    buf_printf(out, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary);
    buf_append_str(out, "Reporting-MTA: dns; ");
    line_text(out, n->reporting_mta, 255);
    buf_append_str(out, "\r\n");
    if (n->original_message_id && *n->original_message_id) {
        buf_append_str(out, "X-Original-Message-ID: ");
        line_text(out, n->original_message_id, 900);
        buf_append_str(out, "\r\n");
    }
    buf_printf(out, "Arrival-Date: %s\r\n\r\n", date);
    buf_append_str(out, "Final-Recipient: rfc822; ");
    line_text(out, n->recipient, 320);
    buf_append_str(out, "\r\nOriginal-Recipient: rfc822; ");
    line_text(out, n->recipient, 320);
    buf_append_str(out, "\r\nAction: failed\r\nStatus: ");
    line_text(out, n->status ? n->status : "5.0.0", 16);
    buf_append_str(out, "\r\n");
    if (n->diagnostic) {
        buf_append_str(out, "Diagnostic-Code: X-Postgate; ");
        line_text(out, n->diagnostic, 900);
        buf_append_str(out, "\r\n");
    }
    buf_printf(out, "Last-Attempt-Date: %s\r\n\r\n", date);

    buf_printf(out, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary);
    original_header(out, n->original, n->original_len);
    buf_printf(out, "\r\n--%s--\r\n", boundary);
    return buf_steal(out, len_r);
}
