/*
 * autoconfig_doc.c -- mail clients' autoconfiguration documents, written and read with
 * libxml2 (autoconfig_doc.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "autoconfig_doc.h"
#include "util/buf.h"
#include "util/mem.h"

#define OUTLOOK_RESPONSE_NS "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define OUTLOOK_ACCOUNT_NS "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init_libxml(void)
{
    xmlInitParser();
}

int
autoconfig_security(const char *name)
{
    if (strcmp(name, "ssl") == 0)
        return AUTOCONFIG_SSL;
    if (strcmp(name, "starttls") == 0)
        return AUTOCONFIG_STARTTLS;
    if (strcmp(name, "none") == 0)
        return AUTOCONFIG_NONE;
    return -1;
}

/* A document being written: every call's failure is remembered, checked once at the end. */
typedef struct doc {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    int failed;
} DOC;

static int
doc_begin(DOC *d)
{
    pthread_once(&once, init_libxml);
    d->failed = 0;
    d->w = NULL;
    if ((d->buf = xmlBufferCreate()) == NULL || (d->w = xmlNewTextWriterMemory(d->buf, 0)) == NULL) {
        if (d->buf)
            xmlBufferFree(d->buf);
        return -1;
    }
    xmlTextWriterSetIndent(d->w, 1);
    xmlTextWriterSetIndentString(d->w, BAD_CAST "  ");
    d->failed |= xmlTextWriterStartDocument(d->w, "1.0", "UTF-8", NULL) < 0;
    return 0;
}

static void
start(DOC *d, const char *name)
{
    d->failed |= xmlTextWriterStartElement(d->w, BAD_CAST name) < 0;
}

static void
attr(DOC *d, const char *name, const char *value)
{
    d->failed |= xmlTextWriterWriteAttribute(d->w, BAD_CAST name, BAD_CAST value) < 0;
}

static void
end(DOC *d)
{
    d->failed |= xmlTextWriterEndElement(d->w) < 0;
}

/* <name>value</name>, the value escaped by libxml2. */
static void
element(DOC *d, const char *name, const char *value)
{
    d->failed |= xmlTextWriterWriteElement(d->w, BAD_CAST name, BAD_CAST value) < 0;
}

static void
element_uint(DOC *d, const char *name, unsigned value)
{
    char num[16];

    snprintf(num, sizeof(num), "%u", value);
    element(d, name, num);
}

/* The document's text (mem_free), NULL when anything failed. */
static char *
doc_end(DOC *d, size_t *len_r)
{
    char *out = NULL;

    d->failed |= xmlTextWriterEndDocument(d->w) < 0;
    xmlFreeTextWriter(d->w);    /* flushes into buf */
    if (!d->failed) {
        *len_r = (size_t) xmlBufferLength(d->buf);
        out = mem_strndup((const char *) xmlBufferContent(d->buf), *len_r);
    }
    xmlBufferFree(d->buf);
    return out;
}

/* ---------------------------------------------------------------- Thunderbird */

static const char *
thunderbird_socket(AUTOCONFIG_SECURITY s)
{
    return s == AUTOCONFIG_SSL ? "SSL" : s == AUTOCONFIG_STARTTLS ? "STARTTLS" : "plain";
}

static void
thunderbird_server(DOC *d, const char *element_name, const char *type, const AUTOCONFIG_SERVER *s)
{
    start(d, element_name);
    attr(d, "type", type);
    element(d, "hostname", s->hostname);
    element_uint(d, "port", s->port);
    element(d, "socketType", thunderbird_socket(s->security));
    element(d, "authentication", "password-cleartext");
    element(d, "username", "%EMAILADDRESS%");
    end(d);
}

char *
autoconfig_thunderbird(const AUTOCONFIG *ac, size_t *len_r)
{
    DOC d;

    if (doc_begin(&d) < 0)
        return NULL;
    start(&d, "clientConfig");
    attr(&d, "version", "1.1");
    start(&d, "emailProvider");
    attr(&d, "id", ac->domain);
    element(&d, "domain", ac->domain);
    element(&d, "displayName", ac->domain);
    element(&d, "displayShortName", ac->domain);
    thunderbird_server(&d, "incomingServer", "imap", &ac->imap);
    thunderbird_server(&d, "incomingServer", "pop3", &ac->pop3);
    thunderbird_server(&d, "outgoingServer", "smtp", &ac->submission);
    end(&d);
    end(&d);
    return doc_end(&d, len_r);
}

/* ---------------------------------------------------------------- Outlook */

static void
outlook_protocol(DOC *d, const char *type, const AUTOCONFIG_SERVER *s, const char *login)
{
    start(d, "Protocol");
    element(d, "Type", type);
    element(d, "Server", s->hostname);
    element_uint(d, "Port", s->port);
    element(d, "DomainRequired", "off");
    element(d, "LoginName", login);
    element(d, "SPA", "off");
    element(d, "SSL", s->security == AUTOCONFIG_NONE ? "off" : "on");
    element(d, "Encryption", s->security == AUTOCONFIG_SSL ? "SSL" : s->security == AUTOCONFIG_STARTTLS ? "TLS" : "None");
    element(d, "AuthRequired", "on");
    end(d);
}

char *
autoconfig_outlook(const AUTOCONFIG *ac, size_t *len_r)
{
    DOC d;

    if (ac->address == NULL || doc_begin(&d) < 0)
        return NULL;
    start(&d, "Autodiscover");
    attr(&d, "xmlns", OUTLOOK_RESPONSE_NS);
    start(&d, "Response");
    attr(&d, "xmlns", OUTLOOK_ACCOUNT_NS);
    start(&d, "Account");
    element(&d, "AccountType", "email");
    element(&d, "Action", "settings");
    outlook_protocol(&d, "IMAP", &ac->imap, ac->address);
    outlook_protocol(&d, "POP3", &ac->pop3, ac->address);
    outlook_protocol(&d, "SMTP", &ac->submission, ac->address);
    end(&d);
    end(&d);
    end(&d);
    return doc_end(&d, len_r);
}

/* 1 when node is an element whose local name is name (any namespace: clients differ). */
static int
is_element(const xmlNode *node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && strcmp((const char *) node->name, name) == 0;
}

static xmlNode *
child(xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
        if (is_element(n, name))
            return n;
    return NULL;
}

int
autoconfig_outlook_request(const void *body, size_t len, char *out, size_t size)
{
    xmlDoc *doc;
    xmlNode *node;
    xmlChar *text;
    int found = 0;

    pthread_once(&once, init_libxml);
    if (size == 0 || len == 0 || len > 1024 * 1024)
        return 0;
    /* No entity is expanded, nothing is fetched (NONET), no DTD is loaded; and a document
     * that declares one is refused outright, so no internal entity can amplify either. */
    doc = xmlReadMemory(body, (int) len, "autodiscover.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    if (doc == NULL)
        return 0;
    if (doc->intSubset == NULL && doc->extSubset == NULL) {
        node = xmlDocGetRootElement(doc);
        if (is_element(node, "Autodiscover") && (node = child(child(node, "Request"), "EMailAddress")) != NULL
            && (text = xmlNodeGetContent(node)) != NULL) {
            const char *s = (const char *) text, *e;

            while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                s++;
            e = s + strlen(s);
            while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
                e--;
            if (e > s && (size_t) (e - s) < size) {
                memcpy(out, s, (size_t) (e - s));
                out[e - s] = '\0';
                found = 1;
            }
            xmlFree(text);
        }
    }
    xmlFreeDoc(doc);
    return found;
}

/* ---------------------------------------------------------------- Apple */

static void
plist_string(DOC *d, const char *key, const char *value)
{
    element(d, "key", key);
    element(d, "string", value);
}

static void
plist_uint(DOC *d, const char *key, unsigned value)
{
    element(d, "key", key);
    element_uint(d, "integer", value);
}

static void
plist_bool(DOC *d, const char *key, int value)
{
    element(d, "key", key);
    start(d, value ? "true" : "false");
    end(d);
}

char *
autoconfig_apple(const AUTOCONFIG *ac, const char *uuid, const char *uuid2, size_t *len_r)
{
    char *identifier, *description;
    char *out;
    DOC d;

    if (ac->address == NULL || doc_begin(&d) < 0)
        return NULL;
    /* One identifier per account: a second mailbox's profile sits beside the first, the same
     * one installed again replaces itself. */
    identifier = buf_asprintf("postgate.mail.%s", ac->address);
    description = buf_asprintf("Mail account %s (IMAP and SMTP)", ac->address);
    d.failed |= xmlTextWriterStartDTD(d.w, BAD_CAST "plist", BAD_CAST "-//Apple//DTD PLIST 1.0//EN",
                                      BAD_CAST "http://www.apple.com/DTDs/PropertyList-1.0.dtd") < 0;
    d.failed |= xmlTextWriterEndDTD(d.w) < 0;
    start(&d, "plist");
    attr(&d, "version", "1.0");
    start(&d, "dict");
    element(&d, "key", "PayloadContent");
    start(&d, "array");
    start(&d, "dict");
    plist_string(&d, "EmailAccountDescription", ac->address);
    plist_string(&d, "EmailAccountType", "EmailTypeIMAP");
    plist_string(&d, "EmailAddress", ac->address);
    plist_string(&d, "IncomingMailServerAuthentication", "EmailAuthPassword");
    plist_string(&d, "IncomingMailServerHostName", ac->imap.hostname);
    plist_uint(&d, "IncomingMailServerPortNumber", ac->imap.port);
    plist_bool(&d, "IncomingMailServerUseSSL", ac->imap.security != AUTOCONFIG_NONE);
    plist_string(&d, "IncomingMailServerUsername", ac->address);
    plist_string(&d, "OutgoingMailServerAuthentication", "EmailAuthPassword");
    plist_string(&d, "OutgoingMailServerHostName", ac->submission.hostname);
    plist_uint(&d, "OutgoingMailServerPortNumber", ac->submission.port);
    plist_bool(&d, "OutgoingMailServerUseSSL", ac->submission.security != AUTOCONFIG_NONE);
    plist_string(&d, "OutgoingMailServerUsername", ac->address);
    plist_bool(&d, "OutgoingPasswordSameAsIncomingPassword", 1);
    plist_string(&d, "PayloadDescription", description);
    plist_string(&d, "PayloadDisplayName", ac->address);
    plist_string(&d, "PayloadIdentifier", identifier);
    plist_string(&d, "PayloadType", "com.apple.mail.managed");
    plist_string(&d, "PayloadUUID", uuid2);
    plist_uint(&d, "PayloadVersion", 1);
    end(&d);
    end(&d);
    plist_string(&d, "PayloadDescription", description);
    plist_string(&d, "PayloadDisplayName", ac->address);
    plist_string(&d, "PayloadIdentifier", identifier);
    plist_bool(&d, "PayloadRemovalDisallowed", 0);
    plist_string(&d, "PayloadType", "Configuration");
    plist_string(&d, "PayloadUUID", uuid);
    plist_uint(&d, "PayloadVersion", 1);
    end(&d);
    end(&d);
    out = doc_end(&d, len_r);
    mem_free(identifier);
    mem_free(description);
    return out;
}
