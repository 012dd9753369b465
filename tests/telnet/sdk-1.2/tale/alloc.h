/*
 * tale/alloc.h - the one out-of-memory policy of Tale Host (host, engine and
 * bundled plugins; installed with the SDK so out-of-tree plugins can follow it).
 *
 * The policy: a failed allocation is fatal.  tale_xmalloc() and friends write
 * one line to stderr naming what was being allocated and call abort().
 *
 * Why not return an error: h2o itself aborts when its allocator fails
 * (h2o_mem_alloc -> h2o_fatal), so a host on h2o cannot promise to survive
 * out of memory anyway; and error paths for a failed malloc of a few bytes are
 * code that is never run and never tested (the seed had three policies:
 * abort, a silently dropped command, -1 up the stack).  Bounded memory is the
 * real defence: every buffer that grows with input has a configured limit.
 *
 * Allocations whose size comes from outside and may be large on purpose (a
 * file being read, a client's request) are bounded by a limit before they are
 * made; they use the same wrappers.  Use plain malloc only where a failure is
 * an expected, handled outcome, and say so in a comment there.
 */
#ifndef TALE_ALLOC_H
#define TALE_ALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define TALE_NORETURN __attribute__((noreturn))
#define TALE_MALLOC_LIKE __attribute__((malloc, returns_nonnull))
#else
#define TALE_NORETURN
#define TALE_MALLOC_LIKE
#endif

/* Print one line and abort: the end of the road for a failed allocation. */
static inline TALE_NORETURN void
tale_oom(size_t n)
{
    fprintf(stderr, "tale: out of memory (allocating %zu bytes); aborting\n", n);
    abort();
}

static inline TALE_MALLOC_LIKE void *
tale_xmalloc(size_t n)
{
    void *p = malloc(n != 0 ? n : 1);
    if (p == NULL)
        tale_oom(n);
    return p;
}

static inline TALE_MALLOC_LIKE void *
tale_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count != 0 ? count : 1, size != 0 ? size : 1);
    if (p == NULL)
        tale_oom(count * size);
    return p;
}

static inline void *
tale_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n != 0 ? n : 1);
    if (q == NULL)
        tale_oom(n);
    return q;
}

static inline TALE_MALLOC_LIKE char *
tale_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = (char *)tale_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

static inline TALE_MALLOC_LIKE char *
tale_xstrndup(const char *s, size_t len)
{
    char *d = (char *)tale_xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

#endif
