/*
 * fuzz_autoconfig.c -- libFuzzer harness of the one parser of outside input behind mail
 * clients' autoconfiguration: Outlook's autodiscover request (admin/autoconfig_doc.c,
 * libxml2 underneath). Whatever address it yields is then written into the three
 * documents, as postgate-admin would after its own checks, and each document is parsed
 * back with libxml2.
 *
 * Contract checked: an accepted request yields a non-empty, NUL-terminated address that
 * fits the buffer, without white space at either end; every document written is
 * well-formed XML whatever the address holds (the writer escapes it).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "../admin/autoconfig_doc.h"
#include "fuzz.h"
#include "util/mem.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_quiet("fuzz_autoconfig");
    return 0;
}

static void
well_formed(char *doc, size_t len)
{
    xmlDoc *x;

    if (doc == NULL)
        return;         /* libxml2 refused to write (an address that is not UTF-8) */
    x = xmlReadMemory(doc, (int) len, "out.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (x == NULL)
        abort();
    xmlFreeDoc(x);
    mem_free(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char address[256];
    size_t n, len = 0;
    AUTOCONFIG ac = {
        .domain = "example.test",
        .imap = {"mail.example.test", 993, AUTOCONFIG_SSL},
        .pop3 = {"mail.example.test", 995, AUTOCONFIG_SSL},
        .submission = {"mail.example.test", 587, AUTOCONFIG_STARTTLS},
    };

    memset(address, 'x', sizeof(address));
    if (!autoconfig_outlook_request(data, size, address, sizeof(address)))
        return 0;
    n = strnlen(address, sizeof(address));
    if (n == 0 || n == sizeof(address) || strchr(" \t\r\n", address[0]) || strchr(" \t\r\n", address[n - 1]))
        abort();
    ac.address = address;
    well_formed(autoconfig_outlook(&ac, &len), len);
    well_formed(autoconfig_apple(&ac, "00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001",
                                 &len), len);
    well_formed(autoconfig_thunderbird(&ac, &len), len);
    return 0;
}
