/*
 * fuzz_dsn.c -- libFuzzer harness of the bounce parser (lib/mail/dsn.c): the input is a
 * whole message handed to dsn_parse() (the first byte picks the envelope sender: null,
 * a mailer daemon, or unknown). The contract checked besides memory safety: every string
 * is valid UTF-8, at most DSN_MAX_FIELD bytes, at most DSN_MAX_RCPTS recipients.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "fuzz.h"
#include "mail/address.h"
#include "mail/dsn.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet("fuzz_dsn");
    address_init();
    return 0;
}

static void
check_field(const char *name, const char *s)
{
    if (s && (strlen(s) > DSN_MAX_FIELD || !g_utf8_validate(s, -1, NULL))) {
        fprintf(stderr, "fuzz_dsn: %s breaks the contract (%zu bytes, UTF-8 %s)\n", name, strlen(s),
                g_utf8_validate(s, -1, NULL) ? "valid" : "invalid");
        abort();
    }
}
#define check(field) check_field(#field, field)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const senders[] = {"", "MAILER-DAEMON@example.net", NULL, "bounce@example.org"};
    const char *from;
    DSN *d;

    if (size < 1)
        return 0;
    from = senders[data[0] & 3];
    d = dsn_parse(data + 1, size - 1, from);
    if (d == NULL)
        abort();
    if (d->nrcpts > DSN_MAX_RCPTS)
        abort();
    check(d->reporting_mta);
    check(d->postfix_queue_id);
    check(d->orig_message_id);
    check(d->postal_msgid);
    for (size_t i = 0; i < d->nrcpts; i++) {
        const DSN_RCPT *r = &d->rcpts[i];

        check(r->final_recipient);
        check(r->original_recipient);
        check(r->action);
        check(r->status);
        check(r->diagnostic);
        check(r->remote_mta);
        (void) dsn_rcpt_is_hard(r);
    }
    (void) dsn_failed_rcpt(d, "someone@example.com");
    (void) dsn_failed_rcpt(d, NULL);
    dsn_free(d);
    return 0;
}
