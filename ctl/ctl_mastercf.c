/*
 * ctl_mastercf.c -- ctl_mastercf.h: postgate's master.cf services read through postconf -P
 * and -M, and compared with what enable writes.
 */
#include "config.h"

#include <string.h>

#include "ctl_mastercf.h"
#include "ctl_pfpools.h"
#include "ctl_pftls.h"
#include "util/mem.h"
#include "util/msg.h"

int
mastercf_check(const PF *pf)
{
    const PGCONF *cfg = pf->cfg;
    int status = 0;

    {
        const char *addresses[LOOPBACKS] = {cfg->postfix_release_address, cfg->postfix_injection_address,
                                            cfg->postfix_forward_address};
        const char *daemon_names[LOOPBACKS] = {cfg->postfix_release_daemon_name, cfg->postfix_injection_daemon_name,
                                               FORWARD_DAEMON_NAME};
        static const char *const keys[LOOPBACKS] = {"postfix.release", "postfix.injection", "postfix.forward"};

        for (int i = 0; i < LOOPBACKS; i++) {
            if (strncmp(addresses[i], "inet:", 5) != 0 || !inet_spec_ok(addresses[i] + 5)
                || strpbrk(addresses[i], " \t\r\n,{}=/") != NULL) {
                msg_error("%s_address: \"%s\" is not inet:host:port", keys[i], addresses[i]);
                status = EX_CONFIG;
                goto done;
            }
            if (*daemon_names[i] == '\0' || strpbrk(daemon_names[i], " \t\r\n,=") != NULL) {
                msg_error("%s_daemon_name: \"%s\" must be one word", keys[i], daemon_names[i]);
                status = EX_CONFIG;
                goto done;
            }
        }
        if (strcmp(addresses[0], addresses[1]) == 0 || strcmp(daemon_names[0], daemon_names[1]) == 0) {
            msg_error("postfix.release_* and postfix.injection_* must differ in address and daemon name");
            status = EX_CONFIG;
            goto done;
        }
        if (strcmp(addresses[2], addresses[0]) == 0 || strcmp(addresses[2], addresses[1]) == 0
            || strcmp(daemon_names[0], FORWARD_DAEMON_NAME) == 0 || strcmp(daemon_names[1], FORWARD_DAEMON_NAME) == 0) {
            msg_error("postfix.forward_address must differ from the release and injection addresses (and "
                      "\"" FORWARD_DAEMON_NAME "\" is its daemon name)");
            status = EX_CONFIG;
            goto done;
        }
    }

done:
    return status;
}

int
mastercf_load(PF *pf)
{
    const PGCONF *cfg = pf->cfg;
    BUF *out = buf_new(4096);
    int status;

    /* Services with the marker: "svc/type/syslog_name = postfix/postgate-..." */
    buf_reset(out);
    if ((status = POSTCONF(pf, out, "-P")) != 0)
        goto done;
    {
        KV_LIST all = {NULL, 0};

        kv_parse(&all, buf_cstr(out));
        for (size_t i = 0; i < all.count; i++) {
            char *slash = strrchr(all.items[i].name, '/');

            if (slash && strcmp(slash + 1, "syslog_name") == 0
                && strncmp(all.items[i].value, MARKER, strlen(MARKER)) == 0)
                kv_add(&pf->marked, all.items[i].name, (size_t) (slash - all.items[i].name),
                       all.items[i].value);
        }
        kv_free(&all);
    }

    for (int i = 0; i < LOOPBACKS; i++) {
        LOOPBACK *lb = &pf->loop[i];
        const char *address = i == 0 ? cfg->postfix_release_address
            : i == 1 ? cfg->postfix_injection_address : cfg->postfix_forward_address;
        const char *name = i == 0 ? cfg->postfix_release_daemon_name
            : i == 1 ? cfg->postfix_injection_daemon_name : FORWARD_DAEMON_NAME;

        lb->what = i == 0 ? "release" : i == 1 ? "injection" : "forward";
        lb->key = i == 0 ? "postfix.release_address" : i == 1 ? "postfix.injection_address" : "postfix.forward_address";
        lb->service = buf_asprintf("%s/inet", address + 5);
        /* Every one runs the milter: a forward is recorded, signed and limited as outgoing mail. */
        lb->line = buf_asprintf(
            "%s inet n - n - - smtpd -o syslog_name=" MARKER "%s"
            " -o milter_macro_daemon_name=%s -o smtpd_sasl_auth_enable=no"
            " -o mynetworks=127.0.0.0/8,[::1]/128 -o smtpd_client_restrictions=permit_mynetworks,reject"
            " -o smtpd_relay_restrictions=permit_mynetworks,reject -o smtpd_recipient_restrictions="
            " -o smtpd_milters=%s",
            address + 5, lb->what, name, pf->sock_postfix[SOCK_MILTER]);
        lb->ours = kv_get(&pf->marked, lb->service) != NULL;
        buf_reset(out);
        if ((status = POSTCONF(pf, out, "-M", lb->service)) != 0)
            goto done;
        lb->now = mem_strdup(buf_cstr(out));
        lb->now[strcspn(lb->now, "\n")] = '\0';
    }
    buf_reset(out);
    if ((status = POSTCONF(pf, out, "-M", "postlog/unix-dgram")) != 0)
        goto done;
    pf->postlog_present = buf_len(out) > 0;

done:
    buf_free(out);
    return status;
}

/* Whether a loopback service exists exactly as enable writes it. */
int
loopback_ok(const LOOPBACK *lb)
{
    return *lb->now && same_value(lb->now, lb->line);
}

/* Marked services enable would not add now (a loopback service at an old address); the
 * TLS services are `postfix tls`'s, the pool transports ctl_pfpools.c's. */
int
is_stale(const PF *pf, const char *service)
{
    for (int i = 0; i < LOOPBACKS; i++)
        if (strcmp(service, pf->loop[i].service) == 0)
            return 0;
    return strcmp(service, "postlog/unix-dgram") != 0 && !pftls_owns(pf, service) && !pfpools_owns(service);
}
