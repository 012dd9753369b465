/*
 * utf8.h - what counts as UTF-8, once for the engine (repairing frame text,
 * core/engine/parser.c) and the host (writing frames, core/host/json_compact.c).
 *
 * Strict, as JSON and jansson require: no overlong form, no surrogate
 * (U+D800-DFFF), nothing above U+10FFFF (RFC 3629, section 4; table 3-7 of
 * Unicode).  All three show in the range of the second byte.
 */
#ifndef TALE_UTF8_H
#define TALE_UTF8_H

#include <stddef.h>

/* The length (1 to 4) of the well-formed UTF-8 sequence at p, of which avail
 * bytes may be read, or 0 when there is none there. */
static inline size_t
tale_utf8_seq_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t k;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4;
    else
        return 0;
    if (avail < k)
        return 0;
    if (c == 0xe0)
        lo = 0xa0; /* overlong */
    else if (c == 0xed)
        hi = 0x9f; /* surrogates */
    else if (c == 0xf0)
        lo = 0x90; /* overlong */
    else if (c == 0xf4)
        hi = 0x8f; /* above U+10FFFF */
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return k;
}

#endif
