/*
 * clamd.h -- scanning a message with ClamAV's clamd over its native protocol
 * (zINSTREAM), for the milter (DESIGN.md "Incoming").
 *
 * Contract: clamd_scan() connects to a spec of lib/util/sock.h, streams the message in
 * chunks and reads clamd's one-line verdict within timeout seconds: 0 clean, 1 infected
 * (with the signature name), -1 when clamd could not say (connection, timeout, "size
 * limit exceeded", any ERROR answer), so the caller can apply clamd.when_unavailable.
 *
 * Must never: treat an error answer as clean, or block past the timeout.
 */
#ifndef PG_CLAMD_H
#define PG_CLAMD_H

#include <stddef.h>

#define CLAMD_CHUNK 65536

/* 0 clean, 1 infected (*virus_r, mem_free it), -1 with *error_r (mem_free it). */
int clamd_scan(const char *address, int timeout, const void *msg, size_t len, char **virus_r, char **error_r);

/* Interprets clamd's answer line (exposed for the unit test); same results as clamd_scan
 * (0 clean, 1 infected with *virus_r, -1 with *error_r; the caller mem_frees both). */
int clamd_parse_answer(const char *answer, char **virus_r, char **error_r);

#endif
