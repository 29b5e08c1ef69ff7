/*
 * maillog.h -- the "maillog" task (task.h): delivery results from Postfix's log.
 * prepare() starts the root helper that opens maillog_file (logopen.h); start() runs
 * one reader thread; stop() lets it finish its batch and joins it.
 */
#ifndef PG_WORKER_MAILLOG_H
#define PG_WORKER_MAILLOG_H

#include "task.h"

typedef struct maillog MAILLOG;

int maillog_prepare(WORKER_ENV *env, void **task_r);
int maillog_start(WORKER_ENV *env, void **task_r);
void maillog_stop(void *task);

#endif
