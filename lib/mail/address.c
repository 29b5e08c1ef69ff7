/*
 * address.c -- address parsing (address.h). GMime does the RFC 5322 work; this file
 * only flattens the result into plain strings.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mail/address.h"
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
