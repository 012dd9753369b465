/*
 * story.h - the story as loaded (story.c): locations, exits and doors, items,
 * NPCs, flags' names, the goal.  Immutable once tale_story_load returns (but
 * for its cache of rendered text, below), so any number of worlds may share
 * one (each world's changing state is in world.h); a world holds a reference
 * (tale_story_ref / tale_story_free).
 *
 * Story strings point into the YAML document, which the story keeps alive for
 * its whole life: no copies, and every later error can still name a node.
 * The *_state_t structs are what a save holds; the story keeps their first
 * value (`init`), the world the current one.
 */
#ifndef TALE_ENGINE_STORY_H
#define TALE_ENGINE_STORY_H

#include "engine.h"
#include "yaml_doc.h"

/* ---- directions ---- */
enum { DIR_N, DIR_S, DIR_E, DIR_W, DIR_NE, DIR_NW, DIR_SE, DIR_SW, DIR_U, DIR_D, DIR_IN, DIR_OUT, DIR__N };
extern const char *const eng_dir_names[DIR__N];
/* -1 when word is not a direction or an abbreviation of one. */
int eng_dir_parse(const char *word);

/* ---- story model ---- */
typedef struct eng_flaglist {
    int *v;
    size_t n;
} eng_flaglist_t;

typedef struct eng_reaction {
    const char *text, *otherwise;
    int replace, once;
    int requires; /* flag index or -1 */
    eng_flaglist_t set, clear;
    int gives, reveals;  /* item index or -1 */
    int item;            /* put: which item; -1 any */
    int with_kind, with; /* use: THING_ITEM / THING_NPC and index, or -1 */
} eng_reaction_t;

/* the kinds of thing a noun can mean (a reaction's `with`, eng_thing_t) */
enum { THING_NONE, THING_ITEM, THING_NPC, THING_DOOR, THING_PLAYER, THING_SELF };

enum { ON_TAKE, ON_DROP, ON_READ, ON_EAT, ON_DRINK, ON_WEAR, ON_WIELD, ON_OPEN, ON_EXAMINE, ON_PUT, ON_USE, ON__N };

enum { DOOR_OPEN, DOOR_CLOSED, DOOR_LOCKED };

typedef struct eng_door {
    const char *name;
    const char **aliases;
    size_t naliases;
    int init; /* DOOR_* as the story begins; the world holds the state */
    int key;  /* item index or -1 */
} eng_door_t;

typedef struct eng_exit {
    int dir, target;
    const char *description;
    int has_door;
    eng_door_t door;
    int door_slot;           /* has_door: this side's index in tale_world.doors */
    int twin_loc, twin_exit; /* the same door seen from the other side, or -1 */
    int requires;            /* flag or -1 */
    const char *blocked;
    int hidden;
} eng_exit_t;

typedef struct eng_location {
    const char *id, *title, *description, *image;
    int dark;
    eng_exit_t *exits;
    size_t nexits;
} eng_location_t;

enum { PLACE_NOWHERE, PLACE_LOC, PLACE_ITEM, PLACE_NPC, PLACE_PLAYER };
typedef struct eng_place {
    int kind, idx;
} eng_place_t;

/* What a save holds of an item; the story holds its first value. */
typedef struct eng_item_state {
    eng_place_t place;
    int closed, locked, lit, worn, wielded;
    unsigned fired; /* bit per ON_* reaction that fired (for `once`) */
} eng_item_state_t;

typedef struct eng_item {
    const char *id, *name, *description, *text;
    const char **aliases;
    size_t naliases;
    int takeable, fixed, container, wearable, wieldable, edible, drinkable, light, is_key;
    int key; /* unlocks this container; -1 */
    eng_reaction_t *on[ON__N];
    eng_item_state_t init; /* as the story begins */
} eng_item_t;

typedef struct eng_topic {
    const char **about;
    size_t nabout;
    const char *answer;
    int requires;
    eng_flaglist_t set, clear;
} eng_topic_t;

typedef struct eng_accept {
    int item;
    const char *reply;
    eng_flaglist_t set, clear;
    int gives, keep, requires;
} eng_accept_t;

/* What a save holds of an NPC; the story holds its first value. */
typedef struct eng_npc_state {
    int location;
    size_t route_pos, emote_pos;
} eng_npc_state_t;

typedef struct eng_npc {
    const char *id, *name, *title, *description, *image, *greeting, *unknown_topic, *refuses;
    const char **aliases;
    size_t naliases;
    eng_topic_t *topics;
    size_t ntopics;
    eng_accept_t *accepts;
    size_t naccepts;
    int wander_every, *route;
    size_t nroute;
    int emote_every;
    const char **emotes;
    size_t nemotes;
    eng_npc_state_t init; /* as the story begins */
} eng_npc_t;

enum { GOAL_NONE, GOAL_FLAG, GOAL_ITEM };

struct tale_story {
    int refs; /* the loader's reference and one per world (one loop: no atomics) */
    tale_yaml_t y;
    char *dir;
    tale_story_meta_t meta;
    const char *license, *welcome, *motd;
    const char *player_name, *player_description;
    int start;
    int clock_start, per_tick, per_turn; /* minutes */
    eng_location_t *locs;
    size_t nlocs;
    size_t ndoors; /* door sides, numbered by eng_exit_t.door_slot */
    eng_item_t *items;
    size_t nitems;
    eng_npc_t *npcs;
    size_t nnpcs;
    char **flag_names;
    size_t nflags;
    int goal_kind, goal_flag, goal_item;
    eng_place_t goal_at;
    const char *ending;
    /* The one part that changes after loading: story text's HTML, rendered at
     * its first showing in any world and shared by every world after (text.c,
     * eng_out_story).  Filled on the one loop, so no lock. */
    struct eng_story_html *html;
    size_t html_cap, html_n, html_bytes;
};

/* The index of a flag by name, -1 when the story has none of that name. */
int eng_flag_index(const tale_story_t *st, const char *name);

#endif
