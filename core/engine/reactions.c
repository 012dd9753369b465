/*
 * reactions.c - the story's reactions: an item's `on:` reactions to a verb
 * (gated by a flag, fired once or always, replacing or adding to the verb's
 * own text) and an NPC's answers to a topic.
 */
#include "verbs.h"

#include <string.h>
#include <strings.h>

/* Gate the story's reaction to verb `which` on an item: GATE_* (verbs.h). */
int
eng_gate(tale_player_t *p, int item, int which, int other_kind, int other)
{
    tale_world_t *w = p->w;
    eng_reaction_t *r = w->st->items[item].on[which];
    if (!r)
        return GATE_SKIP;
    if (which == ON_PUT && r->item >= 0 && r->item != other)
        return GATE_SKIP;
    if (which == ON_USE && r->with >= 0 && (r->with_kind != other_kind || r->with != other))
        return GATE_SKIP;
    if (r->once && (w->items[item].fired & (1u << which)))
        return GATE_SKIP;
    if (r->requires >= 0 && !w->flags[r->requires]) {
        if (r->otherwise) {
            eng_out_story(p, r->otherwise);
            return GATE_BLOCK;
        }
        return GATE_SKIP;
    }
    return GATE_FIRE;
}

void
eng_fire(tale_player_t *p, int item, int which)
{
    tale_world_t *w = p->w;
    eng_reaction_t *r = w->st->items[item].on[which];
    w->items[item].fired |= 1u << which;
    if (r->text)
        eng_out_story(p, r->text);
    eng_flags_apply(w, &r->set, &r->clear);
    if (r->gives >= 0) {
        w->items[r->gives].place = (eng_place_t){PLACE_PLAYER, p->slot};
        eng_out_p(p, "<dim>(You now have the %s.)</dim>", w->st->items[r->gives].name);
    }
    if (r->reveals >= 0)
        w->items[r->reveals].place = (eng_place_t){PLACE_LOC, p->location};
}

int
eng_replaced(const tale_player_t *p, int item, int which, int g)
{
    return g == GATE_FIRE && p->w->st->items[item].on[which]->replace;
}

void
eng_npc_say(tale_player_t *p, int npc, const char *text)
{
    eng_out_speech(p, p->w->st->npcs[npc].name, "says", text, 1);
}

/* Does the subject name this topic? */
static int
topic_matches(tale_player_t *p, const eng_topic_t *t, const char *subject)
{
    tale_world_t *w = p->w;
    for (size_t a = 0; a < t->nabout; a++) {
        const char *ab = t->about[a];
        if (strcasecmp(ab, subject) == 0)
            return 1;
        /* any word of the subject equals the about-word */
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", subject);
        char *save, *tok;
        for (tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
            if (strcasecmp(tok, ab) == 0)
                return 1;
        /* the subject names an item whose id is the about-word */
        int i = -1;
        for (size_t k = 0; k < w->st->nitems; k++)
            if (strcasecmp(w->st->items[k].id, ab) == 0)
                i = (int)k;
        if (i >= 0 && (strcasecmp(subject, w->st->items[i].name) == 0))
            return 1;
        for (size_t k = 0; i >= 0 && k < w->st->items[i].naliases; k++)
            if (strcasecmp(subject, w->st->items[i].aliases[k]) == 0)
                return 1;
    }
    return 0;
}

void
eng_npc_answer(tale_player_t *p, int npc, const char *subject_in)
{
    tale_world_t *w = p->w;
    const eng_npc_t *n = &w->st->npcs[npc];
    char subject[512];
    eng_normalize(subject, subject_in, sizeof subject);
    /* articles out */
    char clean[512] = "";
    size_t cl = 0;
    char *save, *tok;
    for (tok = strtok_r(subject, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!strcmp(tok, "the") || !strcmp(tok, "a") || !strcmp(tok, "an"))
            continue;
        cl += (size_t)snprintf(clean + cl, sizeof clean - cl, "%s%s", cl ? " " : "", tok);
        if (cl >= sizeof clean)
            break;
    }
    for (size_t t = 0; t < n->ntopics; t++) {
        eng_topic_t *tp = &n->topics[t];
        if (tp->requires >= 0 && !w->flags[tp->requires])
            continue;
        if (topic_matches(p, tp, clean)) {
            eng_npc_say(p, npc, tp->answer);
            eng_flags_apply(w, &tp->set, &tp->clear);
            return;
        }
    }
    static const char *const hello[] = {"hello", "hi", "greetings", "hey", "good morning", "good evening", NULL};
    for (int h = 0; hello[h]; h++)
        if (strcmp(clean, hello[h]) == 0 && n->greeting) {
            eng_npc_say(p, npc, n->greeting);
            return;
        }
    if (n->unknown_topic)
        eng_npc_say(p, npc, n->unknown_topic);
    else
        eng_out_p(p, "%s shrugs.", n->name);
}
