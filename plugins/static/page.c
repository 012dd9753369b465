/*
 * page.c - template rendering and path checks for the static plugin.
 * Pure functions over byte strings; see page.h for the contracts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "page.h"
#include <tale/alloc.h>

size_t
st_html_escape(char *dst, const char *src, size_t len)
{
    char *d = dst;
    for (size_t i = 0; i < len; i++) {
        const char *rep = NULL;
        switch (src[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        }
        if (rep != NULL) {
            size_t n = strlen(rep);
            memcpy(d, rep, n);
            d += n;
        } else {
            *d++ = src[i];
        }
    }
    return (size_t)(d - dst);
}

/* The variable named by tpl[0..n) (the text between the braces), or NULL. */
static const st_page_var_t *
find_var(const char *name, size_t n, const st_page_var_t *vars, size_t nvars)
{
    for (size_t i = 0; i < nvars; i++) {
        if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0)
            return &vars[i];
    }
    return NULL;
}

/* Two passes over the template (measure, then write) so the output is
 * allocated once; templates are a few kilobytes, the cost is nothing. */
char *
st_page_render(const char *tpl, size_t len, const st_page_var_t *vars, size_t nvars, size_t *out_len)
{
    char *out = NULL;
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t o = 0;
        for (size_t i = 0; i < len;) {
            const st_page_var_t *v = NULL;
            size_t end = i;
            if (tpl[i] == '{') {
                /* a placeholder is `{` word `}` with no braces or spaces in between */
                for (end = i + 1; end < len && end - i <= 64; end++) {
                    char c = tpl[end];
                    if (c == '}' || c == '{' || c == ' ' || c == '\n')
                        break;
                }
                if (end < len && tpl[end] == '}')
                    v = find_var(tpl + i + 1, end - i - 1, vars, nvars);
            }
            if (v != NULL) {
                const char *val = v->value != NULL ? v->value : "";
                size_t vlen = strlen(val);
                if (pass == 0)
                    o += 6 * vlen;
                else
                    o += st_html_escape(out + o, val, vlen);
                i = end + 1;
            } else {
                if (pass == 1)
                    out[o] = tpl[i];
                o++;
                i++;
            }
        }
        if (pass == 0) {
            total = o;
            out = tale_xmalloc(total + 1);
        } else {
            out[o] = '\0';
            *out_len = o;
        }
    }
    return out;
}

char *
st_format_uptime(char *buf, size_t size, int64_t seconds)
{
    if (seconds < 0)
        seconds = 0;
    snprintf(buf, size, "%lld:%02d:%02d", (long long)(seconds / 3600), (int)(seconds / 60 % 60), (int)(seconds % 60));
    return buf;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte a "%XY" at s[0..2] encodes, or -1 if it is not an escape. */
static int
pct_at(const char *s, size_t left)
{
    int hi, lo;
    if (left < 3 || s[0] != '%' || (hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0)
        return -1;
    return hi * 16 + lo;
}

/* Legitimate clients never percent-encode '.', '/', '\' or NUL in a file
 * path, so any such escape is treated as an attack rather than decoded and
 * judged: that closes every spelling at once (%2e%2e, .%2e, %2f.., %5c,
 * mixed case), whatever the normaliser would have made of it. */
const char *
st_path_traversal_reason(const char *raw, size_t raw_len, const char *decoded, size_t decoded_len)
{
    const char *q = memchr(raw, '?', raw_len);
    if (q != NULL)
        raw_len = (size_t)(q - raw);
    for (size_t i = 0; i < raw_len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '.' && i + 1 < raw_len && raw[i + 1] == '.')
            return "dot-dot segment";
        if (c == '\\')
            return "backslash";
        if (c < 0x20 || c == 0x7f)
            return "control byte";
        if (c == 0xc0 || c == 0xc1)
            return "overlong UTF-8";
        int b = pct_at(raw + i, raw_len - i);
        if (b == '.' || b == '/' || b == '\\' || b == 0)
            return "encoded dot, slash, backslash or NUL";
        if (b == 0xc0 || b == 0xc1)
            return "encoded overlong UTF-8";
        if (b >= 0 && b < 0x20)
            return "encoded control byte";
    }
    /* after one round of decoding, any escape left over was double-encoded */
    for (size_t i = 0; i < decoded_len; i++) {
        if (pct_at(decoded + i, decoded_len - i) >= 0)
            return "double percent-encoding";
        if (decoded[i] == '\\')
            return "backslash";
    }
    return NULL;
}

int
st_path_has_hidden_segment(const char *rel, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (rel[i] == '.' && (i == 0 || rel[i - 1] == '/'))
            return 1;
    }
    return 0;
}

int
st_path_is_below(const char *root, const char *path)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (strncmp(root, path, n) != 0)
        return 0;
    if (n == 1 && root[0] == '/')
        return path[0] == '/';
    return path[n] == '\0' || path[n] == '/';
}
