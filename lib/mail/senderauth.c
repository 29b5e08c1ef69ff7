/*
 * senderauth.c -- the report rule after a failed endpoint delivery (senderauth.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "mail/senderauth.h"

static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* The newest list the system has (the publicsuffix package), else libpsl's own. */
static void
psl_load(void)
{
    psl = psl_latest(NULL);
    if (psl == NULL)
        psl = psl_builtin();
}

/* The organizational domain of d, or d itself when libpsl cannot tell. */
static const char *
org_domain(const char *d)
{
    const char *r;

    pthread_once(&psl_once, psl_load);
    r = psl ? psl_registrable_domain(psl, d) : NULL;
    return r ? r : d;
}

int
senderauth_aligned(const char *sender_domain, const char *d)
{
    if (sender_domain == NULL || d == NULL || *sender_domain == '\0' || *d == '\0')
        return 0;
    if (strcasecmp(sender_domain, d) == 0)
        return 1;
    return strcasecmp(org_domain(sender_domain), org_domain(d)) == 0;
}

int
senderauth_report_allowed(const char *sender, const char *spf, const char *dkim, const char *dkim_domain,
                          const char *return_path_domain, char *why, size_t size)
{
    const char *at = sender ? strrchr(sender, '@') : NULL;
    const char *domain = at ? at + 1 : "";
    const char *s = spf && *spf ? spf : "unchecked", *k = dkim && *dkim ? dkim : "unchecked";

    if ((spf == NULL || *spf == '\0') && return_path_domain && *return_path_domain && *domain
        && strcasecmp(domain, return_path_domain) == 0) {
        snprintf(why, size, "the sender is a return path of this installation (the message came from postgate)");
        return 1;
    }
    if (strcmp(s, "pass") == 0) {
        snprintf(why, size, "the sender passed SPF");
        return 1;
    }
    if (strcmp(k, "pass") == 0 && senderauth_aligned(domain, dkim_domain)) {
        snprintf(why, size, "the sender's domain has a valid DKIM signature (d=%s)", dkim_domain);
        return 1;
    }
    if (strcmp(k, "pass") == 0)
        snprintf(why, size, "the sender was not authenticated (SPF %s, DKIM pass for d=%s, not aligned with %s)",
                 s, dkim_domain && *dkim_domain ? dkim_domain : "?", *domain ? domain : "the sender");
    else
        snprintf(why, size, "the sender was not authenticated (SPF %s, DKIM %s)", s, k);
    return 0;
}
