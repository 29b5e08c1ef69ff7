/*
 * test_pfqueue.c -- mail/pfqueue: postqueue -j lines counted per queue (a line that is
 * not a JSON object is counted as bad, never as a message; a line the output limit cut
 * is dropped), and pfqueue_run/pfqueue_count against stand-in postqueue programs: what
 * they are given on the command line, a failing one's first stderr line, a path that is
 * not an executable.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "mail/pfqueue.h"
#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"

static const char listing[] =
    "{\"queue_name\": \"active\", \"queue_id\": \"A1\", \"recipients\": []}\n"
    "{\"queue_name\": \"deferred\", \"queue_id\": \"D1\"}\n"
    "{\"queue_name\": \"deferred\", \"queue_id\": \"D2\"}\n"
    "\n"
    "{\"queue_name\": \"hold\", \"queue_id\": \"H1\"}\n"
    "{\"queue_name\": \"incoming\", \"queue_id\": \"I1\"}\n"
    "{\"queue_name\": \"maildrop\", \"queue_id\": \"M1\"}\n"
    "{\"queue_name\": \"corrupt\", \"queue_id\": \"C1\"}\n"
    "[\"an array\"]\n"
    "not json at all\n";

START_TEST(counts_per_queue)
{
    PFQUEUE_COUNTS c = {0};

    ck_assert_int_eq(pfqueue_parse(listing, 0, pfqueue_count_entry, &c), 2);
    ck_assert_uint_eq(c.active, 1);
    ck_assert_uint_eq(c.deferred, 2);
    ck_assert_uint_eq(c.hold, 1);
    ck_assert_uint_eq(c.incoming, 1);
    ck_assert_uint_eq(c.maildrop, 1);
    ck_assert_uint_eq(c.other, 1);
}
END_TEST

START_TEST(truncated_last_line_dropped)
{
    PFQUEUE_COUNTS c = {0};
    const char *text = "{\"queue_name\": \"hold\"}\n{\"queue_name\": \"hold\"}";

    ck_assert_int_eq(pfqueue_parse(text, 1, pfqueue_count_entry, &c), 0);
    ck_assert_uint_eq(c.hold, 1);
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(pfqueue_parse(text, 0, pfqueue_count_entry, &c), 0);
    ck_assert_uint_eq(c.hold, 2);
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(pfqueue_parse("", 0, pfqueue_count_entry, &c), 0);
    ck_assert_uint_eq(c.hold + c.active + c.deferred + c.incoming + c.maildrop + c.other, 0);
}
END_TEST

/* A stand-in postqueue in dir: a shell script with body (it is run without a shell by
 * pfqueue, so execve runs the #! line). */
static char *
fake_postqueue(const char *dir, const char *body)
{
    char *text = NULL, *path;
    BUF *b = buf_new(256);

    buf_printf(b, "#!/bin/sh\n%s\n", body);
    text = mem_strdup(buf_cstr(b));
    buf_free(b);
    path = unit_write_file(dir, "postqueue", text);
    mem_free(text);
    ck_assert_int_eq(chmod(path, 0755), 0);
    return path;
}

START_TEST(runs_postqueue)
{
    char *dir = unit_tmpdir(), *path, *error = NULL;
    PFQUEUE_COUNTS c;

    /* It must be asked for -c DIR -j, exactly. */
    path = fake_postqueue(dir, "[ \"$1 $2 $3 $#\" = \"-c /etc/postfix-x -j 3\" ] || { echo \"bad args: $*\" >&2; exit 2; }\n"
                          "echo '{\"queue_name\": \"hold\"}'; echo '{\"queue_name\": \"deferred\"}'");
    ck_assert_int_eq(pfqueue_count(path, "/etc/postfix-x", &c, &error), 0);
    ck_assert_uint_eq(c.hold, 1);
    ck_assert_uint_eq(c.deferred, 1);
    ck_assert_int_eq(pfqueue_count(path, "/etc/other", &c, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "exit status 2: bad args: -c /etc/other -j"));
    mem_free(error);
    error = NULL;
    mem_free(path);

    path = fake_postqueue(dir, "echo '{\"queue_name\": \"hold\"}'; echo 'garbage'");
    ck_assert_int_eq(pfqueue_count(path, "/etc/postfix", &c, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "1 line was not a JSON object"));
    mem_free(error);
    error = NULL;
    mem_free(path);

    ck_assert_int_eq(pfqueue_count("postqueue", "/etc/postfix", &c, &error), -1);
    ck_assert_ptr_nonnull(strstr(error, "not an executable absolute path"));
    mem_free(error);
    unit_rmtree(dir);
    mem_free(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("pfqueue");
    TCase *tc = tcase_create("pfqueue");

    tcase_add_test(tc, counts_per_queue);
    tcase_add_test(tc, truncated_last_line_dropped);
    tcase_add_test(tc, runs_postqueue);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
