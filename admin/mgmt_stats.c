/*
 * mgmt_stats.c -- a server's mail volume for the overview charts,
 * GET …/servers/{server}/statistics?period=hour|day&count=N (doc/api.md): incoming,
 * outgoing, bounced and held messages per UTC hour or day, every bucket of the range
 * present (zeros included) so a chart needs no gap filling. The counts come from
 * lib/mail/message.c's message_statistics() over the message log.
 *
 * Must never: count another server's messages, or accept a range without a bound
 * (count is at most 168 hours or 366 days).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "mail/message.h"
#include "mgmt.h"
#include "util/mem.h"

#define HOURS_DEFAULT 24
#define HOURS_MAX 168
#define DAYS_DEFAULT 30
#define DAYS_MAX 366

static void
mgmt_v2_statistics(HTTP_REQUEST *req, void *arg)
{
    unsigned long long server_id = 0;
    const char *period = NULL, *count_s = NULL;
    long long count = 0;
    int hourly = 1;
    DB_ROWS rows = {0};
    time_t now = time(NULL), step, first;
    char since[32];
    MGMT_CALL c;
    MGMT_ORG o = {0};
    int ret;

    if (mgmt_call_begin(&c, req, arg, 0) != 0 || mgmt_load_server(&c, AUTH_ROLE_READONLY, &o, &server_id) != 0)
        goto out;
    period = http_query(req, "period");
    if (period == NULL || *period == '\0' || strcmp(period, "hour") == 0) {
        period = "hour";
    } else if (strcmp(period, "day") == 0) {
        hourly = 0;
    } else {
        mgmt_field_error(&c, "period", "must be hour or day");
    }
    count = hourly ? HOURS_DEFAULT : DAYS_DEFAULT;
    if ((count_s = http_query(req, "count")) != NULL && *count_s) {
        char *end = NULL;
        long long n = strtoll(count_s, &end, 10);
        long long max = hourly ? HOURS_MAX : DAYS_MAX;

        if (end == count_s || *end != '\0' || n < 1 || n > max || strspn(count_s, "0123456789") != strlen(count_s))
            mgmt_field_error(&c, "count", "must be a whole number from 1 to %lld", max);
        else
            count = n;
    }
    if (mgmt_has_errors(&c)) {
        mgmt_reply_invalid(&c);
        goto out;
    }
    /* Buckets are whole UTC hours or days; the last one is the current (partial) one. */
    step = hourly ? 3600 : 86400;
    first = now - now % step - (time_t) (count - 1) * step;
    {
        struct tm tm;

        gmtime_r(&first, &tm);
        strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
    }
    if ((ret = message_statistics(c.db, server_id, hourly, since, &rows)) < 0) {
        mgmt_reply_db(&c, "statistics", ret);
        goto out;
    }
    {
        json_t *buckets = json_array(), *totals;
        const MESSAGE_STATS_ROW *st = rows.v;
        size_t r = 0;
        json_int_t sum[4] = {0, 0, 0, 0};
        static const char *const names[] = {"incoming", "outgoing", "bounced", "held"};

        for (long long i = 0; i < count; i++) {
            time_t start = first + (time_t) i * step;
            struct tm tm;
            char key[32], iso[32];
            json_t *b;

            gmtime_r(&start, &tm);
            strftime(key, sizeof(key), "%Y-%m-%d %H:%M:%S", &tm);
            strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
            b = json_pack("{s:s}", "start", iso);
            /* Rows are ordered by bucket, as the loop is; skip any before the range. */
            while (r < rows.n && strcmp(st[r].start, key) < 0)
                r++;
            {
                const MESSAGE_STATS_ROW *m = r < rows.n && strcmp(st[r].start, key) == 0 ? &st[r] : NULL;
                const long long n[4] = {m ? m->incoming : 0, m ? m->outgoing : 0, m ? m->bounced : 0, m ? m->held : 0};

                for (int k = 0; k < 4; k++) {
                    json_int_t v = n[k] > 0 ? (json_int_t) n[k] : 0;    /* DB_COL_NUM: -1 for SQL NULL */

                    sum[k] += v;
                    json_object_set_new(b, names[k], json_integer(v));
                }
            }
            json_array_append_new(buckets, b);
        }
        totals = json_object();
        for (int k = 0; k < 4; k++)
            json_object_set_new(totals, names[k], json_integer(sum[k]));
        mgmt_reply_ok(&c, MHD_HTTP_OK, json_pack("{s:s, s:I, s:o, s:o}", "period", hourly ? "hour" : "day",
                                            "count", (json_int_t) count, "buckets", buckets, "totals", totals));
    }
out:
    db_rows_free(&rows);
    mgmt_org_free(&o);
    mgmt_call_end(&c);
}

const MGMT_ROUTE mgmt_stats_routes[] = {
    {"GET", "/api/v2/organizations/{}/servers/{}/statistics", mgmt_v2_statistics},
    {NULL, NULL, NULL},
};
