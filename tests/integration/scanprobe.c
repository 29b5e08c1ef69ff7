/*
 * scanprobe.c -- drives lib/mail/spamd.c and clamd.c for scan.t:
 *   scanprobe spamd|clamd ADDRESS FILE [TIMEOUT]
 * prints "spam=<0|1> score=S threshold=T rules=NAME:S,..." or "clean" / "infected NAME"
 * and exits 0; a scanner that could not answer prints "error: REASON" and exits 2.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/clamd.h"
#include "mail/spamd.h"
#include "util/buf.h"
#include "util/mem.h"

int
main(int argc, char **argv)
{
    char chunk[65536], *error = NULL;
    int timeout = argc > 4 ? atoi(argv[4]) : 10;
    BUF *msg = buf_new(65536);
    FILE *fp;
    size_t n;

    if (argc < 4) {
        fprintf(stderr, "usage: scanprobe spamd|clamd ADDRESS FILE [TIMEOUT]\n");
        return 64;
    }
    if ((fp = fopen(argv[3], "rb")) == NULL) {
        perror(argv[3]);
        return 66;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(msg, chunk, n);
    fclose(fp);
    if (strcmp(argv[1], "spamd") == 0) {
        SPAMD_RESULT r;

        if (spamd_check(argv[2], timeout, buf_data(msg), buf_len(msg), &r, &error) < 0) {
            printf("error: %s\n", error);
            mem_free(error);
            buf_free(msg);
            return 2;
        }
        printf("spam=%d score=%.1f threshold=%.1f rules=", r.is_spam, r.score, r.threshold);
        for (size_t i = 0; i < r.nrules; i++)
            printf("%s%s:%.1f", i ? "," : "", r.rules[i].name, r.rules[i].score);
        printf("\n");
    } else {
        char *virus = NULL;
        int ret = clamd_scan(argv[2], timeout, buf_data(msg), buf_len(msg), &virus, &error);

        if (ret < 0) {
            printf("error: %s\n", error);
            mem_free(error);
            buf_free(msg);
            return 2;
        }
        printf(ret ? "infected %s\n" : "clean\n", virus ? virus : "");
        mem_free(virus);
    }
    buf_free(msg);
    return 0;
}
