/*
 * tale/buf.h - a growable byte buffer (public, installed, header-only).
 *
 * What every transport writes its output and reads its input into; a
 * failed allocation aborts (tale/alloc.h's one OOM policy).  Not part of
 * the plugin ABI: nothing here crosses between host and plugin.
 */
#ifndef TALE_BUF_H
#define TALE_BUF_H

#include <stdlib.h>
#include <string.h>

#include <tale/alloc.h>

/* Zero-initialise; release with tale_buf_free(). */
typedef struct tale_buf {
    char *data;
    size_t len, cap;
} tale_buf_t;

/* Append len bytes, growing by doubling from 256. */
static inline void
tale_buf_append(tale_buf_t *b, const void *p, size_t len)
{
    if (len == 0)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len)
            cap *= 2;
        b->data = (char *)tale_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
}

static inline void
tale_buf_free(tale_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

#endif
