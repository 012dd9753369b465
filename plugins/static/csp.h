/*
 * csp.h - does the configured Content-Security-Policy block the inline code
 * of the pages in the web root?
 *
 * A LlamaTale web folder uses inline event handlers (onload="setup()"); under
 * the default policy a browser refuses to run them and the page stays blank,
 * with nothing in the server's log.  At start the static plugin scans every
 * HTML page below web_root and warns once per page that has inline scripts
 * or handlers the policy blocks, naming the csp setting that would let them
 * run.  Judged as CSP Level 3 does: script-src-elem / script-src-attr, then
 * script-src, then default-src; 'unsafe-inline' counts only without a nonce,
 * hash or 'strict-dynamic' beside it; a matching hash (or nonce) lets an
 * inline script run, and a handler only with 'unsafe-hashes'.
 */
#ifndef TALE_STATIC_CSP_H
#define TALE_STATIC_CSP_H

#include <stddef.h>

#define ST_CSP_NAMES 3 /* handler names kept for the log line */

typedef struct st_inline_report {
    unsigned scripts;             /* inline <script> elements the policy blocks */
    unsigned handlers;            /* on...= attributes the policy blocks */
    char names[ST_CSP_NAMES][24]; /* the first distinct handler attribute names, lower case */
    unsigned nnames;
} st_inline_report_t;

/* Check one HTML document against the policy (a header value; "" is no
 * policy).  *r is cleared first; nothing blocked leaves it all zero. */
void st_csp_check_html(const char *policy, const char *html, size_t len, st_inline_report_t *r);

/* A policy like `policy` under which inline scripts and handlers run: each
 * script directive in force gets 'unsafe-inline' (and loses the nonces,
 * hashes and 'strict-dynamic' that would void it).  Allocated (tale_x*). */
char *st_csp_suggest(const char *policy);

typedef void (*st_csp_warn_cb)(void *data, const char *path, const st_inline_report_t *r);

/*
 * Check every *.html / *.htm below root (no dotfiles: they are never served;
 * bounded in depth, count and file size) and call warn for each page with
 * blocked inline code.  Returns how many pages were checked.
 */
unsigned st_csp_scan_dir(const char *root, const char *policy, st_csp_warn_cb warn, void *data);

#endif
