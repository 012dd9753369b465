/*
 * text.c - turning story text and engine messages into the HTML of a text
 * frame.  The rule that matters: only the engine's own markup and the known
 * style tags become HTML; every other byte from a story or a player is escaped.
 */
#include "world.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static void
sb_add(eng_sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = tale_xrealloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void
eng_sb_adds(eng_sbuf_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

void
eng_sb_printf(eng_sbuf_t *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = tale_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

/* A new formatted string (free() it); a failed allocation is fatal (tale/alloc.h). */
char *
eng_xasprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        tale_oom(strlen(fmt));
    return s;
}

void
eng_sb_free(eng_sbuf_t *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void
eng_sb_escape(eng_sbuf_t *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
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
        default:
            /* control characters other than tab/newline never reach a page */
            if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
                rep = "";
        }
        if (rep) {
            sb_add(b, s + start, i - start);
            eng_sb_adds(b, rep);
            start = i + 1;
        }
    }
    sb_add(b, s + start, n - start);
}

static const char *const style_tags[] = {"location", "bright", "dim", "ul", "it", "rev", "monospaced", NULL};

/* Length of a style tag at s (0 if none); *closing and *which describe it. */
static size_t
match_tag(const char *s, size_t n, int *closing, int *which)
{
    if (n < 3 || s[0] != '<')
        return 0;
    size_t i = 1;
    *closing = 0;
    if (s[i] == '/') {
        *closing = 1;
        i++;
    }
    if (!*closing && n >= 7 && strncmp(s, "<clear>", 7) == 0) {
        *which = -1;
        return 7;
    }
    for (int t = 0; style_tags[t]; t++) {
        size_t tl = strlen(style_tags[t]);
        if (i + tl < n && strncmp(s + i, style_tags[t], tl) == 0 && s[i + tl] == '>') {
            *which = t;
            return i + tl + 1;
        }
    }
    return 0;
}

/* Render s with tag state *openp carried across calls (for formats whose
 * tags span an argument); the caller closes what is left open. */
static void
render_part(eng_sbuf_t *b, const char *s, size_t n, int allow_tags, tale_player_t *p, int *openp)
{
    int open = *openp;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (!allow_tags || s[i] != '<')
            continue;
        int closing, which;
        size_t tl = match_tag(s + i, n - i, &closing, &which);
        if (!tl)
            continue;
        eng_sb_escape(b, s + start, i - start);
        if (which < 0) {
            if (p)
                eng_out_special(p, "clear");
        } else if (closing) {
            if (open > 0) {
                eng_sb_adds(b, "</span>");
                open--;
            }
        } else {
            eng_sb_printf(b, "<span class='txt-%s'>", style_tags[which]);
            open++;
        }
        i += tl - 1;
        start = i + 1;
    }
    eng_sb_escape(b, s + start, n - start);
    *openp = open;
}

void
eng_render_inline(eng_sbuf_t *b, const char *s, size_t n, int allow_tags, tale_player_t *p)
{
    int open = 0;
    render_part(b, s, n, allow_tags, p, &open);
    while (open-- > 0)
        eng_sb_adds(b, "</span>");
}

static int
blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

/* One paragraph of story text: lines [s, s+n).  Preformatted when every
 * non-empty line starts with two spaces. */
static void
story_paragraph(tale_player_t *p, const char *s, size_t n)
{
    int pre = 1;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t ll = nl ? (size_t)(nl - (s + i)) : n - i;
        if (ll > 0 && (ll < 2 || s[i] != ' ' || s[i + 1] != ' '))
            pre = 0;
        i += ll + 1;
    }
    eng_sbuf_t tmp = {0};
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t ll = nl ? (size_t)(nl - (s + i)) : n - i;
        const char *l = s + i;
        if (pre) {
            if (ll >= 2) {
                l += 2;
                ll -= 2;
            }
            if (tmp.len)
                sb_add(&tmp, "\n", 1);
        } else {
            while (ll && isspace((unsigned char)*l)) {
                l++;
                ll--;
            }
            while (ll && isspace((unsigned char)l[ll - 1]))
                ll--;
            if (tmp.len && ll)
                sb_add(&tmp, " ", 1);
        }
        sb_add(&tmp, l, ll);
        i += (nl ? (size_t)(nl - (s + i)) : n - i) + 1;
    }
    eng_sbuf_t html = {0};
    eng_render_inline(&html, tmp.s ? tmp.s : "", tmp.len, 1, p);
    if (pre) {
        eng_sb_adds(&p->out, "<pre>");
        sb_add(&p->out, html.s ? html.s : "", html.len);
        eng_sb_adds(&p->out, "</pre>\n");
    } else if (html.len) {
        eng_sb_adds(&p->out, "<p>");
        sb_add(&p->out, html.s, html.len);
        eng_sb_adds(&p->out, "</p>\n");
    }
    eng_sb_free(&tmp);
    eng_sb_free(&html);
}

/*
 * Story text rendered once per story.  What out_story writes depends on the
 * text alone (a <clear> tag also asks the client to clear its screen), and the
 * texts it is given belong to the loaded story, which does not change while
 * any world of it lives.  So the first showing in any world renders a text and
 * later ones, in that world or another, copy the HTML: a `look` would
 * otherwise re-render its location's description every time, and each of a
 * thousand worlds of one story (IF instances) would hold its own copies.
 * Entries are found by the text's address and kept only while the bytes there
 * are still the ones rendered (a caller may pass a buffer of its own, as the
 * render fuzz target does), in an open-addressing table that doubles at half
 * full.  It stops taking new texts at STORY_HTML_MAX entries or
 * STORY_HTML_BYTES of text and HTML, far above any story's.
 */
#define STORY_HTML_MAX 4096
#define STORY_HTML_BYTES (16u << 20)

struct eng_story_html {
    const char *text; /* NULL: a free slot */
    char *src;        /* a copy of the text rendered */
    size_t src_len;
    char *html;
    size_t len;
    int clear;
};

static struct eng_story_html *
story_html_slot(tale_story_t *st, const char *text)
{
    if (st->html_n * 2 >= st->html_cap) {
        size_t cap = st->html_cap ? st->html_cap * 2 : 64;
        struct eng_story_html *t = tale_xcalloc(cap, sizeof(*t));
        for (size_t i = 0; i < st->html_cap; i++) {
            struct eng_story_html *e = &st->html[i];
            if (e->text == NULL)
                continue;
            size_t j = ((uintptr_t)e->text >> 4) & (cap - 1);
            while (t[j].text != NULL)
                j = (j + 1) & (cap - 1);
            t[j] = *e;
        }
        free(st->html);
        st->html = t;
        st->html_cap = cap;
    }
    size_t j = ((uintptr_t)text >> 4) & (st->html_cap - 1);
    while (st->html[j].text != NULL && st->html[j].text != text)
        j = (j + 1) & (st->html_cap - 1);
    return &st->html[j];
}

void
eng_story_html_free(tale_story_t *st)
{
    for (size_t i = 0; i < st->html_cap; i++) {
        free(st->html[i].src);
        free(st->html[i].html);
    }
    free(st->html);
    st->html = NULL;
    st->html_cap = st->html_n = st->html_bytes = 0;
}

static void render_story(tale_player_t *p, const char *text, size_t n);

void
eng_out_story(tale_player_t *p, const char *text)
{
    if (!text)
        return;
    tale_story_t *st = p->w->st;
    size_t n = strlen(text);
    struct eng_story_html *e = story_html_slot(st, text);
    if (e->text == text && e->src_len == n && memcmp(e->src, text, n) == 0) {
        sb_add(&p->out, e->html, e->len);
        if (e->clear)
            eng_out_special(p, "clear");
        return;
    }
    size_t mark = p->out.len;
    render_story(p, text, n);
    size_t len = p->out.len - mark;
    if ((e->text == NULL && st->html_n >= STORY_HTML_MAX) || st->html_bytes - e->src_len - e->len + n + len > STORY_HTML_BYTES)
        return; /* no room: rendered all the same */
    char *src = tale_xmalloc(n + 1), *html = tale_xmalloc(len + 1);
    memcpy(src, text, n + 1);
    memcpy(html, p->out.s ? p->out.s + mark : "", len);
    html[len] = '\0';
    if (e->text == NULL)
        st->html_n++;
    st->html_bytes += n + len - e->src_len - e->len;
    free(e->src);
    free(e->html);
    *e = (struct eng_story_html){text, src, n, html, len, strstr(text, "<clear>") != NULL};
}

/* Story text (n bytes) as HTML paragraphs, appended to the player's output. */
static void
render_story(tale_player_t *p, const char *text, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* skip blank lines, then take lines up to the next blank one */
        const char *nl = memchr(text + i, '\n', n - i);
        size_t ll = nl ? (size_t)(nl - (text + i)) : n - i;
        if (blank_line(text + i, ll)) {
            i += ll + 1;
            continue;
        }
        size_t start = i;
        while (i < n) {
            nl = memchr(text + i, '\n', n - i);
            ll = nl ? (size_t)(nl - (text + i)) : n - i;
            if (blank_line(text + i, ll))
                break;
            i += ll + 1;
        }
        size_t end = i > n ? n : i;
        while (end > start && text[end - 1] == '\n')
            end--;
        story_paragraph(p, text + start, end - start);
    }
}

/* The engine's own message formatter: see world.h for the conversions. */
static void
format_into(eng_sbuf_t *b, tale_player_t *p, const char *fmt, va_list ap)
{
    const char *lit = fmt;
    int open = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%')
            continue;
        render_part(b, lit, (size_t)(f - lit), 1, p, &open);
        f++;
        if (*f == 's' || *f == 'S') {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "";
            if (*f == 'S')
                eng_render_inline(b, s, strlen(s), 1, p);
            else
                eng_sb_escape(b, s, strlen(s));
        } else if (*f == 'd') {
            eng_sb_printf(b, "%d", va_arg(ap, int));
        } else if (f[0] == 'l' && f[1] == 'd') {
            eng_sb_printf(b, "%ld", va_arg(ap, long));
            f++;
        } else if (*f == '%') {
            sb_add(b, "%", 1);
        } else if (!*f) {
            break;
        }
        lit = f + 1;
    }
    render_part(b, lit, strlen(lit), 1, p, &open);
    while (open-- > 0)
        eng_sb_adds(b, "</span>");
}

static void
paragraph_into(eng_sbuf_t *b, tale_player_t *p, const char *fmt, va_list ap)
{
    eng_sb_adds(b, "<p>");
    format_into(b, p, fmt, ap);
    eng_sb_adds(b, "</p>\n");
}

void
eng_out_vp(tale_player_t *p, const char *fmt, va_list ap)
{
    paragraph_into(&p->out, p, fmt, ap);
}

/* No player: a <clear> tag in such text asks nobody's screen to clear. */
void
eng_sb_vp(eng_sbuf_t *b, const char *fmt, va_list ap)
{
    paragraph_into(b, NULL, fmt, ap);
}

void
eng_sb_p(eng_sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    paragraph_into(b, NULL, fmt, ap);
    va_end(ap);
}

void
eng_sb_count(eng_sbuf_t *b, size_t n)
{
    char digits[32], out[48];
    int nd = snprintf(digits, sizeof digits, "%zu", n), k = 0;
    for (int i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    sb_add(b, out, (size_t)k);
}

json_t *
eng_news_frame(char *html, size_t len)
{
    json_t *f = json_object();
    json_object_set_new(f, "type", json_string("text"));
    /* repaired as eng_player_flush_with does, so jansson need not check */
    if (html != NULL)
        eng_fix_utf8n(html, len);
    json_object_set_new(f, "text", json_stringn_nocheck(html ? html : "", html ? len : 0));
    json_object_set_new(f, "special", json_array());
    return f;
}

void
eng_out_p(tale_player_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eng_out_vp(p, fmt, ap);
    va_end(ap);
}

static void
speech_into(eng_sbuf_t *b, tale_player_t *p, const char *who, const char *verb, const char *text, int story)
{
    /* story speech is an NPC's; everything else a player's (styled apart) */
    const char *kind = story ? "npc" : "player";
    eng_sb_printf(b, "<p><span class='txt-%s-name'>", kind);
    eng_render_inline(b, who, strlen(who), 0, p);
    eng_sb_printf(b, "</span> %s: <span class='txt-%s-speech'>\xe2\x80\x9c", verb, kind);
    /* speech is one paragraph: fold line breaks */
    eng_sbuf_t tmp = {0};
    for (const char *s = text; *s; s++) {
        if (*s == '\n') {
            if (s[1])
                sb_add(&tmp, " ", 1);
        } else {
            sb_add(&tmp, s, 1);
        }
    }
    eng_render_inline(b, tmp.s ? tmp.s : "", tmp.len, story, p);
    eng_sb_free(&tmp);
    eng_sb_adds(b, "\xe2\x80\x9d</span></p>\n");
}

void
eng_out_speech(tale_player_t *p, const char *who, const char *verb, const char *text, int story)
{
    speech_into(&p->out, p, who, verb, text, story);
}

void
eng_sb_speech(eng_sbuf_t *b, const char *who, const char *verb, const char *text)
{
    speech_into(b, NULL, who, verb, text, 0);
}

void
eng_out_raw(tale_player_t *p, const char *html)
{
    eng_sb_adds(&p->out, html);
}

void
eng_out_special(tale_player_t *p, const char *special)
{
    if (!p->special)
        p->special = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(p->special, i, v) if (strcmp(json_string_value(v), special) == 0) return;
    json_array_append_new(p->special, json_string(special));
}

#define OUT_KEEP 512 /* bytes of output buffer a player keeps between frames */

/* comma-separated list into a json string */
static void
list_add(eng_sbuf_t *b, const char *name)
{
    if (b->len)
        sb_add(b, ",", 1);
    eng_sb_adds(b, name);
}

void
eng_player_flush(tale_player_t *p)
{
    eng_player_flush_with(p, NULL, NULL);
}

void
eng_player_flush_with(tale_player_t *p, const char *key, json_t *value)
{
    tale_world_t *w = p->w;
    const eng_location_t *l = &w->st->locs[p->location];
    eng_sbuf_t npcs = {0}, items = {0}, exits = {0};
    int see = eng_player_can_see(p);
    size_t others = 0, shown = 0;
    if (see) {
        /* the people panel is bounded like the description (world.h, "Crowds") */
        const char *names[ENG_PEOPLE_SHOWN];
        others = eng_people_here(p, names, NULL, ENG_PEOPLE_SHOWN);
        shown = others < ENG_PEOPLE_SHOWN ? others : ENG_PEOPLE_SHOWN;
        for (size_t i = 0; i < shown; i++)
            list_add(&npcs, names[i]);
        for (size_t i = 0; i < w->st->nitems; i++)
            if (eng_item_visible_at(w, (int)i, p->location) && !w->st->items[i].fixed)
                list_add(&items, w->st->items[i].name);
    }
    for (size_t e = 0; e < l->nexits; e++) {
        const eng_exit_t *x = &l->exits[e];
        if (x->hidden && x->requires >= 0 && !w->flags[x->requires])
            continue;
        list_add(&exits, eng_dir_names[x->dir]);
    }
    json_t *f = json_object();
    json_object_set_new(f, "type", json_string("text"));
    /* Some path may have cut a multi-byte character (a word truncated to a
     * fixed buffer, say): repair rather than send a frame without its text.
     * After the repair the text is valid UTF-8, so jansson need not check it. */
    if (p->out.s != NULL)
        eng_fix_utf8n(p->out.s, p->out.len);
    json_object_set_new(f, "text", json_stringn_nocheck(p->out.s ? p->out.s : "", p->out.s ? p->out.len : 0));
    json_object_set_new(f, "special", p->special ? p->special : json_array());
    p->special = NULL;
    json_object_set_new(f, "turns", json_integer(p->turns));
    json_object_set_new(f, "location", json_string(l->title));
    json_object_set_new(f, "location_image", json_string(l->image ? l->image : ""));
    json_object_set_new(f, "npcs", json_string(npcs.s ? npcs.s : ""));
    if (others > shown)
        json_object_set_new(f, "npcs_more", json_integer((json_int_t)(others - shown)));
    json_object_set_new(f, "items", json_string(items.s ? items.s : ""));
    json_object_set_new(f, "exits", json_string(exits.s ? exits.s : ""));
    eng_sb_free(&npcs);
    eng_sb_free(&items);
    eng_sb_free(&exits);
    if (key != NULL)
        json_object_set_new(f, key, value);
    /* A short answer's buffer is kept for the next; a long one (the welcome,
     * a description) is handed back, so an idle player -- a thousand IF
     * instances waiting for their visitors -- holds no page of old output. */
    if (p->out.cap > OUT_KEEP)
        eng_sb_free(&p->out);
    p->out.len = 0;
    if (p->out.s)
        p->out.s[0] = 0;
    p->emit(p->ctx, f);
}
