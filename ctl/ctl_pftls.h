/*
 * ctl_pftls.h -- `postgatectl postfix tls`: SMTP TLS the Postfix way (Postal's "SMTP TLS"
 * chapter): STARTTLS on the SMTP port, a submission service (587, TLS required) and
 * implicit TLS on 465, with modern protocol settings, all through postconf and undone
 * exactly by `postfix tls --off` or `postfix disable`; and the certificate checks
 * `postfix check` runs.
 *
 * Must never: install a certificate that is expired, unreadable or not matching its
 * key, take over a submission or smtps service postgate did not add, or let AUTH happen
 * before TLS on a wired instance (smtpd_tls_auth_only).
 */
#ifndef PG_CTL_PFTLS_H
#define PG_CTL_PFTLS_H

#include <stdio.h>

#include "ctl.h"
#include "ctl_postconf.h"

/* The services `postfix tls` adds carry these markers (MARKER + what). */
#define TLS_SMTPS "smtps"
#define TLS_SUBMISSION "submission"

/* postgatectl postfix tls --cert FILE --key FILE [--smtps [HOST:]PORT | --no-smtps]
 * [--submission [HOST:]PORT | --no-submission] [-C DIR] [--reload]; or --off. */
int ctl_postfix_tls(CTL_CONTEXT *ctx, int argc, char **argv);
/* For `postfix check`: the certificate and key main.cf names (smtpd_tls_chain_files),
 * when it names any, exist, match and are not expired. Writes each problem to out; their count. */
int pftls_check(const PF *pf, FILE *out);
/* 1 when a marked master.cf service is one `postfix tls` manages. */
int pftls_owns(const PF *pf, const char *service);

#endif
