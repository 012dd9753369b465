/*
 * world.h - the engine's internal model: the story as loaded, the world's
 * changing state, players, and the helpers the engine's files share.
 *
 * Story strings point into the YAML document, which the world keeps alive for
 * its whole life: no copies, and every later error can still name a node.
 */
#ifndef TALE_ENGINE_WORLD_H
#define TALE_ENGINE_WORLD_H

#include "engine.h"
#include "yaml_doc.h"

#include <stdarg.h>
#include <stdio.h>

/* ---- growable string ---- */
typedef struct eng_sbuf {
    char *s;
    size_t len, cap;
} eng_sbuf_t;
void eng_sb_adds(eng_sbuf_t *b, const char *s);
void eng_sb_printf(eng_sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eng_sb_free(eng_sbuf_t *b);
/* Append s escaped for HTML/XML text and attributes. */
void eng_sb_escape(eng_sbuf_t *b, const char *s, size_t n);

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

enum { ON_TAKE, ON_DROP, ON_READ, ON_EAT, ON_DRINK, ON_WEAR, ON_WIELD, ON_OPEN, ON_EXAMINE, ON_PUT, ON_USE, ON__N };

enum { DOOR_OPEN, DOOR_CLOSED, DOOR_LOCKED };

typedef struct eng_door {
    const char *name;
    const char **aliases;
    size_t naliases;
    int state; /* state lives here: this is the world's changing state */
    int key;   /* item index or -1 */
} eng_door_t;

typedef struct eng_exit {
    int dir, target;
    const char *description;
    int has_door;
    eng_door_t door;
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

typedef struct eng_item {
    const char *id, *name, *description, *text;
    const char **aliases;
    size_t naliases;
    int takeable, fixed, container, wearable, wieldable, edible, drinkable, light, is_key;
    int key; /* unlocks this container; -1 */
    eng_reaction_t *on[ON__N];
    /* state */
    eng_place_t place;
    int closed, locked, lit, worn, wielded;
    unsigned fired; /* bit per ON_* reaction that fired (for `once`) */
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
    /* state */
    int location;
    size_t route_pos, emote_pos;
} eng_npc_t;

enum { GOAL_NONE, GOAL_FLAG, GOAL_ITEM };

/* ---- things a noun can mean ---- */
enum { THING_NONE, THING_ITEM, THING_NPC, THING_DOOR, THING_PLAYER, THING_SELF };
typedef struct eng_thing {
    int kind, idx, idx2; /* DOOR: idx = location, idx2 = exit */
} eng_thing_t;

#define PENDING_MAX 8
struct tale_player {
    tale_world_t *w;
    tale_emit_fn emit;
    void *ctx;
    int slot;
    char name[64];
    int location;
    long turns;
    unsigned char *visited, *met; /* per location / per npc */
    int brief, won;
    eng_thing_t it, it_before;
    /* the question "Which key: ...?" waiting for an answer */
    int pending;
    char *pending_before, *pending_after;
    eng_thing_t pending_cands[PENDING_MAX];
    int npending;
    /* output of the command being run */
    eng_sbuf_t out;
    json_t *special;
    char *cur_line;       /* the normalised command being run (for the question) */
    char *last_line;      /* the previous command as typed, for "again" */
    uint64_t save_wait;   /* the save ticket this player waits on; 0: none */
    const char *raw_line; /* the input as typed, trimmed (for say/emote) */
};

struct tale_world {
    tale_yaml_t y;
    char *dir;
    tale_story_meta_t meta;
    char *save_dir;
    int shared;                /* MUD: players may not save or load the shared world */
    tale_save_writer_t writer; /* the host's off-loop writer; zeroed: write synchronously */
    uint64_t save_ticket;      /* last ticket handed to writer.submit */
    size_t max_input;
    const char *license, *welcome, *motd;
    const char *player_name, *player_description;
    int start;
    int clock_start, per_tick, per_turn; /* minutes */
    eng_location_t *locs;
    size_t nlocs;
    eng_item_t *items;
    size_t nitems;
    eng_npc_t *npcs;
    size_t nnpcs;
    char **flag_names;
    size_t nflags;
    unsigned char *flags;
    int goal_kind, goal_flag, goal_item;
    eng_place_t goal_at;
    const char *ending;
    /* state */
    long clock; /* game minutes since midnight of day 0 */
    long ticks;
    int won;
    tale_player_t **players;
    size_t nplayers_cap;
    json_t *pending_players; /* restored before anyone joined: applied on join */
    /* out_story's HTML, rendered once per story text (text.c) */
    struct eng_story_html *story_html;
    size_t story_html_cap, story_html_n, story_html_bytes;
};

/* text.c */
void eng_story_html_free(tale_world_t *w);

/* story.c */
int eng_story_load(tale_world_t *w, const char *path, char *err, size_t errlen);
int eng_flag_index(const tale_world_t *w, const char *name);

/* text.c: rendering of story text and engine messages into a player's output */
void eng_out_story(tale_player_t *p, const char *text);
/* One paragraph.  fmt is engine text (style tags allowed); %s inserts raw
 * text (escaped, tags shown literally), %S story text (tags rendered), %d int,
 * %ld long. */
void eng_out_p(tale_player_t *p, const char *fmt, ...);
void eng_out_vp(tale_player_t *p, const char *fmt, va_list ap);
/* A line of speech: "<who> says: “text”" marked as speech.  story set: an
 * NPC speaking story text (tags rendered); else a player's words (escaped). */
void eng_out_speech(tale_player_t *p, const char *who, const char *verb, const char *text, int story);
void eng_out_raw(tale_player_t *p, const char *html);
void eng_out_special(tale_player_t *p, const char *special);
/* inline rendering: tags (if allow) to spans, the rest escaped */
void eng_render_inline(eng_sbuf_t *b, const char *s, size_t n, int allow_tags, tale_player_t *p);
/* Send the player's collected output as one text frame. */
void eng_player_flush(tale_player_t *p);
/* The same, with one more field (takes `value`). */
void eng_player_flush_with(tale_player_t *p, const char *key, json_t *value);

/* world.c */
const char *eng_article(const char *name);
int eng_player_can_see(const tale_player_t *p);
int eng_item_visible_at(const tale_world_t *w, int item, int loc);
int eng_item_held_by(const tale_world_t *w, int item, int slot);
int eng_item_in_scope(const tale_player_t *p, int item);
void eng_describe_location(tale_player_t *p, int full);
void eng_flags_apply(tale_world_t *w, const eng_flaglist_t *set, const eng_flaglist_t *clear);
/* Send one paragraph to every player at loc except `except` (each as its own frame). */
void eng_tell_room(tale_world_t *w, int loc, const tale_player_t *except, const char *fmt, ...);
void eng_check_goal(tale_player_t *p);
void eng_meet_npcs(tale_player_t *p);
long eng_clock_now(const tale_world_t *w);

/* parser.c */
/* Replace every byte that does not start a valid UTF-8 sequence with '?'. */
void eng_fix_utf8n(char *s, size_t len);
int eng_parser_run(tale_player_t *p, const char *line);
json_t *eng_parser_complete(tale_player_t *p, const char *prefix);

/* map.c */
json_t *eng_map_frame(tale_player_t *p);

/* save.c */
void eng_player_apply_pending(tale_player_t *p);

#endif
