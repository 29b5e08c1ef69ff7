/*
 * unit.c -- the runner shared by the unit tests (see unit.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util/mem.h"
#include "util/msg.h"

int
unit_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    int failed;

    msg_init("unit");
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

char *
unit_tmpdir(void)
{
    char tmpl[] = "/tmp/pgunit.XXXXXX";
    char *dir = mkdtemp(tmpl);

    if (dir == NULL) {
        perror("mkdtemp");
        abort();
    }
    return mem_strdup(dir);
}

void
unit_rmtree(const char *dir)
{
    char cmd[512];

    /* Only ever our own mkdtemp() result. */
    if (strncmp(dir, "/tmp/pgunit.", 12) != 0 || strchr(dir, '\'') != NULL)
        abort();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", dir);
}

char *
unit_write_file(const char *dir, const char *name, const char *text)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = mem_alloc(len);
    FILE *fp;

    snprintf(path, len, "%s/%s", dir, name);
    fp = fopen(path, "w");
    if (fp == NULL || fputs(text, fp) == EOF || fclose(fp) != 0) {
        perror(path);
        abort();
    }
    return path;
}
