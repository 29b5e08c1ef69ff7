/*
 * test_confseal.c -- sealed configuration values (lib/mail/confseal.c): a round trip, the
 * secret absent from the sealed text, and every way a value is refused (clear, not
 * base64, another key name, another installation key, tampered).
 */
#include "config.h"

#include <string.h>

#include "mail/confseal.h"
#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"

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

/* confseal_open()'s -1 with an error that contains want. */
static void
refused(const SEAL_KEY *key, const char *name, const char *value, const char *want)
{
    char *plain = NULL, *error = NULL;

    ck_assert_int_eq(confseal_open(key, name, value, &plain, &error), -1);
    ck_assert_ptr_null(plain);
    ck_assert_msg(error && strstr(error, want), "error '%s' lacks '%s'", error ? error : "(none)", want);
    mem_free(error);
}

START_TEST(round_trip_and_refusals)
{
    SEAL_KEY *key = new_key("k1"), *other = new_key("k2");
    static const char secret[] = "zyx0987654321-client-secret";
    char *sealed = confseal_seal(key, "oidc.secret", secret), *plain = NULL, *error = NULL, *bad;
    size_t n;

    ck_assert_ptr_nonnull(sealed);
    ck_assert(strncmp(sealed, CONFSEAL_PREFIX, strlen(CONFSEAL_PREFIX)) == 0);
    ck_assert_ptr_null(strstr(sealed, secret));
    ck_assert_int_eq(confseal_open(key, "oidc.secret", sealed, &plain, &error), 0);
    ck_assert_str_eq(plain, secret);
    mem_free(plain);
    /* An empty value is an unset secret, not an error. */
    ck_assert_int_eq(confseal_open(key, "oidc.secret", "", &plain, &error), 0);
    ck_assert_str_eq(plain, "");
    mem_free(plain);

    refused(key, "oidc.secret", secret, "is not sealed");
    refused(key, "oidc.secret", "sealed:not*base64", "not base64");
    refused(key, "database.password", sealed, "cannot be opened");
    refused(other, "oidc.secret", sealed, "cannot be opened");
    bad = mem_strdup(sealed);
    n = strlen(bad);
    bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A';
    refused(key, "oidc.secret", bad, "cannot be opened");
    mem_free(bad);

    ck_assert(confseal_key_ok("oidc.secret"));
    ck_assert(!confseal_key_ok("database.password"));
    mem_free(sealed);
    seal_key_free(key);
    seal_key_free(other);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("confseal");
    TCase *tc = tcase_create("confseal");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_and_refusals);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
