/*
 * fuzz_dnsanswer.c -- libFuzzer harness of the DNS answer parser behind postgate's own
 * lookups (lib/mail/dnscheck.c: domain verification, the DNS checks of sending and hosted
 * domains, the milter's SPF lookups): a reply from a DNS server is outside input. The first
 * byte picks the record type asked for, the rest is the reply message as res_nquery
 * returns it.
 *
 * Contract checked: a reply that parses yields at most DNSCHECK_MAX_RECORDS records, each a
 * NUL-terminated string; CNAME, PTR, MX and SRV targets are lower case; MX answers are
 * "<preference> <host>" and SRV answers "<priority> <weight> <port> <target>" with numbers
 * that fit 16 bits; A and AAAA answers are addresses inet_pton reads back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mail/dnscheck.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_quiet("fuzz_dnsanswer");
    return 0;
}

static void
check_lower(const char *s)
{
    for (; *s; s++)
        if (isupper((unsigned char) *s))
            abort();
}

/* n numbers below 65536, separated by single spaces, then a space and the rest. */
static const char *
numbers(const char *s, int n)
{
    for (int i = 0; i < n; i++) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);

        if (end == s || v > 65535 || *end != ' ')
            abort();
        s = end + 1;
    }
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    DNSCHECK_ANSWER a;
    DNSCHECK_TYPE type;
    unsigned char addr[16];
    int n;

    if (size < 1)
        return 0;
    type = (DNSCHECK_TYPE) (data[0] % (DNSCHECK_SRV + 1));
    n = dnscheck_parse(data + 1, size - 1, type, &a);
    if (n < 0)
        return 0;
    if ((size_t) n != a.n || a.n > DNSCHECK_MAX_RECORDS)
        abort();
    for (size_t i = 0; i < a.n; i++) {
        const char *r = a.records[i];

        if (r == NULL)
            abort();
        switch (type) {
        case DNSCHECK_A:
        case DNSCHECK_AAAA:
            if (inet_pton(type == DNSCHECK_A ? AF_INET : AF_INET6, r, addr) != 1)
                abort();
            break;
        case DNSCHECK_CNAME:
        case DNSCHECK_PTR:
            check_lower(r);
            break;
        case DNSCHECK_MX:
            check_lower(numbers(r, 1));
            break;
        case DNSCHECK_SRV:
            check_lower(numbers(r, 3));
            break;
        case DNSCHECK_TXT:
            (void) strlen(r);
            break;
        }
    }
    dnscheck_answer_free(&a);
    return 0;
}
