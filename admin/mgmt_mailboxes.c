/*
 * mgmt_mailboxes.c -- a server's hosted mailboxes and aliases (doc/api.md "Mail hosting"):
 * …/servers/{server}/mailboxes and …/aliases, under the domains of the server and of its
 * organization; rows are lib/mail/mailbox.c's and alias.c's. Readonly members see them,
 * members manage them, anyone else gets 404 (mgmt_load_server()). A new password must pass
 * the password policy (400 ValidationError naming the rule) and is stored as an argon2id
 * hash; no answer ever carries a password or its hash.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/alias.h"
#include "mail/mailbox.h"
#include "mgmt.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/password.h"


static json_t *
quota_json(const char *v)
{
    return v ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

static json_t *
mailbox_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const MAILBOX_ROW *m = row;

    (void) c;
    (void) r;
    return json_pack("{s:o, s:o, s:o, s:b, s:o, s:o, s:I, s:I, s:o}", "uuid", mgmt_jstr(m->uuid),
                     "address", mgmt_jstr(m->address), "name", mgmt_jstr(m->name), "enabled", m->enabled,
                     "quota_bytes", quota_json(m->quota_bytes), "quota_messages", quota_json(m->quota_messages),
                     "used_bytes", (json_int_t) m->used_bytes, "used_messages", (json_int_t) m->used_messages,
                     "last_login_at", mgmt_jstr(m->last_login_at));
}

static int
mailbox_delete_one(DB *db, unsigned long long server_id, unsigned long long id)
{
    char *error = NULL;
    int ret;

    (void) server_id;
    ret = mailbox_delete(db, id, &error);
    mem_free(error);
    return ret;
}

static const MGMT_RESOURCE mailboxes = {
    .what = "mailbox", .one = "mailbox", .many = "mailboxes",
    .size = sizeof(MAILBOX_ROW), .id_off = offsetof(MAILBOX_ROW, id), .uuid_off = offsetof(MAILBOX_ROW, uuid),
    .list = mailbox_server_list, .json = mailbox_json, .delete_id = mailbox_delete_one,
};

static json_t *
alias_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const ALIAS_ROW *a = row;
    json_t *list = json_array();
    char address[MAILBOX_MAX_LOCAL + 256];

    (void) c;
    (void) r;
    for (const char *p = a->destinations; p && *p;) {
        size_t n = strcspn(p, ",");

        if (n > 0)
            json_array_append_new(list, json_stringn(p, n));
        p += n;
        p += strspn(p, ",");
    }
    snprintf(address, sizeof(address), "%s@%s", a->local_part, a->domain);
    return json_pack("{s:o, s:s, s:b, s:b, s:o}", "uuid", mgmt_jstr(a->uuid), "address", address,
                     "catch_all", strcmp(a->local_part, "*") == 0, "enabled", a->enabled, "destinations", list);
}

static int
alias_delete_one(DB *db, unsigned long long server_id, unsigned long long id)
{
    (void) server_id;
    return alias_delete_id(db, id);
}

static const MGMT_RESOURCE aliases = {
    .what = "alias", .one = "alias", .many = "aliases",
    .size = sizeof(ALIAS_ROW), .id_off = offsetof(ALIAS_ROW, id), .uuid_off = offsetof(ALIAS_ROW, uuid),
    .list = alias_server_list, .json = alias_json, .delete_id = alias_delete_one,
};

MGMT_LIST_HANDLER(mgmt_v2_mailboxes, mailboxes)
MGMT_GET_HANDLER(mgmt_v2_mailbox, mailboxes)
MGMT_DELETE_HANDLER(mgmt_v2_mailbox, mailboxes)
MGMT_LIST_HANDLER(mgmt_v2_aliases, aliases)
MGMT_GET_HANDLER(mgmt_v2_alias, aliases)
MGMT_DELETE_HANDLER(mgmt_v2_alias, aliases)

/* A new password field the policy accepts, hashed into hash: 1, 0 absent, -1 refused (error
 * added; a policy refusal names its rule). */
static int
field_password(MGMT_CALL *c, int required, char hash[PASSWORD_HASH_MAX])
{
    const char *pw = mgmt_field_new_password(c, "password", required);

    if (pw == NULL)
        return json_object_get(c->body, "password") && !json_is_null(json_object_get(c->body, "password")) ? -1
            : required ? -1 : 0;
    if (mgmt_password_hash(c, pw, hash) < 0) {
        mgmt_field_error(c, "password", "could not be hashed; try again");
        return -1;
    }
    return 1;
}

/* The address field (field) as a hosted domain of the server and a local part: 1, 0 absent,
 * -1 invalid (error added) or answered (< -1: a database error, already answered). */
static int
field_address(MGMT_CALL *c, const char *field, int required, const MGMT_ORG *o, unsigned long long server_id,
              int allow_star, MAILBOX_DOMAIN *d, char local[MAILBOX_MAX_LOCAL + 1])
{
    const char *address = mgmt_field_text(c, field, required, MAILBOX_MAX_LOCAL + 254), *at;
    char part[MAILBOX_MAX_LOCAL + 2], why[256];
    int ret;

    if (address == NULL)
        return json_object_get(c->body, field) ? -1 : 0;
    at = strrchr(address, '@');
    if (at == NULL || at == address || (size_t) (at - address) > MAILBOX_MAX_LOCAL) {
        mgmt_field_error(c, field, "must be an address local@domain");
        return -1;
    }
    snprintf(part, sizeof(part), "%.*s", (int) (at - address), address);
    if (!mailbox_local_normalize(part, local, MAILBOX_MAX_LOCAL + 1, allow_star)) {
        mgmt_field_error(c, field, "the local part must be 1 to %d of a-z, 0-9, '.', '_' and '-'%s",
                         MAILBOX_MAX_LOCAL, allow_star ? ", or * for the catch-all" : "");
        return -1;
    }
    if ((ret = mailbox_domain_find(c->db, server_id, o->id, at + 1, d)) < 0) {
        mgmt_reply_db(c, "hosted domain lookup", ret);
        return -2;
    }
    if (ret == 0) {
        mgmt_field_error(c, field, "the server has no domain %s", at + 1);
        return -1;
    }
    if (!mailbox_domain_holds(d, why, sizeof(why))) {
        mgmt_field_error(c, field, "%s", why);
        return -1;
    }
    return 1;
}

static void
mailboxes_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"address", "password", "name", "quota_bytes", "quota_messages", NULL};
    MAILBOX_NEW m = {.name = ""};
    MAILBOX_DOMAIN d;
    unsigned long long server_id = 0;
    char local[MAILBOX_MAX_LOCAL + 1], hash[PASSWORD_HASH_MAX], uuid[37], *error = NULL;
    long long bytes = 0, messages = 0;
    const char *name;
    int ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    mgmt_check_known(&c, known);
    if (field_address(&c, "address", 1, &o, server_id, 0, &d, local) < -1)
        goto out;
    name = mgmt_field_text(&c, "name", 0, 255);
    mgmt_field_int(&c, "quota_bytes", 0, (long long) 1 << 50, &bytes);
    mgmt_field_int(&c, "quota_messages", 0, 4000000000LL, &messages);
    field_password(&c, 1, hash);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    m.domain_id = d.id;
    m.local_part = local;
    m.name = name ? name : "";
    m.password_hash = hash;
    m.quota_bytes = (unsigned long long) bytes;
    m.quota_messages = (unsigned long) messages;
    if ((ret = mailbox_create(c.db, &m, uuid, &error)) == 0) {
        mgmt_reply_conflict(&c, "AddressTaken", error, NULL);
        goto out;
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "mailbox create", ret);
        goto out;
    }
    msg_info("user %llu: created mailbox %s@%s (%s) of server %s/%s", c.p.user_id, local, d.name, uuid,
             http_path_arg(req, 0), http_path_arg(req, 1));
    mgmt_reply_again(&c, &mailboxes, server_id, uuid, 0, MHD_HTTP_CREATED);
out:
    mem_free(error);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mailbox_update(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"address", "password", "name", "quota_bytes", "quota_messages", "enabled",
                                        NULL};
    const MAILBOX_ROW *row;
    MAILBOX_DOMAIN d;
    DB_ROWS rows = {0};
    unsigned long long server_id = 0;
    char local[MAILBOX_MAX_LOCAL + 1], hash[PASSWORD_HASH_MAX], *error = NULL;
    long long bytes = 0, messages = 0;
    const char *name;
    int has_address, has_password, has_bytes, has_messages, enabled, ret = 1;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || mgmt_find(&c, &mailboxes, server_id, &rows) <= 0)
        goto out;
    row = rows.v;
    mgmt_check_known(&c, known);
    if ((has_address = field_address(&c, "address", 0, &o, server_id, 0, &d, local)) < -1)
        goto out;
    name = mgmt_field_text(&c, "name", 0, 255);
    has_bytes = mgmt_field_int(&c, "quota_bytes", 0, (long long) 1 << 50, &bytes);
    has_messages = mgmt_field_int(&c, "quota_messages", 0, 4000000000LL, &messages);
    enabled = json_object_get(c.body, "enabled") ? mgmt_field_bool(&c, "enabled") : -1;
    has_password = field_password(&c, 0, hash);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if (has_address > 0)
        ret = mailbox_rename(c.db, row->id, d.id, local, &error);
    if (ret > 0 && has_password > 0) {
        mem_free(error);
        ret = mailbox_set_password(c.db, row->id, hash, &error);
    }
    if (ret > 0 && name) {
        mem_free(error);
        ret = mailbox_set_name(c.db, row->id, name, &error);
    }
    if (ret > 0 && (has_bytes > 0 || has_messages > 0)) {
        unsigned long long qb = has_bytes > 0 ? (unsigned long long) bytes
            : row->quota_bytes ? strtoull(row->quota_bytes, NULL, 10) : 0;
        unsigned long qm = has_messages > 0 ? (unsigned long) messages
            : row->quota_messages ? strtoul(row->quota_messages, NULL, 10) : 0;

        mem_free(error);
        ret = mailbox_set_quota(c.db, row->id, qb, qm, &error);
    }
    if (ret > 0 && enabled >= 0) {
        mem_free(error);
        ret = mailbox_set_enabled(c.db, row->id, enabled, &error);
    }
    if (ret == 0) {
        mgmt_reply_conflict(&c, "AddressTaken", error ? error : "the address is taken", NULL);
        goto out;
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "mailbox update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed mailbox %s of server %s/%s", c.p.user_id, row->uuid, http_path_arg(req, 0),
             http_path_arg(req, 1));
    mgmt_reply_again(&c, &mailboxes, server_id, NULL, row->id, MHD_HTTP_OK);
out:
    mem_free(error);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
aliases_create(HTTP_REQUEST *req, void *arg)
{
    static const char *const known[] = {"address", "destinations", NULL};
    MAILBOX_DOMAIN d;
    unsigned long long server_id = 0;
    char local[MAILBOX_MAX_LOCAL + 1], uuid[37], *error = NULL, **dest = NULL;
    json_t *list;
    size_t n = 0, i;
    json_t *e;
    int ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    mgmt_check_known(&c, known);
    if (field_address(&c, "address", 1, &o, server_id, 1, &d, local) < -1)
        goto out;
    list = json_object_get(c.body, "destinations");
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > ALIAS_MAX_DESTINATIONS) {
        mgmt_field_error(&c, "destinations", "must be a list of 1 to %d addresses", ALIAS_MAX_DESTINATIONS);
    } else {
        dest = mem_zalloc(json_array_size(list) * sizeof(*dest));
        json_array_foreach(list, i, e) {
            if (!json_is_string(e)) {
                mgmt_field_error(&c, "destinations", "item %zu is not a string", i);
                break;
            }
            dest[n++] = (char *) json_string_value(e);
        }
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    ret = alias_create(c.db, d.id, local, dest, n, uuid, &error);
    if (ret == 0 && error && strstr(error, "already")) {
        mgmt_reply_conflict(&c, "AddressTaken", error, NULL);
        goto out;
    }
    if (ret == 0) {
        mgmt_field_error(&c, "destinations", "%s", error);
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (ret < 0) {
        mgmt_reply_db(&c, "alias create", ret);
        goto out;
    }
    msg_info("user %llu: created alias %s@%s (%s) of server %s/%s", c.p.user_id, local, d.name, uuid,
             http_path_arg(req, 0), http_path_arg(req, 1));
    mgmt_reply_again(&c, &aliases, server_id, uuid, 0, MHD_HTTP_CREATED);
out:
    mem_free(dest);
    mem_free(error);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_mailboxes_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/mailboxes", mgmt_v2_mailboxes_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/mailboxes", mailboxes_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/mailboxes/{}", mgmt_v2_mailbox_get},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/mailboxes/{}", mailbox_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/mailboxes/{}", mgmt_v2_mailbox_delete},
    {"GET", "/api/v2/organizations/{}/servers/{}/aliases", mgmt_v2_aliases_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/aliases", aliases_create},
    {"GET", "/api/v2/organizations/{}/servers/{}/aliases/{}", mgmt_v2_alias_get},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/aliases/{}", mgmt_v2_alias_delete},
    {NULL, NULL, NULL},
};
