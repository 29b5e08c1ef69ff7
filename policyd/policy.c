/*
 * policy.c -- the policy delegation protocol: name=value lines up to an empty line,
 * answered with "action=...\n\n" (policy.h). Lines logged while a request is answered
 * carry its queue_id (the log context, msg.h). Must never answer a permit when a
 * lookup failed.
 *
 * The SMTP-IP lookup of a client without SASL (every message from the Internet asks it at
 * RCPT) is kept for milter.cache_ttl, found or not, as postgate-milter keeps the same
 * lookup: a new, changed or deleted SMTP-IP credential counts within that time at both.
 * A failed lookup (the database, or networks of several servers) is never kept.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/credential.h"
#include "mail/hosting.h"
#include "policy.h"
#include "stats.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/ttlcache.h"

#define A_GONE "REJECT 5.7.8 Credential no longer valid"
#define A_SUSPENDED "REJECT 5.7.1 Mail server suspended"
#define A_RATE "DEFER_IF_PERMIT 4.7.1 Rate limit reached, try again later"
#define A_RATE_PERMITTED "DEFER 4.7.1 Rate limit reached, try again later"
#define A_TEMP_SASL "DEFER_IF_PERMIT 4.3.0 Temporary lookup failure"
#define A_TEMP "DEFER 4.3.0 Temporary lookup failure"

typedef struct request {
    char *lines[POLICY_MAX_ATTRS];      /* "name=value" */
    size_t count;
} REQUEST;

static const char *
attr(const REQUEST *rq, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < rq->count; i++)
        if (strncmp(rq->lines[i], name, len) == 0 && rq->lines[i][len] == '=')
            return rq->lines[i] + len + 1;
    return "";
}

static void
request_clear(REQUEST *rq)
{
    for (size_t i = 0; i < rq->count; i++)
        mem_free(rq->lines[i]);
    rq->count = 0;
}

/* 1 when the sender named by key may send one more recipient (and counts it). */
static int
within_rate(PD_CTX *ctx, const PGCONF *cfg, const char *key, int counts)
{
    int first = 0;

    if (cfg->policyd_rate_limit == 0 || !counts)
        return 1;
    if (throttle_take(ctx->rates, key, cfg->policyd_rate_limit, cfg->policyd_rate_limit_window, &first))
        return 1;
    if (first)
        msg_warn("policy: %s reached the rate limit of %lld recipients per %lld s", key,
                 cfg->policyd_rate_limit, cfg->policyd_rate_limit_window);
    return 0;
}

/* A mailbox user's submission (the login name is the mailbox's address): still enabled, its
 * server live and not suspended, within the rate limit of that login. */
static const char *
decide_mailbox(PD_CTX *ctx, const PGCONF *cfg, const char *client, const char *login, int counts,
               const char **reason_r)
{
    HOSTING_LOGIN ml;
    char key[400];
    DB *db = dbpool_get(ctx->pool);
    int r = hosting_login(db, login, &ml, NULL);

    if (r < 0)
        msg_error("policy: client %s mailbox %.320s: lookup failed: %s", client, login, db_error(db));
    dbpool_put(ctx->pool, db);
    if (r < 0) {
        *reason_r = "database unavailable";
        return A_TEMP_SASL;
    }
    if (r == 0 || ml.server_id == 0) {
        *reason_r = "mailbox disabled or deleted since the login";
        return A_GONE;
    }
    if (ml.suspended) {
        *reason_r = "server or organization suspended";
        return A_SUSPENDED;
    }
    snprintf(key, sizeof(key), "mailbox %s", ml.address);
    if (!within_rate(ctx, cfg, key, counts)) {
        *reason_r = "rate limit";
        return A_RATE;
    }
    *reason_r = "authenticated mailbox";
    return "DUNNO";
}

typedef struct cached_ip {
    int found;
    CREDENTIAL cred;
} CACHED_IP;

static TTLCACHE *ip_cache;
static pthread_once_t ip_once = PTHREAD_ONCE_INIT;
static unsigned ip_ttl;

static void
ip_cache_init(void)
{
    ip_cache = ttlcache_new(ip_ttl, 4096, mem_free);
}

/* credential_by_ip() through the cache: 1 (*cred filled), 0 none, < 0 as it returns. */
static int
smtp_ip_credential(PD_CTX *ctx, const PGCONF *cfg, const char *client, CREDENTIAL *cred)
{
    CACHED_IP *c;
    DB *db;
    int r;

    ip_ttl = (unsigned) cfg->milter_cache_ttl;
    pthread_once(&ip_once, ip_cache_init);
    if ((c = ttlcache_get(ip_cache, client)) != NULL) {
        r = c->found;
        if (r)
            *cred = c->cred;
        ttlcache_release(ip_cache, c);
        return r;
    }
    db = dbpool_get(ctx->pool);
    r = credential_by_ip(db, cfg, client, cred);
    if (r < 0 && r != CREDENTIAL_ERR_AMBIGUOUS)
        msg_error("policy: client %s: SMTP-IP lookup failed: %s", client, db_error(db));
    dbpool_put(ctx->pool, db);
    if (r >= 0) {
        c = mem_zalloc(sizeof(*c));
        c->found = r > 0;
        if (r > 0)
            c->cred = *cred;
        ttlcache_put(ip_cache, client, c);
    }
    return r;
}

/* Looks up what the request needs; returns the action and sets *cred_id and *reason_r, a
 * static label for the log line of every answer (not an error: see msg.h for those). */
static const char *
decide(PD_CTX *ctx, const PGCONF *cfg, const REQUEST *rq, const char **reason_r, unsigned long long *cred_id)
{
    const char *client = attr(rq, "client_address"), *sasl = attr(rq, "sasl_username");
    const char *state = attr(rq, "protocol_state");
    int counts = *state == '\0' || strcasecmp(state, "RCPT") == 0;
    char key[128];
    CREDENTIAL cred;
    int r;
    DB *db;

    if (*sasl && strchr(sasl, '@') != NULL)
        return decide_mailbox(ctx, cfg, client, sasl, counts, reason_r);
    if (*sasl) {
        unsigned long long id;

        if (credential_id_from_identity(sasl, &id) < 0) {
            *reason_r = "login name is not a postgate credential";
            return A_GONE;
        }
        *cred_id = id;
        db = dbpool_get(ctx->pool);
        r = credential_by_id(db, id, &cred);
        if (r < 0)
            msg_error("policy: client %s credential %llu: lookup failed: %s", client, id, db_error(db));
        dbpool_put(ctx->pool, db);
        if (r < 0) {
            *reason_r = "database unavailable";
            return A_TEMP_SASL;
        }
        if (r == 0) {
            *reason_r = "credential deleted since the login";
            return A_GONE;
        }
        if (cred.suspended) {
            *reason_r = "server or organization suspended";
            return A_SUSPENDED;
        }
        credential_touch(id);
        snprintf(key, sizeof(key), "credential %llu", id);
        if (!within_rate(ctx, cfg, key, counts)) {
            *reason_r = "rate limit";
            return A_RATE;
        }
        *reason_r = "authenticated";
        return "DUNNO";
    }
    if (*client == '\0') {
        *reason_r = "no client_address in the request";
        return "DUNNO";
    }
    r = smtp_ip_credential(ctx, cfg, client, &cred);
    if (r < 0) {
        *reason_r = r == CREDENTIAL_ERR_AMBIGUOUS ? "SMTP-IP networks of several servers contain the client"
            : "database unavailable";
        return A_TEMP;
    }
    if (r > 0) {
        *cred_id = cred.id;
        if (cred.suspended) {
            *reason_r = "server or organization suspended";
            return A_SUSPENDED;
        }
        snprintf(key, sizeof(key), "credential %llu", cred.id);
        if (!within_rate(ctx, cfg, key, counts)) {
            *reason_r = "rate limit";
            return A_RATE_PERMITTED;
        }
        credential_touch(cred.id);
        *reason_r = "SMTP-IP credential";
        return "OK";
    }
    snprintf(key, sizeof(key), "client %.100s", client);
    if (!within_rate(ctx, cfg, key, counts)) {
        *reason_r = "rate limit";
        return A_RATE;
    }
    *reason_r = "no credential";
    return "DUNNO";
}

static int
answer(CONN *c, const REQUEST *rq, BUF *out)
{
    PGCONF *cfg = ctx_config(c->ctx);
    const char *request = attr(rq, "request"), *why = "", *action;
    unsigned long long cred_id = 0;
    char credtext[32] = "-";
    int r;

    /* Postfix sends the queue ID once it has one (RCPT with a queue file, DATA, END-OF-MESSAGE). */
    msg_context_set_queue_id(attr(rq, "queue_id"));
    if (strcmp(request, "smtpd_access_policy") != 0) {
        msg_warn("policy connection %lu: request type \"%.64s\" is not smtpd_access_policy; answering DUNNO",
                 c->id, request);
        action = "DUNNO";
    } else {
        action = decide(c->ctx, cfg, rq, &why, &cred_id);
    }
    conf_unref(cfg);
    if (cred_id)
        snprintf(credtext, sizeof(credtext), "%llu", cred_id);
    if (strcmp(action, "DUNNO") == 0 || strcmp(action, "OK") == 0)
        msg_debug("policy: client %.64s sasl=%.200s credential %s recipient %.200s: %s (%s)",
                  attr(rq, "client_address"), attr(rq, "sasl_username"), credtext, attr(rq, "recipient"),
                  action, why);
    else
        msg_info("policy: client %.64s sasl=%.200s credential %s recipient %.200s: %s (%s)",
                 attr(rq, "client_address"), attr(rq, "sasl_username"), credtext, attr(rq, "recipient"),
                 action, why);
    buf_reset(out);
    buf_printf(out, "action=%s\n\n", action);
    r = conn_write(c, buf_data(out), buf_len(out));
    msg_context_clear();
    return r;
}

void
policy_serve(CONN *c)
{
    REQUEST rq;
    BUF *line = buf_new(256), *out = buf_new(128);
    double started;
    int r;

    memset(&rq, 0, sizeof(rq));
    for (;;) {
        r = conn_read_line(c, line, POLICY_MAX_LINE, rq.count > 0);
        if (r == CONN_TOO_LONG) {
            msg_warn("policy connection %lu: attribute line longer than %d bytes; closing", c->id, POLICY_MAX_LINE);
            break;
        }
        if (r <= 0) {
            if (rq.count)
                msg_info("policy connection %lu: connection ended inside a request", c->id);
            break;
        }
        if (buf_len(line) == 0) {
            if (rq.count == 0) {
                msg_warn("policy connection %lu: empty request; closing", c->id);
                break;
            }
            started = clock_mono();
            r = answer(c, &rq, out);
            stats_request(STATS_POLICY, clock_mono() - started);
            request_clear(&rq);
            if (r < 0)
                break;
            continue;
        }
        if (strlen(buf_cstr(line)) != buf_len(line) || strchr(buf_cstr(line), '=') == NULL
            || buf_cstr(line)[0] == '=') {
            msg_warn("policy connection %lu: attribute line is not name=value; closing", c->id);
            break;
        }
        if (rq.count == POLICY_MAX_ATTRS) {
            msg_warn("policy connection %lu: more than %d attributes in a request; closing", c->id,
                     POLICY_MAX_ATTRS);
            break;
        }
        rq.lines[rq.count++] = mem_strdup(buf_cstr(line));
    }
    request_clear(&rq);
    buf_free(line);
    buf_free(out);
}
