/*
 * socketmap.c -- the socketmap protocol and its maps (socketmap.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mail/inbound.h"
#include "socketmap.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

/* The answer to one request: "OK ...", "NOTFOUND ", "TEMP ..." or "PERM ...". */
static char *
lookup(CONN *c, const char *request)
{
    const char *space = strchr(request, ' ');
    char map[32];
    PGCONF *cfg;
    DB *db;
    char *answer;
    int ret;

    if (space == NULL || space == request || (size_t) (space - request) >= sizeof(map) || space[1] == '\0')
        return mem_strdup("PERM malformed request: expected \"<map> <key>\"");
    snprintf(map, sizeof(map), "%.*s", (int) (space - request), request);
    if (strcmp(map, "domain") != 0 && strcmp(map, "recipient") != 0)
        return buf_asprintf("PERM unknown map \"%s\"", map);
    cfg = ctx_config(c->ctx);
    db = dbpool_get(c->ctx->pool);
    if (strcmp(map, "domain") == 0) {
        ret = inbound_domain(db, cfg, space + 1);
    } else if (space[1] == '@') {
        /* Postfix's "@domain" fallback: whole-domain acceptance is a '*' route, which the
         * address lookup already answers. */
        ret = 0;
    } else {
        INBOUND_TARGET t;

        ret = inbound_resolve(db, cfg, space + 1, &t);
        if (ret > 0 && t.kind == INBOUND_ROUTE && strcmp(t.mode, "Reject") == 0)
            ret = 0;
    }
    if (ret < 0) {
        msg_warn("socketmap %s \"%s\": database: %s", map, space + 1, db_error(db));
        answer = mem_strdup("TEMP database unavailable");
    } else {
        answer = mem_strdup(ret > 0 ? "OK yes" : "NOTFOUND ");
    }
    dbpool_put(c->ctx->pool, db);
    conf_unref(cfg);
    return answer;
}

void
socketmap_serve(CONN *c)
{
    BUF *request = buf_new(256);

    for (;;) {
        int r = conn_read_netstring(c, request, SOCKETMAP_MAX_REQUEST, 0);
        char *answer, *reply;
        int failed;

        if (r == CONN_TOO_LONG || r == CONN_BAD) {
            msg_warn("socketmap connection %lu: %s; closing", c->id,
                     r == CONN_BAD ? "not a netstring" : "request too long");
            break;
        }
        if (r <= 0)
            break;
        if (memchr(buf_data(request), '\0', buf_len(request))) {
            msg_warn("socketmap connection %lu: NUL in a request; closing", c->id);
            break;
        }
        answer = lookup(c, buf_cstr(request));
        reply = buf_asprintf("%zu:%s,", strlen(answer), answer);
        failed = conn_write(c, reply, strlen(reply)) < 0;
        mem_free(reply);
        mem_free(answer);
        if (failed)
            break;
    }
    buf_free(request);
}
