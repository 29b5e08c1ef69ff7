/*
 * test_names.c -- the small parsers that decide who may send what: IP networks of
 * SMTP-IP credentials, socket specs, domain names, permalinks, SASL identities,
 * envelope and header addresses (GMime), account addresses, suppressed addresses, route names and modes,
 * endpoint type names, mailbox and alias local parts.
 */
#include "config.h"

#include <string.h>

#include "mail/address.h"
#include "mail/credential.h"
#include "mail/domain.h"
#include "mail/endpoint.h"
#include "mail/mailbox.h"
#include "mail/org.h"
#include "mail/route.h"
#include "mail/suppression.h"
#include "unit.h"
#include "util/mem.h"
#include "util/netaddr.h"
#include "util/sock.h"

/* The error out-parameter of the calls below (msg.h's convention): the message of the
 * previous call is freed first, so each assertion sees the latest one. */
#define WHY (mem_free(why), why = NULL, &why)

START_TEST(networks)
{
    unsigned char a[16], s[16], e[16];
    int prefix;

    ck_assert_int_eq(netaddr_parse("192.0.2.7", a), 0);
    ck_assert(a[10] == 0xff && a[11] == 0xff && a[12] == 192 && a[15] == 7);
    ck_assert_int_eq(netaddr_parse("2001:db8::1", a), 0);
    ck_assert_int_eq(netaddr_parse("192.0.2", a), -1);
    ck_assert_int_eq(netaddr_parse_network("192.0.2.0/24", s, e, &prefix), 0);
    ck_assert_int_eq(prefix, 120);
    ck_assert(s[15] == 0 && e[15] == 255 && e[14] == 2);
    netaddr_parse("192.0.2.200", a);
    ck_assert(memcmp(s, a, 16) <= 0 && memcmp(a, e, 16) <= 0);
    netaddr_parse("192.0.3.1", a);
    ck_assert(memcmp(a, e, 16) > 0);
    ck_assert_int_eq(netaddr_parse_network("127.0.0.1", s, e, &prefix), 0);
    ck_assert_int_eq(prefix, 128);
    ck_assert(memcmp(s, e, 16) == 0);
    ck_assert_int_eq(netaddr_parse_network("192.0.2.1/24", s, e, &prefix), -1);   /* host bits */
    ck_assert_int_eq(netaddr_parse_network("192.0.2.0/33", s, e, &prefix), -1);
    ck_assert_int_eq(netaddr_parse_network("2001:db8::/32", s, e, &prefix), 0);
    ck_assert_int_eq(prefix, 32);
    ck_assert_int_eq(netaddr_parse_network("2001:db8::/", s, e, &prefix), -1);
}
END_TEST

START_TEST(socket_specs)
{
    SOCK_SPEC sp;
    char *error = NULL;

    ck_assert_int_eq(sock_parse("unix:/var/spool/postfix/postgate/milter", &sp, &error), 0);
    ck_assert(sp.is_unix);
    ck_assert_str_eq(sp.path, "/var/spool/postfix/postgate/milter");
    ck_assert_int_eq(sock_parse("inet:127.0.0.1:10025", &sp, &error), 0);
    ck_assert_str_eq(sp.host, "127.0.0.1");
    ck_assert_str_eq(sp.port, "10025");
    ck_assert_int_eq(sock_parse("inet:[::1]:8080", &sp, &error), 0);
    ck_assert_str_eq(sp.host, "::1");
    ck_assert_int_eq(sock_parse("inet:127.0.0.1", &sp, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "expected unix:/path or inet:host:port"));
    mem_free(error);
    ck_assert_int_eq(sock_parse("inet:host:12x", &sp, &error), -1);
    mem_free(error);
    ck_assert_int_eq(sock_parse("tcp:1.2.3.4:5", &sp, &error), -1);
    mem_free(error);
}
END_TEST

START_TEST(domains_and_permalinks)
{
    char out[256], *why = NULL;

    ck_assert(domain_name_normalize("Mail.Example.COM", out, sizeof(out)));
    ck_assert_str_eq(out, "mail.example.com");
    ck_assert(!domain_name_normalize("example", out, sizeof(out)));
    ck_assert(!domain_name_normalize("-bad.example.com", out, sizeof(out)));
    ck_assert(!domain_name_normalize("bad-.example.com", out, sizeof(out)));
    ck_assert(!domain_name_normalize("a..b.com", out, sizeof(out)));
    ck_assert(!domain_name_normalize("exa mple.com", out, sizeof(out)));
    ck_assert(!domain_name_normalize("example.com.", out, sizeof(out)));
    ck_assert(org_permalink_ok("acme-mail-2", WHY));
    ck_assert(!org_permalink_ok("Acme", WHY));
    ck_assert(!org_permalink_ok("-acme", WHY));
    ck_assert(!org_permalink_ok("admin", WHY));
    ck_assert_str_eq(why, "that word is reserved");
    ck_assert(!org_permalink_ok("", WHY));
    mem_free(why);
}
END_TEST

START_TEST(sasl_identities)
{
    CREDENTIAL c = {.id = 42};
    char id[128];
    unsigned long long back = 0;

    strcpy(c.org_permalink, "acme");
    strcpy(c.server_permalink, "mail");
    credential_sasl_identity(&c, id, sizeof(id));
    ck_assert_str_eq(id, "acme/mail/42");
    ck_assert_int_eq(credential_id_from_identity(id, &back), 0);
    ck_assert_uint_eq(back, 42);
    ck_assert_int_eq(credential_id_from_identity("acme/mail", &back), -1);
    ck_assert_int_eq(credential_id_from_identity("acme/mail/42x", &back), -1);
    ck_assert_int_eq(credential_id_from_identity("someone@example.com", &back), -1);
    ck_assert_int_eq(credential_id_from_identity("acme/mail/0", &back), -1);
}
END_TEST

START_TEST(addresses)
{
    char **addrs;
    char env[64];
    size_t n;

    n = address_list_parse(" \"Doe, Jane\" <Jane@Example.COM>, bob@example.net (Bob)", &addrs);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(addrs[0], "Jane@example.com");
    ck_assert_str_eq(addrs[1], "bob@example.net");
    ck_assert_str_eq(address_domain(addrs[0]), "example.com");
    address_list_free(addrs, n);
    n = address_list_parse(" =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.com>", &addrs);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(addrs[0], "juergen@example.com");
    address_list_free(addrs, n);
    n = address_list_parse(" undisclosed-recipients:;", &addrs);
    ck_assert_uint_eq(n, 0);
    address_list_free(addrs, n);
    n = address_list_parse(" team: a@one.example, b@two.example;", &addrs);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(addrs[1], "b@two.example");
    address_list_free(addrs, n);
    ck_assert_int_eq(address_envelope("<app@example.com> SIZE=100", env, sizeof(env)), 0);
    ck_assert_str_eq(env, "app@example.com");
    ck_assert_int_eq(address_envelope("<>", env, sizeof(env)), 0);
    ck_assert_str_eq(env, "");
    ck_assert_ptr_null(address_domain("nodomain"));
}
END_TEST

/* From and Sender: one reading only (issue 12, item 6). */
START_TEST(addresses_strict)
{
    static const char *const good[] = {
        " me@mine.com", " <me@mine.com>", " Me <me@mine.com>", " \"me@bank.com\" <me@mine.com>",
        " =?UTF-8?Q?J=C3=BCrgen?= <me@mine.com>", " me@mine.com (me@bank.com)", " a@mine.com, b@mine.com",
        " team: a@mine.com;", " \"john smith\"@mine.com", " \"Doe, Jane\" <me@mine.com>", " me@mine.com,",
        " Me\r\n <me@mine.com>",
    };
    static const char *const bad[] = {
        " me@mine.com@bank.com", " victim<@bank.com>, me@mine.com", " <@route.example:me@mine.com>",
        " me@bank.com <me@mine.com>", " me@mine.com bank.com", " me @ mine.com", " me@mine.com>",
        " <<me@mine.com>>", " me", " @mine.com", " me@", " \"a@b\"@mine.com", " me@[192.0.2.1]",
        " \"unclosed <me@mine.com>", " (unclosed me@mine.com", " undisclosed-recipients:;", "",
        " me@mine.com\r\n x@", " =?utf-8?q?a@b?= <me@mine.com>", " me@mine..com",
    };
    char **addrs, *why = NULL;
    size_t n;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        n = address_list_parse_strict(good[i], &addrs, WHY);
        ck_assert_msg(n > 0, "refused [%s]: %s", good[i], why ? why : "?");
        ck_assert_str_eq(address_domain(addrs[0]), "mine.com");
        address_list_free(addrs, n);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = address_list_parse_strict(bad[i], &addrs, WHY);
        ck_assert_msg(n == 0, "accepted [%s] as %s", bad[i], n ? addrs[0] : "");
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_null(addrs);
    }
    mem_free(why);
}
END_TEST

/* The account-address rule the management API (members, invitations) and postgatectl
 * make-user share. */
START_TEST(account_addresses)
{
    static const char *const good[] = {
        "alice@example.test", "New.Person@example.test", "a+tag@sub.example.test", "root@localhost",
        "x@example.test", "o'brien@example.test", "j\xc3\xbcrgen@b\xc3\xbc" "cher.example",
    };
    static const char *const bad[] = {
        "", "alice", "@example.test", "alice@", "alice@@example.test", "a@b@example.test", "alice @example.test",
        "alice@example.test ", "al\tice@example.test", "<alice@example.test>", "\"al ice\"@example.test",
        "al\\ice@example.test", "alice@exa_mple.test", "alice@.example.test", "alice@example.test.",
        "alice@example..test", "alice@[192.0.2.1]", "al\x7fice@example.test",
    };
    char local[ADDRESS_LOCAL_MAX + 4], longest[ADDRESS_EMAIL_MAX + 2];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(address_email_ok(good[i]), "refused [%s]", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!address_email_ok(bad[i]), "accepted [%s]", bad[i]);
    /* Bounds: a 64-byte local part and a 255-byte address pass, one more byte does not. */
    memset(local, 'l', ADDRESS_LOCAL_MAX);
    memcpy(local + ADDRESS_LOCAL_MAX, "@x", 3);
    ck_assert(address_email_ok(local));
    memset(local, 'l', ADDRESS_LOCAL_MAX + 1);
    memcpy(local + ADDRESS_LOCAL_MAX + 1, "@x", 3);
    ck_assert(!address_email_ok(local));
    memset(longest, 'd', sizeof(longest));
    memcpy(longest, "me@", 3);
    longest[ADDRESS_EMAIL_MAX] = '\0';
    ck_assert(address_email_ok(longest));
    longest[ADDRESS_EMAIL_MAX] = 'd';
    longest[ADDRESS_EMAIL_MAX + 1] = '\0';
    ck_assert(!address_email_ok(longest));
}
END_TEST

START_TEST(suppressions_and_routes)
{
    char out[SUPPRESSION_ADDRESS_MAX + 1], name[ROUTE_NAME_MAX + 1], *why = NULL;
    const char *in;
    ENDPOINT_TYPE t;

    in = "  Bob.Smith+news@Example.COM\t";
    ck_assert(suppression_address_normalize(in, strlen(in), out, WHY));
    ck_assert_str_eq(out, "bob.smith+news@example.com");
    /* Only the given length counts: the rest of a CSV line is not part of the address. */
    in = "ann@example.org,reason";
    ck_assert(suppression_address_normalize(in, 15, out, WHY));
    ck_assert_str_eq(out, "ann@example.org");
    ck_assert(!suppression_address_normalize("", 0, out, WHY));
    ck_assert_str_eq(why, "is empty");
    in = "no-at-sign";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));
    in = "@example.com";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));
    in = "a b@example.com";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));
    in = "x@localhost";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));
    in = "x'); DROP TABLE s;--@example.com";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));
    in = "robert');--@example.com";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));
    ck_assert(strstr(why, "local part") != NULL);
    in = "caf\xc3\xa9@example.com";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));
    in = "a@b@example.com";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));
    in = "12345678901234567890123456789012345678901234567890123456789012345@example.com";
    ck_assert(!suppression_address_normalize(in, strlen(in), out, WHY));

    ck_assert(route_name_normalize("Support", name, sizeof(name), WHY));
    ck_assert_str_eq(name, "support");
    ck_assert(route_name_normalize("*", name, sizeof(name), WHY));
    ck_assert(route_name_normalize("__returnpath__", name, sizeof(name), WHY));
    ck_assert(route_name_normalize("a.b-c9", name, sizeof(name), WHY));
    ck_assert(!route_name_normalize("", name, sizeof(name), WHY));
    ck_assert(!route_name_normalize("a_b", name, sizeof(name), WHY));
    ck_assert(!route_name_normalize("a+b", name, sizeof(name), WHY));
    ck_assert(!route_name_normalize("**", name, sizeof(name), WHY));
    ck_assert(!route_name_normalize("x'; DROP TABLE routes; --", name, sizeof(name), WHY));
    ck_assert(route_mode_ok("Endpoint") && route_mode_ok("Reject") && !route_mode_ok("endpoint"));
    ck_assert(route_spam_mode_ok("Quarantine") && !route_spam_mode_ok("Drop"));

    ck_assert_int_eq(endpoint_type_parse("SMTPEndpoint", &t), 0);
    ck_assert_int_eq(t, EP_TYPE_SMTP);
    ck_assert_str_eq(endpoint_type_name(EP_TYPE_ADDRESS), "AddressEndpoint");
    ck_assert_int_eq(endpoint_type_parse("HTTP", &t), -1);
    mem_free(why);
}
END_TEST

START_TEST(mailbox_local_parts)
{
    char out[MAILBOX_MAX_LOCAL + 1], long_part[MAILBOX_MAX_LOCAL + 2];

    ck_assert_int_eq(mailbox_local_normalize("John.Doe_1-x", out, sizeof(out), 0), 1);
    ck_assert_str_eq(out, "john.doe_1-x");
    ck_assert_int_eq(mailbox_local_normalize("*", out, sizeof(out), 0), 0);
    ck_assert_int_eq(mailbox_local_normalize("*", out, sizeof(out), 1), 1);
    ck_assert_str_eq(out, "*");
    ck_assert_int_eq(mailbox_local_normalize("a*", out, sizeof(out), 1), 0);
    ck_assert_int_eq(mailbox_local_normalize("", out, sizeof(out), 0), 0);
    ck_assert_int_eq(mailbox_local_normalize(".a", out, sizeof(out), 0), 0);
    ck_assert_int_eq(mailbox_local_normalize("a.", out, sizeof(out), 0), 0);
    ck_assert_int_eq(mailbox_local_normalize("a..b", out, sizeof(out), 0), 0);
    ck_assert_int_eq(mailbox_local_normalize("a+b", out, sizeof(out), 0), 0);
    ck_assert_int_eq(mailbox_local_normalize("a@b", out, sizeof(out), 0), 0);
    ck_assert_int_eq(mailbox_local_normalize("a'b", out, sizeof(out), 0), 0);
    ck_assert_int_eq(mailbox_local_normalize("\xc3\xa9", out, sizeof(out), 0), 0);
    memset(long_part, 'a', MAILBOX_MAX_LOCAL);
    long_part[MAILBOX_MAX_LOCAL] = '\0';
    ck_assert_int_eq(mailbox_local_normalize(long_part, out, sizeof(out), 0), 1);
    long_part[MAILBOX_MAX_LOCAL] = 'a';
    long_part[MAILBOX_MAX_LOCAL + 1] = '\0';
    ck_assert_int_eq(mailbox_local_normalize(long_part, out, sizeof(out), 0), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("names");

    address_init();
    tcase_add_test(tc, networks);
    tcase_add_test(tc, socket_specs);
    tcase_add_test(tc, domains_and_permalinks);
    tcase_add_test(tc, sasl_identities);
    tcase_add_test(tc, addresses);
    tcase_add_test(tc, addresses_strict);
    tcase_add_test(tc, account_addresses);
    tcase_add_test(tc, suppressions_and_routes);
    tcase_add_test(tc, mailbox_local_parts);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
