/*
 * accounts_store.h - MUD accounts and their characters in SQLite
 * (host-internal; issue #15).  Blocking calls: the server makes them on the
 * accounts worker thread only (accounts.h), the admin CLI and the tests
 * directly.  One store per thread; SQL only with bound parameters.
 *
 * Names: the engine's rule (engine.h, tale_name_shape_check: 3 to 20 ASCII
 * letters, a hyphen or apostrophe only between two letters), stored
 * capitalised at the start and after each separator ("mary-ann" is
 * "Mary-Ann").  Two names may not share a skeleton: the name lowercased
 * without its separators and with the look-alike letter pairs folded ("rn"
 * as "m", "vv" as "w", "cl" as "d"), so "Marn" cannot impersonate "Mam" nor
 * "Ma-ren" "Maren".  The world's own check (tale_world_name_check: NPCs,
 * game words, players online) is made when an account is created.  Passwords: 8 to 128 bytes, kept only as an
 * Argon2id string (libsodium crypto_pwhash_str).
 */
#ifndef TALE_ACCOUNTS_STORE_H
#define TALE_ACCOUNTS_STORE_H

#include "engine.h"
#include <stddef.h>
#include <stdint.h>

#define TALE_ACCT_NAME_MIN TALE_NAME_MIN
#define TALE_ACCT_NAME_MAX TALE_NAME_MAX
#define TALE_ACCT_PASSWORD_MIN 8
#define TALE_ACCT_PASSWORD_MAX 128

typedef struct tale_acct_store tale_acct_store_t;

/* Results of the calls below. */
enum {
    TALE_ACCT_OK = 0,
    TALE_ACCT_ERROR = -1, /* a database error (err says which) */
    TALE_ACCT_NOT_FOUND = 1,
    TALE_ACCT_TAKEN = 2, /* that name, or one that looks like it, has an account */
    TALE_ACCT_FULL = 3,  /* limits.max_accounts reached */
    TALE_ACCT_BAD_PASSWORD = 4,
    TALE_ACCT_LOCKED = 5,
};

/* One account as read back (strings owned by the record). */
typedef struct tale_acct_record {
    int64_t id;
    char name[TALE_ACCT_NAME_MAX + 1];
    char *pwhash;
    int locked;
    int64_t created, last_login;
    char *state; /* the character's stored state; NULL: none saved yet */
    size_t state_len;
} tale_acct_record_t;

void tale_acct_record_clear(tale_acct_record_t *r);

/* Check a name against the rule and write its display form (capitalised)
 * to out; 0, or -1 with why (the engine's words) in err. */
int tale_acct_name_canon(const char *name, size_t len, char out[TALE_ACCT_NAME_MAX + 1], char *err, size_t errlen);
/* The skeleton of a canonical name (see the top of the file). */
void tale_acct_name_skeleton(const char *name, char out[TALE_ACCT_NAME_MAX + 1]);

/* Argon2id cost: the defaults (TALE_ACCT_HASH_*), or the minimum libsodium
 * allows for tests and fuzzing (set before the first hash; process-wide). */
#define TALE_ACCT_HASH_OPS 2ULL                  /* crypto_pwhash_OPSLIMIT_INTERACTIVE */
#define TALE_ACCT_HASH_MEM (64ULL * 1024 * 1024) /* crypto_pwhash_MEMLIMIT_INTERACTIVE: 64 MiB */
void tale_acct_hash_cost(unsigned long long ops, size_t mem);
/* A NUL-terminated copy of a password, for a caller that wipes it
 * (sodium_memzero) and frees it once it is hashed: the typed line is the
 * transport's buffer, which we cannot wipe. */
char *tale_acct_secret_dup(const char *pw, size_t len);
/* Hash / verify a password (libsodium must be initialised: tale_acct_store_open does). */
int tale_acct_hash(const char *pw, size_t len, char *out, size_t outlen);
int tale_acct_verify(const char *hash, const char *pw, size_t len);

/* Open (creating it and its tables) the database at path (":memory:" for
 * tests).  WAL, synchronous=NORMAL, a busy timeout of busy_ms.  NULL with err. */
tale_acct_store_t *tale_acct_store_open(const char *path, int busy_ms, char *err, size_t errlen);
void tale_acct_store_close(tale_acct_store_t *st);

/* A new account, unless the name's skeleton is taken or max_accounts exist. */
int tale_acct_create(tale_acct_store_t *st, const char *name, const char *pwhash, int64_t now, uint64_t max_accounts, int64_t *id,
                     char *err, size_t errlen);
/* The account named `name` (any case) with its character's state. */
int tale_acct_get(tale_acct_store_t *st, const char *name, tale_acct_record_t *out, char *err, size_t errlen);
int tale_acct_set_password(tale_acct_store_t *st, const char *name, const char *pwhash, char *err, size_t errlen);
int tale_acct_set_locked(tale_acct_store_t *st, const char *name, int locked, char *err, size_t errlen);
int tale_acct_is_locked(tale_acct_store_t *st, int64_t id, int *locked, char *err, size_t errlen);
int tale_acct_touch_login(tale_acct_store_t *st, int64_t id, int64_t now, char *err, size_t errlen);
/* Delete an account and its character. */
int tale_acct_delete(tale_acct_store_t *st, const char *name, char *err, size_t errlen);
/* Every account, oldest first: cb gets each record (state not read). */
int tale_acct_list(tale_acct_store_t *st, void (*cb)(void *data, const tale_acct_record_t *r), void *data, char *err,
                   size_t errlen);
int64_t tale_acct_count(tale_acct_store_t *st);

/* Character saves: many in one transaction (begin, save..., commit). */
int tale_acct_begin(tale_acct_store_t *st, char *err, size_t errlen);
int tale_acct_save_character(tale_acct_store_t *st, int64_t id, const char *state, size_t len, int64_t now, char *err,
                             size_t errlen);
int tale_acct_commit(tale_acct_store_t *st, char *err, size_t errlen);
void tale_acct_rollback(tale_acct_store_t *st);

#endif
