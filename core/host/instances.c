/*
 * instances.c - the index of per-visitor games on disk (instances.h).
 *
 * Records.  One per instance the host knows of: stored ones (a save on disk
 * or queued) and live ones not saved yet.  They are found by name in a
 * chained hash table (the name is a SHA-256, so its first bits spread the
 * buckets without a keyed hash), and the stored ones sit on a list in the
 * order of their last save, oldest first: the stored caps expire from its
 * head.  A live instance at the head is moved to the tail instead (its next
 * save would put it there anyway), so a round costs at most what is stored.
 *
 * Writes.  The record keeps the newest bytes handed to the worker until
 * every write queued for it has finished: a restore in between reads those,
 * not an older file.  The worker runs jobs in the order queued, so a removal
 * queued after writes of the same folder always comes last.  A record whose
 * game ended waits, out of the table, for its queued jobs to report before
 * it is freed.
 */
#include "instances.h"
#include "engine.h"
#include "log.h"
#include <tale/plugin.h>
#include <tale/alloc.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_BUCKETS 64

struct tale_inst {
    tale_instances_t *ti;
    tale_inst_t *hnext;
    h2o_linklist_t stored; /* on ti->stored while a save exists, oldest save first */
    char *dir;
    uint64_t bytes;  /* the newest save's size: what the caps count */
    char *unwritten; /* the newest bytes: queued, or kept in the cache once written */
    size_t unwritten_len;
    h2o_linklist_t cached; /* on ti->cache while `unwritten` is on disk and kept, least recently put away first */
    uint64_t last_seq;
    uint32_t jobs; /* queued on the worker, not reported yet */
    uint8_t removed;
    void *owner;
    char name[TALE_INST_NAME + 1];
};

struct tale_instances {
    char *dir;
    uint64_t max_stored, max_bytes;
    tale_saver_t *sv;
    tale_inst_done_cb cb;
    void *cbdata;
    tale_inst_t **buckets;
    size_t n_buckets, n_records;
    h2o_linklist_t stored;
    size_t n_stored;
    uint64_t stored_bytes;
    h2o_linklist_t cache; /* records whose written bytes are kept, oldest first */
    int queue_full;       /* the last store was refused: the worker's queue is full */
    uint64_t cache_bytes, cache_budget;
    size_t n_cached;
};

static const char hexdigits[] = "0123456789abcdef";

void
tale_inst_name_of(const char *token, size_t len, char out[TALE_INST_NAME + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hexdigits[md[i] >> 4];
        out[2 * i + 1] = hexdigits[md[i] & 15];
    }
    out[TALE_INST_NAME] = '\0';
}

static int
is_name(const char *s)
{
    for (int i = 0; i < TALE_INST_NAME; i++)
        if (s[i] == '\0' || strchr(hexdigits, s[i]) == NULL)
            return 0;
    return s[TALE_INST_NAME] == '\0';
}

static size_t
bucket_of(const tale_instances_t *ti, const char *name)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 4 | (uint64_t)(strchr(hexdigits, name[i]) - hexdigits);
    return (size_t)v & (ti->n_buckets - 1);
}

static void
rehash(tale_instances_t *ti, size_t n)
{
    tale_inst_t **old = ti->buckets;
    size_t n_old = ti->n_buckets;
    ti->buckets = tale_xcalloc(n, sizeof(*ti->buckets));
    ti->n_buckets = n;
    for (size_t i = 0; i < n_old; i++)
        for (tale_inst_t *in = old[i], *next; in != NULL; in = next) {
            next = in->hnext;
            size_t b = bucket_of(ti, in->name);
            in->hnext = ti->buckets[b];
            ti->buckets[b] = in;
        }
    free(old);
}

static tale_inst_t *
record_new(tale_instances_t *ti, const char name[TALE_INST_NAME + 1])
{
    tale_inst_t *in = tale_xcalloc(1, sizeof(*in));
    in->ti = ti;
    memcpy(in->name, name, TALE_INST_NAME + 1);
    if (asprintf(&in->dir, "%s/%s", ti->dir, name) < 0)
        tale_oom(strlen(ti->dir) + TALE_INST_NAME + 2);
    if (++ti->n_records > ti->n_buckets)
        rehash(ti, ti->n_buckets * 2);
    size_t b = bucket_of(ti, name);
    in->hnext = ti->buckets[b];
    ti->buckets[b] = in;
    return in;
}

/* The record's bytes leave memory (off the cache if they were kept there). */
static void
drop_bytes(tale_inst_t *in)
{
    if (h2o_linklist_is_linked(&in->cached)) {
        h2o_linklist_unlink(&in->cached);
        in->ti->cache_bytes -= in->unwritten_len;
        in->ti->n_cached--;
    }
    free(in->unwritten);
    in->unwritten = NULL;
    in->unwritten_len = 0;
}

/* Written bytes stay for a restore that need not read the file, within the
 * budget: the least recently put away go first. */
static void
keep_cached(tale_instances_t *ti, tale_inst_t *in)
{
    if (in->unwritten == NULL || in->removed || in->unwritten_len > ti->cache_budget) {
        drop_bytes(in);
        return;
    }
    h2o_linklist_insert(&ti->cache, &in->cached);
    ti->cache_bytes += in->unwritten_len;
    ti->n_cached++;
    while (ti->cache_bytes > ti->cache_budget)
        drop_bytes(H2O_STRUCT_FROM_MEMBER(tale_inst_t, cached, ti->cache.next));
}

static void
record_free(tale_inst_t *in)
{
    drop_bytes(in);
    free(in->dir);
    free(in);
}

/* Out of the table and off the stored list: no lookup finds it any more. */
static void
record_unlink(tale_instances_t *ti, tale_inst_t *in)
{
    for (tale_inst_t **p = &ti->buckets[bucket_of(ti, in->name)]; *p != NULL; p = &(*p)->hnext)
        if (*p == in) {
            *p = in->hnext;
            break;
        }
    ti->n_records--;
    drop_bytes(in);
    if (h2o_linklist_is_linked(&in->stored)) {
        h2o_linklist_unlink(&in->stored);
        ti->n_stored--;
        ti->stored_bytes -= in->bytes;
    }
    in->removed = 1;
}

static void
on_job_done(void *data, uint64_t ticket, int ok, const char *err)
{
    tale_inst_t *in = data;
    in->jobs--;
    if (in->jobs == 0) /* every queued write has run (FIFO): nothing on disk is newer than these bytes */
        keep_cached(in->ti, in);
    if (in->removed) {
        if (!ok)
            tale_warn("instances", "removing a stored game: %s", err);
        if (in->jobs == 0)
            record_free(in);
        return;
    }
    if (!ok)
        tale_error("instances", "saving a game failed: %s", err);
    if (in->ti->cb != NULL)
        in->ti->cb(in->ti->cbdata, in->owner, ticket, ok, err);
}

/* Whether jobs go to the worker: not without one, nor after it stopped. */
static int
use_worker(const tale_instances_t *ti)
{
    return ti->sv != NULL && !tale_saver_finished(ti->sv);
}

/* The folder of a game that is over, after whatever was queued for it. */
static void
remove_folder(tale_instances_t *ti, tale_inst_t *in)
{
    char err[512];
    record_unlink(ti, in);
    if (use_worker(ti) &&
        tale_saver_queue(ti->sv, in->dir, 0, NULL, 0, on_job_done, in, 0, err, sizeof(err)) == TALE_SAVER_QUEUED) {
        in->jobs++;
        return;
    }
    if (tale_saver_remove_folder(in->dir, err, sizeof(err)) != 0)
        tale_warn("instances", "removing a stored game: %s", err);
    if (in->jobs == 0)
        record_free(in);
}

/* Over a stored cap: the oldest saves go first; live instances stay. */
static void
apply_caps(tale_instances_t *ti)
{
    size_t expired = 0, rounds = ti->n_stored;
    uint64_t freed = 0;
    while (rounds-- > 0 &&
           ((ti->max_stored != 0 && ti->n_stored > ti->max_stored) || (ti->max_bytes != 0 && ti->stored_bytes > ti->max_bytes))) {
        tale_inst_t *in = H2O_STRUCT_FROM_MEMBER(tale_inst_t, stored, ti->stored.next);
        if (in->owner != NULL) {
            h2o_linklist_unlink(&in->stored);
            h2o_linklist_insert(&ti->stored, &in->stored);
            continue;
        }
        freed += in->bytes;
        expired++;
        remove_folder(ti, in);
    }
    if (expired != 0)
        tale_info("instances",
                  "expired %zu stored game%s (%llu bytes), oldest saves first: over max_stored_worlds or max_stored_bytes "
                  "(%zu stored, %llu bytes)",
                  expired, expired == 1 ? "" : "s", (unsigned long long)freed, ti->n_stored, (unsigned long long)ti->stored_bytes);
}

/* Onto the stored list's tail (saved now), counted at `bytes`. */
static void
mark_stored(tale_instances_t *ti, tale_inst_t *in, uint64_t bytes)
{
    if (h2o_linklist_is_linked(&in->stored)) {
        h2o_linklist_unlink(&in->stored);
        ti->stored_bytes -= in->bytes;
    } else {
        ti->n_stored++;
    }
    in->bytes = bytes;
    ti->stored_bytes += bytes;
    h2o_linklist_insert(&ti->stored, &in->stored);
}

typedef struct found {
    char name[TALE_INST_NAME + 1];
    uint64_t bytes;
    struct timespec mtime;
} found_t;

static int
by_mtime(const void *a, const void *b)
{
    const struct timespec *x = &((const found_t *)a)->mtime, *y = &((const found_t *)b)->mtime;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? -1 : 1;
    return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* What the folder holds from earlier runs, oldest save first. */
static int
scan(tale_instances_t *ti, char *err, size_t errlen)
{
    DIR *d = opendir(ti->dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", ti->dir, strerror(errno));
        return -1;
    }
    found_t *list = NULL;
    size_t n = 0, cap = 0, leftovers = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_name(e->d_name))
            continue;
        char file[sizeof(e->d_name) + sizeof("/" TALE_INST_FILE)];
        snprintf(file, sizeof(file), "%s/%s", e->d_name, TALE_INST_FILE);
        struct stat st;
        if (fstatat(dirfd(d), file, &st, 0) != 0 || !S_ISREG(st.st_mode)) {
            /* a first save a kill interrupted: only a temp file, no game */
            char *path, why[256];
            if (asprintf(&path, "%s/%s", ti->dir, e->d_name) < 0)
                tale_oom(strlen(ti->dir) + TALE_INST_NAME + 2);
            if (tale_saver_remove_folder(path, why, sizeof(why)) != 0)
                tale_warn("instances", "%s", why);
            free(path);
            leftovers++;
            continue;
        }
        if (n == cap) {
            cap = cap != 0 ? cap * 2 : 256;
            list = tale_xrealloc(list, cap * sizeof(*list));
        }
        memcpy(list[n].name, e->d_name, TALE_INST_NAME + 1);
        list[n].bytes = (uint64_t)st.st_size;
        list[n].mtime = st.st_mtim;
        n++;
    }
    closedir(d);
    if (n != 0)
        qsort(list, n, sizeof(*list), by_mtime);
    for (size_t i = 0; i < n; i++)
        mark_stored(ti, record_new(ti, list[i].name), list[i].bytes);
    free(list);
    if (n != 0 || leftovers != 0)
        tale_info("instances", "%zu stored game%s (%llu bytes) in %s%s", n, n == 1 ? "" : "s", (unsigned long long)ti->stored_bytes,
                  ti->dir, leftovers != 0 ? "; removed the leftovers of interrupted first saves" : "");
    apply_caps(ti);
    return 0;
}

tale_instances_t *
tale_instances_new(const char *dir, uint64_t max_stored, uint64_t max_bytes, tale_saver_t *sv, tale_inst_done_cb cb, void *cbdata,
                   char *err, size_t errlen)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    tale_instances_t *ti = tale_xcalloc(1, sizeof(*ti));
    ti->dir = tale_xstrdup(dir);
    ti->max_stored = max_stored;
    ti->max_bytes = max_bytes;
    ti->sv = sv;
    ti->cb = cb;
    ti->cbdata = cbdata;
    ti->n_buckets = MIN_BUCKETS;
    ti->buckets = tale_xcalloc(ti->n_buckets, sizeof(*ti->buckets));
    h2o_linklist_init_anchor(&ti->stored);
    h2o_linklist_init_anchor(&ti->cache);
    if (scan(ti, err, errlen) != 0) {
        tale_instances_free(ti);
        return NULL;
    }
    return ti;
}

void
tale_instances_free(tale_instances_t *ti)
{
    if (ti == NULL)
        return;
    for (size_t i = 0; i < ti->n_buckets; i++)
        for (tale_inst_t *in = ti->buckets[i], *next; in != NULL; in = next) {
            next = in->hnext;
            record_free(in);
        }
    free(ti->buckets);
    free(ti->dir);
    free(ti);
}

tale_inst_t *
tale_instances_find(tale_instances_t *ti, const char *token, size_t len)
{
    char name[TALE_INST_NAME + 1];
    tale_inst_name_of(token, len, name);
    for (tale_inst_t *in = ti->buckets[bucket_of(ti, name)]; in != NULL; in = in->hnext)
        if (memcmp(in->name, name, TALE_INST_NAME) == 0)
            return in;
    return NULL;
}

tale_inst_t *
tale_instances_add(tale_instances_t *ti, const char *token, size_t len)
{
    char name[TALE_INST_NAME + 1];
    tale_inst_name_of(token, len, name);
    return record_new(ti, name);
}

const char *
tale_inst_dir(const tale_inst_t *in)
{
    return in->dir;
}

void
tale_inst_set_owner(tale_inst_t *in, void *owner)
{
    in->owner = owner;
}

uint64_t
tale_inst_last_seq(const tale_inst_t *in)
{
    return in->last_seq;
}

void
tale_inst_set_last_seq(tale_inst_t *in, uint64_t seq)
{
    in->last_seq = seq;
}

int
tale_inst_stored(const tale_inst_t *in)
{
    return h2o_linklist_is_linked((h2o_linklist_t *)&in->stored);
}

void
tale_instances_set_cache(tale_instances_t *ti, uint64_t budget)
{
    ti->cache_budget = budget;
    while (ti->cache_bytes > ti->cache_budget)
        drop_bytes(H2O_STRUCT_FROM_MEMBER(tale_inst_t, cached, ti->cache.next));
}

void
tale_inst_uncache(tale_inst_t *in)
{
    if (h2o_linklist_is_linked(&in->cached))
        drop_bytes(in);
}

int
tale_instances_queue_full(const tale_instances_t *ti)
{
    return ti->queue_full;
}

size_t
tale_instances_cached_count(const tale_instances_t *ti)
{
    return ti->n_cached;
}

const char *
tale_inst_unwritten(const tale_inst_t *in, size_t *len)
{
    if (in->unwritten != NULL && len != NULL)
        *len = in->unwritten_len;
    return in->unwritten;
}

int
tale_inst_store(tale_instances_t *ti, tale_inst_t *in, uint64_t ticket, char *bytes, size_t len, char *err, size_t errlen)
{
    char *path;
    if (asprintf(&path, "%s/%s", in->dir, TALE_INST_FILE) < 0)
        tale_oom(strlen(in->dir) + sizeof(TALE_INST_FILE) + 1);
    int rc = 0;
    if (use_worker(ti)) {
        char *copy = tale_xmalloc(len);
        memcpy(copy, bytes, len);
        /* with a write of this game still queued, the new bytes replace it */
        rc = tale_saver_queue(ti->sv, path, ticket, copy, len, on_job_done, in, in->jobs != 0, err, errlen);
        ti->queue_full = rc == TALE_SAVER_FULL;
        if (rc >= 0) {
            in->jobs += rc == TALE_SAVER_QUEUED;
            drop_bytes(in);
            in->unwritten = bytes;
            in->unwritten_len = len;
            mark_stored(ti, in, len);
            free(path);
            apply_caps(ti);
            return 0;
        }
        if (rc == TALE_SAVER_FULL) {
            /* the caller keeps the game live and tries again later: a write
             * here would hold the loop on the disk */
            free(path);
            free(bytes);
            return -1;
        }
    }
    /* no worker (or it has stopped): write here, before anything queued is
     * lost; only tests and the shutdown after the loop stopped come here */
    mkdir(in->dir, 0750);
    rc = tale_save_write_atomic(path, bytes, len, err, errlen);
    free(path);
    if (rc != 0) {
        free(bytes);
        return -1;
    }
    drop_bytes(in);
    in->unwritten = bytes;
    in->unwritten_len = len;
    if (in->jobs == 0)
        keep_cached(ti, in);
    mark_stored(ti, in, len);
    apply_caps(ti);
    return 0;
}

void
tale_inst_remove(tale_instances_t *ti, tale_inst_t *in)
{
    in->owner = NULL;
    remove_folder(ti, in);
}

void
tale_inst_forget(tale_instances_t *ti, tale_inst_t *in)
{
    if (tale_inst_stored(in))
        return;
    record_unlink(ti, in);
    if (in->jobs == 0)
        record_free(in);
}

size_t
tale_instances_stored_count(const tale_instances_t *ti)
{
    return ti->n_stored;
}

uint64_t
tale_instances_stored_bytes(const tale_instances_t *ti)
{
    return ti->stored_bytes;
}
