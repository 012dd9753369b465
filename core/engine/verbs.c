/*
 * verbs.c - the verb table, as the families of verbs_*.c own it, and the
 * helpers every family uses: argument splitting, resolving to an item.
 */
#include "verbs.h"

#include <string.h>

/* Split "X <sep> Y" at the first of the separator words; 1 when found. */
int
eng_split2(const char *args, const char *const *seps, char *left, char *right, size_t cap)
{
    for (const char *s = args; *s; s++) {
        if (s != args && s[-1] != ' ')
            continue;
        for (int i = 0; seps[i]; i++) {
            size_t l = strlen(seps[i]);
            if (strncmp(s, seps[i], l) == 0 && s[l] == ' ' && s != args) {
                snprintf(left, cap, "%.*s", (int)(s - args - 1), args);
                snprintf(right, cap, "%s", s + l + 1);
                return 1;
            }
        }
    }
    return 0;
}

int
eng_starts_word(const char *s, const char *w, const char **rest)
{
    size_t l = strlen(w);
    if (strncmp(s, w, l) == 0 && (s[l] == ' ' || s[l] == 0)) {
        *rest = s[l] ? s + l + 1 : s + l;
        return 1;
    }
    return 0;
}

/* Resolve to an item; anything else gets `notitem` ("You can't take %s."). */
int
eng_resolve_item(tale_player_t *p, const char *phrase, int scope, const char *notitem, int *item)
{
    eng_thing_t t;
    int r = eng_resolve(p, phrase, scope | SC_NPC | SC_PLAYER | SC_SELF | SC_DOOR, &t);
    if (r != RES_OK)
        return r;
    if (t.kind != THING_ITEM) {
        eng_out_p(p, notitem, t.kind == THING_SELF ? "yourself" : eng_thing_name(p, t));
        return RES_FAIL;
    }
    *item = t.idx;
    return RES_OK;
}

/* Is the item carried, directly or inside something carried? */
int
eng_carried(const tale_player_t *p, int item)
{
    const tale_world_t *w = p->w;
    eng_place_t pl = w->items[item].place;
    for (int hops = 0; pl.kind == PLACE_ITEM && hops < (int)w->st->nitems; hops++)
        pl = w->items[pl.idx].place;
    return pl.kind == PLACE_PLAYER && pl.idx == p->slot;
}

int
eng_need_args(tale_player_t *p, const char *args, const char *question)
{
    if (*args)
        return 1;
    eng_out_p(p, "%s", question);
    return 0;
}

/* The families, in the order `help` lists them. */
static const eng_verb_t *const families[] = {eng_verbs_look, eng_verbs_move, eng_verbs_handle, eng_verbs_doors,
                                             eng_verbs_use,  eng_verbs_talk, eng_verbs_meta};

/* The verb a word names (its name or one of its aliases), or NULL. */
const eng_verb_t *
eng_find_verb(const char *word)
{
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
        for (const eng_verb_t *v = families[f]; v->name; v++) {
            if (strcmp(v->name, word) == 0)
                return v;
            for (int a = 0; v->aliases[a]; a++)
                if (strcmp(v->aliases[a], word) == 0)
                    return v;
        }
    return NULL;
}

/* Every verb's name, in `help` order, up to cap of them. */
size_t
eng_verb_names(const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
        for (const eng_verb_t *v = families[f]; v->name && n < cap; v++)
            out[n++] = v->name;
    return n;
}
