/*
 * ctl_sendtest.c -- `postgatectl send-test --server ORG/SERVER --to ADDR [--from ADDR]
 * [--subject S]` (Postal's test-app-smtp): a test message sent the way the send API sends,
 * so it proves the whole outgoing path. The message is built by lib/mail/mime_build.c and
 * submitted by lib/mail/submit.c to Postfix's loopback injection service
 * (postfix.injection_address) as one of the server's API credentials; the milter checks
 * the From domain, records the row, holds or signs it (DKIM) as any real send, and Postfix
 * queues it. Prints the row's token, its id and Postfix's queue ID.
 *
 * Exit status: 0 accepted by Postfix; 65 unknown server, no API credential, a From domain
 * the server has not verified, or Postfix refusing the message (5xx); 75 a temporary
 * failure (MariaDB or Postfix unreachable, 4xx); 64 usage.
 *
 * Must never: submit around the milter (no other service, no sendmail), or pick a
 * credential of another server.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "mail/address.h"
#include "mail/credential.h"
#include "mail/domain.h"
#include "mail/message.h"
#include "mail/mime_build.h"
#include "mail/submit.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/token.h"

static int
send_test_usage(void)
{
    msg_error("usage: postgatectl send-test --server ORG/SERVER --to ADDRESS [--from ADDRESS] [--subject TEXT]");
    return EX_USAGE;
}

/* The one addr-spec of value into *addr_r (mem_free it): EX_OK, or EX_DATAERR after saying why. */
static int
one_address(const char *what, const char *value, char **addr_r)
{
    char **addrs = NULL, *error = NULL;
    size_t n = address_list_parse_strict(value, &addrs, &error);

    if (n != 1) {
        msg_error("%s \"%s\": %s", what, value, n == 0 ? error : "give one address");
        mem_free(error);
        address_list_free(addrs, n);
        return EX_DATAERR;
    }
    *addr_r = mem_strdup(addrs[0]);
    address_list_free(addrs, n);
    return EX_OK;
}

/* An API credential of the server, one without hold preferred: EX_OK, or a status after
 * saying why not. */
static int
pick_credential(DB *db, const SERVER *server, const char *path, CREDENTIAL *cred)
{
    DB_ROWS rows;
    const CREDENTIAL_ROW *r, *pick = NULL;
    int ret = credential_server_list(db, server->id, NULL, 0, &rows);

    if (ret < 0) {
        msg_error("database unavailable: %s", db_error(db));
        return ctl_db_status(ret);
    }
    r = rows.v;
    for (size_t i = 0; i < rows.n; i++)
        if (strcmp(r[i].type, "API") == 0 && (pick == NULL || (pick->hold && !r[i].hold)))
            pick = &r[i];
    if (pick == NULL) {
        db_rows_free(&rows);
        msg_error("server %s has no API credential: send-test submits as the send API does; create one with "
                  "'postgatectl credential create --server %s --type API --name NAME'", path, path);
        return EX_DATAERR;
    }
    ret = credential_by_id(db, pick->id, cred);
    db_rows_free(&rows);
    if (ret <= 0) {
        msg_error("credential of server %s: %s", path, ret < 0 ? db_error(db) : "gone while reading it");
        return ret < 0 ? ctl_db_status(ret) : EX_TEMPFAIL;
    }
    return EX_OK;
}

/* The From address: the one given, in a verified domain of the server or its organization,
 * or test@ the server's first verified domain. EX_OK (*from_r, mem_free it), or a status
 * after saying why not. */
static int
pick_from(DB *db, const SERVER *server, const char *path, const char *given, char **from_r)
{
    unsigned long long domain_id;
    int status, ret;

    if (given != NULL) {
        if ((status = one_address("--from", given, from_r)) != EX_OK)
            return status;
        ret = domain_for_sending(db, server, address_domain(*from_r), &domain_id);
        if (ret < 0) {
            msg_error("database unavailable: %s", db_error(db));
            return ctl_db_status(ret);
        }
        if (ret == 0) {
            msg_error("--from %s: %s is not a verified domain of server %s or its organization", *from_r,
                      address_domain(*from_r), path);
            mem_free(*from_r);
            *from_r = NULL;
            return EX_DATAERR;
        }
        return EX_OK;
    } else {
        DB_ROWS rows;
        const DOMAIN_ROW *d;

        if ((ret = domain_server_list(db, server->id, NULL, &rows)) < 0) {
            msg_error("database unavailable: %s", db_error(db));
            return ctl_db_status(ret);
        }
        d = rows.v;
        for (size_t i = 0; i < rows.n && *from_r == NULL; i++)
            if (d[i].verified)
                *from_r = buf_asprintf("test@%s", d[i].name);
        db_rows_free(&rows);
        if (*from_r == NULL) {
            msg_error("server %s has no verified domain to send from: verify one, or give --from an address "
                      "in a verified domain of its organization", path);
            return EX_DATAERR;
        }
        return EX_OK;
    }
}

static char *
build_message(const PGCONF *cfg, const char *path, const char *from, const char *to, const char *subject,
              char message_id[128], size_t *len_r)
{
    char uuid[37], host[256] = "localhost", when[64], *body, *received, *raw, *error = NULL, *subj;
    const char *tos[1] = {to};
    time_t now = time(NULL);
    struct tm tm;

    if (token_uuid(uuid) < 0) {
        msg_error("random number generator failed");
        return NULL;
    }
    snprintf(message_id, 128, "%s@%s", uuid, cfg->dns_return_path_domain);
    gethostname(host, sizeof(host) - 1);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
    subj = subject ? mem_strdup(subject) : buf_asprintf("postgate test message from %s", path);
    body = buf_asprintf("This is a test message sent by postgatectl send-test on %s at %s\r\n"
                        "through mail server %s, from %s to %s.\r\n\r\n"
                        "It took the path every message of the send API takes: Postfix's injection\r\n"
                        "service, postgate-milter (recording and DKIM signing), Postfix's queue.\r\n",
                        host, when, path, from, to);
    received = buf_asprintf("from postgatectl (send-test) by %s (postgate) with local", cfg->dns_smtp_server_hostname);
    {
        MIME_SPEC spec = {
            .from = from, .to = tos, .nto = 1, .subject = subj, .plain_body = body,
            .message_id = message_id, .received = received,
        };

        raw = mime_build(&spec, len_r, &error);
    }
    if (raw == NULL) {
        msg_error("building the message: %s", error);
        mem_free(error);
    }
    mem_free(subj);
    mem_free(body);
    mem_free(received);
    return raw;
}

int
ctl_send_test(CTL_CONTEXT *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'},
        {"to", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'f'},
        {"subject", required_argument, NULL, 'u'},
        {NULL, 0, NULL, 0}
    };
    const char *path = NULL, *to_arg = NULL, *from_arg = NULL, *subject = NULL;
    char *to = NULL, *from = NULL, *raw = NULL, *error = NULL, message_id[128], queue_id[33] = "", state[32] = "";
    SUBMIT_RCPT rcpt = {0};
    SEAL_KEY *seal = NULL;
    CREDENTIAL cred;
    SERVER server;
    size_t len = 0;
    int opt, status, ret, code = 0;
    DB *db;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': path = optarg; break;
        case 't': to_arg = optarg; break;
        case 'f': from_arg = optarg; break;
        case 'u': subject = optarg; break;
        default: return send_test_usage();
        }
    }
    if (optind != argc || path == NULL || to_arg == NULL)
        return send_test_usage();
    address_init();
    if ((status = one_address("--to", to_arg, &to)) != EX_OK)
        return status;
    db = db_new(ctx->cfg);
    if ((status = ctl_find_server(db, path, &server)) != EX_OK)
        goto out;
    if (server.suspended) {
        msg_error("server %s is suspended: it sends nothing", path);
        status = EX_DATAERR;
        goto out;
    }
    if ((status = pick_from(db, &server, path, from_arg, &from)) != EX_OK
        || (status = pick_credential(db, &server, path, &cred)) != EX_OK)
        goto out;
    if ((seal = ctl_load_seal(ctx->cfg)) == NULL) {
        status = EX_CONFIG;
        goto out;
    }
    if ((raw = build_message(ctx->cfg, path, from, to, subject, message_id, &len)) == NULL) {
        status = EX_DATAERR;
        goto out;
    }
    rcpt.address = to;
    ret = submit_message(db, ctx->cfg, seal, &cred, from, &rcpt, 1, raw, len, &code, &error);
    if (ret <= 0) {
        if (ret == 0)
            msg_error("Postfix refused the message (%s, reply %d): %s", ctx->cfg->postfix_injection_address, code,
                      error ? error : "no reason given");
        else
            msg_error("the message was not sent, try again later: %s", error ? error : "no reason given");
        status = ret == 0 ? EX_DATAERR : EX_TEMPFAIL;
        goto out;
    }
    if (message_queue_state(db, rcpt.token, queue_id, state) < 0)
        msg_warn("reading back message %s: %s", rcpt.token, db_error(db));
    printf("server: %s\nfrom: %s\nto: %s\nmessage-id: <%s>\ntoken: %s\nid: %llu\nqueue-id: %s\nstatus: %s\n", path,
           from, to, message_id, rcpt.token, rcpt.id, *queue_id ? queue_id : "-", *state ? state : "-");
    if (strcmp(state, "Held") == 0)
        printf("The message is held (server in Development mode or a held credential): release it with "
               "'postgatectl message release %s'.\n", rcpt.token);
    status = EX_OK;
out:
    seal_key_free(seal);
    mem_free(error);
    mem_free(raw);
    mem_free(from);
    mem_free(to);
    db_free(db);
    return status;
}
