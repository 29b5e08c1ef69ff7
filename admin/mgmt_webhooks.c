/*
 * mgmt_webhooks.c -- a server's webhooks, …/servers/{server}/webhooks (doc/api.md): what
 * they are (lib/mail/webhookdef.c), their request log, and sending a logged event again.
 * Delivery itself is postgate-worker's (lib/mail/webhook.c).
 *
 * Must never: show or re-queue another server's requests, or take a URL that is not
 * http:// or https://.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/event.h"
#include "mail/webhookdef.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define URL_MAX_BYTES 2048
#define WEBHOOK_MAX_EVENTS 32
#define REQUESTS_DEFAULT_LIMIT 50
#define REQUESTS_MAX_LIMIT 500

static json_t *
webhook_json(MGMT_CALL *c, const DB_RESULT *res, size_t row)
{
    unsigned long long id = strtoull(db_result_get(res, row, WEBHOOK_COL_ID), NULL, 10);
    json_t *events = json_array();
    DB_RESULT *ev = NULL;

    if (webhookdef_events(c->db, id, &ev) >= 0)
        for (size_t i = 0; i < db_result_rows(ev); i++)
            json_array_append_new(events, mgmt_jstr(db_result_get(ev, i, 0)));
    db_result_free(ev);
    return json_pack("{s:o, s:o, s:o, s:b, s:o, s:b, s:b, s:o, s:o, s:o}",
                     "uuid", mgmt_jstr(db_result_get(res, row, WEBHOOK_COL_UUID)),
                     "name", mgmt_jstr(db_result_get(res, row, WEBHOOK_COL_NAME)),
                     "url", mgmt_jstr(db_result_get(res, row, WEBHOOK_COL_URL)),
                     "all_events", atoi(db_result_get(res, row, WEBHOOK_COL_ALL_EVENTS)) != 0, "events", events,
                     "enabled", atoi(db_result_get(res, row, WEBHOOK_COL_ENABLED)) != 0,
                     "sign", atoi(db_result_get(res, row, WEBHOOK_COL_SIGN)) != 0,
                     "last_used_at", mgmt_jstr(db_result_get(res, row, WEBHOOK_COL_LAST_USED)),
                     "created_at", mgmt_jstr(db_result_get(res, row, WEBHOOK_COL_CREATED)),
                     "updated_at", mgmt_jstr(db_result_get(res, row, WEBHOOK_COL_UPDATED)));
}

/* The webhook of path argument 2 as a row of *res_r: 1, or 0/-1 after answering. */
static int
find_webhook(MGMT_CALL *c, unsigned long long server_id, DB_RESULT **res_r)
{
    const char *uuid = http_path_arg(c->req, 2);
    int ret;

    *res_r = NULL;
    if (!auth_uuid_ok(uuid)) {
        mgmt_reply_not_found(c, "webhook");
        return 0;
    }
    if ((ret = webhookdef_list(c->db, server_id, uuid, res_r)) < 0) {
        mgmt_reply_db(c, "webhook lookup", ret);
        return -1;
    }
    if (ret == 0)
        mgmt_reply_not_found(c, "webhook");
    return ret > 0;
}

/* What the body says about a webhook. */
typedef struct webhook_input {
    const char *name;
    const char *url;
    int all_events;             /* -1 not given */
    int enabled;
    int sign;
    int events_given;
    const char *events[WEBHOOK_MAX_EVENTS];
    size_t nevents;
} WEBHOOK_INPUT;

static void
webhook_fields(MGMT_CALL *c, int creating, WEBHOOK_INPUT *in)
{
    static const char *const known[] = {"name", "url", "all_events", "events", "enabled", "sign", NULL};
    json_t *events = json_object_get(c->body, "events"), *v;
    size_t i;

    mgmt_check_known(c, known);
    in->name = mgmt_field_name(c, "name", creating);
    in->url = mgmt_field_string(c, "url", creating, URL_MAX_BYTES);
    if (in->url && !mgmt_web_url_ok(in->url)) {
        mgmt_field_error(c, "url", "must be an http:// or https:// URL with a host name, in ASCII (percent-encoded)");
        in->url = NULL;
    }
    if (in->url && !mgmt_outbound_ok(c, "url", in->url, 1))
        in->url = NULL;
    in->all_events = mgmt_field_bool(c, "all_events");
    in->enabled = mgmt_field_bool(c, "enabled");
    in->sign = mgmt_field_bool(c, "sign");
    in->events_given = events != NULL;
    if (events == NULL)
        return;
    if (!json_is_array(events) || json_array_size(events) > WEBHOOK_MAX_EVENTS) {
        mgmt_field_error(c, "events", "must be a list of event names");
        return;
    }
    json_array_foreach(events, i, v) {
        if (!json_is_string(v) || !event_name_valid(json_string_value(v))) {
            mgmt_field_error(c, "events", "item %zu is not an event; the events are MessageSent, MessageDelayed, "
                        "MessageDeliveryFailed, MessageHeld, MessageBounced, MessageLinkClicked, MessageLoaded, "
                        "DomainDNSError, SendLimitApproaching, SendLimitExceeded", i + 1);
            continue;
        }
        in->events[in->nevents++] = json_string_value(v);
    }
}

/* all_events and events together: all_events with no list, or a list without all_events. */
static void
check_events(MGMT_CALL *c, int all_events, size_t nevents)
{
    if (json_object_get(c->errors, "events") || json_object_get(c->errors, "all_events"))
        return;
    if (all_events && nevents > 0)
        mgmt_field_error(c, "events", "must be empty when all_events is true");
    else if (!all_events && nevents == 0)
        mgmt_field_error(c, "events", "name at least one event, or set all_events to true");
}

static void
reply_webhook(MGMT_CALL *c, unsigned long long server_id, const char *uuid, unsigned status)
{
    DB_RESULT *res = NULL;
    int ret = webhookdef_list(c->db, server_id, uuid, &res);

    if (ret <= 0)
        mgmt_reply_db(c, "webhook reload", ret < 0 ? ret : DB_ERR_PERM);
    else
        mgmt_reply_ok(c, status, json_pack("{s:o}", "webhook", webhook_json(c, res, 0)));
    db_result_free(res);
}

static void
mgmt_v2_webhooks_list(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0) {
        if ((ret = webhookdef_list(c.db, server_id, NULL, &res)) < 0) {
            mgmt_reply_db(&c, "webhook list", ret);
        } else {
            json_t *a = json_array();

            for (size_t i = 0; i < db_result_rows(res); i++)
                json_array_append_new(a, webhook_json(&c, res, i));
            mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "webhooks", a));
        }
    }
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_webhooks_create(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id = 0;
    WEBHOOK_INPUT in = {0};
    DB_RESULT *res = NULL;
    int all_events, ret;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    webhook_fields(&c, 1, &in);
    /* A list of events alone means "only these". */
    all_events = in.all_events >= 0 ? in.all_events : in.nevents == 0;
    check_events(&c, all_events, in.nevents);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = webhookdef_create(c.db, server_id, in.name, in.url, all_events, in.enabled != 0, in.sign != 0, &id)) < 0
        || (ret = webhookdef_set_events(c.db, id, in.events, in.nevents)) < 0) {
        mgmt_reply_db(&c, "webhook create", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: created webhook %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    /* Found again by id through the list of the server (uuid is the database's). */
    if ((ret = webhookdef_list(c.db, server_id, NULL, &res)) < 0) {
        mgmt_reply_db(&c, "webhook reload", ret);
        goto out;
    }
    for (size_t i = 0; i < db_result_rows(res); i++)
        if (strtoull(db_result_get(res, i, WEBHOOK_COL_ID), NULL, 10) == id) {
            mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:o}", "webhook", webhook_json(&c, res, i)));
            goto out;
        }
    mgmt_reply_db(&c, "webhook reload", DB_ERR_PERM);
out:
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_webhook_get(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, 0) == 0 && mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) == 0
        && find_webhook(&c, server_id, &res) == 1)
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o}", "webhook", webhook_json(&c, res, 0)));
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_webhook_update(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id;
    WEBHOOK_INPUT in = {0};
    DB_RESULT *res = NULL, *ev = NULL;
    int all_events, ret;
    size_t nevents;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_webhook(&c, server_id, &res) != 1)
        goto out;
    id = strtoull(db_result_get(res, 0, WEBHOOK_COL_ID), NULL, 10);
    webhook_fields(&c, 0, &in);
    /* What the webhook will be: the body over the row. */
    if ((ret = webhookdef_events(c.db, id, &ev)) < 0) {
        mgmt_reply_db(&c, "webhook events", ret);
        goto out;
    }
    nevents = in.events_given ? in.nevents : db_result_rows(ev);
    if (in.all_events >= 0)
        all_events = in.all_events;
    else if (in.events_given)
        all_events = in.nevents == 0;
    else
        all_events = atoi(db_result_get(res, 0, WEBHOOK_COL_ALL_EVENTS)) != 0;
    /* Turning all_events on drops the old list. */
    if (all_events && !in.events_given)
        nevents = 0;
    check_events(&c, all_events, nevents);
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    if ((ret = webhookdef_update(c.db, server_id, id, in.name, in.url, all_events, in.enabled, in.sign)) < 0
        || ((in.events_given || all_events) && (ret = webhookdef_set_events(c.db, id, in.events, in.nevents)) < 0)) {
        mgmt_reply_db(&c, "webhook update", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: changed webhook %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    reply_webhook(&c, server_id, db_result_get(res, 0, WEBHOOK_COL_UUID), MHD_HTTP_OK);
out:
    db_result_free(ev);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_webhook_delete(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id;
    DB_RESULT *res = NULL;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || find_webhook(&c, server_id, &res) != 1 || mgmt_txn_begin(&c) < 0)
        goto out;
    id = strtoull(db_result_get(res, 0, WEBHOOK_COL_ID), NULL, 10);
    if ((ret = webhookdef_delete(c.db, server_id, id)) < 0) {
        mgmt_reply_db(&c, "webhook delete", ret);
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: deleted webhook %llu of server %s/%s", c.p.user_id, id, http_path_arg(req, 0),
             http_path_arg(req, 1));
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:b}", "uuid", mgmt_jstr(db_result_get(res, 0, WEBHOOK_COL_UUID)), "deleted", 1));
out:
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static json_t *
request_json(const DB_RESULT *res, size_t row)
{
    const char *status = db_result_get(res, row, WHREQ_COL_STATUS_CODE);
    const char *duration = db_result_get(res, row, WHREQ_COL_DURATION_MS);

    const char *payload = db_result_get(res, row, WHREQ_COL_PAYLOAD);
    json_t *pj = payload ? json_loads(payload, JSON_DECODE_ANY, NULL) : NULL;

    return json_pack("{s:I, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:b, s:o, s:o, s:o}",
                     "id", (json_int_t) strtoll(db_result_get(res, row, WHREQ_COL_ID), NULL, 10),
                     "event_uuid", mgmt_jstr(db_result_get(res, row, WHREQ_COL_EVENT_UUID)),
                     "event", mgmt_jstr(db_result_get(res, row, WHREQ_COL_EVENT)),
                     "url", mgmt_jstr(db_result_get(res, row, WHREQ_COL_URL)),
                     "attempt", (json_int_t) atoi(db_result_get(res, row, WHREQ_COL_ATTEMPT)),
                     "status_code", status ? json_integer(atoi(status)) : json_null(),
                     "body", mgmt_jstr(db_result_get(res, row, WHREQ_COL_BODY)),
                     "error", mgmt_jstr(db_result_get(res, row, WHREQ_COL_ERROR)),
                     "will_retry", atoi(db_result_get(res, row, WHREQ_COL_WILL_RETRY)) != 0,
                     "duration_ms", duration ? json_integer(atoll(duration)) : json_null(),
                     "created_at", mgmt_jstr(db_result_get(res, row, WHREQ_COL_CREATED)),
                     "payload", pj ? pj : json_null());
}

static void
mgmt_v2_webhook_requests(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, before = 0;
    DB_RESULT *res = NULL, *log = NULL;
    unsigned limit = 0;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0
        || find_webhook(&c, server_id, &res) != 1
        || mgmt_page_args(&c, &before, &limit, REQUESTS_DEFAULT_LIMIT, REQUESTS_MAX_LIMIT) < 0)
        goto out;
    ret = webhookdef_requests(c.db, server_id, strtoull(db_result_get(res, 0, WEBHOOK_COL_ID), NULL, 10), before, limit,
                              &log);
    if (ret < 0) {
        mgmt_reply_db(&c, "webhook requests", ret);
    } else {
        json_t *a = json_array();
        size_t n = db_result_rows(log);

        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, request_json(log, i));
        /* A full page may have more behind it. */
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:o}", "requests", a, "next_before",
                                            n == limit ? json_integer(strtoll(db_result_get(log, n - 1, WHREQ_COL_ID), NULL, 10))
                                            : json_null()));
    }
out:
    db_result_free(log);
    db_result_free(res);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_webhook_retry(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, request_id;
    char uuid[37];
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0)
        goto out;
    if (!mgmt_path_id(&c, 2, &request_id)) {
        mgmt_reply_not_found(&c, "webhook request");
        goto out;
    }
    if (mgmt_txn_begin(&c) < 0)
        goto out;
    ret = webhookdef_retry(c.db, server_id, request_id, uuid);
    if (ret < 0) {
        mgmt_reply_db(&c, "webhook retry", ret);
        goto out;
    }
    if (ret == 0) {
        mgmt_reply_not_found(&c, "webhook request");
        goto out;
    }
    if (ret == WEBHOOKDEF_GONE) {
        mgmt_reply_conflict(&c, "RequestExpired", "The webhook was deleted or the event's payload is no longer kept; "
                       "it cannot be sent again.");
        goto out;
    }
    if (mgmt_txn_commit(&c) < 0)
        goto out;
    msg_info("user %llu: re-queued webhook request %llu of server %s/%s as event %s", c.p.user_id, request_id,
             http_path_arg(req, 0), http_path_arg(req, 1), uuid);
    mgmt_reply_ok(&c, MHD_HTTP_CREATED, json_pack("{s:b, s:I, s:s}", "queued", 1, "request_id", (json_int_t) request_id,
                                             "event_uuid", uuid));
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_webhooks_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/webhooks", mgmt_v2_webhooks_list},
    {"POST", "/api/v2/organizations/{}/servers/{}/webhooks", mgmt_v2_webhooks_create},
    {"POST", "/api/v2/organizations/{}/servers/{}/webhooks/requests/{}/retry", mgmt_v2_webhook_retry},
    {"GET", "/api/v2/organizations/{}/servers/{}/webhooks/{}", mgmt_v2_webhook_get},
    {"PATCH", "/api/v2/organizations/{}/servers/{}/webhooks/{}", mgmt_v2_webhook_update},
    {"DELETE", "/api/v2/organizations/{}/servers/{}/webhooks/{}", mgmt_v2_webhook_delete},
    {"GET", "/api/v2/organizations/{}/servers/{}/webhooks/{}/requests", mgmt_v2_webhook_requests},
    {NULL, NULL, NULL},
};
