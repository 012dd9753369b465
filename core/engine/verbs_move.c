/*
 * verbs_move.c - the moving verbs: go (and a bare direction, through the parser), enter, leave.
 * Each file owns its rows of the verb table (verbs.c lists the families).
 */
#include "verbs.h"

#include <string.h>

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
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%%s goes %s.", eng_dir_names[dir]);
    eng_room_news(p, 0, fmt);
    eng_player_move(p, x->target);
    eng_describe_location(p, !(p->brief && p->visited[p->location]));
    p->visited[p->location] = 1;
    eng_meet_npcs(p);
    eng_room_news(p, 1, "%s arrives.");
    return DONE_TIME;
}

static int
cmd_go(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    const char *rest;
    if (eng_starts_word(args, "to", &rest))
        args = rest;
    if (!eng_need_args(p, args, "Go where? Name a direction, like north or up."))
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

const eng_verb_t eng_verbs_move[] = {
    {.name = "go",
     .aliases = {"walk", "run", "move", NULL},
     .fn = cmd_go,
     .complete_dirs = 1,
     .syntax = "go <direction> | <direction>",
     .help =
         "Moves you: north south east west northeast northwest southeast southwest up down in out, or n s e w ne nw se sw u d."},
    {.name = "enter", .fn = cmd_enter, .syntax = "enter", .help = "Goes in."},
    {.name = "leave", .fn = cmd_enter, .syntax = "leave", .help = "Goes out."},
    {0},
};
