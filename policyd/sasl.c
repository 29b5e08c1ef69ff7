/*
 * sasl.c -- Dovecot authentication protocol server for Postfix (sasl.h).
 *
 * The conversation, as Postfix 3.7's xsasl_dovecot_server.c drives it:
 *   S: VERSION 1 2, MECH lines, SPID, CUID, COOKIE, DONE   (a MECH line must come
 *      before SPID, or Postfix takes us for an auth-master socket)
 *   C: VERSION 1 0, CPID <pid>
 *   C: AUTH <id> <mech> service=smtp nologin lip=<ip> rip=<ip> [secured] [resp=<b64>]
 *   S: CONT <id> <b64 challenge> | OK <id> user=<name> | FAIL <id> reason=<text> [user=]
 *   C: CONT <id> <b64 response>
 * Postfix sends one request at a time per connection, so one conversation is kept.
 * Every line is at most SASL_MAX_LINE bytes; decoded data at most MAX_DECODED.
 * Must never: touch MariaDB for a client address over the failure limit, echo
 * client-supplied bytes into a protocol line, or keep a secret in memory after use.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "mail/credential.h"
#include "mail/hosting.h"
#include "sasl.h"
#include "stats.h"
#include "util/clock.h"
#include "util/base64.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/password.h"
#include "util/token.h"

#define MAX_FIELDS 64
#define MAX_DECODED 4096        /* longest decoded SASL response */
#define MAX_SECRET 512          /* longest password worth looking up */
#define MAX_CRAM_USER 129       /* "org/server": two 64-character permalinks */
#define MAX_LOGIN 319           /* longest mailbox address (local 64, '@', domain 253, slack) */

typedef enum {
    ST_NONE,                    /* no conversation in flight */
    ST_PLAIN,                   /* PLAIN without initial response: waiting for it */
    ST_LOGIN_USER,              /* LOGIN: asked "Username:" */
    ST_LOGIN_PASS,              /* LOGIN: asked "Password:" */
    ST_CRAM                     /* CRAM-MD5: challenge sent */
} STATE;

typedef enum { V_OK, V_FAIL, V_SUSPENDED, V_TEMP } VERDICT;

typedef struct session {
    CONN *c;
    int version_seen;
    BUF *out;
    /* The conversation in flight. */
    unsigned long id;
    STATE state;
    char mech[16];
    char rip[64];
    char challenge[320];
    char user[MAX_LOGIN + 1];   /* PLAIN's authcid or LOGIN's user name: "" unless printable */
} SESSION;

static atomic_uint next_cuid = 1;

static void
wipe(BUF *b)
{
    OPENSSL_cleanse((void *) buf_data(b), buf_len(b));
    buf_reset(b);
}

/* ---------------------------------------------------------------- replies */

static int
send_out(SESSION *s)
{
    int r = conn_write(s->c, buf_data(s->out), buf_len(s->out));

    buf_reset(s->out);
    return r;
}

static int
reply_fail(SESSION *s, const char *reason, const char *user)
{
    buf_printf(s->out, "FAIL\t%lu", s->id);
    if (user && *user)
        buf_printf(s->out, "\tuser=%s", user);
    buf_printf(s->out, "\treason=%s\n", reason);
    s->state = ST_NONE;
    return send_out(s);
}

static int
reply_cont(SESSION *s, const char *challenge, size_t len, STATE next)
{
    buf_printf(s->out, "CONT\t%lu\t", s->id);
    base64_encode_buf(s->out, challenge, len, 0);
    buf_append_char(s->out, '\n');
    s->state = next;
    return send_out(s);
}

/* ---------------------------------------------------------------- verdicts */

/* A user name fit to appear in a protocol line and a log line. */
static int
printable_name(const char *name)
{
    for (const unsigned char *p = (const unsigned char *) name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return *name != '\0';
}

/* Sends the answer for verdict v about a credential (cred) or, when mailbox is not NULL,
 * a mailbox user (whose login name is their address); -1 closes the connection. */
static int
conclude_login(SESSION *s, VERDICT v, const CREDENTIAL *cred, const char *mailbox, const char *dberr,
               const char *user_hint)
{
    PD_CTX *ctx = s->c->ctx;
    char identity[MAX_LOGIN + 1];

    switch (v) {
    case V_TEMP:
        /* Postfix 3.7 answers 535 to any FAIL; only a lost connection gives 454. */
        stats_login(LOGIN_TEMPFAIL);
        msg_error("sasl: client %s: %s login cannot be checked now (%s); closing the auth "
                  "connection so Postfix answers 454", s->rip, s->mech, dberr ? dberr : "database error");
        s->state = ST_NONE;
        return -1;
    case V_FAIL: {
        PGCONF *cfg = ctx_config(ctx);
        long long n = throttle_hit(ctx->auth_failures, s->rip, cfg->policyd_auth_failure_window);

        stats_login(LOGIN_FAILED);
        msg_info("sasl: client %s: %s login failed%s%s (%lld failure%s within %lld s, limit %lld)",
                 s->rip, s->mech, user_hint ? " for " : "", user_hint ? user_hint : "", n,
                 n == 1 ? "" : "s", cfg->policyd_auth_failure_window, cfg->policyd_auth_failure_limit);
        conf_unref(cfg);
        return reply_fail(s, "Invalid credentials", user_hint);
    }
    case V_SUSPENDED:
        stats_login(LOGIN_SUSPENDED);
        if (mailbox)
            snprintf(identity, sizeof(identity), "%s", mailbox);
        else
            credential_sasl_identity(cred, identity, sizeof(identity));
        msg_info("sasl: client %s: %s login as %s (%s %llu) refused: server suspended", s->rip, s->mech, identity,
                 mailbox ? "mailbox" : "credential", mailbox ? 0ULL : cred->id);
        return reply_fail(s, "server suspended", identity);
    case V_OK:
        stats_login(LOGIN_OK);
        if (mailbox) {
            snprintf(identity, sizeof(identity), "%s", mailbox);
            msg_info("sasl: client %s: %s login as %s (mailbox)", s->rip, s->mech, identity);
        } else {
            credential_touch(cred->id);
            credential_sasl_identity(cred, identity, sizeof(identity));
            msg_info("sasl: client %s: %s login as %s (credential %llu, \"%s\")",
                     s->rip, s->mech, identity, cred->id, cred->name);
        }
        buf_printf(s->out, "OK\t%lu\tuser=%s\n", s->id, identity);
        s->state = ST_NONE;
        return send_out(s);
    }
    return -1;
}

static int
conclude(SESSION *s, VERDICT v, const CREDENTIAL *cred, const char *dberr, const char *user_hint)
{
    return conclude_login(s, v, cred, NULL, dberr, user_hint);
}

/* Refuses at once, without MariaDB, a client address over the failure limit. */
static int
throttled(SESSION *s)
{
    PD_CTX *ctx = s->c->ctx;
    PGCONF *cfg = ctx_config(ctx);
    int first = 0, blocked = throttle_blocked(ctx->auth_failures, s->rip, cfg->policyd_auth_failure_limit, &first);

    if (blocked)
        stats_login(LOGIN_THROTTLED);
    if (blocked && first)
        msg_warn("sasl: client %s: %lld failed logins within %lld s; refusing its logins until the window ends",
                 s->rip, cfg->policyd_auth_failure_limit, cfg->policyd_auth_failure_window);
    conf_unref(cfg);
    return blocked;
}

/* The result of a lookup: 1 found, 0 not, < 0 database error (message copied). */
static VERDICT
verdict_of(int r, const CREDENTIAL *cred, DB *db, char *err, size_t errlen)
{
    if (r < 0) {
        snprintf(err, errlen, "%s", db_error(db));
        return V_TEMP;
    }
    if (r == 0)
        return V_FAIL;
    return cred->suspended ? V_SUSPENDED : V_OK;
}

/* A hash of nothing anyone knows, verified when no mailbox has the address, so a login for a
 * mailbox that does not exist takes as long as one with a wrong password. */
static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy_hash(void)
{
    char secret[33], *error = NULL;

    if (token_generate(secret, 32, TOKEN_ALNUM) < 0
        || password_hash(secret, dummy_hash, sizeof(dummy_hash), &error) < 0) {
        msg_warn("sasl: no stand-in password hash (%s): a login for an unknown mailbox answers sooner",
                 error ? error : "no random bytes");
        dummy_hash[0] = '\0';
    }
    mem_free(error);
    OPENSSL_cleanse(secret, sizeof(secret));
}

/* PLAIN and LOGIN as a mailbox user: the user name is the mailbox's address, the secret its
 * password, checked against the argon2id hash (only PLAIN and LOGIN: a hash cannot answer
 * CRAM-MD5). A mailbox of an organization's domain has no server to send as: refused. */
static int
check_mailbox(SESSION *s, const char *password)
{
    PD_CTX *ctx = s->c->ctx;
    HOSTING_LOGIN login;
    char *hash = NULL, err[256] = "";
    VERDICT v = V_FAIL;
    DB *db = dbpool_get(ctx->pool);
    int r = hosting_login(db, s->user, &login, &hash);

    if (r < 0)
        snprintf(err, sizeof(err), "%s", db_error(db));
    dbpool_put(ctx->pool, db);
    if (r == 0) {
        pthread_once(&dummy_once, make_dummy_hash);
        if (dummy_hash[0])
            (void) password_verify(dummy_hash, password);
    }
    if (r < 0) {
        v = V_TEMP;
    } else if (r > 0 && password_verify(hash, password) == 1) {
        v = login.server_id == 0 ? V_FAIL : login.suspended ? V_SUSPENDED : V_OK;
        if (login.server_id == 0)
            msg_info("sasl: client %s: mailbox %s belongs to an organization's domain: it has no server to "
                     "send as", s->rip, login.address);
    }
    mem_free(hash);
    return conclude_login(s, v, NULL, login.address, err, v == V_FAIL ? s->user : NULL);
}

/* PLAIN and LOGIN: with a user name that is an address, a mailbox user (check_mailbox);
 * else the password is a credential's key and the user name plays no part. */
static int
check_key(SESSION *s, const unsigned char *secret, size_t len)
{
    PD_CTX *ctx = s->c->ctx;
    char key[MAX_SECRET + 1], err[256] = "";
    CREDENTIAL cred;
    VERDICT v;
    DB *db;

    if (throttled(s))
        return reply_fail(s, "Too many failed logins, try again later", NULL);
    if (len == 0 || len > MAX_SECRET || memchr(secret, '\0', len))
        return conclude(s, V_FAIL, NULL, NULL, NULL);
    memcpy(key, secret, len);
    key[len] = '\0';
    if (strchr(s->user, '@') != NULL) {
        int r = check_mailbox(s, key);

        OPENSSL_cleanse(key, sizeof(key));
        return r;
    }
    db = dbpool_get(ctx->pool);
    v = verdict_of(credential_by_key(db, "SMTP", key, &cred), &cred, db, err, sizeof(err));
    dbpool_put(ctx->pool, db);
    OPENSSL_cleanse(key, sizeof(key));
    return conclude(s, v, &cred, err, NULL);
}

/* Keeps the user name of the conversation when it is printable and short enough to be a
 * mailbox address; otherwise none (a credential's user name plays no part anyway). */
static void
remember_user(SESSION *s, const unsigned char *name, size_t len)
{
    s->user[0] = '\0';
    if (len == 0 || len > MAX_LOGIN || memchr(name, '\0', len))
        return;
    memcpy(s->user, name, len);
    s->user[len] = '\0';
    if (!printable_name(s->user))
        s->user[0] = '\0';
}

/* authzid NUL authcid NUL password (RFC 4616). */
static int
finish_plain(SESSION *s, BUF *data)
{
    const unsigned char *d = buf_data(data), *nul1, *nul2;
    size_t len = buf_len(data);

    nul1 = memchr(d, '\0', len);
    nul2 = nul1 ? memchr(nul1 + 1, '\0', len - (size_t) (nul1 + 1 - d)) : NULL;
    if (nul2 == NULL) {
        msg_info("sasl: client %s: PLAIN response is not authzid NUL authcid NUL password", s->rip);
        return reply_fail(s, "Invalid PLAIN response", NULL);
    }
    remember_user(s, nul1 + 1, (size_t) (nul2 - nul1 - 1));
    return check_key(s, nul2 + 1, len - (size_t) (nul2 + 1 - d));
}

/* "username hexdigest" against the challenge we sent (RFC 2195). */
static int
finish_cram(SESSION *s, BUF *data)
{
    PD_CTX *ctx = s->c->ctx;
    const char *text = buf_cstr(data), *sp;
    char user[MAX_CRAM_USER + 1], digest[33], err[256] = "";
    size_t ulen;
    CREDENTIAL cred;
    VERDICT v;
    DB *db;

    if (throttled(s))
        return reply_fail(s, "Too many failed logins, try again later", NULL);
    sp = strrchr(text, ' ');
    if (strlen(text) != buf_len(data) || sp == NULL || strlen(sp + 1) != 32
        || strspn(sp + 1, "0123456789abcdefABCDEF") != 32 || (ulen = (size_t) (sp - text)) == 0
        || ulen > MAX_CRAM_USER) {
        msg_info("sasl: client %s: CRAM-MD5 response is not \"username digest\"", s->rip);
        return conclude(s, V_FAIL, NULL, NULL, NULL);
    }
    memcpy(user, text, ulen);
    user[ulen] = '\0';
    memcpy(digest, sp + 1, 33);
    db = dbpool_get(ctx->pool);
    v = verdict_of(credential_by_cram(db, ctx->seal, user, s->challenge, digest, &cred), &cred, db,
                   err, sizeof(err));
    dbpool_put(ctx->pool, db);
    return conclude(s, v, &cred, err, printable_name(user) ? user : NULL);
}

static int
start_cram(SESSION *s)
{
    char rnd[21];

    if (token_generate(rnd, 20, "0123456789") < 0) {
        msg_error("sasl: random number generator failed");
        return -1;
    }
    snprintf(s->challenge, sizeof(s->challenge), "<%s.%lld@%s>", rnd, (long long) time(NULL),
             s->c->ctx->hostname);
    return reply_cont(s, s->challenge, strlen(s->challenge), ST_CRAM);
}

/* ---------------------------------------------------------------- commands */

static int
parse_id(const char *text, unsigned long *id_r)
{
    char *end;

    if (text == NULL || *text < '0' || *text > '9' || strlen(text) > 10)
        return -1;
    *id_r = strtoul(text, &end, 10);
    return *end == '\0' && *id_r > 0 && *id_r <= 0xffffffffUL ? 0 : -1;
}

/* Handles a decoded response for the conversation's current step. */
static int
step(SESSION *s, BUF *data)
{
    switch (s->state) {
    case ST_PLAIN:
        return finish_plain(s, data);
    case ST_LOGIN_USER:
        remember_user(s, buf_data(data), buf_len(data));
        return reply_cont(s, "Password:", 9, ST_LOGIN_PASS);
    case ST_LOGIN_PASS:
        return check_key(s, buf_data(data), buf_len(data));
    case ST_CRAM:
        return finish_cram(s, data);
    case ST_NONE:
        break;
    }
    return -1;
}

static int
handle_auth(SESSION *s, char **f, size_t nf, BUF *data)
{
    const char *resp = NULL, *rip = "";
    unsigned long id;

    if (nf < 3 || parse_id(f[1], &id) < 0) {
        msg_warn("sasl connection %lu: malformed AUTH request; closing", s->c->id);
        return -1;
    }
    if (s->state != ST_NONE)
        msg_debug("sasl connection %lu: request %lu abandoned for %lu", s->c->id, s->id, id);
    for (size_t i = 3; i < nf; i++) {
        if (strncmp(f[i], "resp=", 5) == 0)
            resp = f[i] + 5;
        else if (strncmp(f[i], "rip=", 4) == 0)
            rip = f[i] + 4;
    }
    s->id = id;
    s->state = ST_NONE;
    s->user[0] = '\0';
    snprintf(s->mech, sizeof(s->mech), "%s", f[2]);
    snprintf(s->rip, sizeof(s->rip), "%s", printable_name(rip) && strlen(rip) < sizeof(s->rip) ? rip : "unknown");
    if (!printable_name(s->mech))
        snprintf(s->mech, sizeof(s->mech), "?");
    if (throttled(s))
        return reply_fail(s, "Too many failed logins, try again later", NULL);
    if (resp && base64_decode(data, resp, strlen(resp), 0) < 0) {
        msg_info("sasl: client %s: %s: invalid base64 in the initial response", s->rip, s->mech);
        return reply_fail(s, "Invalid base64 data in initial response", NULL);
    }
    if (strcasecmp(f[2], "PLAIN") == 0) {
        snprintf(s->mech, sizeof(s->mech), "PLAIN");
        if (resp == NULL)
            return reply_cont(s, "", 0, ST_PLAIN);
        return finish_plain(s, data);
    }
    if (strcasecmp(f[2], "LOGIN") == 0) {
        snprintf(s->mech, sizeof(s->mech), "LOGIN");
        /* An initial response is the user name: skip to the password. */
        if (resp && *resp)
            return reply_cont(s, "Password:", 9, ST_LOGIN_PASS);
        return reply_cont(s, "Username:", 9, ST_LOGIN_USER);
    }
    if (strcasecmp(f[2], "CRAM-MD5") == 0) {
        snprintf(s->mech, sizeof(s->mech), "CRAM-MD5");
        if (resp) {
            msg_info("sasl: client %s: CRAM-MD5 does not take an initial response", s->rip);
            return reply_fail(s, "CRAM-MD5 takes no initial response", NULL);
        }
        return start_cram(s);
    }
    msg_info("sasl: client %s: unsupported mechanism %s", s->rip, s->mech);
    return reply_fail(s, "Unsupported authentication mechanism", NULL);
}

static int
handle_cont(SESSION *s, char **f, size_t nf, BUF *data)
{
    unsigned long id;
    const char *resp = nf > 2 ? f[2] : "";

    if (nf < 2 || parse_id(f[1], &id) < 0) {
        msg_warn("sasl connection %lu: malformed CONT request; closing", s->c->id);
        return -1;
    }
    if (s->state == ST_NONE || id != s->id) {
        msg_info("sasl connection %lu: CONT for request %lu, which is not in progress", s->c->id, id);
        buf_printf(s->out, "FAIL\t%lu\treason=No such authentication request\n", id);
        return send_out(s);
    }
    if (base64_decode(data, resp, strlen(resp), 0) < 0) {
        msg_info("sasl: client %s: %s: invalid base64 in a response", s->rip, s->mech);
        return reply_fail(s, "Invalid base64 data in continued response", NULL);
    }
    return step(s, data);
}

/* One protocol line; -1 closes the connection. */
static int
handle_line(SESSION *s, BUF *line, BUF *data)
{
    char *f[MAX_FIELDS], *p = (char *) buf_cstr(line);
    size_t nf = 0;
    int r;

    if (strlen(p) != buf_len(line)) {
        msg_warn("sasl connection %lu: NUL byte in a protocol line; closing", s->c->id);
        return -1;
    }
    for (;;) {
        if (nf == MAX_FIELDS) {
            msg_warn("sasl connection %lu: more than %d fields in a line; closing", s->c->id, MAX_FIELDS);
            return -1;
        }
        f[nf++] = p;
        p = strchr(p, '\t');
        if (p == NULL)
            break;
        *p++ = '\0';
    }
    if (strcmp(f[0], "VERSION") == 0) {
        if (nf < 3 || strcmp(f[1], "1") != 0) {
            msg_warn("sasl connection %lu: client speaks protocol version %s, not 1; closing", s->c->id,
                     nf > 1 && printable_name(f[1]) ? f[1] : "?");
            return -1;
        }
        s->version_seen = 1;
        return 0;
    }
    if (strcmp(f[0], "AUTH") != 0 && strcmp(f[0], "CONT") != 0) {
        /* CPID and anything newer than we know: ignored, as the protocol says. */
        return 0;
    }
    if (!s->version_seen) {
        msg_warn("sasl connection %lu: %s before VERSION; closing", s->c->id, f[0]);
        return -1;
    }
    buf_reset(data);
    r = f[0][0] == 'A' ? handle_auth(s, f, nf, data) : handle_cont(s, f, nf, data);
    wipe(data);
    return r;
}

void
sasl_serve(CONN *c)
{
    SESSION s;
    BUF *line = buf_new(256), *data = buf_new(256);
    char cookie[33];
    double started;
    int r;

    memset(&s, 0, sizeof(s));
    s.c = c;
    s.out = buf_new(256);
    buf_set_limit(data, MAX_DECODED);
    if (token_generate(cookie, 32, TOKEN_HEX) < 0) {
        msg_error("sasl: random number generator failed");
        goto done;
    }
    buf_printf(s.out, "VERSION\t1\t2\n"
               "MECH\tPLAIN\tplaintext\n"
               "MECH\tLOGIN\tplaintext\n"
               "MECH\tCRAM-MD5\tdictionary\tactive\n"
               "SPID\t%ld\nCUID\t%u\nCOOKIE\t%s\nDONE\n",
               (long) getpid(), atomic_fetch_add(&next_cuid, 1), cookie);
    if (send_out(&s) < 0)
        goto done;
    for (;;) {
        r = conn_read_line(c, line, SASL_MAX_LINE, s.state != ST_NONE);
        if (r == CONN_TOO_LONG) {
            msg_warn("sasl connection %lu: line longer than %d bytes; closing", c->id, SASL_MAX_LINE);
            break;
        }
        if (r <= 0)
            break;
        started = clock_mono();
        r = handle_line(&s, line, data);
        stats_request(STATS_SASL, clock_mono() - started);
        wipe(line);
        if (r < 0)
            break;
    }
done:
    wipe(line);
    buf_free(line);
    buf_free(data);
    buf_free(s.out);
}
