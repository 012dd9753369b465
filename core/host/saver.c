/*
 * saver.c - the host's save worker: one thread that puts save files on disk
 * so that a player's `save` never fsyncs on the loop (DESIGN.md, "One event
 * loop": the one small, bounded worker the host may own).
 *
 * Data flow: loop --submit(bytes)--> job queue --worker--> atomic write
 * (tale_save_write_atomic) --result list + eventfd--> loop --cb--> engine.
 * A job owns its own copy of the bytes; the loop keeps another copy
 * (`latest`) for restores that must not read an older file.  Only the mutex
 * guards what both threads touch: the queue, `stopping` and the result list.
 *
 * Two kinds of job share the one FIFO queue.  The default file's (IF
 * `single`: tale_saver_submit) is at most one not yet started: a newer save
 * replaces its bytes.  Queued jobs (per-visitor instances: tale_saver_queue)
 * name their own path and are written in order, so a removal queued after a
 * write of the same folder always wins, and two writes of one file land
 * newest last.
 */
#include "saver.h"
#include "engine.h"
#include "log.h"
#include <tale/plugin.h>
#include <tale/alloc.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* Per-visitor writes the worker takes at once (run_batch). */
#define SAVER_BATCH 256

/* One save on its way to disk; after the write it carries the result back. */
typedef struct save_job {
    struct save_job *next; /* in the queue, then in the result list */
    uint64_t ticket;
    char *path;  /* tale_saver_queue's own path; NULL: the saver's default file */
    char *bytes; /* the job's own copy; freed by the worker once written; NULL with path: remove the folder */
    size_t len;
    tale_saver_done_cb cb; /* tale_saver_queue's; NULL: the saver's own */
    char *tmp;             /* a per-visitor write: the spare file written, swapped in once synced */
    int sync_alone;        /* written alone: synced by itself, not by the batch's syncfs */
    void *data;
    int ok;
    char err[256];
} save_job_t;

struct tale_saver {
    /* fixed at creation */
    char *path;
    int efd;
    tale_saver_done_cb cb;
    void *data;
    pthread_t thread;
    int thread_started;
    /* the loop's side only */
    h2o_socket_t *sock;
    char *latest; /* newest submitted bytes, until reported written */
    size_t latest_len;
    uint64_t latest_ticket;
    int finished;
    /* shared with the worker, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    save_job_t *queue, **queue_tail; /* oldest first */
    save_job_t *pending;             /* the default file's job in the queue, not started: a newer submit replaces its bytes */
    size_t queued_bytes;             /* tale_saver_queue's writes not started */
    size_t queue_limit;
    int full_logged; /* the loop's: "queue full" logged, not since drained below the bound */
    int stopping;
    save_job_t *results, **results_tail;
};

static void
free_job(save_job_t *j)
{
    if (j != NULL) {
        free(j->bytes);
        free(j->path);
        free(j->tmp);
        free(j);
    }
}

int
tale_saver_remove_folder(const char *path, char *err, size_t errlen)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* a save folder holds its file and the temp files a kill left behind */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "%s/%s: %s", path, e->d_name, strerror(errno));
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The worker's part of a job that is not a per-visitor write (run_batch):
 * the default file's write, or a removal. */
static void
run_job(tale_saver_t *sv, save_job_t *j)
{
    if (j->path == NULL)
        j->ok = tale_save_write_atomic(sv->path, j->bytes, j->len, j->err, sizeof(j->err)) == 0;
    else
        j->ok = tale_saver_remove_folder(j->path, j->err, sizeof(j->err)) == 0;
    free(j->bytes);
    j->bytes = NULL;
}

/* A batch's first step for one write: its bytes in the game's spare file
 * beside `path` (its folder made first), written over in place and not
 * synced yet.  The spare is the inode the previous publish swapped out, so a
 * game saved again allocates and frees no inode or block (on ext4 with
 * discard those cost the worker more than the write).  Its name matches
 * the temp files a kill may leave (`world.save.tmp.*`): never read, and
 * removed with the folder.  0, or -1 with j->err. */
static int
write_spare(save_job_t *j)
{
    char *dcopy = tale_xstrdup(j->path);
    mkdir(dirname(dcopy), 0750);
    free(dcopy);
    if (asprintf(&j->tmp, "%s.tmp.spare", j->path) < 0)
        tale_oom(strlen(j->path) + 12);
    int fd = open(j->tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail;
    for (size_t off = 0; off < j->len;) {
        ssize_t n = pwrite(fd, j->bytes + off, j->len - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            goto fail;
        }
        off += (size_t)n;
    }
    if (ftruncate(fd, (off_t)j->len) != 0 || (j->sync_alone && fdatasync(fd) != 0)) {
        close(fd);
        goto fail;
    }
    if (close(fd) == 0)
        return 0;
fail:
    snprintf(j->err, sizeof(j->err), "%s: %s", j->tmp, strerror(errno));
    unlink(j->tmp);
    free(j->tmp);
    j->tmp = NULL;
    return -1;
}

/* The spare's bytes become the game's file in one step: swapped with the
 * old file (which becomes the next spare), or renamed for a first save. */
static int
publish(save_job_t *j)
{
    if (renameat2(AT_FDCWD, j->tmp, AT_FDCWD, j->path, RENAME_EXCHANGE) == 0)
        return 0;
    if (errno != ENOENT && errno != EINVAL && errno != ENOSYS)
        return -1;
    return rename(j->tmp, j->path);
}

/* Fsync the folder of `path`: a publish lasts a crash. */
static int
sync_folder(const char *path)
{
    char *dcopy = tale_xstrdup(path);
    int rc = -1, dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dcopy);
    if (dfd >= 0) {
        rc = fsync(dfd);
        close(dfd);
    }
    return rc;
}

/* Writes of per-visitor games, several at once: every spare written, then
 * one syncfs for all of them, then the swaps, then one more syncfs for
 * those (one write alone: its own fdatasync and the folder's fsync, not the
 * whole file system's).  Each file changes only once its new bytes are on
 * disk, as with tale_save_write_atomic, at two syncs a batch instead of two
 * a file: the disk, not the worker, sets the pace. */
static void
run_batch(save_job_t **jobs, size_t n)
{
    int sfd = -1;
    jobs[0]->sync_alone = n == 1;
    for (size_t i = 0; i < n; i++) {
        save_job_t *j = jobs[i];
        j->ok = write_spare(j) == 0;
        if (j->ok && sfd < 0 && n > 1)
            sfd = open(j->tmp, O_RDONLY | O_CLOEXEC);
    }
    int synced = n == 1 || (sfd >= 0 && syncfs(sfd) == 0);
    int sync_errno = errno;
    for (size_t i = 0; i < n; i++) {
        save_job_t *j = jobs[i];
        if (j->ok && !synced) {
            j->ok = 0;
            snprintf(j->err, sizeof(j->err), "%s: syncing to disk: %s", j->path, strerror(sync_errno));
        } else if (j->ok && publish(j) != 0) {
            j->ok = 0;
            snprintf(j->err, sizeof(j->err), "%s: %s", j->path, strerror(errno));
        }
        free(j->bytes);
        j->bytes = NULL;
    }
    int published = n == 1 ? (!jobs[0]->ok || sync_folder(jobs[0]->path) == 0) : (sfd < 0 || !synced || syncfs(sfd) == 0);
    if (!published)
        for (size_t i = 0; i < n; i++)
            if (jobs[i]->ok) { /* in place, but it may not last a crash: say so */
                jobs[i]->ok = 0;
                snprintf(jobs[i]->err, sizeof(jobs[i]->err), "%s: syncing the new file: %s", jobs[i]->path, strerror(errno));
            }
    if (sfd >= 0)
        close(sfd);
}

/* A per-visitor write, which a batch may take. */
static int
batchable(const save_job_t *j)
{
    return j != NULL && j->path != NULL && j->bytes != NULL;
}

/* The worker: take the oldest job (with the per-visitor writes queued right
 * after it, up to SAVER_BATCH), run it, post the results; until asked to
 * stop with nothing left queued. */
static void *
worker_main(void *arg)
{
    tale_saver_t *sv = arg;
    save_job_t *batch[SAVER_BATCH];
    pthread_mutex_lock(&sv->mu);
    for (;;) {
        while (sv->queue == NULL && !sv->stopping)
            pthread_cond_wait(&sv->cv, &sv->mu);
        if (sv->queue == NULL)
            break;
        size_t n = 0;
        do {
            save_job_t *j = sv->queue;
            if ((sv->queue = j->next) == NULL)
                sv->queue_tail = &sv->queue;
            if (sv->pending == j)
                sv->pending = NULL;
            if (batchable(j))
                sv->queued_bytes -= j->len;
            batch[n++] = j;
        } while (n < SAVER_BATCH && batchable(batch[0]) && batchable(sv->queue));
        pthread_mutex_unlock(&sv->mu);

        if (batchable(batch[0]))
            run_batch(batch, n);
        else
            run_job(sv, batch[0]);

        pthread_mutex_lock(&sv->mu);
        for (size_t i = 0; i < n; i++) {
            batch[i]->next = NULL;
            *sv->results_tail = batch[i];
            sv->results_tail = &batch[i]->next;
        }
        uint64_t one = 1;
        if (write(sv->efd, &one, sizeof(one)) < 0) {
            /* the counter cannot overflow at one write per batch; the loop
             * still collects these results at its next wake-up or at finish */
        }
    }
    pthread_mutex_unlock(&sv->mu);
    return NULL;
}

/* On the loop: hand every finished write to the callback, oldest first. */
static void
deliver_results(tale_saver_t *sv)
{
    pthread_mutex_lock(&sv->mu);
    save_job_t *r = sv->results;
    sv->results = NULL;
    sv->results_tail = &sv->results;
    pthread_mutex_unlock(&sv->mu);
    while (r != NULL) {
        save_job_t *next = r->next;
        if (r->cb != NULL) {
            r->cb(r->data, r->ticket, r->ok, r->ok ? NULL : r->err);
            free_job(r);
            r = next;
            continue;
        }
        if (r->ticket >= sv->latest_ticket && sv->latest != NULL) {
            free(sv->latest); /* what the file holds now */
            sv->latest = NULL;
            sv->latest_len = 0;
        }
        if (sv->cb != NULL)
            sv->cb(sv->data, r->ticket, r->ok, r->ok ? NULL : r->err);
        free_job(r);
        r = next;
    }
}

/* The eventfd became readable: the worker finished one write or more. */
static void
on_wakeup(h2o_socket_t *sock, const char *err)
{
    tale_saver_t *sv = sock->data;
    uint64_t n;
    /* reset the counter; a failed read (EAGAIN) only means nothing new */
    ssize_t got = read(sv->efd, &n, sizeof(n));
    (void)got;
    (void)err;
    h2o_buffer_consume(&sock->input, sock->input->size);
    deliver_results(sv);
}

tale_saver_t *
tale_saver_new(h2o_evloop_t *loop, const char *path, tale_saver_done_cb cb, void *data, char *err, size_t errlen)
{
    tale_saver_t *sv = tale_xcalloc(1, sizeof(*sv));
    sv->path = path != NULL ? tale_xstrdup(path) : NULL;
    sv->efd = -1;
    sv->cb = cb;
    sv->data = data;
    sv->results_tail = &sv->results;
    sv->queue_tail = &sv->queue;
    sv->queue_limit = TALE_SAVER_QUEUE_BYTES;
    pthread_mutex_init(&sv->mu, NULL);
    pthread_cond_init(&sv->cv, NULL);

    /* the first save may come before the folder exists */
    if (path != NULL) {
        char *dcopy = tale_xstrdup(path);
        mkdir(dirname(dcopy), 0750);
        free(dcopy);
    }

    sv->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (sv->efd < 0) {
        sv->efd = -1;
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    /* The worker takes no signals: SIGINT/SIGTERM belong to the loop's
     * signalfd, whatever the order in which they were set up. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&sv->thread, NULL, worker_main, sv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the save worker: %s", strerror(rc));
        goto fail;
    }
    sv->thread_started = 1;
    sv->sock = h2o_evloop_socket_create(loop, sv->efd, H2O_SOCKET_FLAG_DONT_READ);
    sv->sock->data = sv;
    h2o_socket_read_start(sv->sock, on_wakeup);
    return sv;
fail:
    tale_saver_free(sv);
    return NULL;
}

int
tale_saver_submit(tale_saver_t *sv, uint64_t ticket, char *bytes, size_t len, char *err, size_t errlen)
{
    if (sv->finished) {
        snprintf(err, errlen, "the server is shutting down");
        free(bytes);
        return -1;
    }
    if (sv->path == NULL) {
        snprintf(err, errlen, "this save worker has no default file");
        free(bytes);
        return -1;
    }
    char *copy = tale_xmalloc(len);
    memcpy(copy, bytes, len);

    pthread_mutex_lock(&sv->mu);
    char *replaced = NULL;
    if (sv->pending != NULL) { /* not started: the newer bytes cover it */
        replaced = sv->pending->bytes;
        sv->pending->bytes = copy;
        sv->pending->len = len;
        sv->pending->ticket = ticket;
    } else {
        save_job_t *j = tale_xcalloc(1, sizeof(*j));
        j->bytes = copy;
        j->len = len;
        j->ticket = ticket;
        *sv->queue_tail = j;
        sv->queue_tail = &j->next;
        sv->pending = j;
        pthread_cond_signal(&sv->cv);
    }
    pthread_mutex_unlock(&sv->mu);
    free(replaced);

    free(sv->latest);
    sv->latest = bytes;
    sv->latest_len = len;
    sv->latest_ticket = ticket;
    return 0;
}

/* A write of `path` for cb/data that the worker has not started (under mu). */
static save_job_t *
queued_write(tale_saver_t *sv, const char *path, tale_saver_done_cb cb, void *data)
{
    for (save_job_t *j = sv->queue; j != NULL; j = j->next)
        if (j->cb == cb && j->data == data && j->bytes != NULL && j->path != NULL && strcmp(j->path, path) == 0)
            return j;
    return NULL;
}

int
tale_saver_queue(tale_saver_t *sv, const char *path, uint64_t ticket, char *bytes, size_t len, tale_saver_done_cb cb, void *data,
                 int coalesce, char *err, size_t errlen)
{
    if (sv->finished) {
        snprintf(err, errlen, "the server is shutting down");
        free(bytes);
        return TALE_SAVER_FINISHED;
    }
    pthread_mutex_lock(&sv->mu);
    save_job_t *older = coalesce && bytes != NULL ? queued_write(sv, path, cb, data) : NULL;
    if (older != NULL) {
        /* the newer bytes hold the older state too: one write instead of two */
        char *replaced = older->bytes;
        sv->queued_bytes += len - older->len;
        older->bytes = bytes;
        older->len = len;
        older->ticket = ticket;
        pthread_mutex_unlock(&sv->mu);
        free(replaced);
        return TALE_SAVER_REPLACED;
    }
    if (bytes != NULL && sv->queued_bytes != 0 && sv->queued_bytes + len > sv->queue_limit) {
        pthread_mutex_unlock(&sv->mu);
        free(bytes);
        snprintf(err, errlen, "the save queue is full (%zu bytes waiting for the disk)", sv->queued_bytes);
        if (!sv->full_logged) {
            sv->full_logged = 1;
            tale_warn("saver", "%s: games stay in memory until it drains", err);
        }
        return TALE_SAVER_FULL;
    }
    save_job_t *j = tale_xcalloc(1, sizeof(*j));
    j->path = tale_xstrdup(path);
    j->bytes = bytes;
    j->len = len;
    j->ticket = ticket;
    j->cb = cb;
    j->data = data;
    if (bytes != NULL)
        sv->queued_bytes += len;
    if (sv->queued_bytes <= sv->queue_limit / 2)
        sv->full_logged = 0; /* drained well below the bound: a new episode logs again */
    *sv->queue_tail = j;
    sv->queue_tail = &j->next;
    pthread_cond_signal(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    return TALE_SAVER_QUEUED;
}

void
tale_saver_set_queue_limit(tale_saver_t *sv, size_t bytes)
{
    sv->queue_limit = bytes;
}

size_t
tale_saver_queued_bytes(tale_saver_t *sv)
{
    pthread_mutex_lock(&sv->mu);
    size_t n = sv->queued_bytes;
    pthread_mutex_unlock(&sv->mu);
    return n;
}

int
tale_saver_finished(const tale_saver_t *sv)
{
    return sv->finished;
}

const char *
tale_saver_unwritten(tale_saver_t *sv, size_t *len)
{
    if (sv->latest != NULL && len != NULL)
        *len = sv->latest_len;
    return sv->latest;
}

void
tale_saver_finish(tale_saver_t *sv)
{
    if (sv->finished)
        return;
    sv->finished = 1;
    if (sv->thread_started) {
        pthread_mutex_lock(&sv->mu);
        sv->stopping = 1;
        pthread_cond_signal(&sv->cv);
        pthread_mutex_unlock(&sv->mu);
        pthread_join(sv->thread, NULL); /* writes what was pending first */
        sv->thread_started = 0;
    }
    deliver_results(sv);
    if (sv->sock != NULL) {
        h2o_socket_read_stop(sv->sock);
        h2o_socket_close(sv->sock); /* closes efd */
        sv->sock = NULL;
        sv->efd = -1;
    }
    free(sv->latest);
    sv->latest = NULL;
}

void
tale_saver_free(tale_saver_t *sv)
{
    if (sv == NULL)
        return;
    tale_saver_finish(sv);
    if (sv->efd >= 0)
        close(sv->efd);
    while (sv->queue != NULL) { /* only when the worker never started */
        save_job_t *j = sv->queue;
        sv->queue = j->next;
        free_job(j);
    }
    pthread_mutex_destroy(&sv->mu);
    pthread_cond_destroy(&sv->cv);
    free(sv->path);
    free(sv);
}
