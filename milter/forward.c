/*
 * forward.c -- what postgate-milter admits on Postfix's forward service
 * (postfix.forward_address, daemon name FORWARD_DAEMON_NAME): only postgate-worker's
 * forwards of incoming mail to Address endpoints and its delivery reports, each with a
 * valid X-Postgate-Forward header (forward.h) for its one recipient.
 *
 * A forward becomes an outgoing message of the server that owns the route: a message row
 * (scope outgoing, linked to the incoming message) with the token the worker chose, the
 * return path <token>@<dns.return_path_domain> so bounces come back, a DKIM signature for
 * the return-path domain (the From is the original sender's, whose keys are not ours), the
 * server's send limit (over it: 451, the worker tries later) and suppression list (550).
 * outgoing_eom does that work; this file decides whether the message may have it.
 *
 * Must never: accept anything on that service without a valid header (550 5.7.1, nothing
 * recorded), accept a header made for another recipient, another server's message, or a
 * token already used (a replay), or treat the From of a forward as the server's own.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/db.h"
#include "mail/message.h"
#include "milter.h"
#include "util/mem.h"
#include "util/msg.h"

static sfsistat
refuse(SMFICTX *ctx, const MILTER_CTX *mc, const char *why)
{
    msg_warn("forward service: client %s: from=<%s>: refused: %s", mc->client_addr[0] ? mc->client_addr : "-",
             mc->mail_from ? mc->mail_from : "", why);
    milter_refuse(ctx, REFUSED_SERVICE, "550", "5.7.1", "The forward service only takes mail from postgate");
    return SMFIS_REJECT;
}

/* The first X-Postgate-Forward field: the worker puts its own on top. */
static const char *
forward_header(const MILTER_CTX *mc)
{
    for (size_t i = 0; i < mc->nheaders; i++)
        if (strcasecmp(mc->headers[i].name, FORWARD_HEADER) == 0)
            return mc->headers[i].value;
    return NULL;
}

sfsistat
forward_eoh(SMFICTX *ctx, MILTER_CTX *mc)
{
    const char *value = forward_header(mc), *why = NULL;
    DB *db;
    int ret;

    if (mc->nrcpts != 1)
        return refuse(ctx, mc, "not exactly one recipient");
    if (value == NULL)
        return refuse(ctx, mc, "no " FORWARD_HEADER " header");
    if (!forward_header_verify(milter_globals.seal, value, mc->rcpts[0], time(NULL), &mc->forward, &why))
        return refuse(ctx, mc, why);
    if (mc->forward.kind == FORWARD_KIND_REPORT) {
        if (mc->mail_from[0] != '\0')
            return refuse(ctx, mc, "a report with a sender");
        return SMFIS_CONTINUE;
    }
    db = dbpool_get(milter_globals.pool);
    ret = lookup_server(db, mc->forward.server_id, &mc->server);
    if (ret > 0)
        ret = message_forward_admissible(db, mc->forward.server_id, mc->forward.message_id, mc->forward.token, &why);
    if (ret < 0) {
        sfsistat st = milter_tempfail(ctx, "forward of message %llu: %s", mc->forward.message_id, db_error(db));

        dbpool_put(milter_globals.pool, db);
        return st;
    }
    dbpool_put(milter_globals.pool, db);
    if (ret == 0)
        return refuse(ctx, mc, why ? why : "the server is gone");
    if (mc->server.suspended) {
        msg_info("server %s/%s: suspended: refusing the forward of message %llu", mc->server.org_permalink,
                 mc->server.permalink, mc->forward.message_id);
        milter_refuse(ctx, REFUSED_SUSPENDED, "554", "5.7.1", "Mail server suspended");
        return SMFIS_REJECT;
    }
    mc->forwarded_from_id = mc->forward.message_id;
    mc->given_tokens = mem_zalloc(sizeof(*mc->given_tokens));
    memcpy(mc->given_tokens[0], mc->forward.token, sizeof(mc->given_tokens[0]));
    mc->ngiven = 1;
    return SMFIS_CONTINUE;
}
