/*
 * mgmt_ippool_rules.c -- IP pool rules (doc/api.md): the rules of an organization or of a
 * server (/api/v2/organizations/{org}[/servers/{server}]/ip-pool-rules) that pick one of
 * the organization's IP pools by sender (from) or recipient (to) pattern. Members read;
 * admins of the organization write. Rows are lib/mail/ippool.c's; the pools themselves
 * are mgmt_ippools.c's.
 *
 * Must never: let a rule pick a pool its organization lacks, or show or change a rule
 * outside the organization (or server) of the path.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/ippool.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define RULE_MAX_PATTERNS 100
#define RULE_PATTERN_MAX_BYTES 255

static json_t *
lines_json(const char *text)
{
    json_t *a = json_array();

    while (text && *text) {
        size_t n = strcspn(text, "\n");

        if (n > 0) {
            char *line = mem_strndup(text, n);

            json_array_append_new(a, json_string(line));
            mem_free(line);
        }
        text += n + (text[n] == '\n');
    }
    return a;
}

static json_t *
rule_json(const IPPOOL_RULE_ROW *r)
{
    return json_pack("{s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:o}", "uuid", mgmt_jstr(r->uuid),
                     "ip_pool", "uuid", mgmt_jstr(r->pool_uuid), "name", mgmt_jstr(r->pool_name),
                     "from", lines_json(r->from_text), "to", lines_json(r->to_text),
                     "created_at", mgmt_jstr(r->created_at), "updated_at", mgmt_jstr(r->updated_at));
}

/* A list of patterns (from/to) as one pattern per line into *text_r (mem_free it; NULL for
 * an empty list): 1 given, 0 absent, -1 bad (error added). */
static int
field_patterns(MGMT_CALL *c, const char *name, char **text_r)
{
    json_t *v = json_object_get(c->body, name), *item;
    BUF *b;
    size_t i;

    *text_r = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_array(v) || json_array_size(v) > RULE_MAX_PATTERNS) {
        mgmt_field_error(c, name, "must be a list of at most %d patterns", RULE_MAX_PATTERNS);
        return -1;
    }
    b = buf_new(64);
    json_array_foreach(v, i, item) {
        const char *s = json_string_value(item);
        size_t len = json_string_length(item);
        int bad = !json_is_string(item) || len == 0 || len > RULE_PATTERN_MAX_BYTES || strlen(s) != len;

        for (size_t k = 0; !bad && k < len; k++)
            bad = (unsigned char) s[k] <= 0x20 || s[k] == 0x7f;
        if (bad) {
            mgmt_field_error(c, name, "item %zu must be an address or domain pattern of 1 to %d characters without spaces "
                        "or control characters", i + 1, RULE_PATTERN_MAX_BYTES);
            buf_free(b);
            return -1;
        }
        buf_printf(b, "%s%s", i ? "\n" : "", s);
    }
    *text_r = buf_len(b) ? buf_steal(b, NULL) : NULL;
    if (*text_r == NULL)
        buf_free(b);
    return 1;
}

/* Where the rules are: an organization's (server 0) or a server's. */
typedef struct rule_scope {
    MGMT_ORG o;
    unsigned long long server_id;
    int uuid_arg;               /* the path argument with a rule's uuid */
} RULE_SCOPE;

static int
load_scope(MGMT_CALL *c, int server, AUTH_ROLE need, RULE_SCOPE *s)
{
    memset(s, 0, sizeof(*s));
    s->uuid_arg = server ? 2 : 1;
    return server ? mgmt_load_server(c, need, &s->o, &s->server_id) : mgmt_load_org(c, need, &s->o);
}

static int
find_rule(MGMT_CALL *c, const RULE_SCOPE *s, DB_ROWS *res_r)
{
    const char *uuid = http_path_arg(c->req, (size_t) s->uuid_arg);
    int ret;

    if (!auth_uuid_ok(uuid)) {
        mgmt_reply_not_found(c, "IP pool rule");
        return 0;
    }
    if ((ret = ippool_rules(c->db, s->o.id, s->server_id, uuid, res_r)) < 0) {
        mgmt_reply_db(c, "IP pool rule lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, "IP pool rule");
    return ret > 0;
}

/* The rule fields over row (NULL when creating) into *pool_r, *from_r, *to_r (mem_free
 * the texts): 0, or < 0 database error (not answered). Errors added. */
static int
rule_fields(MGMT_CALL *c, const RULE_SCOPE *s, const IPPOOL_RULE_ROW *row, unsigned long long *pool_r, char **from_r,
            char **to_r)
{
    static const char *const known[] = {"ip_pool", "from", "to", NULL};
    const char *uuid;
    int ret = 0, f, t;

    mgmt_check_known(c, known);
    uuid = mgmt_field_string(c, "ip_pool", row == NULL, 36);
    if (uuid == NULL && row)
        uuid = row->pool_uuid;
    if (uuid && !json_object_get(c->errors, "ip_pool")) {
        if (!auth_uuid_ok(uuid) || (ret = ippool_find_for_org(c->db, s->o.id, uuid, pool_r)) == 0)
            mgmt_field_error(c, "ip_pool", "is not the uuid of an IP pool of this organization");
        else if (ret < 0)
            return ret;
    }
    f = field_patterns(c, "from", from_r);
    t = field_patterns(c, "to", to_r);
    if (f == 0 && row)
        *from_r = mem_strdup_null(row->from_text);
    if (t == 0 && row)
        *to_r = mem_strdup_null(row->to_text);
    if (f >= 0 && t >= 0 && *from_r == NULL && *to_r == NULL)
        mgmt_field_error(c, "from", "a rule needs at least one pattern in from or to");
    return 0;
}

static void
reply_rule(MGMT_CALL *c, const RULE_SCOPE *s, const char *uuid, unsigned long long id, unsigned status)
{
    DB_ROWS res = {0};
    int ret = ippool_rules(c->db, s->o.id, s->server_id, uuid, &res);
    const IPPOOL_RULE_ROW *r = res.v;

    for (size_t i = 0; ret > 0 && i < res.n; i++)
        if (id == 0 || r[i].id == id) {
            mgmt_reply_ok(c, status, json_pack("{s:o}", "rule", rule_json(&r[i])));
            db_rows_free(&res);
            return;
        }
    mgmt_reply_db(c, "IP pool rule reload", ret < 0 ? ret : DB_ERR_PERM);
    db_rows_free(&res);
}

static void
rules_list(HTTP_REQUEST *req, void *arg, int server)
{
    DB_ROWS res = {0};
    RULE_SCOPE s = {0};
    MGMT_CALL c;
    int ret;

    memset(&s, 0, sizeof(s));
    if (mgmt_call_begin(&c, req, arg, 0) == 0 && load_scope(&c, server, AUTH_ROLE_READONLY, &s) == 0) {
        if ((ret = ippool_rules(c.db, s.o.id, s.server_id, NULL, &res)) < 0) {
            mgmt_reply_db(&c, "IP pool rule list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < res.n; i++)
                json_array_append_new(a, rule_json((const IPPOOL_RULE_ROW *) res.v + i));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "rules", a));
        }
    }
    db_rows_free(&res);
    mgmt_org_free(&s.o);
    mgmt_call_end(&c);
}

static void
rules_create(HTTP_REQUEST *req, void *arg, int server)
{
    unsigned long long pool = 0, id = 0;
    char *from = NULL, *to = NULL;
    RULE_SCOPE s = {0};
    MGMT_CALL c;
    int ret;

    memset(&s, 0, sizeof(s));
    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || load_scope(&c, server, AUTH_ROLE_ADMIN, &s) != 0)
        goto out;
    if ((ret = rule_fields(&c, &s, NULL, &pool, &from, &to)) < 0) {
        mgmt_reply_db(&c, "IP pool rule check", ret);
        goto out;
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_rule_create(c.db, s.o.id, s.server_id, pool, from, to, &id)) < 0) {
        mgmt_reply_db(&c, "IP pool rule create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created IP pool rule %llu of %s%s%s", c.p.user_id, id, http_path_arg(req, 0),
             server ? "/" : "", server ? http_path_arg(req, 1) : "");
    reply_rule(&c, &s, NULL, id, MHD_HTTP_CREATED);
out:
    mem_free(from);
    mem_free(to);
    mgmt_org_free(&s.o);
    mgmt_call_end(&c);
}

static void
rule_update(HTTP_REQUEST *req, void *arg, int server)
{
    unsigned long long pool = 0, id;
    char *from = NULL, *to = NULL;
    DB_ROWS row = {0};
    RULE_SCOPE s = {0};
    MGMT_CALL c;
    int ret;

    memset(&s, 0, sizeof(s));
    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || load_scope(&c, server, AUTH_ROLE_ADMIN, &s) != 0
        || find_rule(&c, &s, &row) != 1)
        goto out;
    id = ((const IPPOOL_RULE_ROW *) row.v)->id;
    if ((ret = rule_fields(&c, &s, row.v, &pool, &from, &to)) < 0) {
        mgmt_reply_db(&c, "IP pool rule check", ret);
        goto out;
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = ippool_rule_update(c.db, id, pool, from, to)) < 0) {
        mgmt_reply_db(&c, "IP pool rule update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed IP pool rule %llu", c.p.user_id, id);
    reply_rule(&c, &s, ((const IPPOOL_RULE_ROW *) row.v)->uuid, 0, MHD_HTTP_OK);
out:
    mem_free(from);
    mem_free(to);
    db_rows_free(&row);
    mgmt_org_free(&s.o);
    mgmt_call_end(&c);
}

static void
rule_delete(HTTP_REQUEST *req, void *arg, int server)
{
    unsigned long long id;
    DB_ROWS row = {0};
    RULE_SCOPE s = {0};
    MGMT_CALL c;
    int ret;

    memset(&s, 0, sizeof(s));
    if (mgmt_call_begin(&c, req, arg, 0) != 0 || load_scope(&c, server, AUTH_ROLE_ADMIN, &s) != 0
        || find_rule(&c, &s, &row) != 1 || mgmt_txn_begin(&c) < 0)
        goto out;
    id = ((const IPPOOL_RULE_ROW *) row.v)->id;
    if ((ret = ippool_rule_delete(c.db, id)) < 0) {
        mgmt_reply_db(&c, "IP pool rule delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted IP pool rule %llu", c.p.user_id, id);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(((const IPPOOL_RULE_ROW *) row.v)->uuid), "deleted", 1));
out:
    db_rows_free(&row);
    mgmt_org_free(&s.o);
    mgmt_call_end(&c);
}

#define RULE_HANDLERS(prefix, server) \
    static void prefix##_list(HTTP_REQUEST *req, void *arg) { rules_list(req, arg, server); } \
    static void prefix##_create(HTTP_REQUEST *req, void *arg) { rules_create(req, arg, server); } \
    static void prefix##_update(HTTP_REQUEST *req, void *arg) { rule_update(req, arg, server); } \
    static void prefix##_delete(HTTP_REQUEST *req, void *arg) { rule_delete(req, arg, server); }
RULE_HANDLERS(mgmt_v2_org_rules, 0)
RULE_HANDLERS(mgmt_v2_server_rules, 1)

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_ippool_rules_routes[] = {
    {"GET", "/api/v2/organizations/{}/ip-pool-rules", mgmt_v2_org_rules_list},
    {"POST", "/api/v2/organizations/{}/ip-pool-rules", mgmt_v2_org_rules_create},
    {"PATCH", "/api/v2/organizations/{}/ip-pool-rules/{}", mgmt_v2_org_rules_update},
    {"DELETE", "/api/v2/organizations/{}/ip-pool-rules/{}", mgmt_v2_org_rules_delete},
    {"GET", "/api/v2/organizations/{}/servers/{}/ip-pool-rules", mgmt_v2_server_rules_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/ip-pool-rules", mgmt_v2_server_rules_create},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/ip-pool-rules/{}", mgmt_v2_server_rules_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/ip-pool-rules/{}", mgmt_v2_server_rules_delete},
    {NULL, NULL, NULL},
};
