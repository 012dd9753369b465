/*
 * saver.c - the host's save worker: one thread that puts save files on disk
 * so that a player's `save` never fsyncs on the loop (DESIGN.md, "One event
 * loop": the one small, bounded worker the host may own).
 *
 * Data flow: loop --submit(bytes)--> pending job --worker--> atomic write
 * (tale_save_write_atomic) --result list + eventfd--> loop --cb--> engine.
 * A job owns its own copy of the bytes; the loop keeps another copy
 * (`latest`) for restores that must not read an older file.  Only the mutex
 * guards what both threads touch: `pending`, `stopping` and the result list.
 */
#include "saver.h"
#include "engine.h"
#include <tale/alloc.h>
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* One save on its way to disk; after the write it carries the result back. */
typedef struct save_job {
    struct save_job *next; /* in the result list */
    uint64_t ticket;
    char *bytes; /* the job's own copy; freed by the worker once written */
    size_t len;
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
    save_job_t *pending; /* at most one; a newer submit replaces it */
    int stopping;
    save_job_t *results, **results_tail;
};

static void
free_job(save_job_t *j)
{
    if (j != NULL) {
        free(j->bytes);
        free(j);
    }
}

/* The worker: take the pending job, write it, post the result; until asked
 * to stop with nothing left pending.  At most one write at a time. */
static void *
worker_main(void *arg)
{
    tale_saver_t *sv = arg;
    pthread_mutex_lock(&sv->mu);
    for (;;) {
        while (sv->pending == NULL && !sv->stopping)
            pthread_cond_wait(&sv->cv, &sv->mu);
        save_job_t *j = sv->pending;
        if (j == NULL)
            break;
        sv->pending = NULL;
        pthread_mutex_unlock(&sv->mu);

        j->ok = tale_save_write_atomic(sv->path, j->bytes, j->len, j->err, sizeof(j->err)) == 0;
        free(j->bytes);
        j->bytes = NULL;

        pthread_mutex_lock(&sv->mu);
        j->next = NULL;
        *sv->results_tail = j;
        sv->results_tail = &j->next;
        uint64_t one = 1;
        if (write(sv->efd, &one, sizeof(one)) < 0) {
            /* the counter cannot overflow at one write per save; the loop
             * still collects this result at its next wake-up or at finish */
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
    sv->path = tale_xstrdup(path);
    sv->efd = -1;
    sv->cb = cb;
    sv->data = data;
    sv->results_tail = &sv->results;
    pthread_mutex_init(&sv->mu, NULL);
    pthread_cond_init(&sv->cv, NULL);

    /* the first save may come before the folder exists */
    char *dcopy = tale_xstrdup(path);
    mkdir(dirname(dcopy), 0750);
    free(dcopy);

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
    save_job_t *j = tale_xcalloc(1, sizeof(*j));
    j->bytes = tale_xmalloc(len);
    memcpy(j->bytes, bytes, len);
    j->len = len;
    j->ticket = ticket;

    pthread_mutex_lock(&sv->mu);
    save_job_t *replaced = sv->pending; /* not started: the newer bytes cover it */
    sv->pending = j;
    pthread_cond_signal(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    free_job(replaced);

    free(sv->latest);
    sv->latest = bytes;
    sv->latest_len = len;
    sv->latest_ticket = ticket;
    return 0;
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
    free_job(sv->pending);
    pthread_mutex_destroy(&sv->mu);
    pthread_cond_destroy(&sv->cv);
    free(sv->path);
    free(sv);
}
