/*
 * html_text.c - render the text frames' HTML as terminal lines.
 *
 * This is not a general HTML parser: the host produces a tiny, well-formed
 * dialect (PROTOCOL.md), so a single left-to-right pass with a stack of style
 * attributes is enough.  Anything unexpected (an unknown tag, a stray '<' or
 * '&') degrades to being dropped or printed literally, never to a crash.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "html_text.h"

#include <tale/alloc.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Style attributes, one bit each; the SGR parameters that switch them on. */
enum { ATTR_BRIGHT = 1, ATTR_DIM = 2, ATTR_IT = 4, ATTR_UL = 8, ATTR_REV = 16, ATTR_LOCATION = 32, ATTR_INPUT = 64 };

static const struct {
    unsigned attr;
    const char *cls; /* the CSS class the engine writes */
    const char *sgr; /* NULL: no visible attribute */
} styles[] = {
    {ATTR_BRIGHT, "txt-bright", "1"},
    {ATTR_DIM, "txt-dim", "2"},
    {ATTR_IT, "txt-it", "3"},
    {ATTR_UL, "txt-ul", "4"},
    {ATTR_REV, "txt-rev", "7"},
    {ATTR_LOCATION, "txt-location", "1;36"},
    {ATTR_INPUT, "txt-userinput", NULL},
};

#define MAX_DEPTH 64

#define NO_SPACE ((size_t)-1)

typedef struct render {
    tale_buf_t *out;
    unsigned flags;
    const char *input_prefix;
    unsigned width;     /* 0: no wrapping */
    unsigned col;       /* columns used on the current line */
    size_t space_at;    /* offset in out of the last word-separating space on this line, or NO_SPACE */
    unsigned space_col; /* the column just after that space */
    int prefix_pending; /* an echoed-input span opened: print the prefix before its text */
    int at_line_start;  /* nothing printed on the current line yet */
    int pending_space;  /* white space seen since the last visible character */
    int in_pre;         /* inside <pre>: keep white space and newlines */
    int para_has_text;  /* the open paragraph printed something */
    int para_skipped;   /* ... or held only echoed input, which was dropped */
    unsigned emitted;   /* attributes the terminal currently has */
    unsigned stack[MAX_DEPTH];
    size_t depth;    /* open styled elements (may exceed MAX_DEPTH: the excess carries no style) */
    size_t skipping; /* depth at which a txt-userinput span opened (0: not skipping) */
} render_t;

static void
put(render_t *r, const char *p, size_t len)
{
    tale_buf_append(r->out, p, len);
}

static unsigned
wanted_attrs(const render_t *r)
{
    unsigned a = 0;
    size_t n = r->depth < MAX_DEPTH ? r->depth : MAX_DEPTH;
    for (size_t i = 0; i < n; i++)
        a |= r->stack[i];
    return a;
}

/* Bring the terminal to exactly `attrs` (reset, then switch each one on). */
static void
set_attrs(render_t *r, unsigned attrs)
{
    attrs &= ~(unsigned)ATTR_INPUT; /* a marker, not something the terminal shows */
    if (!(r->flags & TALE_HTML_ANSI) || attrs == r->emitted)
        return;
    char seq[64] = "\033[0";
    size_t n = 3;
    for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
        if ((attrs & styles[i].attr) && styles[i].sgr != NULL) {
            size_t l = strlen(styles[i].sgr);
            seq[n++] = ';';
            memcpy(seq + n, styles[i].sgr, l);
            n += l;
        }
    }
    seq[n++] = 'm';
    put(r, seq, n);
    r->emitted = attrs;
}

static void
newline(render_t *r)
{
    set_attrs(r, 0); /* a reverse-video line must not bleed into the next one */
    put(r, "\n", 1);
    r->at_line_start = 1;
    r->pending_space = 0;
    r->col = 0;
    r->space_at = NO_SPACE;
}

/* Columns taken by UTF-8 text: one per code point (wide characters are rare in stories). */
static unsigned
columns(const char *p, size_t len)
{
    unsigned n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)p[i] & 0xc0) != 0x80;
    return n;
}

/* Past the right margin: turn the last space on the line into a line break, if
 * there is one (the current word then starts the next line). */
static void
wrap(render_t *r)
{
    if (r->width == 0 || r->in_pre || r->col <= r->width || r->space_at == NO_SPACE)
        return;
    r->out->data[r->space_at] = '\n';
    r->col -= r->space_col;
    r->space_at = NO_SPACE;
}

/* End the current line if something is on it (block boundaries). */
static void
break_line(render_t *r)
{
    if (!r->at_line_start)
        newline(r);
}

/* Print visible bytes in the current style, after any pending space. */
static void
visible(render_t *r, const char *p, size_t len)
{
    if (r->skipping) {
        r->para_skipped = 1;
        return;
    }
    unsigned want = wanted_attrs(r);
    if (r->pending_space && !r->at_line_start) {
        /* the space belongs to both neighbours: give it only the attributes they share */
        set_attrs(r, r->emitted & want);
        put(r, " ", 1);
        r->col++;
        r->space_at = r->out->len - 1;
        r->space_col = r->col;
    }
    r->pending_space = 0;
    if (r->prefix_pending) {
        r->prefix_pending = 0;
        set_attrs(r, 0);
        put(r, r->input_prefix, strlen(r->input_prefix));
        r->col += columns(r->input_prefix, strlen(r->input_prefix));
    }
    set_attrs(r, want);
    put(r, p, len);
    r->col += columns(p, len);
    wrap(r);
    r->at_line_start = 0;
    r->para_has_text = 1;
}

static void
put_codepoint(render_t *r, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
        return; /* controls (and what is not a character) never reach the terminal */
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    visible(r, u, n);
}

/* Decode the entity starting at s[0] == '&'.  Returns the bytes consumed, or 0
 * when it is not an entity we know (the '&' is then printed literally). */
static size_t
entity(render_t *r, const char *s, size_t len)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {{"amp", '&'},   {"lt", '<'},       {"gt", '>'},       {"quot", '"'},      {"apos", '\''},
                 {"nbsp", 0xa0}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"hellip", 0x2026}, {"copy", 0xa9}};
    size_t end = 1;
    while (end < len && end < 12 &&
           ((s[end] >= 'a' && s[end] <= 'z') || (s[end] >= 'A' && s[end] <= 'Z') || (s[end] >= '0' && s[end] <= '9') ||
            (end == 1 && s[end] == '#')))
        end++;
    if (end >= len || s[end] != ';' || end < 2)
        return 0;
    const char *name = s + 1;
    size_t nlen = end - 1;
    uint32_t cp = 0;
    if (name[0] == '#') {
        int hex = nlen > 1 && (name[1] == 'x' || name[1] == 'X');
        size_t i = hex ? 2 : 1;
        if (i >= nlen)
            return 0;
        for (; i < nlen; i++) {
            char c = name[i];
            int d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                d = c - 'A' + 10;
            else
                return 0;
            cp = cp * (hex ? 16 : 10) + (uint32_t)d;
            if (cp > 0x10ffff)
                return 0;
        }
    } else {
        size_t k;
        for (k = 0; k < sizeof(named) / sizeof(named[0]); k++)
            if (strlen(named[k].name) == nlen && memcmp(named[k].name, name, nlen) == 0)
                break;
        if (k == sizeof(named) / sizeof(named[0]))
            return 0;
        cp = named[k].cp;
    }
    if (cp == 0xa0) {
        /* a hard space is visible: it survives white-space collapsing */
        visible(r, " ", 1);
    } else {
        put_codepoint(r, cp);
    }
    return end + 1;
}

/* The style bits of a class attribute's value ("txt-bright txt-ul"). */
static unsigned
class_attrs(const char *v, size_t len)
{
    unsigned a = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n'))
            i++;
        size_t start = i;
        while (i < len && !(v[i] == ' ' || v[i] == '\t' || v[i] == '\n'))
            i++;
        for (size_t k = 0; k < sizeof(styles) / sizeof(styles[0]); k++)
            if (strlen(styles[k].cls) == i - start && memcmp(styles[k].cls, v + start, i - start) == 0)
                a |= styles[k].attr;
    }
    return a;
}

/* Find class="..." (or '...') inside a tag's attribute text. */
static unsigned
tag_class(const char *a, size_t len)
{
    for (size_t i = 0; i + 6 < len; i++) {
        if (strncasecmp(a + i, "class", 5) != 0 || (i > 0 && a[i - 1] != ' ' && a[i - 1] != '\t' && a[i - 1] != '\n'))
            continue;
        size_t j = i + 5;
        while (j < len && a[j] == ' ')
            j++;
        if (j >= len || a[j] != '=')
            continue;
        j++;
        while (j < len && a[j] == ' ')
            j++;
        if (j >= len || (a[j] != '"' && a[j] != '\''))
            continue;
        char q = a[j++];
        size_t start = j;
        while (j < len && a[j] != q)
            j++;
        return class_attrs(a + start, j - start);
    }
    return 0;
}

static int
name_is(const char *name, size_t nlen, const char *want)
{
    return strlen(want) == nlen && strncasecmp(name, want, nlen) == 0;
}

static int
is_block(const char *name, size_t nlen)
{
    static const char *const blocks[] = {"p",  "div", "pre", "h1", "h2",    "h3",         "h4",      "h5", "h6",
                                         "li", "ul",  "ol",  "tr", "table", "blockquote", "section", NULL};
    for (size_t i = 0; blocks[i] != NULL; i++)
        if (name_is(name, nlen, blocks[i]))
            return 1;
    return 0;
}

/* Handle the tag in s[0..len) (without the angle brackets). */
static void
tag(render_t *r, const char *s, size_t len)
{
    int closing = len > 0 && s[0] == '/';
    size_t i = closing ? 1 : 0;
    size_t nstart = i;
    while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
        i++;
    const char *name = s + nstart;
    size_t nlen = i - nstart;
    if (nlen == 0)
        return;
    int self_closing = len > 0 && s[len - 1] == '/';

    if (name_is(name, nlen, "br")) {
        if (!r->skipping)
            newline(r);
        return;
    }
    if (is_block(name, nlen)) {
        if (r->skipping)
            return;
        int para = name_is(name, nlen, "p");
        if (!closing) {
            break_line(r);
            r->para_has_text = 0;
            r->para_skipped = 0;
            if (name_is(name, nlen, "pre"))
                r->in_pre = 1;
        } else {
            if (name_is(name, nlen, "pre"))
                r->in_pre = 0;
            if (para && !r->para_has_text && !r->para_skipped && r->at_line_start)
                newline(r); /* an empty paragraph is a blank line */
            else
                break_line(r);
        }
        return;
    }
    /* Inline elements: the styled ones go on the stack so their close tag restores the style. */
    unsigned attrs = 0;
    if (name_is(name, nlen, "b") || name_is(name, nlen, "strong"))
        attrs = ATTR_BRIGHT;
    else if (name_is(name, nlen, "i") || name_is(name, nlen, "em"))
        attrs = ATTR_IT;
    else if (name_is(name, nlen, "u"))
        attrs = ATTR_UL;
    else if (!name_is(name, nlen, "span") && !name_is(name, nlen, "a") && !name_is(name, nlen, "code") &&
             !name_is(name, nlen, "tt"))
        return; /* unknown: dropped */
    if (closing) {
        if (r->depth == 0)
            return;
        if (r->skipping == r->depth)
            r->skipping = 0;
        r->depth--;
        return;
    }
    if (self_closing)
        return;
    attrs |= tag_class(s + i, len - i);
    if (r->depth < MAX_DEPTH)
        r->stack[r->depth] = attrs;
    r->depth++;
    if ((attrs & ATTR_INPUT) && (r->flags & TALE_HTML_SKIP_INPUT) && !r->skipping)
        r->skipping = r->depth;
    else if ((attrs & ATTR_INPUT) && r->input_prefix != NULL && r->input_prefix[0] != '\0')
        r->prefix_pending = 1;
}

void
tale_html_to_text(const char *html, size_t len, const tale_html_opts_t *opts, tale_buf_t *out)
{
    render_t r = {.out = out,
                  .flags = opts->flags,
                  .input_prefix = opts->input_prefix,
                  .width = opts->width,
                  .space_at = NO_SPACE,
                  .at_line_start = 1};
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)html[i];
        if (c == '<') {
            if (len - i >= 4 && memcmp(html + i, "<!--", 4) == 0) {
                const char *end = memmem(html + i + 4, len - i - 4, "-->", 3);
                i = end ? (size_t)(end - html) + 3 : len;
                continue;
            }
            /* a tag starts with a name or '/'; anything else ("1 < 2") is a literal '<' */
            unsigned char n = i + 1 < len ? (unsigned char)html[i + 1] : 0;
            int tagish = (n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z') || n == '/' || n == '!';
            const char *gt = tagish ? memchr(html + i + 1, '>', len - i - 1) : NULL;
            if (gt == NULL) {
                visible(&r, "<", 1);
                i++;
                continue;
            }
            tag(&r, html + i + 1, (size_t)(gt - html) - i - 1);
            i = (size_t)(gt - html) + 1;
        } else if (c == '&') {
            size_t n = entity(&r, html + i, len - i);
            if (n == 0) {
                visible(&r, "&", 1);
                n = 1;
            }
            i += n;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (r.skipping) {
                /* echoed input is dropped with its spacing */
            } else if (r.in_pre && c == '\n') {
                newline(&r);
                r.para_has_text = 1;
            } else if (r.in_pre && c != '\r') {
                visible(&r, c == '\t' ? "\t" : " ", 1);
            } else if (!r.in_pre) {
                r.pending_space = 1;
            }
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            i++; /* C0 controls, ESC among them */
        } else if (c == 0xc2 && i + 1 < len && (unsigned char)html[i + 1] >= 0x80 && (unsigned char)html[i + 1] < 0xa0) {
            i += 2; /* C1 controls encoded in UTF-8 (some terminals act on them) */
        } else {
            /* a run of ordinary bytes (UTF-8 passes through) */
            size_t j = i + 1;
            while (j < len) {
                unsigned char d = (unsigned char)html[j];
                if (d == '<' || d == '&' || d == ' ' || d == '\t' || d == '\n' || d == '\r' || d < 0x20 || d == 0x7f || d == 0xc2)
                    break;
                j++;
            }
            visible(&r, html + i, j - i);
            i = j;
        }
    }
    set_attrs(&r, 0);
    if (!r.at_line_start)
        put(&r, "\n", 1);
}
