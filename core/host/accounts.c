/*
 * accounts.c - the accounts worker and the login rate limits (accounts.h).
 *
 * Data flow: loop --request--> job queue --worker: Argon2id + SQLite-->
 * result list + eventfd --> loop --cb--> the seat's dialogue.  The worker
 * owns the store; the loop never touches it.  Only the mutex guards what
 * both threads touch: the queue, the pending saves, `stopping` and the
 * result list.  A job's `cancelled` and its outstanding-list links are the
 * loop's own.
 *
 * Rate limits live on the loop, in one bounded table of keys ("a:" and a
 * name's skeleton, "p:" and an address, "c:" and an address).  Failed
 * logins count in one-minute windows; reaching limits.login_failures_per_minute
 * (four times that for an address) blocks the key for a minute, doubling with each block in a row (at most
 * an hour) until a login succeeds.  Creations count per address in
 * one-hour windows.  A full table forgets its least recently touched key.
 */
#include "accounts.h"
#include <tale/alloc.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define LIMIT_KEYS 4096
#define LIMIT_KEY_MAX 64
#define FAIL_WINDOW_MS (60 * 1000)
#define CREATE_WINDOW_MS (60 * 60 * 1000)
#define MAX_BLOCK_MS (60 * 60 * 1000)
/* An address may hold many players (a school, a carrier's NAT): it gets
 * this many times an account's failures before it is blocked. */
#define ADDRESS_FAILURES_FACTOR 4

enum job_kind { JOB_LOGIN, JOB_CREATE, JOB_PASSWORD, JOB_CHECK };

typedef struct acct_job {
    struct acct_job *next;           /* in the queue, then in the result list */
    struct acct_job *onext, **oprev; /* the loop's list of outstanding jobs */
    enum job_kind kind;
    char name[TALE_ACCT_NAME_MAX + 1];
    char *pw, *pw2; /* wiped and freed by the worker */
    size_t pwlen, pw2len;
    int64_t id;
    tale_acct_done_cb cb;
    void *owner;
    int cancelled;
    tale_acct_result_t r;
} acct_job_t;

typedef struct pending_save {
    int64_t id;
    char *state;
    size_t len;
} pending_save_t;

typedef struct limit_key {
    char key[LIMIT_KEY_MAX];
    uint64_t touched, window_start, blocked_until;
    uint32_t count, level;
} limit_key_t;

struct tale_accounts {
    tale_acct_store_t *store; /* the worker's (the caller's without a loop) */
    uint64_t max_accounts, failures_per_minute, creates_per_hour;
    int efd;
    h2o_socket_t *sock;
    pthread_t thread;
    int thread_started;
    size_t n_jobs;           /* queued or running, not yet delivered (loop) */
    acct_job_t *outstanding; /* the loop's list of them */
    limit_key_t *limits;     /* loop */
    size_t n_limits;
    /* shared with the worker, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    acct_job_t *queue, **queue_tail;
    acct_job_t *results, **results_tail;
    pending_save_t *saves;
    size_t n_saves, saves_cap;
    int stopping;
};

static void
wipe_free(char *p, size_t len)
{
    if (p != NULL) {
        sodium_memzero(p, len);
        free(p);
    }
}

/* The worker's part of a request: hash or verify, then the database. */
static void
run_job(tale_accounts_t *a, acct_job_t *j)
{
    tale_acct_result_t *r = &j->r;
    char hash[crypto_pwhash_STRBYTES];
    tale_acct_record_t rec;
    switch (j->kind) {
    case JOB_CREATE:
        if (tale_acct_hash(j->pw, j->pwlen, hash, sizeof(hash)) != 0) {
            r->status = TALE_ACCT_ERROR;
            snprintf(r->err, sizeof(r->err), "out of memory hashing a password");
            break;
        }
        r->status = tale_acct_create(a->store, j->name, hash, (int64_t)time(NULL), a->max_accounts, &r->id, r->err, sizeof(r->err));
        snprintf(r->name, sizeof(r->name), "%s", j->name);
        break;
    case JOB_LOGIN:
    case JOB_PASSWORD:
        r->status = tale_acct_get(a->store, j->name, &rec, r->err, sizeof(r->err));
        if (r->status != TALE_ACCT_OK) {
            /* an unknown name costs a hash too, so timing does not tell it apart */
            if (r->status == TALE_ACCT_NOT_FOUND)
                tale_acct_hash(j->pw, j->pwlen, hash, sizeof(hash));
            break;
        }
        r->id = rec.id;
        snprintf(r->name, sizeof(r->name), "%s", rec.name);
        if (!tale_acct_verify(rec.pwhash, j->pw, j->pwlen)) {
            r->status = TALE_ACCT_BAD_PASSWORD;
        } else if (rec.locked) {
            r->status = TALE_ACCT_LOCKED;
        } else if (j->kind == JOB_LOGIN) {
            r->state = rec.state;
            r->state_len = rec.state_len;
            rec.state = NULL;
            tale_acct_touch_login(a->store, rec.id, (int64_t)time(NULL), r->err, sizeof(r->err));
        } else if (tale_acct_hash(j->pw2, j->pw2len, hash, sizeof(hash)) != 0) {
            r->status = TALE_ACCT_ERROR;
            snprintf(r->err, sizeof(r->err), "out of memory hashing a password");
        } else {
            r->status = tale_acct_set_password(a->store, rec.name, hash, r->err, sizeof(r->err));
        }
        tale_acct_record_clear(&rec);
        break;
    case JOB_CHECK: {
        int locked = 0;
        r->status = tale_acct_is_locked(a->store, j->id, &locked, r->err, sizeof(r->err));
        if (r->status == TALE_ACCT_OK && locked)
            r->status = TALE_ACCT_LOCKED;
        break;
    }
    }
    sodium_memzero(hash, sizeof(hash));
    wipe_free(j->pw, j->pwlen);
    wipe_free(j->pw2, j->pw2len);
    j->pw = j->pw2 = NULL;
}

/* Every pending save in one transaction (the worker's, or the caller's
 * without a loop).  A failed batch is logged by the caller's err only:
 * the states were the newest, and the next save of each brings them again. */
static void
write_saves(tale_accounts_t *a, pending_save_t *saves, size_t n)
{
    char err[256];
    int64_t now = (int64_t)time(NULL);
    if (n == 0)
        return;
    if (tale_acct_begin(a->store, err, sizeof(err)) == TALE_ACCT_OK) {
        int ok = 1;
        for (size_t i = 0; i < n && ok; i++)
            ok = tale_acct_save_character(a->store, saves[i].id, saves[i].state, saves[i].len, now, err, sizeof(err)) >= 0;
        if (!ok || tale_acct_commit(a->store, err, sizeof(err)) != TALE_ACCT_OK) {
            tale_acct_rollback(a->store);
            fprintf(stderr, "accounts: character saves lost: %s\n", err);
        }
    } else {
        fprintf(stderr, "accounts: character saves lost: %s\n", err);
    }
    for (size_t i = 0; i < n; i++)
        free(saves[i].state);
}

static void *
worker_main(void *arg)
{
    tale_accounts_t *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (a->queue == NULL && a->n_saves == 0 && !a->stopping)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->n_saves != 0) {
            pending_save_t *saves = a->saves;
            size_t n = a->n_saves;
            a->saves = NULL;
            a->n_saves = a->saves_cap = 0;
            pthread_mutex_unlock(&a->mu);
            write_saves(a, saves, n);
            free(saves);
            pthread_mutex_lock(&a->mu);
            continue;
        }
        acct_job_t *j = a->queue;
        if (j == NULL)
            break; /* stopping, and nothing left */
        if ((a->queue = j->next) == NULL)
            a->queue_tail = &a->queue;
        pthread_mutex_unlock(&a->mu);

        run_job(a, j);

        pthread_mutex_lock(&a->mu);
        j->next = NULL;
        *a->results_tail = j;
        a->results_tail = &j->next;
        uint64_t one = 1;
        if (write(a->efd, &one, sizeof(one)) < 0) {
            /* the loop collects this result at its next wake-up or at free */
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void
unlink_outstanding(acct_job_t *j)
{
    if (j->oprev != NULL) {
        *j->oprev = j->onext;
        if (j->onext != NULL)
            j->onext->oprev = j->oprev;
        j->oprev = NULL;
    }
}

static void
deliver(tale_accounts_t *a, acct_job_t *j)
{
    unlink_outstanding(j);
    a->n_jobs--;
    if (!j->cancelled && j->cb != NULL)
        j->cb(j->owner, &j->r);
    free(j->r.state);
    free(j);
}

static void
deliver_results(tale_accounts_t *a)
{
    pthread_mutex_lock(&a->mu);
    acct_job_t *r = a->results;
    a->results = NULL;
    a->results_tail = &a->results;
    pthread_mutex_unlock(&a->mu);
    while (r != NULL) {
        acct_job_t *next = r->next;
        deliver(a, r);
        r = next;
    }
}

static void
on_wakeup(h2o_socket_t *sock, const char *err)
{
    tale_accounts_t *a = sock->data;
    uint64_t n;
    ssize_t got = read(a->efd, &n, sizeof(n)); /* EAGAIN only means nothing new */
    (void)got;
    (void)err;
    h2o_buffer_consume(&sock->input, sock->input->size);
    deliver_results(a);
}

tale_accounts_t *
tale_accounts_new(h2o_evloop_t *loop, const char *path, uint64_t max_accounts, uint64_t failures_per_minute,
                  uint64_t creates_per_hour, char *err, size_t errlen)
{
    tale_accounts_t *a = tale_xcalloc(1, sizeof(*a));
    a->max_accounts = max_accounts;
    a->failures_per_minute = failures_per_minute;
    a->creates_per_hour = creates_per_hour;
    a->efd = -1;
    a->queue_tail = &a->queue;
    a->results_tail = &a->results;
    a->limits = tale_xcalloc(LIMIT_KEYS, sizeof(*a->limits));
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    /* opened here, used by the worker from now on: the thread start orders it */
    if ((a->store = tale_acct_store_open(path, 5000, err, errlen)) == NULL)
        goto fail;
    if (loop == NULL)
        return a;
    if ((a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    /* SIGINT/SIGTERM belong to the loop's signalfd */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&a->thread, NULL, worker_main, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the accounts worker: %s", strerror(rc));
        goto fail;
    }
    a->thread_started = 1;
    a->sock = h2o_evloop_socket_create(loop, a->efd, H2O_SOCKET_FLAG_DONT_READ);
    a->sock->data = a;
    h2o_socket_read_start(a->sock, on_wakeup);
    return a;
fail:
    tale_accounts_free(a);
    return NULL;
}

void
tale_accounts_free(tale_accounts_t *a)
{
    if (a == NULL)
        return;
    if (a->thread_started) {
        pthread_mutex_lock(&a->mu);
        a->stopping = 1;
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL); /* runs what is queued and writes the saves first */
        a->thread_started = 0;
    } else if (a->store != NULL) {
        write_saves(a, a->saves, a->n_saves);
        a->n_saves = 0;
    }
    deliver_results(a);
    if (a->sock != NULL) {
        h2o_socket_read_stop(a->sock);
        h2o_socket_close(a->sock); /* closes efd */
    } else if (a->efd >= 0) {
        close(a->efd);
    }
    tale_acct_store_close(a->store);
    free(a->saves);
    free(a->limits);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}

static int
submit(tale_accounts_t *a, acct_job_t *j)
{
    if (a->n_jobs >= TALE_ACCOUNTS_QUEUE_MAX) {
        wipe_free(j->pw, j->pwlen);
        wipe_free(j->pw2, j->pw2len);
        free(j);
        return -1;
    }
    a->n_jobs++;
    j->onext = a->outstanding;
    if (j->onext != NULL)
        j->onext->oprev = &j->onext;
    j->oprev = &a->outstanding;
    a->outstanding = j;
    if (!a->thread_started) {
        run_job(a, j);
        deliver(a, j);
        return 0;
    }
    pthread_mutex_lock(&a->mu);
    *a->queue_tail = j;
    a->queue_tail = &j->next;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

/* A job with its own copy of the password (NULL: none). */
static acct_job_t *
job_new(enum job_kind kind, const char *name, const char *pw, size_t pwlen, tale_acct_done_cb cb, void *owner)
{
    acct_job_t *j = tale_xcalloc(1, sizeof(*j));
    j->kind = kind;
    if (name != NULL)
        snprintf(j->name, sizeof(j->name), "%s", name);
    if (pw != NULL) {
        j->pw = tale_acct_secret_dup(pw, pwlen);
        j->pwlen = pwlen;
    }
    j->cb = cb;
    j->owner = owner;
    return j;
}

int
tale_accounts_login(tale_accounts_t *a, const char *name, const char *pw, size_t pwlen, tale_acct_done_cb cb, void *owner)
{
    return submit(a, job_new(JOB_LOGIN, name, pw, pwlen, cb, owner));
}

int
tale_accounts_create(tale_accounts_t *a, const char *name, const char *pw, size_t pwlen, tale_acct_done_cb cb, void *owner)
{
    return submit(a, job_new(JOB_CREATE, name, pw, pwlen, cb, owner));
}

int
tale_accounts_password(tale_accounts_t *a, const char *name, const char *old, size_t oldlen, const char *pw, size_t pwlen,
                       tale_acct_done_cb cb, void *owner)
{
    acct_job_t *j = job_new(JOB_PASSWORD, name, old, oldlen, cb, owner);
    j->pw2 = tale_acct_secret_dup(pw, pwlen);
    j->pw2len = pwlen;
    return submit(a, j);
}

int
tale_accounts_check(tale_accounts_t *a, int64_t id, tale_acct_done_cb cb, void *owner)
{
    acct_job_t *j = job_new(JOB_CHECK, NULL, NULL, 0, cb, owner);
    j->id = id;
    return submit(a, j);
}

void
tale_accounts_cancel(tale_accounts_t *a, void *owner)
{
    for (acct_job_t *j = a->outstanding; j != NULL; j = j->onext)
        if (j->owner == owner)
            j->cancelled = 1;
}

size_t
tale_accounts_pending(const tale_accounts_t *a)
{
    return a->n_jobs;
}

void
tale_accounts_save(tale_accounts_t *a, int64_t id, char *state, size_t len)
{
    pthread_mutex_lock(&a->mu);
    size_t i;
    for (i = 0; i < a->n_saves; i++)
        if (a->saves[i].id == id)
            break;
    char *old = NULL;
    if (i < a->n_saves) {
        old = a->saves[i].state;
    } else {
        if (a->n_saves == a->saves_cap) {
            a->saves_cap = a->saves_cap != 0 ? a->saves_cap * 2 : 16;
            a->saves = tale_xrealloc(a->saves, a->saves_cap * sizeof(*a->saves));
        }
        a->n_saves++;
    }
    a->saves[i] = (pending_save_t){id, state, len};
    if (a->thread_started)
        pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    free(old);
    if (!a->thread_started) {
        write_saves(a, a->saves, a->n_saves);
        a->n_saves = 0;
    }
}

/* ---- rate limits (the loop's) ------------------------------------------ */

static limit_key_t *
limit_find(tale_accounts_t *a, const char *prefix, const char *name, int add, uint64_t now)
{
    char key[LIMIT_KEY_MAX];
    snprintf(key, sizeof(key), "%s%s", prefix, name != NULL ? name : "");
    limit_key_t *oldest = NULL;
    for (size_t i = 0; i < a->n_limits; i++) {
        limit_key_t *k = &a->limits[i];
        if (strcmp(k->key, key) == 0) {
            if (add)
                k->touched = now;
            return k;
        }
        if (oldest == NULL || k->touched < oldest->touched)
            oldest = k;
    }
    if (!add)
        return NULL;
    limit_key_t *k = a->n_limits < LIMIT_KEYS ? &a->limits[a->n_limits++] : oldest;
    memset(k, 0, sizeof(*k));
    memcpy(k->key, key, sizeof(key));
    k->touched = now;
    k->window_start = now;
    return k;
}

static uint64_t
seconds_left(uint64_t until, uint64_t now)
{
    return until > now ? (until - now + 999) / 1000 : 0;
}

uint64_t
tale_accounts_login_wait(tale_accounts_t *a, const char *skeleton, const char *addr, uint64_t now_ms)
{
    limit_key_t *k1 = skeleton != NULL ? limit_find(a, "a:", skeleton, 0, now_ms) : NULL;
    limit_key_t *k2 = addr != NULL ? limit_find(a, "p:", addr, 0, now_ms) : NULL;
    uint64_t w1 = k1 != NULL ? seconds_left(k1->blocked_until, now_ms) : 0;
    uint64_t w2 = k2 != NULL ? seconds_left(k2->blocked_until, now_ms) : 0;
    return w1 > w2 ? w1 : w2;
}

static void
count_failure(limit_key_t *k, uint64_t limit, uint64_t now)
{
    if (now - k->window_start >= FAIL_WINDOW_MS) {
        k->window_start = now;
        k->count = 0;
    }
    if (++k->count < limit)
        return;
    uint64_t block = (uint64_t)FAIL_WINDOW_MS << (k->level < 6 ? k->level : 6);
    if (block > MAX_BLOCK_MS)
        block = MAX_BLOCK_MS;
    k->blocked_until = now + block;
    k->level++;
    k->count = 0;
    k->window_start = now;
}

void
tale_accounts_login_failed(tale_accounts_t *a, const char *skeleton, const char *addr, uint64_t now_ms)
{
    if (skeleton != NULL)
        count_failure(limit_find(a, "a:", skeleton, 1, now_ms), a->failures_per_minute, now_ms);
    if (addr != NULL)
        count_failure(limit_find(a, "p:", addr, 1, now_ms), a->failures_per_minute * ADDRESS_FAILURES_FACTOR, now_ms);
}

void
tale_accounts_login_ok(tale_accounts_t *a, const char *skeleton)
{
    limit_key_t *k = limit_find(a, "a:", skeleton, 0, 0);
    if (k != NULL) {
        k->count = 0;
        k->level = 0;
        k->blocked_until = 0;
    }
}

uint64_t
tale_accounts_create_wait(tale_accounts_t *a, const char *addr, uint64_t now_ms)
{
    if (a->creates_per_hour == 0 || addr == NULL)
        return 0;
    limit_key_t *k = limit_find(a, "c:", addr, 0, now_ms);
    if (k == NULL || now_ms - k->window_start >= CREATE_WINDOW_MS || k->count < a->creates_per_hour)
        return 0;
    return seconds_left(k->window_start + CREATE_WINDOW_MS, now_ms);
}

void
tale_accounts_created(tale_accounts_t *a, const char *addr, uint64_t now_ms)
{
    if (addr == NULL)
        return;
    limit_key_t *k = limit_find(a, "c:", addr, 1, now_ms);
    if (now_ms - k->window_start >= CREATE_WINDOW_MS) {
        k->window_start = now_ms;
        k->count = 0;
    }
    k->count++;
}
