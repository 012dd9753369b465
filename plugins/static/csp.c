/*
 * csp.c - inline scripts and handlers against the configured policy (see csp.h).
 */
#include "csp.h"

#include <tale/alloc.h>

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCAN_MAX_DEPTH 8
#define SCAN_MAX_FILES 2000
#define SCAN_MAX_BYTES (1024 * 1024) /* bigger pages are not ours to judge: skipped */

typedef struct span {
    const char *p;
    size_t len;
} span_t;

static int
span_is(span_t s, const char *lit)
{
    return s.len == strlen(lit) && strncasecmp(s.p, lit, s.len) == 0;
}

static int
span_starts(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && strncasecmp(s.p, lit, n) == 0;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* The next token of s separated by sep (or by white space when sep is 0),
 * trimmed; returns 0 at the end. */
static int
next_item(span_t *s, char sep, span_t *item)
{
    /* an empty item between two separators is skipped like white space */
    while (s->len != 0 && (is_space(*s->p) || (sep != 0 && *s->p == sep))) {
        ++s->p;
        --s->len;
    }
    if (s->len == 0)
        return 0;
    const char *b = s->p;
    while (s->len != 0 && (sep != 0 ? *s->p != sep : !is_space(*s->p))) {
        ++s->p;
        --s->len;
    }
    size_t n = (size_t)(s->p - b);
    while (n != 0 && is_space(b[n - 1]))
        --n;
    *item = (span_t){b, n};
    return 1;
}

/* The source list of the first directive called `name` in one policy. */
static int
find_directive(span_t policy, const char *name, span_t *sources)
{
    span_t d = {NULL, 0};
    while (next_item(&policy, ';', &d)) {
        span_t rest = d, dname = {NULL, 0};
        if (!next_item(&rest, 0, &dname))
            continue;
        if (span_is(dname, name)) {
            *sources = rest;
            return 1;
        }
    }
    return 0;
}

enum inline_kind { INLINE_SCRIPT, INLINE_HANDLER };

/* Whether `hash_src` ('sha256-…', quotes stripped) is the digest of code. */
static int
hash_matches(span_t hash_src, const char *code, size_t len)
{
    static const struct {
        const char *prefix;
        const EVP_MD *(*md)(void);
    } algs[] = {{"sha256-", EVP_sha256}, {"sha384-", EVP_sha384}, {"sha512-", EVP_sha512}};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (!span_starts(hash_src, algs[i].prefix))
            continue;
        unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
        unsigned mdlen = 0;
        EVP_Digest(code, len, md, &mdlen, algs[i].md(), NULL);
        int n = EVP_EncodeBlock(b64, md, (int)mdlen);
        size_t plen = strlen(algs[i].prefix);
        return hash_src.len - plen == (size_t)n && memcmp(hash_src.p + plen, b64, (size_t)n) == 0;
    }
    return 0;
}

/* Whether one source list lets this inline code run (CSP3, "Does a source
 * list allow all inline behavior", then the nonce and hash matches). */
static int
sources_allow(span_t sources, enum inline_kind kind, const char *code, size_t len, span_t nonce)
{
    int unsafe_inline = 0, unsafe_hashes = 0, voids_inline = 0;
    span_t s = {NULL, 0}, list = sources;
    while (next_item(&list, 0, &s)) {
        if (s.len < 2 || s.p[0] != '\'' || s.p[s.len - 1] != '\'')
            continue;
        span_t v = {s.p + 1, s.len - 2};
        unsafe_inline |= span_is(v, "unsafe-inline");
        unsafe_hashes |= span_is(v, "unsafe-hashes");
        voids_inline |= span_is(v, "strict-dynamic") || span_starts(v, "nonce-") || span_starts(v, "sha256-") ||
                        span_starts(v, "sha384-") || span_starts(v, "sha512-");
    }
    if (unsafe_inline && !voids_inline)
        return 1;
    /* a handler may match a hash only with 'unsafe-hashes'; it never carries a nonce */
    if (kind == INLINE_HANDLER && !unsafe_hashes)
        return 0;
    list = sources;
    while (next_item(&list, 0, &s)) {
        if (s.len < 2 || s.p[0] != '\'' || s.p[s.len - 1] != '\'')
            continue;
        span_t v = {s.p + 1, s.len - 2};
        if (span_starts(v, "nonce-") && kind == INLINE_SCRIPT && nonce.len != 0 && v.len - 6 == nonce.len &&
            memcmp(v.p + 6, nonce.p, nonce.len) == 0)
            return 1;
        if (hash_matches(v, code, len))
            return 1;
    }
    return 0;
}

/* Whether every policy of the header value lets this inline code run. */
static int
policy_allows(const char *policy, enum inline_kind kind, const char *code, size_t len, span_t nonce)
{
    static const char *const script_order[] = {"script-src-elem", "script-src", "default-src"};
    static const char *const handler_order[] = {"script-src-attr", "script-src", "default-src"};
    const char *const *order = kind == INLINE_SCRIPT ? script_order : handler_order;
    span_t all = {policy, strlen(policy)}, one = {NULL, 0};
    while (next_item(&all, ',', &one)) {
        for (size_t i = 0; i < 3; i++) {
            span_t sources;
            if (find_directive(one, order[i], &sources)) {
                if (!sources_allow(sources, kind, code, len, nonce))
                    return 0;
                break;
            }
        }
    }
    return 1;
}

/* ---- the HTML ---- */

static const char *
find_ci(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    for (; (size_t)(end - p) >= n; p++)
        if (strncasecmp(p, lit, n) == 0)
            return p;
    return NULL;
}

static int
is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_space(p[i]))
            return 0;
    return 1;
}

/* Whether a <script type=…> is one the browser runs (not a data block). */
static int
runs_as_script(span_t type)
{
    if (type.p == NULL || type.len == 0)
        return 1;
    return span_is(type, "module") || span_starts(type, "text/javascript") || span_starts(type, "application/javascript") ||
           span_starts(type, "text/ecmascript") || span_starts(type, "application/ecmascript");
}

static void
note_handler(st_inline_report_t *r, span_t name)
{
    ++r->handlers;
    if (name.len >= sizeof(r->names[0]))
        return;
    for (unsigned i = 0; i < r->nnames; i++)
        if (span_is(name, r->names[i]))
            return;
    if (r->nnames == ST_CSP_NAMES)
        return;
    for (size_t i = 0; i < name.len; i++)
        r->names[r->nnames][i] = (char)tolower((unsigned char)name.p[i]);
    r->names[r->nnames][name.len] = '\0';
    ++r->nnames;
}

/* An event handler attribute: "on" and an event name, all letters.  The
 * shortest event is "cut": shorter names (one, once, only) are not handlers. */
static int
is_handler_name(span_t name)
{
    if (name.len < 5 || strncasecmp(name.p, "on", 2) != 0)
        return 0;
    for (size_t i = 2; i < name.len; i++)
        if (!isalpha((unsigned char)name.p[i]))
            return 0;
    return 1;
}

/* One start tag's attributes, from just after its name; returns the position after '>'. */
static const char *
scan_attributes(const char *policy, const char *p, const char *end, st_inline_report_t *r, int *has_src, span_t *type,
                span_t *nonce)
{
    while (p < end && *p != '>') {
        if (is_space(*p) || *p == '/') {
            ++p;
            continue;
        }
        span_t name = {p, 0}, value = {NULL, 0};
        while (p < end && !is_space(*p) && *p != '=' && *p != '>' && *p != '/')
            ++p;
        name.len = (size_t)(p - name.p);
        if (name.len == 0) { /* a stray '=' */
            ++p;
            continue;
        }
        while (p < end && is_space(*p))
            ++p;
        if (p < end && *p == '=') {
            ++p;
            while (p < end && is_space(*p))
                ++p;
            if (p < end && (*p == '"' || *p == '\'')) {
                char q = *p++;
                value.p = p;
                while (p < end && *p != q)
                    ++p;
                value.len = (size_t)(p - value.p);
                if (p < end)
                    ++p;
            } else {
                value.p = p;
                while (p < end && !is_space(*p) && *p != '>')
                    ++p;
                value.len = (size_t)(p - value.p);
            }
        }
        if (is_handler_name(name)) {
            if (!policy_allows(policy, INLINE_HANDLER, value.p != NULL ? value.p : "", value.len, (span_t){NULL, 0}))
                note_handler(r, name);
        } else if (span_is(name, "src")) {
            *has_src = 1; /* present, even if empty: not inline */
        } else if (span_is(name, "type")) {
            *type = value;
        } else if (span_is(name, "nonce")) {
            *nonce = value;
        }
    }
    return p < end ? p + 1 : end;
}

void
st_csp_check_html(const char *policy, const char *html, size_t len, st_inline_report_t *r)
{
    const char *p = html, *end = html + len;
    memset(r, 0, sizeof(*r));
    if (policy == NULL || policy[0] == '\0')
        return;
    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
            const char *c = find_ci(p + 4, end, "-->");
            p = c != NULL ? c + 3 : end;
            continue;
        }
        if (end - p < 2 || !isalpha((unsigned char)p[1])) {
            ++p;
            continue;
        }
        span_t tag = {++p, 0}, type = {NULL, 0}, nonce = {NULL, 0};
        int has_src = 0;
        while (p < end && isalnum((unsigned char)*p))
            ++p;
        tag.len = (size_t)(p - tag.p);
        p = scan_attributes(policy, p, end, r, &has_src, &type, &nonce);
        /* raw text: its content is not markup */
        if (span_is(tag, "script") || span_is(tag, "style")) {
            const char *close = find_ci(p, end, span_is(tag, "script") ? "</script" : "</style");
            const char *body_end = close != NULL ? close : end;
            if (span_is(tag, "script") && !has_src && runs_as_script(type) && !is_blank(p, (size_t)(body_end - p)) &&
                !policy_allows(policy, INLINE_SCRIPT, p, (size_t)(body_end - p), nonce))
                ++r->scripts;
            p = body_end;
        }
        if (p >= end)
            break;
    }
}

/* ---- the suggested setting ---- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf_t;

static void
put(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = tale_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* A script directive's sources, with 'unsafe-inline' and without what voids it. */
static void
put_inline_sources(sbuf_t *b, span_t sources)
{
    span_t s = {NULL, 0};
    while (next_item(&sources, 0, &s)) {
        span_t v = {s.p + 1, s.len >= 2 ? s.len - 2 : 0};
        if (s.len >= 2 && s.p[0] == '\'' &&
            (span_is(v, "none") || span_is(v, "unsafe-inline") || span_is(v, "strict-dynamic") || span_starts(v, "nonce-") ||
             span_starts(v, "sha256-") || span_starts(v, "sha384-") || span_starts(v, "sha512-")))
            continue;
        put(b, " ", 1);
        put(b, s.p, s.len);
    }
    put(b, " 'unsafe-inline'", 16);
}

char *
st_csp_suggest(const char *policy)
{
    sbuf_t b = {NULL, 0, 0};
    span_t all = {policy, strlen(policy)}, d = {NULL, 0}, default_src = {NULL, 0};
    int has_script_src = 0, has_default = 0;
    put(&b, "", 0);
    while (next_item(&all, ';', &d)) {
        span_t rest = d, name = {NULL, 0};
        if (!next_item(&rest, 0, &name))
            continue;
        if (b.len != 0)
            put(&b, "; ", 2);
        if (span_is(name, "script-src") || span_is(name, "script-src-elem") || span_is(name, "script-src-attr")) {
            has_script_src |= span_is(name, "script-src");
            put(&b, name.p, name.len);
            put_inline_sources(&b, rest);
        } else {
            if (span_is(name, "default-src") && !has_default) {
                has_default = 1;
                default_src = rest;
            }
            put(&b, d.p, d.len);
        }
    }
    if (!has_script_src && has_default) {
        put(&b, b.len != 0 ? "; script-src" : "script-src", b.len != 0 ? 12 : 10);
        put_inline_sources(&b, default_src);
    }
    return b.s;
}

/* ---- the web root ---- */

typedef struct walk {
    const char *policy;
    st_csp_warn_cb warn;
    void *data;
    unsigned files;
} walk_t;

static int
is_html_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcasecmp(name + n - 5, ".html") == 0) || (n > 4 && strcasecmp(name + n - 4, ".htm") == 0);
}

static void
check_file(walk_t *w, const char *path, off_t size)
{
    if (size > SCAN_MAX_BYTES)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    char *buf = tale_xmalloc((size_t)size + 1);
    ssize_t n = read(fd, buf, (size_t)size);
    close(fd);
    if (n > 0) {
        st_inline_report_t r;
        st_csp_check_html(w->policy, buf, (size_t)n, &r);
        if (r.scripts != 0 || r.handlers != 0)
            w->warn(w->data, path, &r);
    }
    ++w->files;
    free(buf);
}

static void
walk_dir(walk_t *w, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    /* sorted would be nicer for the log, but the order of one start's lines does not matter */
    struct dirent *e;
    while ((e = readdir(d)) != NULL && w->files < SCAN_MAX_FILES) {
        if (e->d_name[0] == '.')
            continue; /* dotfiles and folders are never served */
        char path[4096];
        struct stat st;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) || lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < SCAN_MAX_DEPTH)
            walk_dir(w, path, depth + 1);
        else if (S_ISREG(st.st_mode) && is_html_name(e->d_name))
            check_file(w, path, st.st_size);
    }
    closedir(d);
}

unsigned
st_csp_scan_dir(const char *root, const char *policy, st_csp_warn_cb warn, void *data)
{
    walk_t w = {policy, warn, data, 0};
    if (policy == NULL || policy[0] == '\0')
        return 0;
    walk_dir(&w, root, 0);
    return w.files;
}
