/*
 * mgmt_webhooks.c -- a server's webhooks, …/servers/{server}/webhooks (doc/api.md): what
 * they are (lib/mail/webhookdef.c), their request log, and sending a logged event again.
 * Delivery itself is postgate-worker's (lib/mail/webhook.c).
 *
 * Must never: show or re-queue another server's requests, or take a URL that is not
 * http:// or https://.
 */
#include "config.h"

#include <stddef.h>
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
webhook_json(MGMT_CALL *c, const MGMT_RESOURCE *r, const void *row)
{
    const WEBHOOKDEF_ROW *w = row;
    json_t *events = json_array();
    DB_ROWS ev = {0};

    (void) r;
    if (webhookdef_events(c->db, w->id, &ev) >= 0)
        for (size_t i = 0; i < ev.n; i++)
            json_array_append_new(events, mgmt_jstr(((const char *const *) ev.v)[i]));
    db_rows_free(&ev);
    return json_pack("{s:o, s:o, s:o, s:b, s:o, s:b, s:b, s:o, s:o, s:o}", "uuid", mgmt_jstr(w->uuid),
                     "name", mgmt_jstr(w->name), "url", mgmt_jstr(w->url), "all_events", w->all_events,
                     "events", events, "enabled", w->enabled, "sign", w->sign,
                     "last_used_at", mgmt_jstr(w->last_used_at), "created_at", mgmt_jstr(w->created_at),
                     "updated_at", mgmt_jstr(w->updated_at));
}

static const MGMT_RESOURCE webhooks = {
    .what = "webhook", .one = "webhook", .many = "webhooks",
    .size = sizeof(WEBHOOKDEF_ROW), .id_off = offsetof(WEBHOOKDEF_ROW, id), .uuid_off = offsetof(WEBHOOKDEF_ROW, uuid),
    .list = webhookdef_list, .json = webhook_json, .delete_id = webhookdef_delete,
};

MGMT_LIST_HANDLER(mgmt_v2_webhooks, webhooks)
MGMT_GET_HANDLER(mgmt_v2_webhook, webhooks)
MGMT_DELETE_HANDLER(mgmt_v2_webhook, webhooks)

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
                        "DomainDNSError, SendLimitApproaching, SendLimitExceeded, MessageComplained", i + 1);
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
mgmt_v2_webhooks_create(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id = 0;
    WEBHOOK_INPUT in = {0};
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
    /* Found again by id among the server's (uuid is the database's). */
    mgmt_reply_again(&c, &webhooks, server_id, NULL, id, MHD_HTTP_CREATED);
out:
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static void
mgmt_v2_webhook_update(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, id;
    WEBHOOK_INPUT in = {0};
    DB_ROWS rows = {0}, ev = {0};
    const WEBHOOKDEF_ROW *w;
    int all_events, ret;
    size_t nevents;
    MGMT_CALL c;
    MGMT_ORG o = {0};

    if (mgmt_call_begin(&c, req, arg, MGMT_NEED_BODY) != 0 || mgmt_load_server(&c, AUTH_ROLE_MEMBER, &o, &server_id) != 0
        || mgmt_find(&c, &webhooks, server_id, &rows) != 1)
        goto out;
    w = rows.v;
    id = w->id;
    webhook_fields(&c, 0, &in);
    /* What the webhook will be: the body over the row. */
    if ((ret = webhookdef_events(c.db, id, &ev)) < 0) {
        mgmt_reply_db(&c, "webhook events", ret);
        goto out;
    }
    nevents = in.events_given ? in.nevents : ev.n;
    if (in.all_events >= 0)
        all_events = in.all_events;
    else if (in.events_given)
        all_events = in.nevents == 0;
    else
        all_events = w->all_events;
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
    mgmt_reply_again(&c, &webhooks, server_id, w->uuid, 0, MHD_HTTP_OK);
out:
    db_rows_free(&ev);
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

static json_t *
request_json(const WEBHOOKDEF_REQUEST_ROW *q)
{
    json_t *payload = q->payload ? json_loads(q->payload, JSON_DECODE_ANY, NULL) : NULL;

    return json_pack("{s:I, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "id", (json_int_t) q->id,
                     "event_uuid", mgmt_jstr(q->event_uuid), "event", mgmt_jstr(q->event), "url", mgmt_jstr(q->url),
                     "attempt", (json_int_t) q->attempt,
                     "status_code", q->status_code >= 0 ? json_integer(q->status_code) : json_null(),
                     "body", mgmt_jstr(q->body), "error", mgmt_jstr(q->error), "will_retry", q->will_retry,
                     "duration_ms", q->duration_ms >= 0 ? json_integer(q->duration_ms) : json_null(),
                     "created_at", mgmt_jstr(q->created_at), "payload", payload ? payload : json_null());
}

static void
mgmt_v2_webhook_requests(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0, before = 0;
    DB_ROWS rows = {0}, log = {0};
    unsigned limit = 0;
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0
        || mgmt_find(&c, &webhooks, server_id, &rows) != 1
        || mgmt_page_args(&c, &before, &limit, REQUESTS_DEFAULT_LIMIT, REQUESTS_MAX_LIMIT) < 0)
        goto out;
    ret = webhookdef_requests(c.db, server_id, ((const WEBHOOKDEF_ROW *) rows.v)->id, before, limit, &log);
    if (ret < 0) {
        mgmt_reply_db(&c, "webhook requests", ret);
    } else {
        const WEBHOOKDEF_REQUEST_ROW *q = log.v;
        json_t *a = json_array();

        for (size_t i = 0; i < log.n; i++)
            json_array_append_new(a, request_json(&q[i]));
        /* A full page may have more behind it. */
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:o, s:o}", "requests", a, "next_before",
                                                 log.n == limit ? json_integer((json_int_t) q[log.n - 1].id) : json_null()));
    }
out:
    db_rows_free(&log);
    db_rows_free(&rows);
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
                       "it cannot be sent again.", NULL);
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
