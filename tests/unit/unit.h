/*
 * unit.h -- shared by the Check unit tests: each test program builds one suite and
 * calls unit_run(), which reports in TAP on stdout (counted by automake's TAP driver).
 */
#ifndef PG_UNIT_H
#define PG_UNIT_H

#include <check.h>

/* Runs the suite, returns the exit status for main(). */
int unit_run(Suite *suite);
/* A fresh temporary directory (removed by the caller with unit_rmtree). */
char *unit_tmpdir(void);
void unit_rmtree(const char *dir);
/* Writes text to dir/name and returns the path (free it). */
char *unit_write_file(const char *dir, const char *name, const char *text);

#endif
