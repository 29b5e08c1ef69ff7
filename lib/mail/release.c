/*
 * release.c -- re-injection of held messages (release.h) through the release service.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/inject.h"
#include "mail/release.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

int
release_header_verify(const SEAL_KEY *seal, const char *value, char token_r[17])
{
    const char *v = value, *semi;
    char mac[65];
    size_t len;

    while (*v == ' ' || *v == '\t')
        v++;
    if (strncmp(v, "token=", 6) != 0 || (semi = strstr(v, "; mac=")) == NULL)
        return 0;
    len = (size_t) (semi - v - 6);
    if (len != 16 || strspn(v + 6, TOKEN_ALNUM) != len || strspn(semi + 6, "0123456789abcdef") != 64)
        return 0;
    seal_mac_hex(seal, RELEASE_MAC_CONTEXT, v, (size_t) (semi - v), mac);
    if (!token_equal(semi + 6, mac, 64))
        return 0;
    memcpy(token_r, v + 6, 16);
    token_r[16] = '\0';
    return 1;
}

int
release_message(DB *db, const PGCONF *cfg, const SEAL_KEY *seal, const char *token, char **error_r)
{
    DB_RESULT *res;
    const char *rcpt;
    char *why = NULL;
    long code;
    BUF *msg;
    int ret;

    ret = db_query(db, &res, "SELECT m.mail_from, m.rcpt_to, r.headers, r.body FROM messages m "
                   "JOIN raw_messages r ON r.id = m.raw_message_id AND r.created_day = m.raw_message_day "
                   "WHERE m.token = ? AND m.status = 'Held'", DB_ARGS(DB_STR(token)));
    if (ret < 0) {
        *error_r = buf_asprintf("%s", db_error(db));
        return ret;
    }
    if (ret == 0) {
        db_result_free(res);
        *error_r = buf_asprintf("no held message with token %s (or its raw copy has expired)", token);
        return 0;
    }
    msg = buf_new(db_result_len(res, 0, 2) + db_result_len(res, 0, 3) + 128);
    {
        char *what = buf_asprintf("token=%s", token), mac[65];

        seal_mac_hex(seal, RELEASE_MAC_CONTEXT, what, strlen(what), mac);
        buf_printf(msg, "%s: %s; mac=%s\r\n", RELEASE_HEADER, what, mac);
        mem_free(what);
    }
    buf_append(msg, db_result_get(res, 0, 2), db_result_len(res, 0, 2));
    buf_append_str(msg, "\r\n");
    buf_append(msg, db_result_get(res, 0, 3), db_result_len(res, 0, 3));
    rcpt = db_result_get(res, 0, 1);
    ret = inject_message(cfg->postfix_release_address, db_result_get(res, 0, 0), &rcpt, 1, buf_cstr(msg),
                         buf_len(msg), &code, &why);
    if (ret <= 0) {
        *error_r = buf_asprintf("re-injecting %s: %s", token, why);
        mem_free(why);
        ret = DB_ERR_TEMP;
    }
    buf_free(msg);
    db_result_free(res);
    return ret;
}
