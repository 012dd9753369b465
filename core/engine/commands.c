/*
 * commands.c - what each verb does, and the verb table (names, aliases,
 * completion scope, help).  A command returns DONE_TIME when it took game
 * time (the turn counter moves), DONE_NOTIME when it only informed or failed.
 */
#include "parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const eng_verb_t verbs[];
static int cmd_remove(tale_player_t *p, const eng_verb_t *v, const char *args);

/* ------------------------------------------------------------- helpers */

/* Split "X <sep> Y" at the first of the separator words; 1 when found. */
static int
split2(const char *args, const char *const *seps, char *left, char *right, size_t cap)
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

static int
starts_word(const char *s, const char *w, const char **rest)
{
    size_t l = strlen(w);
    if (strncmp(s, w, l) == 0 && (s[l] == ' ' || s[l] == 0)) {
        *rest = s[l] ? s + l + 1 : s + l;
        return 1;
    }
    return 0;
}

static void
set_door(tale_world_t *w, int loc, int e, int state)
{
    const eng_exit_t *x = &w->st->locs[loc].exits[e];
    w->doors[x->door_slot] = state;
    if (x->twin_loc >= 0)
        w->doors[w->st->locs[x->twin_loc].exits[x->twin_exit].door_slot] = state;
}

static void
speech_room(tale_world_t *w, int loc, const tale_player_t *except, const char *who, const char *verb, const char *text)
{
    for (size_t i = 0; i < w->nplayers_cap; i++) {
        tale_player_t *o = w->players[i];
        if (!o || o == except || (loc >= 0 && o->location != loc))
            continue;
        eng_out_speech(o, who, verb, text, 0);
        eng_player_flush(o);
    }
}

/* Gate and fire the story's reaction to verb `which` on an item. */
enum { GATE_SKIP, GATE_FIRE, GATE_BLOCK };

static int
gate(tale_player_t *p, int item, int which, int other_kind, int other)
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

static void
fire(tale_player_t *p, int item, int which)
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

static int
replaced(const tale_player_t *p, int item, int which, int g)
{
    return g == GATE_FIRE && p->w->st->items[item].on[which]->replace;
}

/* Resolve to an item; anything else gets `notitem` ("You can't take %s."). */
static int
resolve_item(tale_player_t *p, const char *phrase, int scope, const char *notitem, int *item)
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
static int
carried(const tale_player_t *p, int item)
{
    const tale_world_t *w = p->w;
    eng_place_t pl = w->items[item].place;
    for (int hops = 0; pl.kind == PLACE_ITEM && hops < (int)w->st->nitems; hops++)
        pl = w->items[pl.idx].place;
    return pl.kind == PLACE_PLAYER && pl.idx == p->slot;
}

static int
need_args(tale_player_t *p, const char *args, const char *question)
{
    if (*args)
        return 1;
    eng_out_p(p, "%s", question);
    return 0;
}

/* --------------------------------------------------------------- looking */

static int cmd_examine(tale_player_t *p, const eng_verb_t *v, const char *args);

static void
show_contents(tale_player_t *p, int c)
{
    tale_world_t *w = p->w;
    eng_sbuf_t b = {0};
    int n = 0;
    for (size_t i = 0; i < w->st->nitems; i++)
        if (w->items[i].place.kind == PLACE_ITEM && w->items[i].place.idx == c) {
            if (n++)
                eng_sb_adds(&b, ", ");
            eng_sb_adds(&b, eng_article(w->st->items[i].name));
            eng_sb_adds(&b, w->st->items[i].name);
        }
    if (n)
        eng_out_p(p, "In the %s you see: %s.", w->st->items[c].name, b.s);
    else
        eng_out_p(p, "The %s is empty.", w->st->items[c].name);
    eng_sb_free(&b);
}

static int
cmd_look(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *rest;
    if (!*args || strcmp(args, "around") == 0) {
        eng_describe_location(p, 1);
        eng_meet_npcs(p);
        return DONE_TIME;
    }
    if (starts_word(args, "in", &rest) || starts_word(args, "inside", &rest)) {
        int it;
        if (!need_args(p, rest, "Look in what?") || resolve_item(p, rest, SC_ITEMS, "You can't look inside %s.", &it))
            return DONE_NOTIME;
        if (!p->w->st->items[it].container) {
            eng_out_p(p, "You can't look inside the %s.", p->w->st->items[it].name);
            return DONE_NOTIME;
        }
        if (p->w->items[it].closed) {
            eng_out_p(p, "The %s is closed.", p->w->st->items[it].name);
            return DONE_NOTIME;
        }
        show_contents(p, it);
        return DONE_TIME;
    }
    if (starts_word(args, "at", &rest))
        args = rest;
    int d = eng_dir_parse(args);
    if (d >= 0) {
        /* "look north": what lies that way */
        tale_world_t *w = p->w;
        const eng_location_t *l = &w->st->locs[p->location];
        for (size_t e = 0; e < l->nexits; e++) {
            const eng_exit_t *x = &l->exits[e];
            if (x->dir != d || (x->hidden && x->requires >= 0 && !w->flags[x->requires]))
                continue;
            if (x->description)
                eng_out_story(p, x->description);
            else
                eng_out_p(p, "The way %s leads to %s.", eng_dir_names[d],
                          p->visited[x->target] ? w->st->locs[x->target].title : "somewhere you have not been");
            if (x->has_door)
                eng_out_p(p, "The %s is %s.", x->door.name,
                          w->doors[x->door_slot] == DOOR_OPEN     ? "open"
                          : w->doors[x->door_slot] == DOOR_CLOSED ? "closed"
                                                                  : "locked");
            return DONE_TIME;
        }
        eng_out_p(p, "There is no way %s from here.", eng_dir_names[d]);
        return DONE_NOTIME;
    }
    return cmd_examine(p, v, args);
}

static int
cmd_examine(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    eng_thing_t t;
    if (!need_args(p, args, "Examine what?") || eng_resolve(p, args, SC_ALL, &t))
        return DONE_NOTIME;
    switch (t.kind) {
    case THING_ITEM: {
        const eng_item_t *it = &w->st->items[t.idx];
        eng_item_state_t *its = &w->items[t.idx];
        int g = gate(p, t.idx, ON_EXAMINE, 0, -1);
        if (g == GATE_BLOCK)
            return DONE_NOTIME;
        if (!replaced(p, t.idx, ON_EXAMINE, g))
            eng_out_story(p, it->description);
        if (it->container) {
            if (its->closed)
                eng_out_p(p, "The %s is %s.", it->name, its->locked ? "locked" : "closed");
            else
                show_contents(p, t.idx);
        }
        if (it->text)
            eng_out_p(p, "<dim>There is something written on it.</dim>");
        if (it->light)
            eng_out_p(p, "<dim>It is %s.</dim>", its->lit ? "lit" : "not lit");
        if (its->worn)
            eng_out_p(p, "<dim>You are wearing it.</dim>");
        if (its->wielded)
            eng_out_p(p, "<dim>You are wielding it.</dim>");
        if (g == GATE_FIRE)
            fire(p, t.idx, ON_EXAMINE);
        break;
    }
    case THING_NPC: {
        eng_out_story(p, w->st->npcs[t.idx].description);
        eng_sbuf_t b = {0};
        int n = 0;
        for (size_t i = 0; i < w->st->nitems; i++)
            if (w->items[i].place.kind == PLACE_NPC && w->items[i].place.idx == t.idx) {
                if (n++)
                    eng_sb_adds(&b, ", ");
                eng_sb_adds(&b, eng_article(w->st->items[i].name));
                eng_sb_adds(&b, w->st->items[i].name);
            }
        if (n)
            eng_out_p(p, "%s is carrying %s.", w->st->npcs[t.idx].name, b.s);
        eng_sb_free(&b);
        break;
    }
    case THING_DOOR: {
        const eng_exit_t *x = &w->st->locs[t.idx].exits[t.idx2];
        int state = w->doors[x->door_slot];
        eng_out_p(p, "The %s leads %s. It is %s.", x->door.name, eng_dir_names[x->dir],
                  state == DOOR_OPEN     ? "open"
                  : state == DOOR_CLOSED ? "closed"
                                         : "locked");
        break;
    }
    case THING_PLAYER:
        eng_out_p(p, "You see %s, another traveller in this world.", eng_thing_name(p, t));
        break;
    case THING_SELF:
        if (w->st->player_description)
            eng_out_story(p, w->st->player_description);
        else
            eng_out_p(p, "You look as you always do.");
        break;
    }
    return DONE_TIME;
}

static int
cmd_inventory(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    eng_sbuf_t b = {0};
    int n = 0;
    for (size_t i = 0; i < w->st->nitems; i++)
        if (eng_item_held_by(w, (int)i, p->slot)) {
            const eng_item_t *it = &w->st->items[i];
            eng_item_state_t *its = &w->items[i];
            if (n++)
                eng_sb_adds(&b, ", ");
            eng_sb_adds(&b, eng_article(it->name));
            eng_sb_adds(&b, it->name);
            if (its->worn)
                eng_sb_adds(&b, " (worn)");
            if (its->wielded)
                eng_sb_adds(&b, " (wielded)");
            if (it->light && its->lit)
                eng_sb_adds(&b, " (lit)");
        }
    if (n)
        eng_out_p(p, "You are carrying: %s.", b.s);
    else
        eng_out_p(p, "You are empty-handed.");
    eng_sb_free(&b);
    return DONE_NOTIME;
}

static int
cmd_exits(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    eng_location_t *l = &w->st->locs[p->location];
    int n = 0;
    for (size_t e = 0; e < l->nexits; e++) {
        eng_exit_t *x = &l->exits[e];
        if (x->hidden && x->requires >= 0 && !w->flags[x->requires])
            continue;
        n++;
        const char *state = !x->has_door                            ? ""
                            : w->doors[x->door_slot] == DOOR_OPEN   ? " (open)"
                            : w->doors[x->door_slot] == DOOR_CLOSED ? " (closed)"
                                                                    : " (locked)";
        if (x->description)
            eng_out_p(p, "<bright>%s</bright>: %S%s%s%s", eng_dir_names[x->dir], x->description, x->has_door ? " The " : "",
                      x->has_door ? x->door.name : "", state);
        else
            eng_out_p(p, "<bright>%s</bright>: to %s%s%s%s", eng_dir_names[x->dir],
                      p->visited[x->target] ? w->st->locs[x->target].title : "somewhere you have not been",
                      x->has_door ? ", the " : "", x->has_door ? x->door.name : "", state);
    }
    if (!n)
        eng_out_p(p, "There is no way out.");
    return DONE_NOTIME;
}

/* ---------------------------------------------------------------- moving */

int
eng_cmd_go_dir(tale_player_t *p, int dir)
{
    tale_world_t *w = p->w;
    eng_location_t *l = &w->st->locs[p->location];
    eng_exit_t *x = NULL;
    for (size_t e = 0; e < l->nexits; e++)
        if (l->exits[e].dir == dir)
            x = &l->exits[e];
    if (!x || (x->hidden && x->requires >= 0 && !w->flags[x->requires])) {
        eng_out_p(p, "You can't go %s from here.", eng_dir_names[dir]);
        return DONE_NOTIME;
    }
    if (x->requires >= 0 && !w->flags[x->requires]) {
        if (x->blocked)
            eng_out_story(p, x->blocked);
        else
            eng_out_p(p, "You can't go that way yet.");
        return DONE_NOTIME;
    }
    if (x->has_door && w->doors[x->door_slot] != DOOR_OPEN) {
        eng_out_p(p, "The %s is %s.", x->door.name, w->doors[x->door_slot] == DOOR_LOCKED ? "locked" : "closed");
        return DONE_NOTIME;
    }
    eng_tell_room(w, p->location, p, "%s goes %s.", p->name, eng_dir_names[dir]);
    p->location = x->target;
    eng_describe_location(p, !(p->brief && p->visited[p->location]));
    p->visited[p->location] = 1;
    eng_meet_npcs(p);
    eng_tell_room(w, p->location, p, "%s arrives.", p->name);
    return DONE_TIME;
}

static int
cmd_go(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *rest;
    if (starts_word(args, "to", &rest))
        args = rest;
    if (!need_args(p, args, "Go where? Name a direction, like north or up."))
        return DONE_NOTIME;
    int d = eng_dir_parse(args);
    if (d < 0) {
        eng_out_p(
            p,
            "'%s' is not a direction. Try north, south, east, west, northeast, northwest, southeast, southwest, up, down, in or "
            "out.",
            args);
        return DONE_NOTIME;
    }
    return eng_cmd_go_dir(p, d);
}

static int
cmd_enter(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return eng_cmd_go_dir(p, v->name[0] == 'e' ? DIR_IN : DIR_OUT);
}

/* -------------------------------------------------------------- handling */

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
    int g = gate(p, i, ON_TAKE, 0, -1);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    its->place = (eng_place_t){PLACE_PLAYER, p->slot};
    if (!replaced(p, i, ON_TAKE, g))
        eng_out_p(p, "You take the %s.", it->name);
    if (g == GATE_FIRE)
        fire(p, i, ON_TAKE);
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
    if (starts_word(args, "up", &rest))
        args = rest;
    if (starts_word(args, "off", &rest)) {
        return cmd_remove(p, v, rest);
    }
    if (!need_args(p, args, "Take what?"))
        return DONE_NOTIME;
    if (split2(args, from, left, right, sizeof left))
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
    if (resolve_item(p, args, SC_ITEMS, "You can't take %s.", &it))
        return DONE_NOTIME;
    return take_one(p, it, 0);
}

static int
drop_one(tale_player_t *p, int i, int quiet)
{
    tale_world_t *w = p->w;
    const eng_item_t *it = &w->st->items[i];
    eng_item_state_t *its = &w->items[i];
    int g = gate(p, i, ON_DROP, 0, -1);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    its->place = (eng_place_t){PLACE_LOC, p->location};
    its->worn = its->wielded = 0;
    if (!replaced(p, i, ON_DROP, g))
        eng_out_p(p, "You drop the %s.", it->name);
    if (g == GATE_FIRE)
        fire(p, i, ON_DROP);
    if (!quiet)
        eng_tell_room(w, p->location, p, "%s drops the %s.", p->name, it->name);
    return DONE_TIME;
}

static int
cmd_drop(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    if (!need_args(p, args, "Drop what?"))
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
    if (resolve_item(p, args, SC_ITEMS, "You can't drop %s.", &it))
        return DONE_NOTIME;
    if (!carried(p, it)) {
        eng_out_p(p, "You aren't carrying the %s.", w->st->items[it].name);
        return DONE_NOTIME;
    }
    return drop_one(p, it, 0);
}

static int cmd_wear(tale_player_t *p, const eng_verb_t *v, const char *args);

static int
cmd_put(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    const char *rest;
    if (starts_word(args, "on", &rest))
        return cmd_wear(p, v, rest);
    if (starts_word(args, "down", &rest))
        return cmd_drop(p, v, rest);
    static const char *const in[] = {"in", "into", "inside", NULL};
    char left[512], right[512];
    if (!split2(args, in, left, right, sizeof left) || !*right) {
        eng_out_p(p, "Put what in what? <dim>For example:</dim> put the coin in the box");
        return DONE_NOTIME;
    }
    int x, y;
    if (resolve_item(p, left, SC_ITEMS, "You can't put %s anywhere.", &x) ||
        resolve_item(p, right, SC_ITEMS, "You can't put things in %s.", &y))
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
    if (!carried(p, x) && !ix->takeable) {
        eng_out_p(p, "You can't move the %s.", ix->name);
        return DONE_NOTIME;
    }
    int g = gate(p, y, ON_PUT, THING_ITEM, x);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    ixs->place = (eng_place_t){PLACE_ITEM, y};
    ixs->worn = ixs->wielded = 0;
    if (!replaced(p, y, ON_PUT, g))
        eng_out_p(p, "You put the %s in the %s.", ix->name, iy->name);
    if (g == GATE_FIRE)
        fire(p, y, ON_PUT);
    return DONE_TIME;
}

static void
npc_say(tale_player_t *p, int npc, const char *text)
{
    eng_out_speech(p, p->w->st->npcs[npc].name, "says", text, 1);
}

static int
cmd_give(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    static const char *const to[] = {"to", NULL};
    char left[512], right[512];
    if (!split2(args, to, left, right, sizeof left) || !*right) {
        eng_out_p(p, "Give what to whom? <dim>For example:</dim> give the apple to the keeper");
        return DONE_NOTIME;
    }
    int x;
    eng_thing_t who;
    if (resolve_item(p, left, SC_ITEMS, "You can't give %s away.", &x))
        return DONE_NOTIME;
    if (!carried(p, x)) {
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
        npc_say(p, who.idx, ac->reply);
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
        npc_say(p, who.idx, n->refuses);
    else
        eng_out_p(p, "%s doesn't want the %s.", n->name, it->name);
    return DONE_NOTIME;
}

/* ------------------------------------------------------- doors and boxes */

enum { OP_OPEN, OP_CLOSE, OP_LOCK, OP_UNLOCK };

static int
doorlike(tale_player_t *p, const char *args, int op)
{
    tale_world_t *w = p->w;
    static const char *const with[] = {"with", "using", NULL};
    static const char *const what[] = {"Open what?", "Close what?", "Lock what?", "Unlock what?"};
    char left[512], right[512] = "";
    if (!need_args(p, args, what[op]))
        return DONE_NOTIME;
    if (split2(args, with, left, right, sizeof left))
        args = left;
    eng_thing_t t;
    if (eng_resolve(p, args, SC_DOOR | SC_ITEMS | SC_NPC | SC_SELF | SC_PLAYER, &t))
        return DONE_NOTIME;
    int *state_door = NULL, key = -1;
    const char *name = eng_thing_name(p, t);
    eng_item_state_t *box = NULL;
    if (t.kind == THING_DOOR) {
        const eng_exit_t *x = &w->st->locs[t.idx].exits[t.idx2];
        state_door = &w->doors[x->door_slot];
        key = x->door.key;
    } else if (t.kind == THING_ITEM && w->st->items[t.idx].container) {
        box = &w->items[t.idx];
        key = w->st->items[t.idx].key;
    } else {
        static const char *const cant[] = {"You can't open %s.", "You can't close %s.", "You can't lock %s.",
                                           "You can't unlock %s."};
        eng_out_p(p, cant[op], t.kind == THING_SELF ? "yourself" : t.kind == THING_ITEM ? w->st->items[t.idx].name : name);
        return DONE_NOTIME;
    }
    int state = state_door ? *state_door : box->locked ? DOOR_LOCKED : box->closed ? DOOR_CLOSED : DOOR_OPEN;
    int newstate = state;
    int k = -1;
    switch (op) {
    case OP_OPEN:
        if (state == DOOR_OPEN) {
            eng_out_p(p, "The %s is already open.", name);
            return DONE_NOTIME;
        }
        if (state == DOOR_LOCKED) {
            eng_out_p(p, "The %s is locked.", name);
            return DONE_NOTIME;
        }
        newstate = DOOR_OPEN;
        break;
    case OP_CLOSE:
        if (state != DOOR_OPEN) {
            eng_out_p(p, "The %s is already closed.", name);
            return DONE_NOTIME;
        }
        newstate = DOOR_CLOSED;
        break;
    case OP_LOCK:
    case OP_UNLOCK:
        if (key < 0) {
            eng_out_p(p, "The %s has no lock.", name);
            return DONE_NOTIME;
        }
        if (op == OP_UNLOCK && state != DOOR_LOCKED) {
            eng_out_p(p, "The %s isn't locked.", name);
            return DONE_NOTIME;
        }
        if (op == OP_LOCK && state == DOOR_LOCKED) {
            eng_out_p(p, "The %s is already locked.", name);
            return DONE_NOTIME;
        }
        if (op == OP_LOCK && state == DOOR_OPEN) {
            eng_out_p(p, "You need to close the %s first.", name);
            return DONE_NOTIME;
        }
        if (*right) {
            if (resolve_item(p, right, SC_HELD, "You can't use %s as a key.", &k))
                return DONE_NOTIME;
            if (k != key) {
                eng_out_p(p, "The %s doesn't fit the %s.", w->st->items[k].name, name);
                return DONE_NOTIME;
            }
        }
        if (!carried(p, key)) {
            eng_out_p(p, "You don't have the key to the %s.", name);
            return DONE_NOTIME;
        }
        newstate = op == OP_LOCK ? DOOR_LOCKED : DOOR_CLOSED;
        break;
    }
    int g = GATE_SKIP;
    if (box && op == OP_OPEN && (g = gate(p, t.idx, ON_OPEN, 0, -1)) == GATE_BLOCK)
        return DONE_NOTIME;
    if (state_door)
        set_door(w, t.idx, t.idx2, newstate);
    else {
        box->locked = newstate == DOOR_LOCKED;
        box->closed = newstate != DOOR_OPEN;
    }
    static const char *const done[] = {"You open the %s.", "You close the %s.", "You lock the %s with the %s.",
                                       "You unlock the %s with the %s."};
    if (!(box && replaced(p, t.idx, ON_OPEN, g)))
        eng_out_p(p, done[op], name, w->st->items[key >= 0 ? key : 0].name);
    if (box && op == OP_OPEN)
        show_contents(p, t.idx);
    if (g == GATE_FIRE)
        fire(p, t.idx, ON_OPEN);
    static const char *const seen[] = {"%s opens the %s.", "%s closes the %s.", "%s locks the %s.", "%s unlocks the %s."};
    eng_tell_room(w, p->location, p, seen[op], p->name, name);
    return DONE_TIME;
}

static int
cmd_open(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return doorlike(p, args, OP_OPEN);
}
static int
cmd_close(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return doorlike(p, args, OP_CLOSE);
}
static int
cmd_lock(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return doorlike(p, args, OP_LOCK);
}
static int
cmd_unlock(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return doorlike(p, args, OP_UNLOCK);
}

/* ------------------------------------------------------- using things */

static int
cmd_read(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    int i;
    if (!need_args(p, args, "Read what?") || resolve_item(p, args, SC_ITEMS, "You can't read %s.", &i))
        return DONE_NOTIME;
    const eng_item_t *it = &p->w->st->items[i];
    if (!it->text) {
        eng_out_p(p, "There is nothing written on the %s.", it->name);
        return DONE_NOTIME;
    }
    if (!eng_player_can_see(p)) {
        eng_out_p(p, "It is too dark to read.");
        return DONE_NOTIME;
    }
    int g = gate(p, i, ON_READ, 0, -1);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    if (!replaced(p, i, ON_READ, g)) {
        eng_out_p(p, "The %s reads:", it->name);
        eng_out_story(p, it->text);
    }
    if (g == GATE_FIRE)
        fire(p, i, ON_READ);
    return DONE_TIME;
}

/* wear / wield / eat / drink share their shape */
static int
use_held(tale_player_t *p, const char *args, int which)
{
    tale_world_t *w = p->w;
    static const char *const q[] = {
        [ON_WEAR] = "Wear what?", [ON_WIELD] = "Wield what?", [ON_EAT] = "Eat what?", [ON_DRINK] = "Drink what?"};
    static const char *const cant[] = {[ON_WEAR] = "You can't wear %s.",
                                       [ON_WIELD] = "You can't wield %s.",
                                       [ON_EAT] = "You can't eat %s.",
                                       [ON_DRINK] = "You can't drink %s."};
    int i;
    if (!need_args(p, args, q[which]) || resolve_item(p, args, SC_ITEMS, cant[which], &i))
        return DONE_NOTIME;
    const eng_item_t *it = &w->st->items[i];
    eng_item_state_t *its = &w->items[i];
    int able = which == ON_WEAR ? it->wearable : which == ON_WIELD ? it->wieldable : which == ON_EAT ? it->edible : it->drinkable;
    if (!able) {
        eng_out_p(p, cant[which], "that");
        return DONE_NOTIME;
    }
    if ((which == ON_WEAR && its->worn) || (which == ON_WIELD && its->wielded)) {
        eng_out_p(p, which == ON_WEAR ? "You are already wearing the %s." : "You are already wielding the %s.", it->name);
        return DONE_NOTIME;
    }
    if (!carried(p, i)) {
        if (!it->takeable || which == ON_WEAR || which == ON_WIELD) {
            eng_out_p(p, "You aren't carrying the %s.", it->name);
            return DONE_NOTIME;
        }
    }
    int g = gate(p, i, which, 0, -1);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    const char *msg = NULL;
    switch (which) {
    case ON_WEAR:
        its->worn = 1;
        msg = "You are now wearing the %s.";
        break;
    case ON_WIELD:
        for (size_t j = 0; j < w->st->nitems; j++)
            if (eng_item_held_by(w, (int)j, p->slot))
                w->items[j].wielded = 0;
        its->wielded = 1;
        msg = "You are now wielding the %s.";
        break;
    case ON_EAT:
    case ON_DRINK:
        its->place = (eng_place_t){PLACE_NOWHERE, 0};
        msg = which == ON_EAT ? "You eat the %s." : "You drink the %s.";
        break;
    }
    if (!replaced(p, i, which, g))
        eng_out_p(p, msg, it->name);
    if (g == GATE_FIRE)
        fire(p, i, which);
    return DONE_TIME;
}

static int
cmd_wear(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return use_held(p, args, ON_WEAR);
}
static int
cmd_wield(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return use_held(p, args, ON_WIELD);
}
static int
cmd_eat(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return use_held(p, args, ON_EAT);
}
static int
cmd_drink(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return use_held(p, args, ON_DRINK);
}

static int
unuse(tale_player_t *p, const char *args, int wield)
{
    int i;
    if (!need_args(p, args, wield ? "Unwield what?" : "Remove what?") ||
        resolve_item(p, args, SC_HELD, "You aren't wearing %s.", &i))
        return DONE_NOTIME;
    const eng_item_t *it = &p->w->st->items[i];
    eng_item_state_t *its = &p->w->items[i];
    if (wield ? !its->wielded : !its->worn) {
        eng_out_p(p, wield ? "You aren't wielding the %s." : "You aren't wearing the %s.", it->name);
        return DONE_NOTIME;
    }
    if (wield)
        its->wielded = 0;
    else
        its->worn = 0;
    eng_out_p(p, wield ? "You stop wielding the %s." : "You take off the %s.", it->name);
    return DONE_TIME;
}

static int
cmd_remove(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return unuse(p, args, 0);
}
static int
cmd_unwield(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return unuse(p, args, 1);
}

static int
cmd_use(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    static const char *const on[] = {"on", "with", "in", NULL};
    char left[512], right[512] = "";
    if (!need_args(p, args, "Use what?"))
        return DONE_NOTIME;
    if (split2(args, on, left, right, sizeof left))
        args = left;
    int x;
    eng_thing_t y = {THING_NONE, -1, 0};
    if (resolve_item(p, args, SC_ITEMS, "You can't use %s.", &x))
        return DONE_NOTIME;
    if (*right && eng_resolve(p, right, SC_ITEMS | SC_NPC | SC_DOOR, &y))
        return DONE_NOTIME;
    int g = gate(p, x, ON_USE, y.kind, y.idx), target = x;
    if (g == GATE_SKIP && y.kind == THING_ITEM && (g = gate(p, y.idx, ON_USE, THING_ITEM, x)) != GATE_SKIP)
        target = y.idx; /* "use key on box" may be written on either item */
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    if (g == GATE_SKIP) {
        if (y.kind != THING_NONE)
            eng_out_p(p, "Using the %s on %s does nothing.", w->st->items[x].name, eng_thing_name(p, y));
        else
            eng_out_p(p, "You can't think of a way to use the %s.", w->st->items[x].name);
        return DONE_NOTIME;
    }
    fire(p, target, ON_USE);
    return DONE_TIME;
}

static int
light_op(tale_player_t *p, const char *args, int on)
{
    int i;
    if (!need_args(p, args, on ? "Light what?" : "Put out what?") ||
        resolve_item(p, args, SC_ITEMS, on ? "You can't light %s." : "You can't put out %s.", &i))
        return DONE_NOTIME;
    const eng_item_t *it = &p->w->st->items[i];
    eng_item_state_t *its = &p->w->items[i];
    if (!it->light) {
        eng_out_p(p, on ? "You can't light the %s." : "The %s isn't burning.", it->name);
        return DONE_NOTIME;
    }
    if (its->lit == on) {
        eng_out_p(p, on ? "The %s is already lit." : "The %s isn't lit.", it->name);
        return DONE_NOTIME;
    }
    its->lit = on;
    eng_out_p(p, on ? "You light the %s." : "You put out the %s.", it->name);
    if (!on && !eng_player_can_see(p))
        eng_out_p(p, "It is now pitch dark.");
    return DONE_TIME;
}

static int
cmd_light(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return light_op(p, args, 1);
}

static int
cmd_extinguish(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    return light_op(p, args, 0);
}

/* -------------------------------------------------------------- talking */

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

static void
npc_answer(tale_player_t *p, int npc, const char *subject_in)
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
            npc_say(p, npc, tp->answer);
            eng_flags_apply(w, &tp->set, &tp->clear);
            return;
        }
    }
    static const char *const hello[] = {"hello", "hi", "greetings", "hey", "good morning", "good evening", NULL};
    for (int h = 0; hello[h]; h++)
        if (strcmp(clean, hello[h]) == 0 && n->greeting) {
            npc_say(p, npc, n->greeting);
            return;
        }
    if (n->unknown_topic)
        npc_say(p, npc, n->unknown_topic);
    else
        eng_out_p(p, "%s shrugs.", n->name);
}

/* Quietly: does phrase name exactly one NPC here or player (anywhere if any)? */
static int
quiet_who(tale_player_t *p, const char *phrase, int anyplayer, eng_thing_t *out)
{
    /* eng_resolve() prints; keep its words out of the output when this is only a probe */
    size_t mark = p->out.len;
    int pend = p->pending;
    int r = eng_resolve(p, phrase, SC_NPC | (anyplayer ? SC_ANYPLAYER : SC_PLAYER), out);
    p->out.len = mark;
    if (p->out.s)
        p->out.s[mark] = 0;
    if (r == RES_ASKED)
        p->pending = pend;
    return r == RES_OK;
}

static int
cmd_say(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    const char *raw = eng_raw_after_words(p, 1);
    if (!*raw) {
        eng_out_p(p, "Say what?");
        return DONE_NOTIME;
    }
    /* "say hello to maren": the last " to X" that names someone here */
    char text[1200];
    snprintf(text, sizeof text, "%s", raw);
    eng_thing_t who = {THING_NONE, 0, 0};
    for (char *s = text + strlen(text); s > text; s--) {
        if (strncasecmp(s, " to ", 4) == 0 && quiet_who(p, s + 4, 0, &who)) {
            *s = 0;
            break;
        }
    }
    eng_out_speech(p, "You", "say", text, 0);
    speech_room(w, p->location, p, p->name, "says", text);
    if (who.kind == THING_NPC)
        npc_answer(p, who.idx, text);
    return DONE_TIME;
}

static int
cmd_tell(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    /* the addressee is the first one to three words that name someone */
    char words[512];
    snprintf(words, sizeof words, "%s", args);
    eng_thing_t who;
    int nw = 0;
    char *cut = NULL;
    /* longest first: "tell tester 2 psst" is for Tester 2, not Tester */
    for (int k = 3; k >= 1 && !nw; k--) {
        char *s = words;
        for (int i = 0; i < k && s; i++)
            s = strchr(s + (i ? 1 : 0), ' ');
        if (!s && k > 1)
            continue; /* fewer than k+1 words: no text would be left */
        if (s)
            *s = 0;
        int ok = quiet_who(p, words, 1, &who);
        if (s)
            *s = ' ';
        if (ok) {
            nw = k;
            cut = s;
        }
    }
    if (!nw) {
        eng_out_p(p, "Tell whom? <dim>For example:</dim> tell maren hello");
        return DONE_NOTIME;
    }
    const char *text = eng_raw_after_words(p, 1 + nw);
    if (!*text || !cut) {
        eng_out_p(p, "Tell %s what?", eng_thing_name(p, who));
        return DONE_NOTIME;
    }
    if (who.kind == THING_NPC) {
        eng_out_speech(p, "You", "say", text, 0);
        const char *rest;
        npc_answer(p, who.idx, starts_word(cut + 1, "about", &rest) ? eng_raw_after_words(p, 2 + nw) : text);
        return DONE_TIME;
    }
    tale_player_t *o = w->players[who.idx];
    char who_to[96];
    snprintf(who_to, sizeof who_to, "You tell %s", o->name);
    eng_out_speech(p, who_to, "", text, 0);
    eng_out_speech(o, p->name, "tells you", text, 0);
    eng_player_flush(o);
    return DONE_NOTIME;
}

static int
cmd_ask(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    static const char *const about[] = {"about", "for", NULL};
    char left[512], right[512] = "";
    if (!need_args(p, args, "Ask whom? <dim>For example:</dim> ask the keeper about the lamp"))
        return DONE_NOTIME;
    if (!split2(args, about, left, right, sizeof left))
        snprintf(left, sizeof left, "%s", args);
    eng_thing_t who;
    if (eng_resolve(p, left, SC_NPC | SC_PLAYER | SC_ITEMS | SC_SELF | SC_DOOR, &who))
        return DONE_NOTIME;
    if (who.kind == THING_PLAYER) {
        eng_out_p(p, "Ask %s yourself: <dim>tell %s …</dim>", eng_thing_name(p, who), eng_thing_name(p, who));
        return DONE_NOTIME;
    }
    if (who.kind != THING_NPC) {
        eng_out_p(p, "%s can't answer questions.", who.kind == THING_SELF ? "You" : eng_thing_name(p, who));
        return DONE_NOTIME;
    }
    const eng_npc_t *n = &p->w->st->npcs[who.idx];
    if (!*right) {
        if (n->greeting)
            npc_say(p, who.idx, n->greeting);
        else
            eng_out_p(p, "%s looks at you, waiting for a question. <dim>ask %s about …</dim>", n->name, n->name);
        return DONE_TIME;
    }
    npc_answer(p, who.idx, right);
    return DONE_TIME;
}

static int
cmd_talk(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *rest;
    if (starts_word(args, "to", &rest) || starts_word(args, "with", &rest))
        args = rest;
    if (!need_args(p, args, "Talk to whom?"))
        return DONE_NOTIME;
    /* "talk to maren" is "ask maren"; "talk to maren about x" is "ask maren about x" */
    return cmd_ask(p, v, args);
}

static int
cmd_again(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    /* handled in the parser, which knows the previous line; this only runs
     * when there is none */
    eng_out_p(p, "There is nothing to repeat yet.");
    return DONE_NOTIME;
}

static int
cmd_emote(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *raw = eng_raw_after_words(p, 1);
    if (!*raw) {
        eng_out_p(p, "Emote what? <dim>For example:</dim> emote waves");
        return DONE_NOTIME;
    }
    eng_out_p(p, "%s %s", p->name, raw);
    eng_tell_room(p->w, p->location, p, "%s %s", p->name, raw);
    return DONE_TIME;
}

static int
cmd_yell(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *raw = eng_raw_after_words(p, 1);
    if (!*raw) {
        eng_out_p(p, "You yell wordlessly. Nobody seems impressed.");
        return DONE_TIME;
    }
    eng_out_speech(p, "You", "yell", raw, 0);
    speech_room(p->w, -1, p, p->name, "yells", raw);
    return DONE_TIME;
}

static int
cmd_wait(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    eng_out_p(p, "Time passes.");
    return DONE_TIME;
}

static int
cmd_who(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    eng_out_p(p, "Players in this world:");
    for (size_t i = 0; i < w->nplayers_cap; i++) {
        tale_player_t *o = w->players[i];
        if (!o)
            continue;
        if (o == p)
            eng_out_p(p, "%s <dim>(you)</dim>", o->name);
        else
            eng_out_p(p, "%s <dim>(%s)</dim>", o->name, w->st->locs[o->location].title);
    }
    return DONE_NOTIME;
}

/* --------------------------------------------------------------- meta */

static int
cmd_help(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    if (*args) {
        const eng_verb_t *h = eng_find_verb(args);
        if (!h && eng_dir_parse(args) >= 0)
            h = eng_find_verb("go");
        if (!h) {
            eng_out_p(p, "There is no command '%s'. <dim>Type</dim> help <dim>for the list.</dim>", args);
            return DONE_NOTIME;
        }
        eng_out_p(p, "<bright>%s</bright>", h->syntax);
        eng_out_p(p, "%s", h->help);
        eng_sbuf_t b = {0};
        for (int i = 0; h->aliases[i]; i++) {
            if (i)
                eng_sb_adds(&b, ", ");
            eng_sb_adds(&b, h->aliases[i]);
        }
        if (b.len)
            eng_out_p(p, "<dim>Also:</dim> %s", b.s);
        eng_sb_free(&b);
        return DONE_NOTIME;
    }
    eng_sbuf_t b = {0};
    for (int i = 0; verbs[i].name; i++) {
        if (i)
            eng_sb_adds(&b, ", ");
        eng_sb_adds(&b, verbs[i].name);
    }
    eng_out_p(p, "<bright>Commands:</bright> %s", b.s);
    eng_out_p(p, "Directions: north south east west northeast northwest southeast southwest up down in out "
                 "<dim>(or n s e w ne nw se sw u d)</dim>. <dim>Type</dim> help <it>command</it> <dim>for more.</dim>");
    eng_sb_free(&b);
    return DONE_NOTIME;
}

static int
cmd_motd(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    if (p->w->st->motd)
        eng_out_story(p, p->w->st->motd);
    else
        eng_out_p(p, "There is no message of the day.");
    return DONE_NOTIME;
}

static int
cmd_license(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    tale_world_t *w = p->w;
    eng_out_p(p, "<bright>%s</bright> %s by %s", w->st->meta.name, w->st->meta.version, w->st->meta.author);
    if (w->st->license)
        eng_out_story(p, w->st->license);
    else
        eng_out_p(p, "The story has no license text.");
    return DONE_NOTIME;
}

static int
cmd_time(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    long c = eng_clock_now(p->w);
    char hm[16];
    snprintf(hm, sizeof hm, "%02ld:%02ld", (c % 1440) / 60, c % 60);
    eng_out_p(p, "It is %s on day %ld. <dim>Turns taken: %ld.</dim>", hm, c / 1440 + 1, p->turns);
    return DONE_NOTIME;
}

static int
cmd_brief(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    if (strcmp(args, "off") == 0)
        p->brief = 0;
    else if (strcmp(args, "on") == 0 || !*args)
        p->brief = !*args ? !p->brief : 1;
    else {
        eng_out_p(p, "brief on, brief off, or brief to switch.");
        return DONE_NOTIME;
    }
    eng_out_p(p, p->brief ? "Brief mode is on: places you have seen are shown by name only (look shows all)."
                          : "Brief mode is off: every place is described in full.");
    return DONE_NOTIME;
}

static int
cmd_map(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    json_t *f = eng_map_frame(p);
    int n = 0;
    for (size_t i = 0; i < p->w->st->nlocs; i++)
        n += p->visited[i];
    p->emit(p->ctx, f);
    eng_out_p(p, "You sketch a map of the %d %s you have visited.", n, n == 1 ? "place" : "places");
    return DONE_NOTIME;
}

/* Saving and restoring a shared (MUD) world is nobody's to do: one player's
 * save would overwrite everyone's, and a load would move everyone.  Saves per
 * character arrive with player accounts (issue #15). */
static int
refuse_shared(tale_player_t *p)
{
    if (!p->w->shared)
        return 0;
    eng_out_p(p, "Saving and restoring are not available here: this world is shared by every player. "
                 "(Saves of your own character will come with player accounts.)");
    return 1;
}

/* save: with the host's writer, serialise here and let the writer put the
 * bytes on disk off the loop ("Game saved." follows when they are); without
 * one (engine tests, tools), write at once. */
static int
cmd_save(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    char err[512];
    if (refuse_shared(p))
        return DONE_NOTIME;
    if (!p->w->save_dir) {
        eng_out_p(p, "Saving is not available in this game.");
        return DONE_NOTIME;
    }
    uint64_t ticket = 0;
    int rc = tale_world_checkpoint(p->w, &ticket, err, sizeof err);
    if (rc < 0)
        eng_out_p(p, "Saving failed: %s", err);
    else if (rc == 0)
        eng_out_p(p, "Game saved.");
    else
        p->save_wait = ticket; /* told by tale_world_save_done */
    return DONE_NOTIME;
}

static int
cmd_load(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    char err[512];
    if (refuse_shared(p))
        return DONE_NOTIME;
    if (!p->w->save_dir) {
        eng_out_p(p, "Saving is not available in this game.");
        return DONE_NOTIME;
    }
    /* a restore moves everyone: only a player alone in the world may do it */
    for (size_t i = 0; i < p->w->nplayers_cap; i++)
        if (p->w->players[i] && p->w->players[i] != p) {
            eng_out_p(p, "You can't restore a game while other players are in the world.");
            return DONE_NOTIME;
        }
    if (tale_world_restore(p->w, NULL, err, sizeof err) < 0) {
        eng_out_p(p, "Could not restore: %s", err);
        return DONE_NOTIME;
    }
    eng_out_p(p, "Game restored.");
    eng_describe_location(p, 1);
    return DONE_NOTIME;
}

static int
cmd_quit(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    eng_out_p(p, "Goodbye, %s. Thanks for playing.", p->name);
    return DONE_QUIT;
}

static int
cmd_cls(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    eng_out_special(p, "clear");
    /* the echoed command is pointless on a screen about to be cleared */
    p->out.len = 0;
    if (p->out.s)
        p->out.s[0] = 0;
    return DONE_NOTIME;
}

static int
cmd_teststyles(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    eng_out_p(p, "Text styles:");
    eng_out_p(p, "<location>location</location> <bright>bright</bright> <dim>dim</dim> <ul>underlined</ul> <it>italic</it> "
                 "<rev>reverse</rev> <monospaced>monospaced</monospaced>");
    eng_out_p(p, "Escaped: %s", "<b>not bold</b> & <script>alert(1)</script>");
    eng_out_speech(p, "Someone", "says", "This is how speech looks.", 0);
    eng_out_raw(p, "<pre>preformatted\n  text</pre>\n");
    return DONE_NOTIME;
}

/* ----------------------------------------------------------- the table */

static const eng_verb_t verbs[] = {
    {"look",
     {"l", NULL},
     cmd_look,
     SC_ALL,
     0,
     "look [at <thing>] | look in <container>",
     "Describes where you are, or looks at something."},
    {"examine",
     {"x", "inspect", "check", NULL},
     cmd_examine,
     SC_ALL,
     0,
     "examine <thing>",
     "Looks closely at something or someone."},
    {"inventory", {"i", "inv", NULL}, cmd_inventory, 0, 0, "inventory", "Lists what you are carrying."},
    {"take",
     {"get", "pick", "grab", NULL},
     cmd_take,
     SC_HERE,
     0,
     "take <thing> | take all",
     "Picks something up. 'take all' takes everything here."},
    {"drop", {"discard", NULL}, cmd_drop, SC_HELD, 0, "drop <thing> | drop all", "Puts down something you carry."},
    {"put", {"place", "insert", NULL}, cmd_put, SC_ITEMS, 0, "put <thing> in <container>", "Puts something into a container."},
    {"give",
     {"offer", "hand", NULL},
     cmd_give,
     SC_HELD | SC_NPC | SC_PLAYER,
     0,
     "give <thing> to <someone>",
     "Gives something you carry to someone."},
    {"open", {NULL}, cmd_open, SC_DOOR | SC_ITEMS, 0, "open <door or container>", "Opens a door or a container."},
    {"close", {"shut", NULL}, cmd_close, SC_DOOR | SC_ITEMS, 0, "close <door or container>", "Closes a door or a container."},
    {"lock", {NULL}, cmd_lock, SC_DOOR | SC_ITEMS, 0, "lock <door> [with <key>]", "Locks a door or container; you need its key."},
    {"unlock",
     {NULL},
     cmd_unlock,
     SC_DOOR | SC_ITEMS,
     0,
     "unlock <door> [with <key>]",
     "Unlocks a door or container; you need its key."},
    {"go",
     {"walk", "run", "move", NULL},
     cmd_go,
     0,
     1,
     "go <direction> | <direction>",
     "Moves you: north south east west northeast northwest southeast southwest up down in out, or n s e w ne nw se sw u d."},
    {"enter", {NULL}, cmd_enter, 0, 0, "enter", "Goes in."},
    {"leave", {NULL}, cmd_enter, 0, 0, "leave", "Goes out."},
    {"exits", {NULL}, cmd_exits, 0, 0, "exits", "Lists the ways out of this place."},
    {"say", {"'", NULL}, cmd_say, 0, 0, "say <text> [to <someone>]", "Says something aloud; everyone here hears it."},
    {"tell",
     {"whisper", NULL},
     cmd_tell,
     SC_NPC | SC_PLAYER,
     0,
     "tell <someone> <text>",
     "Says something to one person (another player anywhere, or someone here)."},
    {"ask", {"question", NULL}, cmd_ask, SC_NPC, 0, "ask <someone> about <subject>", "Asks someone here about something."},
    {"emote",
     {"me", NULL},
     cmd_emote,
     0,
     0,
     "emote <action>",
     "Shows an action to everyone here: 'emote waves' shows 'Visitor waves'."},
    {"yell", {"shout", "scream", NULL}, cmd_yell, 0, 0, "yell <text>", "Shouts so that every player hears it."},
    {"talk",
     {"speak", "greet", NULL},
     cmd_talk,
     SC_NPC,
     0,
     "talk to <someone> [about <subject>]",
     "Starts a conversation with someone here."},
    {"light", {"ignite", NULL}, cmd_light, SC_ITEMS, 0, "light <thing>", "Lights a lamp, a candle or another light."},
    {"extinguish", {"douse", "snuff", NULL}, cmd_extinguish, SC_ITEMS, 0, "extinguish <thing>", "Puts out a light."},
    {"wait", {"z", NULL}, cmd_wait, 0, 0, "wait", "Lets time pass."},
    {"again", {"g", NULL}, cmd_again, 0, 0, "again", "Repeats your last command."},
    {"who", {NULL}, cmd_who, 0, 0, "who", "Lists the players in this world."},
    {"help", {"?", "commands", NULL}, cmd_help, 0, 0, "help [command]", "Lists the commands, or explains one."},
    {"motd", {NULL}, cmd_motd, 0, 0, "motd", "Shows the message of the day."},
    {"license", {"licence", "credits", NULL}, cmd_license, 0, 0, "license", "Shows the story's author and license."},
    {"time", {"clock", NULL}, cmd_time, 0, 0, "time", "Shows the game time and your turn count."},
    {"brief", {"verbose", NULL}, cmd_brief, 0, 0, "brief [on|off]", "Short descriptions of places you have already seen."},
    {"read", {NULL}, cmd_read, SC_ITEMS, 0, "read <thing>", "Reads what is written on something."},
    {"wear", {"don", NULL}, cmd_wear, SC_HELD, 0, "wear <thing>", "Puts on something you carry."},
    {"remove", {"doff", NULL}, cmd_remove, SC_HELD, 0, "remove <thing>", "Takes off something you wear."},
    {"wield", {NULL}, cmd_wield, SC_HELD, 0, "wield <thing>", "Holds something ready to use."},
    {"unwield", {NULL}, cmd_unwield, SC_HELD, 0, "unwield <thing>", "Stops wielding something."},
    {"eat", {NULL}, cmd_eat, SC_ITEMS, 0, "eat <thing>", "Eats something."},
    {"drink", {"sip", NULL}, cmd_drink, SC_ITEMS, 0, "drink <thing>", "Drinks something."},
    {"use", {NULL}, cmd_use, SC_ITEMS, 0, "use <thing> [on <thing>]", "Uses something, on its own or with something else."},
    {"map", {NULL}, cmd_map, 0, 0, "map", "Draws a map of the places you have visited."},
    {"save", {NULL}, cmd_save, 0, 0, "save", "Saves the game."},
    {"load", {"restore", NULL}, cmd_load, 0, 0, "load", "Restores the saved game."},
    {"quit", {"q", NULL}, cmd_quit, 0, 0, "quit", "Ends the game."},
    {"@cls", {NULL}, cmd_cls, 0, 0, "@cls", "Clears the screen."},
    {"@teststyles", {NULL}, cmd_teststyles, 0, 0, "@teststyles", "Shows every text style."},
    {NULL},
};

const eng_verb_t *
eng_find_verb(const char *word)
{
    for (int i = 0; verbs[i].name; i++) {
        if (strcmp(verbs[i].name, word) == 0)
            return &verbs[i];
        for (int a = 0; verbs[i].aliases[a]; a++)
            if (strcmp(verbs[i].aliases[a], word) == 0)
                return &verbs[i];
    }
    return NULL;
}

size_t
eng_verb_names(const char **out, size_t cap)
{
    size_t n = 0;
    for (int i = 0; verbs[i].name && n < cap; i++)
        out[n++] = verbs[i].name;
    return n;
}
