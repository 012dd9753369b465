/*
 * form.c - application/x-www-form-urlencoded decoding; see form.h.
 */
#include "form.h"

#include <string.h>

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * The one decoding loop.  `out` may be NULL to only validate and measure.
 * Returns the decoded length, -1 for a malformed escape, -2 if the result
 * would exceed `cap` (checked only when out != NULL).
 */
static long
decode_into(const char *src, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len || (hi = hexval((unsigned char)src[i + 1])) < 0 || (lo = hexval((unsigned char)src[i + 2])) < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (out != NULL) {
            if (n >= cap)
                return -2;
            out[n] = (char)c;
        }
        n++;
    }
    return (long)n;
}

long
tale_form_decode(const char *src, size_t len, char *out)
{
    /* Writing never overtakes reading (one output byte per one or three
     * input bytes), so out == src is safe. */
    return decode_into(src, len, out, len);
}

/* Compare the encoded name src[0..len) with the plain `name`: 1 equal, 0 not, -1 malformed. */
static int
name_equals(const char *src, size_t len, const char *name)
{
    size_t nlen = strlen(name), n = 0;
    int equal = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len || (hi = hexval((unsigned char)src[i + 1])) < 0 || (lo = hexval((unsigned char)src[i + 2])) < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (n >= nlen || (unsigned char)name[n] != c)
            equal = 0;
        n++;
    }
    return equal && n == nlen;
}

int
tale_form_get(const char *form, size_t len, const char *name, char *out, size_t cap, size_t *out_len)
{
    int found = 0, too_long = 0;
    size_t i = 0;
    while (i < len) {
        const char *pair = form + i;
        const char *amp = memchr(pair, '&', len - i);
        size_t plen = amp != NULL ? (size_t)(amp - pair) : len - i;
        i += plen + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq != NULL ? (size_t)(eq - pair) : plen;
        const char *val = eq != NULL ? eq + 1 : pair + plen;
        size_t vlen = plen - klen - (eq != NULL ? 1 : 0);

        int match = name_equals(pair, klen, name);
        if (match < 0)
            return TALE_FORM_MALFORMED;
        if (match && found)
            return TALE_FORM_DUPLICATE;
        long n = decode_into(val, vlen, match ? out : NULL, cap);
        if (n == -1)
            return TALE_FORM_MALFORMED;
        if (match) {
            found = 1;
            if (n == -2)
                too_long = 1;
            else if (out_len != NULL)
                *out_len = (size_t)n;
        }
    }
    if (!found)
        return TALE_FORM_MISSING;
    return too_long ? TALE_FORM_TOO_LONG : TALE_FORM_OK;
}

const char *
tale_form_strerror(int rc)
{
    switch (rc) {
    case TALE_FORM_OK:
        return "ok";
    case TALE_FORM_MISSING:
        return "missing field";
    case TALE_FORM_MALFORMED:
        return "malformed percent-encoding";
    case TALE_FORM_DUPLICATE:
        return "field given more than once";
    case TALE_FORM_TOO_LONG:
        return "field too long";
    }
    return "invalid form";
}
