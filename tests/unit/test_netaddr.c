/*
 * test_netaddr.c -- the client address behind trusted proxies (netaddr_client): no
 * header, a forged header from an untrusted peer, trusted chains, separators, IPv6 and
 * garbage entries; several X-Forwarded-For lines joined in order (netaddr_xff_append).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "unit.h"
#include "util/netaddr.h"

static const char *const proxies[] = { "10.0.0.0/8", "127.0.0.1", "2001:db8:1::/48" };
#define NPROXIES (sizeof(proxies) / sizeof(proxies[0]))

static const char *
client(const char *peer, const char *xff)
{
    static char out[INET6_ADDRSTRLEN];

    ck_assert_int_eq(netaddr_client(peer, xff, proxies, NPROXIES, out, sizeof(out)), 0);
    return out;
}

START_TEST(no_header_is_the_peer)
{
    ck_assert_str_eq(client("127.0.0.1", NULL), "127.0.0.1");
    ck_assert_str_eq(client("192.0.2.7", NULL), "192.0.2.7");
}
END_TEST

START_TEST(untrusted_peer_ignores_forged_header)
{
    ck_assert_str_eq(client("192.0.2.7", "198.51.100.1"), "192.0.2.7");
    ck_assert_str_eq(client("192.0.2.7", "198.51.100.1, 10.0.0.1"), "192.0.2.7");
    /* No trusted proxies at all: the header is never believed. */
    {
        char out[INET6_ADDRSTRLEN];

        ck_assert_int_eq(netaddr_client("127.0.0.1", "198.51.100.1", NULL, 0, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "127.0.0.1");
    }
}
END_TEST

START_TEST(trusted_chain_is_walked_from_the_right)
{
    ck_assert_str_eq(client("127.0.0.1", "198.51.100.1"), "198.51.100.1");
    /* The leftmost entries are the client's own claim: only the first untrusted from the right counts. */
    ck_assert_str_eq(client("127.0.0.1", "203.0.113.9, 198.51.100.1, 10.1.2.3, 10.0.0.1"), "198.51.100.1");
    /* Every entry trusted: the leftmost. */
    ck_assert_str_eq(client("127.0.0.1", "10.9.9.9, 10.0.0.1"), "10.9.9.9");
}
END_TEST

START_TEST(separators_and_joined_headers)
{
    ck_assert_str_eq(client("127.0.0.1", "  198.51.100.1\t"), "198.51.100.1");
    ck_assert_str_eq(client("127.0.0.1", "203.0.113.9,198.51.100.1"), "198.51.100.1");
    /* Two headers joined with ", " (RFC 9110): the same walk. */
    ck_assert_str_eq(client("127.0.0.1", "203.0.113.9, 10.0.0.2 ,\t10.0.0.1"), "203.0.113.9");
}
END_TEST

START_TEST(ipv6)
{
    ck_assert_str_eq(client("2001:db8:1::5", "2001:db8:2::1"), "2001:db8:2::1");
    ck_assert_str_eq(client("127.0.0.1", "2001:db8:2::1, 2001:db8:1::9"), "2001:db8:2::1");
    ck_assert_str_eq(client("2001:db8:2::1", "198.51.100.1"), "2001:db8:2::1");
}
END_TEST

START_TEST(garbage_stops_the_walk)
{
    /* Rightmost bad: the peer. */
    ck_assert_str_eq(client("127.0.0.1", "unknown"), "127.0.0.1");
    ck_assert_str_eq(client("127.0.0.1", ""), "127.0.0.1");
    ck_assert_str_eq(client("127.0.0.1", "198.51.100.1,"), "127.0.0.1");
    ck_assert_str_eq(client("127.0.0.1", "198.51.100.1:4711"), "127.0.0.1");
    ck_assert_str_eq(client("127.0.0.1", "[2001:db8:2::1]"), "127.0.0.1");
    ck_assert_str_eq(client("127.0.0.1", "198.51.100.1 203.0.113.9"), "127.0.0.1");
    ck_assert_str_eq(client("127.0.0.1", "1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:aaaa:bbbb:cccc"),
                     "127.0.0.1");
    /* Bad entry behind a trusted hop: what that hop saw. */
    ck_assert_str_eq(client("127.0.0.1", "198.51.100.1, garbage, 10.0.0.1"), "10.0.0.1");
    ck_assert_str_eq(client("127.0.0.1", ", 10.0.0.1"), "10.0.0.1");
    /* Bad entries left of the client do not matter. */
    ck_assert_str_eq(client("127.0.0.1", "garbage, 198.51.100.1"), "198.51.100.1");
}
END_TEST

/* The lines of a request, joined as the servers do, then walked. */
static const char *
client_lines(const char *peer, const char *const *lines, size_t n)
{
    static char out[INET6_ADDRSTRLEN];
    BUF *joined = buf_new(64);

    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(netaddr_xff_append(joined, lines[i]), 0);
    ck_assert_int_eq(netaddr_client(peer, buf_len(joined) ? buf_cstr(joined) : NULL, proxies, NPROXIES, out,
                                    sizeof(out)), 0);
    buf_free(joined);
    return out;
}

START_TEST(several_header_lines)
{
    /* The client's forged line first, the proxy's own line last: the proxy's address wins. */
    static const char *const forged_then_proxy[] = { "203.0.113.66", "198.51.100.1" };
    /* The proxy appended to the client's second line. */
    static const char *const appended[] = { "203.0.113.66", "203.0.113.67, 198.51.100.1" };
    /* A chain of trusted hops spread over lines. */
    static const char *const chain[] = { "203.0.113.66", "198.51.100.1, 10.0.0.2", "10.0.0.1" };
    /* Empty lines add nothing. */
    static const char *const empty[] = { "", " \t", "198.51.100.1" };
    BUF *joined = buf_new(16);

    ck_assert_str_eq(client_lines("127.0.0.1", forged_then_proxy, 2), "198.51.100.1");
    ck_assert_str_eq(client_lines("127.0.0.1", appended, 2), "198.51.100.1");
    ck_assert_str_eq(client_lines("127.0.0.1", chain, 3), "198.51.100.1");
    ck_assert_str_eq(client_lines("127.0.0.1", empty, 3), "198.51.100.1");
    ck_assert_str_eq(client_lines("127.0.0.1", empty, 2), "127.0.0.1");
    /* From an untrusted peer every line is ignored. */
    ck_assert_str_eq(client_lines("192.0.2.7", forged_then_proxy, 2), "192.0.2.7");
    /* The joined form is the comma list of the lines in order. */
    for (size_t i = 0; i < 3; i++)
        netaddr_xff_append(joined, chain[i]);
    ck_assert_str_eq(buf_cstr(joined), "203.0.113.66, 198.51.100.1, 10.0.0.2, 10.0.0.1");
    buf_free(joined);
}
END_TEST

START_TEST(small_buffer)
{
    char out[10];

    ck_assert_int_eq(netaddr_client("2001:db8:1::5", NULL, proxies, NPROXIES, out, sizeof(out)), -1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(netaddr_client("10.0.0.1", "198.51.100.1", proxies, NPROXIES, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "10.0.0.1");
    ck_assert_int_eq(netaddr_in_networks("10.200.0.1", proxies, NPROXIES), 1);
    ck_assert_int_eq(netaddr_in_networks("11.0.0.1", proxies, NPROXIES), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("netaddr");
    TCase *tc = tcase_create("netaddr");

    tcase_add_test(tc, no_header_is_the_peer);
    tcase_add_test(tc, untrusted_peer_ignores_forged_header);
    tcase_add_test(tc, trusted_chain_is_walked_from_the_right);
    tcase_add_test(tc, separators_and_joined_headers);
    tcase_add_test(tc, ipv6);
    tcase_add_test(tc, garbage_stops_the_walk);
    tcase_add_test(tc, several_header_lines);
    tcase_add_test(tc, small_buffer);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
