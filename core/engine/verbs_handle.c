/*
 * verbs_handle.c - the handling verbs: take, drop, put, give.
 * Each file owns its rows of the verb table (verbs.c lists the families).
 */
#include "verbs.h"

#include <stdlib.h>
#include <string.h>

static int
take_one(tale_player_t *p, int i, int quiet)
{
    tale_world_t *w = p->w;
    const eng_item_t *it = &w->st->items[i];
    eng_item_state_t *its = &w->items[i];
    if (eng_item_held_by(w, i, p->slot)) {
        eng_out_p(p, "You already have the %s.", it->name);
        return DONE_NOTIME;
    }
    if (!it->takeable) {
        eng_out_p(p, it->fixed ? "The %s is fixed in place." : "You can't take the %s.", it->name);
        return DONE_NOTIME;
    }
    int g = eng_gate(p, i, ON_TAKE, 0, -1);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    its->place = (eng_place_t){PLACE_PLAYER, p->slot};
    if (!eng_replaced(p, i, ON_TAKE, g))
        eng_out_p(p, "You take the %s.", it->name);
    if (g == GATE_FIRE)
        eng_fire(p, i, ON_TAKE);
    if (!quiet)
        eng_tell_room(w, p->location, p, "%s takes the %s.", p->name, it->name);
    return DONE_TIME;
}

static int
cmd_take(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    const char *rest;
    char left[512], right[512];
    static const char *const from[] = {"from", "out", NULL};
    if (eng_starts_word(args, "up", &rest))
        args = rest;
    if (eng_starts_word(args, "off", &rest)) {
        return eng_cmd_remove(p, v, rest);
    }
    if (!eng_need_args(p, args, "Take what?"))
        return DONE_NOTIME;
    if (eng_split2(args, from, left, right, sizeof left))
        args = left;
    if (strcmp(args, "all") == 0 || strcmp(args, "everything") == 0) {
        if (!eng_player_can_see(p)) {
            eng_out_p(p, "It is too dark to see anything to take.");
            return DONE_NOTIME;
        }
        int n = 0, took = 0;
        for (size_t i = 0; i < w->st->nitems; i++)
            if (eng_item_visible_at(w, (int)i, p->location) && w->st->items[i].takeable) {
                n++;
                took |= take_one(p, (int)i, 1) == DONE_TIME;
            }
        if (!n) {
            eng_out_p(p, "There is nothing here to take.");
            return DONE_NOTIME;
        }
        if (took)
            eng_tell_room(w, p->location, p, "%s picks up some things.", p->name);
        return took ? DONE_TIME : DONE_NOTIME;
    }
    int it;
    if (eng_resolve_item(p, args, SC_ITEMS, "You can't take %s.", &it))
        return DONE_NOTIME;
    return take_one(p, it, 0);
}

static int
drop_one(tale_player_t *p, int i, int quiet)
{
    tale_world_t *w = p->w;
    const eng_item_t *it = &w->st->items[i];
    eng_item_state_t *its = &w->items[i];
    int g = eng_gate(p, i, ON_DROP, 0, -1);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    its->place = (eng_place_t){PLACE_LOC, p->location};
    its->worn = its->wielded = 0;
    if (!eng_replaced(p, i, ON_DROP, g))
        eng_out_p(p, "You drop the %s.", it->name);
    if (g == GATE_FIRE)
        eng_fire(p, i, ON_DROP);
    if (!quiet)
        eng_tell_room(w, p->location, p, "%s drops the %s.", p->name, it->name);
    return DONE_TIME;
}

static int
cmd_drop(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    if (!eng_need_args(p, args, "Drop what?"))
        return DONE_NOTIME;
    if (strcmp(args, "all") == 0 || strcmp(args, "everything") == 0) {
        int n = 0;
        for (size_t i = 0; i < w->st->nitems; i++)
            if (eng_item_held_by(w, (int)i, p->slot))
                n += drop_one(p, (int)i, 1) == DONE_TIME;
        if (!n) {
            eng_out_p(p, "You have nothing to drop.");
            return DONE_NOTIME;
        }
        eng_tell_room(w, p->location, p, "%s drops some things.", p->name);
        return DONE_TIME;
    }
    int it;
    if (eng_resolve_item(p, args, SC_ITEMS, "You can't drop %s.", &it))
        return DONE_NOTIME;
    if (!eng_carried(p, it)) {
        eng_out_p(p, "You aren't carrying the %s.", w->st->items[it].name);
        return DONE_NOTIME;
    }
    return drop_one(p, it, 0);
}

static int
cmd_put(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    const char *rest;
    if (eng_starts_word(args, "on", &rest))
        return eng_cmd_wear(p, v, rest);
    if (eng_starts_word(args, "down", &rest))
        return cmd_drop(p, v, rest);
    static const char *const in[] = {"in", "into", "inside", NULL};
    char left[512], right[512];
    if (!eng_split2(args, in, left, right, sizeof left) || !*right) {
        eng_out_p(p, "Put what in what? <dim>For example:</dim> put the coin in the box");
        return DONE_NOTIME;
    }
    int x, y;
    if (eng_resolve_item(p, left, SC_ITEMS, "You can't put %s anywhere.", &x) ||
        eng_resolve_item(p, right, SC_ITEMS, "You can't put things in %s.", &y))
        return DONE_NOTIME;
    const eng_item_t *ix = &w->st->items[x], *iy = &w->st->items[y];
    eng_item_state_t *ixs = &w->items[x], *iys = &w->items[y];
    if (!iy->container) {
        eng_out_p(p, "You can't put things in the %s.", iy->name);
        return DONE_NOTIME;
    }
    if (x == y) {
        eng_out_p(p, "You can't put the %s inside itself.", ix->name);
        return DONE_NOTIME;
    }
    for (eng_place_t pl = iys->place; pl.kind == PLACE_ITEM; pl = w->items[pl.idx].place)
        if (pl.idx == x) {
            eng_out_p(p, "The %s is inside the %s already.", iy->name, ix->name);
            return DONE_NOTIME;
        }
    if (iys->closed) {
        eng_out_p(p, "The %s is closed.", iy->name);
        return DONE_NOTIME;
    }
    if (!eng_carried(p, x) && !ix->takeable) {
        eng_out_p(p, "You can't move the %s.", ix->name);
        return DONE_NOTIME;
    }
    int g = eng_gate(p, y, ON_PUT, THING_ITEM, x);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    ixs->place = (eng_place_t){PLACE_ITEM, y};
    ixs->worn = ixs->wielded = 0;
    if (!eng_replaced(p, y, ON_PUT, g))
        eng_out_p(p, "You put the %s in the %s.", ix->name, iy->name);
    if (g == GATE_FIRE)
        eng_fire(p, y, ON_PUT);
    return DONE_TIME;
}

static int
cmd_give(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    static const char *const to[] = {"to", NULL};
    char left[512], right[512];
    if (!eng_split2(args, to, left, right, sizeof left) || !*right) {
        eng_out_p(p, "Give what to whom? <dim>For example:</dim> give the apple to the keeper");
        return DONE_NOTIME;
    }
    int x;
    eng_thing_t who;
    if (eng_resolve_item(p, left, SC_ITEMS, "You can't give %s away.", &x))
        return DONE_NOTIME;
    if (!eng_carried(p, x)) {
        eng_out_p(p, "You aren't carrying the %s.", w->st->items[x].name);
        return DONE_NOTIME;
    }
    if (eng_resolve(p, right, SC_NPC | SC_PLAYER | SC_ITEMS | SC_SELF, &who))
        return DONE_NOTIME;
    const eng_item_t *it = &w->st->items[x];
    eng_item_state_t *its = &w->items[x];
    if (who.kind == THING_PLAYER) {
        tale_player_t *o = w->players[who.idx];
        its->place = (eng_place_t){PLACE_PLAYER, o->slot};
        its->worn = its->wielded = 0;
        eng_out_p(p, "You give the %s to %s.", it->name, o->name);
        eng_out_p(o, "%s gives you the %s.", p->name, it->name);
        eng_player_flush(o);
        return DONE_TIME;
    }
    if (who.kind != THING_NPC) {
        eng_out_p(p, "You can't give anything to %s.", who.kind == THING_SELF ? "yourself" : eng_thing_name(p, who));
        return DONE_NOTIME;
    }
    const eng_npc_t *n = &w->st->npcs[who.idx];
    for (size_t a = 0; a < n->naccepts; a++) {
        eng_accept_t *ac = &n->accepts[a];
        if (ac->item != x || (ac->requires >= 0 && !w->flags[ac->requires]))
            continue;
        eng_out_p(p, "You give the %s to %s.", it->name, n->name);
        eng_npc_say(p, who.idx, ac->reply);
        eng_flags_apply(w, &ac->set, &ac->clear);
        if (ac->keep) {
            its->place = (eng_place_t){PLACE_NPC, who.idx};
            its->worn = its->wielded = 0;
        } else {
            eng_out_p(p, "%s hands the %s back to you.", n->name, it->name);
        }
        if (ac->gives >= 0) {
            w->items[ac->gives].place = (eng_place_t){PLACE_PLAYER, p->slot};
            eng_out_p(p, "%s gives you the %s.", n->name, w->st->items[ac->gives].name);
        }
        eng_tell_room(w, p->location, p, "%s gives the %s to %s.", p->name, it->name, n->name);
        return DONE_TIME;
    }
    if (n->refuses)
        eng_npc_say(p, who.idx, n->refuses);
    else
        eng_out_p(p, "%s doesn't want the %s.", n->name, it->name);
    return DONE_NOTIME;
}

const eng_verb_t eng_verbs_handle[] = {
    {.name = "take",
     .aliases = {"get", "pick", "grab", NULL},
     .fn = cmd_take,
     .scope = SC_HERE,
     .syntax = "take <thing> | take all",
     .help = "Picks something up. 'take all' takes everything here."},
    {.name = "drop",
     .aliases = {"discard", NULL},
     .fn = cmd_drop,
     .scope = SC_HELD,
     .syntax = "drop <thing> | drop all",
     .help = "Puts down something you carry."},
    {.name = "put",
     .aliases = {"place", "insert", NULL},
     .fn = cmd_put,
     .scope = SC_ITEMS,
     .syntax = "put <thing> in <container>",
     .help = "Puts something into a container."},
    {.name = "give",
     .aliases = {"offer", "hand", NULL},
     .fn = cmd_give,
     .scope = SC_HELD | SC_NPC | SC_PLAYER,
     .syntax = "give <thing> to <someone>",
     .help = "Gives something you carry to someone."},
    {0},
};
