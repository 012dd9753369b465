/*
 * page.h - the static plugin's pure helpers: LlamaTale-style page templates
 * and the request-path checks.  No h2o, no host: unit-tested on their own
 * (tests/static/test_static_helpers.c).  The symbols are hidden inside
 * static.so (the plugin exports only its entry symbol).
 */
#ifndef TALE_STATIC_PAGE_H
#define TALE_STATIC_PAGE_H

#include <stddef.h>
#include <stdint.h>

/* One placeholder: `{name}` in a template becomes the HTML-escaped value. */
typedef struct st_page_var {
    const char *name;
    const char *value; /* UTF-8, unescaped; NULL renders as "" */
} st_page_var_t;

/* Append `src` to `dst` (room for 6 * len bytes) with & < > " ' escaped;
 * returns the number of bytes written. */
size_t st_html_escape(char *dst, const char *src, size_t len);

/* Render a template: every `{name}` whose name is in vars is replaced by its
 * escaped value; any other brace text is copied unchanged, so CSS or script
 * inside a LlamaTale page survives.  Returns a malloc'd, NUL-terminated
 * buffer (caller frees) and its length in *out_len. */
char *st_page_render(const char *tpl, size_t len, const st_page_var_t *vars, size_t nvars, size_t *out_len);

/* "H:MM:SS" (hours may exceed 24) into buf; returns buf. */
char *st_format_uptime(char *buf, size_t size, int64_t seconds);

/* Why a request path must be refused as a traversal attempt, or NULL when it
 * is clean.  `raw` is the request target exactly as received (up to '?'),
 * `decoded` the server's percent-decoded, dot-resolved path.  Refused:
 * "..", any percent-encoded dot, slash, backslash or NUL, a literal
 * backslash, control bytes, overlong UTF-8 lead bytes (0xC0/0xC1), and
 * double encoding left in the decoded path. */
const char *st_path_traversal_reason(const char *raw, size_t raw_len, const char *decoded, size_t decoded_len);

/* 1 if some segment of `rel` starts with '.' (dotfiles are never served). */
int st_path_has_hidden_segment(const char *rel, size_t len);

/* 1 if `path` is `root` itself or lies below it (both absolute, canonical). */
int st_path_is_below(const char *root, const char *path);

#endif
