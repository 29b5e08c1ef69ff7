/*
 * ctl_pftls.c -- `postgatectl postfix tls` and the certificate part of `postfix check`
 * (ctl_pftls.h).
 *
 * The main.cf parameters it sets go into DIR/postgate.state like enable's, so `--off`
 * and `postfix disable` give back exactly what was there before; its master.cf services
 * carry the marker (MARKER "smtps", MARKER "submission").
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctl_mastercf.h"
#include "ctl_pfstate.h"
#include "ctl_pftls.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define EXPIRY_WARN_DAYS 14
#define NTLS_PARAMS 8

/* The TLS parameters and their values (chain: "KEY, CERT" in Postfix 3.4's order). */
static void
tls_params(const char *key, const char *cert, const char *names[NTLS_PARAMS], char *values[NTLS_PARAMS])
{
    static const char *const n[NTLS_PARAMS] = {
        "smtpd_tls_chain_files", "smtpd_tls_security_level", "smtpd_tls_auth_only", "smtpd_tls_protocols",
        "smtpd_tls_mandatory_protocols", "smtpd_tls_mandatory_ciphers", "smtpd_tls_received_header",
        "smtpd_tls_loglevel",
    };

    for (int i = 0; i < NTLS_PARAMS; i++)
        names[i] = n[i];
    values[0] = key ? buf_asprintf("%s, %s", key, cert) : NULL;
    values[1] = mem_strdup("may");              /* STARTTLS offered on the SMTP port */
    values[2] = mem_strdup("yes");              /* no password before TLS */
    values[3] = mem_strdup(">=TLSv1.2");
    values[4] = mem_strdup(">=TLSv1.2");
    values[5] = mem_strdup("high");
    values[6] = mem_strdup("yes");
    values[7] = mem_strdup("1");
}

/* ---------------------------------------------------------------- certificates */

/*
 * Checks a certificate file (PEM, the server's certificate first) and its key: readable,
 * matching, not expired. 0 fine (*warning filled when it expires soon), else the problem
 * in why.
 */
static int
cert_problem(const char *cert_path, const char *key_path, char *why, size_t size, char *warning, size_t wsize)
{
    FILE *fp;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    int ret = -1, days = 0, secs = 0;

    *warning = '\0';
    if ((fp = fopen(cert_path, "r")) == NULL) {
        snprintf(why, size, "certificate %s cannot be read", cert_path);
        return -1;
    }
    cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (cert == NULL) {
        snprintf(why, size, "%s holds no PEM certificate", cert_path);
        goto done;
    }
    if ((fp = fopen(key_path, "r")) == NULL) {
        snprintf(why, size, "key %s cannot be read", key_path);
        goto done;
    }
    key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    if (key == NULL) {
        snprintf(why, size, "%s holds no PEM private key (or it is encrypted)", key_path);
        goto done;
    }
    if (X509_check_private_key(cert, key) != 1) {
        snprintf(why, size, "key %s does not match certificate %s", key_path, cert_path);
        goto done;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
        snprintf(why, size, "certificate %s has expired", cert_path);
        goto done;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
        snprintf(why, size, "certificate %s is not valid yet", cert_path);
        goto done;
    }
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) == 1 && days < EXPIRY_WARN_DAYS)
        snprintf(warning, wsize, "certificate %s expires in %d day%s", cert_path, days, days == 1 ? "" : "s");
    ret = 0;
done:
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return ret;
}

int
pftls_check(const PF *pf, FILE *out)
{
    const char *chain = kv_get(&pf->explicit, "smtpd_tls_chain_files");
    char *copy, *key, *cert, why[512], warning[256];
    int problems = 0;

    if (chain == NULL || *chain == '\0')
        return 0;
    copy = mem_strdup(chain);
    key = strtok(copy, ", \t");
    cert = strtok(NULL, ", \t");
    if (key == NULL || cert == NULL)
        fprintf(out, "main.cf: smtpd_tls_chain_files \"%s\" does not name a key and a certificate\n", chain), problems++;
    else if (cert_problem(cert, key, why, sizeof(why), warning, sizeof(warning)) < 0)
        fprintf(out, "TLS: %s\n", why), problems++;
    else if (*warning)
        msg_warn("TLS: %s: renew it", warning);
    mem_free(copy);
    return problems;
}

int
pftls_owns(const PF *pf, const char *service)
{
    const char *marker = kv_get(&pf->marked, service);

    return marker && (strcmp(marker, MARKER TLS_SMTPS) == 0 || strcmp(marker, MARKER TLS_SUBMISSION) == 0);
}

/* ---------------------------------------------------------------- the command */

typedef struct tls_service {
    const char *what;                   /* TLS_SMTPS, TLS_SUBMISSION */
    const char *address;                /* "[HOST:]PORT", or NULL: not wanted */
    const char *options;                /* its -o settings besides the marker */
    const char *taken_by[2];            /* service names the same port usually has */
} TLS_SERVICE;

/* A master.cf service name (HOST:PORT or PORT) that Postfix accepts. */
static int
address_ok(const char *a)
{
    const char *port = strrchr(a, ':');

    port = port ? port + 1 : a;
    return *port && strspn(port, "0123456789") == strlen(port) && strpbrk(a, " \t,=/{}") == NULL;
}

/* Whether service name svc (without "/inet") exists in master.cf and is not ours. */
static int
foreign_service(PF *pf, const char *svc, int *status_r)
{
    char *name = buf_asprintf("%s/inet", svc);
    BUF *out = buf_new(256);
    int foreign = 0;

    if ((*status_r = POSTCONF(pf, out, "-M", name)) == 0)
        foreign = buf_len(out) > 0 && !pftls_owns(pf, name);
    buf_free(out);
    mem_free(name);
    return foreign;
}

static int
usage(void)
{
    msg_error("usage: postgatectl postfix tls --cert FILE --key FILE [--smtps [HOST:]PORT | --no-smtps]");
    msg_error("       [--submission [HOST:]PORT | --no-submission] [-C POSTFIX_CONFIG_DIR] [--reload]");
    msg_error("       postgatectl postfix tls --off [-C POSTFIX_CONFIG_DIR] [--reload]");
    return EX_USAGE;
}

/* Sets the parameters whose value differs (recording the old ones) and adds the services. */
static int
tls_on(PF *pf, const char *cert, const char *key, TLS_SERVICE *svc, int nsvc, int *changed_r)
{
    const char *names[NTLS_PARAMS];
    char *values[NTLS_PARAMS], *changes[NTLS_PARAMS];
    size_t nchanges = 0;
    STATE st = {NULL, 0, 0};
    BUF *out = buf_new(1024);
    int status;

    tls_params(key, cert, names, values);
    if ((status = state_load(pf, &st)) != 0)
        goto done;
    for (int i = 0; i < nsvc; i++) {
        if (svc[i].address == NULL)
            continue;
        for (int k = 0; k < 3 && status == 0; k++) {
            const char *name = k < 2 ? svc[i].taken_by[k] : svc[i].address;

            if (foreign_service(pf, name, &status)) {
                msg_error("%s/master.cf already has a service %s/inet that postgate did not add: remove it, or "
                          "pass --no-%s", pf->dir, name, svc[i].what);
                status = EX_CONFIG;
            }
        }
        if (status)
            goto done;
    }
    {
        static const char *const files[] = {"main.cf", "master.cf"};

        for (int i = 0; i < 2 && status == 0; i++) {
            char *src = path_join(pf->dir, files[i]), *dst = buf_asprintf("%s%s", src, BACKUP_SUFFIX);
            int made;

            if ((status = backup_file(src, dst, &made)) == 0 && made)
                printf("saved %s\n", dst);
            mem_free(src);
            mem_free(dst);
        }
        if (status)
            goto done;
    }
    buf_reset(out);
    if ((status = postconf_list(pf, out, NULL, NULL, (char **) names, NTLS_PARAMS)) != 0)
        goto done;
    {
        KV_LIST now = {NULL, 0};
        size_t before = st.count;

        kv_parse(&now, buf_cstr(out));
        for (int i = 0; i < NTLS_PARAMS; i++) {
            const char *cur = kv_get(&now, names[i]);

            if (cur && same_value(cur, values[i]))
                continue;
            changes[nchanges++] = buf_asprintf("%s=%s", names[i], values[i]);
            if (!state_get(&st, names[i])) {
                const char *old = kv_get(&pf->explicit, names[i]);

                state_add(&st, names[i], strlen(names[i]), old != NULL, old);
            }
        }
        kv_free(&now);
        if (st.count != before && (status = state_save(pf, &st)) == 0)
            printf("%s %s/%s (the previous main.cf values)\n", st.exists ? "updated" : "saved", pf->dir, STATE_FILE);
    }
    if (status == 0 && nchanges && (status = postconf_list(pf, NULL, "-e", NULL, changes, nchanges)) == 0) {
        *changed_r = 1;
        for (size_t i = 0; i < nchanges; i++)
            printf("main.cf: %s\n", changes[i]);
    }
    for (int i = 0; i < nsvc && status == 0; i++) {
        char *arg, *name;
        BUF *cur = buf_new(256);

        if (svc[i].address == NULL) {
            buf_free(cur);
            continue;
        }
        name = buf_asprintf("%s/inet", svc[i].address);
        arg = buf_asprintf("%s=%s inet n - n - - smtpd -o syslog_name=" MARKER "%s %s", name, svc[i].address,
                           svc[i].what, svc[i].options);
        if ((status = POSTCONF(pf, cur, "-M", name)) == 0 && !same_value(buf_cstr(cur), strchr(arg, '=') + 1)
            && (status = POSTCONF(pf, NULL, "-M", arg)) == 0) {
            *changed_r = 1;
            printf("master.cf: %s service %s (%s)\n", buf_len(cur) ? "updated" : "added", name, svc[i].what);
        }
        buf_free(cur);
        mem_free(name);
        mem_free(arg);
    }
done:
    for (int i = 0; i < NTLS_PARAMS; i++)
        mem_free(values[i]);
    for (size_t i = 0; i < nchanges; i++)
        mem_free(changes[i]);
    state_free(&st);
    buf_free(out);
    return status;
}

/* Gives back what tls_on changed: the recorded TLS parameters and the two services. */
static int
tls_off(PF *pf, int *changed_r)
{
    const char *names[NTLS_PARAMS];
    char *values[NTLS_PARAMS], *removals[8];
    size_t nremovals = 0;
    STATE st = {NULL, 0, 0}, rest = {NULL, 0, 0};
    int status;

    tls_params(NULL, NULL, names, values);
    if ((status = state_load(pf, &st)) != 0)
        goto done;
    rest.exists = st.exists;
    for (size_t i = 0; i < st.count && status == 0; i++) {
        const STATE_ENTRY *e = &st.items[i];
        int tls = 0;

        for (int k = 0; k < NTLS_PARAMS; k++)
            tls |= strcmp(e->name, names[k]) == 0;
        if (!tls) {
            state_add(&rest, e->name, strlen(e->name), e->was_set, e->value);
            continue;
        }
        if (e->was_set) {
            char *arg = buf_asprintf("%s=%s", e->name, e->value);

            status = POSTCONF(pf, NULL, "-e", arg);
            mem_free(arg);
            printf("main.cf: %s = %s (restored)\n", e->name, e->value);
        } else if (kv_get(&pf->explicit, e->name)) {
            status = POSTCONF(pf, NULL, "-X", e->name);
            printf("main.cf: %s removed (it was not set before)\n", e->name);
        }
        *changed_r = 1;
    }
    for (size_t i = 0; i < pf->marked.count && nremovals < 8; i++)
        if (pftls_owns(pf, pf->marked.items[i].name))
            removals[nremovals++] = pf->marked.items[i].name;
    if (status == 0 && nremovals && (status = postconf_list(pf, NULL, "-MX", NULL, removals, nremovals)) == 0) {
        *changed_r = 1;
        for (size_t i = 0; i < nremovals; i++)
            printf("master.cf: removed service %s\n", removals[i]);
    }
    if (status == 0 && rest.count != st.count)
        status = state_save(pf, &rest);
    if (status == 0 && !*changed_r)
        printf("Postfix in %s has no TLS set by postgate: nothing changed.\n", pf->dir);
done:
    for (int i = 0; i < NTLS_PARAMS; i++)
        mem_free(values[i]);
    state_free(&st);
    state_free(&rest);
    return status;
}

int
ctl_postfix_tls(CTL_CONTEXT *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"cert", required_argument, NULL, 'c'}, {"key", required_argument, NULL, 'k'},
        {"smtps", required_argument, NULL, 's'}, {"no-smtps", no_argument, NULL, 'S'},
        {"submission", required_argument, NULL, 'u'}, {"no-submission", no_argument, NULL, 'U'},
        {"off", no_argument, NULL, 'o'}, {"config-directory", required_argument, NULL, 'C'},
        {"reload", no_argument, NULL, 'r'}, {NULL, 0, NULL, 0}
    };
    TLS_SERVICE svc[2] = {
        {TLS_SMTPS, "465", "-o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt", {"smtps", "465"}},
        {TLS_SUBMISSION, "587", "-o smtpd_tls_security_level=encrypt", {"submission", "587"}},
    };
    const char *cert = NULL, *key = NULL, *dir = ctx->cfg->postfix_config_directory;
    char why[512], warning[256];
    int opt, off = 0, reload = 0, changed = 0, status;
    PF pf;

    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "C:", options, NULL)) != -1) {
        switch (opt) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 's': svc[0].address = optarg; break;
        case 'S': svc[0].address = NULL; break;
        case 'u': svc[1].address = optarg; break;
        case 'U': svc[1].address = NULL; break;
        case 'o': off = 1; break;
        case 'C': dir = optarg; break;
        case 'r': reload = 1; break;
        default: return usage();
        }
    }
    if (optind != argc - 1)
        return usage();
    if (off && (cert || key)) {
        msg_error("postfix tls: --off takes no --cert or --key");
        return EX_USAGE;
    }
    if (!off) {
        if (cert == NULL || key == NULL || *cert != '/' || *key != '/') {
            msg_error("postfix tls: --cert and --key name the PEM files, by absolute path");
            return usage();
        }
        for (int i = 0; i < 2; i++) {
            if (svc[i].address && !address_ok(svc[i].address)) {
                msg_error("postfix tls: --%s \"%s\" is not [HOST:]PORT", svc[i].what, svc[i].address);
                return EX_USAGE;
            }
        }
        if (svc[0].address && svc[1].address && strcmp(svc[0].address, svc[1].address) == 0) {
            msg_error("postfix tls: --smtps and --submission need different ports");
            return EX_USAGE;
        }
        if (cert_problem(cert, key, why, sizeof(why), warning, sizeof(warning)) < 0) {
            msg_error("postfix tls: %s", why);
            return EX_DATAERR;
        }
        if (*warning)
            msg_warn("%s", warning);
    }
    if ((status = pf_open(&pf, ctx->cfg, dir)) == 0 && (status = pf_load(&pf)) == 0
        && (status = pf_load_settings(&pf)) == 0 && (status = mastercf_load(&pf)) == 0) {
        status = off ? tls_off(&pf, &changed) : tls_on(&pf, cert, key, svc, 2, &changed);
        if (status == 0 && !off)
            printf("Postfix in %s: %s\n", pf.dir, changed ? "TLS set" : "TLS already set as asked: nothing changed.");
        if (status == 0)
            status = pf_maybe_reload(&pf, reload, changed);
    }
    pf_close(&pf);
    return status;
}
