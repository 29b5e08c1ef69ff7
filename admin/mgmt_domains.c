/*
 * mgmt_domains.c -- a server's sending domains, …/servers/{server}/domains, and an
 * organization's own, …/organizations/{org}/domains, which all its servers share (doc/api.md): DKIM keys and the DNS records to publish, verification by DNS TXT, DNS
 * checks recorded in the row, and DKIM key rotation; rows are lib/mail/domain.c's, DNS
 * lookups lib/mail/dnscheck.c's (through dns.resolver).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/domain.h"
#include "mail/mailbox.h"
#include "mail/domainmail.h"
#include "mail/address.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* ---------------------------------------------------------------- a server's domains */

/* Who owns the path's domains, for the logs: "server ORG/SERVER" or "organization ORG". */
static const char *
owner_label(const MGMT_CALL *c, char buf[320])
{
    if (c->owner_org_id)
        snprintf(buf, 320, "organization %s", http_path_arg(c->req, 0));
    else
        snprintf(buf, 320, "server %s/%s", http_path_arg(c->req, 0), http_path_arg(c->req, 1));
    return buf;
}
#define OWNER(c) owner_label((c), (char[320]){0})


static json_t *
domain_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const DOMAIN_ROW *d = row;
    json_t *keys = json_array(), *emails;
    DB_ROWS k = {0};

    (void) r;
    if (domain_dkim_list(c->db, d->id, &k) >= 0)
        for (size_t i = 0; i < k.n; i++) {
            const DOMAIN_DKIM_ROW *key = (const DOMAIN_DKIM_ROW *) k.v + i;

            json_array_append_new(keys, json_pack("{s:o, s:o, s:o, s:b, s:o, s:o}", "selector", mgmt_jstr(key->selector),
                                                  "algorithm", mgmt_jstr(key->algorithm), "state", mgmt_jstr(key->state),
                                                  "signing", key->signing, "activated_at", mgmt_jstr(key->activated_at),
                                                  "created_at", mgmt_jstr(key->created_at)));
        }
    db_rows_free(&k);
    {
        char **addrs = NULL;
        size_t n = domainmail_addresses(d->name, &addrs);

        emails = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(emails, json_string(addrs[i]));
        address_list_free(addrs, n);
    }
    return json_pack("{s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}, s:o}",
                     "uuid", mgmt_jstr(d->uuid), "name", mgmt_jstr(d->name), "verified", d->verified,
                     "hosting", d->hosting, "alias_of", mgmt_jstr(d->alias_of),
                     "verified_at", mgmt_jstr(d->verified_at), "verification_method", mgmt_jstr(d->verification_method),
                     "verification_email", mgmt_jstr(d->verification_email), "verification_email_addresses", emails,
                     "dkim_keys", keys,
                     "dns_check", "spf_status", mgmt_jstr(d->spf_status), "spf_error", mgmt_jstr(d->spf_error),
                     "dkim_status", mgmt_jstr(d->dkim_status), "dkim_error", mgmt_jstr(d->dkim_error),
                     "return_path_status", mgmt_jstr(d->return_path_status),
                     "return_path_error", mgmt_jstr(d->return_path_error),
                     "mx_status", mgmt_jstr(d->mx_status), "mx_error", mgmt_jstr(d->mx_error),
                     "dmarc_status", mgmt_jstr(d->dmarc_status), "dmarc_error", mgmt_jstr(d->dmarc_error),
                     "client_config_status", mgmt_jstr(d->client_config_status),
                     "client_config_error", mgmt_jstr(d->client_config_error),
                     "checked_at", mgmt_jstr(d->dns_checked_at),
                     "created_at", mgmt_jstr(d->created_at));
}

/* The domain the path names (any case; normalized) or all of the owner's (server_id's, or
 * the organization's own when server_id is 0). */
static int
domain_load(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const char *key,
            unsigned long long id, DB_ROWS *rows)
{
    char name[254];

    (void) r, (void) id;
    if (key && !domain_name_normalize(key, name, sizeof(name)))
        return 0;
    return domain_owner_list(c->db, server_id, c->owner_org_id, key ? name : NULL, rows);
}

/* One domain answered with its DNS records. */
static void
reply_domain(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row, unsigned status)
{
    json_t *d = domain_json(c, r, row);
    char *zone = domain_dns_records(c->db, c->req->cfg, ((const DOMAIN_ROW *) row)->id);

    if (zone == NULL) {
        json_decref(d);
        mgmt_reply_db(c, "domain DNS records", DB_ERR_TEMP);
        return;
    }
    json_object_set_new(d, "dns_records", json_string(zone));
    mem_free(zone);
    mgmt_reply_ok(c, status, json_pack("{s:o}", "domain", d));
}

static json_t *
domain_deleted(const void *row)
{
    const DOMAIN_ROW *d = row;

    return json_pack("{s:o, s:o, s:b}", "uuid", mgmt_jstr(d->uuid), "name", mgmt_jstr(d->name), "deleted", 1);
}

static int
domain_remove(MGMT_CALL *c, const MGMT_RESOURCE *r, unsigned long long server_id, const void *row)
{
    const DOMAIN_ROW *d = row;

    (void) r;
    return server_id ? domain_server_delete(c->db, server_id, d->id) : domain_org_delete(c->db, c->owner_org_id, d->id);
}

static const MGMT_RESOURCE domains = {
    .what = "domain", .one = "domain", .many = "domains",
    .size = sizeof(DOMAIN_ROW), .id_off = offsetof(DOMAIN_ROW, id),
    .load = domain_load, .json = domain_json, .reply = reply_domain, .remove = domain_remove,
    .deleted = domain_deleted,
};

MGMT_LIST_HANDLER(mgmt_v2_domains, domains)
MGMT_GET_HANDLER(mgmt_v2_domain, domains)
MGMT_DELETE_HANDLER(mgmt_v2_domain, domains)

static void
mgmt_v2_domains_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"name", "ed25519", "verified", NULL};
    DOMAIN_CREATE_ARGS args = {0};
    unsigned long long server_id = 0, id = 0;
    char name[254], *error = NULL;
    DB_ROWS rows = {0};
    const char *given;
    int verified, ed25519, ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_owner(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    if (json_is_true(json_object_get(c.body, "verified")) && !c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators mark domains verified.");
        goto out;
    }
    mgmt_check_known(&c, known);
    given = mgmt_field_string(&c, "name", 1, 253);
    if (given && !domain_name_normalize(given, name, sizeof(name)))
        mgmt_field_error(&c, "name", "must be a domain name such as example.com (letters, digits, inner hyphens, "
                    "at least two labels)");
    verified = mgmt_field_bool(&c, "verified");
    ed25519 = mgmt_field_bool(&c, "ed25519");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = domain_owner_list(c.db, server_id, c.owner_org_id, name, &rows)) < 0) {
        mgmt_reply_db(&c, "domain lookup", ret);
        goto out;
    }
    if (ret > 0) {
        mgmt_field_error(&c, "name", server_id ? "is already a domain of this server" : "is already a domain of this organization");
        mgmt_reply_conflict(&c, "DomainTaken", server_id ? "The server has a domain with this name."
                            : "The organization has a domain with this name.", NULL);
        goto out;
    }
    /* domain_create() runs its own transaction: the domain and its keys, or nothing. */
    args.server_id = server_id;
    args.org_id = server_id ? 0 : c.owner_org_id;
    args.name = name;
    args.verified = verified > 0;
    args.ed25519 = ed25519 > 0;
    ret = domain_create(c.db, c.m->seal, req->cfg, &args, &id, &error);
    if (ret == DOMAIN_CLAIMED) {
        mgmt_reply_conflict(&c, "DomainClaimed", error, NULL);
        goto out;
    }
    if (ret == 0) {
        mgmt_field_error(&c, "name", "%s", error);
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        msg_warn("%s %s: domain create: %s", req->method, req->path, error ? error : "");
        mgmt_reply_db(&c, "domain create", ret);
        goto out;
    }
    msg_info("user %llu: created domain %s of %s", c.p.user_id, name, OWNER(&c));
    mgmt_reply_again(&c, &domains, server_id, name, 0, MHD_HTTP_CREATED);
out:
    mem_free(error);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* ---------------------------------------------------------------- verification, DNS checks, DKIM rotation */

/* Runs one of the domain actions below on the domain of the path: 1 with the server id,
 * the rows and the domain, or 0 when answered. */
static int
begin_action(MGMT_CALL *c, HTTP_REQUEST *req, void *arg, const char *const *fields, MGMT_ORG *o,
             unsigned long long *server_id, DB_ROWS *rows, const DOMAIN_ROW **d)
{
    if (mgmt_call_begin(c, req, arg, 0) != 0 || mgmt_load_owner(c, AUTH_ROLE_MEMBER, o, server_id) != 0
        || mgmt_find(c, &domains, *server_id, rows) != 1 || mgmt_read_optional_body(c, fields) != 0)
        return 0;
    *d = rows->v;
    return 1;
}

/* POST …/verify: by the DNS TXT record, or with {"code": "…"} by the code mailed through
 * …/verification-email. */
static void
mgmt_v2_domain_verify(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"code", NULL};
    unsigned long long server_id = 0;
    const DOMAIN_ROW *d = NULL;
    DB_ROWS rows = {0};
    const char *code = NULL;
    char *error = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, known, &o, &server_id, &rows, &d))
        goto out;
    if (c.body && json_object_get(c.body, "code") != NULL) {
        code = mgmt_field_text(&c, "code", 1, 16);
        if (code && (strlen(code) != 6 || strspn(code, "0123456789") != 6))
            mgmt_field_error(&c, "code", "must be the six digits of the code mailed");
        if (mgmt_has_errors(&c)) {
            mgmt_reply_invalid(&c);
            goto out;
        }
    }
    ret = code ? domainmail_verify(c.db, d->id, code, &error) : domain_verify(c.db, req->cfg, d->id, &error);
    if (ret < 0) {
        mgmt_reply_db(&c, "domain verify", ret);
    } else if (ret == DOMAIN_CLAIMED) {
        msg_info("user %llu: domain %s of %s not verified: claimed by another server", c.p.user_id,
                 d->name, OWNER(&c));
        mgmt_reply_conflict(&c, "DomainClaimed", error, NULL);
    } else if (ret == 0) {
        mgmt_reply_fail(&c, 422, "VerificationFailed", error);
    } else {
        msg_info("user %llu: verified domain %s of %s by %s", c.p.user_id,
                 d->name, OWNER(&c), code ? "a mailed code" : "DNS");
        mgmt_reply_again(&c, &domains, server_id, d->name, 0, MHD_HTTP_OK);
    }
out:
    mem_free(error);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* POST …/verification-email {"address": "webmaster@…"}: mails a verification code. */
static void
mgmt_v2_domain_verification_email(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"address", NULL};
    unsigned long long server_id = 0;
    const DOMAIN_ROW *d = NULL;
    DB_ROWS rows = {0};
    const char *address;
    char *error = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, known, &o, &server_id, &rows, &d))
        goto out;
    address = mgmt_field_text(&c, "address", 1, 320);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    ret = domainmail_send(c.db, req->cfg, d->id, address, &error);
    switch (ret) {
    case 1:
        msg_info("user %llu: mailed a verification code for domain %s of %s to %s", c.p.user_id, d->name,
                 OWNER(&c), address);
        mgmt_reply_again(&c, &domains, server_id, d->name, 0, MHD_HTTP_OK);
        break;
    case DOMAINMAIL_REFUSED:
        mgmt_field_error(&c, "address", "%s", error);
        mgmt_reply_invalid(&c);
        break;
    case DOMAINMAIL_VERIFIED:
        mgmt_reply_conflict(&c, "AlreadyVerified", error, NULL);
        break;
    case DOMAINMAIL_TOO_SOON:
        mgmt_reply_fail(&c, 429, "TooSoon", error);
        break;
    case DOMAINMAIL_NOT_SENT:
        msg_warn("domain %s of %s: verification code to %s: %s", d->name, OWNER(&c), address, error);
        mgmt_reply_fail(&c, 503, "MailNotSent", "The code could not be mailed; the administrator's log says why.");
        break;
    default:
        mgmt_reply_db(&c, "verification code", ret);
        break;
    }
out:
    mem_free(error);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_domain_check(HTTP_REQUEST *req, void *arg)
{
    static const char *const none[] = {NULL};
    unsigned long long server_id = 0;
    DOMAIN_DNS_STATUS st = {0};
    const DOMAIN_ROW *d = NULL;
    DB_ROWS rows = {0};
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, none, &o, &server_id, &rows, &d))
        goto out;
    if ((ret = domain_check_dns(c.db, req->cfg, d->id, &st)) < 0)
        mgmt_reply_db(&c, "domain DNS check", ret);
    else
        mgmt_reply_again(&c, &domains, server_id, d->name, 0, MHD_HTTP_OK);
out:
    domain_dns_status_free(&st);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_domain_dkim_rotate(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"algorithm", "activate_after", NULL};
    unsigned long long server_id = 0;
    DKIM_ALG alg = DKIM_ALG_RSA_SHA256;
    long delay = req->cfg->dns_dkim_rotation_grace;
    char selector[64] = "", *error = NULL;
    const DOMAIN_ROW *d = NULL;
    DB_ROWS rows = {0};
    const char *a;
    json_t *v;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, known, &o, &server_id, &rows, &d))
        goto out;
    if ((a = mgmt_field_string(&c, "algorithm", 0, 32)) != NULL) {
        if (strcmp(a, "ed25519-sha256") == 0)
            alg = DKIM_ALG_ED25519_SHA256;
        else if (strcmp(a, "rsa-sha256") != 0)
            mgmt_field_error(&c, "algorithm", "must be rsa-sha256 or ed25519-sha256");
    }
    if ((v = json_object_get(c.body, "activate_after")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 2592000)
            mgmt_field_error(&c, "activate_after", "must be whole seconds from 0 to 2592000 (30 days)");
        else
            delay = (long) json_integer_value(v);
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    ret = domain_dkim_rotate(c.db, c.m->seal, req->cfg, d->id, alg, delay, selector, &error);
    if (ret < 0) {
        msg_warn("%s %s: DKIM rotation: %s", req->method, req->path, error ? error : "");
        mgmt_reply_db(&c, "DKIM rotation", ret);
    } else if (ret == 0) {
        mgmt_reply_conflict(&c, "RotationPending", error, NULL);
    } else {
        msg_info("user %llu: new DKIM key %s for domain %s of %s, signing in %ld s", c.p.user_id, selector,
                 d->name, OWNER(&c), delay);
        mgmt_reply_again(&c, &domains, server_id, d->name, 0, MHD_HTTP_CREATED);
    }
out:
    mem_free(error);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_domain_dkim_activate(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"selector", NULL};
    unsigned long long server_id = 0;
    const DOMAIN_ROW *d = NULL;
    DB_ROWS rows = {0};
    const char *selector;
    char *error = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (!begin_action(&c, req, arg, known, &o, &server_id, &rows, &d))
        goto out;
    selector = mgmt_field_text(&c, "selector", 1, 63);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    ret = domain_dkim_activate(c.db, d->id, selector, &error);
    if (ret < 0) {
        mgmt_reply_db(&c, "DKIM activation", ret);
    } else if (ret == 0) {
        mgmt_field_error(&c, "selector", "%s", error);
        mgmt_reply_invalid(&c);
    } else {
        msg_info("user %llu: DKIM key %s of domain %s of %s activated", c.p.user_id, selector,
                 d->name, OWNER(&c));
        mgmt_reply_again(&c, &domains, server_id, d->name, 0, MHD_HTTP_OK);
    }
out:
    mem_free(error);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The alias_of field: NULL (no alias: *none_r set), or a domain of the server or its
 * organization into *target. 1 given, 0 absent, -1 invalid (error added), < -1 answered. */
static int
field_alias_of(MGMT_CALL *c, const MGMT_ORG *o, unsigned long long server_id, MAILBOX_DOMAIN *target, int *none_r)
{
    json_t *v = c->body ? json_object_get(c->body, "alias_of") : NULL;
    int ret;

    *none_r = 0;
    if (v == NULL)
        return 0;
    if (json_is_null(v)) {
        *none_r = 1;
        return 1;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 253) {
        mgmt_field_error(c, "alias_of", "must be a domain name of the server, or null");
        return -1;
    }
    if ((ret = mailbox_domain_find(c->db, server_id, o->id, json_string_value(v), target)) < 0) {
        mgmt_reply_db(c, "domain lookup", ret);
        return -2;
    }
    if (ret == 0) {
        mgmt_field_error(c, "alias_of", "the server has no domain %s", json_string_value(v));
        return -1;
    }
    return 1;
}

/* PATCH …/domains/{name} {"hosting": true|false, "alias_of": "target"|null}: the domain hosts
 * mailboxes (verified domains only) or no longer does (its mailboxes stay, receiving nothing
 * until it does again); it is an alias of another hosted domain of the server or its
 * organization (switching hosting on with it), or no alias. */
static void
mgmt_v2_domain_patch(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"hosting", "alias_of", NULL};
    unsigned long long server_id = 0;
    const DOMAIN_ROW *d = NULL;
    DB_ROWS rows = {0};
    MAILBOX_DOMAIN md = {0}, target = {0};
    char *error = NULL;
    const char *field = "hosting";
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret = 1, on = 0, has_hosting, has_alias = 0, none = 0;

    if (!begin_action(&c, req, arg, known, &o, &server_id, &rows, &d))
        goto out;
    has_hosting = c.body != NULL && json_object_get(c.body, "hosting") != NULL;
    if (has_hosting)
        on = mgmt_field_bool(&c, "hosting");
    if ((has_alias = field_alias_of(&c, &o, server_id, &target, &none)) < -1)
        goto out;
    if (!has_hosting && has_alias == 0)
        mgmt_field_error(&c, "hosting", "is required (or alias_of)");
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if ((ret = mailbox_domain_find(c.db, server_id, o.id, d->name, &md)) <= 0) {
        mgmt_reply_db(&c, "domain lookup", ret < 0 ? ret : DB_ERR_TEMP);
        goto out;
    }
    if (has_hosting)
        ret = mailbox_hosting_set(c.db, &md, on, &error);
    if (ret > 0 && has_alias > 0) {
        field = "alias_of";
        md.hosting = md.hosting || on;
        mem_free(error);
        error = NULL;
        ret = mailbox_domain_alias_set(c.db, &md, none ? NULL : &target, &error);
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "domain hosting", ret);
    } else if (ret == 0) {
        mgmt_field_error(&c, field, "%s", error);
        mgmt_reply_invalid(&c);
    } else {
        msg_info("user %llu: domain %s of %s: hosting %s, alias of %s", c.p.user_id, d->name,
                 OWNER(&c), has_hosting ? (on ? "on" : "off") : "unchanged",
                 has_alias > 0 ? (none ? "nothing" : target.name) : "unchanged");
        mgmt_reply_again(&c, &domains, server_id, d->name, 0, MHD_HTTP_OK);
    }
out:
    mem_free(error);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_domains_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/domains", mgmt_v2_domains_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains", mgmt_v2_domains_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/domains/{}", mgmt_v2_domain_get},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/domains/{}", mgmt_v2_domain_delete},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/domains/{}", mgmt_v2_domain_patch},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/verify", mgmt_v2_domain_verify},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/verification-email", mgmt_v2_domain_verification_email},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/check", mgmt_v2_domain_check},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/dkim/rotate", mgmt_v2_domain_dkim_rotate},
    {"POST", "/api/v2/organizations/{}/servers/{}/domains/{}/dkim/activate", mgmt_v2_domain_dkim_activate},
    /* An organization's own domains, which every server of it may send from (admins manage them). */
    {"GET", "/api/v2/organizations/{}/domains", mgmt_v2_domains_list},
    {"POST", "/api/v2/organizations/{}/domains", mgmt_v2_domains_create},
    {"GET", "/api/v2/organizations/{}/domains/{}", mgmt_v2_domain_get},
    {"DELETE", "/api/v2/organizations/{}/domains/{}", mgmt_v2_domain_delete},
    {"PATCH", "/api/v2/organizations/{}/domains/{}", mgmt_v2_domain_patch},
    {"POST", "/api/v2/organizations/{}/domains/{}/verify", mgmt_v2_domain_verify},
    {"POST", "/api/v2/organizations/{}/domains/{}/verification-email", mgmt_v2_domain_verification_email},
    {"POST", "/api/v2/organizations/{}/domains/{}/check", mgmt_v2_domain_check},
    {"POST", "/api/v2/organizations/{}/domains/{}/dkim/rotate", mgmt_v2_domain_dkim_rotate},
    {"POST", "/api/v2/organizations/{}/domains/{}/dkim/activate", mgmt_v2_domain_dkim_activate},
    {NULL, NULL, NULL},
};
