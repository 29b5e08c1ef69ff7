/*
 * test_migrate.c -- migration file names and ordering, without a database (the
 * integration tests apply them to a real MariaDB).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/migrate.h"
#include "unit.h"
#include "util/mem.h"

static char *dir;

static void
setup(void)
{
    dir = unit_tmpdir();
}

static void
teardown(void)
{
    unit_rmtree(dir);
    mem_free(dir);
}

static void
touch(const char *name)
{
    mem_free(unit_write_file(dir, name, "SELECT 1;\n"));
}

START_TEST(names)
{
    unsigned v = 0;

    ck_assert_int_eq(migrate_parse_name("001_initial.sql", &v), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(migrate_parse_name("0042_add_index_2.sql", &v), 0);
    ck_assert_uint_eq(v, 42);
    ck_assert_int_eq(migrate_parse_name("01_short.sql", &v), -1);
    ck_assert_int_eq(migrate_parse_name("000_zero.sql", &v), -1);
    ck_assert_int_eq(migrate_parse_name("001-initial.sql", &v), -1);
    ck_assert_int_eq(migrate_parse_name("001_.sql", &v), -1);
    ck_assert_int_eq(migrate_parse_name("001_Initial.sql", &v), -1);
    ck_assert_int_eq(migrate_parse_name("001_initial.sql.orig", &v), -1);
    ck_assert_int_eq(migrate_parse_name("initial.sql", &v), -1);
}
END_TEST

START_TEST(numeric_order_not_lexical)
{
    MIGRATION_LIST list;
    char *error = NULL;

    touch("010_ten.sql");
    touch("002_two.sql");
    touch("0009_nine.sql");
    touch("001_one.sql");
    touch("README");
    touch("notes.txt");
    ck_assert_msg(migrate_scan(dir, &list, &error) == 0, "%s", error ? error : "");
    ck_assert_uint_eq(list.count, 4);
    ck_assert_uint_eq(list.items[0].version, 1);
    ck_assert_uint_eq(list.items[1].version, 2);
    ck_assert_uint_eq(list.items[2].version, 9);
    ck_assert_uint_eq(list.items[3].version, 10);
    ck_assert_str_eq(list.items[3].name, "010_ten.sql");
    migrate_list_free(&list);
}
END_TEST

START_TEST(duplicate_numbers_refused)
{
    MIGRATION_LIST list;
    char *error = NULL;

    touch("003_a.sql");
    touch("0003_b.sql");
    ck_assert_int_eq(migrate_scan(dir, &list, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "two migrations numbered 3"));
    mem_free(error);
}
END_TEST

START_TEST(misnamed_sql_refused)
{
    MIGRATION_LIST list;
    char *error = NULL;

    touch("001_ok.sql");
    touch("2_typo.sql");
    ck_assert_int_eq(migrate_scan(dir, &list, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "2_typo.sql: not a migration name"));
    mem_free(error);
}
END_TEST

START_TEST(empty_or_missing_dir_refused)
{
    MIGRATION_LIST list;
    char *error = NULL;

    ck_assert_int_eq(migrate_scan(dir, &list, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "holds no NNN_*.sql files"));
    mem_free(error);
    ck_assert_int_eq(migrate_scan("/nonexistent/schema", &list, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "/nonexistent/schema"));
    mem_free(error);
}
END_TEST

/* The project's own schema/ directory must scan cleanly. */
START_TEST(project_schema_scans)
{
    const char *srcdir = getenv("top_srcdir");
    char path[1024];
    MIGRATION_LIST list;
    char *error = NULL;

    ck_assert_ptr_nonnull(srcdir);
    snprintf(path, sizeof(path), "%s/schema", srcdir);
    ck_assert_msg(migrate_scan(path, &list, &error) == 0, "%s", error ? error : "");
    ck_assert_uint_ge(list.count, 1);
    ck_assert_uint_eq(list.items[0].version, 1);
    migrate_list_free(&list);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("migrate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, names);
    tcase_add_test(tc, numeric_order_not_lexical);
    tcase_add_test(tc, duplicate_numbers_refused);
    tcase_add_test(tc, misnamed_sql_refused);
    tcase_add_test(tc, empty_or_missing_dir_refused);
    tcase_add_test(tc, project_schema_scans);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
