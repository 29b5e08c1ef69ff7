/*
 * run.h -- running a program without a shell and capturing what it writes: fixed argv,
 * stdin from /dev/null, stdout and stderr each collected up to a limit (the rest is
 * read and dropped so the child never blocks), and a deadline after which it is killed.
 *
 * Safe in threaded programs: the pipes are made close-on-exec atomically (pipe2), and
 * the child calls only async-signal-safe functions before execv.
 * Must never: pass anything through a shell, or wait for a child without a deadline.
 */
#ifndef PG_RUN_H
#define PG_RUN_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"

/* Runs argv[0] (an absolute path) with argv, collecting stdout into out and stderr into
 * err, each at most limit bytes (*truncated_r, when not NULL, set when stdout had more).
 * Returns its exit status (127 when it could not be executed), or -1 when it could not
 * be started, was killed or ran past timeout_seconds (the reason appended to err). */
int run_capture(char *const argv[], int timeout_seconds, size_t limit, BUF *out, BUF *err, int *truncated_r);
/* The same with stdin read from in_fd (-1: /dev/null) and stdout written to out_fd (a
 * dump, a restore: data too large to hold), stderr collected up to err_limit. */
int run_files(char *const argv[], int timeout_seconds, int in_fd, int out_fd, BUF *err, size_t err_limit);

#endif
