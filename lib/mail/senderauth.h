/*
 * senderauth.h -- whether the envelope sender of an incoming message was authenticated,
 * and so whether it may receive a report when an endpoint refuses the message.
 *
 * postgate-milter checks SPF for the MAIL FROM domain (libspf2) and the DKIM signatures
 * (libopendkim) on arrival; the results travel to postgate-worker in the signed
 * inspection header (inspection.h) and are stored on the message rows (messages.spf_result,
 * dkim_result, dkim_domain). A report goes only to a sender that passed SPF, or for whom a
 * valid DKIM signature's d= is aligned: the same organizational domain (the registrable
 * domain under the Public Suffix List, libpsl; the exact domain when libpsl knows none).
 *
 * Must never: allow a report on a temperror, a fail, or a result it cannot read (no
 * backscatter to forged senders: a lost report is the lesser harm).
 */
#ifndef PG_SENDERAUTH_H
#define PG_SENDERAUTH_H

#include <stddef.h>

/* 1 when the DKIM domain d aligns with the sender's domain (relaxed, as DMARC). */
int senderauth_aligned(const char *sender_domain, const char *d);

/* Whether a report may go to sender: 1 yes, 0 no; why (always filled, for the delivery
 * log) says which check passed or "the sender was not authenticated (SPF none, DKIM fail)".
 * spf and dkim are the stored results (NULL or "": not checked). Mail that was not checked
 * and whose sender is a return path of this installation (return_path_domain) came through
 * postgate's own outgoing path (a tenant's mail to a route, a forward): the mail from the
 * Internet is always checked, so its report goes back to postgate as a bounce. */
int senderauth_report_allowed(const char *sender, const char *spf, const char *dkim, const char *dkim_domain,
                              const char *return_path_domain, char *why, size_t size);

#endif
