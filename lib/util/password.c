/*
 * password.c -- argon2id hashing (libargon2) with parameters in line with the
 * RFC 9106 second recommended option scaled for a mail host: 64 MiB, 3 passes.
 */
#include "config.h"

#include <string.h>

#include <argon2.h>
#include <openssl/rand.h>

#include "util/mem.h"
#include "util/password.h"

#define PW_T_COST 3
#define PW_M_COST (64 * 1024)  /* KiB */
#define PW_PARALLELISM 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32

int
password_hash(const char *password, char *out, size_t outlen, char **error_r)
{
    unsigned char salt[PW_SALT_LEN];
    size_t pwlen = strlen(password);
    int rc;

    if (pwlen > PASSWORD_MAX_LENGTH) {
        *error_r = mem_strdup("password too long");
        return -1;
    }
    if (RAND_bytes(salt, sizeof(salt)) != 1) {
        *error_r = mem_strdup("random number generator failed");
        return -1;
    }
    rc = argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_PARALLELISM, password, pwlen,
                               salt, sizeof(salt), PW_HASH_LEN, out, outlen);
    if (rc != ARGON2_OK) {
        *error_r = mem_strdup(argon2_error_message(rc));
        return -1;
    }
    return 0;
}

int
password_verify(const char *encoded, const char *password)
{
    int rc;

    if (strncmp(encoded, "$argon2id$", 10) != 0)
        return -1;
    rc = argon2id_verify(encoded, password, strlen(password));
    if (rc == ARGON2_OK)
        return 1;
    if (rc == ARGON2_VERIFY_MISMATCH)
        return 0;
    return -1;
}
