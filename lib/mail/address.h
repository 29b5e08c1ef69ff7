/*
 * address.h -- e-mail addresses: the mailboxes of an RFC 5322 address-list header
 * (From, Sender, To) through GMime's parser (display names, quoted strings, comments
 * and groups), and the domain of an envelope address. Call address_init() once
 * before threads start.
 */
#ifndef PG_ADDRESS_H
#define PG_ADDRESS_H

#include <stddef.h>

void address_init(void);
/* The addr-specs of every mailbox in value (groups flattened), lower-cased domains.
 * Returns the count (0: none or unparseable); free with address_list_free. */
size_t address_list_parse(const char *value, char ***addrs_r);
/* Like address_list_parse, for From and Sender: 0 (*error_r set, mem_free it; no list) unless
 * the value is one unambiguous address list: no junk GMime would skip (a second '@',
 * a route, an empty local part, stray angle brackets, unclosed quotes or comments),
 * every address with one '@', a local part and a host-name domain. */
size_t address_list_parse_strict(const char *value, char ***addrs_r, char **error_r);
void address_list_free(char **addrs, size_t n);
/* Longest account address address_email_ok() accepts, and longest local part. */
#define ADDRESS_EMAIL_MAX 255
#define ADDRESS_LOCAL_MAX 64
/* 1 when email is a plain account address (the web admin's users, invitations): one '@',
 * a local part of 1 to ADDRESS_LOCAL_MAX bytes, at most ADDRESS_EMAIL_MAX bytes in all, no
 * space, control character, '<', '>', '"' or '\\' anywhere, and a host-name domain (labels
 * of letters, digits, '-' and UTF-8 bytes; no empty label). Else 0. No quoted local parts
 * or address literals: an account's address is typed, not copied from a header. */
int address_email_ok(const char *email);
/* The domain part of addr (after the last '@'), or NULL. */
const char *address_domain(const char *addr);
/* "<a@b>" or "a@b" with ESMTP parameters stripped, into out. -1 when too long. */
int address_envelope(const char *arg, char *out, size_t len);

#endif
