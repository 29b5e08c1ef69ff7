/*
 * policyload.c -- load client for bench/policy: keeps CONNECTIONS connections open to a
 * Postfix policy delegation service or a socketmap service and sends request after
 * request on each (the next one as soon as the answer is in), as smtpd and trivial-rewrite
 * do, then checks every answer.
 *
 *   policyload -m policy -s SOCKET -f SENDERS [-d SECONDS | -n REQUESTS] [-c CONNECTIONS]
 *              [-t THREADS] [-l LIMIT]
 *   policyload -m socketmap -s SOCKET -f KEYS [-d SECONDS | -n REQUESTS] [-c CONNECTIONS] [-t THREADS]
 *
 * SOCKET is HOST:PORT (TCP) or an absolute path (unix). A SENDERS line is
 * "SASL_USERNAME SENDER_ADDRESS"; request i goes for sender i mod their number, with the
 * attributes Postfix 3.7's smtpd sends at RCPT time (SMTPD_POLICY_README). An answer is
 * "permitted" when its action is DUNNO or OK, "limited" when it carries the rate limit's
 * 4.7.1 status, wrong otherwise; with -l LIMIT, every sender must then have exactly
 * min(sent, LIMIT) permitted answers and the rest limited. A KEYS line is
 * "MAP KEY EXPECTED" (EXPECTED: OK or NOTFOUND); every netstring answer must start with
 * EXPECTED. Prints one line "answers=N seconds=S rate=R permitted=P limited=L wrong=W"
 * and exits 0 when every answer was right, 1 otherwise, 2 on a connection failure, 64 on
 * bad usage. A benchmark tool only: no timeouts beyond the run's, no TLS.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 4096
#define MAX_THREADS 64
#define MAX_ITEMS 1000000
#define IO_SIZE 8192

enum { M_POLICY, M_SOCKETMAP };

typedef struct item {
    char *request;                      /* the bytes sent */
    size_t len;
    const char *expect;                 /* socketmap: the answer's first word */
    atomic_long sent, permitted, limited;
} ITEM;

typedef struct conn {
    int fd;
    size_t item;                        /* of the request in flight */
    int busy;
    char in[IO_SIZE];
    size_t in_len;
} CONN;

static int mode = M_POLICY;
static ITEM *items;
static size_t n_items;
static atomic_size_t next_request;
static long long max_requests = -1;     /* -n; -1: time-bound */
static double stop_at;
static atomic_long answers, wrong, failed;
static const char *target;
static int conns_per_thread[MAX_THREADS];

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
connect_target(void)
{
    int fd, one = 1;

    if (target[0] == '/') {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        if (strlen(target) >= sizeof(sun.sun_path))
            return -1;
        memcpy(sun.sun_path, target, strlen(target) + 1);
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
            return -1;
        if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
            close(fd);
            return -1;
        }
        return fd;
    } else {
        char host[256];
        const char *colon = strrchr(target, ':');
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;

        if (colon == NULL || (size_t) (colon - target) >= sizeof(host))
            return -1;
        memcpy(host, target, (size_t) (colon - target));
        host[colon - target] = '\0';
        if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
            return -1;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            if (fd >= 0)
                close(fd);
            freeaddrinfo(ai);
            return -1;
        }
        freeaddrinfo(ai);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fd;
    }
}

/* Takes the next request number; -1 when the run is over. */
static long long
take_request(void)
{
    size_t i;

    if (max_requests < 0)
        return now() < stop_at ? (long long) atomic_fetch_add(&next_request, 1) : -1;
    i = atomic_fetch_add(&next_request, 1);
    return (long long) i < max_requests ? (long long) i : -1;
}

static int
send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

/* Sends the next request on c; 0 when there is none left. */
static int
start_request(CONN *c)
{
    long long i = take_request();
    ITEM *it;

    if (i < 0)
        return 0;
    it = &items[(size_t) i % n_items];
    c->item = (size_t) i % n_items;
    c->busy = 1;
    c->in_len = 0;
    atomic_fetch_add(&it->sent, 1);
    if (send_all(c->fd, it->request, it->len) < 0) {
        atomic_fetch_add(&failed, 1);
        return -1;
    }
    return 1;
}

/* Length of a complete answer at the start of c->in, 0 while incomplete, -1 if malformed.
 * *body_r and *body_len_r: the action text (policy) or the netstring's payload. */
static long
complete_answer(CONN *c, const char **body_r, size_t *body_len_r)
{
    if (mode == M_POLICY) {
        char *end = memmem(c->in, c->in_len, "\n\n", 2);

        if (end == NULL)
            return c->in_len >= sizeof(c->in) ? -1 : 0;
        if (c->in_len < 7 || memcmp(c->in, "action=", 7) != 0)
            return -1;
        *body_r = c->in + 7;
        *body_len_r = (size_t) (end - c->in) - 7;
        return end - c->in + 2;
    } else {
        size_t len = 0, i = 0;

        while (i < c->in_len && c->in[i] >= '0' && c->in[i] <= '9' && i < 6)
            len = len * 10 + (size_t) (c->in[i++] - '0');
        if (i == c->in_len)
            return 0;
        if (i == 0 || c->in[i] != ':')
            return -1;
        if (i + 1 + len + 1 > sizeof(c->in))
            return -1;
        if (c->in_len < i + 1 + len + 1)
            return 0;
        if (c->in[i + 1 + len] != ',')
            return -1;
        *body_r = c->in + i + 1;
        *body_len_r = len;
        return (long) (i + 1 + len + 1);
    }
}

static int
starts_with(const char *p, size_t len, const char *word)
{
    size_t n = strlen(word);

    return len >= n && strncasecmp(p, word, n) == 0;
}

static void
judge(CONN *c, const char *body, size_t len)
{
    ITEM *it = &items[c->item];

    atomic_fetch_add(&answers, 1);
    if (mode == M_POLICY) {
        if (starts_with(body, len, "DUNNO") || (starts_with(body, len, "OK") && (len == 2 || body[2] == ' ')))
            atomic_fetch_add(&it->permitted, 1);
        else if (memmem(body, len, "4.7.1", 5) != NULL)
            atomic_fetch_add(&it->limited, 1);
        else {
            if (atomic_fetch_add(&wrong, 1) < 5)
                fprintf(stderr, "policyload: unexpected action \"%.*s\"\n", (int) len, body);
        }
    } else {
        if (starts_with(body, len, it->expect) && (len == strlen(it->expect) || body[strlen(it->expect)] == ' ')) {
            atomic_fetch_add(&it->permitted, 1);
        } else if (atomic_fetch_add(&wrong, 1) < 5) {
            fprintf(stderr, "policyload: %.*s: answer \"%.*s\", expected %s\n", (int) it->len, it->request,
                    (int) len, body, it->expect);
        }
    }
}

static void *
run_thread(void *arg)
{
    int n = *(int *) arg, active = 0;
    CONN *conns = calloc((size_t) n, sizeof(CONN));
    struct pollfd *pfd = calloc((size_t) n, sizeof(struct pollfd));

    if (conns == NULL || pfd == NULL) {
        atomic_fetch_add(&failed, 1);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if ((conns[i].fd = connect_target()) < 0) {
            fprintf(stderr, "policyload: connect %s: %s\n", target, strerror(errno));
            atomic_fetch_add(&failed, 1);
            conns[i].busy = 0;
            continue;
        }
        if (start_request(&conns[i]) > 0)
            active++;
    }
    while (active > 0) {
        for (int i = 0; i < n; i++) {
            pfd[i].fd = conns[i].busy ? conns[i].fd : -1;
            pfd[i].events = POLLIN;
        }
        if (poll(pfd, (nfds_t) n, 10000) <= 0) {
            fprintf(stderr, "policyload: no answer for 10 s\n");
            atomic_fetch_add(&failed, 1);
            break;
        }
        for (int i = 0; i < n; i++) {
            CONN *c = &conns[i];
            const char *body;
            size_t len;
            ssize_t r;
            long used;

            if (!c->busy || pfd[i].revents == 0)
                continue;
            r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
            if (r <= 0) {
                fprintf(stderr, "policyload: connection closed by the server\n");
                atomic_fetch_add(&failed, 1);
                c->busy = 0;
                active--;
                continue;
            }
            c->in_len += (size_t) r;
            used = complete_answer(c, &body, &len);
            if (used == 0)
                continue;
            if (used < 0 || (size_t) used != c->in_len) {
                fprintf(stderr, "policyload: malformed answer \"%.*s\"\n", (int) c->in_len, c->in);
                atomic_fetch_add(&wrong, 1);
                c->busy = 0;
                active--;
                continue;
            }
            judge(c, body, len);
            c->busy = 0;
            if (start_request(c) <= 0)
                active--;
        }
    }
    for (int i = 0; i < n; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    free(conns);
    free(pfd);
    return NULL;
}

static char *
xasprintf(size_t *len_r, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        perror("policyload");
        exit(2);
    }
    *len_r = (size_t) n;
    return s;
}

/* One request per line of FILE. */
static void
load_items(const char *file)
{
    char line[1024], a[512], b[512], e[16];
    FILE *fp = fopen(file, "r");
    size_t cap = 0;

    if (fp == NULL) {
        perror(file);
        exit(64);
    }
    while (fgets(line, sizeof(line), fp) != NULL && n_items < MAX_ITEMS) {
        ITEM *it;

        if (n_items == cap) {
            cap = cap ? cap * 2 : 1024;
            if ((items = realloc(items, cap * sizeof(ITEM))) == NULL) {
                perror("policyload");
                exit(2);
            }
        }
        it = &items[n_items];
        memset(it, 0, sizeof(*it));
        if (mode == M_POLICY) {
            if (sscanf(line, "%511s %511s", a, b) != 2)
                continue;
            /* Postfix 3.7's attributes at RCPT for an authenticated submission over TLS. */
            it->request = xasprintf(&it->len,
                "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
                "client_address=192.0.2.%zu\nclient_name=client%zu.example.net\n"
                "client_port=%zu\nreverse_client_name=client%zu.example.net\n"
                "server_address=127.0.0.1\nserver_port=587\nhelo_name=client%zu.example.net\n"
                "sender=%s\nrecipient=user%zu@example.org\nrecipient_count=0\nqueue_id=\n"
                "instance=%zx.%zx.0\nsize=4096\netrn_domain=\nstress=\nsasl_method=PLAIN\n"
                "sasl_username=%s\nsasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
                "ccert_pubkey_fingerprint=\nencryption_protocol=TLSv1.3\n"
                "encryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\npolicy_context=\n"
                "compatibility_level=3.6\nmail_version=3.7.11\n\n",
                n_items % 250 + 1, n_items, 40000 + n_items % 20000, n_items, n_items, b, n_items,
                n_items, n_items, a);
        } else {
            size_t n;

            if (sscanf(line, "%511s %511s %15s", a, b, e) != 3)
                continue;
            n = strlen(a) + 1 + strlen(b);
            it->request = xasprintf(&it->len, "%zu:%s %s,", n, a, b);
            it->expect = strdup(e);
        }
        n_items++;
    }
    fclose(fp);
    if (n_items == 0) {
        fprintf(stderr, "policyload: %s holds no usable line\n", file);
        exit(64);
    }
}

int
main(int argc, char **argv)
{
    pthread_t tids[MAX_THREADS];
    const char *file = NULL;
    double seconds = 10, started, elapsed;
    long long limit = -1;
    long permitted = 0, limited = 0, mismatched = 0;
    int conns = 16, threads = 1, opt;

    while ((opt = getopt(argc, argv, "m:s:f:d:n:c:t:l:")) != -1) {
        switch (opt) {
        case 'm':
            mode = strcmp(optarg, "socketmap") == 0 ? M_SOCKETMAP : M_POLICY;
            break;
        case 's': target = optarg; break;
        case 'f': file = optarg; break;
        case 'd': seconds = atof(optarg); break;
        case 'n': max_requests = atoll(optarg); break;
        case 'c': conns = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'l': limit = atoll(optarg); break;
        default:
            fprintf(stderr, "usage: policyload -m policy|socketmap -s SOCKET -f FILE [-d SECONDS | -n REQUESTS] "
                    "[-c CONNECTIONS] [-t THREADS] [-l LIMIT]\n");
            return 64;
        }
    }
    if (target == NULL || file == NULL || conns < 1 || conns > MAX_CONNECTIONS || threads < 1
        || threads > MAX_THREADS || threads > conns || seconds <= 0) {
        fprintf(stderr, "policyload: -s and -f are required; 1 <= THREADS <= CONNECTIONS <= %d\n", MAX_CONNECTIONS);
        return 64;
    }
    load_items(file);
    started = now();
    stop_at = started + seconds;
    for (int t = 0; t < threads; t++) {
        conns_per_thread[t] = conns / threads + (t < conns % threads);
        if (pthread_create(&tids[t], NULL, run_thread, &conns_per_thread[t]) != 0) {
            perror("policyload: pthread_create");
            return 2;
        }
    }
    for (int t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    elapsed = now() - started;
    for (size_t i = 0; i < n_items; i++) {
        long sent = atomic_load(&items[i].sent), p = atomic_load(&items[i].permitted);
        long l = atomic_load(&items[i].limited);

        permitted += p;
        limited += l;
        if (mode == M_POLICY && limit >= 0 && (p != (sent < limit ? sent : limit) || p + l != sent)) {
            if (mismatched++ < 5)
                fprintf(stderr, "policyload: sender %zu sent %ld requests: %ld permitted, %ld limited "
                        "(expected %lld permitted)\n", i + 1, sent, p, l, sent < limit ? (long long) sent : limit);
        }
    }
    printf("answers=%ld seconds=%.3f rate=%.0f permitted=%ld limited=%ld wrong=%ld\n", atomic_load(&answers),
           elapsed, (double) atomic_load(&answers) / elapsed, permitted, limited, atomic_load(&wrong) + mismatched);
    if (atomic_load(&failed) > 0)
        return 2;
    return atomic_load(&wrong) + mismatched > 0 ? 1 : 0;
}
