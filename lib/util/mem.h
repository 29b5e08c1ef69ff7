/*
 * mem.h -- allocation with one place for failure.
 *
 * Every allocation in postgate goes through these wrappers. Running out of memory is
 * not a recoverable condition for a mail daemon: the wrappers log and exit with
 * EX_OSERR, so callers never test for NULL.
 */
#ifndef PG_MEM_H
#define PG_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_zalloc(size_t size);
void *mem_realloc(void *ptr, size_t size);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t len);
/* Duplicates s, or returns NULL for NULL. */
char *mem_strdup_null(const char *s);
void mem_free(void *ptr);
/* The exit every allocation failure takes, for allocators outside these wrappers
 * (libcurl's, a library's constructor): logs what could not be had, exits EX_OSERR. */
void mem_exhausted(const char *what) __attribute__((noreturn));

#endif
