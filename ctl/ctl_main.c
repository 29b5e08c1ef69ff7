/*
 * ctl_main.c -- postgatectl: the administrator's command for postgate.
 * Parses global options, loads the configuration once and runs one command.
 * Exit codes (sysexits): 0 ok, 64 usage, 65 bad input or a permanent database
 * error, 70 internal error, 75 temporary failure (database unreachable: try
 * again), 78 configuration error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util/mem.h"
#include "util/msg.h"

static const char usage_text[] =
    "usage: postgatectl [-c FILE] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  initialize      create the database if needed and apply every schema migration\n"
    "  upgrade-db      apply pending migrations to an initialized database\n"
    "  make-user       create a web admin user (asks for what the flags do not give)\n"
    "                  [--email E] [--first-name F] [--last-name L] [--admin]\n"
    "                  [--password-stdin | --password-file FILE | --no-password (OpenID\n"
    "                  Connect sign-in only)]\n"
    "  org create      --name NAME --permalink P: a new organization\n"
    "  org purge UUID  remove a deleted organization and all it held, in batches\n"
    "  user purge UUID remove a deleted user for good (after the organizations it owned)\n"
    "  user totp-reset EMAIL|UUID  remove a user's second factor (a lost authenticator)\n"
    "  server create   --org ORG --name NAME --permalink P [--mode Live|Development]\n"
    "                  [--send-limit N] [--allow-sender]: a new mail server\n"
    "  server set      ORG/SERVER SETTING VALUE: mode, send_limit, allow_sender, privacy_mode,\n"
    "                  suspended, postmaster_address (none clears it), spam_threshold, name, ...\n"
    "  server delete   ORG/SERVER: the server with its data (removed by postgate-worker)\n"
    "  domain create   (--server ORG/SERVER | --org ORG) --name DOMAIN [--verified] [--ed25519]:\n"
    "                  a sending domain with its DKIM keys; prints the DNS records to publish\n"
    "  domain hosting  ORG/SERVER DOMAIN on|off: a verified domain hosts mailboxes (or no longer)\n"
    "  domain alias    ORG/SERVER DOMAIN TARGET|none: DOMAIN's addresses are TARGET's (a domain alias)\n"
    "  mailbox create  ORG/SERVER ADDRESS (--password-stdin | --password-file FILE) [--name NAME]\n"
    "                  [--quota-bytes N] [--quota-messages N]: a mailbox of a hosted domain\n"
    "  mailbox password|quota|rename|enable|disable|delete ORG/SERVER ADDRESS ...\n"
    "  mailbox list    ORG/SERVER DOMAIN\n"
    "  alias create    ORG/SERVER ADDRESS DESTINATION...: an alias (*@DOMAIN: the catch-all)\n"
    "  alias delete    ORG/SERVER ADDRESS | alias list ORG/SERVER DOMAIN\n"
    "  credential create --server ORG/SERVER --name NAME [--type SMTP|API|SMTP-IP]\n"
    "                  [--network CIDR] [--hold]: prints the key once\n"
    "  credential delete --server ORG/SERVER --name NAME: revokes it (every host within milter.cache_ttl)\n"
    "  track-domain create --server ORG/SERVER --name LABEL --domain DOMAIN [--no-ssl]\n"
    "                  [--no-clicks] [--no-loads] [--exclude DOMAIN]...: click and open tracking\n"
    "                  through LABEL.DOMAIN; prints the CNAME to publish\n"
    "  track-domain list ORG/SERVER | delete ORG/SERVER (UUID | HOST)\n"
    "  message release TOKEN  re-send a held message through the release service\n"
    "  status          daemons' health, MariaDB, schema, Postfix (running, check, wiring, queues),\n"
    "                  pending webhooks and endpoint deliveries [--json]; exits 0 OK, 1 WARNING,\n"
    "                  2 CRITICAL\n"
    "  send-test       --server ORG/SERVER --to ADDRESS [--from ADDRESS] [--subject TEXT]:\n"
    "                  a test message through the injection service, the milter (DKIM) and Postfix\n"
    "  dns-records     the installation's own DNS records (return-path domain: MX, SPF, DKIM)\n"
    "  backup DIR      a consistent database dump taken while mail flows, the keys and the\n"
    "                  configuration, with checksums, into a new directory\n"
    "  restore DIR     check a backup's checksums and restore it into an empty database\n"
    "                  [--force: replace a database with tables and different key files]\n"
    "  signing-key show|jwks|rotate|retire KID\n"
    "                  the key that signs webhooks (its JWKS is /.well-known/jwks.json)\n"
    "  config check    validate the configuration\n"
    "  config dump     print every effective setting and where it came from\n"
    "  config doc      print the configuration reference (doc/configuration.md)\n"
    "  config man      print the postgate.conf(5) manual page\n"
    "  seal KEY        print the sealed value of a secret read from standard input, for\n"
    "                  postgate.conf (KEY: oidc.secret)\n"
    "  postfix enable  wire a Postfix instance to postgate (main.cf, master.cf via postconf)\n"
    "                  [-C POSTFIX_CONFIG_DIR] [--reload]\n"
    "  postfix disable undo what enable changed [-C POSTFIX_CONFIG_DIR] [--reload]\n"
    "  postfix check   report what is not wired [-C POSTFIX_CONFIG_DIR]; exits 1 then\n"
    "  postfix pools   IP pool transports as the database has them (postfix.ip_pools)\n"
    "                  [-C POSTFIX_CONFIG_DIR] [--reload]\n"
    "  dovecot enable  wire Dovecot to the hosted mailboxes (one conf.d snippet and its SQL file)\n"
    "                  [-c DOVECOT_CONFIG_DIR]\n"
    "  dovecot disable remove what enable wrote [-c DOVECOT_CONFIG_DIR]\n"
    "  dovecot check   report what is not wired [-c DOVECOT_CONFIG_DIR]; exits 1 then\n"
    "  dovecot purge   remove the mail of deleted mailboxes [--grace DAYS] [--dry-run] (as root)\n"
    "  postfix tls     --cert FILE --key FILE [--smtps [HOST:]PORT | --no-smtps]\n"
    "                  [--submission [HOST:]PORT | --no-submission] [-C DIR] [--reload]:\n"
    "                  STARTTLS, submission (587) and implicit TLS (465); --off undoes it\n"
    "  version         print the version\n"
    "\n"
    "Options:\n"
    "  -c FILE         configuration file (default " PG_SYSCONFDIR_DEFAULT ")\n"
    "  -h, --help      this text\n"
    "\n"
    "Exit codes: 0 success, 64 usage error, 65 bad input or permanent database error,\n"
    "69 a program (postconf) unavailable, 70 internal error, 73 cannot create a file,\n"
    "75 temporary failure (try again), 78 configuration error. status answers as a Nagios\n"
    "plugin: 0 OK, 1 WARNING, 2 CRITICAL.\n";

static int
usage(FILE *fp, int status)
{
    fputs(usage_text, fp);
    return status;
}

/* Commands that need no configuration run before it is loaded. */
static int
needs_config(const char *command)
{
    return strcmp(command, "version") != 0;
}

int
main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    CTL_CONTEXT ctx = {PG_SYSCONFDIR_DEFAULT, 0, NULL};
    const char *command;
    char *error = NULL;
    int opt, status;

    msg_init("postgatectl");
    /* Stop at the command: its own options follow it. */
    while ((opt = getopt_long(argc, argv, "+c:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            ctx.config_path = optarg;
            ctx.config_explicit = 1;
            break;
        case 'h':
            return usage(stdout, EX_OK);
        default:
            return usage(stderr, EX_USAGE);
        }
    }
    if (optind >= argc)
        return usage(stderr, EX_USAGE);
    command = argv[optind];
    argc -= optind;
    argv += optind;

    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("postgatectl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        return EX_OK;
    }
    if (needs_config(command)) {
        ctx.cfg = conf_load(ctx.config_path, !ctx.config_explicit, &error);
        if (ctx.cfg == NULL) {
            msg_error("%s", error);
            mem_free(error);
            return EX_CONFIG;
        }
        MSG_LEVEL level = MSG_LEVEL_INFO;

        msg_level_parse(ctx.cfg->logging_level, &level);
        /* An interactive command always reports on stderr. */
        msg_configure(MSG_DEST_STDERR, level, "mail");
    }
    if (strcmp(command, "initialize") == 0)
        status = ctl_initialize(&ctx, argc, argv);
    else if (strcmp(command, "upgrade-db") == 0)
        status = ctl_upgrade_db(&ctx, argc, argv);
    else if (strcmp(command, "make-user") == 0)
        status = ctl_make_user(&ctx, argc, argv);
    else if (strcmp(command, "config") == 0)
        status = ctl_config(&ctx, argc, argv);
    else if (strcmp(command, "seal") == 0)
        status = ctl_seal(&ctx, argc, argv);
    else if (strcmp(command, "dns-records") == 0)
        status = ctl_dns(&ctx, argc, argv);
    else if (strcmp(command, "signing-key") == 0)
        status = ctl_signing_key(&ctx, argc, argv);
    else if (strcmp(command, "postfix") == 0)
        status = ctl_postfix(&ctx, argc, argv);
    else if (strcmp(command, "track-domain") == 0)
        status = ctl_track_domain(&ctx, argc, argv);
    else if (strcmp(command, "status") == 0)
        status = ctl_status(&ctx, argc, argv);
    else if (strcmp(command, "send-test") == 0)
        status = ctl_send_test(&ctx, argc, argv);
    else if (strcmp(command, "backup") == 0 || strcmp(command, "restore") == 0)
        status = ctl_backup(&ctx, argc, argv);
    else if (strcmp(command, "dovecot") == 0)
        status = ctl_dovecot(&ctx, argc, argv);
    else if (strcmp(command, "mailbox") == 0)
        status = ctl_mailbox(&ctx, argc, argv);
    else if (strcmp(command, "alias") == 0)
        status = ctl_alias(&ctx, argc, argv);
    else if (strcmp(command, "domain") == 0 && argc > 1 && strcmp(argv[1], "hosting") == 0)
        status = ctl_domain_hosting(&ctx, argc, argv);
    else if (strcmp(command, "domain") == 0 && argc > 1 && strcmp(argv[1], "alias") == 0)
        status = ctl_domain_alias(&ctx, argc, argv);
    else if (strcmp(command, "org") == 0 || strcmp(command, "server") == 0 || strcmp(command, "domain") == 0
             || strcmp(command, "credential") == 0 || strcmp(command, "message") == 0
             || strcmp(command, "user") == 0)
        status = ctl_objects(&ctx, command, argc, argv);
    else {
        msg_error("unknown command '%s'", command);
        status = usage(stderr, EX_USAGE);
    }
    conf_unref(ctx.cfg);
    return status;
}
