/*
 * ctl_mastercf.h -- the master.cf services `postgatectl postfix` manages: the loopback
 * smtpd services (release, injection, forward) and postlogd, all carrying the marker
 * "-o syslog_name=postfix/postgate-..." so that disable removes exactly what enable added.
 *
 * Must never: treat a service without the marker as postgate's.
 */
#ifndef PG_CTL_MASTERCF_H
#define PG_CTL_MASTERCF_H

#include "ctl_postconf.h"

#define MARKER "postfix/postgate-"
#define POSTLOG_LINE "postlog unix-dgram n - n - 1 postlogd -o syslog_name=" MARKER "postlog"

/* Checks the loopback services' addresses and daemon names in the configuration (before
 * the instance's settings are read): 0, or EX_CONFIG after saying what is wrong. */
int mastercf_check(const PF *pf);
/* Reads the marked services, the loopback services as enable writes them and as they are,
 * and whether postlog exists: 0, or an exit status after saying why not. */
int mastercf_load(PF *pf);
/* Whether a loopback service exists exactly as enable writes it. */
int loopback_ok(const LOOPBACK *lb);
/* Marked services enable would not add now (a loopback service at an old address). */
int is_stale(const PF *pf, const char *service);

#endif
