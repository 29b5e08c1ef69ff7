/*
 * ctl_mailbox.c -- `postgatectl domain hosting`, `mailbox ...` and `alias ...`: the hosted
 * domains of a server (or of its organization), their mailboxes and aliases (mailbox.h,
 * alias.h). Every command names the server as ORG/SERVER and an address under one of its
 * domains, so one tenant never reaches another's mailboxes.
 *
 * New passwords pass the password policy (passwords.*, pwpolicy.h) and are stored as
 * argon2id hashes; they are read from standard input or a file, never the command line.
 * Must never: print or log a password.
 */
#include "config.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mail/alias.h"
#include "mail/domain.h"
#include "mail/mailbox.h"
#include "mail/pwpolicy.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/password.h"

#define USAGE_MAILBOX \
    "usage: postgatectl mailbox create ORG/SERVER ADDRESS (--password-stdin | --password-file FILE)\n" \
    "                          [--name NAME] [--quota-bytes N] [--quota-messages N]\n" \
    "       postgatectl mailbox password ORG/SERVER ADDRESS (--password-stdin | --password-file FILE)\n" \
    "       postgatectl mailbox quota ORG/SERVER ADDRESS --bytes N --messages N (0: unlimited)\n" \
    "       postgatectl mailbox rename ORG/SERVER ADDRESS NEW-ADDRESS\n" \
    "       postgatectl mailbox enable|disable|delete ORG/SERVER ADDRESS\n" \
    "       postgatectl mailbox list ORG/SERVER DOMAIN"
#define USAGE_ALIAS \
    "usage: postgatectl alias create ORG/SERVER ADDRESS DESTINATION... (ADDRESS *@DOMAIN: the catch-all)\n" \
    "       postgatectl alias delete ORG/SERVER ADDRESS\n" \
    "       postgatectl alias list ORG/SERVER DOMAIN"

/* The domain of server and the normalized local part of address (allow_star for aliases). */
static int
find_address(DB *db, const SERVER *server, const char *address, int allow_star, MAILBOX_DOMAIN *d,
             char local[MAILBOX_MAX_LOCAL + 1])
{
    const char *at = strrchr(address, '@');
    char part[MAILBOX_MAX_LOCAL + 2];
    int ret;

    if (at == NULL || at == address || (size_t) (at - address) > MAILBOX_MAX_LOCAL) {
        msg_error("\"%s\" is not an address local@domain (local part at most %d characters)", address,
                  MAILBOX_MAX_LOCAL);
        return EX_DATAERR;
    }
    snprintf(part, sizeof(part), "%.*s", (int) (at - address), address);
    if (!mailbox_local_normalize(part, local, MAILBOX_MAX_LOCAL + 1, allow_star)) {
        msg_error("\"%s\": a local part is 1 to %d of a-z, 0-9, '.', '_' and '-' (no leading, trailing or double "
                  "dot)%s", address, MAILBOX_MAX_LOCAL, allow_star ? ", or * for the catch-all" : "");
        return EX_DATAERR;
    }
    if ((ret = mailbox_domain_find(db, server->id, server->org_id, at + 1, d)) < 0) {
        msg_error("database unavailable: %s", db_error(db));
        return ctl_db_status(ret);
    }
    if (ret == 0) {
        msg_error("%s/%s has no domain %s", server->org_permalink, server->permalink, at + 1);
        return EX_DATAERR;
    }
    return EX_OK;
}

static int
find_domain(DB *db, const SERVER *server, const char *name, MAILBOX_DOMAIN *d)
{
    int ret = mailbox_domain_find(db, server->id, server->org_id, name, d);

    if (ret < 0) {
        msg_error("database unavailable: %s", db_error(db));
        return ctl_db_status(ret);
    }
    if (ret == 0) {
        msg_error("%s/%s has no domain %s", server->org_permalink, server->permalink, name);
        return EX_DATAERR;
    }
    return EX_OK;
}

/* Reads one password line from path ("-": standard input), checks the policy and hashes it. */
static int
new_password(const PGCONF *cfg, const char *path, char *hash, size_t hlen)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char line[PASSWORD_MAX_LENGTH + 2] = "", *why = NULL;
    const char *rule, *reason;
    PWPOLICY *policy;
    int status = EX_OK;

    if (fp == NULL) {
        msg_error("password file %s: %m", path);
        return EX_DATAERR;
    }
    if (fgets(line, sizeof(line), fp) == NULL) {
        msg_error("cannot read a password line from %s", fp == stdin ? "standard input" : path);
        status = EX_DATAERR;
    }
    if (fp != stdin)
        fclose(fp);
    line[strcspn(line, "\r\n")] = '\0';
    if (status == EX_OK && (policy = pwpolicy_from_config(cfg, &why)) == NULL) {
        msg_error("%s", why);
        status = EX_CONFIG;
    } else if (status == EX_OK) {
        if (pwpolicy_check(policy, line, &rule, &reason) < 0) {
            msg_error("%s (rule %s; the policy: %s)", reason, rule, pwpolicy_describe(policy));
            status = EX_DATAERR;
        } else if (password_hash(line, hash, hlen, &why) < 0) {
            msg_error("cannot hash the password: %s", why);
            status = EX_SOFTWARE;
        }
        pwpolicy_free(policy);
    }
    mem_free(why);
    OPENSSL_cleanse(line, sizeof(line));
    return status;
}

/* Parses a whole number option; -1 when bad. */
static long long
number(const char *what, const char *s)
{
    char *end;
    long long v;

    if (*s < '0' || *s > '9' || (v = strtoll(s, &end, 10)) < 0 || *end) {
        msg_error("%s: \"%s\" is not a whole number", what, s);
        return -1;
    }
    return v;
}

/* errorp, not the error itself: the arguments' order of evaluation is unspecified, so
 * result(f(&error), &error, ...) could read it before f() sets it. */
static int
result(int ret, char **errorp, const char *done)
{
    char *error = *errorp;

    *errorp = NULL;
    if (ret <= 0) {
        msg_error("%s", error ? error : "failed");
        mem_free(error);
        return ret == 0 ? EX_DATAERR : ctl_db_status(ret);
    }
    mem_free(error);
    printf("%s\n", done);
    return EX_OK;
}

static int
mailbox_create_cmd(DB *db, const PGCONF *cfg, const SERVER *server, const char *address, int argc, char **argv)
{
    static const struct option options[] = {
        {"password-stdin", no_argument, NULL, 's'}, {"password-file", required_argument, NULL, 'p'},
        {"name", required_argument, NULL, 'n'}, {"quota-bytes", required_argument, NULL, 'b'},
        {"quota-messages", required_argument, NULL, 'm'}, {NULL, 0, NULL, 0}
    };
    char why[256];
    MAILBOX_NEW m = {.name = ""};
    MAILBOX_DOMAIN d;
    const char *pwfile = NULL;
    char local[MAILBOX_MAX_LOCAL + 1], hash[PASSWORD_HASH_MAX], uuid[37], *error = NULL;
    long long v;
    int opt, status, ret;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': pwfile = "-"; break;
        case 'p': pwfile = optarg; break;
        case 'n': m.name = optarg; break;
        case 'b':
            if ((v = number("--quota-bytes", optarg)) < 0)
                return EX_USAGE;
            m.quota_bytes = (unsigned long long) v;
            break;
        case 'm':
            if ((v = number("--quota-messages", optarg)) < 0)
                return EX_USAGE;
            m.quota_messages = (unsigned long) v;
            break;
        default: return EX_USAGE;
        }
    }
    if (pwfile == NULL || optind != argc) {
        msg_error(USAGE_MAILBOX);
        return EX_USAGE;
    }
    if ((status = find_address(db, server, address, 0, &d, local)) != EX_OK)
        return status;
    if (!d.hosting) {
        msg_error("domain %s does not host mailboxes: run 'postgatectl domain hosting %s/%s %s on' first", d.name,
                  server->org_permalink, server->permalink, d.name);
        return EX_DATAERR;
    }
    if (!mailbox_domain_holds(&d, why, sizeof(why))) {
        msg_error("%s", why);
        return EX_DATAERR;
    }
    if ((status = new_password(cfg, pwfile, hash, sizeof(hash))) != EX_OK)
        return status;
    m.domain_id = d.id;
    m.local_part = local;
    m.password_hash = hash;
    ret = mailbox_create(db, &m, uuid, &error);
    if (ret > 0)
        printf("created mailbox %s@%s (%s)\n", local, d.name, uuid);
    return ret > 0 ? (mem_free(error), EX_OK) : result(ret, &error, "");
}

static int
mailbox_cmd_run(DB *db, const PGCONF *cfg, const char *sub, int argc, char **argv)
{
    char why[256];
    MAILBOX_DOMAIN d, nd;
    SERVER server;
    char local[MAILBOX_MAX_LOCAL + 1], nlocal[MAILBOX_MAX_LOCAL + 1], hash[PASSWORD_HASH_MAX], *error = NULL;
    unsigned long long id;
    int status, ret;

    if (argc < 3) {
        msg_error(USAGE_MAILBOX);
        return EX_USAGE;
    }
    if ((status = ctl_find_server(db, argv[1], &server)) != EX_OK)
        return status;
    if (strcmp(sub, "list") == 0) {
        DB_ROWS rows = {0};

        if (argc != 3) {
            msg_error(USAGE_MAILBOX);
            return EX_USAGE;
        }
        if ((status = find_domain(db, &server, argv[2], &d)) != EX_OK)
            return status;
        if ((ret = mailbox_list(db, d.id, &rows)) < 0) {
            msg_error("database unavailable: %s", db_error(db));
            return ctl_db_status(ret);
        }
        for (int i = 0; i < ret; i++) {
            const MAILBOX_ROW *r = (const MAILBOX_ROW *) rows.v + i;

            printf("%s %s %s quota_bytes=%s quota_messages=%s used_bytes=%llu used_messages=%llu name=%s\n", r->uuid,
                   r->address, r->enabled ? "enabled" : "disabled", r->quota_bytes ? r->quota_bytes : "unlimited",
                   r->quota_messages ? r->quota_messages : "unlimited", r->used_bytes, r->used_messages, r->name);
        }
        db_rows_free(&rows);
        return EX_OK;
    }
    if (strcmp(sub, "create") == 0)
        return mailbox_create_cmd(db, cfg, &server, argv[2], argc - 2, argv + 2);
    if ((status = find_address(db, &server, argv[2], 0, &d, local)) != EX_OK)
        return status;
    if ((ret = mailbox_find(db, d.id, local, &id)) <= 0) {
        if (ret < 0)
            msg_error("database unavailable: %s", db_error(db));
        else
            msg_error("no mailbox %s@%s", local, d.name);
        return ret < 0 ? ctl_db_status(ret) : EX_DATAERR;
    }
    if (strcmp(sub, "password") == 0) {
        static const struct option options[] = {
            {"password-stdin", no_argument, NULL, 's'}, {"password-file", required_argument, NULL, 'p'},
            {NULL, 0, NULL, 0}
        };
        const char *pwfile = NULL;
        int opt;

        optind = 1;
        while ((opt = getopt_long(argc - 2, argv + 2, "", options, NULL)) != -1)
            pwfile = opt == 's' ? "-" : opt == 'p' ? optarg : NULL;
        if (pwfile == NULL) {
            msg_error(USAGE_MAILBOX);
            return EX_USAGE;
        }
        if ((status = new_password(cfg, pwfile, hash, sizeof(hash))) != EX_OK)
            return status;
        return result(mailbox_set_password(db, id, hash, &error), &error, "password changed");
    }
    if (strcmp(sub, "quota") == 0) {
        static const struct option options[] = {
            {"bytes", required_argument, NULL, 'b'}, {"messages", required_argument, NULL, 'm'}, {NULL, 0, NULL, 0}
        };
        long long bytes = -1, messages = -1;
        int opt;

        optind = 1;
        while ((opt = getopt_long(argc - 2, argv + 2, "", options, NULL)) != -1) {
            if (opt == 'b')
                bytes = number("--bytes", optarg);
            else if (opt == 'm')
                messages = number("--messages", optarg);
        }
        if (bytes < 0 || messages < 0) {
            msg_error(USAGE_MAILBOX);
            return EX_USAGE;
        }
        return result(mailbox_set_quota(db, id, (unsigned long long) bytes, (unsigned long) messages, &error), &error,
                      "quota set");
    }
    if (argc != 3 && !(strcmp(sub, "rename") == 0 && argc == 4)) {
        msg_error(USAGE_MAILBOX);
        return EX_USAGE;
    }
    if (strcmp(sub, "rename") == 0) {
        if ((status = find_address(db, &server, argv[3], 0, &nd, nlocal)) != EX_OK)
            return status;
        if (!mailbox_domain_holds(&nd, why, sizeof(why))) {
            msg_error("%s", why);
            return EX_DATAERR;
        }
        return result(mailbox_rename(db, id, nd.id, nlocal, &error), &error, "renamed; the mail stays");
    }
    if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0)
        return result(mailbox_set_enabled(db, id, sub[0] == 'e', &error), &error,
                      sub[0] == 'e' ? "enabled" : "disabled: it cannot log in; mail for it is still delivered");
    if (strcmp(sub, "delete") == 0)
        return result(mailbox_delete(db, id, &error), &error, "deleted");
    msg_error(USAGE_MAILBOX);
    return EX_USAGE;
}

int
ctl_mailbox(CTL_CONTEXT *ctx, int argc, char **argv)
{
    DB *db;
    int status;

    if (argc < 2) {
        msg_error(USAGE_MAILBOX);
        return EX_USAGE;
    }
    db = db_new(ctx->cfg);
    optind = 1;
    status = mailbox_cmd_run(db, ctx->cfg, argv[1], argc - 1, argv + 1);
    db_free(db);
    return status;
}

int
ctl_alias(CTL_CONTEXT *ctx, int argc, char **argv)
{
    char why[256];
    MAILBOX_DOMAIN d;
    SERVER server;
    char local[MAILBOX_MAX_LOCAL + 1], uuid[37], *error = NULL;
    DB *db;
    int status, ret;

    if (argc < 4 || (strcmp(argv[1], "create") == 0 ? argc < 5 : argc != 4)) {
        msg_error(USAGE_ALIAS);
        return EX_USAGE;
    }
    db = db_new(ctx->cfg);
    if ((status = ctl_find_server(db, argv[2], &server)) != EX_OK)
        goto done;
    if (strcmp(argv[1], "list") == 0) {
        DB_ROWS rows = {0};

        if ((status = find_domain(db, &server, argv[3], &d)) != EX_OK)
            goto done;
        if ((ret = alias_list(db, d.id, &rows)) < 0) {
            msg_error("database unavailable: %s", db_error(db));
            status = ctl_db_status(ret);
            goto done;
        }
        for (int i = 0; i < ret; i++) {
            const ALIAS_ROW *r = (const ALIAS_ROW *) rows.v + i;

            printf("%s %s@%s -> %s\n", r->uuid, r->local_part, d.name, r->destinations ? r->destinations : "");
        }
        db_rows_free(&rows);
        goto done;
    }
    if ((status = find_address(db, &server, argv[3], 1, &d, local)) != EX_OK)
        goto done;
    if (strcmp(argv[1], "create") == 0) {
        if (!d.hosting) {
            msg_error("domain %s does not host mailboxes: run 'postgatectl domain hosting %s %s on' first", d.name,
                      argv[2], d.name);
            status = EX_DATAERR;
            goto done;
        }
        if (!mailbox_domain_holds(&d, why, sizeof(why))) {
            msg_error("%s", why);
            status = EX_DATAERR;
            goto done;
        }
        ret = alias_create(db, d.id, local, argv + 4, (size_t) (argc - 4), uuid, &error);
        if (ret > 0)
            printf("created alias %s@%s (%s)\n", local, d.name, uuid);
        status = ret > 0 ? (mem_free(error), EX_OK) : result(ret, &error, "");
    } else if (strcmp(argv[1], "delete") == 0) {
        status = result(alias_delete(db, d.id, local, &error), &error, "deleted");
    } else {
        msg_error(USAGE_ALIAS);
        status = EX_USAGE;
    }
done:
    db_free(db);
    return status;
}

int
ctl_domain_alias(CTL_CONTEXT *ctx, int argc, char **argv)
{
    MAILBOX_DOMAIN d, target;
    SERVER server;
    char *error = NULL;
    DB *db;
    int status, none;

    if (argc != 5) {
        msg_error("usage: postgatectl domain alias ORG/SERVER DOMAIN TARGET-DOMAIN|none");
        return EX_USAGE;
    }
    none = strcmp(argv[4], "none") == 0;
    db = db_new(ctx->cfg);
    if ((status = ctl_find_server(db, argv[2], &server)) == EX_OK
        && (status = find_domain(db, &server, argv[3], &d)) == EX_OK
        && (none || (status = find_domain(db, &server, argv[4], &target)) == EX_OK)) {
        char *done = none ? buf_asprintf("domain %s is no alias now (it hosts nothing of its own)", d.name)
            : buf_asprintf("domain %s is an alias of %s now: mail for any address @%s goes to the same address @%s",
                           d.name, target.name, d.name, target.name);

        status = result(mailbox_domain_alias_set(db, &d, none ? NULL : &target, &error), &error, done);
        mem_free(done);
    }
    db_free(db);
    return status;
}

int
ctl_domain_hosting(CTL_CONTEXT *ctx, int argc, char **argv)
{
    MAILBOX_DOMAIN d;
    SERVER server;
    char *error = NULL;
    DB *db;
    int status, on;

    if (argc != 5 || (strcmp(argv[4], "on") != 0 && strcmp(argv[4], "off") != 0)) {
        msg_error("usage: postgatectl domain hosting ORG/SERVER DOMAIN on|off");
        return EX_USAGE;
    }
    on = strcmp(argv[4], "on") == 0;
    db = db_new(ctx->cfg);
    if ((status = ctl_find_server(db, argv[2], &server)) == EX_OK
        && (status = find_domain(db, &server, argv[3], &d)) == EX_OK) {
        char *done = on ? buf_asprintf("domain %s hosts mailboxes now", d.name)
            : buf_asprintf("domain %s hosts no mailboxes now (its mailboxes and aliases are kept)", d.name);

        status = result(mailbox_hosting_set(db, &d, on, &error), &error, done);
        mem_free(done);
        if (status == EX_OK && on) {
            /* What to publish now: MX and the names that lead mail clients to their settings. */
            char *records = domain_dns_records(db, ctx->cfg, d.id);

            if (records)
                printf("%s", records);
            mem_free(records);
        }
    }
    db_free(db);
    return status;
}
