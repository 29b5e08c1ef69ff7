/*
 * dkimsign.c -- drives lib/mail/dkim.c for tests/integration/dkim.t.
 *
 *   dkimsign --generate rsa|ed25519 KEYFILE
 *       writes a new private key (PEM, mode 0600) and prints the DNS TXT value
 *   dkimsign [-t TIMESTAMP] [-c CHUNK] [-h NAME,...] [-n COUNT] KEYFILE DOMAIN SELECTOR < message > signed
 *       reads a message with LF or CRLF line ends and writes it with CRLF line ends and a
 *       DKIM-Signature field on top; the body goes to the signer CHUNK bytes at a time
 *       (default 777, so that chunk boundaries fall inside lines and CRLFs); -h signs
 *       these header fields instead of the default list; -n signs it COUNT times over
 *       (a signer each time, as the milter makes one per message) and says on standard
 *       error how many signatures a second that was (bench/dkim)
 * A test program: it holds the whole message in memory, which the milter never does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail/dkim.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"

#define MAX_INPUT (64 * 1024 * 1024)
#define MAX_FIELDS 512

static void __attribute__((noreturn))
usage(void)
{
    fprintf(stderr, "usage: dkimsign --generate rsa|ed25519 KEYFILE\n"
            "       dkimsign [-t TIMESTAMP] [-c CHUNK] [-h NAME,...] [-n COUNT] KEYFILE DOMAIN SELECTOR < message\n");
    exit(2);
}

static BUF *
read_all(FILE *fp, const char *what)
{
    BUF *b = buf_new(8192);
    char chunk[8192];
    size_t n;

    buf_set_limit(b, MAX_INPUT);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (buf_append(b, chunk, n) < 0)
            msg_fatal("%s: larger than %d bytes", what, MAX_INPUT);
    if (ferror(fp))
        msg_fatal("%s: read error", what);
    return b;
}

static int
generate(const char *alg_name, const char *path)
{
    DKIM_ALG alg;
    char *pem, *pub, *record;
    char *error = NULL;
    int fd;
    size_t len;

    if (strcmp(alg_name, "rsa") == 0)
        alg = DKIM_ALG_RSA_SHA256;
    else if (strcmp(alg_name, "ed25519") == 0)
        alg = DKIM_ALG_ED25519_SHA256;
    else
        usage();
    if (dkim_key_generate(alg, &pem, &pub, &error) < 0)
        msg_fatal("generate %s key: %s", alg_name, error);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
        msg_fatal("%s: %s", path, strerror(errno));
    len = strlen(pem);
    if (write(fd, pem, len) != (ssize_t) len || close(fd) < 0)
        msg_fatal("%s: write failed", path);
    record = dkim_dns_record(alg, pub);
    printf("%s\n", record);
    mem_free(record);
    mem_free(pub);
    mem_free(pem);
    return 0;
}

/* The message with every line end made CRLF. */
static BUF *
to_crlf(const BUF *in)
{
    const char *p = buf_cstr(in);
    size_t len = buf_len(in);
    BUF *out = buf_new(len + len / 16 + 2);

    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            buf_append_char(out, '\r');
        buf_append_char(out, p[i]);
    }
    return out;
}

static int
sign(int argc, char **argv)
{
    time_t now = time(NULL);
    size_t chunk = 777;
    char *error = NULL;
    BUF *raw, *msg, *keydata;
    FILE *fp;
    DKIM_KEY *key;
    DKIM_SIGNER *s;
    const char *p, *end, *body;
    char *value = NULL, *names_copy = NULL, *fnames[MAX_FIELDS], *fvalues[MAX_FIELDS];
    const char *names[64];
    const char *const *sign_names = NULL;
    size_t n = 0, nfields = 0;
    long count = 1;
    struct timespec t0, t1;
    int c;

    while ((c = getopt(argc, argv, "t:c:h:n:")) != -1) {
        switch (c) {
        case 't':
            now = (time_t) strtoll(optarg, NULL, 10);
            break;
        case 'c':
            chunk = (size_t) strtoul(optarg, NULL, 10);
            if (chunk == 0)
                usage();
            break;
        case 'n':
            if ((count = strtol(optarg, NULL, 10)) < 1)
                usage();
            break;
        case 'h':
            names_copy = mem_strdup(optarg);
            for (char *name = strtok(names_copy, ","); name != NULL && n < 63; name = strtok(NULL, ","))
                names[n++] = name;
            names[n] = NULL;
            sign_names = names;
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 3)
        usage();
    if ((fp = fopen(argv[optind], "r")) == NULL)
        msg_fatal("%s: %s", argv[optind], strerror(errno));
    keydata = read_all(fp, argv[optind]);
    fclose(fp);
    if ((key = dkim_key_load(buf_cstr(keydata), buf_len(keydata), &error)) == NULL)
        msg_fatal("%s: %s", argv[optind], error);
    buf_free(keydata);

    raw = read_all(stdin, "standard input");
    msg = to_crlf(raw);
    buf_free(raw);
    /* Header fields up to the empty line; a line starting with WSP continues a field. */
    p = buf_cstr(msg);
    end = p + buf_len(msg);
    body = end;
    while (p < end) {
        const char *field = p, *colon, *eol;

        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            body = p + 2;
            break;
        }
        do {
            eol = strstr(p, "\r\n");
            p = eol != NULL ? eol + 2 : end;
        } while (p < end && (*p == ' ' || *p == '\t'));
        if ((colon = memchr(field, ':', (size_t) (p - field))) == NULL)
            msg_fatal("header line without a colon: %.40s", field);
        if (nfields == MAX_FIELDS)
            msg_fatal("more than %d header fields", MAX_FIELDS);
        fnames[nfields] = mem_strndup(field, (size_t) (colon - field));
        /* The value runs to the field's final CRLF (folds inside stay). */
        fvalues[nfields++] = mem_strndup(colon + 1, (size_t) (p - colon - 1)
                                         - (p - field >= 2 && p[-2] == '\r' && p[-1] == '\n' ? 2 : 0));
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < count; i++) {
        s = dkim_signer_new(key, argv[optind + 1], argv[optind + 2], sign_names);
        for (size_t f = 0; f < nfields; f++)
            dkim_signer_header(s, fnames[f], fvalues[f]);
        for (const char *b = body; b < end; b += chunk)
            dkim_signer_body(s, (const unsigned char *) b, (size_t) (end - b) < chunk ? (size_t) (end - b) : chunk);
        mem_free(value);
        if (dkim_signer_finish(s, now, &value, &error) < 0)
            msg_fatal("sign: %s", error);
        dkim_signer_free(s);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (count > 1) {
        double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;

        fprintf(stderr, "%ld signatures in %.3f s: %.1f signatures/s\n", count, secs, (double) count / secs);
    }
    if (printf("DKIM-Signature:%s\r\n", value) < 0 || fwrite(buf_data(msg), 1, buf_len(msg), stdout) != buf_len(msg)
        || fflush(stdout) != 0)
        msg_fatal("write error");
    mem_free(value);
    for (size_t f = 0; f < nfields; f++) {
        mem_free(fnames[f]);
        mem_free(fvalues[f]);
    }
    dkim_key_free(key);
    buf_free(msg);
    mem_free(names_copy);
    return 0;
}

int
main(int argc, char **argv)
{
    msg_init("dkimsign");
    if (argc >= 2 && strcmp(argv[1], "--generate") == 0) {
        if (argc != 4)
            usage();
        return generate(argv[2], argv[3]);
    }
    return sign(argc, argv);
}
