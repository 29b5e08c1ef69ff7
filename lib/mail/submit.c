/*
 * submit.c -- send-API submissions through Postfix (submit.h).
 * Header format: "credential=<id>; tokens=<t1>,<t2>,...; mac=<hex>", the MAC over the
 * part before "; mac=".
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/inject.h"
#include "mail/message.h"
#include "mail/submit.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/token.h"

int
submit_message(DB *db, const PGCONF *cfg, const SEAL_KEY *seal, const CREDENTIAL *cred, const char *mail_from,
               SUBMIT_RCPT *rcpts, size_t nrcpts, const char *raw, size_t len, int *smtp_code_r, char **error_r)
{
    const char **addrs = mem_zalloc((nrcpts ? nrcpts : 1) * sizeof(char *));
    BUF *head = buf_new(64 + nrcpts * 17), *msg;
    char mac[65], *why = NULL;
    long code = 0;
    int ret;

    *smtp_code_r = 0;
    buf_printf(head, "credential=%llu; tokens=", cred->id);
    for (size_t i = 0; i < nrcpts; i++) {
        if (token_generate(rcpts[i].token, MESSAGE_TOKEN_LEN, TOKEN_LOWER_ALNUM) < 0) {
            *error_r = buf_asprintf("random number generator failed");
            mem_free(addrs);
            buf_free(head);
            return DB_ERR_TEMP;
        }
        buf_printf(head, "%s%s", i ? "," : "", rcpts[i].token);
        addrs[i] = rcpts[i].address;
    }
    seal_mac_hex(seal, SUBMIT_MAC_CONTEXT, buf_data(head), buf_len(head), mac);
    msg = buf_new(buf_len(head) + len + 128);
    buf_printf(msg, "%s: %s; mac=%s\r\n", SUBMIT_HEADER, buf_cstr(head), mac);
    buf_append(msg, raw, len);
    ret = inject_message(cfg->postfix_injection_address, mail_from, addrs, nrcpts, buf_cstr(msg), buf_len(msg),
                         &code, &why);
    buf_free(msg);
    buf_free(head);
    mem_free(addrs);
    if (ret <= 0) {
        *smtp_code_r = (int) code;
        *error_r = why;
        return ret == 0 ? 0 : DB_ERR_TEMP;
    }
    for (size_t i = 0; i < nrcpts; i++) {
        DB_RESULT *res;

        ret = db_query(db, &res, "SELECT id FROM messages WHERE token = ?", DB_ARGS(DB_STR(rcpts[i].token)));
        if (ret < 0) {
            *error_r = buf_asprintf("reading back message %s: %s", rcpts[i].token, db_error(db));
            return ret;
        }
        rcpts[i].id = ret > 0 ? strtoull(db_result_get(res, 0, 0), NULL, 10) : 0;
        db_result_free(res);
    }
    return 1;
}

int
submit_header_verify(const SEAL_KEY *seal, const char *value, unsigned long long *credential_id_r,
                     char (*tokens_r)[17], size_t max)
{
    const char *v = value, *mac_at, *p;
    char mac[65], *end;
    size_t n = 0;

    while (*v == ' ' || *v == '\t')
        v++;
    if ((mac_at = strstr(v, "; mac=")) == NULL || strncmp(v, "credential=", 11) != 0)
        return -1;
    seal_mac_hex(seal, SUBMIT_MAC_CONTEXT, v, (size_t) (mac_at - v), mac);
    p = mac_at + 6;
    if (strspn(p, "0123456789abcdef") != 64 || (p[64] != '\0' && !isspace((unsigned char) p[64]))
        || !token_equal(p, mac, 64))
        return -1;
    *credential_id_r = strtoull(v + 11, &end, 10);
    if (*credential_id_r == 0 || strncmp(end, "; tokens=", 9) != 0)
        return -1;
    for (p = end + 9; p < mac_at;) {
        size_t len = strspn(p, TOKEN_ALNUM);

        if (len != MESSAGE_TOKEN_LEN || n == max)
            return -1;
        memcpy(tokens_r[n], p, len);
        tokens_r[n++][len] = '\0';
        p += len;
        if (p < mac_at && *p++ != ',')
            return -1;
    }
    return (int) n;
}
