/*
 * fuzz_conf.c -- libFuzzer harness of the configuration file reader (lib/mail/conf.c,
 * libconfig underneath): the input is written to a memory file and loaded with
 * conf_load() as a daemon loads /etc/postgate/postgate.conf; a loaded configuration is
 * also checked against the defaults as a SIGHUP reload would be, and formatted key by key
 * as `postgatectl config` shows it.
 */
#define _GNU_SOURCE
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "util/mem.h"

static PGCONF *defaults;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet("fuzz_conf");
    defaults = fuzz_config();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("postgate-fuzz.conf", MFD_CLOEXEC);
    char path[64], *error = NULL;
    PGCONF *cfg;

    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t) size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    cfg = conf_load(path, 0, &error);
    if (cfg == NULL) {
        if (error == NULL)
            abort();    /* a refusal always says why */
    } else {
        size_t count;
        char value[4096], *why = NULL;

        conf_keys(&count);
        for (size_t i = 0; i < count; i++)
            conf_format_value(cfg, i, value, sizeof(value));
        (void) conf_reload_check(defaults, cfg, &why);
        mem_free(why);
        conf_unref(cfg);
    }
    mem_free(error);
    close(fd);
    return 0;
}
