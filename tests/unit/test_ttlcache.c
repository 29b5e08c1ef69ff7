/*
 * test_ttlcache.c -- the expiring cache: hits, expiry, replacement while a value is in
 * use (freed only after its last release), a TTL of 0, and the entry limit.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "unit.h"
#include "util/mem.h"
#include "util/ttlcache.h"

static int freed;

static void
count_free(void *v)
{
    freed++;
    mem_free(v);
}

static int *
value(int n)
{
    int *v = mem_alloc(sizeof(int));

    *v = n;
    return v;
}

START_TEST(hit_expiry_and_replacement)
{
    TTLCACHE *c = ttlcache_new(1, 100, count_free);
    int *v, *held;

    freed = 0;
    ck_assert_ptr_null(ttlcache_get(c, "a"));
    ttlcache_put(c, "a", value(1));
    v = ttlcache_get(c, "a");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(*v, 1);
    /* Replaced while held: the old value lives until released. */
    ttlcache_put(c, "a", value(2));
    ck_assert_int_eq(freed, 0);
    ck_assert_int_eq(*v, 1);
    ttlcache_release(c, v);
    ck_assert_int_eq(freed, 1);
    held = ttlcache_get(c, "a");
    ck_assert_int_eq(*held, 2);
    ttlcache_release(c, held);
    sleep(2);
    ck_assert_ptr_null(ttlcache_get(c, "a"));
    ttlcache_free(c);
    ck_assert_int_eq(freed, 2);
}
END_TEST

START_TEST(put_held_and_disabled)
{
    TTLCACHE *off = ttlcache_new(0, 10, count_free), *on = ttlcache_new(60, 10, count_free);
    int *v;

    freed = 0;
    ttlcache_put(off, "a", value(1));
    ck_assert_int_eq(freed, 1);
    ck_assert_ptr_null(ttlcache_get(off, "a"));
    v = ttlcache_put_held(off, "b", value(2));
    ck_assert_int_eq(*v, 2);
    ttlcache_release(off, v);
    ck_assert_int_eq(freed, 2);
    v = ttlcache_put_held(on, "c", value(3));
    ck_assert_ptr_eq(ttlcache_get(on, "c"), v);
    ttlcache_release(on, v);
    ttlcache_release(on, v);
    ck_assert_int_eq(freed, 2);
    ttlcache_free(on);
    ttlcache_free(off);
    ck_assert_int_eq(freed, 3);
}
END_TEST

START_TEST(entry_limit)
{
    TTLCACHE *c = ttlcache_new(60, 4, count_free);
    char key[8];

    freed = 0;
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ttlcache_put(c, key, value(i));
    }
    /* Never more than the limit: older entries went when it was reached. */
    ck_assert_int_ge(freed, 6);
    ck_assert_ptr_null(ttlcache_get(c, "k0"));
    ttlcache_free(c);
    ck_assert_int_eq(freed, 10);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ttlcache");
    TCase *tc = tcase_create("ttlcache");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, hit_expiry_and_replacement);
    tcase_add_test(tc, put_held_and_disabled);
    tcase_add_test(tc, entry_limit);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
