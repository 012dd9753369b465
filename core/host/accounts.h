/*
 * accounts.h - MUD accounts on the loop's side (host-internal; issue #15):
 * the accounts worker and the login rate limits.
 *
 * Every SQLite call and every Argon2id hash runs on ONE worker thread that
 * owns the store (accounts_store.h); the loop queues requests and hears the
 * results through an eventfd, as the save worker does (saver.c).  The queue
 * is bounded: a request over TALE_ACCOUNTS_QUEUE_MAX is refused at once
 * ("server busy").  Character saves are not requests of their own: the
 * newest state per account waits in a table and the worker writes all of
 * them in one transaction each time it gets to them.
 *
 * Without a loop (tale_accounts_new with loop NULL: the fuzz target, unit
 * tests) a request runs at once on the caller's thread and its callback is
 * called before the request call returns.
 */
#ifndef TALE_ACCOUNTS_H
#define TALE_ACCOUNTS_H

#include "accounts_store.h"
#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

#define TALE_ACCOUNTS_QUEUE_MAX 256

typedef struct tale_accounts tale_accounts_t;

typedef struct tale_acct_result {
    int status; /* TALE_ACCT_* */
    int64_t id;
    char name[TALE_ACCT_NAME_MAX + 1]; /* the account's name as stored */
    char *state;                       /* login: the character's saved state (NULL: none); the callee may take it */
    size_t state_len;
    char err[256];
} tale_acct_result_t;

typedef void (*tale_acct_done_cb)(void *owner, tale_acct_result_t *r);

/* Open data_dir/accounts.sqlite (or `path`) on the worker.  loop NULL:
 * synchronous (see above).  NULL with err. */
tale_accounts_t *tale_accounts_new(h2o_evloop_t *loop, const char *path, uint64_t max_accounts, uint64_t failures_per_minute,
                                   uint64_t creates_per_hour, char *err, size_t errlen);
/* Write the pending saves, stop the worker (blocks), free. */
void tale_accounts_free(tale_accounts_t *a);

/* Requests: 0 queued, -1 when the queue is full (tell the player the
 * server is busy).  Passwords are copied and wiped once hashed; `owner` is
 * what cb gets (tale_accounts_cancel drops its results). */
int tale_accounts_login(tale_accounts_t *a, const char *name, const char *pw, size_t pwlen, tale_acct_done_cb cb, void *owner);
int tale_accounts_create(tale_accounts_t *a, const char *name, const char *pw, size_t pwlen, tale_acct_done_cb cb, void *owner);
int tale_accounts_password(tale_accounts_t *a, const char *name, const char *old, size_t oldlen, const char *pw, size_t pwlen,
                           tale_acct_done_cb cb, void *owner);
/* Is account `id` locked now?  (The periodic re-check that ends a locked
 * player's session.)  r->status is TALE_ACCT_LOCKED, OK or NOT_FOUND. */
int tale_accounts_check(tale_accounts_t *a, int64_t id, tale_acct_done_cb cb, void *owner);
/* The owner is gone: its requests still run, their callbacks do not. */
void tale_accounts_cancel(tale_accounts_t *a, void *owner);

/* Keep account id's character state (takes `state`, malloc'd); a newer
 * one for the same account replaces it until the worker writes it. */
void tale_accounts_save(tale_accounts_t *a, int64_t id, char *state, size_t len);
/* Requests queued or running (for tests and the bench). */
size_t tale_accounts_pending(const tale_accounts_t *a);

/* Login rate limits (on the loop): seconds to wait before this account
 * (by skeleton) or this address may try a password again; 0 now.  An
 * account is blocked after failures_per_minute failures in a minute, an
 * address after four times that; each block in a row lasts twice as long. */
uint64_t tale_accounts_login_wait(tale_accounts_t *a, const char *skeleton, const char *addr, uint64_t now_ms);
void tale_accounts_login_failed(tale_accounts_t *a, const char *skeleton, const char *addr, uint64_t now_ms);
void tale_accounts_login_ok(tale_accounts_t *a, const char *skeleton);
/* Account creation per address: seconds to wait, and the creation itself. */
uint64_t tale_accounts_create_wait(tale_accounts_t *a, const char *addr, uint64_t now_ms);
void tale_accounts_created(tale_accounts_t *a, const char *addr, uint64_t now_ms);

#endif
