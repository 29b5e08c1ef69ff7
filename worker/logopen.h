/*
 * logopen.h -- opening Postfix's maillog_file from a worker that runs as daemon.user.
 *
 * Postfix 3.7's postlogd creates maillog_file 0644, but Postfix 3.9 creates it 0600
 * (maillog_file_permissions) and sites often keep their log directory closed, and every
 * rotation makes a new file. So when the worker starts as root, logopen_start() forks a
 * helper that stays root and does exactly two things on request: open maillog_file, or
 * open the rotated file in the same directory (a name starting with maillog_file's name
 * and a dot) with a given inode -- read-only, regular files only -- and hand the
 * descriptor back over a socketpair (SCM_RIGHTS). It takes no path from the worker and
 * exits when the worker closes the socket or dies. Started as another user, the same
 * opens happen in-process with that user's permissions.
 *
 * Contract: one thread uses a LOGOPEN at a time. Descriptors returned are O_CLOEXEC and
 * belong to the caller.
 * Must never: open anything for writing, or follow a symbolic link to a rotated file.
 */
#ifndef PG_WORKER_LOGOPEN_H
#define PG_WORKER_LOGOPEN_H

typedef struct logopen LOGOPEN;

/* Call before privileges are dropped and before any thread starts. NULL after logging. */
LOGOPEN *logopen_start(const char *path);
/* maillog_file: 1 with *fd_r, 0 it does not exist (yet), -1 after logging why not. */
int logopen_current(LOGOPEN *lo, int *fd_r);
/* The rotated file with inode ino: 1 with *fd_r, 0 none (compressed or removed), -1. */
int logopen_rotated(LOGOPEN *lo, unsigned long long ino, int *fd_r);
/* Ends the helper and frees lo. */
void logopen_stop(LOGOPEN *lo);

#endif
