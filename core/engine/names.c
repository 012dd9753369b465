/*
 * names.c - the rules for the names players choose (accounts, issue #15;
 * docs/PROTOCOL.md, "Accounts"): what a name may be made of, and what it may
 * not pretend to be (someone in the story, a word the game uses, another
 * player by case or by look-alike letters).
 */
#include "parser.h"

#include <ctype.h>
#include <string.h>

#define FOLD_CAP 256

/* Separators a name may hold between letters; the fold drops them, so
 * "Ma-ren" is not a way around "Maren". */
static int
is_sep(char c)
{
    return c == '-' || c == '\'' || c == ' ' || c == '_' || c == '.';
}

void
eng_name_fold(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return;
    for (const char *s = name; *s && n + 1 < cap; s++) {
        char c = (char)tolower((unsigned char)*s);
        if (is_sep(c))
            continue;
        switch (c) {
        case '0':
            c = 'o';
            break;
        case '1':
        case 'i':
        case '|':
            c = 'l'; /* capital I and small l are one glyph in many fonts */
            break;
        case '5':
            c = 's';
            break;
        default:
            break;
        }
        /* pairs that read as one letter at a glance */
        if (n > 0 && out[n - 1] == 'r' && c == 'n') {
            out[n - 1] = 'm';
            continue;
        }
        if (n > 0 && out[n - 1] == 'v' && c == 'v') {
            out[n - 1] = 'w';
            continue;
        }
        out[n++] = c;
    }
    out[n] = 0;
}

static int
folds_equal(const char *a_fold, const char *b)
{
    char f[FOLD_CAP];
    eng_name_fold(b, f, sizeof f);
    return strcmp(a_fold, f) == 0;
}

/* Does the folded name equal a name or alias or id, or (for an NPC's name of
 * several words) one of its words? */
static int
names_thing(const char *fold, const char *name, const char *const *aliases, size_t naliases, const char *id, int words)
{
    if (name && folds_equal(fold, name))
        return 1;
    if (id && folds_equal(fold, id))
        return 1;
    for (size_t i = 0; i < naliases; i++)
        if (aliases[i] && folds_equal(fold, aliases[i]))
            return 1;
    if (!words || !name)
        return 0;
    /* "Maren" would pass for "Old Maren" */
    char word[FOLD_CAP];
    for (const char *s = name; *s;) {
        size_t wl = strcspn(s, " ");
        if (wl > 0 && wl < sizeof word) {
            memcpy(word, s, wl);
            word[wl] = 0;
            if (folds_equal(fold, word))
                return 1;
        }
        s += wl;
        while (*s == ' ')
            s++;
    }
    return 0;
}

/* Words that mean someone other than a player in the game's commands. */
static const char *const reserved_words[] = {"me",     "myself", "self",   "all",   "everyone", "everybody", "someone",
                                             "nobody", "anyone", "you",    "it",    "them",     "him",       "her",
                                             "admin",  "system", "server", "guest", "player",   NULL};

int
eng_name_check(const tale_world_t *w, const char *name, const tale_player_t *self, const char **why)
{
    static const char *const e_story = "That name belongs to someone or something in this story. Choose another.";
    static const char *const e_word = "That name is a word the game itself uses. Choose another.";
    static const char *const e_taken = "Someone in the game already goes by that name, or one that looks like it. Choose another.";
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (tale_name_shape_check(name, name != NULL ? strlen(name) : 0, why) != 0)
        return -1;
    size_t len = strlen(name);
    char lower[TALE_NAME_MAX + 1];
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; reserved_words[i]; i++)
        if (strcmp(lower, reserved_words[i]) == 0) {
            *why = e_word;
            return -1;
        }
    if (eng_find_verb(lower) || eng_dir_parse(lower) >= 0) {
        *why = e_word;
        return -1;
    }
    char fold[FOLD_CAP];
    eng_name_fold(name, fold, sizeof fold);
    const tale_story_t *st = w->st;
    /* the guests' generated names ("Wren", "Wren 2") are the story player's */
    if (st->player_name && names_thing(fold, st->player_name, NULL, 0, NULL, 1)) {
        *why = e_story;
        return -1;
    }
    for (size_t i = 0; i < st->nnpcs; i++) {
        const eng_npc_t *n = &st->npcs[i];
        if (names_thing(fold, n->name, n->aliases, n->naliases, n->id, 1)) {
            *why = e_story;
            return -1;
        }
    }
    for (size_t i = 0; i < st->nitems; i++) {
        const eng_item_t *it = &st->items[i];
        if (names_thing(fold, it->name, it->aliases, it->naliases, it->id, 0)) {
            *why = e_story;
            return -1;
        }
    }
    if (eng_player_lookalike(w, name, self)) {
        *why = e_taken;
        return -1;
    }
    *why = NULL;
    return 0;
}

int
tale_world_name_check(const tale_world_t *w, const char *name, const char **why)
{
    return eng_name_check(w, name, NULL, why);
}
