/*
 * autoconfig_doc.h -- the documents mail clients read to set up a hosted mailbox from its
 * address alone, and the one request they send: Thunderbird's autoconfig (clientConfig
 * 1.1), Outlook's POX autodiscover (request and response schemas of 2006) and an Apple
 * configuration profile (.mobileconfig, com.apple.mail.managed). Pure: no database, no
 * HTTP (autoconfig.c answers the requests); written and read with libxml2, so every value
 * is escaped by the library and entities are never expanded.
 *
 * Must never: put a value into a document unescaped, or load anything a request names
 * (no network, no external entities, no DTD).
 */
#ifndef PG_AUTOCONFIG_DOC_H
#define PG_AUTOCONFIG_DOC_H

#include <stddef.h>

typedef enum { AUTOCONFIG_SSL, AUTOCONFIG_STARTTLS, AUTOCONFIG_NONE } AUTOCONFIG_SECURITY;

typedef struct autoconfig_server {
    const char *hostname;
    unsigned port;
    AUTOCONFIG_SECURITY security;
} AUTOCONFIG_SERVER;

typedef struct autoconfig {
    const char *domain;         /* the hosted domain, lower case */
    const char *address;        /* the mailbox address (its login name); NULL: not known */
    AUTOCONFIG_SERVER imap, pop3, submission;
} AUTOCONFIG;

/* "ssl", "starttls" or "none" (configuration values); -1 for anything else. */
int autoconfig_security(const char *name);

/* The documents (UTF-8 XML, mem_free; *len_r its length), NULL when libxml2 fails.
 * Thunderbird's names the login %EMAILADDRESS% (the client fills it in); Outlook's and
 * Apple's need ac->address. uuid and uuid2 are the profile's and its payload's
 * PayloadUUID (fresh ones: a profile installed twice replaces itself by identifier). */
char *autoconfig_thunderbird(const AUTOCONFIG *ac, size_t *len_r);
char *autoconfig_outlook(const AUTOCONFIG *ac, size_t *len_r);
char *autoconfig_apple(const AUTOCONFIG *ac, const char *uuid, const char *uuid2, size_t *len_r);

/* Outlook's request (<Autodiscover><Request><EMailAddress>…</EMailAddress>…): 1 with the
 * address (trimmed) in out, 0 when the body is not such a request, has no address or one
 * longer than size - 1. */
int autoconfig_outlook_request(const void *body, size_t len, char *out, size_t size);

#endif
