/*
 * range.c - see range.h.  The parse follows h2o 2.2.5's own (process_range in
 * lib/handler/file.c) so both agree on what a range is: `bytes=` exactly, then
 * comma-separated `first-last`, `first-` or `-suffix`, with spaces and tabs
 * around the commas and empty list elements allowed (RFC 9110, 14.1.1).
 */
#include "range.h"

#include <string.h>

/* One byte range resolved against the file: [first, last], both inclusive. */
struct span {
    uint64_t first, last;
};

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Decimal digits at [*p, end) into *out; 0 when there are none or they
 * overflow 64 bits (h2o refuses those too). */
static int
parse_number(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (s == end || *s < '0' || *s > '9')
        return 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return 1;
}

/* One range spec (blanks already trimmed) resolved against file_size.
 * Returns 1 with *out filled, 0 for a satisfiable-nowhere range (which h2o
 * skips), -1 for bad syntax. */
static int
parse_spec(const char *s, const char *end, uint64_t file_size, struct span *out)
{
    uint64_t a, b;
    if (s < end && *s == '-') {
        s++;
        if (!parse_number(&s, end, &b) || s != end)
            return -1;
        if (b == 0 || file_size == 0)
            return 0;
        out->first = b > file_size ? 0 : file_size - b;
        out->last = file_size - 1;
        return 1;
    }
    if (!parse_number(&s, end, &a) || s == end || *s++ != '-')
        return -1;
    int has_last = s != end;
    if (has_last && (!parse_number(&s, end, &b) || s != end))
        return -1;
    if (a >= file_size || (has_last && b < a))
        return 0;
    out->first = a;
    out->last = !has_last || b >= file_size ? file_size - 1 : b;
    return 1;
}

st_range_verdict_t
st_range_judge(const char *v, size_t len, uint64_t file_size, size_t max_ranges)
{
    const char *end = v + len;
    if (len < 6 || memcmp(v, "bytes=", 6) != 0)
        return ST_RANGE_PASS;
    v += 6;

    /* count first: the header may hold thousands of elements */
    size_t count = 0;
    for (const char *s = v; s < end;) {
        while (s < end && is_blank(*s))
            s++;
        if (s < end && *s != ',')
            count++;
        while (s < end && *s != ',')
            s++;
        if (s < end)
            s++;
    }
    if (max_ranges > ST_RANGE_LIMIT)
        max_ranges = ST_RANGE_LIMIT;
    if (count > max_ranges)
        return ST_RANGE_TOO_MANY;

    struct span spans[ST_RANGE_LIMIT];
    size_t n = 0;
    for (const char *s = v; s < end;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *stop = comma != NULL ? comma : end, *e = stop;
        while (s < e && is_blank(*s))
            s++;
        while (e > s && is_blank(e[-1]))
            e--;
        if (s < e) {
            int r = parse_spec(s, e, file_size, &spans[n]);
            if (r < 0)
                return ST_RANGE_PASS; /* h2o answers 416; bounded, as count <= max_ranges */
            n += (size_t)r;
        }
        s = comma != NULL ? comma + 1 : end;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (spans[i].first <= spans[j].last && spans[j].first <= spans[i].last)
                return ST_RANGE_OVERLAPPING;
    return ST_RANGE_PASS;
}

const char *
st_range_verdict_name(st_range_verdict_t verdict)
{
    switch (verdict) {
    case ST_RANGE_TOO_MANY:
        return "too many ranges";
    case ST_RANGE_OVERLAPPING:
        return "overlapping ranges";
    case ST_RANGE_PASS:
        break;
    }
    return "ranges served";
}
