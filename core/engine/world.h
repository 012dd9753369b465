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
    /* the room's occupants in arrival order (world.c keeps them: eng_player_move) */
    tale_player_t *room_prev, *room_next;
    uint64_t arrived;         /* w->arrivals when this player came into the room */
    tale_player_t *name_next; /* the name index's chain */
    uint64_t yell_ok_at;      /* eng_now_ms from which this player may yell again */
    uint64_t tell_ok_at;      /* eng_now_ms from which this player may tell again */
    unsigned tell_burst;      /* tells sent since tell_ok_at last lapsed */
    /* accounts (issue #15): named, joined or renamed by the host to an
     * account's character; guest, marked so by the host */
    int named, guest;
};

/*
 * Crowds (docs/PROTOCOL.md, "Crowds").  A game-design decision: the people
 * panel and a location's description name at most ENG_PEOPLE_SHOWN others (the
 * room's NPCs first, then the players who arrived most recently) and count the
 * rest, so no frame grows with the number of players.  A room with more than
 * ENG_CROWD occupants besides the one acting is crowded: its arrivals and
 * departures are summarised once per tick rather than told one by one.
 */
#define ENG_PEOPLE_SHOWN 12
#define ENG_CROWD 20
#define ENG_NEWS_NAMES 3 /* names a crowd's summary spells out per kind */

/* A crowded room's news waiting for the tick. */
typedef struct eng_room_batch {
    uint64_t news_since; /* occupants who arrived at or after this hear nothing of the batch */
    size_t narrive, nleave;
    char arrive[ENG_NEWS_NAMES][64], leave[ENG_NEWS_NAMES][64];
} eng_room_batch_t;

typedef struct eng_room {
    tale_player_t *head, *tail; /* oldest arrival first */
    size_t n;
    /* non-NULL while news waits for the tick: made by the first crowded news
     * and freed by the tick, so the rooms of a world that never holds a crowd
     * (an IF instance: one of a thousand) stay a few words each */
    eng_room_batch_t *batch;
} eng_room_t;

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
    tale_player_t **players; /* by slot */
    size_t nplayers_cap;
    size_t nplayers;
    int *seat_tree;        /* Fenwick tree over slots (1-based): occupied counts; finds free slots and the k-th player */
    tale_player_t **names; /* the name index: chains by hash of the lowercased name, names_cap buckets */
    size_t names_cap;
    eng_room_t *rooms; /* per st->locs */
    int *news;         /* dirty rooms, flushed by the tick */
    size_t nnews, news_cap;
    uint64_t arrivals;       /* counts every arrival anywhere (eng_room_batch_t.news_since) */
    tale_player_t **scratch; /* a room's recipients, reused */
    size_t scratch_cap;
    /* time for rate limits: the host's monotonic clock (tale_world_set_now) */
    uint64_t now_ms;
    int now_set;
    /* the world's yell budget (verbs_talk.c): a token bucket counted in ms of refill */
    uint64_t yell_credit_ms, yell_refill_at;
    int yell_primed;
    json_t *pending_players;     /* restored before anyone joined: applied on join */
    tale_broadcast_fn broadcast; /* the host's hook for one frame to many players; NULL: a copy each */
    void *broadcast_ctx;
};

/* world.c */
const char *eng_article(const char *name);
int eng_player_can_see(const tale_player_t *p);
/* Where an item ultimately is, following containers (closed or not);
 * *through_closed set when a closed one is on the way. */
eng_place_t eng_item_outer_place(const tale_world_t *w, int item, int *through_closed);
int eng_item_visible_at(const tale_world_t *w, int item, int loc);
int eng_item_held_by(const tale_world_t *w, int item, int slot);
int eng_item_in_scope(const tale_player_t *p, int item);
void eng_describe_location(tale_player_t *p, int full);
void eng_flags_apply(tale_world_t *w, const eng_flaglist_t *set, const eng_flaglist_t *clear);
/* One paragraph to every player at loc except `except`: one frame, through eng_broadcast. */
void eng_tell_room(tale_world_t *w, int loc, const tale_player_t *except, const char *fmt, ...);
/* The same with ready HTML (one or more paragraphs); loc -1: the whole world. */
void eng_tell_html(tale_world_t *w, int loc, const tale_player_t *except, const char *html);
/* Moves p to `to` (the end of its occupants; -1: out of every room).  The
 * only place a player's location changes. */
void eng_player_move(tale_player_t *p, int to);
/* A player came to (arrive 1) or left (0) p's room: told at once, or in a
 * crowded room added to the tick's summary.  `fmt` takes the name. */
void eng_room_news(tale_player_t *p, int arrive, const char *fmt);
/* Up to `max` of the others p sees here (NPCs first, with their titles, then
 * the latest arrivals); returns how many others are here in all. */
size_t eng_people_here(const tale_player_t *p, const char **names, const char **titles, size_t max);
/* The player of that name (any case), or NULL: the name index. */
tale_player_t *eng_player_named(const tale_world_t *w, const char *name);
/* A present player other than `except` whose name is `name` or looks like
 * it (eng_name_fold), or NULL: the name index's bucket only. */
tale_player_t *eng_player_lookalike(const tale_world_t *w, const char *name, const tale_player_t *except);
/* The k-th player (0-based) in slot order, or NULL. */
tale_player_t *eng_player_nth(const tale_world_t *w, size_t k);
/* The host's clock in ms (tale_world_set_now), else CLOCK_MONOTONIC's. */
uint64_t eng_now_ms(const tale_world_t *w);
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
/* tale_world_restore_bytes through the jansson reader alone, never the flat
 * one: the fuzz target and the tests hold the two to the same verdicts. */
int eng_world_restore_tree(tale_world_t *w, const char *data, size_t len, char *err, size_t errlen);
/* tale_world_serialise through jansson alone (the same bytes, slower). */
char *eng_world_serialise_tree(tale_world_t *w, size_t *len);

/* names.c */
/* The name folded for look-alike comparison into out (cap bytes, NUL-ended):
 * lower case, 0->o, 1/i/|->l, 5->s, rn->m, vv->w, separators dropped.  Names
 * equal but for case fold equal, so the name index hashes the fold. */
void eng_name_fold(const char *name, char *out, size_t cap);
/* tale_world_name_check, with `self` (may be NULL) free to keep its own name. */
int eng_name_check(const tale_world_t *w, const char *name, const tale_player_t *self, const char **why);

#endif
