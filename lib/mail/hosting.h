/*
 * hosting.h -- what Postfix asks about hosted domains (DESIGN.md §8), answered by
 * postgate-policyd's socketmap: which domains are hosted (virtual_mailbox_domains),
 * which addresses are mailboxes (virtual_mailbox_maps), where an address's mail goes
 * (virtual_alias_maps: an alias's destinations, a mailbox itself, "@domain" the
 * catch-all) and which logins may send as an address (smtpd_sender_login_maps).
 *
 * A domain alias (domains.alias_of, schema 016) answers as its target: local@alias maps to
 * what local@target maps to, and the logins that own local@target own local@alias.
 *
 * Only verified domains with hosting switched on, of a live server or organization,
 * answer: an unverified domain, or another tenant's unverified row of the same name,
 * never steers mail (a name is verified by one owner at a time, schema 003).
 * Keys are compared lower-cased (Postfix folds table keys; local parts are stored lower
 * case). Read-only: writes nothing.
 *
 * Contract: 1 found (the answer appended to out), 0 not found, < 0 database error
 * (DB_ERR_TEMP / DB_ERR_PERM): a failure is never "not found", so Postfix says 4xx.
 * Must never: answer for a domain that is not hosted, or put a key into SQL text.
 */
#ifndef PG_HOSTING_H
#define PG_HOSTING_H

#include "mail/db.h"
#include "util/buf.h"

/* The hosted domains, lower case (*names_r: mem_free each and the array): count or < 0. */
int hosting_domain_list(DB *db, char ***names_r, size_t *count_r);
/* Is address a mailbox of a hosted domain? Disabled mailboxes still receive mail. */
int hosting_mailbox(DB *db, const char *address);
/* virtual_alias_maps for key "local@domain" or "@domain" (the catch-all): the comma-
 * separated destinations of an enabled alias, else a mailbox's own address, else the
 * destinations of the domain's catch-all (Postfix does not try "@domain" itself for a
 * socketmap table). */
int hosting_alias(DB *db, const char *key, BUF *out);
/* The owner of a recipient at a hosted domain, for postgate-milter's spam and virus checks of
 * mail to mailboxes: 1 when address's domain is hosted (whatever the local part: Postfix has
 * refused unknown ones at RCPT), with the domain's server in *server_id_r (0 for an
 * organization's domain), 0 when it is not, < 0 error. */
int hosting_recipient(DB *db, const char *address, unsigned long long *server_id_r);
/* The quota check at RCPT (check_recipient_access on the hosted_quota map): 1 when address is
 * a mailbox whose usage has reached its limit of bytes or of messages (0: unlimited), with the
 * limit reached ("bytes" or "messages") in *which_r; 0 when it is not (or no mailbox: an
 * alias, or an unknown address Postfix refuses by itself), < 0 error. The usage is Dovecot's
 * copy (mailbox_usage, schema 015), current after every delivery and expunge; Dovecot's
 * LMTP still enforces the quota at delivery (quota_full_tempfail: 452, the mail stays queued). */
int hosting_quota_full(DB *db, const char *address, const char **which_r);
/* smtpd_sender_login_maps: the logins (mailbox addresses) that own address: the mailbox of
 * that address and the destinations of the alias of that address, comma-separated. */
int hosting_sender_logins(DB *db, const char *address, BUF *out);

/* A mailbox user signing in to submit mail (SMTP AUTH with the address and its password). */
typedef struct hosting_login {
    unsigned long long mailbox_id;
    unsigned long long server_id;   /* the domain's server; 0 for an organization's domain */
    char address[320];              /* lower case: the login name Postfix passes on */
    int suspended;                  /* its server or organization is suspended */
} HOSTING_LOGIN;
/* The enabled mailbox address of a hosted domain: 1 with *out (and, when hash_r is not
 * NULL, its argon2id hash in *hash_r: mem_free it), 0 none (or disabled), < 0 error. */
int hosting_login(DB *db, const char *address, HOSTING_LOGIN *out, char **hash_r);
/* May login (the address of a mailbox that signed in) send as address: its own (no query),
 * or an enabled alias of a hosted domain that delivers to it? 1 yes, 0 no, < 0 error. */
int hosting_login_owns(DB *db, const char *login, const char *address);

#endif
