/*
 * lmtp.h -- the "lmtp" task of postgate-worker: an LMTP server (RFC 2033) on
 * worker.lmtp_listen, where Postfix delivers incoming mail and bounces (relay_transport,
 * wired by `postgatectl postfix enable`).
 *
 * Per recipient: RCPT is answered from lib/mail/inbound.h (550 5.1.1 for an address
 * no route or message owns, 550 5.7.1 for a route in Reject mode, 451 4.3.0 when
 * MariaDB cannot say); after DATA each accepted recipient gets its own reply, and 250
 * only once its message row and the raw message are committed (one raw copy per server,
 * one row per recipient, the endpoint delivery queue in the same transaction). Route
 * modes: Endpoint queues delivery (Held when the route has no endpoint), Accept is
 * Processed, Hold is Held; a return path without a __returnpath__ route is kept
 * Processed as a bounce for its message. Messages over milter.max_message_size get 552.
 *
 * Must never: say 250 for a recipient before its message is durably stored, or accept a
 * recipient that does not exist.
 */
#ifndef PG_WORKER_LMTP_H
#define PG_WORKER_LMTP_H

#include "task.h"

int lmtp_prepare(WORKER_ENV *env, void **task_r);
int lmtp_start(WORKER_ENV *env, void **task_r);
void lmtp_stop(void *task);

#endif
