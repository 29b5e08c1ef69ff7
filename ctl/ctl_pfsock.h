/*
 * ctl_pfsock.h -- postgate's sockets as `postgatectl postfix` sees them: whether their
 * directories exist, creating them with the owner and group Postfix's smtpd needs, and
 * whether a daemon answers on them (check only warns: a stopped daemon is not a wiring
 * problem).
 */
#ifndef PG_CTL_PFSOCK_H
#define PG_CTL_PFSOCK_H

#include <stddef.h>

#include "ctl_postconf.h"

/* 1 with *dir_r (mem_free it) when socket which is a unix socket whose directory is
 * missing, else 0. */
int socket_dir_missing(const PF *pf, int which, char **dir_r);
/* Tries to connect to a postgate socket; returns NULL or why it failed (static text, or
 * why[why_len]). */
const char *try_connect(const char *spec, char *why, size_t why_len);
/* Creates a socket directory: mode 0750, owner daemon.user (root when that user does
 * not exist), group of Postfix's mail_owner so smtpd may enter it. 0, or EX_CANTCREAT. */
int make_socket_dir(const PF *pf, const char *dir);

#endif
