/*
 * saver.h - the host's save worker (host-internal): ONE thread that writes
 * save files (temp file, fsync, rename, fsync of the folder) so the loop
 * never waits on the disk for a player's `save`.
 *
 * The loop hands over a job's bytes (the job owns its copy; nothing is shared
 * while it is written) and hears back through an eventfd registered on the
 * loop.  The default file (IF `single`): at most one write in flight and one
 * pending; a newer save replaces the pending one (latest wins, it holds the
 * older one's state too).  Per-visitor instances queue jobs of their own
 * (a path each), run in the order queued.
 */
#ifndef TALE_SAVER_H
#define TALE_SAVER_H

#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tale_saver tale_saver_t;

/* Called on the loop when the write of `ticket` finished (and every older
 * ticket with it: they were written or replaced).  err is NULL when ok. */
typedef void (*tale_saver_done_cb)(void *data, uint64_t ticket, int ok, const char *err);

/* Start the worker writing to `path` (its folder is created if missing;
 * NULL: no default file, queued jobs only).  NULL with err on failure. */
tale_saver_t *tale_saver_new(h2o_evloop_t *loop, const char *path, tale_saver_done_cb cb, void *data, char *err, size_t errlen);
/* Queue bytes for writing; takes ownership of `bytes` (malloc'd) in every
 * case.  0, or -1 with err (the saver has finished). */
int tale_saver_submit(tale_saver_t *sv, uint64_t ticket, char *bytes, size_t len, char *err, size_t errlen);
/* Queue a job of its own: with `bytes` (malloc'd, owned by the saver in every
 * case) an atomic write of them to `path` (its folder made first), with bytes
 * NULL the removal of the folder `path` and the files in it.  Jobs run in the
 * order queued; cb(data, ticket, ok, err) reports each on the loop.  With
 * `coalesce`, a write of the same path and cb/data still waiting in the queue
 * takes the new bytes and ticket instead (one report, for the newer ticket).
 * Writes wait within a byte bound (tale_saver_set_queue_limit); removals
 * carry no bytes and are always taken.  Returns: */
enum {
    TALE_SAVER_QUEUED = 0,    /* a new job: one report will come */
    TALE_SAVER_REPLACED = 1,  /* merged into the queued job: its report covers this */
    TALE_SAVER_FINISHED = -1, /* tale_saver_finish ran: the caller writes synchronously */
    TALE_SAVER_FULL = -2,     /* the bound is reached: nothing queued, try later (logged once per episode) */
};
int tale_saver_queue(tale_saver_t *sv, const char *path, uint64_t ticket, char *bytes, size_t len, tale_saver_done_cb cb,
                     void *data, int coalesce, char *err, size_t errlen);
/* Bytes of writes waiting in the queue at most (default
 * TALE_SAVER_QUEUE_BYTES; a single write larger than it is still taken into
 * an empty queue). */
#define TALE_SAVER_QUEUE_BYTES (64u << 20)
void tale_saver_set_queue_limit(tale_saver_t *sv, size_t bytes);
/* Bytes of writes waiting in the queue now (not started). */
size_t tale_saver_queued_bytes(tale_saver_t *sv);
/* 1 once tale_saver_finish ran (no more jobs are taken). */
int tale_saver_finished(const tale_saver_t *sv);
/* Remove a save folder and the files in it (a missing one is fine): what a
 * removal job runs, for callers writing synchronously.  0 or -1 with err. */
int tale_saver_remove_folder(const char *path, char *err, size_t errlen);
/* The newest submitted bytes not yet reported written (NULL: none); the
 * loop's own copy, valid until the next call into the saver. */
const char *tale_saver_unwritten(tale_saver_t *sv, size_t *len);
/* Write everything queued, report it, stop the thread and leave the loop
 * (call after the loop has stopped, before it is destroyed).  Blocks. */
void tale_saver_finish(tale_saver_t *sv);
/* Finish if needed, then free. */
void tale_saver_free(tale_saver_t *sv);

#endif
