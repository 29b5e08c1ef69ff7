/*
 * ctl_config.c -- `postgatectl config check|dump|doc|man`. The configuration was already
 * loaded (and so validated) by ctl_main.c; these commands report on it. `postgatectl seal
 * KEY` turns a secret read from standard input into the sealed value that key takes in
 * postgate.conf (lib/mail/confseal.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "mail/confseal.h"
#include "mail/pwpolicy.h"
#include "util/mem.h"
#include "util/msg.h"

/* Checks that go beyond one key's type and bounds. */
static int
check_semantics(const PGCONF *cfg)
{
    struct stat st;
    int problems = 0;

    if (stat(cfg->database_migrations_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        msg_warn("%s: database.migrations_dir: %s is not a directory",
                 cfg->origin[CONF_K_database_migrations_dir], cfg->database_migrations_dir);
        problems++;
    }
    if ((*cfg->admin_tls_certificate == '\0') != (*cfg->admin_tls_key == '\0')) {
        msg_warn("admin.tls_certificate and admin.tls_key must be set together");
        problems++;
    }
    {
        char *error = NULL;
        PWPOLICY *policy = pwpolicy_from_config(cfg, &error);

        if (policy == NULL) {
            msg_warn("%s", error);
            mem_free(error);
            problems++;
        }
        pwpolicy_free(policy);
    }
    if (*cfg->oidc_secret) {
        SEAL_KEY *seal = ctl_load_seal(cfg);
        char *plain = NULL, *error = NULL;

        if (seal == NULL) {
            problems++;
        } else if (confseal_open(seal, "oidc.secret", cfg->oidc_secret, &plain, &error) < 0) {
            msg_warn("%s: %s", cfg->origin[CONF_K_oidc_secret], error);
            mem_free(error);
            problems++;
        }
        if (plain)
            explicit_bzero(plain, strlen(plain));
        mem_free(plain);
        seal_key_free(seal);
    }
    return problems;
}

int
ctl_config(CTL_CONTEXT *ctx, int argc, char **argv)
{
    if (argc != 2) {
        msg_error("usage: postgatectl config check|dump|doc|man");
        return EX_USAGE;
    }
    if (strcmp(argv[1], "check") == 0) {
        if (check_semantics(ctx->cfg) > 0)
            return EX_CONFIG;
        printf("configuration OK: %s\n", ctx->cfg->path ? ctx->cfg->path : "(defaults and environment only)");
        return EX_OK;
    }
    if (strcmp(argv[1], "dump") == 0) {
        printf("# postgate configuration: %s\n", ctx->cfg->path ? ctx->cfg->path : "(no file)");
        conf_dump(ctx->cfg, stdout);
        return EX_OK;
    }
    if (strcmp(argv[1], "doc") == 0) {
        conf_write_markdown(stdout);
        return EX_OK;
    }
    if (strcmp(argv[1], "man") == 0) {
        conf_write_man(stdout);
        return EX_OK;
    }
    msg_error("unknown config subcommand '%s' (check, dump, doc or man)", argv[1]);
    return EX_USAGE;
}

/* postgatectl seal KEY: the secret is the first line of standard input (never an argument,
 * which ps would show); the sealed value is printed for postgate.conf. */
int
ctl_seal(CTL_CONTEXT *ctx, int argc, char **argv)
{
    char line[4096], *sealed;
    SEAL_KEY *seal;
    size_t n;

    if (argc != 2 || !confseal_key_ok(argv[1])) {
        msg_error("usage: postgatectl seal oidc.secret < FILE (the keys that take sealed values: oidc.secret)");
        return EX_USAGE;
    }
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "%s (one line): ", argv[1]);
    if (fgets(line, sizeof(line), stdin) == NULL) {
        msg_error("seal %s: no value on standard input", argv[1]);
        return EX_DATAERR;
    }
    n = strcspn(line, "\r\n");
    if (line[n] == '\0' && n == sizeof(line) - 1) {
        msg_error("seal %s: the value is longer than %zu bytes", argv[1], sizeof(line) - 2);
        return EX_DATAERR;
    }
    line[n] = '\0';
    if (n == 0) {
        msg_error("seal %s: the value is empty (leave the key unset instead)", argv[1]);
        return EX_DATAERR;
    }
    if ((seal = ctl_load_seal(ctx->cfg)) == NULL)
        return EX_CONFIG;
    sealed = confseal_seal(seal, argv[1], line);
    explicit_bzero(line, sizeof(line));
    seal_key_free(seal);
    if (sealed == NULL) {
        msg_error("seal %s: sealing failed", argv[1]);
        return EX_SOFTWARE;
    }
    printf("%s\n", sealed);
    mem_free(sealed);
    return EX_OK;
}
