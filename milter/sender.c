/*
 * sender.c -- who sends outgoing mail and as whom, decided at the end of its headers: the
 * credential or mailbox user behind the session (outgoing_identify), then whether the
 * From (or, with allow_sender, Sender) and envelope addresses are the server's verified
 * domains and, for a mailbox user, addresses it owns (outgoing_eoh). A send-API
 * submission proves its credential with the submission header (injection_eoh).
 * The rest of the outgoing path is outgoing.c's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/address.h"
#include "mail/forward.h"
#include "mail/hosting.h"
#include "mail/release.h"
#include "mail/submit.h"
#include "milter.h"
#include "util/mem.h"
#include "util/msg.h"

/* A mailbox user's login (postgate-policyd's SASL answers a mailbox's address): the mailbox
 * stands in for a credential of its domain's server (no credential row: credential_id
 * stays NULL). 1, 0 when it no longer may send (disabled, deleted, an organization's
 * domain), < 0 database error. */
static int
identify_mailbox(DB *db, MILTER_CTX *mc, const char *login)
{
    HOSTING_LOGIN ml;
    int ret = hosting_login(db, login, &ml, NULL);

    if (ret <= 0 || ml.server_id == 0)
        return ret < 0 ? ret : 0;
    memset(&mc->cred, 0, sizeof(mc->cred));
    mc->cred.server_id = ml.server_id;
    mc->cred.suspended = ml.suspended;
    snprintf(mc->cred.type, sizeof(mc->cred.type), "MAILBOX");
    snprintf(mc->cred.name, sizeof(mc->cred.name), "%.255s", ml.address);
    snprintf(mc->login, sizeof(mc->login), "%s", ml.address);
    return 1;
}

int
outgoing_identify(SMFICTX *ctx, MILTER_CTX *mc, const char *auth_authen, sfsistat *status_r)
{
    DB *db = dbpool_get(milter_globals.pool);
    unsigned long long id;
    int ret;

    if (auth_authen && strchr(auth_authen, '@') != NULL) {
        ret = identify_mailbox(db, mc, auth_authen);
    } else if (auth_authen && *auth_authen) {
        if (credential_id_from_identity(auth_authen, &id) < 0) {
            dbpool_put(milter_globals.pool, db);
            *status_r = milter_tempfail(ctx, "SASL identity \"%s\" was not issued by postgate-policyd", auth_authen);
            return -1;
        }
        ret = lookup_credential_by_id(db, id, &mc->cred);
    } else {
        ret = mc->client_addr[0] ? lookup_credential_by_ip(db, mc->client_addr, &mc->cred) : 0;
    }
    if (ret < 0) {
        *status_r = ret == CREDENTIAL_ERR_AMBIGUOUS
            ? milter_tempfail(ctx, "client %s: SMTP-IP networks of several servers contain it", mc->client_addr)
            : milter_tempfail(ctx, "credential lookup: %s", db_error(db));
        dbpool_put(milter_globals.pool, db);
        return -1;
    }
    if (ret == 0) {
        dbpool_put(milter_globals.pool, db);
        if (auth_authen && *auth_authen) {
            milter_refuse(ctx, REFUSED_CREDENTIAL, "535", "5.7.8", "Credential no longer valid");
            *status_r = SMFIS_REJECT;
            return -1;
        }
        return 0;               /* not sent by a credential: from the Internet */
    }
    ret = lookup_server(db, mc->cred.server_id, &mc->server);
    if (ret <= 0) {
        *status_r = milter_tempfail(ctx, "server %llu of credential %llu: %s", mc->cred.server_id,
                                    mc->cred.id, ret < 0 ? db_error(db) : "not found");
        dbpool_put(milter_globals.pool, db);
        return -1;
    }
    dbpool_put(milter_globals.pool, db);
    if (mc->server.suspended) {
        msg_info("server %s/%s: suspended: refusing mail from credential %llu", mc->server.org_permalink,
                 mc->server.permalink, mc->cred.id);
        milter_refuse(ctx, REFUSED_SUSPENDED, "554", "5.7.1", "Mail server suspended");
        *status_r = SMFIS_REJECT;
        return -1;
    }
    return 1;
}

/* 1 when every address in every header called name is a sending domain of the server;
 * the first address's domain is remembered for signing. A header that does not read
 * one way only (address_list_parse_strict) owns nothing. */
int
sender_addresses_owned(DB *db, MILTER_CTX *mc, const char *name, int *error_r)
{
    int found = 0;

    for (size_t h = 0; h < mc->nheaders; h++) {
        char **addrs, *why = NULL;
        size_t n;

        if (strcasecmp(mc->headers[h].name, name) != 0)
            continue;
        n = address_list_parse_strict(mc->headers[h].value, &addrs, &why);
        if (n == 0) {
            msg_info("server %s/%s: %s header refused: %s", mc->server.org_permalink, mc->server.permalink, name,
                     why);
            mem_free(why);
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            const char *domain = address_domain(addrs[i]);
            unsigned long long domain_id;
            int ret = domain ? lookup_sending_domain(db, &mc->server, domain, &domain_id) : 0;

            if (ret <= 0) {
                *error_r = ret < 0;
                address_list_free(addrs, n);
                return 0;
            }
            if (!found) {
                mc->from_domain_id = domain_id;
                snprintf(mc->from_domain, sizeof(mc->from_domain), "%s", domain);
            }
            found = 1;
        }
        address_list_free(addrs, n);
    }
    return found;
}

/* A mailbox user sends only as themselves or an alias that delivers to them: the envelope
 * sender (unless empty) and every From address. 1 yes, 0 no (*error_r on a database error). */
static int
login_owns_senders(DB *db, MILTER_CTX *mc, int *error_r)
{
    int owned = 1, ret;

    if (mc->mail_from && mc->mail_from[0]) {
        if ((ret = hosting_login_owns(db, mc->login, mc->mail_from)) <= 0) {
            *error_r = ret < 0;
            return 0;
        }
    }
    for (size_t h = 0; h < mc->nheaders && owned; h++) {
        char **addrs, *why = NULL;
        size_t n;

        if (strcasecmp(mc->headers[h].name, "From") != 0)
            continue;
        if ((n = address_list_parse_strict(mc->headers[h].value, &addrs, &why)) == 0) {
            mem_free(why);
            return 0;
        }
        for (size_t i = 0; i < n && owned; i++) {
            if ((ret = hosting_login_owns(db, mc->login, addrs[i])) <= 0) {
                *error_r = ret < 0;
                owned = 0;
            }
        }
        address_list_free(addrs, n);
    }
    return owned;
}

/* A Sieve redirect keeps the original From, which is not the mailbox's: it is signed for
 * the mailbox's own domain, the envelope sender's (a sending domain of its server). */
static int
envelope_domain_owned(DB *db, MILTER_CTX *mc, int *error_r)
{
    const char *domain = address_domain(mc->mail_from);
    unsigned long long domain_id;
    int ret = domain ? lookup_sending_domain(db, &mc->server, domain, &domain_id) : 0;

    if (ret <= 0) {
        *error_r = ret < 0;
        return 0;
    }
    mc->from_domain_id = domain_id;
    snprintf(mc->from_domain, sizeof(mc->from_domain), "%s", domain);
    return 1;
}

sfsistat
outgoing_eoh(SMFICTX *ctx, MILTER_CTX *mc)
{
    DB *db = dbpool_get(milter_globals.pool);
    int error = 0, ok = sender_addresses_owned(db, mc, "From", &error);
    /* Dovecot's service: the envelope sender is the mailbox (milter.c), From may be anyone's. */
    int sieve = mc->service == SERVICE_DOVECOT;

    if (!ok && !error && mc->server.allow_sender)
        ok = sender_addresses_owned(db, mc, "Sender", &error);
    if (!ok && !error && sieve)
        ok = envelope_domain_owned(db, mc, &error);
    if (error) {
        sfsistat st = milter_tempfail(ctx, "domain lookup: %s", db_error(db));

        dbpool_put(milter_globals.pool, db);
        return st;
    }
    if (ok && mc->login[0] && !sieve && (ok = login_owns_senders(db, mc, &error)) == 0 && !error) {
        dbpool_put(milter_globals.pool, db);
        msg_info("server %s/%s: mailbox %s: envelope sender <%s> or From not its own: %s", mc->server.org_permalink,
                 mc->server.permalink, mc->login, mc->mail_from ? mc->mail_from : "",
                 milter_header_value(mc, "From") ? milter_header_value(mc, "From") : "(no From)");
        milter_refuse(ctx, REFUSED_FROM, "553", "5.7.1", "Sender address not owned by the mailbox you logged in as");
        return SMFIS_REJECT;
    }
    if (error) {
        sfsistat st = milter_tempfail(ctx, "mailbox sender lookup: %s", db_error(db));

        dbpool_put(milter_globals.pool, db);
        return st;
    }
    dbpool_put(milter_globals.pool, db);
    if (!ok) {
        msg_info("server %s/%s: credential %llu: From/Sender not owned by the server: %s",
                 mc->server.org_permalink, mc->server.permalink, mc->cred.id,
                 milter_header_value(mc, "From") ? milter_header_value(mc, "From") : "(no From)");
        milter_refuse(ctx, REFUSED_FROM, "530", "5.7.1", "From/Sender name is not valid");
        return SMFIS_REJECT;
    }
    return SMFIS_CONTINUE;
}

/*
 * A send-API submission: the X-Postgate-Submission header names the API credential and
 * carries the row tokens under an HMAC only postgate programs can make. Without a valid
 * one, the injection service refuses the message.
 */
sfsistat
injection_eoh(SMFICTX *ctx, MILTER_CTX *mc)
{
    const char *value = milter_header_value(mc, SUBMIT_HEADER);
    unsigned long long id;
    DB *db;
    int n, ret;

    mc->given_tokens = mem_zalloc((mc->nrcpts ? mc->nrcpts : 1) * sizeof(*mc->given_tokens));
    n = value ? submit_header_verify(milter_globals.seal, value, &id, mc->given_tokens, mc->nrcpts) : -1;
    if (n < 0 || (size_t) n != mc->nrcpts) {
        msg_warn("injection service: a submission without a valid %s header was refused", SUBMIT_HEADER);
        milter_refuse(ctx, REFUSED_SERVICE, "550", "5.7.1", "Submissions on this service must come from postgate");
        return SMFIS_REJECT;
    }
    mc->ngiven = (size_t) n;
    db = dbpool_get(milter_globals.pool);
    ret = lookup_credential_by_id(db, id, &mc->cred);
    if (ret > 0)
        ret = lookup_server(db, mc->cred.server_id, &mc->server);
    if (ret < 0) {
        sfsistat st = milter_tempfail(ctx, "credential %llu: %s", id, db_error(db));

        dbpool_put(milter_globals.pool, db);
        return st;
    }
    dbpool_put(milter_globals.pool, db);
    if (ret == 0 || strcmp(mc->cred.type, "API") != 0) {
        milter_refuse(ctx, REFUSED_CREDENTIAL, "550", "5.7.8", "API credential no longer valid");
        return SMFIS_REJECT;
    }
    if (mc->server.suspended) {
        milter_refuse(ctx, REFUSED_SUSPENDED, "554", "5.7.1", "Mail server suspended");
        return SMFIS_REJECT;
    }
    return outgoing_eoh(ctx, mc);
}
