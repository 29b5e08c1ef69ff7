/*
 * dbprobe.c -- drives lib/mail/db.c against a real MariaDB for tests/integration/db.t.
 *
 *   dbprobe -c CONF roundtrip      values of every parameter type survive a round trip
 *   dbprobe -c CONF session        reads commands from stdin, one handle throughout:
 *       query<TAB>SQL[<TAB>ARG]...  prints "rows N" then one tab-separated line per row
 *       exec<TAB>SQL[<TAB>ARG]...   prints "ok N" (affected rows)
 *       begin | commit | rollback
 *     failures print "temp ERRNO MESSAGE" or "perm ERRNO MESSAGE", so a test can check
 *     that db.c classifies them. ARG "\N" is SQL NULL.
 * A test program: its SQL comes from the test script, not from mail or HTTP input.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/conf.h"
#include "mail/db.h"
#include "util/mem.h"
#include "util/msg.h"

#define MAX_ARGS 16

static void
report_failure(DB *db, int ret)
{
    printf("%s %u %s\n", ret == DB_ERR_TEMP ? "temp" : "perm", db_errno(db), db_error(db));
}

static int
roundtrip(DB *db)
{
    static const char blob[] = {'a', '\0', 'b', '\n', '\'', '\\', '\0'};
    const char *text = "quote ' \" backslash \\ semicolon ; -- comment \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x93\xa7";
    DB_RESULT *res;
    int ret;

    if ((ret = db_exec(db, "CREATE TABLE IF NOT EXISTS probe_roundtrip (id INT PRIMARY KEY, t TEXT, "
                       "b BLOB, i BIGINT, u BIGINT UNSIGNED, d DOUBLE, n TEXT, big LONGTEXT) "
                       "DEFAULT CHARSET utf8mb4", DB_NOARGS)) < 0
        || (ret = db_exec(db, "DELETE FROM probe_roundtrip", DB_NOARGS)) < 0) {
        report_failure(db, ret);
        return 1;
    }
    char *big = mem_alloc(300001);

    memset(big, 'x', 300000);
    big[300000] = '\0';
    ret = db_exec(db, "INSERT INTO probe_roundtrip VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  DB_ARGS(DB_INT(1), DB_STR(text), DB_BLOB(blob, sizeof(blob)), DB_INT(-9007199254740993LL),
                          DB_UINT(18446744073709551615ULL), DB_DOUBLE(0.125), DB_STR(NULL), DB_STR(big)));
    if (ret != 1) {
        report_failure(db, ret);
        return 1;
    }
    ret = db_query(db, &res, "SELECT t, b, i, u, d, n, big FROM probe_roundtrip WHERE id = ?", DB_ARGS(DB_INT(1)));
    if (ret != 1) {
        if (ret < 0)
            report_failure(db, ret);
        else
            printf("expected 1 row, got %d\n", ret);
        return 1;
    }
    int bad = 0;

#define CHECK(cond, what) do { if (!(cond)) { printf("mismatch: %s\n", what); bad = 1; } } while (0)
    CHECK(strcmp(db_result_get(res, 0, 0), text) == 0, "text");
    CHECK(db_result_len(res, 0, 1) == sizeof(blob) && memcmp(db_result_get(res, 0, 1), blob, sizeof(blob)) == 0, "blob");
    CHECK(strcmp(db_result_get(res, 0, 2), "-9007199254740993") == 0, "bigint");
    CHECK(strcmp(db_result_get(res, 0, 3), "18446744073709551615") == 0, "unsigned");
    CHECK(atof(db_result_get(res, 0, 4)) == 0.125, "double");
    CHECK(db_result_get(res, 0, 5) == NULL, "null");
    CHECK(db_result_len(res, 0, 6) == 300000 && strcmp(db_result_get(res, 0, 6), big) == 0, "300 kB text");
    db_result_free(res);
    mem_free(big);
    db_exec(db, "DROP TABLE probe_roundtrip", DB_NOARGS);
    if (!bad)
        printf("roundtrip ok\n");
    return bad;
}

/* Statement texts stay alive until the handle is freed: its cache keeps pointers (db.h). */
static char **kept;
static size_t nkept;

static char *
keep(const char *line)
{
    kept = mem_realloc(kept, (nkept + 1) * sizeof(char *));
    return kept[nkept++] = mem_strdup(line);
}

static int
session(DB *db)
{
    char line[8192];

    while (fgets(line, sizeof(line), stdin)) {
        char *copy = keep(line);
        char *fields[MAX_ARGS + 2];
        DB_PARAM params[MAX_ARGS];
        size_t n = 0;
        int ret;

        copy[strcspn(copy, "\n")] = '\0';
        for (char *tok = strtok(copy, "\t"); tok && n < MAX_ARGS + 2; tok = strtok(NULL, "\t"))
            fields[n++] = tok;
        if (n == 0)
            continue;
        for (size_t i = 2; i < n; i++)
            params[i - 2] = strcmp(fields[i], "\\N") == 0 ? DB_NULL : DB_STR(fields[i]);
        if (strcmp(fields[0], "begin") == 0) {
            ret = db_begin(db);
            if (ret < 0) report_failure(db, ret); else printf("ok\n");
        } else if (strcmp(fields[0], "commit") == 0) {
            ret = db_commit(db);
            if (ret < 0) report_failure(db, ret); else printf("ok\n");
        } else if (strcmp(fields[0], "rollback") == 0) {
            db_rollback(db);
            printf("ok\n");
        } else if (strcmp(fields[0], "exec") == 0 && n >= 2) {
            ret = db_exec(db, fields[1], params, n - 2);
            if (ret < 0) report_failure(db, ret); else printf("ok %d\n", ret);
        } else if (strcmp(fields[0], "query") == 0 && n >= 2) {
            DB_RESULT *res;

            ret = db_query(db, &res, fields[1], params, n - 2);
            if (ret < 0) {
                report_failure(db, ret);
            } else {
                printf("rows %d\n", ret);
                for (size_t r = 0; r < db_result_rows(res); r++)
                    for (size_t c = 0; c < db_result_cols(res); c++)
                        printf("%s%s", db_result_get(res, r, c) ? db_result_get(res, r, c) : "\\N",
                               c + 1 == db_result_cols(res) ? "\n" : "\t");
                db_result_free(res);
            }
        } else {
            printf("usage error: %s\n", fields[0]);
        }
        fflush(stdout);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    char *error = NULL;
    PGCONF *cfg;
    DB *db;
    int status;

    msg_init("dbprobe");
    if (argc != 4 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: dbprobe -c CONF roundtrip|session\n");
        return 64;
    }
    if ((cfg = conf_load(argv[2], 0, &error)) == NULL) {
        fprintf(stderr, "%s\n", error);
        return 78;
    }
    db_library_init();
    db = db_new(cfg);
    if (strcmp(argv[3], "roundtrip") == 0)
        status = roundtrip(db);
    else if (strcmp(argv[3], "session") == 0)
        status = session(db);
    else
        status = 64;
    db_free(db);
    for (size_t i = 0; i < nkept; i++)
        mem_free(kept[i]);
    mem_free(kept);
    conf_unref(cfg);
    return status;
}
