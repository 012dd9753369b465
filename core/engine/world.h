/*
 * world.h - the engine's shared internal header: a world's changing state
 * over its story (story.h), its players, and the questions every part asks
 * (what can a player see, what is in reach).  world.c owns what it declares
 * unless a section names another file.
 */
#ifndef TALE_ENGINE_WORLD_H
#define TALE_ENGINE_WORLD_H

#include "story.h"
#include "text.h"
#include "tale/alloc.h"

#include <stdio.h>

/* ---- things a noun can mean (THING_* in story.h) ---- */
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
    tale_story_t *st; /* read-only here; the world holds a reference */
    char *save_dir;
    int shared;                /* MUD: players may not save or load the shared world */
    tale_save_writer_t writer; /* the host's off-loop writer; zeroed: write synchronously */
    uint64_t save_ticket;      /* last ticket handed to writer.submit */
    size_t max_input;
    /* the changing state: what a save holds */
    eng_item_state_t *items; /* per st->items */
    eng_npc_state_t *npcs;   /* per st->npcs */
    int *doors;              /* DOOR_* per door side (eng_exit_t.door_slot) */
    unsigned char *flags;    /* per st->flag_names */
    long clock;              /* game minutes since midnight of day 0 */
    long ticks;
    int won;
    tale_player_t **players;
    size_t nplayers_cap;
    json_t *pending_players; /* restored before anyone joined: applied on join */
    tale_broadcast_fn broadcast; /* the host's hook for one frame to many players; NULL: a copy each */
    void *broadcast_ctx;
    /* out_story's HTML, rendered once per story text (text.c) */
    struct eng_story_html *story_html;
    size_t story_html_cap, story_html_n, story_html_bytes;
};

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
/* One frame to the `n` players in `to` (the world's broadcast hook, or a
 * copy to each player's emit); takes the reference to `frame`. */
void eng_broadcast(tale_world_t *w, tale_player_t *const *to, size_t n, json_t *frame);
void eng_check_goal(tale_player_t *p);
void eng_meet_npcs(tale_player_t *p);
long eng_clock_now(const tale_world_t *w);

/* parser.c */
/* Replace every byte that does not start a valid UTF-8 sequence with '?'. */
void eng_fix_utf8n(char *s, size_t len);
int eng_parser_run(tale_player_t *p, const char *line);
/* Completions of prefix, a NUL-terminated copy the caller owns: it is
 * repaired in place (UTF-8, invisible controls). */
json_t *eng_parser_complete(tale_player_t *p, char *prefix);

/* save.c */
void eng_player_apply_pending(tale_player_t *p);

#endif
