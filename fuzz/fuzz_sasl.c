/*
 * fuzz_sasl.c -- libFuzzer harness of postgate-policyd's Dovecot SASL server
 * (policyd/sasl.c): the input is what Postfix's xsasl_dovecot client would send
 * (VERSION, CPID, AUTH and CONT lines with base64 responses), served by sasl_serve()
 * itself. MariaDB cannot be reached, so a complete login closes the connection (the
 * temporary-failure path); nothing may crash, leak or read out of bounds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "sasl.h"
#include "policyd_ctx.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_pd_init("fuzz_sasl");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pd_serve(sasl_serve, data, size);
    return 0;
}
