/*
 * pfqueue.c -- Postfix's queue through postqueue -j (pfqueue.h).
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "mail/pfqueue.h"
#include "util/mem.h"
#include "util/run.h"

int
pfqueue_run(const char *path, const char *config_dir, BUF *out, int *truncated_r, int *status_r, char **error_r)
{
    const char *argv[5];
    BUF *err;
    const char *text;

    *truncated_r = 0;
    *status_r = 0;
    if (path[0] != '/' || access(path, X_OK) != 0)
        return 0;
    argv[0] = path;
    argv[1] = "-c";
    argv[2] = config_dir;
    argv[3] = "-j";
    argv[4] = NULL;
    err = buf_new(1024);
    *status_r = run_capture((char *const *) argv, PFQUEUE_TIMEOUT, PFQUEUE_OUTPUT_MAX, out, err, truncated_r);
    if (*status_r != 0) {
        size_t n;

        text = buf_cstr(err);
        n = strcspn(text, "\r\n");
        *error_r = mem_strndup(text, n > 300 ? 300 : n);
        buf_free(err);
        return -1;
    }
    buf_free(err);
    return 1;
}

int
pfqueue_parse(const char *text, int truncated, PFQUEUE_ENTRY_FN *fn, void *arg)
{
    const char *p, *end;
    int bad = 0;

    for (p = text; *p; p = *end ? end + 1 : end) {
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
        fn(entry, arg);
        json_decref(entry);
    }
    return bad;
}

void
pfqueue_count_entry(json_t *entry, void *arg)
{
    PFQUEUE_COUNTS *c = arg;
    const char *q = json_string_value(json_object_get(entry, "queue_name"));

    if (q == NULL)
        c->other++;
    else if (strcmp(q, "maildrop") == 0)
        c->maildrop++;
    else if (strcmp(q, "incoming") == 0)
        c->incoming++;
    else if (strcmp(q, "active") == 0)
        c->active++;
    else if (strcmp(q, "deferred") == 0)
        c->deferred++;
    else if (strcmp(q, "hold") == 0)
        c->hold++;
    else
        c->other++;
}

int
pfqueue_count(const char *path, const char *config_dir, PFQUEUE_COUNTS *counts, char **error_r)
{
    BUF *out = buf_new(65536);
    char *why = NULL;
    int truncated, status, ret, bad;

    memset(counts, 0, sizeof(*counts));
    ret = pfqueue_run(path, config_dir, out, &truncated, &status, &why);
    if (ret == 0) {
        *error_r = buf_asprintf("postqueue %s (postfix.postqueue_path) is not an executable absolute path", path);
    } else if (ret < 0) {
        *error_r = buf_asprintf("%s -c %s -j: %s %d: %s", path, config_dir,
                                status < 0 ? "could not run," : "exit status", status, *why ? why : "no message");
    } else if (truncated) {
        *error_r = buf_asprintf("%s -c %s -j: more than %u bytes of output: the queue is too large to count this way",
                                path, config_dir, PFQUEUE_OUTPUT_MAX);
        ret = 0;
    } else if ((bad = pfqueue_parse(buf_cstr(out), 0, pfqueue_count_entry, counts)) > 0) {
        *error_r = buf_asprintf("%s -c %s -j: %d line%s", path, config_dir, bad,
                                bad == 1 ? " was not a JSON object" : "s were not JSON objects");
        ret = 0;
    }
    mem_free(why);
    buf_free(out);
    return ret > 0 ? 0 : -1;
}
