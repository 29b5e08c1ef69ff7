/*
 * fuzz_track.c -- libFuzzer harness of the link rewriter (lib/mail/track.c, with the MIME
 * walk mimewalk.c and the transfer codecs cte.c under it): the input is a whole message
 * given to track_rewrite_message() with clicks, opens and (by the first byte) plain-text
 * tracking and an excluded domain; link tokens come from a counter so a run is
 * repeatable. Checked besides memory safety: a message it says it left alone has no body
 * and no links, and every link has a URL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "mail/address.h"
#include "mail/track.h"

static int
counter_token(void *arg, char out[TRACK_TOKEN_LEN + 1])
{
    unsigned long *n = arg;

    snprintf(out, TRACK_TOKEN_LEN + 1, "t%015lu", ++*n);
    return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet("fuzz_track");
    address_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned long n = 0;
    TRACK_SETTINGS s = {
        .host = "click.example.com", .server_token = "srvtok", .message_token = "msgtok",
        .token_fn = counter_token, .token_arg = &n,
    };
    TRACK_RESULT r;
    int ret;

    if (size < 1)
        return 0;
    s.ssl = data[0] & 1;
    s.track_clicks = !(data[0] & 2);
    s.track_loads = !(data[0] & 4);
    s.track_plain = (data[0] & 8) != 0;
    s.excluded_domains = data[0] & 16 ? "example.org, excluded.example" : NULL;
    ret = track_rewrite_message(&s, data + 1, size - 1, &r);
    if (ret < 0 || (ret == 0 && (r.body || r.nlinks)))
        abort();
    for (size_t i = 0; i < r.nlinks; i++)
        if (r.links[i].url == NULL)
            abort();
    track_result_free(&r);
    return 0;
}
