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

/* The loopback services: what, the configuration key of the address, address, daemon name. */
static void
loopback_specs(const PGCONF *cfg, const char *what[LOOPBACKS], const char *key[LOOPBACKS],
               const char *address[LOOPBACKS], const char *daemon[LOOPBACKS])
{
    static const char *const whats[LOOPBACKS] = {"release", "injection", "forward", "dovecot"};
    static const char *const keys[LOOPBACKS] = {"postfix.release_address", "postfix.injection_address",
                                                "postfix.forward_address", "postfix.dovecot_address"};

    for (int i = 0; i < LOOPBACKS; i++) {
        what[i] = whats[i];
        key[i] = keys[i];
    }
    address[0] = cfg->postfix_release_address;
    address[1] = cfg->postfix_injection_address;
    address[2] = cfg->postfix_forward_address;
    address[3] = cfg->postfix_dovecot_address;
    daemon[0] = cfg->postfix_release_daemon_name;
    daemon[1] = cfg->postfix_injection_daemon_name;
    daemon[2] = FORWARD_DAEMON_NAME;
    daemon[3] = DOVECOT_DAEMON_NAME;
}

int
mastercf_check(const PF *pf)
{
    const char *what[LOOPBACKS], *key[LOOPBACKS], *address[LOOPBACKS], *daemon[LOOPBACKS];

    loopback_specs(pf->cfg, what, key, address, daemon);
    for (int i = 0; i < LOOPBACKS; i++) {
        if (strncmp(address[i], "inet:", 5) != 0 || !inet_spec_ok(address[i] + 5)
            || strpbrk(address[i], " \t\r\n,{}=/") != NULL) {
            msg_error("%s: \"%s\" is not inet:host:port", key[i], address[i]);
            return EX_CONFIG;
        }
        if (*daemon[i] == '\0' || strpbrk(daemon[i], " \t\r\n,=") != NULL) {
            msg_error("the daemon name of %s's service, \"%s\", must be one word", key[i], daemon[i]);
            return EX_CONFIG;
        }
        /* Each service its own address and daemon name: the milter tells them apart by the name. */
        for (int j = 0; j < i; j++) {
            if (strcmp(address[i], address[j]) == 0 || strcmp(daemon[i], daemon[j]) == 0) {
                msg_error("%s and %s (and their daemon names, \"%s\" and \"%s\") must differ",
                          key[j], key[i], daemon[j], daemon[i]);
                return EX_CONFIG;
            }
        }
    }
    return 0;
}

int
mastercf_load(PF *pf)
{
    const PGCONF *cfg = pf->cfg;
    const char *what[LOOPBACKS], *key[LOOPBACKS], *address[LOOPBACKS], *daemon[LOOPBACKS];
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

    loopback_specs(cfg, what, key, address, daemon);
    for (int i = 0; i < LOOPBACKS; i++) {
        LOOPBACK *lb = &pf->loop[i];

        lb->what = what[i];
        lb->key = key[i];
        lb->service = buf_asprintf("%s/inet", address[i] + 5);
        /* Every one runs the milter: a forward or a Sieve reply is recorded, signed and limited
         * as outgoing mail. */
        lb->line = buf_asprintf(
            "%s inet n - n - - smtpd -o syslog_name=" MARKER "%s"
            " -o milter_macro_daemon_name=%s -o smtpd_sasl_auth_enable=no"
            " -o mynetworks=127.0.0.0/8,[::1]/128 -o smtpd_client_restrictions=permit_mynetworks,reject"
            " -o smtpd_relay_restrictions=permit_mynetworks,reject -o smtpd_recipient_restrictions="
            " -o smtpd_milters=%s",
            address[i] + 5, lb->what, daemon[i], pf->sock_postfix[SOCK_MILTER]);
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
