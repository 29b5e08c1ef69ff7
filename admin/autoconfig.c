/*
 * autoconfig.c -- mail clients' autoconfiguration requests (autoconfig.h): which hosted
 * domain is asked about, whether it is hosted, then the document (autoconfig_doc.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "autoconfig.h"
#include "autoconfig_doc.h"
#include "mail/address.h"
#include "mail/dbpool.h"
#include "mail/hosting.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

#define DOMAIN_MAX 253

/* The lower-cased domain of a plain address (address_email_ok), into domain; 0 malformed. */
static int
domain_of(const char *address, char *domain, size_t size)
{
    const char *d;
    size_t n;

    if (!address_email_ok(address) || (d = address_domain(address)) == NULL || (n = strlen(d)) >= size || n == 0)
        return 0;
    for (size_t i = 0; i <= n; i++)
        domain[i] = (char) tolower((unsigned char) d[i]);
    if (domain[n - 1] == '.')
        domain[n - 1] = '\0';
    return domain[0] != '\0';
}

/* The domain of Host: autoconfig.<domain>[:port], lower case; 0 when Host is not such a name. */
static int
domain_of_host(const char *host, char *domain, size_t size)
{
    static const char prefix[] = "autoconfig.";
    size_t n;

    if (host == NULL || strncasecmp(host, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    host += sizeof(prefix) - 1;
    n = strcspn(host, ":");
    if (n == 0 || n >= size)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) host[i];

        if (!isalnum(c) && c != '-' && c != '.')
            return 0;
        domain[i] = (char) tolower(c);
    }
    domain[n] = '\0';
    return 1;
}

/* 1 hosted, 0 not (404 answered), -1 database error (503 answered). */
static int
hosted(HTTP_REQUEST *req, DBPOOL *pool, const char *domain)
{
    DB *db = dbpool_get(pool);
    char *key = buf_asprintf("@%s", domain);
    unsigned long long server_id;
    int ret = hosting_recipient(db, key, &server_id);

    if (ret < 0) {
        msg_warn("autoconfig for %s: database: %s", domain, db_error(db));
        http_reply_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "TemporaryFailure", "The database cannot be reached.");
    } else if (ret == 0) {
        http_reply_error(req, MHD_HTTP_NOT_FOUND, "UnknownDomain", "This host does not serve mail for that domain.");
    }
    mem_free(key);
    dbpool_put(pool, db);
    return ret > 0 ? 1 : ret < 0 ? -1 : 0;
}

/* The servers clients are given (autoconfig.*), for domain and address (may be NULL). */
static void
settings(const PGCONF *cfg, const char *domain, const char *address, AUTOCONFIG *ac)
{
    const char *host = *cfg->autoconfig_hostname ? cfg->autoconfig_hostname : cfg->dns_smtp_server_hostname;

    ac->domain = domain;
    ac->address = address;
    ac->imap = (AUTOCONFIG_SERVER) {host, (unsigned) cfg->autoconfig_imap_port,
                                    (AUTOCONFIG_SECURITY) autoconfig_security(cfg->autoconfig_imap_security)};
    ac->pop3 = (AUTOCONFIG_SERVER) {host, (unsigned) cfg->autoconfig_pop3_port,
                                    (AUTOCONFIG_SECURITY) autoconfig_security(cfg->autoconfig_pop3_security)};
    ac->submission = (AUTOCONFIG_SERVER) {host, (unsigned) cfg->autoconfig_submission_port,
                                          (AUTOCONFIG_SECURITY) autoconfig_security(cfg->autoconfig_submission_security)};
}

static void
reply_doc(HTTP_REQUEST *req, char *doc, size_t len, const char *content_type)
{
    if (doc == NULL) {
        http_reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "The document could not be written.");
        return;
    }
    http_reply_bytes(req, MHD_HTTP_OK, content_type, doc, len);
    mem_free(doc);
}

static void
bad_address(HTTP_REQUEST *req)
{
    http_reply_error(req, MHD_HTTP_BAD_REQUEST, "InvalidAddress", "emailaddress is not a plain e-mail address.");
}

void
autoconfig_thunderbird_get(HTTP_REQUEST *req, void *arg)
{
    const char *address = http_query(req, "emailaddress");
    char domain[DOMAIN_MAX + 1], *doc;
    AUTOCONFIG ac;
    size_t len = 0;

    if (address && !domain_of(address, domain, sizeof(domain))) {
        bad_address(req);
        return;
    }
    if (address == NULL && !domain_of_host(http_header(req, "Host"), domain, sizeof(domain))) {
        http_reply_error(req, MHD_HTTP_BAD_REQUEST, "MissingAddress",
                         "Give emailaddress, or ask autoconfig.<domain> for that domain.");
        return;
    }
    if (hosted(req, *(DBPOOL **) arg, domain) <= 0)
        return;
    settings(req->cfg, domain, NULL, &ac);
    doc = autoconfig_thunderbird(&ac, &len);
    reply_doc(req, doc, len, "application/xml; charset=utf-8");
}

void
autoconfig_outlook_post(HTTP_REQUEST *req, void *arg)
{
    char address[ADDRESS_EMAIL_MAX + 1], domain[DOMAIN_MAX + 1], *doc;
    AUTOCONFIG ac;
    size_t len = 0;

    if (!autoconfig_outlook_request(req->body, req->body_len, address, sizeof(address))) {
        http_reply_error(req, MHD_HTTP_BAD_REQUEST, "InvalidRequest",
                         "The body is not an autodiscover request with an EMailAddress.");
        return;
    }
    if (!domain_of(address, domain, sizeof(domain))) {
        bad_address(req);
        return;
    }
    if (hosted(req, *(DBPOOL **) arg, domain) <= 0)
        return;
    settings(req->cfg, domain, address, &ac);
    doc = autoconfig_outlook(&ac, &len);
    reply_doc(req, doc, len, "application/xml; charset=utf-8");
}

void
autoconfig_apple_get(HTTP_REQUEST *req, void *arg)
{
    const char *address = http_query(req, "emailaddress");
    char domain[DOMAIN_MAX + 1], uuid[37], uuid2[37], *doc, *disposition;
    AUTOCONFIG ac;
    size_t len = 0;

    if (address == NULL || !domain_of(address, domain, sizeof(domain))) {
        bad_address(req);
        return;
    }
    if (hosted(req, *(DBPOOL **) arg, domain) <= 0)
        return;
    if (token_uuid(uuid) < 0 || token_uuid(uuid2) < 0) {
        http_reply_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "No random numbers.");
        return;
    }
    settings(req->cfg, domain, address, &ac);
    doc = autoconfig_apple(&ac, uuid, uuid2, &len);
    /* The file name is the domain's (checked: letters, digits, '-', '.'), never the address. */
    disposition = buf_asprintf("attachment; filename=\"%s.mobileconfig\"", domain);
    http_add_header(req, "Content-Disposition", disposition);
    mem_free(disposition);
    reply_doc(req, doc, len, "application/x-apple-aspen-config");
}
