/*
 * fuzz_logline.c -- libFuzzer harness of the Postfix log line parser (worker/logline.c):
 * every line of the input goes through logline_parse() (which works in place) and, for a
 * delivery, logline_reply() on its text; logline_queue_id_valid() sees each queue ID.
 * The parser's contract: any bytes, never a read past the NUL, nothing allocated.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "logline.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet("fuzz_logline");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;

    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t) (end - p));
        size_t len = (size_t) ((nl ? nl : end) - p);
        /* An exact-size copy, so ASan sees any read past the line's NUL. */
        char *line = malloc(len + 1);
        LOGLINE ll;

        memcpy(line, p, len);
        line[len] = '\0';
        if (logline_parse(line, 1700000000, &ll) == LOGLINE_DELIVERY && ll.text) {
            size_t rlen;
            const char *r = logline_reply(ll.text, &rlen);

            if (r && rlen > strlen(r))
                abort();    /* the reply must lie inside the text */
        }
        if (ll.queue_id)
            (void) logline_queue_id_valid(ll.queue_id);
        free(line);
        p += len + (nl != NULL);
    }
    return 0;
}
