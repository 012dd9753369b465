/*
 * instances.h - per-visitor games on disk (host-internal; `instances:
 * per_visitor`).  The index of stored instances, their names, their writes
 * and removals through the save worker, and the stored caps.
 *
 * An instance is named by its visitor's session token, but no file name
 * shows the token: each lives in <data_dir>/worlds/<hex SHA-256 of the
 * token>/world.save (a folder of its own, so the engine's own `save` and
 * `load` verbs find the instance's file as their default one).
 *
 * The module knows no sessions and no worlds: session.c serialises a world
 * and hands the bytes here, and asks here whether a token names a stored
 * game.  Everything runs on the loop; the writes happen on the saver's
 * worker (or synchronously with no saver: unit tests, and after the worker
 * has stopped at shutdown).
 */
#ifndef TALE_INSTANCES_H
#define TALE_INSTANCES_H

#include "saver.h"
#include <stddef.h>
#include <stdint.h>

#define TALE_INST_NAME 64 /* hex of a SHA-256 */
#define TALE_INST_FILE "world.save"

typedef struct tale_instances tale_instances_t;
typedef struct tale_inst tale_inst_t;

/* A write of an instance's bytes finished (ok, or failed with err), on the
 * loop.  `owner` is what tale_inst_set_owner last set (NULL: none, e.g. the
 * instance was evicted meanwhile). */
typedef void (*tale_inst_done_cb)(void *data, void *owner, uint64_t ticket, int ok, const char *err);

/* The index of <dir> (created if missing): scans it at once (one stat per
 * stored instance; leftovers of an interrupted first save are removed).
 * Caps: max_stored instances, max_bytes bytes (0: no cap).  `sv` may be
 * NULL (writes synchronously).  NULL with err on failure. */
tale_instances_t *tale_instances_new(const char *dir, uint64_t max_stored, uint64_t max_bytes, tale_saver_t *sv,
                                     tale_inst_done_cb cb, void *cbdata, char *err, size_t errlen);
/* Frees the index (queued jobs still report to records: finish the saver first). */
void tale_instances_free(tale_instances_t *ti);

/* The name of a token: hex SHA-256, NUL-terminated. */
void tale_inst_name_of(const char *token, size_t len, char out[TALE_INST_NAME + 1]);

/* The stored (or live) instance of a token, or NULL. */
tale_inst_t *tale_instances_find(tale_instances_t *ti, const char *token, size_t len);
/* A new instance's record for a token (not stored until its first save). */
tale_inst_t *tale_instances_add(tale_instances_t *ti, const char *token, size_t len);

/* The folder the instance's world saves into (its save_dir); owned by the record. */
const char *tale_inst_dir(const tale_inst_t *in);
/* Live instances are never expired by the stored caps; `owner` (NULL: not
 * live) is handed back in the done callback. */
void tale_inst_set_owner(tale_inst_t *in, void *owner);
/* The last frame seq its session stamped before eviction (0: not known, e.g.
 * after a restart): a restored session numbers on from there, so a client
 * resuming after the eviction is neither sent old numbers nor skipped. */
uint64_t tale_inst_last_seq(const tale_inst_t *in);
void tale_inst_set_last_seq(tale_inst_t *in, uint64_t seq);
/* 1 when a save of the instance exists (on disk or queued). */
int tale_inst_stored(const tale_inst_t *in);
/* The newest bytes in memory (NULL: none): queued and not yet on disk, which
 * a restore must read instead of the file, or written and kept in the cache,
 * which spare it the read.  Borrowed until the next call here. */
const char *tale_inst_unwritten(const tale_inst_t *in, size_t *len);
/* The cache of written saves: at most `budget` bytes of them stay in memory,
 * the least recently put away dropped first (0, the default: none).  Only
 * games not live are worth it: tale_inst_uncache drops a game's bytes once
 * its world is back in memory (bytes still queued stay until written). */
void tale_instances_set_cache(tale_instances_t *ti, uint64_t budget);
void tale_inst_uncache(tale_inst_t *in);
size_t tale_instances_cached_count(const tale_instances_t *ti);

/* Store the instance's bytes (takes ownership of `bytes`): the newest are
 * kept for tale_inst_unwritten until on disk; then the stored caps are
 * applied (oldest save first, live instances skipped).  A write of the same
 * game still queued is replaced, not followed.  0, or -1 with err; -1 also
 * when the save worker's queue is full (nothing written: keep the game live
 * and try later). */
int tale_inst_store(tale_instances_t *ti, tale_inst_t *in, uint64_t ticket, char *bytes, size_t len, char *err, size_t errlen);
/* The instance's game is over: its record goes now, its folder is removed
 * after any write already queued for it. */
void tale_inst_remove(tale_instances_t *ti, tale_inst_t *in);
/* A record never stored and not live any more (a game evicted before its
 * first command): forget it. */
void tale_inst_forget(tale_instances_t *ti, tale_inst_t *in);

/* 1 when the last tale_inst_store was refused for a full save queue. */
int tale_instances_queue_full(const tale_instances_t *ti);
size_t tale_instances_stored_count(const tale_instances_t *ti);
uint64_t tale_instances_stored_bytes(const tale_instances_t *ti);

#endif
