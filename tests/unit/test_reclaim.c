/*
 * test_reclaim.c -- which lease holders worker/reclaim.c judges dead: only owners of this
 * host (both name forms: host/pid[/task] and host:pid) whose process is gone; never this
 * process, a live one, another host, or a name it cannot read.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reclaim.h"
#include "unit.h"

/* reclaim.c's thread sleeps through this (main.c's in the worker). */
int
worker_sleep(WORKER_ENV *env, double seconds)
{
    (void) env;
    (void) seconds;
    return 1;
}

/* The pid of a child that has exited and been reaped: a process that no longer exists. */
static long
gone_pid(void)
{
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    ck_assert_int_gt(pid, 0);
    waitpid(pid, NULL, 0);
    return (long) pid;
}

START_TEST(dead_owners_of_this_host)
{
    char owner[128];
    long pid = gone_pid();

    snprintf(owner, sizeof(owner), "mx1/%ld", pid);
    ck_assert_int_eq(reclaim_owner_dead(owner, "mx1", (long) getpid()), 1);
    snprintf(owner, sizeof(owner), "mx1/%ld/endpoints", pid);
    ck_assert_int_eq(reclaim_owner_dead(owner, "mx1", (long) getpid()), 1);
    snprintf(owner, sizeof(owner), "mx1:%ld", pid);
    ck_assert_int_eq(reclaim_owner_dead(owner, "mx1", (long) getpid()), 1);
}
END_TEST

START_TEST(never_the_living_or_others)
{
    char owner[128];
    long pid = gone_pid();

    /* This process, and a live one (the parent). */
    snprintf(owner, sizeof(owner), "mx1/%ld/endpoints", (long) getpid());
    ck_assert_int_eq(reclaim_owner_dead(owner, "mx1", (long) getpid()), 0);
    snprintf(owner, sizeof(owner), "mx1:%ld", (long) getppid());
    ck_assert_int_eq(reclaim_owner_dead(owner, "mx1", (long) getpid()), 0);
    /* Another host, or a host whose name only starts like ours. */
    snprintf(owner, sizeof(owner), "mx2/%ld", pid);
    ck_assert_int_eq(reclaim_owner_dead(owner, "mx1", (long) getpid()), 0);
    snprintf(owner, sizeof(owner), "mx10/%ld", pid);
    ck_assert_int_eq(reclaim_owner_dead(owner, "mx1", (long) getpid()), 0);
    /* Names it cannot read. */
    ck_assert_int_eq(reclaim_owner_dead("mx1", "mx1", (long) getpid()), 0);
    ck_assert_int_eq(reclaim_owner_dead("mx1/", "mx1", (long) getpid()), 0);
    ck_assert_int_eq(reclaim_owner_dead("mx1/abc", "mx1", (long) getpid()), 0);
    ck_assert_int_eq(reclaim_owner_dead("mx1/-5", "mx1", (long) getpid()), 0);
    ck_assert_int_eq(reclaim_owner_dead("mx1/1", "mx1", (long) getpid()), 0);
    ck_assert_int_eq(reclaim_owner_dead("mx1/99999999999999999999999", "mx1", (long) getpid()), 0);
    snprintf(owner, sizeof(owner), "mx1/%ldx", pid);
    ck_assert_int_eq(reclaim_owner_dead(owner, "mx1", (long) getpid()), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reclaim");
    TCase *tc = tcase_create("reclaim");

    tcase_add_test(tc, dead_owners_of_this_host);
    tcase_add_test(tc, never_the_living_or_others);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
