/*
 * ipchoice.c -- the pool address of an outgoing message (ipchoice.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/ipchoice.h"
#include "mail/ippool.h"
#include "mail/message.h"
#include "util/mem.h"

int
ipchoice_pattern_match(const char *pattern, const char *address)
{
    const char *at = strrchr(address, '@');

    if (*pattern == '\0' || at == NULL)
        return 0;
    if (*pattern == '@')
        return strcasecmp(pattern + 1, at + 1) == 0;
    if (strchr(pattern, '@') != NULL)
        return strcasecmp(pattern, address) == 0;
    return strcasecmp(pattern, at + 1) == 0;
}

/* Whether one of the newline-separated patterns of text matches address. */
static int
any_pattern(const char *text, const char *address)
{
    const char *p = text;

    while (*p) {
        size_t len = strcspn(p, "\r\n");

        if (len > 0) {
            char *one = mem_strndup(p, len);
            int hit = ipchoice_pattern_match(one, address);

            mem_free(one);
            if (hit)
                return 1;
        }
        p += len;
        p += strspn(p, "\r\n");
    }
    return 0;
}

int
ipchoice_rule_applies(const char *from_text, const char *to_text, const char *mail_from,
                      const char *const *rcpts, size_t nrcpts)
{
    if (from_text && mail_from && any_pattern(from_text, mail_from))
        return 1;
    if (to_text == NULL || nrcpts == 0)
        return 0;
    for (size_t i = 0; i < nrcpts; i++)
        if (!any_pattern(to_text, rcpts[i]))
            return 0;
    return 1;
}

size_t
ipchoice_pick(const long long *weights, size_t n, unsigned long long r)
{
    unsigned long long total = 0;

    for (size_t i = 0; i < n; i++)
        total += weights[i] > 0 ? (unsigned long long) weights[i] : 0;
    if (total == 0)
        return (size_t) (r % n);
    r %= total;
    for (size_t i = 0; i < n; i++) {
        unsigned long long w = weights[i] > 0 ? (unsigned long long) weights[i] : 0;

        if (r < w)
            return i;
        r -= w;
    }
    return n - 1;                       /* not reached */
}

unsigned long long
ipchoice_hash(const char *token)
{
    unsigned long long h = 14695981039346656037ULL;

    for (const unsigned char *p = (const unsigned char *) token; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    /* FNV's low bits mix poorly for short keys: fold the high half in. */
    return h ^ (h >> 29);
}

/* The day's share of an address on day (1 the day it started) of the warm-up plan; -1 when
 * it is past the plan (warm) or not warming up. */
static long long
warmup_cap(const CONF_LIST *plan, long long day)
{
    if (plan == NULL || day < 1 || (size_t) day > plan->count)
        return -1;
    return atoll(plan->items[day - 1]);
}

/* The weighted choice within pool_id: 1 (*choice_r), 0 no ready address, < 0 error. With
 * an address warming up, an address that has sent its day's share weighs nothing (unless
 * every one has: then the priorities alone decide), and the choice is recorded so that the
 * message keeps it. */
static int
pick_in_pool(DB *db, const CONF_LIST *plan, unsigned long long pool_id, const char *token, const char *why,
             IPCHOICE *choice_r)
{
    DB_ROWS rows = {0};
    int ret = ippool_ready_addresses(db, pool_id, &rows);

    if (ret > 0) {
        const IPPOOL_WEIGHT_ROW *a = rows.v;
        long long *weights = mem_alloc(rows.n * sizeof(*weights)), total = 0;
        unsigned long long earlier = 0;
        int warming = 0, found = 0;
        size_t i;

        for (i = 0; i < rows.n; i++) {
            long long cap = warmup_cap(plan, a[i].warmup_day);

            warming |= cap >= 0;
            weights[i] = cap >= 0 && a[i].today >= cap ? 0 : a[i].priority;
            total += weights[i];
        }
        if (warming && (ret = ippool_warmup_choice(db, token, &earlier)) > 0)
            for (i = 0; i < rows.n && !found; i++)
                found = a[i].id == earlier;
        if (ret >= 0) {
            if (found) {
                i--;
            } else {
                if (total == 0)
                    for (i = 0; i < rows.n; i++)
                        weights[i] = a[i].priority;
                i = ipchoice_pick(weights, rows.n, ipchoice_hash(token));
            }
            choice_r->address_id = a[i].id;
            choice_r->pool_id = pool_id;
            choice_r->why = why;
            ret = 1;
            if (warming && !found) {
                unsigned long long chosen = a[i].id;

                if ((ret = ippool_warmup_record(db, token, &chosen, warmup_cap(plan, a[i].warmup_day) >= 0)) >= 0) {
                    choice_r->address_id = chosen;
                    ret = 1;
                }
            }
        }
        mem_free(weights);
    }
    db_rows_free(&rows);
    return ret;
}

int
ipchoice_for_token(DB *db, const CONF_LIST *plan, const char *token, IPCHOICE *choice_r)
{
    DB_ROWS rcpts = {0}, rules = {0};
    unsigned long long server_id, org_id, pool_id;
    char *mail_from = NULL;
    int ret;

    if ((ret = message_envelope(db, token, &server_id, &mail_from, &rcpts)) <= 0)
        return ret;
    if ((ret = ippool_server_delivery(db, server_id, &org_id, &pool_id)) <= 0)
        goto done;
    if ((ret = ippool_delivery_rules(db, org_id, server_id, &rules)) < 0)
        goto done;
    ret = 0;
    for (size_t i = 0; i < rules.n && ret == 0; i++) {
        const IPPOOL_DELIVERY_RULE_ROW *r = &((const IPPOOL_DELIVERY_RULE_ROW *) rules.v)[i];

        if (ipchoice_rule_applies(r->from_text, r->to_text, mail_from, (const char *const *) rcpts.v, rcpts.n))
            ret = pick_in_pool(db, plan, r->pool_id, token, r->server_rule ? "server rule" : "organization rule",
                               choice_r);
    }
    if (ret == 0 && pool_id != 0)
        ret = pick_in_pool(db, plan, pool_id, token, "server pool", choice_r);

done:
    db_rows_free(&rules);
    db_rows_free(&rcpts);
    mem_free(mail_from);
    return ret;
}
