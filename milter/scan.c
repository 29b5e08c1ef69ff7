/*
 * scan.c -- postgate-milter asks spamd and clamd about one message (milter.h).
 *
 * A message larger than the scanner's max_size is not sent (not scanned, logged). A
 * scanner that cannot answer (down, timing out, refusing the stream) is handled by
 * its when_unavailable setting: "tempfail" makes the client retry later (451 4.7.1),
 * "accept" lets the message through unscanned. Either way the failure is logged,
 * because mail passing unscanned is something an administrator must be able to see.
 *
 * Must never: treat a scanner failure as a clean or not-spam verdict.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mail/clamd.h"
#include "milter.h"
#include "util/mem.h"
#include "util/msg.h"

BUF *
scan_message(const MILTER_CTX *mc)
{
    BUF *m = buf_new(mc->header_bytes + buf_len(mc->body) + 64);

    for (size_t h = 0; h < mc->nheaders; h++)
        milter_store_header(m, mc->headers[h].name, mc->headers[h].value);   /* CRLF line ends */
    buf_append_str(m, "\r\n");
    buf_append(m, buf_data(mc->body), buf_len(mc->body));
    return m;
}

sfsistat
scan_tempfail(SMFICTX *ctx)
{
    smfi_setreply(ctx, "451", "4.7.1", "Message could not be checked for spam and viruses, try again later");
    return SMFIS_TEMPFAIL;
}

/* A scanner failed: SCAN_TEMPFAIL or SCAN_UNCHECKED by when_unavailable, logged. */
static SCAN_STATUS
unavailable(const char *queue_id, const char *scanner, const char *when, const char *error, const char **unchecked_r)
{
    int tempfail = strcmp(when, "accept") != 0;

    msg_warn("%s: %s unavailable: %s; %s (%s.when_unavailable = %s)", queue_id ? queue_id : "-", scanner, error,
             tempfail ? "answering 451, the client will retry" : "accepting the message unscanned", scanner, when);
    *unchecked_r = strcmp(scanner, "spamd") == 0 ? "spamd unavailable" : "clamd unavailable";
    return tempfail ? SCAN_TEMPFAIL : SCAN_UNCHECKED;
}

SCAN_STATUS
scan_spam(const char *queue_id, const BUF *msg, SPAMD_RESULT *r, const char **unchecked_r)
{
    const PGCONF *cfg = milter_globals.cfg;
    char *error = NULL;
    SCAN_STATUS st;

    *unchecked_r = NULL;
    memset(r, 0, sizeof(*r));
    if (!cfg->spamd_enabled)
        return SCAN_DISABLED;
    if (buf_len(msg) > (size_t) cfg->spamd_max_size) {
        msg_info("%s: not scored by spamd: %zu bytes is over spamd.max_size (%lld)", queue_id ? queue_id : "-",
                 buf_len(msg), cfg->spamd_max_size);
        *unchecked_r = "message larger than spamd.max_size";
        return SCAN_UNCHECKED;
    }
    if (spamd_check(cfg->spamd_address, (int) cfg->spamd_timeout, buf_data(msg), buf_len(msg), r, &error) == 0)
        return SCAN_DONE;
    st = unavailable(queue_id, "spamd", cfg->spamd_when_unavailable, error, unchecked_r);
    mem_free(error);
    return st;
}

SCAN_STATUS
scan_virus(const char *queue_id, const BUF *msg, char **virus_r, const char **unchecked_r)
{
    const PGCONF *cfg = milter_globals.cfg;
    char *error = NULL;
    SCAN_STATUS st;
    int ret;

    *unchecked_r = NULL;
    *virus_r = NULL;
    if (!cfg->clamd_enabled)
        return SCAN_DISABLED;
    if (buf_len(msg) > (size_t) cfg->clamd_max_size) {
        msg_info("%s: not scanned by clamd: %zu bytes is over clamd.max_size (%lld)", queue_id ? queue_id : "-",
                 buf_len(msg), cfg->clamd_max_size);
        *unchecked_r = "message larger than clamd.max_size";
        return SCAN_UNCHECKED;
    }
    ret = clamd_scan(cfg->clamd_address, (int) cfg->clamd_timeout, buf_data(msg), buf_len(msg), virus_r, &error);
    if (ret >= 0)
        return SCAN_DONE;
    st = unavailable(queue_id, "clamd", cfg->clamd_when_unavailable, error, unchecked_r);
    mem_free(error);
    return st;
}
