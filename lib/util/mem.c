/*
 * mem.c -- allocation wrappers; the one place where allocation failure is handled.
 * Never returns NULL from an allocating function.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "util/mem.h"
#include "util/msg.h"

static void __attribute__((noreturn))
mem_exhausted_size(size_t size)
{
    msg_fatal_status(EX_OSERR, "out of memory allocating %zu bytes", size);
}

void
mem_exhausted(const char *what)
{
    msg_fatal_status(EX_OSERR, "out of memory (%s)", what);
}

void *
mem_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        mem_exhausted_size(size);
    return p;
}

void *
mem_zalloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);

    if (p == NULL)
        mem_exhausted_size(size);
    return p;
}

void *
mem_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        mem_exhausted_size(size);
    return p;
}

char *
mem_strndup(const char *s, size_t len)
{
    char *p = mem_alloc(len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
mem_strdup(const char *s)
{
    return mem_strndup(s, strlen(s));
}

char *
mem_strdup_null(const char *s)
{
    return s ? mem_strdup(s) : NULL;
}

void
mem_free(void *ptr)
{
    free(ptr);
}
