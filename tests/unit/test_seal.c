/*
 * test_seal.c -- AES-256-GCM sealing: round trip, tamper and context/key mismatch
 * detection, random nonces, and the key file's format checks.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/seal.h"

static char *dir;

static void setup(void) { dir = unit_tmpdir(); }
static void teardown(void) { unit_rmtree(dir); mem_free(dir); }

static SEAL_KEY *
new_key(const char *name)
{
    char *path = buf_asprintf("%s/%s", dir, name), *error = NULL;
    SEAL_KEY *key;

    ck_assert_msg(seal_key_create(path, &error) == 0, "%s", error ? error : "");
    key = seal_key_load(path, &error);
    ck_assert_msg(key != NULL, "%s", error ? error : "");
    mem_free(path);
    return key;
}

START_TEST(round_trip_and_tamper)
{
    SEAL_KEY *key = new_key("k1"), *other = new_key("k2");
    BUF *sealed = buf_new(64), *again = buf_new(64), *plain = buf_new(64);
    static const char secret[] = "aB3dE5fG7hI9jK1lM3nO5pQ7";

    ck_assert_int_eq(seal_encrypt(key, "credential", secret, 24, sealed), 0);
    ck_assert_uint_eq(buf_len(sealed), 1 + 12 + 24 + 16);
    ck_assert_ptr_null(memmem(buf_data(sealed), buf_len(sealed), secret, 24));
    ck_assert_int_eq(seal_decrypt(key, "credential", buf_data(sealed), buf_len(sealed), plain), 0);
    ck_assert_uint_eq(buf_len(plain), 24);
    ck_assert(memcmp(buf_data(plain), secret, 24) == 0);
    /* Random nonce: the same secret seals differently. */
    seal_encrypt(key, "credential", secret, 24, again);
    ck_assert(memcmp(buf_data(again), buf_data(sealed), buf_len(sealed)) != 0);
    /* Another context, another key, a flipped bit, a truncated value: all refused. */
    buf_reset(plain);
    ck_assert_int_eq(seal_decrypt(key, "dkim", buf_data(sealed), buf_len(sealed), plain), -1);
    ck_assert_int_eq(seal_decrypt(other, "credential", buf_data(sealed), buf_len(sealed), plain), -1);
    ((unsigned char *) buf_data(sealed))[20] ^= 1;
    ck_assert_int_eq(seal_decrypt(key, "credential", buf_data(sealed), buf_len(sealed), plain), -1);
    ck_assert_int_eq(seal_decrypt(key, "credential", buf_data(sealed), 10, plain), -1);
    ck_assert_uint_eq(buf_len(plain), 0);
    buf_free(sealed);
    buf_free(again);
    buf_free(plain);
    seal_key_free(key);
    seal_key_free(other);
}
END_TEST

START_TEST(key_files)
{
    char *path = buf_asprintf("%s/key", dir), *error = NULL;
    struct stat st;

    ck_assert_int_eq(seal_key_create(path, &error), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    /* Never overwritten: sealed data depends on it. */
    ck_assert_int_eq(seal_key_create(path, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "cannot create secret key file"));
    mem_free(error);
    mem_free(path);
    path = unit_write_file(dir, "short", "abcdef\n");
    ck_assert_ptr_null(seal_key_load(path, &error));
    ck_assert_ptr_nonnull(strstr(error, "expected 64 hex digits"));
    mem_free(error);
    mem_free(path);
    path = unit_write_file(dir, "nothex", "zz00000000000000000000000000000000000000000000000000000000000000\n");
    ck_assert_ptr_null(seal_key_load(path, &error));
    ck_assert_ptr_nonnull(strstr(error, "not a hex key"));
    mem_free(error);
    mem_free(path);
    ck_assert_ptr_null(seal_key_load("/nonexistent/key", &error));
    ck_assert_ptr_nonnull(strstr(error, "postgatectl initialize"));
    mem_free(error);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("seal");
    TCase *tc = tcase_create("seal");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_and_tamper);
    tcase_add_test(tc, key_files);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
