/*
 * form.h - application/x-www-form-urlencoded decoding (POST bodies and query
 * strings) for the sse plugin.  Pure functions over (pointer, length): no
 * allocation, no h2o, so they are unit-tested and fuzzed on their own.
 */
#ifndef TALE_SSE_FORM_H
#define TALE_SSE_FORM_H

#include <stddef.h>

enum {
    TALE_FORM_OK = 0,         /* found; the value is in out */
    TALE_FORM_MISSING = 1,    /* no pair with that name */
    TALE_FORM_MALFORMED = -1, /* a '%' not followed by two hex digits, anywhere in the form */
    TALE_FORM_DUPLICATE = -2, /* the name appears more than once: ambiguous, so refused */
    TALE_FORM_TOO_LONG = -3   /* the decoded value does not fit in out */
};

/*
 * Percent-decode `len` bytes of `src` into `out` ('+' becomes a space).  The
 * result is never longer than the input, so `out` needs `len` bytes (it may be
 * `src` itself: decoding in place is safe).  No NUL is appended; a "%00" in the
 * input yields a NUL byte in the output.  Returns the decoded length, or -1 if
 * a '%' is not followed by two hex digits.
 */
long tale_form_decode(const char *src, size_t len, char *out);

/*
 * Find the pair named `name` in a form (`a=1&b=2`; names are compared after
 * decoding; a pair without '=' has an empty value; empty pairs are skipped).
 * Every pair is checked, so a malformed escape anywhere or a second pair of
 * the same name is reported even after the wanted pair was found.  On
 * TALE_FORM_OK the decoded value (not NUL-terminated) is in out[0..*out_len).
 */
int tale_form_get(const char *form, size_t len, const char *name, char *out, size_t cap, size_t *out_len);

/* A short English description of a result code, for error bodies. */
const char *tale_form_strerror(int rc);

#endif
