/*
 * mgmt_postfix.c -- the Postfix queue, GET /api/v2/postfix/queue (doc/api.md): the
 * entries `postqueue -j` lists for postfix.config_directory, for installation admins.
 *
 * Contract: postqueue (postfix.postqueue_path) runs through lib/mail/pfqueue.c (a fixed
 * argv, no shell, at most PFQUEUE_TIMEOUT seconds and PFQUEUE_OUTPUT_MAX bytes of
 * output); each of its JSON lines becomes one entry as postqueue wrote it. A cut-off
 * listing says so ("truncated": true) and drops the partial last line.
 * Must never: put a request value into the command line, or show the queue to anyone
 * but an installation admin (it holds every organization's addresses).
 */
#include "config.h"

#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/pfqueue.h"
#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

static void
add_entry(json_t *entry, void *arg)
{
    json_array_append(arg, entry);
}

static void
mgmt_v2_postfix_queue(HTTP_REQUEST *req, void *arg)
{
    const PGCONF *cfg = req->cfg;
    BUF *out = NULL;
    char *line = NULL;
    json_t *entries;
    int ret, status, truncated = 0, bad;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, 0) != 0)
        goto done;
    if (!c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators see the Postfix queue.");
        goto done;
    }
    out = buf_new(65536);
    ret = pfqueue_run(cfg->postfix_postqueue_path, cfg->postfix_config_directory, out, &truncated, &status, &line);
    if (ret == 0) {
        msg_warn("%s %s: postfix.postqueue_path %s is not an executable absolute path", req->method, req->path,
                 cfg->postfix_postqueue_path);
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "QueueUnavailable",
                   "postqueue (postfix.postqueue_path) cannot be run; see postgate-admin's log.");
        goto done;
    }
    if (ret < 0) {
        char *message;

        msg_warn("%s %s: %s -c %s -j: status %d: %s", req->method, req->path, cfg->postfix_postqueue_path,
                 cfg->postfix_config_directory, status, line);
        message = buf_asprintf("postqueue failed: %s", *line ? line : "no message");
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "QueueUnavailable", message);
        mem_free(message);
        goto done;
    }
    entries = json_array();
    bad = pfqueue_parse(buf_cstr(out), truncated, add_entry, entries);
    if (bad)
        msg_warn("%s %s: %d lines of postqueue -j were not JSON objects", req->method, req->path, bad);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:I, s:o, s:b}", "count", (json_int_t) json_array_size(entries),
                                        "entries", entries, "truncated", truncated));
done:
    mem_free(line);
    buf_free(out);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_postfix_routes[] = {
    {"GET", "/api/v2/postfix/queue", mgmt_v2_postfix_queue},
    {NULL, NULL, NULL},
};
