/*
 * test_conf.c -- the configuration table: defaults, file values, environment
 * overrides, error messages naming file/line/key, reload rules, secrets in dumps,
 * and doc/configuration.md staying in step with the table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "unit.h"
#include "util/mem.h"

static char *dir;

static void
setup(void)
{
    size_t n;
    const CONF_KEY *keys = conf_keys(&n);

    /* Whatever the calling shell exported must not leak into the expectations. */
    for (size_t i = 0; i < n; i++)
        unsetenv(conf_env_name(&keys[i]));
    dir = unit_tmpdir();
}

static void
teardown(void)
{
    unit_rmtree(dir);
    mem_free(dir);
}

/* Loads text as a config file; returns the PGCONF or NULL with *error_r. */
static PGCONF *
load_text(const char *text, char **error_r, char **path_r)
{
    char *path = unit_write_file(dir, "postgate.conf", text);
    PGCONF *cfg;

    *error_r = NULL;
    cfg = conf_load(path, 0, error_r);
    if (path_r)
        *path_r = path;
    else
        mem_free(path);
    return cfg;
}

START_TEST(defaults_all_parse)
{
    char *error = NULL;
    PGCONF *cfg = conf_load(NULL, 1, &error);

    ck_assert_msg(cfg != NULL, "defaults: %s", error ? error : "");
    ck_assert_str_eq(cfg->database_name, "postgate");
    ck_assert_int_eq(cfg->database_port, 3306);
    ck_assert_int_eq(cfg->spamd_enabled, 0);
    ck_assert_uint_eq(cfg->dns_mx_records.count, 1);
    ck_assert_uint_eq(cfg->admin_trusted_proxies.count, 0);
    ck_assert_str_eq(cfg->origin[CONF_K_database_port], "default");
    conf_unref(cfg);
}
END_TEST

START_TEST(every_key_is_documented_and_sane)
{
    size_t n;
    const CONF_KEY *keys = conf_keys(&n);

    ck_assert_uint_eq(n, CONF_NKEYS);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(keys[i].doc && strlen(keys[i].doc) > 10, "%s.%s lacks a description",
                      keys[i].section, keys[i].name);
        ck_assert_msg((keys[i].flags & (CONF_RELOAD | CONF_STATIC)) != 0
                      && (keys[i].flags & (CONF_RELOAD | CONF_STATIC)) != (CONF_RELOAD | CONF_STATIC),
                      "%s.%s must be exactly one of reload/static", keys[i].section, keys[i].name);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(keys[i].section, keys[j].section) || strcmp(keys[i].name, keys[j].name),
                          "%s.%s declared twice", keys[i].section, keys[i].name);
    }
}
END_TEST

START_TEST(file_values_and_origins)
{
    char *error, *path;
    char expect[512];
    PGCONF *cfg = load_text("# comment\n"
                          "database: {\n"
                          "  socket = \"/run/test.sock\";\n"
                          "  port = 3307;\n"
                          "};\n"
                          "dns: { mx_records = [\"mx1.example.com\", \"mx2.example.com\"]; };\n"
                          "spamd: { enabled = true; };\n", &error, &path);

    ck_assert_msg(cfg != NULL, "%s", error ? error : "");
    ck_assert_str_eq(cfg->database_socket, "/run/test.sock");
    ck_assert_int_eq(cfg->database_port, 3307);
    ck_assert_uint_eq(cfg->dns_mx_records.count, 2);
    ck_assert_str_eq(cfg->dns_mx_records.items[1], "mx2.example.com");
    ck_assert_ptr_null(cfg->dns_mx_records.items[2]);
    ck_assert_int_eq(cfg->spamd_enabled, 1);
    snprintf(expect, sizeof(expect), "%s:3", path);
    ck_assert_str_eq(cfg->origin[CONF_K_database_socket], expect);
    ck_assert_str_eq(cfg->origin[CONF_K_database_host], "default");
    conf_unref(cfg);
    mem_free(path);
}
END_TEST

START_TEST(environment_wins_over_file)
{
    char *error;
    PGCONF *cfg;

    setenv("POSTGATE_DATABASE_NAME", "fromenv", 1);
    setenv("POSTGATE_DNS_MX_RECORDS", "a.example.com, b.example.com ,", 1);
    setenv("POSTGATE_SPAMD_ENABLED", "yes", 1);
    cfg = load_text("database: { name = \"fromfile\"; };\n", &error, NULL);
    ck_assert_msg(cfg != NULL, "%s", error ? error : "");
    ck_assert_str_eq(cfg->database_name, "fromenv");
    ck_assert_str_eq(cfg->origin[CONF_K_database_name], "env POSTGATE_DATABASE_NAME");
    ck_assert_uint_eq(cfg->dns_mx_records.count, 2);
    ck_assert_str_eq(cfg->dns_mx_records.items[1], "b.example.com");
    ck_assert_int_eq(cfg->spamd_enabled, 1);
    conf_unref(cfg);
}
END_TEST

START_TEST(env_names)
{
    size_t n;
    const CONF_KEY *keys = conf_keys(&n);

    ck_assert_str_eq(conf_env_name(&keys[CONF_K_database_migrations_dir]), "POSTGATE_DATABASE_MIGRATIONS_DIR");
    ck_assert_str_eq(conf_env_name(&keys[CONF_K_dns_mx_records]), "POSTGATE_DNS_MX_RECORDS");
}
END_TEST

/* Each bad input and the text its error must contain. */
static const struct {
    const char *text;
    const char *expect[3];
} bad_files[] = {
    {"database: {\n  name = \"x\";\n  bogus = 1;\n};\n", {":3: ", "unknown key 'database.bogus'", NULL}},
    {"databse: { name = \"x\"; };\n", {":1: ", "unknown section 'databse'", NULL}},
    {"database: {\n port = 99999;\n};\n", {":2: ", "database.port: 99999 is out of range (1..65535)", NULL}},
    {"database: {\n port = \"3306\";\n};\n", {":2: ", "database.port: expected a whole number, found a string", NULL}},
    {"logging: {\n\n level = \"loud\";\n};\n", {":3: ", "logging.level", "not one of debug|info|warning|error"}},
    {"spamd: { enabled = \"yes\"; };\n", {":1: ", "spamd.enabled: expected true or false", NULL}},
    {"dns: {\n mx_records = [1, 2];\n};\n", {":2: ", "dns.mx_records", "expected a list of strings"}},
    {"database: {\n port = ;\n};\n", {":2: ", "syntax error", NULL}},
    {"database = 5;\n", {":1: ", "'database' must be a group", NULL}},
};

START_TEST(bad_files_name_file_line_key)
{
    char *error, *path;
    PGCONF *cfg = load_text(bad_files[_i].text, &error, &path);

    ck_assert_msg(cfg == NULL, "case %d was accepted", _i);
    ck_assert_msg(strncmp(error, path, strlen(path)) == 0, "case %d: error does not start with the file: %s",
                  _i, error);
    for (int k = 0; k < 3 && bad_files[_i].expect[k]; k++)
        ck_assert_msg(strstr(error, bad_files[_i].expect[k]) != NULL, "case %d: \"%s\" lacks \"%s\"", _i,
                      error, bad_files[_i].expect[k]);
    mem_free(error);
    mem_free(path);
}
END_TEST

START_TEST(bad_environment_is_named)
{
    char *error = NULL;
    PGCONF *cfg;

    setenv("POSTGATE_DATABASE_PORT", "33o6", 1);
    cfg = conf_load(NULL, 1, &error);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(error, "environment POSTGATE_DATABASE_PORT: database.port: \"33o6\" is not a whole number");
    mem_free(error);
}
END_TEST

START_TEST(missing_file)
{
    char *error = NULL;
    PGCONF *cfg = conf_load("/nonexistent/postgate.conf", 0, &error);

    ck_assert_ptr_null(cfg);
    ck_assert_ptr_nonnull(strstr(error, "/nonexistent/postgate.conf: cannot read"));
    mem_free(error);
    /* A missing default file is allowed: defaults and environment only. */
    cfg = conf_load("/nonexistent/postgate.conf", 1, &error);
    ck_assert_ptr_nonnull(cfg);
    conf_unref(cfg);
}
END_TEST

START_TEST(reload_rules)
{
    char *error = NULL;
    PGCONF *a = load_text("logging: { level = \"info\"; };\ndatabase: { socket = \"/a\"; };\n", &error, NULL);
    PGCONF *b = load_text("logging: { level = \"debug\"; };\ndatabase: { socket = \"/a\"; };\n", &error, NULL);
    PGCONF *c = load_text("logging: { level = \"debug\"; };\ndatabase: { socket = \"/b\"; };\n", &error, NULL);

    ck_assert(a && b && c);
    ck_assert_int_eq(conf_reload_check(a, b, &error), 0);
    ck_assert_int_eq(conf_reload_check(a, c, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "database.socket cannot be changed by a reload"));
    ck_assert_ptr_nonnull(strstr(error, ":2"));
    mem_free(error);
    /* References keep a snapshot alive. */
    conf_ref(a);
    conf_unref(a);
    ck_assert_str_eq(a->logging_level, "info");
    conf_unref(a);
    conf_unref(b);
    conf_unref(c);
}
END_TEST

START_TEST(dump_hides_secrets)
{
    char *error = NULL, *text = NULL;
    size_t len = 0;
    PGCONF *cfg = load_text("database: { password = \"s3cr3t-pw\"; };\n", &error, NULL);
    FILE *fp = open_memstream(&text, &len);

    ck_assert_ptr_nonnull(cfg);
    conf_dump(cfg, fp);
    fclose(fp);
    ck_assert_ptr_null(strstr(text, "s3cr3t-pw"));
    ck_assert_ptr_nonnull(strstr(text, "database.password = (set)  # "));
    ck_assert_ptr_nonnull(strstr(text, "database.port = 3306  # default\n"));
    free(text);
    conf_unref(cfg);
}
END_TEST

/* A file generated from the table (relative to top_srcdir) is what writer prints now. */
static void
assert_generated(const char *relpath, void (*writer)(FILE *))
{
    const char *srcdir = getenv("top_srcdir");
    char path[1024];
    char *want = NULL, *have;
    size_t want_len = 0, have_len;
    FILE *fp;

    ck_assert_msg(srcdir != NULL, "top_srcdir is not set by the test harness");
    fp = open_memstream(&want, &want_len);
    writer(fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/%s", srcdir, relpath);
    fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    have = mem_alloc(want_len + 65536);
    have_len = fread(have, 1, want_len + 65535, fp);
    fclose(fp);
    ck_assert_msg(have_len == want_len && memcmp(have, want, want_len) == 0,
                  "%s differs from the configuration table: run `make -C doc update`", path);
    mem_free(have);
    free(want);
}

/* doc/configuration.md and postgate.conf(5) are generated from the table; these fail
 * when they drift. */
START_TEST(reference_doc_matches_table)
{
    assert_generated("doc/configuration.md", conf_write_markdown);
}
END_TEST

START_TEST(man_page_matches_table)
{
    assert_generated("doc/man/postgate.conf.5", conf_write_man);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("conf");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_all_parse);
    tcase_add_test(tc, every_key_is_documented_and_sane);
    tcase_add_test(tc, file_values_and_origins);
    tcase_add_test(tc, environment_wins_over_file);
    tcase_add_test(tc, env_names);
    tcase_add_loop_test(tc, bad_files_name_file_line_key, 0, (int) (sizeof(bad_files) / sizeof(bad_files[0])));
    tcase_add_test(tc, bad_environment_is_named);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, reload_rules);
    tcase_add_test(tc, dump_hides_secrets);
    tcase_add_test(tc, reference_doc_matches_table);
    tcase_add_test(tc, man_page_matches_table);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
