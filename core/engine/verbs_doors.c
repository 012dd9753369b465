/*
 * verbs_doors.c - doors and boxes: open, close, lock, unlock (both sides of a door move together).
 * Each file owns its rows of the verb table (verbs.c lists the families).
 */
#include "verbs.h"

#include <string.h>

static void
set_door(tale_world_t *w, int loc, int e, int state)
{
    const eng_exit_t *x = &w->st->locs[loc].exits[e];
    w->doors[x->door_slot] = state;
    if (x->twin_loc >= 0)
        w->doors[w->st->locs[x->twin_loc].exits[x->twin_exit].door_slot] = state;
}

enum { OP_OPEN, OP_CLOSE, OP_LOCK, OP_UNLOCK };

static int
doorlike(tale_player_t *p, const char *args, int op)
{
    tale_world_t *w = p->w;
    static const char *const with[] = {"with", "using", NULL};
    static const char *const what[] = {"Open what?", "Close what?", "Lock what?", "Unlock what?"};
    char left[512], right[512] = "";
    if (!eng_need_args(p, args, what[op]))
        return DONE_NOTIME;
    if (eng_split2(args, with, left, right, sizeof left))
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
            if (eng_resolve_item(p, right, SC_HELD, "You can't use %s as a key.", &k))
                return DONE_NOTIME;
            if (k != key) {
                eng_out_p(p, "The %s doesn't fit the %s.", w->st->items[k].name, name);
                return DONE_NOTIME;
            }
        }
        if (!eng_carried(p, key)) {
            eng_out_p(p, "You don't have the key to the %s.", name);
            return DONE_NOTIME;
        }
        newstate = op == OP_LOCK ? DOOR_LOCKED : DOOR_CLOSED;
        break;
    }
    int g = GATE_SKIP;
    if (box && op == OP_OPEN && (g = eng_gate(p, t.idx, ON_OPEN, 0, -1)) == GATE_BLOCK)
        return DONE_NOTIME;
    if (state_door)
        set_door(w, t.idx, t.idx2, newstate);
    else {
        box->locked = newstate == DOOR_LOCKED;
        box->closed = newstate != DOOR_OPEN;
    }
    static const char *const done[] = {"You open the %s.", "You close the %s.", "You lock the %s with the %s.",
                                       "You unlock the %s with the %s."};
    if (!(box && eng_replaced(p, t.idx, ON_OPEN, g)))
        eng_out_p(p, done[op], name, w->st->items[key >= 0 ? key : 0].name);
    if (box && op == OP_OPEN)
        eng_show_contents(p, t.idx);
    if (g == GATE_FIRE)
        eng_fire(p, t.idx, ON_OPEN);
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

const eng_verb_t eng_verbs_doors[] = {
    {.name = "open",
     .fn = cmd_open,
     .scope = SC_DOOR | SC_ITEMS,
     .syntax = "open <door or container>",
     .help = "Opens a door or a container."},
    {.name = "close",
     .aliases = {"shut", NULL},
     .fn = cmd_close,
     .scope = SC_DOOR | SC_ITEMS,
     .syntax = "close <door or container>",
     .help = "Closes a door or a container."},
    {.name = "lock",
     .fn = cmd_lock,
     .scope = SC_DOOR | SC_ITEMS,
     .syntax = "lock <door> [with <key>]",
     .help = "Locks a door or container; you need its key."},
    {.name = "unlock",
     .fn = cmd_unlock,
     .scope = SC_DOOR | SC_ITEMS,
     .syntax = "unlock <door> [with <key>]",
     .help = "Unlocks a door or container; you need its key."},
    {0},
};
