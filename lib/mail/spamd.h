/*
 * spamd.h -- scoring a message with SpamAssassin's spamd over its native protocol
 * (SPAMC/1.5, the REPORT command), for the milter (DESIGN.md "Incoming").
 *
 * Contract: spamd_check() connects to a spec of lib/util/sock.h, sends the message
 * (which the caller has limited to spamd.max_size), and reads spamd's verdict, score,
 * threshold and the rules that matched with their points, all within timeout seconds.
 * Any failure (connection, timeout, a malformed or non-EX_OK answer) is -1 with a
 * reason, so the caller can apply spamd.when_unavailable: a message is never scored by
 * guessing.
 *
 * Must never: block past the timeout, or read more than SPAMD_MAX_ANSWER bytes.
 */
#ifndef PG_SPAMD_H
#define PG_SPAMD_H

#include <stddef.h>

#define SPAMD_MAX_ANSWER (256 * 1024)
#define SPAMD_MAX_RULES 128

typedef struct spamd_rule {
    char name[64];
    double score;
} SPAMD_RULE;

typedef struct spamd_result {
    int is_spam;                /* spamd's own verdict against its required score */
    double score;
    double threshold;           /* spamd's required score */
    SPAMD_RULE rules[SPAMD_MAX_RULES];
    size_t nrules;
} SPAMD_RESULT;

/* 0 with *r filled, -1 with *error_r (mem_free it). */
int spamd_check(const char *address, int timeout, const void *msg, size_t len, SPAMD_RESULT *r,
                char **error_r);

/* Parses spamd's answer (headers and REPORT body); exposed for the unit test. 0 with *r
 * filled, -1 with *error_r (mem_free it). */
int spamd_parse_answer(const char *answer, size_t len, SPAMD_RESULT *r, char **error_r);

#endif
