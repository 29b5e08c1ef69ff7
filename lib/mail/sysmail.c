/*
 * sysmail.c -- postgate's own mail through Postfix's sendmail (sysmail.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mail/address.h"
#include "mail/mime_build.h"
#include "mail/sysmail.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/run.h"
#include "util/token.h"

/* Seconds sendmail may take: it only writes the message into Postfix's maildrop. */
#define SYSMAIL_TIMEOUT 30

/* The message with LF line ends, as sendmail(1) reads its standard input. */
static char *
lf_only(const char *crlf, size_t len, size_t *len_r)
{
    char *out = mem_alloc(len + 1), *w = out;

    for (size_t i = 0; i < len; i++)
        if (!(crlf[i] == '\r' && i + 1 < len && crlf[i + 1] == '\n'))
            *w++ = crlf[i];
    *w = 0;
    *len_r = (size_t) (w - out);
    return out;
}

int
sysmail_send(const PGCONF *cfg, const char *rcpt, const char *subject, const char *body, char **error_r)
{
    char *from, *msg = NULL, *lf = NULL, *err_text = NULL, msgid[320], tok[24];
    const char *to[1] = {rcpt};
    size_t len = 0, lflen = 0;
    MIME_SPEC spec = {0};
    BUF *err = NULL;
    int fd = -1, null_fd = -1, status, ret = -1;

    *error_r = NULL;
    from = cfg->sysmail_from[0] ? mem_strdup(cfg->sysmail_from)
        : buf_asprintf("postmaster@%s", cfg->dns_smtp_server_hostname);
    if (!address_email_ok(from) || !address_email_ok(rcpt)) {
        *error_r = buf_asprintf("%s is not a plain e-mail address", address_email_ok(from) ? rcpt : from);
        goto out;
    }
    if (token_generate(tok, 16, TOKEN_LOWER_ALNUM) < 0) {
        *error_r = buf_asprintf("no random bytes for the Message-ID");
        goto out;
    }
    snprintf(msgid, sizeof(msgid), "%s@%s", tok, cfg->dns_smtp_server_hostname);
    spec.from = from;
    spec.to = to;
    spec.nto = 1;
    spec.subject = subject;
    spec.plain_body = body;
    spec.message_id = msgid;
    if ((msg = mime_build(&spec, &len, &err_text)) == NULL) {
        *error_r = buf_asprintf("cannot build the message: %s", err_text ? err_text : "?");
        goto out;
    }
    lf = lf_only(msg, len, &lflen);
    if ((fd = memfd_create("postgate-sysmail", MFD_CLOEXEC)) < 0) {
        *error_r = buf_asprintf("memfd_create: %s", strerror(errno));
        goto out;
    }
    for (size_t off = 0; off < lflen;) {
        ssize_t n = write(fd, lf + off, lflen - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *error_r = buf_asprintf("writing the message: %s", strerror(errno));
            goto out;
        }
        off += (size_t) n;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        *error_r = buf_asprintf("lseek: %s", strerror(errno));
        goto out;
    }
    {
        char *argv[] = {(char *) cfg->sysmail_sendmail_path, "-i", "-f", from, "--", (char *) rcpt, NULL};

        if ((null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
            *error_r = buf_asprintf("/dev/null: %s", strerror(errno));
            goto out;
        }
        err = buf_new(256);
        status = run_files(argv, SYSMAIL_TIMEOUT, fd, null_fd, err, 2048);
    }
    if (status != 0) {
        *error_r = buf_asprintf("%s %s: %s", cfg->sysmail_sendmail_path,
                                status < 0 ? "did not finish" : "failed", buf_len(err) ? buf_cstr(err) : "no message");
        goto out;
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    if (null_fd >= 0)
        close(null_fd);
    if (err)
        buf_free(err);
    mem_free(err_text);
    mem_free(lf);
    mem_free(msg);
    mem_free(from);
    return ret;
}
