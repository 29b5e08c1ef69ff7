/*
 * test_spool.c -- postgate-tracker's write-ahead spool (tracker/spool.c) as a restart sees
 * it: records appended by one run come back to the next in order, every field intact
 * (tabs, newlines, '%', "-", 8-bit bytes, none); a line cut off by a crash and a broken
 * line are skipped; a file goes once its records are released, and its run's key is then
 * reported for tracker_spools; a second tracker cannot take a locked directory.
 */
#include "config.h"

#include <dirent.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracker.h"
#include "unit.h"
#include "util/mem.h"

/* recorder.c's (the rest of the recorder needs MariaDB). */
void
recorder_item_free(RECORDER_ITEM *item)
{
    if (item == NULL)
        return;
    mem_free(item->url);
    mem_free(item->token);
    mem_free(item->server_token);
    mem_free(item->ip);
    mem_free(item->user_agent);
    mem_free(item);
}

static RECORDER_ITEM *got[16];
static size_t ngot;

static void
collect(RECORDER_ITEM *it)
{
    ck_assert_uint_lt(ngot, 16);
    got[ngot++] = it;
}

static const char *
me(void)
{
    struct passwd *pw = getpwuid(geteuid());

    return pw ? pw->pw_name : "root";
}

static RECORDER_ITEM *
item(TRACKING_KIND kind, const char *url, const char *ua, double time)
{
    RECORDER_ITEM *it = mem_zalloc(sizeof(*it));

    it->kind = kind;
    it->server_id = 3;
    it->message_id = kind == TRACKING_CLICK ? 42 : 0;
    it->link_id = kind == TRACKING_CLICK ? 7 : 0;
    it->url = url ? mem_strdup(url) : NULL;
    it->token = mem_strdup(kind == TRACKING_CLICK ? "LinkTok" : "MsgTok");
    it->server_token = kind == TRACKING_LOAD ? mem_strdup("srv-tok") : NULL;
    it->ip = mem_strdup("198.51.100.7");
    it->user_agent = ua ? mem_strdup(ua) : NULL;
    it->time = time;
    return it;
}

/* As recorder_add() does: the record built first, then appended. */
static int
append(RECORDER_ITEM *it)
{
    BUF *record = spool_record(it);
    int ret = spool_append(it, record);

    buf_free(record);
    return ret;
}

static size_t
spool_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".spool") != NULL;
    closedir(d);
    return n;
}

static const char *const nasty_url = "https://shop.example.com/a b?x=1&y=%41\t\n-";
static const char *const nasty_ua = "Mozilla/5.0 (caf\xc3\xa9) -";

START_TEST(replay_after_a_crash)
{
    char *dir = unit_tmpdir(), *error = NULL, *path;
    RECORDER_ITEM *a = item(TRACKING_CLICK, nasty_url, nasty_ua, 1700000000.123456),
        *b = item(TRACKING_LOAD, NULL, NULL, 1700000001.5), *c = item(TRACKING_CLICK, "-", "", 1700000002);
    char key[32];
    char **forgotten;
    SPOOL_SEG *old;
    FILE *fp;

    ck_assert_int_eq(spool_open(dir, me(), &error), 0);
    ck_assert_uint_eq(spool_start(collect), 0);
    ck_assert_int_eq(append(a), 0);
    ck_assert_int_eq(append(b), 0);
    ck_assert_uint_eq(a->seq, 1);
    ck_assert_uint_eq(b->seq, 2);
    snprintf(key, sizeof(key), "%s", spool_key(a->seg));
    old = spool_rotate();
    ck_assert_ptr_nonnull(old);
    spool_sync(old);
    ck_assert_int_eq(append(c), 0);
    ck_assert_ptr_ne(c->seg, a->seg);
    ck_assert_uint_eq(spool_files(dir), 2);
    /* A crash: nothing released, the files stay. Plus a broken line and a cut-off one. */
    path = mem_alloc(strlen(dir) + 64);
    sprintf(path, "%s/%s-00000009.spool", dir, key);
    fp = fopen(path, "w");
    fputs("9\tc\tnot-a-number\t1\t1\t1.0\tu\tt\t-\t-\t-\n10\tc\t3\t42\t7\t1.0\tu\tt\t-\t-", fp);
    fclose(fp);
    spool_free();

    ck_assert_int_eq(spool_open(dir, me(), &error), 0);
    ck_assert_uint_eq(spool_start(collect), 3);
    ck_assert_uint_eq(ngot, 3);
    ck_assert_int_eq(got[0]->kind, TRACKING_CLICK);
    ck_assert_str_eq(got[0]->url, nasty_url);
    ck_assert_str_eq(got[0]->user_agent, nasty_ua);
    ck_assert_str_eq(got[0]->ip, "198.51.100.7");
    ck_assert_str_eq(got[0]->token, "LinkTok");
    ck_assert_ptr_null(got[0]->server_token);
    ck_assert_uint_eq(got[0]->server_id, 3);
    ck_assert_uint_eq(got[0]->message_id, 42);
    ck_assert_uint_eq(got[0]->link_id, 7);
    ck_assert_double_eq_tol(got[0]->time, 1700000000.123456, 1e-6);
    ck_assert_uint_eq(got[0]->seq, 1);
    ck_assert_int_eq(got[1]->kind, TRACKING_LOAD);
    ck_assert_ptr_null(got[1]->url);
    ck_assert_ptr_null(got[1]->user_agent);
    ck_assert_str_eq(got[1]->server_token, "srv-tok");
    ck_assert_str_eq(got[1]->token, "MsgTok");
    ck_assert_uint_eq(got[1]->message_id, 0);
    ck_assert_uint_eq(got[1]->seq, 2);
    ck_assert_str_eq(got[2]->url, "-");
    ck_assert_str_eq(got[2]->user_agent, "");
    ck_assert_uint_eq(got[2]->seq, 3);
    ck_assert_str_eq(spool_key(got[0]->seg), key);
    /* The old run's two files (the broken one, with nothing to replay, is gone) and this
     * run's first file. */
    ck_assert_uint_eq(spool_files(dir), 3);
    ck_assert_ptr_null(spool_take_forgotten());
    /* Written: the old run's files go, and its key is reported once. */
    for (size_t i = 0; i < ngot; i++) {
        spool_release(got[i]->seg);
        recorder_item_free(got[i]);
    }
    ck_assert_uint_eq(spool_files(dir), 1);
    forgotten = spool_take_forgotten();
    ck_assert_ptr_nonnull(forgotten);
    ck_assert_str_eq(forgotten[0], key);
    ck_assert_ptr_null(forgotten[1]);
    mem_free(forgotten[0]);
    mem_free(forgotten);
    /* This run's empty file goes at a clean stop, with its key. */
    spool_close();
    ck_assert_uint_eq(spool_files(dir), 0);
    forgotten = spool_take_forgotten();
    ck_assert_ptr_nonnull(forgotten);
    ck_assert_str_ne(forgotten[0], key);
    mem_free(forgotten[0]);
    mem_free(forgotten);
    spool_free();
    recorder_item_free(a);
    recorder_item_free(b);
    recorder_item_free(c);
    mem_free(path);
    unit_rmtree(dir);
    mem_free(dir);
}
END_TEST

/* The line as the format says (the fields after SEQ), the time with six decimals. */
START_TEST(record_format)
{
    RECORDER_ITEM *a = item(TRACKING_CLICK, "https://x.example/a%b c", "UA", 1700000000.123456),
        *b = item(TRACKING_LOAD, NULL, NULL, 1700000002), *c = item(TRACKING_LOAD, NULL, NULL, 1700000002.9999996);
    BUF *r = spool_record(a);

    ck_assert_str_eq(buf_cstr(r), "\tc\t3\t42\t7\t1700000000.123456\thttps://x.example/a%25b%20c\tLinkTok\t-"
                     "\t198.51.100.7\tUA\n");
    buf_free(r);
    r = spool_record(b);
    ck_assert_str_eq(buf_cstr(r), "\tl\t3\t0\t0\t1700000002.000000\t-\tMsgTok\tsrv-tok\t198.51.100.7\t-\n");
    buf_free(r);
    r = spool_record(c);
    ck_assert_str_eq(buf_cstr(r), "\tl\t3\t0\t0\t1700000003.000000\t-\tMsgTok\tsrv-tok\t198.51.100.7\t-\n");
    buf_free(r);
    recorder_item_free(a);
    recorder_item_free(b);
    recorder_item_free(c);
}
END_TEST

static size_t nreplayed;

static void
count_and_free(RECORDER_ITEM *it)
{
    ck_assert_uint_eq(it->seq, nreplayed + 1);
    nreplayed++;
    recorder_item_free(it);
}

/* More records than a mapped window holds, several times over: the window moves (the
 * record that does not fit goes in with pwritev), the order is kept, and a crash (no
 * clean close: the file keeps its allocation, NUL bytes after the last record) loses
 * none. */
START_TEST(past_the_window)
{
    char *dir = unit_tmpdir(), *error = NULL;
    RECORDER_ITEM *it = item(TRACKING_CLICK, "https://shop.example.com/item?id=7&ref=mail", "Mozilla/5.0", 1700000000.5);
    size_t n = 0;
    off_t bytes = 0;

    ck_assert_int_eq(spool_open(dir, me(), &error), 0);
    ck_assert_uint_eq(spool_start(collect), 0);
    while (bytes < (off_t) (9u << 20)) {
        BUF *r = spool_record(it);

        ck_assert_int_eq(spool_append(it, r), 0);
        bytes += (off_t) buf_len(r) + 8;
        buf_free(r);
        n++;
    }
    spool_free();
    ck_assert_int_eq(spool_open(dir, me(), &error), 0);
    nreplayed = 0;
    ck_assert_uint_eq(spool_start(count_and_free), n);
    ck_assert_uint_eq(nreplayed, n);
    spool_free();
    recorder_item_free(it);
    unit_rmtree(dir);
    mem_free(dir);
}
END_TEST

START_TEST(one_tracker_per_directory)
{
    char *dir = unit_tmpdir(), *error = NULL;
    pid_t pid;
    int status;

    ck_assert_int_eq(spool_open(dir, me(), &error), 0);
    pid = fork();
    if (pid == 0) {
        char *err = NULL;

        spool_free();           /* the child's copy of the state; the parent's lock stays */
        _exit(spool_open(dir, me(), &err) == -1 && strstr(err, "in use by another postgate-tracker") ? 0 : 1);
    }
    ck_assert_int_gt(pid, 0);
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    spool_free();
    unit_rmtree(dir);
    mem_free(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("spool");
    TCase *tc = tcase_create("spool");

    tcase_add_test(tc, replay_after_a_crash);
    tcase_add_test(tc, record_format);
    tcase_add_test(tc, past_the_window);
    tcase_add_test(tc, one_tracker_per_directory);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
