/*
 * mgmt_postfix.c -- the Postfix queue, GET /api/v2/postfix/queue (doc/api.md): the
 * entries `postqueue -j` lists for postfix.config_directory, for installation admins.
 *
 * Contract: postqueue (postfix.postqueue_path) runs with a fixed argv and no shell
 * (util/run.h), at most QUEUE_TIMEOUT seconds and QUEUE_OUTPUT_MAX bytes of output; each
 * of its JSON lines becomes one entry as postqueue wrote it. A cut-off listing says so
 * ("truncated": true) and drops the partial last line.
 * Must never: put a request value into the command line, or show the queue to anyone
 * but an installation admin (it holds every organization's addresses).
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mgmt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/run.h"

#define QUEUE_TIMEOUT 10
#define QUEUE_OUTPUT_MAX (16u * 1024 * 1024)

/* The first line of text, for an error message (mem_free it). */
static char *
first_line(const char *text)
{
    size_t n = strcspn(text, "\r\n");

    return mem_strndup(text, n > 300 ? 300 : n);
}

static void
mgmt_v2_postfix_queue(HTTP_REQUEST *req, void *arg)
{
    const PGCONF *cfg = req->cfg;
    const char *argv[5];
    BUF *out = NULL, *err = NULL;
    json_t *entries;
    int status, truncated = 0, bad = 0;
    const char *p, *end;
    MGMT_CALL c;

    if (mgmt_call_begin(&c, req, arg, 0) != 0)
        goto done;
    if (!c.p.is_admin) {
        mgmt_reply_forbidden(&c, "Only installation administrators see the Postfix queue.");
        goto done;
    }
    if (cfg->postfix_postqueue_path[0] != '/' || access(cfg->postfix_postqueue_path, X_OK) != 0) {
        msg_warn("%s %s: postfix.postqueue_path %s is not an executable absolute path", req->method, req->path,
                 cfg->postfix_postqueue_path);
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "QueueUnavailable",
                   "postqueue (postfix.postqueue_path) cannot be run; see postgate-admin's log.");
        goto done;
    }
    argv[0] = cfg->postfix_postqueue_path;
    argv[1] = "-c";
    argv[2] = cfg->postfix_config_directory;
    argv[3] = "-j";
    argv[4] = NULL;
    out = buf_new(65536);
    err = buf_new(1024);
    status = run_capture((char *const *) argv, QUEUE_TIMEOUT, QUEUE_OUTPUT_MAX, out, err, &truncated);
    if (status != 0) {
        char *line = first_line(buf_cstr(err)), *message;

        msg_warn("%s %s: %s -c %s -j: status %d: %s", req->method, req->path, argv[0], argv[2], status, line);
        message = buf_asprintf("postqueue failed: %s", *line ? line : "no message");
        mgmt_reply_fail(&c, MHD_HTTP_SERVICE_UNAVAILABLE, "QueueUnavailable", message);
        mem_free(message);
        mem_free(line);
        goto done;
    }
    entries = json_array();
    for (p = buf_cstr(out); *p; p = *end ? end + 1 : end) {
        json_error_t jerr;
        json_t *entry;

        end = strchr(p, '\n');
        if (end == NULL) {
            end = p + strlen(p);
            if (truncated)
                break;      /* the line the limit cut */
        }
        if (end == p)
            continue;
        entry = json_loadb(p, (size_t) (end - p), 0, &jerr);
        if (entry == NULL || !json_is_object(entry)) {
            json_decref(entry);
            bad++;
            continue;
        }
        json_array_append_new(entries, entry);
    }
    if (bad)
        msg_warn("%s %s: %d lines of postqueue -j were not JSON objects", req->method, req->path, bad);
    mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:I, s:o, s:b}", "count", (json_int_t) json_array_size(entries),
                                        "entries", entries, "truncated", truncated));
done:
    buf_free(out);
    buf_free(err);
    mgmt_call_end(&c);
}

/* The routes of this file (mgmt_v2.h). */
const MGMT_ROUTE mgmt_postfix_routes[] = {
    {"GET", "/api/v2/postfix/queue", mgmt_v2_postfix_queue},
    {NULL, NULL, NULL},
};
