/*
 * json_compact.c - compact JSON from jansson values without jansson's dumper
 * (json_compact.h says why).
 *
 * The output is what json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes in
 * jansson 2.14: objects in insertion order, "," and ":" with no spaces, the
 * escapes \\ \" \b \f \n \r \t and \u00XX (upper-case hex) for the other
 * bytes below 0x20, '/' and non-ASCII copied as they are.  Reals go through
 * jansson itself: exactness matters more than speed on that rare path.
 *
 * One deliberate difference: a key that is not UTF-8 (only
 * json_object_setn_nocheck makes one) fails here, where jansson ignores the
 * error and writes the key cut short, without its closing quote.
 */
#include "json_compact.h"
#include "utf8.h"
#include <tale/alloc.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef JSON_PARSER_MAX_DEPTH
#define JSON_PARSER_MAX_DEPTH 2048
#endif

/* Nesting refused beyond what json_loadb accepts: anything jansson parsed
 * can be written, and a cycle ends here instead of in a stack overflow. */
#define MAX_DEPTH JSON_PARSER_MAX_DEPTH

#define FIRST_CAP 1024  /* a typical frame fits without growing */
#define SHRINK_SLACK 64 /* unused bytes worth a shrinking realloc */

/* The output so far: buf[0..len) written, cap allocated. */
typedef struct out {
    char *buf;
    size_t len, cap;
} out_t;

/* Grow the buffer to hold n more bytes and the NUL.  Doubling keeps a long
 * output to O(log n) reallocs. */
static int
out_grow(out_t *o, size_t n)
{
    if (n > SIZE_MAX / 4 - o->len)
        return -1;
    size_t need = o->len + n + 1, cap = o->cap ? o->cap : FIRST_CAP;
    while (cap < need)
        cap *= 2;
    o->buf = tale_xrealloc(o->buf, cap);
    o->cap = cap;
    return 0;
}

/* Make room for n more bytes and the NUL.  Inline, as it runs before every
 * piece of output; growing is the rare case. */
static inline int
out_reserve(out_t *o, size_t n)
{
    return __builtin_expect(o->cap - o->len > n, 1) ? 0 : out_grow(o, n);
}

/* Append n bytes. */
static inline int
out_put(out_t *o, const char *s, size_t n)
{
    if (out_reserve(o, n) != 0)
        return -1;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    return 0;
}

/* Append one byte: the punctuation between values. */
static inline int
out_putc(out_t *o, char c)
{
    if (out_reserve(o, 1) != 0)
        return -1;
    o->buf[o->len++] = c;
    return 0;
}

/* What a byte of a string asks of the writer: nothing, an escape, or a
 * check that it starts a well-formed UTF-8 sequence (utf8.h). */
enum { B_PLAIN, B_ESCAPE, B_UTF8 };

static const unsigned char byte_class[256] = {
    [0x00 ... 0x1f] = B_ESCAPE,
    ['"'] = B_ESCAPE,
    ['\\'] = B_ESCAPE,
    [0x80 ... 0xff] = B_UTF8,
};

/* Nonzero when one of the eight bytes in x is below 0x20, '"', '\\' or
 * 0x80 and up, i.e. not one to copy blindly.  These are the has-less and
 * has-zero bit tricks: they may flag the wrong byte of the word but never
 * miss one, and "is there any" is all the caller asks. */
static inline uint64_t
word_needs_look(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & highs;
}

/* Write the escape for byte c (class B_ESCAPE) at w; returns its length. */
static size_t
escape_byte(char *w, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    char e;
    switch (c) {
    case '"':
    case '\\':
        e = (char)c;
        break;
    case '\b':
        e = 'b';
        break;
    case '\f':
        e = 'f';
        break;
    case '\n':
        e = 'n';
        break;
    case '\r':
        e = 'r';
        break;
    case '\t':
        e = 't';
        break;
    default:
        memcpy(w, "\\u00", 4);
        w[4] = hex[c >> 4];
        w[5] = hex[c & 15];
        return 6;
    }
    w[0] = '\\';
    w[1] = e;
    return 2;
}

/* Write s[0..n) as a JSON string.  Runs of bytes that need no escape are
 * copied with one memcpy; the scan for the run's end reads eight bytes at a
 * time and stops byte by byte only at an escape or non-ASCII, which is
 * checked as UTF-8 and copied as is.  Room is reserved for the string as
 * it is, and again at each escape for the escape and the rest, so the
 * copying itself never checks. */
static int
put_string(out_t *o, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
    if (out_reserve(o, n + 2) != 0)
        return -1;
    o->buf[o->len++] = '"';
    while (p < end) {
        uint64_t w;
        if (end - p >= 8 && (memcpy(&w, p, 8), word_needs_look(w) == 0)) {
            p += 8;
            continue;
        }
        int cls = byte_class[*p];
        if (cls == B_PLAIN) {
            p++;
        } else if (cls == B_ESCAPE) {
            if (out_reserve(o, (size_t)(end - run) + 6) != 0)
                return -1;
            memcpy(o->buf + o->len, run, (size_t)(p - run));
            o->len += (size_t)(p - run);
            o->len += escape_byte(o->buf + o->len, *p);
            run = ++p;
        } else {
            size_t k = tale_utf8_seq_len(p, (size_t)(end - p));
            if (k == 0)
                return -1;
            p += k;
        }
    }
    memcpy(o->buf + o->len, run, (size_t)(end - run));
    o->len += (size_t)(end - run);
    o->buf[o->len++] = '"';
    return 0;
}

/* Write an integer as "%" JSON_INTEGER_FORMAT does, without printf's format
 * parsing.  The magnitude is taken unsigned, so INT64_MIN needs no case. */
static int
put_integer(out_t *o, json_int_t v)
{
    char tmp[24], *w = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--w = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--w = '-';
    return out_put(o, w, (size_t)(tmp + sizeof tmp - w));
}

/* Reals are jansson's own text: its shortest round-trip formatting is not
 * worth copying for a value frames hardly carry.  json_dumpb writes into our
 * buffer, so there is no second allocator to free with; jansson caps a real
 * at 100 characters. */
static int
put_real(out_t *o, const json_t *v)
{
    char tmp[128];
    size_t n = json_dumpb(v, tmp, sizeof tmp, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0 || n > sizeof tmp)
        return -1;
    return out_put(o, tmp, n);
}

static int put_value(out_t *o, const json_t *v, int depth);

/* Write an array; depth counts the containers around its elements. */
static int
put_array(out_t *o, const json_t *a, int depth)
{
    size_t n = json_array_size(a);
    if (out_putc(o, '[') != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && out_putc(o, ',') != 0)
            return -1;
        if (put_value(o, json_array_get(a, i), depth) != 0)
            return -1;
    }
    return out_putc(o, ']');
}

/* Write an object in jansson's iteration order, which is insertion order.
 * Keys go by their length: they may hold NUL. */
static int
put_object(out_t *o, const json_t *obj, int depth)
{
    json_t *mobj = (json_t *)obj; /* the iterator API is not const; nothing is changed */
    void *first = json_object_iter(mobj);
    if (out_putc(o, '{') != 0)
        return -1;
    for (void *it = first; it != NULL; it = json_object_iter_next(mobj, it)) {
        if (it != first && out_putc(o, ',') != 0)
            return -1;
        if (put_string(o, json_object_iter_key(it), json_object_iter_key_len(it)) != 0 || out_putc(o, ':') != 0 ||
            put_value(o, json_object_iter_value(it), depth) != 0)
            return -1;
    }
    return out_putc(o, '}');
}

/* Write any value; depth is the number of containers around it. */
static int
put_value(out_t *o, const json_t *v, int depth)
{
    if (v == NULL)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return depth < MAX_DEPTH ? put_object(o, v, depth + 1) : -1;
    case JSON_ARRAY:
        return depth < MAX_DEPTH ? put_array(o, v, depth + 1) : -1;
    case JSON_STRING:
        return put_string(o, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return put_integer(o, json_integer_value(v));
    case JSON_REAL:
        return put_real(o, v);
    case JSON_TRUE:
        return out_put(o, "true", 4);
    case JSON_FALSE:
        return out_put(o, "false", 5);
    case JSON_NULL:
        return out_put(o, "null", 4);
    }
    return -1;
}

char *
tale_json_compact(const json_t *v, size_t *len)
{
    out_t o = {NULL, 0, 0};
    if (put_value(&o, v, 0) != 0 || out_reserve(&o, 0) != 0) {
        free(o.buf);
        return NULL;
    }
    o.buf[o.len] = '\0';
    /* Give back the slack: callers hold frames in a backlog bounded by
     * their length, so the memory should be about that length too. */
    if (o.cap - o.len > SHRINK_SLACK) {
        /* plain realloc: a failed shrink just keeps the larger block */
        char *nb = realloc(o.buf, o.len + 1);
        if (nb != NULL)
            o.buf = nb;
    }
    if (len != NULL)
        *len = o.len;
    return o.buf;
}
