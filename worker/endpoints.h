/*
 * endpoints.h -- postgate-worker's "endpoints" task: delivers incoming messages to their
 * route's endpoints (queue.h's queued_messages, written by the LMTP task).
 *
 * One thread drives libcurl's multi interface: it claims due rows while there is room
 * (worker.endpoint_max_in_flight), builds each request and runs them all at once:
 *   HTTP     Postal's payload (inpayload.h: Hash or RawMessage, JSON or form), signed
 *            like webhooks (X-Postal-Signature, -256, -KID), the endpoint's timeout;
 *            2xx delivered; 5xx, timeouts and connection/TLS errors retried; 429 a
 *            permanent failure without a bounce; any other code a permanent failure;
 *   SMTP     the stored message through libcurl's SMTP client (ssl_mode None, Auto =
 *            STARTTLS when offered, STARTTLS required, TLS implicit; optional AUTH with
 *            the sealed password); 5xx permanent, anything else retried;
 *   Address  the stored message handed to Postfix's forward service
 *            (postfix.forward_address, no milter) for the endpoint's address, with an
 *            X-Postgate-Forwarded-For header naming the route address: a message that
 *            already went through that route address (or 10 of them) is a mail loop
 *            and fails permanently.
 * HTTP and SMTP endpoints are a tenant's receivers: their connections are guarded
 * (httpsend.h: no internal address unless security.outbound_allowed_networks lists it),
 * and every HTTP request carries Idempotency-Key "msg-<id>-<token>-ep-<endpoint>", the
 * same on every retry. The forward service is ours and is not guarded.
 * Retries wait about 1.3^attempts x worker.endpoint_retry_delay, up to
 * worker.endpoint_max_attempts attempts. After a permanent failure (except 429) the
 * sender gets an RFC 3464 report (ndr.h) through the forward service, from <>. Every
 * attempt is a deliveries row; the message is Processed, SoftFail while retrying,
 * HardFail, or Error when its endpoint or stored copy is gone.
 *
 * Must never: block on one endpoint (every transfer has its own timeout in the multi
 * handle), drop an outcome because MariaDB is down (outcomes wait in memory; rows whose
 * lease ran out meanwhile are delivered again: at least once), or bounce mail whose
 * sender is empty.
 */
#ifndef PG_WORKER_ENDPOINTS_H
#define PG_WORKER_ENDPOINTS_H

#include "task.h"

int endpoints_prepare(WORKER_ENV *env, void **task_r);
int endpoints_start(WORKER_ENV *env, void **task_r);
void endpoints_stop(void *task);

#endif
