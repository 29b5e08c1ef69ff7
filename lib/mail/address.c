/*
 * address.c -- address parsing (address.h). GMime does the RFC 5322 work; this file
 * flattens the result into plain strings, and for the headers that decide who sends
 * (From, Sender) checks that GMime's reading is the only one: GMime forgives junk
 * (it reads "me@mine.com@bank.com" as me@mine.com and drops "victim<@bank.com>"), and
 * a mail client that reads the same header differently must not be shown an address
 * the ownership check never saw.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "mail/address.h"
#include "util/buf.h"
#include "util/mem.h"

void
address_init(void)
{
    g_mime_init();
}

static void
collect(InternetAddressList *list, char ***addrs, size_t *n)
{
    int count = internet_address_list_length(list);

    for (int i = 0; i < count; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);

        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            collect(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), addrs, n);
        } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *spec = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            char *copy, *at;

            if (spec == NULL || *spec == '\0')
                continue;
            copy = mem_strdup(spec);
            if ((at = strrchr(copy, '@')) != NULL)
                for (char *p = at + 1; *p; p++)
                    *p = (char) tolower((unsigned char) *p);
            *addrs = mem_realloc(*addrs, (*n + 1) * sizeof(char *));
            (*addrs)[(*n)++] = copy;
        }
    }
}

size_t
address_list_parse(const char *value, char ***addrs_r)
{
    InternetAddressList *list = internet_address_list_parse(NULL, value);
    size_t n = 0;

    *addrs_r = NULL;
    if (list == NULL)
        return 0;
    collect(list, addrs_r, &n);
    g_object_unref(list);
    return n;
}

/*
 * The header value reduced to its structure: quoted strings become 'Q', comments a
 * space (both with their backslash escapes), everything else is kept. NULL when a
 * quoted string or a comment is not closed.
 */
static char *
skeleton(const char *value)
{
    BUF *b = buf_new(strlen(value) + 1);
    int depth = 0, quoted = 0;

    for (const char *p = value; *p; p++) {
        if (quoted) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                quoted = 0;
        } else if (depth) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0)
                buf_append_char(b, ' ');
        } else if (*p == '"') {
            quoted = 1;
            buf_append_char(b, 'Q');
        } else if (*p == '(') {
            depth = 1;
        } else {
            buf_append_char(b, *p);
        }
    }
    if (quoted || depth) {
        buf_free(b);
        return NULL;
    }
    return buf_steal(b, NULL);
}

static int
is_delimiter(char c)
{
    return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '>' || c == ';';
}

/* Checks the skeleton against the mailboxes GMime found: angle brackets paired and not
 * nested, one '@' per mailbox, each with text before it and, after it, exactly the
 * domain GMime read, in the same order. NULL when they agree, else why not. */
static const char *
skeleton_agrees(const char *sk, char **addrs, size_t n)
{
    size_t at = 0;
    int open = 0;

    for (const char *p = sk; *p; p++) {
        if (*p == '<') {
            if (open++)
                return "nested angle brackets";
        } else if (*p == '>') {
            if (!open--)
                return "unpaired angle bracket";
        } else if (*p == '@') {
            const char *domain, *end;
            size_t len;

            if (at >= n)
                return "more '@' than addresses";
            if (p == sk || is_delimiter(p[-1]) || p[-1] == '<' || p[-1] == ':')
                return "an empty local part";
            domain = address_domain(addrs[at]);
            for (end = p + 1; !is_delimiter(*end) && *end != '<' && *end != '@'; end++)
                ;
            len = (size_t) (end - p - 1);
            if (domain == NULL || strlen(domain) != len || strncasecmp(p + 1, domain, len) != 0)
                return "an address that reads two ways";
            at++;
        }
    }
    if (open)
        return "unpaired angle bracket";
    if (at != n)
        return "an address without '@'";
    return NULL;
}

/* A domain that a DNS lookup could be about: labels of letters, digits, '-' and
 * UTF-8 (IDN) bytes. */
static int
plain_domain(const char *d)
{
    size_t label = 0;

    if (*d == '\0' || *d == '.')
        return 0;
    for (const char *p = d; *p; p++) {
        unsigned char c = (unsigned char) *p;

        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum(c) || c == '-' || c >= 0x80) {
            label++;
        } else {
            return 0;
        }
    }
    return label > 0;
}

size_t
address_list_parse_strict(const char *value, char ***addrs_r, char **error_r)
{
    char *sk;
    size_t n = address_list_parse(value, addrs_r);
    const char *why = NULL;

    if (n == 0)
        why = "no address";
    for (size_t i = 0; i < n && why == NULL; i++) {
        const char *at = strchr((*addrs_r)[i], '@');

        if (at == NULL || at == (*addrs_r)[i])
            why = "an address without a local part";
        else if (strchr(at + 1, '@'))
            why = "an address with more than one '@'";
        else if (!plain_domain(at + 1))
            why = "an address whose domain is not a host name";
    }
    if (why == NULL) {
        if ((sk = skeleton(value)) == NULL)
            why = "an unclosed quoted string or comment";
        else
            why = skeleton_agrees(sk, *addrs_r, n);
        mem_free(sk);
    }
    if (why == NULL)
        return n;
    address_list_free(*addrs_r, n);
    *addrs_r = NULL;
    *error_r = mem_strdup(why);
    return 0;
}

int
address_email_ok(const char *email)
{
    const char *at = strchr(email, '@');
    size_t len = strlen(email);

    if (at == NULL || at == email || (size_t) (at - email) > ADDRESS_LOCAL_MAX || len > ADDRESS_EMAIL_MAX
        || strchr(at + 1, '@'))
        return 0;
    for (const char *p = email; *p; p++) {
        unsigned char c = (unsigned char) *p;

        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\\')
            return 0;
    }
    return plain_domain(at + 1);
}

void
address_list_free(char **addrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mem_free(addrs[i]);
    mem_free(addrs);
}

const char *
address_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at && at[1] ? at + 1 : NULL;
}

int
address_envelope(const char *arg, char *out, size_t len)
{
    const char *start = arg, *end;

    while (*start == ' ')
        start++;
    if (*start == '<') {
        start++;
        end = strchr(start, '>');
        if (end == NULL)
            end = start + strlen(start);
    } else {
        end = start + strcspn(start, " ");
    }
    if ((size_t) (end - start) >= len)
        return -1;
    memcpy(out, start, (size_t) (end - start));
    out[end - start] = '\0';
    return 0;
}
