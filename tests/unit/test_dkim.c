/*
 * test_dkim.c -- DKIM signing: relaxed body canonicalization against golden canonical
 * forms (bh= is SHA-256 of the expected bytes) in every chunking; header canonicalization,
 * bottom-up selection of repeated fields and From oversigning, checked by verifying b=
 * with OpenSSL over canonical data written out by hand; key generation, loading and
 * refusal; the DNS record; folding; limits. Independent verification by other DKIM
 * implementations is in tests/integration/dkim.t.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mail/dkim.h"
#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"

/* A generated key with its DNS p= value. */
typedef struct {
    DKIM_KEY *key;
    char *public_b64;
} TEST_KEY;

/* The error out-parameter of the dkim_* calls (msg.h's convention): ERR frees the previous
 * call's message, so each assertion reads the latest one; the last stays reachable. */
static char *error;
#define ERR (mem_free(error), error = NULL, &error)

static TEST_KEY
test_key(DKIM_ALG alg)
{
    TEST_KEY k;
    char *pem;

    ck_assert_int_eq(dkim_key_generate(alg, &pem, &k.public_b64, ERR), 0);
    k.key = dkim_key_load(pem, strlen(pem), ERR);
    ck_assert_msg(k.key != NULL, "load: %s", error);
    mem_free(pem);
    return k;
}

static void
test_key_free(TEST_KEY *k)
{
    dkim_key_free(k->key);
    mem_free(k->public_b64);
}

/* Signs; fields is a NULL-terminated list of name, value pairs; the body is fed in
 * chunks of chunk bytes (0 = all at once). */
static char *
sign(const DKIM_KEY *key, const char *const *names, const char *const *fields,
     const char *body, size_t body_len, size_t chunk)
{
    DKIM_SIGNER *s = dkim_signer_new(key, "example.com", "sel", names);
    char *value;

    for (size_t i = 0; fields != NULL && fields[i] != NULL; i += 2)
        dkim_signer_header(s, fields[i], fields[i + 1]);
    if (chunk == 0)
        chunk = body_len;
    for (size_t off = 0; off < body_len; off += chunk)
        dkim_signer_body(s, (const unsigned char *) body + off, body_len - off < chunk ? body_len - off : chunk);
    ck_assert_msg(dkim_signer_finish(s, 1700000000, &value, ERR) == 0, "finish: %s", error);
    dkim_signer_free(s);
    return value;
}

/* The value unfolded the simple way this test's values allow (single spaces or folds). */
static char *
unfold(const char *value)
{
    BUF *b = buf_new(256);

    for (const char *p = value; *p; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        buf_append_char(b, *p == '\t' ? ' ' : *p);
    }
    return buf_steal(b, NULL);
}

/* Value of tag in a signature, whitespace removed (base64 may be folded). */
static char *
tag(const char *value, const char *name)
{
    char *u = unfold(value), *out = NULL;
    size_t n = strlen(name);

    for (char *t = strtok(u, ";"); t != NULL && out == NULL; t = strtok(NULL, ";")) {
        while (*t == ' ')
            t++;
        if (strncmp(t, name, n) == 0 && t[n] == '=') {
            BUF *b = buf_new(64);

            for (const char *p = t + n + 1; *p; p++)
                if (*p != ' ')
                    buf_append_char(b, *p);
            out = buf_steal(b, NULL);
        }
    }
    mem_free(u);
    ck_assert_msg(out != NULL, "no %s= in %s", name, value);
    return out;
}

static char *
sha256_b64(const char *data, size_t len)
{
    unsigned char md[32];
    char *out = mem_alloc(45);

    EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
    EVP_EncodeBlock((unsigned char *) out, md, 32);
    return out;
}

static unsigned char *
b64_decode(const char *b64, size_t *len_r)
{
    size_t n = strlen(b64);
    unsigned char *out = mem_alloc(n + 1);
    int len = EVP_DecodeBlock(out, (const unsigned char *) b64, (int) n);

    ck_assert_int_ge(len, 0);
    while (n > 0 && b64[n - 1] == '=') {    /* DecodeBlock counts padding as zero bytes */
        n--;
        len--;
    }
    *len_r = (size_t) len;
    return out;
}

/* Verifies b= over hand-written canonical header data plus the signature field
 * canonicalized by this test (unfold, drop the leading space, empty b=). */
static int
verify(DKIM_ALG alg, const char *public_b64, const char *canon_headers, const char *value)
{
    char *u = unfold(value), *b = tag(value, "b"), *cut;
    BUF *data = buf_new(512);
    size_t key_len, sig_len;
    unsigned char *key_der = b64_decode(public_b64, &key_len), *sig = b64_decode(b, &sig_len);
    const unsigned char *p = key_der;
    EVP_PKEY *pkey;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    int ok;

    cut = strstr(u, "; b=");
    ck_assert_ptr_nonnull(cut);
    cut[4] = '\0';
    buf_append_str(data, canon_headers);
    buf_append_str(data, "dkim-signature:");
    buf_append_str(data, u + 1);
    if (alg == DKIM_ALG_RSA_SHA256) {
        pkey = d2i_PUBKEY(NULL, &p, (long) key_len);
        ck_assert_ptr_nonnull(pkey);
        ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1
            && EVP_DigestVerify(ctx, sig, sig_len, buf_data(data), buf_len(data)) == 1;
    } else {
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key_der, key_len);
        ck_assert_ptr_nonnull(pkey);
        EVP_Digest(buf_data(data), buf_len(data), md, NULL, EVP_sha256(), NULL);
        ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1
            && EVP_DigestVerify(ctx, sig, sig_len, md, sizeof(md)) == 1;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    mem_free(key_der);
    mem_free(sig);
    mem_free(b);
    mem_free(u);
    buf_free(data);
    return ok;
}

/* Input body, and its relaxed canonical form (RFC 6376 3.4.4). */
static const struct {
    const char *in;
    const char *canon;
} body_cases[] = {
    {"Hello  world \t\r\n", "Hello world\r\n"},
    {" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n"},             /* RFC 6376 3.4.5 */
    {"", ""},                                                   /* empty stays empty */
    {"\r\n\r\n\r\n", ""},
    {"abc", "abc\r\n"},                                         /* no final CRLF */
    {"abc  \t", "abc\r\n"},
    {"  \t", ""},
    {"a\r\n\r\n \t\r\nb\r\n \r\n\t\r\n\r\n", "a\r\n\r\n\r\nb\r\n"},
    {"a \nb\n\n\n", "a\r\nb\r\n"},                              /* bare LF */
    {"a\r\n\nb\n \r\n", "a\r\n\r\nb\r\n"},
    {"x\t\r\n\t y", "x\r\n y\r\n"},                             /* leading WSP is one SP */
    {"a\rb\r\n", "a\rb\r\n"},                                   /* bare CR is content */
    {"tab\there", "tab here\r\n"},
};

START_TEST(body_golden_any_chunking)
{
    TEST_KEY k = test_key(DKIM_ALG_ED25519_SHA256);
    const char *in = body_cases[_i].in, *canon = body_cases[_i].canon;
    static const size_t chunks[] = {0, 1, 2, 3, 5};
    char *expected = sha256_b64(canon, strlen(canon));

    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        char *value = sign(k.key, NULL, NULL, in, strlen(in), chunks[c]);
        char *bh = tag(value, "bh");

        ck_assert_msg(strcmp(bh, expected) == 0, "case %d chunk %zu: bh=%s, expected %s",
                      _i, chunks[c], bh, expected);
        mem_free(bh);
        mem_free(value);
    }
    mem_free(expected);
    test_key_free(&k);
}
END_TEST

/* Runs of text longer than the signer's 4 KiB buffer, and runs that straddle it, in
 * chunkings that cut them anywhere: the same body hash as the canonical bytes. */
START_TEST(body_long_runs_any_chunking)
{
    TEST_KEY k = test_key(DKIM_ALG_ED25519_SHA256);
    static const size_t chunks[] = {0, 1, 7, 4095, 4096, 4097, 10000};
    BUF *in = buf_new(32768), *canon = buf_new(32768);
    char *expected;

    for (int line = 0; line < 4; line++) {
        size_t n = line == 0 ? 4000 : line == 1 ? 4096 : line == 2 ? 9000 : 5;

        buf_append_str(in, "\r\n \t");      /* an empty line, then leading whitespace */
        buf_append_str(canon, "\r\n ");
        for (size_t i = 0; i < n; i++) {
            buf_append_char(in, (char) ('a' + i % 26));
            buf_append_char(canon, (char) ('a' + i % 26));
        }
        buf_append_str(in, "  x\t \r\n");
        buf_append_str(canon, " x\r\n");
    }
    buf_append_str(in, "\r\n\r\n");
    expected = sha256_b64(buf_cstr(canon), buf_len(canon));
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        char *value = sign(k.key, NULL, NULL, buf_cstr(in), buf_len(in), chunks[c]);
        char *bh = tag(value, "bh");

        ck_assert_msg(strcmp(bh, expected) == 0, "chunk %zu: bh=%s, expected %s", chunks[c], bh, expected);
        mem_free(bh);
        mem_free(value);
    }
    mem_free(expected);
    buf_free(in);
    buf_free(canon);
    test_key_free(&k);
}
END_TEST

START_TEST(body_empty_is_sha256_of_nothing)
{
    TEST_KEY k = test_key(DKIM_ALG_ED25519_SHA256);
    char *value = sign(k.key, NULL, NULL, "", 0, 0);
    char *bh = tag(value, "bh");

    /* Relaxed: empty body = empty string (simple would hash one CRLF). */
    ck_assert_str_eq(bh, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    mem_free(bh);
    mem_free(value);
    test_key_free(&k);
}
END_TEST

/* A large body with whitespace runs, CRLFs and empty-line runs at every offset: every
 * chunk size gives the body hash of the one-go feed, which matches a reference. */
START_TEST(body_large_chunk_sizes)
{
    TEST_KEY k = test_key(DKIM_ALG_ED25519_SHA256);
    static const char *const pieces[] = {"word", " ", "\t", "\r\n", "\r\n\r\n", "  \t ", "x", "\n"};
    BUF *body = buf_new(200000), *canon = buf_new(200000);
    unsigned seed = 12345;
    char *ref, *expected;

    while (buf_len(body) < 150000) {
        seed = seed * 1103515245 + 12345;
        buf_append_str(body, pieces[(seed >> 16) % 8]);
    }
    ref = sign(k.key, NULL, NULL, buf_cstr(body), buf_len(body), 0);
    expected = tag(ref, "bh");
    for (size_t chunk = 1; chunk <= 19; chunk += 3) {
        char *value = sign(k.key, NULL, NULL, buf_cstr(body), buf_len(body), chunk);
        char *bh = tag(value, "bh");

        ck_assert_msg(strcmp(bh, expected) == 0, "chunk %zu", chunk);
        mem_free(bh);
        mem_free(value);
    }
    /* Reference canonicalization, line by line, for the same body. */
    {
        const char *p = buf_cstr(body), *end = p + buf_len(body);
        size_t pending = 0;

        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t) (end - p));
            const char *le = nl != NULL ? nl : end;
            BUF *line = buf_new(128);
            int wsp = 0;

            if (le > p && le[-1] == '\r' && nl != NULL)
                le--;
            for (const char *q = p; q < le; q++) {
                if (*q == ' ' || *q == '\t') {
                    wsp = 1;
                    continue;
                }
                if (wsp)
                    buf_append_char(line, ' ');
                wsp = 0;
                buf_append_char(line, *q);
            }
            if (buf_len(line) == 0)
                pending++;
            else {
                for (; pending > 0; pending--)
                    buf_append_str(canon, "\r\n");
                buf_append(canon, buf_data(line), buf_len(line));
                buf_append_str(canon, "\r\n");
            }
            buf_free(line);
            p = nl != NULL ? nl + 1 : end;
        }
    }
    mem_free(ref);
    ref = sha256_b64(buf_cstr(canon), buf_len(canon));
    ck_assert_str_eq(expected, ref);
    mem_free(ref);
    mem_free(expected);
    buf_free(body);
    buf_free(canon);
    test_key_free(&k);
}
END_TEST

/* RFC 6376 3.4.5's header example, both algorithms, b= verified over canonical data. */
START_TEST(header_relaxed_example_verifies)
{
    DKIM_ALG alg = _i == 0 ? DKIM_ALG_ED25519_SHA256 : DKIM_ALG_RSA_SHA256;
    TEST_KEY k = test_key(alg);
    static const char *const names[] = {"a", "B", NULL};
    static const char *const fields[] = {"A", " X", "B ", " Y\t\r\n\tZ  ", "C", " not signed", NULL};
    char *value = sign(k.key, names, fields, "", 0, 0);
    char *h = tag(value, "h");

    ck_assert_str_eq(h, "from:a:b");    /* From added (RFC 6376 5.4), absent: listed once */
    ck_assert_msg(verify(alg, k.public_b64, "a:X\r\nb:Y Z\r\n", value), "%s", value);
    ck_assert(!verify(alg, k.public_b64, "a:X\r\nb:Y  Z\r\n", value));
    ck_assert(!verify(alg, k.public_b64, "a:X\r\n", value));
    mem_free(h);
    mem_free(value);
    test_key_free(&k);
}
END_TEST

/* Repeated fields are signed bottom-most first; From is listed once more than it occurs. */
START_TEST(header_repeats_bottom_up_and_from_oversigned)
{
    TEST_KEY k = test_key(DKIM_ALG_ED25519_SHA256);
    static const char *const names[] = {"from", "to", "received", "x-absent", NULL};
    static const char *const fields[] = {
        "Received", " from a by b;\r\n\tMon, 1 Jan 2024 00:00:00 +0000",
        "Received", " from c by d; Mon, 1 Jan 2024 00:00:01 +0000",
        "From", " Alice <alice@example.com>",
        "To", "bob@example.net",
        "Subject", " hi",
        "TO", " carol@example.org ",
        NULL
    };
    char *value = sign(k.key, names, fields, "hi\r\n", 4, 0);
    char *h = tag(value, "h");

    ck_assert_str_eq(h, "from:from:to:to:received:received");
    ck_assert(verify(DKIM_ALG_ED25519_SHA256, k.public_b64,
                     "from:Alice <alice@example.com>\r\n"
                     "to:carol@example.org\r\n"
                     "to:bob@example.net\r\n"
                     "received:from c by d; Mon, 1 Jan 2024 00:00:01 +0000\r\n"
                     "received:from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n", value));
    /* Top-down order must not verify. */
    ck_assert(!verify(DKIM_ALG_ED25519_SHA256, k.public_b64,
                      "from:Alice <alice@example.com>\r\n"
                      "to:bob@example.net\r\n"
                      "to:carol@example.org\r\n"
                      "received:from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                      "received:from c by d; Mon, 1 Jan 2024 00:00:01 +0000\r\n", value));
    mem_free(h);
    mem_free(value);
    test_key_free(&k);
}
END_TEST

START_TEST(header_default_list)
{
    TEST_KEY k = test_key(DKIM_ALG_ED25519_SHA256);
    static const char *const fields[] = {
        "From", " a@example.com",
        "X-Other", " x",
        "MIME-Version", " 1.0",
        "Subject", " =?UTF-8?B?w6k=?=",
        "Message-ID", " <1@example.com>",
        "X-Postal-MsgID", " abc",
        NULL
    };
    char *value = sign(k.key, NULL, fields, "", 0, 0);
    char *h = tag(value, "h");

    ck_assert_str_eq(h, "from:from:subject:message-id:mime-version:x-postal-msgid");
    ck_assert(verify(DKIM_ALG_ED25519_SHA256, k.public_b64,
                     "from:a@example.com\r\nsubject:=?UTF-8?B?w6k=?=\r\n"
                     "message-id:<1@example.com>\r\nmime-version:1.0\r\nx-postal-msgid:abc\r\n", value));
    mem_free(h);
    mem_free(value);
    test_key_free(&k);
}
END_TEST

START_TEST(signature_tags_and_folding)
{
    TEST_KEY k = test_key(DKIM_ALG_RSA_SHA256);
    static const char *const names[] = {
        "from", "to", "cc", "subject", "date", "message-id", "reply-to", "sender", "in-reply-to",
        "references", "mime-version", "content-type", "content-transfer-encoding",
        "list-unsubscribe", "list-unsubscribe-post", "x-postal-msgid", NULL
    };
    const char *fields[2 * 16 + 1];
    DKIM_SIGNER *s;
    char *value, *copy, *b;
    size_t lines = 0;

    for (int i = 0; i < 16; i++) {
        fields[2 * i] = names[i];
        fields[2 * i + 1] = " value";
    }
    fields[32] = NULL;
    s = dkim_signer_new(k.key, "mail.a-rather-long-subdomain.example.com", "postal-AbCdEf", names);
    for (int i = 0; i < 32; i += 2)
        dkim_signer_header(s, fields[i], fields[i + 1]);
    ck_assert_int_eq(dkim_signer_finish(s, 1700000000, &value, ERR), 0);
    dkim_signer_free(s);

    copy = unfold(value);
    ck_assert_msg(strncmp(copy, " v=1; a=rsa-sha256; c=relaxed/relaxed; d=mail.a-rather-long-subdomain"
                          ".example.com; s=postal-AbCdEf; t=1700000000; h=from:from:to:cc:", 132) == 0,
                  "%s", value);
    mem_free(copy);
    b = tag(value, "b");
    ck_assert_uint_eq(strlen(b), 344);  /* 256 bytes of RSA-2048 signature */
    mem_free(b);
    /* Every line, the first with "DKIM-Signature:", fits in 78; folds are CRLF TAB. */
    copy = mem_strdup(value);
    for (char *line = copy, *next; line != NULL; line = next, lines++) {
        size_t len;

        next = strstr(line, "\r\n");
        if (next != NULL) {
            *next = '\0';
            next += 2;
            ck_assert_int_eq(*next, '\t');
        }
        len = strlen(line) + (line == copy ? strlen("DKIM-Signature:") : 0);
        ck_assert_msg(len <= 78, "line of %zu characters: %s", len, line);
        ck_assert(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);
        ck_assert_msg(len == 0 || line[strlen(line) - 1] != ' ', "trailing space: %s", line);
    }
    ck_assert_uint_ge(lines, 6);
    mem_free(copy);
    mem_free(value);
    test_key_free(&k);
}
END_TEST

START_TEST(generate_rsa)
{
    char *pem, *pub;
    unsigned char *der;
    const unsigned char *p;
    size_t len;
    EVP_PKEY *pkey;
    DKIM_KEY *key;
    char *record;

    ck_assert_int_eq(dkim_key_generate(DKIM_ALG_RSA_SHA256, &pem, &pub, ERR), 0);
    ck_assert(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);     /* PKCS#8 */
    p = der = b64_decode(pub, &len);
    pkey = d2i_PUBKEY(NULL, &p, (long) len);
    ck_assert_ptr_nonnull(pkey);
    ck_assert_int_eq(EVP_PKEY_get_base_id(pkey), EVP_PKEY_RSA);
    ck_assert_int_eq(EVP_PKEY_get_bits(pkey), 2048);
    key = dkim_key_load(pem, strlen(pem), ERR);
    ck_assert_ptr_nonnull(key);
    ck_assert_int_eq(dkim_key_alg(key), DKIM_ALG_RSA_SHA256);
    record = dkim_dns_record(DKIM_ALG_RSA_SHA256, pub);
    ck_assert(strncmp(record, "v=DKIM1; t=s; h=sha256; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 70) == 0);
    ck_assert_uint_eq(strlen(record), strlen("v=DKIM1; t=s; h=sha256; p=;") + strlen(pub));
    ck_assert_int_eq(record[strlen(record) - 1], ';');
    mem_free(record);
    dkim_key_free(key);
    EVP_PKEY_free(pkey);
    mem_free(der);
    mem_free(pem);
    mem_free(pub);
}
END_TEST

START_TEST(generate_ed25519)
{
    char *pem, *pub, *record, *expected;
    unsigned char *raw;
    size_t len;
    DKIM_KEY *key;

    ck_assert_int_eq(dkim_key_generate(DKIM_ALG_ED25519_SHA256, &pem, &pub, ERR), 0);
    ck_assert(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
    raw = b64_decode(pub, &len);
    ck_assert_uint_eq(len, 32);                 /* RFC 8463 4: the bare public key */
    ck_assert_uint_eq(strlen(pub), 44);
    key = dkim_key_load(pem, strlen(pem), ERR);
    ck_assert_ptr_nonnull(key);
    ck_assert_int_eq(dkim_key_alg(key), DKIM_ALG_ED25519_SHA256);
    record = dkim_dns_record(DKIM_ALG_ED25519_SHA256, pub);
    expected = buf_asprintf("v=DKIM1; k=ed25519; p=%s;", pub);
    ck_assert_str_eq(record, expected);
    mem_free(expected);
    mem_free(record);
    dkim_key_free(key);
    mem_free(raw);
    mem_free(pem);
    mem_free(pub);
}
END_TEST

static char *
pem_of(EVP_PKEY *pkey, const char *passphrase)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out;
    long len;

    if (passphrase != NULL)
        ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), NULL, 0, NULL,
                                                       (void *) passphrase), 1);
    else
        ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
    len = BIO_get_mem_data(bio, &data);
    out = mem_strndup(data, (size_t) len);
    BIO_free(bio);
    return out;
}

START_TEST(load_refuses_small_rsa_and_others)
{
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 512);
    EVP_PKEY *k1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char *pem;
    DKIM_KEY *key;

    pem = pem_of(small, NULL);
    ck_assert_ptr_null(dkim_key_load(pem, strlen(pem), ERR));
    ck_assert_ptr_nonnull(strstr(error, "1024"));
    mem_free(pem);

    pem = pem_of(k1024, NULL);
    key = dkim_key_load(pem, strlen(pem), ERR);
    ck_assert_ptr_nonnull(key);
    dkim_key_free(key);
    mem_free(pem);

    pem = pem_of(ec, NULL);
    ck_assert_ptr_null(dkim_key_load(pem, strlen(pem), ERR));
    ck_assert_ptr_nonnull(error);
    mem_free(pem);

    /* Encrypted: refused, never prompted for. */
    pem = pem_of(ed, "secret");
    ck_assert_ptr_null(dkim_key_load(pem, strlen(pem), ERR));
    ck_assert_ptr_nonnull(error);
    mem_free(pem);

    ck_assert_ptr_null(dkim_key_load("not a key", 9, ERR));
    ck_assert_ptr_nonnull(error);
    ck_assert_ptr_null(dkim_key_load("", 0, ERR));
    EVP_PKEY_free(small);
    EVP_PKEY_free(k1024);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
}
END_TEST

START_TEST(limits_and_misuse)
{
    TEST_KEY k = test_key(DKIM_ALG_ED25519_SHA256);
    DKIM_SIGNER *s;
    char *value, *big;

    /* 1000 fields pass, 1001 do not. */
    s = dkim_signer_new(k.key, "example.com", "sel", NULL);
    for (int i = 0; i < DKIM_MAX_HEADERS; i++)
        dkim_signer_header(s, i % 2 ? "Received" : "X-Trace", " x");
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), 0);
    mem_free(value);
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), -1);     /* twice */
    ck_assert_ptr_null(value);
    dkim_signer_free(s);

    s = dkim_signer_new(k.key, "example.com", "sel", NULL);
    for (int i = 0; i <= DKIM_MAX_HEADERS; i++)
        dkim_signer_header(s, "Received", " x");
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), -1);
    ck_assert_ptr_nonnull(strstr(error, "1000"));
    dkim_signer_free(s);

    /* A field over 1 MB. */
    big = mem_alloc(DKIM_MAX_HEADER_LEN + 1);
    memset(big, 'a', DKIM_MAX_HEADER_LEN);
    big[DKIM_MAX_HEADER_LEN] = '\0';
    s = dkim_signer_new(k.key, "example.com", "sel", NULL);
    dkim_signer_header(s, "Subject", big);
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), -1);
    ck_assert_ptr_nonnull(strstr(error, "1 MB"));
    dkim_signer_free(s);
    mem_free(big);

    /* Bad domain, selector or field name. */
    s = dkim_signer_new(k.key, "example.com; x=1", "sel", NULL);
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), -1);
    dkim_signer_free(s);
    s = dkim_signer_new(k.key, "example.com", "", NULL);
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), -1);
    dkim_signer_free(s);
    s = dkim_signer_new(k.key, "example.com", "sel", (const char *const[]) {"from", "bad:name", NULL});
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), -1);
    dkim_signer_free(s);
    s = dkim_signer_new(NULL, "example.com", "sel", NULL);
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), -1);
    dkim_signer_free(s);
    test_key_free(&k);
}
END_TEST

/* The signer holds its own reference: the key may go first (reloads). */
/* Every physical line of "name:value" within 998 octets. */
static int
lines_fit(const char *name, const char *value)
{
    size_t col = strlen(name) + 1;

    for (const char *p = value; *p; p++) {
        col = *p == '\n' ? 0 : col + 1;
        if (col > 998)
            return 0;
    }
    return 1;
}

/* Relaxed canonical form of a value: folds removed, white space runs as one space. */
static char *
relaxed(const char *value)
{
    char *out = mem_zalloc(strlen(value) + 1), *w = out;
    int wsp = 0;

    for (const char *p = value; *p; p++) {
        if (*p == '\r' || *p == '\n')
            continue;
        if (*p == ' ' || *p == '\t') {
            wsp = 1;
            continue;
        }
        if (wsp && w > out)
            *w++ = ' ';
        wsp = 0;
        *w++ = *p;
    }
    return out;
}

/* Issue 12, item 15: long header lines are folded before signing, keeping the relaxed
 * form where there is white space to fold at. */
START_TEST(header_fold_long_lines)
{
    char *words = mem_zalloc(2000), *solid = mem_zalloc(2000), *folded, *a, *b;
    size_t n = 0;

    ck_assert_ptr_null(dkim_header_fold("Subject", " short"));
    for (int i = 0; n < 1500; i++)
        n += (size_t) snprintf(words + n, 2000 - n, " word%d", i);
    folded = dkim_header_fold("Subject", words);
    ck_assert_ptr_nonnull(folded);
    ck_assert(lines_fit("Subject", folded));
    a = relaxed(words);
    b = relaxed(folded);
    ck_assert_str_eq(a, b);             /* folded at white space only */
    ck_assert_ptr_nonnull(strchr(folded, '\n'));
    mem_free(a);
    mem_free(b);
    mem_free(folded);

    /* No white space: a Subject becomes encoded words that decode to the same text. */
    solid[0] = ' ';
    memset(solid + 1, 'x', 1500);
    memcpy(solid + 1, "caf\xc3\xa9", 5);
    folded = dkim_header_fold("Subject", solid);
    ck_assert_ptr_nonnull(folded);
    ck_assert(lines_fit("Subject", folded));
    ck_assert(strncmp(folded, " =?UTF-8?B?Y2Fmw6l4eHh4", 23) == 0);
    for (const char *p = folded; (p = strstr(p, "=?UTF-8?B?")) != NULL; p++)
        ck_assert_int_le(strcspn(p + 10, "?") + 12, 75);
    mem_free(folded);
    /* Elsewhere (and for text that is not UTF-8) it is broken as Postfix would. */
    folded = dkim_header_fold("X-Long", solid);
    ck_assert_ptr_nonnull(folded);
    ck_assert(lines_fit("X-Long", folded));
    ck_assert_uint_eq(strlen(folded), 1501 + 2 * 1);
    ck_assert(strncmp(folded + 1 + 990, "\n ", 2) == 0);  /* "X-Long: " leaves 990 */
    mem_free(folded);
    solid[3] = '\xe9';
    folded = dkim_header_fold("Subject", solid);
    ck_assert(lines_fit("Subject", folded));
    ck_assert_ptr_null(strstr(folded, "=?"));
    mem_free(folded);
    mem_free(words);
    mem_free(solid);
}
END_TEST

START_TEST(signer_outlives_key)
{
    TEST_KEY k = test_key(DKIM_ALG_ED25519_SHA256);
    DKIM_SIGNER *s = dkim_signer_new(k.key, "example.com", "sel", NULL);
    char *value;

    test_key_free(&k);
    dkim_signer_header(s, "From", " a@example.com");
    dkim_signer_body(s, (const unsigned char *) "x\r\n", 3);
    ck_assert_int_eq(dkim_signer_finish(s, 0, &value, ERR), 0);
    ck_assert_ptr_nonnull(strstr(value, "a=ed25519-sha256;"));
    mem_free(value);
    dkim_signer_free(s);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("dkim");
    TCase *tc = tcase_create("dkim");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, body_golden_any_chunking, 0, (int) (sizeof(body_cases) / sizeof(body_cases[0])));
    tcase_add_test(tc, body_long_runs_any_chunking);
    tcase_add_test(tc, body_empty_is_sha256_of_nothing);
    tcase_add_test(tc, body_large_chunk_sizes);
    tcase_add_loop_test(tc, header_relaxed_example_verifies, 0, 2);
    tcase_add_test(tc, header_repeats_bottom_up_and_from_oversigned);
    tcase_add_test(tc, header_default_list);
    tcase_add_test(tc, signature_tags_and_folding);
    tcase_add_test(tc, generate_rsa);
    tcase_add_test(tc, generate_ed25519);
    tcase_add_test(tc, load_refuses_small_rsa_and_others);
    tcase_add_test(tc, limits_and_misuse);
    tcase_add_test(tc, signer_outlives_key);
    tcase_add_test(tc, header_fold_long_lines);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
