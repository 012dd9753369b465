/*
 * verbs_use.c - using things: read, wear, remove, wield, unwield, eat, drink, use, light, extinguish.
 * Each file owns its rows of the verb table (verbs.c lists the families).
 */
#include "verbs.h"

#include <string.h>

static int
cmd_read(tale_player_t *p, const eng_verb_t *v, const char *args)
{
    int i;
    if (!eng_need_args(p, args, "Read what?") || eng_resolve_item(p, args, SC_ITEMS, "You can't read %s.", &i))
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
    int g = eng_gate(p, i, ON_READ, 0, -1);
    if (g == GATE_BLOCK)
        return DONE_NOTIME;
    if (!eng_replaced(p, i, ON_READ, g)) {
        eng_out_p(p, "The %s reads:", it->name);
        eng_out_story(p, it->text);
    }
    if (g == GATE_FIRE)
        eng_fire(p, i, ON_READ);
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
    if (!eng_need_args(p, args, q[which]) || eng_resolve_item(p, args, SC_ITEMS, cant[which], &i))
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
    if (!eng_carried(p, i)) {
        if (!it->takeable || which == ON_WEAR || which == ON_WIELD) {
            eng_out_p(p, "You aren't carrying the %s.", it->name);
            return DONE_NOTIME;
        }
    }
    int g = eng_gate(p, i, which, 0, -1);
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
    if (!eng_replaced(p, i, which, g))
        eng_out_p(p, msg, it->name);
    if (g == GATE_FIRE)
        eng_fire(p, i, which);
    return DONE_TIME;
}

int
eng_cmd_wear(tale_player_t *p, const eng_verb_t *v, const char *args)
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
    if (!eng_need_args(p, args, wield ? "Unwield what?" : "Remove what?") ||
        eng_resolve_item(p, args, SC_HELD, "You aren't wearing %s.", &i))
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

int
eng_cmd_remove(tale_player_t *p, const eng_verb_t *v, const char *args)
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
    if (!eng_need_args(p, args, "Use what?"))
        return DONE_NOTIME;
    if (eng_split2(args, on, left, right, sizeof left))
        args = left;
    int x;
    eng_thing_t y = {THING_NONE, -1, 0};
    if (eng_resolve_item(p, args, SC_ITEMS, "You can't use %s.", &x))
        return DONE_NOTIME;
    if (*right && eng_resolve(p, right, SC_ITEMS | SC_NPC | SC_DOOR, &y))
        return DONE_NOTIME;
    int g = eng_gate(p, x, ON_USE, y.kind, y.idx), target = x;
    if (g == GATE_SKIP && y.kind == THING_ITEM && (g = eng_gate(p, y.idx, ON_USE, THING_ITEM, x)) != GATE_SKIP)
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
    eng_fire(p, target, ON_USE);
    return DONE_TIME;
}

static int
light_op(tale_player_t *p, const char *args, int on)
{
    int i;
    if (!eng_need_args(p, args, on ? "Light what?" : "Put out what?") ||
        eng_resolve_item(p, args, SC_ITEMS, on ? "You can't light %s." : "You can't put out %s.", &i))
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

const eng_verb_t eng_verbs_use[] = {
    {.name = "light",
     .aliases = {"ignite", NULL},
     .fn = cmd_light,
     .scope = SC_ITEMS,
     .syntax = "light <thing>",
     .help = "Lights a lamp, a candle or another light."},
    {.name = "extinguish",
     .aliases = {"douse", "snuff", NULL},
     .fn = cmd_extinguish,
     .scope = SC_ITEMS,
     .syntax = "extinguish <thing>",
     .help = "Puts out a light."},
    {.name = "read", .fn = cmd_read, .scope = SC_ITEMS, .syntax = "read <thing>", .help = "Reads what is written on something."},
    {.name = "wear",
     .aliases = {"don", NULL},
     .fn = eng_cmd_wear,
     .scope = SC_HELD,
     .syntax = "wear <thing>",
     .help = "Puts on something you carry."},
    {.name = "remove",
     .aliases = {"doff", NULL},
     .fn = eng_cmd_remove,
     .scope = SC_HELD,
     .syntax = "remove <thing>",
     .help = "Takes off something you wear."},
    {.name = "wield", .fn = cmd_wield, .scope = SC_HELD, .syntax = "wield <thing>", .help = "Holds something ready to use."},
    {.name = "unwield", .fn = cmd_unwield, .scope = SC_HELD, .syntax = "unwield <thing>", .help = "Stops wielding something."},
    {.name = "eat", .fn = cmd_eat, .scope = SC_ITEMS, .syntax = "eat <thing>", .help = "Eats something."},
    {.name = "drink",
     .aliases = {"sip", NULL},
     .fn = cmd_drink,
     .scope = SC_ITEMS,
     .syntax = "drink <thing>",
     .help = "Drinks something."},
    {.name = "use",
     .fn = cmd_use,
     .scope = SC_ITEMS,
     .syntax = "use <thing> [on <thing>]",
     .help = "Uses something, on its own or with something else."},
    {0},
};
