/*
 * sysmail.h -- postgate's own mail (domain verification codes, invitations, password resets) handed to Postfix's
 * sendmail(1), the way any program on a Postfix host sends mail: built by mime_build(),
 * piped to sysmail.sendmail_path with a fixed argument list, no shell.
 *
 * The message goes through Postfix's pickup and its non_smtpd_milters like any local
 * submission: postgate-milter passes mail sent by no credential to outside addresses
 * untouched, so it is neither signed nor counted against any server.
 * Must never: put a recipient or a sender on a command line where sendmail could read it
 * as an option (they follow "--" and must be plain addresses), or wait for sendmail
 * without a deadline.
 */
#ifndef PG_SYSMAIL_H
#define PG_SYSMAIL_H

#include "mail/conf.h"

/* Sends a text/plain UTF-8 message from sysmail.from (empty: postmaster@<dns.smtp_server_hostname>)
 * to the one address rcpt. 0 when sendmail took it, -1 with *error_r (mem_free it): an
 * address it cannot use, sendmail missing, failing or past its deadline. */
int sysmail_send(const PGCONF *cfg, const char *rcpt, const char *subject, const char *body, char **error_r);

#endif
