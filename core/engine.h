/*
 * engine.h - the game engine's interface to the host (host-internal).
 *
 * The engine knows nothing of h2o, sockets or transports: it takes commands
 * for a player and emits frames (jansson objects) to that player through a
 * callback.  "The player" is never a global: a world holds any number of
 * players (IF mode uses one).
 */
#ifndef TALE_ENGINE_H
#define TALE_ENGINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tale_story tale_story_t;
typedef struct tale_world tale_world_t;
typedef struct tale_player tale_player_t;

/*
 * Receives every frame for one player.  `frame` is a JSON object without
 * "seq" (the host stamps it): {"type":"text","text":"<p>..</p>\n","special":[..],
 * "turns":N,"location":..,"location_image":..,"npcs":..,"items":..,"exits":..}
 * or {"type":"data","id":"map-image","data":"data:image/svg+xml;base64,.."}.
 * The callee takes ownership of the reference.
 */
typedef void (*tale_emit_fn)(void *ctx, json_t *frame);

typedef struct tale_world_options {
    const char *save_dir; /* where save/load put files; NULL disables saving */
    size_t max_input;     /* longest command accepted, bytes (0: 1024) */
    /* MUD: one world for many players, so no player may save or load it
     * (per-character saves: accounts, issue #15) */
    int shared;
} tale_world_options_t;

typedef struct tale_story_meta {
    const char *name, *version, *author, *author_email;
    const char *resources_dir; /* absolute path */
} tale_story_meta_t;

/* Load a story folder (story.yaml + resources/) once: the story is immutable
 * afterwards and any number of worlds may share it.  On error returns NULL and
 * writes one line "file:line:column: message" into err.  The caller holds one
 * reference; tale_story_free drops it, and the story goes when the last
 * reference does (each world holds one).  References are counted on the one
 * loop: no atomics. */
tale_story_t *tale_story_load(const char *story_dir, char *err, size_t errlen);
void tale_story_free(tale_story_t *st);
const tale_story_meta_t *tale_story_meta(const tale_story_t *st);

/* Read-only map lookups for transports that draw a map (GMCP Room.Info).  A
 * frame names its room by title and lists its visible exits; titles may
 * repeat, so the room is the first whose title matches and that has every
 * listed exit (else the first title match).  -1 when no title matches. */
int tale_story_location_find(const tale_story_t *st, const char *title, size_t len, const char *exits);
/* The location's id in the story (stable while the story keeps it), NULL when out of range. */
const char *tale_story_location_id(const tale_story_t *st, int loc);
/* Where the exit `dir` (a direction's full name, as in a frame's "exits")
 * from location `loc` leads: a location index, or -1. */
int tale_story_exit_target(const tale_story_t *st, int loc, const char *dir);

/* A new world of `story` as it begins (takes a reference of its own to the
 * story: the caller may free theirs at once). */
tale_world_t *tale_world_new(tale_story_t *story, const tale_world_options_t *opt);
/* tale_story_load and tale_world_new in one, for a host with one world. */
tale_world_t *tale_world_load(const char *story_dir, const tale_world_options_t *opt, char *err, size_t errlen);
void tale_world_free(tale_world_t *w);
const tale_story_meta_t *tale_world_meta(const tale_world_t *w);

/* A new player joins the world; the welcome text and a first look are emitted at once. */
tale_player_t *tale_player_join(tale_world_t *w, tale_emit_fn emit, void *ctx);
/* The player leaves the world and is freed ("X leaves the game." to the room). */
void tale_player_leave(tale_player_t *p);
/* How a player left, for what the room is told. */
enum {
    TALE_DEPART_QUIT = 0, /* "X leaves the game." (quit, or the host ended the seat) */
    TALE_DEPART_FADE = 1, /* "X fades away." (the connection closed and limits.linger ran out) */
};
/* tale_player_leave with the room told how. */
void tale_player_depart(tale_player_t *p, int how);
/* The name the player goes by in the game (valid while the player lives). */
const char *tale_player_name(const tale_player_t *p);

/*
 * A frame for many players at once (a room's or the world's news: someone
 * says, yells, arrives, fades away): the same object for each of the `n`
 * players whose emit contexts are `ctxs` (the `ctx` each joined with).  Such
 * frames carry "type", "text" and "special" but no location snapshot (the
 * snapshot differs per player; the client keeps its panels).  The callee
 * serialises once, stamps each player's seq in its own envelope, must not
 * modify `frame`, and takes ownership of the reference; `ctxs` is borrowed
 * for the call.  With no broadcast hook set, the engine emits a copy of the
 * frame to each player's emit callback instead.
 */
typedef void (*tale_broadcast_fn)(void *bctx, void *const *ctxs, size_t n, json_t *frame);
void tale_world_set_broadcast(tale_world_t *w, tale_broadcast_fn fn, void *bctx);

enum { TALE_CMD_OK = 0, TALE_CMD_QUIT = 1 };
/* Run one line of input.  Emits one text frame (and possibly data frames).
 * Returns TALE_CMD_QUIT when the player asked to quit (the host ends the
 * session after the goodbye frame), else TALE_CMD_OK. */
int tale_player_command(tale_player_t *p, const char *line, size_t len);
/* Completions of prefix: a new JSON array of strings (caller owns it). */
json_t *tale_player_complete(tale_player_t *p, const char *prefix, size_t len);
/* Answer an autocomplete request in-band: one text frame listing the
 * completions of prefix (escaped), with the same list as a "completions"
 * array for clients that fill their input line, and the location snapshot. */
void tale_player_suggest(tale_player_t *p, const char *prefix, size_t len);

/* A notice from the host to the player (plain text, escaped here): one text
 * frame holding it as a paragraph, with the player's location snapshot,
 * through the player's emit callback.  Between commands only. */
void tale_player_notice(tale_player_t *p, const char *text);

/* One server tick: game clock, wandering NPCs, ambient emotes, and a crowded
 * room's arrivals and departures since the last tick as one summary.  May
 * emit to any player. */
void tale_world_tick(tale_world_t *w);

/* The host's monotonic clock, in milliseconds, for the engine's rate limits
 * (yell).  The host sets it before each tick and each command it runs; a world
 * whose host never sets it reads CLOCK_MONOTONIC itself. */
void tale_world_set_now(tale_world_t *w, uint64_t ms);

/* Save / restore the world (IF mode: the one player's progress) atomically
 * (temp file, fsync, rename; versioned format).  path NULL = the default save
 * file in save_dir.  Return 0, or -1 with a message in err. */
int tale_world_save(tale_world_t *w, const char *path, char *err, size_t errlen);
/* path NULL: the newest bytes the save writer holds unwritten, if any, else the file. */
int tale_world_restore(tale_world_t *w, const char *path, char *err, size_t errlen);
/* Restore from a save's bytes already in memory (len of them; no NUL needed):
 * a host that reads its files itself or still holds the bytes it queued for
 * writing.  As tale_world_restore: the save is checked whole against the
 * story before anything changes; 0, or -1 with one line in err ("save data:
 * ..."), the world untouched.  Into a fresh world of the story, then
 * tale_player_join: the player resumes where the save left them, and the
 * game clock where it stood. */
int tale_world_restore_bytes(tale_world_t *w, const char *data, size_t len, char *err, size_t errlen);

/* The two halves of a save.  Serialise: the world's state as a new
 * NUL-terminated buffer (free() it; *len its length), never NULL (a failed
 * allocation is fatal: tale/alloc.h); memory work only, fast enough for the loop.  Write: the bytes to
 * path atomically (temp file, fsync, rename, fsync of the folder); it blocks
 * on the disk and touches no world, so the host runs it on its worker. */
char *tale_world_serialise(tale_world_t *w, size_t *len);
int tale_save_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);
/* The default save file in save_dir (malloc'd), or NULL with err. */
char *tale_world_save_path(tale_world_t *w, char *err, size_t errlen);

/*
 * The host's save writer.  With one set, the `save` verb (and
 * tale_world_checkpoint) serialise on the loop and hand the bytes to submit,
 * which takes ownership of them whatever it returns (0 accepted, -1 with err);
 * the host calls tale_world_save_done on the loop once the bytes of `ticket`
 * (or of a newer ticket that replaced them) are on disk.  unwritten returns the
 * newest submitted bytes not yet on disk (NULL: none), borrowed until the
 * next call into the writer.  The engine knows nothing of how or where the
 * writing happens.
 */
typedef struct tale_save_writer {
    int (*submit)(void *ctx, uint64_t ticket, char *data, size_t len, char *err, size_t errlen);
    const char *(*unwritten)(void *ctx, size_t *len);
    void *ctx;
} tale_save_writer_t;
/* Set (or with NULL, remove: saves are synchronous again) the writer. */
void tale_world_set_save_writer(tale_world_t *w, const tale_save_writer_t *sw);
/* Save now, for the host (autosave): through the writer when one is set
 * (returns 1, *ticket set when given), else synchronously (returns 0).
 * -1 with a message in err. */
int tale_world_checkpoint(tale_world_t *w, uint64_t *ticket, char *err, size_t errlen);
/* Writes up to `ticket` finished (ok, or failed with err): every player
 * still waiting on one of them is told, in a frame of their own. */
void tale_world_save_done(tale_world_t *w, uint64_t ticket, int ok, const char *err);

/*
 * Accounts (issue #15; docs/PROTOCOL.md, "Accounts").  The host owns accounts,
 * passwords and the login dialogue; the engine owns characters' names and
 * their state.  A character joins by name; a guest (tale_player_join) may
 * take a name later and keep playing.
 */

/* Join with a chosen name (an account's character): as tale_player_join
 * (welcome, first look, "X appears."), under that name.  NULL with *why set
 * (player-facing text) when the name breaks tale_world_name_check's rules or
 * is taken by a player present (any case, or a look-alike).  When a player who
 * joined by name and is not marked a guest leaves, what they carry goes back
 * where the story first placed it; tale_player_state_serialise has recorded
 * it, and tale_player_state_restore takes it back unless a present player
 * holds it. */
tale_player_t *tale_player_join_as(tale_world_t *w, const char *name, tale_emit_fn emit, void *ctx, const char **why);
/* Rename a present player (a guest who creates an account keeps the
 * character): 0 (the room is told "Old is now known as New."), or -1 with a
 * player-facing *why.  The player's own name in another case is allowed. */
int tale_player_rename(tale_player_t *p, const char *name, const char **why);
/* Mark a player as a guest (who shows "(guest)"; a guest's things stay in the
 * world when they leave), or not. */
void tale_player_set_guest(tale_player_t *p, int guest);
/*
 * The name rules for characters and accounts (docs/PROTOCOL.md, "Accounts"):
 * 3 to 20 characters, ASCII letters A-Z with single hyphens or apostrophes
 * between letters ("Mary-Ann", "O'Neil"); no spaces, digits or non-ASCII.
 * Not a name, alias or id of the story's NPCs or items, nor the story's
 * player (guest) name, a command or a direction; not a present player's name
 * in any case or a look-alike of it (compared folded: case, 0/o, 1/l/i, 5/s,
 * rn/m, vv/w, hyphens and apostrophes ignored).  0 when the name may be
 * taken now, or -1 with a player-facing *why (static text).
 */
int tale_world_name_check(const tale_world_t *w, const char *name, const char **why);
/* The first part of that rule alone, which needs no world: the length and
 * the letters (len bytes of name; no NUL needed).  The host's accounts hold
 * account names to it.  0, or -1 with a player-facing *why (static text). */
#define TALE_NAME_MIN 3
#define TALE_NAME_MAX 20
int tale_name_shape_check(const char *name, size_t len, const char **why);
/* A character's own state, for the accounts store: location, what they carry
 * (with the contents of containers they carry), worn/wielded and each carried
 * item's state, visited places, NPCs met, brief, won and turns.  JSON bytes
 * ({"format":"tale-character","version":1,...}; free() them), never NULL. */
char *tale_player_state_serialise(const tale_player_t *p, size_t *len);
/* Apply saved state to a player just joined: they move there (the rooms are
 * told of a leaving and an arrival), take back their things and get a fresh
 * look.  What the story no longer has (a location, an item) or another
 * present player now holds is left out, with a note to the player in that
 * frame, never a crash.  0, or -1 with one line in err when the bytes are not
 * a character of this story (nothing changed). */
int tale_player_state_restore(tale_player_t *p, const char *data, size_t len, char *err, size_t errlen);
/* A line of the host's dialogue (login) to a joined player: text as one
 * escaped paragraph with the location snapshot; noecho adds the `noecho`
 * special (the next input is a password: not echoed, not kept). */
void tale_player_prompt(tale_player_t *p, const char *text, int noecho);
/* The same frame for a connection with no player yet (the login dialogue
 * before a join): {"type":"text","text":"<p>..</p>\n","special":[..]}, no
 * snapshot; the caller owns the reference. */
json_t *tale_prompt_frame(const char *text, int noecho);

#endif
