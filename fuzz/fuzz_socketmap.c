/*
 * fuzz_socketmap.c -- libFuzzer harness of postgate-policyd's socketmap protocol
 * (policyd/socketmap.c): the input is what Postfix's socketmap client would send
 * (netstrings "<len>:<map> <key>,"), served by socketmap_serve() itself through conn.c's
 * netstring reader. MariaDB cannot be reached, so lookups answer TEMP; nothing may
 * crash, leak or read out of bounds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "socketmap.h"
#include "policyd_ctx.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pd_init("fuzz_socketmap");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pd_serve(socketmap_serve, data, size);
    return 0;
}
