/*
 * confseal.c -- sealed configuration values (confseal.h).
 */
#include "config.h"

#include <string.h>

#include "mail/confseal.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"

#define SEALED_MAX 4096

static const char *const sealed_keys[] = {"oidc.secret", NULL};

int
confseal_key_ok(const char *name)
{
    for (size_t i = 0; sealed_keys[i]; i++)
        if (strcmp(sealed_keys[i], name) == 0)
            return 1;
    return 0;
}

char *
confseal_seal(const SEAL_KEY *key, const char *name, const char *plain)
{
    char *context = buf_asprintf("config:%s", name), *b64, *out;
    BUF *sealed = buf_new(128);

    if (seal_encrypt(key, context, plain, strlen(plain), sealed) < 0) {
        buf_free(sealed);
        mem_free(context);
        return NULL;
    }
    b64 = base64_encode(buf_data(sealed), buf_len(sealed), 0);
    out = buf_asprintf("%s%s", CONFSEAL_PREFIX, b64);
    mem_free(b64);
    buf_free(sealed);
    mem_free(context);
    return out;
}

int
confseal_open(const SEAL_KEY *key, const char *name, const char *value, char **plain_r, char **error_r)
{
    size_t plen = strlen(CONFSEAL_PREFIX), len;
    unsigned char *raw;
    char *context;
    BUF *plain;
    int ret;

    *plain_r = NULL;
    if (*value == '\0') {
        *plain_r = mem_strdup("");
        return 0;
    }
    if (strncmp(value, CONFSEAL_PREFIX, plen) != 0) {
        *error_r = buf_asprintf("%s is not sealed: write the line that `postgatectl seal %s` prints", name, name);
        return -1;
    }
    if (strlen(value + plen) > SEALED_MAX || (raw = base64_decode_str(value + plen, 0, &len)) == NULL) {
        *error_r = buf_asprintf("%s: the sealed value is not base64", name);
        return -1;
    }
    context = buf_asprintf("config:%s", name);
    plain = buf_new(len + 1);
    ret = seal_decrypt(key, context, raw, len, plain);
    mem_free(context);
    mem_free(raw);
    if (ret < 0 || memchr(buf_data(plain), '\0', buf_len(plain)) != NULL) {
        buf_free(plain);
        *error_r = buf_asprintf("%s: the sealed value cannot be opened (damaged, sealed for another key name, or "
                                "with another installation key than security.secret_key_file)", name);
        return -1;
    }
    *plain_r = mem_strndup((const char *) buf_data(plain), buf_len(plain));
    buf_free(plain);
    return 0;
}
