/*
 * fuzz_policy.c -- libFuzzer harness of postgate-policyd's policy delegation protocol
 * (policyd/policy.c): the input is what Postfix's smtpd would send on the connection
 * (name=value lines, requests ended by an empty line), served by policy_serve() itself
 * through conn.c's bounded line reader. MariaDB cannot be reached, so lookups take the
 * DEFER path; nothing may crash, leak or read out of bounds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "policy.h"
#include "policyd_ctx.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pd_init("fuzz_policy");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pd_serve(policy_serve, data, size);
    return 0;
}
