/*
 * fuzz.h -- what the libFuzzer harnesses of fuzz/ share (doc/fuzzing.md): quiet logging,
 * a configuration whose MariaDB cannot be reached (every lookup fails at once as a
 * temporary error, the path a daemon takes while MariaDB is down), a seal key, and a
 * socket pair that hands the fuzz input to a daemon's own connection loop.
 *
 * Contract: no harness needs MariaDB, Postfix or the network; each runs the module's
 * own parsing code, never a copy of it.
 */
#ifndef PG_FUZZ_H
#define PG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "mail/conf.h"
#include "util/seal.h"

/* The libFuzzer entry points the harnesses define. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Logging off (a fuzzer runs millions of inputs), program name set. */
void fuzz_quiet(const char *progname);
/* Built-in defaults, with database.socket pointing at a path that does not exist. */
PGCONF *fuzz_config(void);
/* A fresh installation key in a temporary file (removed again). */
SEAL_KEY *fuzz_seal(void);
/* A connected stream socket pair whose buffers hold FUZZ_MAX_INPUT bytes: data is
 * written to *peer_r and its writing side shut down, so the other end (returned) reads
 * data then end of file; a thread reads and drops what the daemon answers. -1 on failure. */
int fuzz_feed(const uint8_t *data, size_t size, int *peer_r);
/* Closes both ends once the daemon's answers are all read. */
void fuzz_close(int fd, int peer);

/* Larger inputs are cut (the socket buffers are sized for them). */
#define FUZZ_MAX_INPUT 65536

#endif
