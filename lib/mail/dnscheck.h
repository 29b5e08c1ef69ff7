/*
 * dnscheck.h -- the few DNS lookups postgate makes itself (domain verification and the
 * DNS checks of sending and hosted domains, SPF of incoming mail): TXT, CNAME, MX, A, AAAA,
 * PTR and SRV records of one name, through the
 * system resolver or the server dns.resolver names ("address:port", e.g. a local
 * dnsmasq in tests), with libresolv's thread-safe res_n* interface.
 *
 * Contract: names and answers are plain text; TXT character-strings of one record are
 * joined; CNAME, MX and SRV targets are lowercased without the trailing dot; MX answers are
 * "<preference> <host>", SRV answers "<priority> <weight> <port> <target>". A name that does not exist and a name without records of the
 * type are both "no records" (0), not failures; failures are timeouts, SERVFAIL and the
 * like (-1 with a message). At most DNSCHECK_MAX_RECORDS answers are kept.
 * Must never: block without a timeout, or trust an answer's length fields unchecked
 * (ns_initparse/ns_parserr bound every read).
 */
#ifndef PG_DNSCHECK_H
#define PG_DNSCHECK_H

#include <stddef.h>

#define DNSCHECK_MAX_RECORDS 32

/* A and AAAA answers are addresses as text, PTR answers host names (the SPF checks). */
typedef enum {
    DNSCHECK_TXT, DNSCHECK_CNAME, DNSCHECK_MX, DNSCHECK_A, DNSCHECK_AAAA, DNSCHECK_PTR, DNSCHECK_SRV
} DNSCHECK_TYPE;

typedef struct dnscheck_answer {
    char *records[DNSCHECK_MAX_RECORDS];
    size_t n;
} DNSCHECK_ANSWER;

/* 1 when spec is "" or an IPv4 "address:port" dns.resolver accepts. */
int dnscheck_resolver_ok(const char *spec);
/* Looks up name's records of type: 1 with records in *out (dnscheck_answer_free it),
 * 0 none (no such name, or no records of that type), -1 failure (*error_r, mem_free it). */
int dnscheck_lookup(const char *resolver, const char *name, DNSCHECK_TYPE type, DNSCHECK_ANSWER *out,
                    char **error_r);
void dnscheck_answer_free(DNSCHECK_ANSWER *a);
/* The records of type in a DNS answer message (what dnscheck_lookup does with the reply;
 * fuzz_dnsanswer feeds it anything): the count kept in *out (0 none), -1 when the message
 * cannot be parsed. */
int dnscheck_parse(const unsigned char *answer, size_t len, DNSCHECK_TYPE type, DNSCHECK_ANSWER *out);

#endif
