/*
 * ctl_config.c -- `postgatectl config check|dump|doc|man`. The configuration was already
 * loaded (and so validated) by ctl_main.c; these commands report on it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
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
