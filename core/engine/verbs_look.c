/*
 * verbs_look.c - the looking verbs: look, examine, inventory, exits, and the contents of a container (shown by open too).
 * Each file owns its rows of the verb table (verbs.c lists the families).
 */
#include "verbs.h"

#include <string.h>

static int cmd_examine(tale_player_t *p, const eng_verb_t *v, const char *args);

void
eng_show_contents(tale_player_t *p, int c)
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
    if (eng_starts_word(args, "in", &rest) || eng_starts_word(args, "inside", &rest)) {
        int it;
        if (!eng_need_args(p, rest, "Look in what?") || eng_resolve_item(p, rest, SC_ITEMS, "You can't look inside %s.", &it))
            return DONE_NOTIME;
        if (!p->w->st->items[it].container) {
            eng_out_p(p, "You can't look inside the %s.", p->w->st->items[it].name);
            return DONE_NOTIME;
        }
        if (p->w->items[it].closed) {
            eng_out_p(p, "The %s is closed.", p->w->st->items[it].name);
            return DONE_NOTIME;
        }
        eng_show_contents(p, it);
        return DONE_TIME;
    }
    if (eng_starts_word(args, "at", &rest))
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
    if (!eng_need_args(p, args, "Examine what?") || eng_resolve(p, args, SC_ALL, &t))
        return DONE_NOTIME;
    switch (t.kind) {
    case THING_ITEM: {
        const eng_item_t *it = &w->st->items[t.idx];
        eng_item_state_t *its = &w->items[t.idx];
        int g = eng_gate(p, t.idx, ON_EXAMINE, 0, -1);
        if (g == GATE_BLOCK)
            return DONE_NOTIME;
        if (!eng_replaced(p, t.idx, ON_EXAMINE, g))
            eng_out_story(p, it->description);
        if (it->container) {
            if (its->closed)
                eng_out_p(p, "The %s is %s.", it->name, its->locked ? "locked" : "closed");
            else
                eng_show_contents(p, t.idx);
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
            eng_fire(p, t.idx, ON_EXAMINE);
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

const eng_verb_t eng_verbs_look[] = {
    {.name = "look",
     .aliases = {"l", NULL},
     .fn = cmd_look,
     .scope = SC_ALL,
     .syntax = "look [at <thing>] | look in <container>",
     .help = "Describes where you are, or looks at something."},
    {.name = "examine",
     .aliases = {"x", "inspect", "check", NULL},
     .fn = cmd_examine,
     .scope = SC_ALL,
     .syntax = "examine <thing>",
     .help = "Looks closely at something or someone."},
    {.name = "inventory",
     .aliases = {"i", "inv", NULL},
     .fn = cmd_inventory,
     .syntax = "inventory",
     .help = "Lists what you are carrying."},
    {.name = "exits", .fn = cmd_exits, .syntax = "exits", .help = "Lists the ways out of this place."},
    {0},
};
