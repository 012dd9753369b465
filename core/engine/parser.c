/*
 * parser.c - from a line of input to a command: normalising, verbs and their
 * aliases, directions, resolving noun phrases against what is in scope, the
 * "Which key: ...?" question, and completion.  The commands themselves live
 * in the verbs_*.c families, each with its rows of the verb table, so adding a
 * command is one function and one row.
 */
#include "parser.h"
#include "utf8.h"

#include <strings.h>

#include <ctype.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static int run_normalized(tale_player_t *p, const char *norm);

static const char *const articles[] = {"the", "a", "an", "some", "my", "this", "that", NULL};

static int
is_article(const char *w)
{
    for (int i = 0; articles[i]; i++)
        if (strcmp(w, articles[i]) == 0)
            return 1;
    return 0;
}

/* Replace bytes that are not valid UTF-8 with '?': the frame is JSON, and a
 * JSON string must be valid UTF-8.  s holds len bytes and a NUL after them
 * (a sequence cut short by it is invalid).  ASCII, nearly all of a story's
 * text, is skipped eight bytes at a time: every frame's text comes through
 * here, so that jansson need not check it again byte by byte. */
void
eng_fix_utf8n(char *s, size_t len)
{
    unsigned char *u = (unsigned char *)s, *end = u + len;
    while (u < end) {
        uint64_t v;
        if (end - u >= 8 && (memcpy(&v, u, 8), (v & 0x8080808080808080ull) == 0)) {
            u += 8;
            continue;
        }
        size_t n = tale_utf8_seq_len(u, (size_t)(end - u));
        if (n == 0)
            *u++ = '?';
        else
            u += n;
    }
}

static void
fix_utf8(char *s)
{
    eng_fix_utf8n(s, strlen(s));
}

/* Invisible format controls (Unicode general category Cf, as of Unicode 15.1),
 * as inclusive ranges in order.  Bidi overrides and isolates (U+202A-202E,
 * U+2066-2069) reorder what other players see ("say" of U+202E flips the rest
 * of their line), zero-width characters and tags hide text or make two names
 * look alike.  Trade-off: ZWJ (U+200D) also joins emoji sequences and ZWNJ
 * (U+200C) shapes Persian words; those arrive as their separate parts. */
static const struct {
    uint32_t lo, hi;
} format_controls[] = {
    {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},   {0x070f, 0x070f},   {0x0890, 0x0891},
    {0x08e2, 0x08e2},   {0x180e, 0x180e},   {0x200b, 0x200f},   {0x202a, 0x202e},   {0x2060, 0x2064},   {0x2066, 0x206f},
    {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3},
    {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
};

/* Is code point c one that no player's words may carry to another: a control
 * character (C0, DEL, C1) other than TAB, or an invisible format control. */
static int
is_hidden_control(uint32_t c)
{
    if (c < 0x20)
        return c != '\t';
    if (c >= 0x7f && c <= 0x9f)
        return 1;
    for (size_t i = 0; i < sizeof(format_controls) / sizeof(format_controls[0]) && format_controls[i].lo <= c; i++)
        if (c <= format_controls[i].hi)
            return 1;
    return 0;
}

/* Drop control and invisible format characters from s (len bytes of valid
 * UTF-8, as fix_utf8n leaves it) in place, so that what a player types reaches
 * other players as the characters it shows; returns the new length and puts
 * a NUL after it.  Printable ASCII, nearly all input, is copied as it is. */
static size_t
strip_hidden_controls(char *s, size_t len)
{
    unsigned char *u = (unsigned char *)s;
    size_t in = 0, out = 0;
    while (in < len) {
        unsigned char c = u[in];
        size_t n = c < 0x80 ? 1 : tale_utf8_seq_len(u + in, len - in);
        uint32_t cp = c;
        if (n == 0) { /* not UTF-8 after all: keep the byte, fix_utf8n's business */
            n = 1;
        } else if (n > 1) {
            cp = c & (0x7f >> n);
            for (size_t i = 1; i < n; i++)
                cp = cp << 6 | (u[in + i] & 0x3f);
        }
        if (!is_hidden_control(cp)) {
            memmove(u + out, u + in, n);
            out += n;
        }
        in += n;
    }
    u[out] = 0;
    return out;
}

/* Lower-case, trim, collapse runs of blanks, drop trailing punctuation. */
void
eng_normalize(char *dst, const char *src, size_t cap)
{
    size_t n = 0;
    int space = 1;
    for (const char *s = src; *s && n + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (isspace(c)) {
            if (!space)
                dst[n++] = ' ';
            space = 1;
            continue;
        }
        dst[n++] = (char)tolower(c);
        space = 0;
    }
    while (n && (dst[n - 1] == ' ' || dst[n - 1] == '.' || dst[n - 1] == '!' || dst[n - 1] == '?'))
        n--;
    dst[n] = 0;
}

/* Remove articles from a phrase in place. */
static void
strip_articles(char *s)
{
    char out[512];
    size_t n = 0;
    char *save, *tok;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", s);
    for (tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (is_article(tok))
            continue;
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", n ? " " : "", tok);
        if (n >= sizeof out)
            break;
    }
    out[n < sizeof out ? n : sizeof out - 1] = 0;
    strcpy(s, out);
}

static int
streq_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/* Does every word of phrase occur among the words of the names? */
static int
words_in(const char *phrase, const char *const *names, size_t n)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", phrase);
    char *save, *tok;
    for (tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        int found = 0;
        for (size_t i = 0; i < n && !found; i++) {
            const char *s = names[i];
            size_t tl = strlen(tok);
            while (*s && !found) {
                while (*s == ' ')
                    s++;
                const char *e = s;
                while (*e && *e != ' ')
                    e++;
                if ((size_t)(e - s) == tl && strncasecmp(s, tok, tl) == 0)
                    found = 1;
                s = e;
            }
        }
        if (!found)
            return 0;
    }
    return 1;
}

/* How well phrase names something with this name, these aliases and id:
 * 3 exact name/alias/id, 2 the last word of the name, 1 all words appear, 0 no. */
static int
score_names(const char *phrase, const char *name, const char *const *aliases, size_t naliases, const char *id)
{
    if (streq_ci(phrase, name) || (id && streq_ci(phrase, id)))
        return 3;
    for (size_t i = 0; i < naliases; i++)
        if (streq_ci(phrase, aliases[i]))
            return 3;
    const char *last = strrchr(name, ' ');
    if (last && streq_ci(phrase, last + 1))
        return 2;
    const char *all[33];
    size_t n = 0;
    all[n++] = name;
    for (size_t i = 0; i < naliases && n < 33; i++)
        all[n++] = aliases[i];
    return words_in(phrase, all, n) ? 1 : 0;
}

const char *
eng_thing_name(const tale_player_t *p, eng_thing_t t)
{
    const tale_world_t *w = p->w;
    switch (t.kind) {
    case THING_ITEM:
        return w->st->items[t.idx].name;
    case THING_NPC:
        return w->st->npcs[t.idx].name;
    case THING_DOOR:
        return w->st->locs[t.idx].exits[t.idx2].door.name;
    case THING_PLAYER:
        return w->players[t.idx] ? w->players[t.idx]->name : "nobody";
    case THING_SELF:
        return "yourself";
    }
    return "nothing";
}

static int
score_thing(const tale_player_t *p, eng_thing_t t, const char *phrase)
{
    const tale_world_t *w = p->w;
    switch (t.kind) {
    case THING_ITEM: {
        const eng_item_t *it = &w->st->items[t.idx];
        return score_names(phrase, it->name, it->aliases, it->naliases, it->id);
    }
    case THING_NPC: {
        const eng_npc_t *n = &w->st->npcs[t.idx];
        int s = score_names(phrase, n->name, n->aliases, n->naliases, n->id);
        if (!s && n->title && streq_ci(phrase, n->title))
            s = 3;
        return s;
    }
    case THING_DOOR: {
        const eng_door_t *d = &w->st->locs[t.idx].exits[t.idx2].door;
        int s = score_names(phrase, d->name, d->aliases, d->naliases, NULL);
        if (!s) {
            /* "north door" names the door on the north exit */
            char buf[128];
            snprintf(buf, sizeof buf, "%s door", eng_dir_names[w->st->locs[t.idx].exits[t.idx2].dir]);
            if (streq_ci(phrase, buf))
                s = 3;
        }
        return s;
    }
    case THING_PLAYER:
        return w->players[t.idx] ? score_names(phrase, w->players[t.idx]->name, NULL, 0, NULL) : 0;
    case THING_SELF:
        return strcmp(phrase, "me") == 0 || strcmp(phrase, "myself") == 0 || strcmp(phrase, "self") == 0 ? 3 : 0;
    }
    return 0;
}

/* Everything within reach of `scope`, in a stable order. */
static size_t
gather(const tale_player_t *p, int scope, eng_thing_t *out, size_t cap)
{
    const tale_world_t *w = p->w;
    size_t n = 0;
#define ADD(k, i, j)                                                                                                               \
    do {                                                                                                                           \
        if (n < cap)                                                                                                               \
            out[n++] = (eng_thing_t){k, i, j};                                                                                     \
    } while (0)
    int see = eng_player_can_see(p);
    for (size_t i = 0; i < w->st->nitems; i++) {
        if ((scope & SC_HELD) && eng_item_held_by(w, (int)i, p->slot))
            ADD(THING_ITEM, (int)i, 0);
        else if (eng_item_in_scope(p, (int)i) && !eng_item_held_by(w, (int)i, p->slot)) {
            /* held inside a carried container counts as held */
            int carried = 0;
            eng_place_t pl = w->items[i].place;
            for (int hops = 0; pl.kind == PLACE_ITEM && hops < (int)w->st->nitems; hops++)
                pl = w->items[pl.idx].place;
            carried = pl.kind == PLACE_PLAYER;
            if ((carried && (scope & SC_HELD)) || (!carried && (scope & SC_HERE)))
                ADD(THING_ITEM, (int)i, 0);
        }
    }
    if ((scope & SC_NPC) && see)
        for (size_t i = 0; i < w->st->nnpcs; i++)
            if (w->npcs[i].location == p->location)
                ADD(THING_NPC, (int)i, 0);
    if (scope & SC_DOOR) {
        const eng_location_t *l = &w->st->locs[p->location];
        for (size_t e = 0; e < l->nexits; e++)
            if (l->exits[e].has_door)
                ADD(THING_DOOR, p->location, (int)e);
    }
    /* Other players: those here, by any part of their names, unless the room
     * is a crowd; anyone else only by full name (eng_resolve asks the name
     * index).  So no phrase is ever scored against every player. */
    if ((scope & (SC_PLAYER | SC_ANYPLAYER)) && w->rooms[p->location].n - 1 <= ENG_CROWD)
        for (const tale_player_t *o = w->rooms[p->location].head; o; o = o->room_next)
            if (o != p)
                ADD(THING_PLAYER, o->slot, 0);
    if (scope & SC_SELF)
        ADD(THING_SELF, 0, 0);
#undef ADD
    return n;
}

static int
player_in(const tale_player_t *p, const tale_player_t *o, int scope)
{
    return o && o != p && ((scope & SC_ANYPLAYER) || ((scope & SC_PLAYER) && o->location == p->location));
}

static int
thing_in(const tale_player_t *p, eng_thing_t t, int scope)
{
    if (t.kind == THING_PLAYER)
        return t.idx >= 0 && (size_t)t.idx < p->w->nplayers_cap && player_in(p, p->w->players[t.idx], scope);
    eng_thing_t all[256];
    size_t n = gather(p, scope, all, 256);
    for (size_t i = 0; i < n; i++)
        if (all[i].kind == t.kind && all[i].idx == t.idx && all[i].idx2 == t.idx2)
            return 1;
    return 0;
}

/* Is the phrase the name of anything at all in the story (for a helpful "not here")? */
static int
known_anywhere(const tale_player_t *p, const char *phrase)
{
    const tale_world_t *w = p->w;
    for (size_t i = 0; i < w->st->nitems; i++)
        if (score_thing(p, (eng_thing_t){THING_ITEM, (int)i, 0}, phrase))
            return 1;
    for (size_t i = 0; i < w->st->nnpcs; i++)
        if (score_thing(p, (eng_thing_t){THING_NPC, (int)i, 0}, phrase))
            return 1;
    return 0;
}

static void
remember_it(tale_player_t *p, eng_thing_t t)
{
    if (t.kind == THING_ITEM || t.kind == THING_NPC || t.kind == THING_DOOR || t.kind == THING_PLAYER)
        p->it = t;
}

static void
thing_token(eng_thing_t t, char *buf, size_t cap)
{
    static const char kinds[] = "?indps";
    snprintf(buf, cap, "#%c%d.%d", kinds[t.kind], t.idx, t.idx2);
}

int
eng_resolve(tale_player_t *p, const char *phrase_in, int scope, eng_thing_t *out)
{
    char phrase[512];
    snprintf(phrase, sizeof phrase, "%s", phrase_in);
    strip_articles(phrase);
    if (!*phrase) {
        eng_out_p(p, "Which one? Name it.");
        return RES_FAIL;
    }
    if (phrase[0] == '#') {
        /* a token written by the ambiguity question: "#i3.0" */
        static const char kinds[] = "?indps";
        const char *k = strchr(kinds, phrase[1]);
        eng_thing_t t = {0};
        if (k && phrase[1] && sscanf(phrase + 2, "%d.%d", &t.idx, &t.idx2) == 2) {
            t.kind = (int)(k - kinds);
            if (thing_in(p, t, scope)) {
                *out = t;
                remember_it(p, t);
                return RES_OK;
            }
        }
        eng_out_p(p, "That is no longer here.");
        return RES_FAIL;
    }
    if (strcmp(phrase, "it") == 0 || strcmp(phrase, "them") == 0 || strcmp(phrase, "him") == 0 || strcmp(phrase, "her") == 0) {
        /* "it" is what the previous command named, not this one's first noun */
        eng_thing_t it = p->it_before;
        if (it.kind != THING_NONE && thing_in(p, it, scope)) {
            *out = it;
            p->it = it;
            return RES_OK;
        }
        if (it.kind == THING_NONE)
            eng_out_p(p, "I don't know what '%s' means here: name the thing first.", phrase);
        else
            eng_out_p(p, "The %s isn't here.", eng_thing_name(p, it));
        return RES_FAIL;
    }
    eng_thing_t all[257], best[PENDING_MAX];
    size_t n = gather(p, scope, all, 256), nbest = 0;
    const tale_player_t *named = eng_player_named(p->w, phrase);
    if (player_in(p, named, scope)) {
        size_t k = 0;
        while (k < n && !(all[k].kind == THING_PLAYER && all[k].idx == named->slot))
            k++;
        if (k == n)
            all[n++] = (eng_thing_t){THING_PLAYER, named->slot, 0};
    }
    int top = 0;
    for (size_t i = 0; i < n; i++) {
        int s = score_thing(p, all[i], phrase);
        if (!s || s < top)
            continue;
        if (s > top) {
            top = s;
            nbest = 0;
        }
        if (nbest < PENDING_MAX)
            best[nbest++] = all[i];
    }
    if (nbest == 1) {
        *out = best[0];
        remember_it(p, best[0]);
        return RES_OK;
    }
    if (nbest == 0) {
        if (known_anywhere(p, phrase))
            eng_out_p(p, "You see no %s here.", phrase);
        else
            eng_out_p(p, "I don't know what '%s' is. <dim>Type</dim> look <dim>to see what is here.</dim>", phrase);
        return RES_FAIL;
    }
    /* Ambiguous: ask, and keep the command with a hole where the phrase was. */
    eng_sbuf_t q = {0};
    eng_sb_adds(&q, "Which ");
    eng_sb_adds(&q, phrase);
    eng_sb_adds(&q, ": ");
    for (size_t i = 0; i < nbest; i++) {
        if (i)
            eng_sb_adds(&q, i + 1 == nbest ? " or " : ", ");
        if (best[i].kind == THING_ITEM || best[i].kind == THING_DOOR)
            eng_sb_adds(&q, "the "); /* people are named bare: "Tibbles or the cat statue" */
        eng_sb_adds(&q, eng_thing_name(p, best[i]));
    }
    eng_sb_adds(&q, "?");
    eng_out_p(p, "%s", q.s);
    eng_sb_free(&q);
    free(p->pending_before);
    free(p->pending_after);
    p->pending_before = p->pending_after = NULL;
    const char *line = p->cur_line, *at = NULL;
    /* find the phrase as typed, after the verb */
    const char *sp = strchr(line, ' ');
    at = sp ? strstr(sp, phrase_in) : NULL;
    if (!at) {
        return RES_ASKED; /* cannot rebuild: the question stands without a follow-up */
    }
    p->pending_before = tale_xstrndup(line, (size_t)(at - line));
    p->pending_after = tale_xstrdup(at + strlen(phrase_in));
    memcpy(p->pending_cands, best, nbest * sizeof *best);
    p->npending = (int)nbest;
    p->pending = 1;
    return RES_ASKED;
}

/* The one pending candidate that phrase names best, or -1 (none, or a tie). */
static int
pick_candidate(tale_player_t *p, const char *phrase)
{
    int top = 0, pick = -1, ties = 0;
    for (int i = 0; i < p->npending; i++) {
        int s = score_thing(p, p->pending_cands[i], phrase);
        if (s > top) {
            top = s;
            pick = i;
            ties = 0;
        } else if (s && s == top) {
            ties++;
        }
    }
    return ties ? -1 : pick;
}

/* The next input after a question: if it picks one candidate, run the
 * command again with it.  Returns 1 when handled. */
static int
answer_pending(tale_player_t *p, const char *norm, int *rc)
{
    p->pending = 0;
    char phrase[512];
    snprintf(phrase, sizeof phrase, "%.511s", norm);
    strip_articles(phrase);
    int pick = pick_candidate(p, phrase);
    if (pick < 0) {
        /* "the iron one": try each word alone; one that picks exactly one candidate decides */
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", phrase);
        char *save, *tok;
        for (tok = strtok_r(tmp, " ", &save); tok && pick < 0; tok = strtok_r(NULL, " ", &save))
            pick = pick_candidate(p, tok);
    }
    if (pick < 0)
        return 0;
    char tok[64], line[1200];
    thing_token(p->pending_cands[pick], tok, sizeof tok);
    snprintf(line, sizeof line, "%s%s%s", p->pending_before, tok, p->pending_after);
    *rc = run_normalized(p, line);
    return 1;
}

static void
echo(tale_player_t *p, const char *raw)
{
    eng_sb_adds(&p->out, "<p><span class='txt-userinput'>");
    eng_sb_escape(&p->out, raw, strlen(raw));
    eng_sb_adds(&p->out, "</span></p>\n");
}

int
eng_parser_run(tale_player_t *p, const char *line)
{
    tale_world_t *w = p->w;
    size_t len = strlen(line);
    char *raw = tale_xmalloc(len + 1);
    /* trim */
    while (len && isspace((unsigned char)line[len - 1]))
        len--;
    while (len && isspace((unsigned char)*line)) {
        line++;
        len--;
    }
    int too_long = len > w->max_input; /* judged on what was sent */
    memcpy(raw, line, len);
    raw[len] = 0;
    fix_utf8(raw);
    /* the one place every line of input passes: nothing invisible goes further */
    len = strip_hidden_controls(raw, len);
    size_t lead = 0;
    while (lead < len && isspace((unsigned char)raw[lead]))
        lead++;
    while (len > lead && isspace((unsigned char)raw[len - 1]))
        len--;
    memmove(raw, raw + lead, len - lead);
    raw[len - lead] = 0;
    int rc = TALE_CMD_OK;
    if (too_long) {
        /* never echo an over-long line back in full */
        eng_out_p(p, "That is too long: commands are at most %d characters.", (int)w->max_input);
        p->pending = 0;
        eng_player_flush(p);
        free(raw);
        return rc;
    }
    echo(p, raw);
    /* ":waves" and "'hello": the MUD shorthands for emote and say, glued to their words */
    if ((raw[0] == ':' || raw[0] == '\'') && raw[1] && !isspace((unsigned char)raw[1])) {
        char *spaced = eng_xasprintf("%c %s", raw[0], raw + 1);
        free(raw);
        raw = spaced;
    }
    p->raw_line = raw;
    char norm[1200];
    eng_normalize(norm, raw, sizeof norm);
    if (!*norm) {
        p->pending = 0;
        eng_out_p(p, "Say something! <dim>Type</dim> help <dim>for the commands.</dim>");
    } else {
        int handled = 0;
        if (p->pending) {
            char first[64];
            size_t fl = strcspn(norm, " ");
            snprintf(first, sizeof first, "%.*s", (int)(fl < 63 ? fl : 63), norm);
            if (!eng_find_verb(first) && eng_dir_parse(first) < 0)
                handled = answer_pending(p, norm, &rc);
            p->pending = 0;
        }
        if (!handled) {
            /* "again" / "g" repeats the last command that was not itself a repeat */
            if ((strcmp(norm, "again") == 0 || strcmp(norm, "g") == 0) && p->last_line) {
                /* the raw line too: say/tell/emote take their words from it */
                char again[1200];
                eng_normalize(again, p->last_line, sizeof again);
                p->raw_line = p->last_line;
                rc = run_normalized(p, again);
            } else {
                rc = run_normalized(p, norm);
                if (strcmp(norm, "again") != 0 && strcmp(norm, "g") != 0) {
                    free(p->last_line);
                    p->last_line = tale_xstrdup(raw);
                }
            }
        }
    }
    eng_check_goal(p);
    eng_player_flush(p);
    p->raw_line = NULL;
    free(raw);
    return rc;
}

/* Are a and b at most one edit apart (insert, delete, substitute, or swap of neighbours)? */
static int
one_edit(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > lb + 1 || lb > la + 1)
        return 0;
    size_t i = 0;
    while (i < la && i < lb && a[i] == b[i])
        i++;
    if (i == la || i == lb)
        return 1;
    if (la == lb)
        return strcmp(a + i + 1, b + i + 1) == 0 || (a[i] == b[i + 1] && a[i + 1] == b[i] && strcmp(a + i + 2, b + i + 2) == 0);
    return la > lb ? strcmp(a + i + 1, b + i) == 0 : strcmp(a + i, b + i + 1) == 0;
}

/* A verb the word is probably a typo of: one edit away from exactly one verb
 * name (words of one or two letters are too short to guess from). */
static const char *
nearest_verb(const char *word)
{
    if (strlen(word) < 3)
        return NULL;
    const char *names[256], *found = NULL;
    size_t n = eng_verb_names(names, 256);
    for (size_t i = 0; i < n; i++)
        if (names[i][0] != '@' && one_edit(word, names[i])) {
            if (found)
                return NULL;
            found = names[i];
        }
    return found;
}

/* The raw (case-kept) text after the first n words of the input line. */
const char *
eng_raw_after_words(const tale_player_t *p, int nwords)
{
    const char *s = p->raw_line ? p->raw_line : "";
    for (int i = 0; i < nwords; i++) {
        while (*s && isspace((unsigned char)*s))
            s++;
        while (*s && !isspace((unsigned char)*s))
            s++;
    }
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

static int
run_normalized(tale_player_t *p, const char *norm)
{
    char line[1200];
    snprintf(line, sizeof line, "%s", norm);
    p->cur_line = line;
    p->it_before = p->it;
    char *args = strchr(line, ' ');
    char verbw[64];
    size_t vl = args ? (size_t)(args - line) : strlen(line);
    snprintf(verbw, sizeof verbw, "%.*s", (int)(vl < 63 ? vl : 63), line);
    const char *a = args ? args + 1 : "";
    int rc;
    int d = eng_dir_parse(verbw);
    if (d >= 0 && !*a) {
        rc = eng_cmd_go_dir(p, d);
    } else {
        const eng_verb_t *v = eng_find_verb(verbw);
        if (!v) {
            const char *near = nearest_verb(verbw);
            if (near)
                eng_out_p(p, "I don't know the verb '%s'. Did you mean <bright>%s</bright>?", verbw, near);
            else
                eng_out_p(p, "I don't know the verb '%s'. <dim>Type</dim> help <dim>for the commands.</dim>", verbw);
            p->cur_line = NULL;
            return TALE_CMD_OK;
        }
        rc = v->fn(p, v, a);
    }
    if (rc == DONE_TIME) {
        p->turns++;
        p->w->clock += p->w->st->per_turn;
    }
    p->cur_line = NULL;
    return rc == DONE_QUIT ? TALE_CMD_QUIT : TALE_CMD_OK;
}

/* ------------------------------------------------------------ completion */

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
add_unique(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return;
    json_array_append_new(arr, json_string(s));
}

/* Completions of a line typed so far; prefix_in is the caller's own copy,
 * repaired in place (never a cast from const). */
json_t *
eng_parser_complete(tale_player_t *p, char *prefix_in)
{
    json_t *r = json_array();
    char prefix[512];
    fix_utf8(prefix_in);
    strip_hidden_controls(prefix_in, strlen(prefix_in));
    /* keep a trailing space: "take " means "complete the noun" */
    size_t n = 0;
    int space = 1;
    for (const char *s = prefix_in; *s && n + 1 < sizeof prefix; s++) {
        if (isspace((unsigned char)*s)) {
            if (!space)
                prefix[n++] = ' ';
            space = 1;
        } else {
            prefix[n++] = (char)tolower((unsigned char)*s);
            space = 0;
        }
    }
    prefix[n] = 0;
    const char *sp = strchr(prefix, ' ');
    if (!sp) {
        const char *names[256];
        size_t nn = eng_verb_names(names, 256);
        qsort(names, nn, sizeof *names, cmp_str);
        for (size_t i = 0; i < nn; i++)
            if (strncmp(names[i], prefix, n) == 0)
                add_unique(r, names[i]);
        for (int d = 0; d < DIR__N; d++)
            if (strncmp(eng_dir_names[d], prefix, n) == 0)
                add_unique(r, eng_dir_names[d]);
        return r;
    }
    /* after a verb: nouns in scope (or directions after go) */
    char verbw[64];
    snprintf(verbw, sizeof verbw, "%.*s", (int)(sp - prefix), prefix);
    const char *rest = sp + 1;
    /* the noun being typed starts after the last joining word ("put coin in wo") */
    static const char *const joins[] = {" in ", " into ", " to ", " about ", " with ", " on ", " from ", NULL};
    const char *word = rest;
    for (int j = 0; joins[j]; j++) {
        const char *at = rest;
        while ((at = strstr(at, joins[j])) != NULL) {
            at += strlen(joins[j]);
            if (at > word)
                word = at;
        }
    }
    size_t head = (size_t)(word - prefix), wl = strlen(word);
    const eng_verb_t *v = eng_find_verb(verbw);
    if (!v)
        return r;
    const char *cands[300];
    size_t nc = 0;
    if (v->complete_dirs) {
        for (int d = 0; d < DIR__N; d++)
            cands[nc++] = eng_dir_names[d];
    } else if (v->scope) {
        eng_thing_t all[256];
        size_t na = gather(p, v->scope, all, 256);
        int taking = v == eng_find_verb("take");
        for (size_t i = 0; i < na && nc < 300; i++) {
            if (all[i].kind == THING_SELF)
                continue;
            if (taking && all[i].kind == THING_ITEM && !p->w->st->items[all[i].idx].takeable)
                continue; /* scenery: completing "take doormat" only leads to a refusal */
            cands[nc++] = eng_thing_name(p, all[i]);
        }
        qsort(cands, nc, sizeof *cands, cmp_str);
    }
    for (size_t i = 0; i < nc; i++) {
        /* match the word being typed against the candidate, whole or a word of it */
        const char *c = cands[i];
        if (strncasecmp(c, word, wl) != 0)
            continue;
        char *line = eng_xasprintf("%.*s%s", (int)head, prefix, c);
        for (char *q = line; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        add_unique(r, line);
        free(line);
    }
    return r;
}
