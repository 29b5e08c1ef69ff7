/*
 * ctl_user.c -- `postgatectl make-user`: create a web admin user.
 * Non-interactive with flags (scripts, the demo), interactive on a terminal for
 * whatever the flags leave out. The password is read from stdin, a file or the
 * terminal with echo off, never from the command line (it would show in ps).
 * The password must pass the password policy (passwords.*, lib/mail/pwpolicy.h): a
 * refusal names the rule and exits EX_DATAERR. Only the argon2id hash is stored.
 * --no-password (with oidc.enabled) makes an account that signs in through the OpenID
 * Connect provider only.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "mail/address.h"
#include "mail/db.h"
#include "mail/pwpolicy.h"
#include "mail/user.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/password.h"
#include "util/token.h"

#define FIELD_MAX 255

/* Reads one line (without the newline) into out; -1 at EOF or when too long. */
static int
read_line(FILE *fp, char *out, size_t len)
{
    size_t n;

    if (fgets(out, (int) len, fp) == NULL)
        return -1;
    n = strlen(out);
    if (n && out[n - 1] == '\n')
        out[--n] = '\0';
    else if (!feof(fp))
        return -1;
    if (n && out[n - 1] == '\r')
        out[--n] = '\0';
    return 0;
}

static int
prompt(const char *question, char *out, size_t len, int secret)
{
    struct termios saved, quiet;
    int ret;

    fprintf(stderr, "%s: ", question);
    fflush(stderr);
    if (secret && tcgetattr(STDIN_FILENO, &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        ret = read_line(stdin, out, len);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
        return ret;
    }
    return read_line(stdin, out, len);
}

static int
name_ok(const char *name)
{
    if (*name == '\0' || strlen(name) > FIELD_MAX)
        return 0;
    for (const char *p = name; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static int
read_password_file(const char *path, char *out, size_t len)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    int ret;

    if (fp == NULL) {
        msg_error("password file %s: %m", path);
        return -1;
    }
    ret = read_line(fp, out, len);
    if (fp != stdin)
        fclose(fp);
    if (ret < 0)
        msg_error("cannot read a password line from %s", strcmp(path, "-") == 0 ? "standard input" : path);
    return ret;
}

static int
insert_user(const PGCONF *cfg, const char *email, const char *first, const char *last,
            const char *hash, int admin)
{
    DB *db = db_new(cfg);
    char uuid[37];
    USER_NEW u = {.uuid = uuid, .email = email, .first_name = first, .last_name = last, .password_hash = hash,
                  .admin = admin};
    unsigned long long id = 0;
    int ret, status = EX_OK;

    if (token_uuid(uuid) < 0) {
        msg_error("random number generator failed");
        db_free(db);
        return EX_SOFTWARE;
    }
    ret = user_create(db, &u, &id);
    if (ret == 0) {
        msg_error("a user with e-mail address %s already exists", email);
        status = EX_DATAERR;
    } else if (ret < 0 && db_errno(db) == DB_ER_NO_SUCH_TABLE) {
        msg_error("database %s has not been initialized: run postgatectl initialize", cfg->database_name);
        status = EX_CONFIG;
    } else if (ret < 0) {
        msg_error("cannot create user %s: %s", email, db_error(db));
        status = ctl_db_status(ret);
    } else {
        printf("created %suser %s (id %llu)\n", admin ? "admin " : "", email, id);
    }
    db_free(db);
    return status;
}

int
ctl_make_user(CTL_CONTEXT *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"email", required_argument, NULL, 'e'},
        {"first-name", required_argument, NULL, 'f'},
        {"last-name", required_argument, NULL, 'l'},
        {"admin", no_argument, NULL, 'a'},
        {"password-stdin", no_argument, NULL, 's'},
        {"password-file", required_argument, NULL, 'p'},
        {"no-password", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0}
    };
    char email[FIELD_MAX + 2] = "", first[FIELD_MAX + 2] = "", last[FIELD_MAX + 2] = "";
    char password[PASSWORD_MAX_LENGTH + 2] = "", again[PASSWORD_MAX_LENGTH + 2] = "";
    char hash[PASSWORD_HASH_MAX];
    const char *password_file = NULL, *rule, *reason;
    PWPOLICY *policy;
    char *why = NULL;
    int admin = 0, opt, interactive = isatty(STDIN_FILENO), status, no_password = 0;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'e': snprintf(email, sizeof(email), "%s", optarg); break;
        case 'f': snprintf(first, sizeof(first), "%s", optarg); break;
        case 'l': snprintf(last, sizeof(last), "%s", optarg); break;
        case 'a': admin = 1; break;
        case 's': password_file = "-"; break;
        case 'p': password_file = optarg; break;
        case 'n': no_password = 1; break;
        default:
            msg_error("usage: postgatectl make-user [--email E] [--first-name F] [--last-name L] "
                      "[--admin] [--password-stdin | --password-file FILE | --no-password]");
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        msg_error("make-user: unexpected argument '%s'", argv[optind]);
        return EX_USAGE;
    }
    /* An account without a password signs in through the OpenID Connect provider only. */
    if (no_password && (password_file || !ctx->cfg->oidc_enabled)) {
        msg_error("make-user: %s", password_file ? "--no-password and a password option exclude each other"
                  : "--no-password needs oidc.enabled: without OpenID Connect the account could not sign in");
        return EX_USAGE;
    }
    if (!no_password && ctx->cfg->oidc_enabled && !ctx->cfg->oidc_local_authentication_enabled) {
        msg_error("make-user: local authentication is disabled (oidc.local_authentication_enabled): use "
                  "--no-password, the account signs in through the OpenID Connect provider");
        return EX_USAGE;
    }
    if (!interactive || (password_file && strcmp(password_file, "-") == 0)) {
        const char *missing = !*email ? "--email" : !*first ? "--first-name" : !*last ? "--last-name"
            : !password_file && !no_password ? "--password-stdin, --password-file or --no-password" : NULL;

        if (missing) {
            msg_error("make-user: %s is required when standard input is not a terminal", missing);
            return EX_USAGE;
        }
    }
    if (!*email && prompt("E-mail address", email, sizeof(email), 0) < 0)
        return EX_DATAERR;
    if (!*first && prompt("First name", first, sizeof(first), 0) < 0)
        return EX_DATAERR;
    if (!*last && prompt("Last name", last, sizeof(last), 0) < 0)
        return EX_DATAERR;
    for (char *p = email; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    if (!address_email_ok(email)) {
        msg_error("make-user: \"%s\" is not a valid e-mail address", email);
        return EX_DATAERR;
    }
    if (!name_ok(first) || !name_ok(last)) {
        msg_error("make-user: first and last name must be 1 to %d printable characters", FIELD_MAX);
        return EX_DATAERR;
    }
    if (no_password)
        return insert_user(ctx->cfg, email, first, last, NULL, admin);
    if (password_file) {
        if (read_password_file(password_file, password, sizeof(password)) < 0)
            return EX_DATAERR;
    } else {
        if (prompt("Password", password, sizeof(password), 1) < 0
            || prompt("Password again", again, sizeof(again), 1) < 0)
            return EX_DATAERR;
        if (strcmp(password, again) != 0) {
            msg_error("make-user: the passwords differ");
            OPENSSL_cleanse(password, sizeof(password));
            OPENSSL_cleanse(again, sizeof(again));
            return EX_DATAERR;
        }
        OPENSSL_cleanse(again, sizeof(again));
    }
    if ((policy = pwpolicy_from_config(ctx->cfg, &why)) == NULL) {
        msg_error("make-user: %s", why);
        mem_free(why);
        OPENSSL_cleanse(password, sizeof(password));
        return EX_CONFIG;
    }
    if (pwpolicy_check(policy, password, &rule, &reason) < 0) {
        msg_error("make-user: %s (rule %s; the policy: %s)", reason, rule, pwpolicy_describe(policy));
        pwpolicy_free(policy);
        OPENSSL_cleanse(password, sizeof(password));
        return EX_DATAERR;
    }
    pwpolicy_free(policy);
    if (password_hash(password, hash, sizeof(hash), &why) < 0) {
        msg_error("make-user: cannot hash the password: %s", why);
        mem_free(why);
        OPENSSL_cleanse(password, sizeof(password));
        return EX_SOFTWARE;
    }
    OPENSSL_cleanse(password, sizeof(password));
    status = insert_user(ctx->cfg, email, first, last, hash, admin);
    return status;
}
