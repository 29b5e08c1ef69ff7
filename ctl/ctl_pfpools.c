/*
 * ctl_pfpools.c -- ctl_pfpools.h: the pool transports read through postconf -M and -n,
 * compared with the database and changed through postconf -M, -MX, -e and -X.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_mastercf.h"
#include "ctl_pfpools.h"
#include "mail/ippool.h"
#include "util/mem.h"
#include "util/msg.h"

int
pfpools_owns(const char *service)
{
    return strncmp(service, PFPOOLS_PREFIX, strlen(PFPOOLS_PREFIX)) == 0;
}

/* A HELO name postconf and Postfix take as one word: letters, digits, '-', '.'. */
static int
hostname_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 253)
        return 0;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') || *s == '-'
              || *s == '.'))
            return 0;
    return 1;
}

static int
ip_ok(int family, const char *s)
{
    unsigned char buf[16];

    return s == NULL || inet_pton(family, s, buf) == 1;
}

/* The master.cf entry of address a, or NULL after a warning when its values cannot be one. */
static char *
service_line(const IPPOOL_TRANSPORT_ROW *a)
{
    if (!hostname_ok(a->hostname) || !ip_ok(AF_INET, a->ipv4) || !ip_ok(AF_INET6, a->ipv6)
        || (a->ipv4 == NULL && a->ipv6 == NULL)) {
        msg_warn("IP pool address %llu: \"%s\" / \"%s\" / \"%s\" is not a usable address and host name; "
                 "no transport for it", a->id, a->ipv4 ? a->ipv4 : "", a->ipv6 ? a->ipv6 : "",
                 a->hostname ? a->hostname : "");
        return NULL;
    }
    /* An address of one family sends over that family only: never from the host's own
     * address of the other. */
    return buf_asprintf(PFPOOLS_PREFIX "%llu unix - - n - - smtp -o syslog_name=" MARKER "pool-%llu"
                        " -o smtp_helo_name=%s%s%s%s%s -o inet_protocols=%s",
                        a->id, a->id, a->hostname, a->ipv4 ? " -o smtp_bind_address=" : "", a->ipv4 ? a->ipv4 : "",
                        a->ipv6 ? " -o smtp_bind_address6=" : "", a->ipv6 ? a->ipv6 : "",
                        a->ipv4 && a->ipv6 ? "all" : a->ipv4 ? "ipv4" : "ipv6");
}

/* The first word of a master.cf line and its type: "name/type" (mem_free it), or NULL. */
static char *
line_service(const char *line)
{
    size_t n = strcspn(line, " \t"), t;
    const char *type = line + n;

    type += strspn(type, " \t");
    t = strcspn(type, " \t");
    if (n == 0 || t == 0)
        return NULL;
    return buf_asprintf("%.*s/%.*s", (int) n, line, (int) t, type);
}

static void
list_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mem_free(list[i]);
    mem_free(list);
}

/* Both: with out, only report (*changed_r counts the differences). */
static int
pools_apply(PF *pf, DB *db, FILE *out_report, int *changed_r)
{
    DB_ROWS rows = {0};
    const IPPOOL_TRANSPORT_ROW *addr;
    KV_LIST now = {NULL, 0};
    BUF *out = buf_new(4096);
    char **adds = NULL, **removals = NULL, **sets = NULL, **unsets = NULL, **wanted = NULL, **wanted_params = NULL;
    size_t nadds = 0, nremovals = 0, nsets = 0, nunsets = 0, nwanted = 0, nwanted_params = 0;
    unsigned long long *ready = NULL;
    size_t nready = 0;
    char *text = NULL;
    int ret, status = 0;

    *changed_r = 0;
    if (db && (ret = ippool_transports(db, &rows)) < 0) {
        msg_error("IP pools: reading the pool addresses: %s", db_error(db));
        status = ctl_db_status(ret);
        goto done;
    }
    addr = rows.v;
    /* master.cf as it is: the pool services, whole lines by "name/type". */
    if ((status = POSTCONF(pf, out, "-M")) != 0)
        goto done;
    text = mem_strdup(buf_cstr(out));
    for (char *line = text, *next; line && *line; line = next) {
        char *svc;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (pfpools_owns(line) && (svc = line_service(line)) != NULL) {
            kv_add(&now, svc, strlen(svc), line);
            mem_free(svc);
        }
    }
    adds = mem_alloc((rows.n + 1) * sizeof(*adds));
    wanted = mem_alloc((rows.n + 1) * sizeof(*wanted));
    wanted_params = mem_alloc((2 * rows.n + 1) * sizeof(*wanted_params));
    sets = mem_alloc((2 * rows.n + 1) * sizeof(*sets));
    ready = mem_alloc((rows.n + 1) * sizeof(*ready));
    for (size_t i = 0; i < rows.n; i++) {
        char *line = service_line(&addr[i]), *svc;
        const char *have;

        if (line == NULL)
            continue;
        svc = buf_asprintf(PFPOOLS_PREFIX "%llu/unix", addr[i].id);
        have = kv_get(&now, svc);
        if (have == NULL || !same_value(have, line))
            adds[nadds++] = buf_asprintf("%s=%s", svc, line);
        wanted[nwanted++] = svc;
        ready[nready++] = addr[i].id;
        for (int k = 0; k < 2; k++) {
            long long v = k == 0 ? addr[i].concurrency_limit : addr[i].rate_delay;
            char *name, *value;
            const char *cur;

            if (v < 0)
                continue;
            name = buf_asprintf(PFPOOLS_PREFIX "%llu_destination_%s", addr[i].id,
                                k == 0 ? "concurrency_limit" : "rate_delay");
            value = k == 0 ? buf_asprintf("%lld", v) : buf_asprintf("%llds", v);
            cur = kv_get(&pf->explicit, name);
            if (cur == NULL || strcmp(cur, value) != 0)
                sets[nsets++] = buf_asprintf("%s=%s", name, value);
            wanted_params[nwanted_params++] = name;
            mem_free(value);
        }
        mem_free(line);
    }
    removals = mem_alloc((now.count + 1) * sizeof(*removals));
    for (size_t i = 0; i < now.count; i++) {
        int keep = 0;

        for (size_t k = 0; k < nwanted && !keep; k++)
            keep = strcmp(now.items[i].name, wanted[k]) == 0;
        /* Only services carrying the marker are ours to remove. */
        if (!keep && kv_get(&pf->marked, now.items[i].name) != NULL)
            removals[nremovals++] = mem_strdup(now.items[i].name);
        else if (!keep)
            msg_warn("master.cf: service %s looks like an IP pool transport but has no postgate marker: left alone",
                     now.items[i].name);
    }
    unsets = mem_alloc((pf->explicit.count + 1) * sizeof(*unsets));
    for (size_t i = 0; i < pf->explicit.count; i++) {
        int keep = 0;

        if (!pfpools_owns(pf->explicit.items[i].name))
            continue;
        for (size_t k = 0; k < nwanted_params && !keep; k++)
            keep = strcmp(pf->explicit.items[i].name, wanted_params[k]) == 0;
        if (!keep)
            unsets[nunsets++] = mem_strdup(pf->explicit.items[i].name);
    }

    if (out_report) {
        for (size_t i = 0; i < nadds; i++)
            fprintf(out_report, "master.cf: IP pool transport %.*s is missing or different\n",
                    (int) strcspn(adds[i], "="), adds[i]);
        for (size_t i = 0; i < nsets; i++)
            fprintf(out_report, "main.cf: expected %s\n", sets[i]);
        for (size_t i = 0; i < nunsets; i++)
            fprintf(out_report, "main.cf: %s is no longer wanted\n", unsets[i]);
        for (size_t i = 0; i < nremovals; i++)
            fprintf(out_report, "master.cf: IP pool transport %s is no longer wanted\n", removals[i]);
        *changed_r = (int) (nadds + nsets + nunsets + nremovals);
        goto done;
    }
    /* Transports first, so the parameters never name a transport master.cf lacks. */
    if (nadds && (status = postconf_list(pf, NULL, "-M", NULL, adds, nadds)) == 0) {
        *changed_r = 1;
        for (size_t i = 0; i < nadds; i++)
            printf("master.cf: IP pool transport %.*s\n", (int) strcspn(adds[i], "="), adds[i]);
    }
    if (status == 0 && nsets && (status = postconf_list(pf, NULL, "-e", NULL, sets, nsets)) == 0) {
        *changed_r = 1;
        for (size_t i = 0; i < nsets; i++)
            printf("main.cf: %s\n", sets[i]);
    }
    if (status == 0 && nunsets && (status = postconf_list(pf, NULL, "-X", NULL, unsets, nunsets)) == 0) {
        *changed_r = 1;
        for (size_t i = 0; i < nunsets; i++)
            printf("main.cf: %s removed\n", unsets[i]);
    }
    if (status == 0 && nremovals && (status = postconf_list(pf, NULL, "-MX", NULL, removals, nremovals)) == 0) {
        *changed_r = 1;
        for (size_t i = 0; i < nremovals; i++)
            printf("master.cf: removed IP pool transport %s\n", removals[i]);
    }
    for (size_t i = 0; status == 0 && i < nready; i++) {
        if ((ret = ippool_mark_ready(db, ready[i])) < 0) {
            msg_error("IP pools: marking address %llu ready: %s", ready[i], db_error(db));
            status = ctl_db_status(ret);
        }
    }
    if (status == 0 && db)
        printf("IP pools: %zu transport%s in %s/master.cf.\n", nwanted, nwanted == 1 ? "" : "s", pf->dir);

done:
    list_free(adds, nadds);
    list_free(removals, nremovals);
    list_free(sets, nsets);
    list_free(unsets, nunsets);
    list_free(wanted, nwanted);
    list_free(wanted_params, nwanted_params);
    mem_free(ready);
    mem_free(text);
    kv_free(&now);
    db_rows_free(&rows);
    buf_free(out);
    return status;
}

int
pfpools_sync(PF *pf, DB *db, int *changed_r)
{
    return pools_apply(pf, db, NULL, changed_r);
}

int
pfpools_check(PF *pf, DB *db, FILE *out, int *problems_r)
{
    return pools_apply(pf, db, out, problems_r);
}
