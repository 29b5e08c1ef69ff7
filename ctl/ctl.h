/*
 * ctl.h -- postgatectl's command entry points, one command family per file; ctl_main.c
 * parses the command line, loads the configuration and dispatches to them. Commands
 * return a sysexits(3) status. What the commands share is in ctl_common.h, so no command
 * file depends on the dispatcher.
 */
#ifndef PG_CTL_H
#define PG_CTL_H

#include <stdio.h>

#include "ctl_common.h"

int ctl_initialize(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_upgrade_db(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_make_user(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_config(CTL_CONTEXT *ctx, int argc, char **argv);
/* seal KEY (ctl_config.c): a secret from standard input as the sealed value KEY takes. */
int ctl_seal(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_dns(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_postfix(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_signing_key(CTL_CONTEXT *ctx, int argc, char **argv);
/* Creates the webhook signing key when the database has none (initialize, upgrade-db). */
int ctl_signing_key_ensure(const PGCONF *cfg);
/* org, server, domain, credential, message: command is argv[0]. */
int ctl_objects(CTL_CONTEXT *ctx, const char *command, int argc, char **argv);
/* backup DIR, restore DIR [--force] (ctl_backup.c): argv[0] says which. */
int ctl_backup(CTL_CONTEXT *ctx, int argc, char **argv);
/* track-domain create|list|delete (ctl_track.c). */
int ctl_track_domain(CTL_CONTEXT *ctx, int argc, char **argv);
/* status [--json] (ctl_status.c): exits 0 OK, 1 WARNING, 2 CRITICAL. */
int ctl_status(CTL_CONTEXT *ctx, int argc, char **argv);
/* send-test --server ORG/SERVER --to ADDR [--from ADDR] [--subject S] (ctl_sendtest.c). */
int ctl_send_test(CTL_CONTEXT *ctx, int argc, char **argv);
/* dovecot enable|disable|check [-c DIR] (ctl_dovecot.c); dovecot purge goes on to: */
int ctl_dovecot(CTL_CONTEXT *ctx, int argc, char **argv);
/* dovecot purge [--grace DAYS] [--dry-run] (ctl_mailpurge.c): argv[0] is "purge". */
int ctl_dovecot_purge(CTL_CONTEXT *ctx, int argc, char **argv);
/* mailbox ..., alias ..., domain hosting ORG/SERVER DOMAIN on|off (ctl_mailbox.c). */
int ctl_mailbox(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_alias(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_domain_hosting(CTL_CONTEXT *ctx, int argc, char **argv);
int ctl_domain_alias(CTL_CONTEXT *ctx, int argc, char **argv);
/* For status: `postfix check`'s wiring check of postfix.config_directory, each problem
 * written to out, their count in *problems_r. 0, or an exit status when the instance
 * could not be read (said why with msg_error). */
int ctl_postfix_wiring(const PGCONF *cfg, FILE *out, int *problems_r);

#endif
