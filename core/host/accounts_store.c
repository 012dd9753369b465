/*
 * accounts_store.c - the SQLite side of accounts (accounts_store.h).
 *
 * Durability: WAL with synchronous=NORMAL.  A committed transaction survives
 * the process being killed (the WAL is written before the commit returns);
 * on a power cut or OS crash the transactions committed since the last WAL
 * sync (at most those of the last checkpoint interval, about a second of
 * character saves) may be lost, never the database's integrity.  FULL would
 * fsync every commit, which the batched saves do not need.
 *
 * Every statement is prepared once per store with `?` parameters and bound
 * with sqlite3_bind_*: no SQL is built from strings.
 */
#include "accounts_store.h"
#include <tale/alloc.h>
#include <ctype.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] = "CREATE TABLE IF NOT EXISTS accounts ("
                             " id INTEGER PRIMARY KEY,"
                             " name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
                             " skeleton TEXT NOT NULL UNIQUE,"
                             " pwhash TEXT NOT NULL,"
                             " created INTEGER NOT NULL,"
                             " last_login INTEGER NOT NULL DEFAULT 0,"
                             " locked INTEGER NOT NULL DEFAULT 0);"
                             "CREATE TABLE IF NOT EXISTS characters ("
                             " account INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,"
                             " state BLOB NOT NULL,"
                             " saved_at INTEGER NOT NULL);";

enum stmt {
    ST_CREATE,
    ST_COUNT,
    ST_GET,
    ST_SET_PW,
    ST_SET_LOCKED,
    ST_IS_LOCKED,
    ST_TOUCH,
    ST_DELETE,
    ST_LIST,
    ST_SAVE,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    N_STMTS
};

static const char *const stmt_sql[N_STMTS] = {
    [ST_CREATE] = "INSERT INTO accounts(name, skeleton, pwhash, created) VALUES(?1, ?2, ?3, ?4)",
    [ST_COUNT] = "SELECT count(*) FROM accounts",
    [ST_GET] = "SELECT a.id, a.name, a.pwhash, a.locked, a.created, a.last_login, c.state FROM accounts a"
               " LEFT JOIN characters c ON c.account = a.id WHERE a.name = ?1",
    [ST_SET_PW] = "UPDATE accounts SET pwhash = ?2 WHERE name = ?1",
    [ST_SET_LOCKED] = "UPDATE accounts SET locked = ?2 WHERE name = ?1",
    [ST_IS_LOCKED] = "SELECT locked FROM accounts WHERE id = ?1",
    [ST_TOUCH] = "UPDATE accounts SET last_login = ?2 WHERE id = ?1",
    [ST_DELETE] = "DELETE FROM accounts WHERE name = ?1",
    [ST_LIST] = "SELECT id, name, locked, created, last_login FROM accounts ORDER BY id",
    [ST_SAVE] = "INSERT INTO characters(account, state, saved_at) SELECT ?1, ?2, ?3 WHERE EXISTS"
                " (SELECT 1 FROM accounts WHERE id = ?1)"
                " ON CONFLICT(account) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct tale_acct_store {
    sqlite3 *db;
    sqlite3_stmt *st[N_STMTS];
};

static unsigned long long hash_ops = TALE_ACCT_HASH_OPS;
static size_t hash_mem = TALE_ACCT_HASH_MEM;

void
tale_acct_hash_cost(unsigned long long ops, size_t mem)
{
    hash_ops = ops;
    hash_mem = mem;
}

int
tale_acct_hash(const char *pw, size_t len, char *out, size_t outlen)
{
    if (outlen < crypto_pwhash_STRBYTES)
        return -1;
    return crypto_pwhash_str_alg(out, pw, len, hash_ops, hash_mem, crypto_pwhash_ALG_ARGON2ID13);
}

int
tale_acct_verify(const char *hash, const char *pw, size_t len)
{
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

char *
tale_acct_secret_dup(const char *pw, size_t len)
{
    char *c = tale_xmalloc(len + 1);
    memcpy(c, pw, len);
    c[len] = '\0';
    return c;
}

void
tale_acct_record_clear(tale_acct_record_t *r)
{
    if (r->pwhash != NULL) {
        sodium_memzero(r->pwhash, strlen(r->pwhash));
        free(r->pwhash);
    }
    free(r->state);
    memset(r, 0, sizeof(*r));
}

int
tale_acct_name_canon(const char *name, size_t len, char out[TALE_ACCT_NAME_MAX + 1], char *err, size_t errlen)
{
    const char *why = NULL;
    if (tale_name_shape_check(name, len, &why) != 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        /* one case per place: a capital I cannot pose as a small l */
        int word_start = i == 0 || name[i - 1] == '-' || name[i - 1] == '\'';
        out[i] = (char)(word_start ? toupper(c) : tolower(c));
    }
    out[len] = '\0';
    return 0;
}

void
tale_acct_name_skeleton(const char *name, char out[TALE_ACCT_NAME_MAX + 1])
{
    static const char *const pairs[][2] = {{"rn", "m"}, {"vv", "w"}, {"cl", "d"}};
    char bare[TALE_ACCT_NAME_MAX + 1];
    size_t n = 0;
    /* separators are not a way around a name: "Ma-ren" is "Maren" */
    for (size_t i = 0; name[i] != '\0' && n < TALE_ACCT_NAME_MAX; i++)
        if (name[i] != '-' && name[i] != '\'')
            bare[n++] = (char)tolower((unsigned char)name[i]);
    bare[n] = '\0';
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < sizeof(pairs) / sizeof(pairs[0]); j++)
            if (bare[i] == pairs[j][0][0] && bare[i + 1] == pairs[j][0][1])
                break;
        if (j < sizeof(pairs) / sizeof(pairs[0])) {
            out[k++] = pairs[j][1][0];
            i++;
        } else {
            out[k++] = bare[i];
        }
    }
    out[k] = '\0';
}

static int
db_error(tale_acct_store_t *st, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
    return TALE_ACCT_ERROR;
}

static sqlite3_stmt *
stmt(tale_acct_store_t *st, enum stmt which)
{
    sqlite3_stmt *s = st->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

tale_acct_store_t *
tale_acct_store_open(const char *path, int busy_ms, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium cannot start");
        return NULL;
    }
    tale_acct_store_t *st = tale_xcalloc(1, sizeof(*st));
    char *msg = NULL;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, st->db != NULL ? sqlite3_errmsg(st->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, busy_ms);
    /* fixed pragmas and the schema: no parameters, nothing from outside */
    if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL, NULL, &msg) !=
            SQLITE_OK ||
        sqlite3_exec(st->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg != NULL ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < N_STMTS; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
            goto fail;
        }
    }
    return st;
fail:
    tale_acct_store_close(st);
    return NULL;
}

void
tale_acct_store_close(tale_acct_store_t *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < N_STMTS; i++)
        sqlite3_finalize(st->st[i]);
    sqlite3_close(st->db);
    free(st);
}

int64_t
tale_acct_count(tale_acct_store_t *st)
{
    sqlite3_stmt *s = stmt(st, ST_COUNT);
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return n;
}

int
tale_acct_create(tale_acct_store_t *st, const char *name, const char *pwhash, int64_t now, uint64_t max_accounts, int64_t *id,
                 char *err, size_t errlen)
{
    int64_t n = tale_acct_count(st);
    if (n < 0)
        return db_error(st, "counting accounts", err, errlen);
    if ((uint64_t)n >= max_accounts)
        return TALE_ACCT_FULL;
    char skel[TALE_ACCT_NAME_MAX + 1];
    tale_acct_name_skeleton(name, skel);
    sqlite3_stmt *s = stmt(st, ST_CREATE);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, skel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT)
        return TALE_ACCT_TAKEN;
    if (rc != SQLITE_DONE)
        return db_error(st, "creating an account", err, errlen);
    if (id != NULL)
        *id = sqlite3_last_insert_rowid(st->db);
    return TALE_ACCT_OK;
}

int
tale_acct_get(tale_acct_store_t *st, const char *name, tale_acct_record_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *s = stmt(st, ST_GET);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return TALE_ACCT_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return db_error(st, "reading an account", err, errlen);
    }
    out->id = sqlite3_column_int64(s, 0);
    snprintf(out->name, sizeof(out->name), "%s", (const char *)sqlite3_column_text(s, 1));
    out->pwhash = tale_xstrdup((const char *)sqlite3_column_text(s, 2));
    out->locked = sqlite3_column_int(s, 3) != 0;
    out->created = sqlite3_column_int64(s, 4);
    out->last_login = sqlite3_column_int64(s, 5);
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
        const void *blob = sqlite3_column_blob(s, 6);
        out->state_len = (size_t)sqlite3_column_bytes(s, 6);
        out->state = tale_xmalloc(out->state_len + 1);
        if (out->state_len > 0)
            memcpy(out->state, blob, out->state_len);
        out->state[out->state_len] = '\0';
    }
    sqlite3_reset(s);
    return TALE_ACCT_OK;
}

/* One UPDATE/DELETE keyed by name: NOT_FOUND when no row changed. */
static int
step_changes(tale_acct_store_t *st, sqlite3_stmt *s, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return db_error(st, what, err, errlen);
    return sqlite3_changes(st->db) > 0 ? TALE_ACCT_OK : TALE_ACCT_NOT_FOUND;
}

int
tale_acct_set_password(tale_acct_store_t *st, const char *name, const char *pwhash, char *err, size_t errlen)
{
    sqlite3_stmt *s = stmt(st, ST_SET_PW);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, pwhash, -1, SQLITE_STATIC);
    return step_changes(st, s, "changing a password", err, errlen);
}

int
tale_acct_set_locked(tale_acct_store_t *st, const char *name, int locked, char *err, size_t errlen)
{
    sqlite3_stmt *s = stmt(st, ST_SET_LOCKED);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, locked != 0);
    return step_changes(st, s, "locking an account", err, errlen);
}

int
tale_acct_is_locked(tale_acct_store_t *st, int64_t id, int *locked, char *err, size_t errlen)
{
    sqlite3_stmt *s = stmt(st, ST_IS_LOCKED);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *locked = sqlite3_column_int(s, 0) != 0;
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return TALE_ACCT_NOT_FOUND;
    return rc == SQLITE_ROW ? TALE_ACCT_OK : db_error(st, "reading an account", err, errlen);
}

int
tale_acct_touch_login(tale_acct_store_t *st, int64_t id, int64_t now, char *err, size_t errlen)
{
    sqlite3_stmt *s = stmt(st, ST_TOUCH);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    return step_changes(st, s, "recording a login", err, errlen);
}

int
tale_acct_delete(tale_acct_store_t *st, const char *name, char *err, size_t errlen)
{
    sqlite3_stmt *s = stmt(st, ST_DELETE);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    return step_changes(st, s, "deleting an account", err, errlen);
}

int
tale_acct_list(tale_acct_store_t *st, void (*cb)(void *data, const tale_acct_record_t *r), void *data, char *err, size_t errlen)
{
    sqlite3_stmt *s = stmt(st, ST_LIST);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        tale_acct_record_t r = {0};
        r.id = sqlite3_column_int64(s, 0);
        snprintf(r.name, sizeof(r.name), "%s", (const char *)sqlite3_column_text(s, 1));
        r.locked = sqlite3_column_int(s, 2) != 0;
        r.created = sqlite3_column_int64(s, 3);
        r.last_login = sqlite3_column_int64(s, 4);
        cb(data, &r);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? TALE_ACCT_OK : db_error(st, "listing accounts", err, errlen);
}

static int
step_fixed(tale_acct_store_t *st, enum stmt which, const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *s = stmt(st, which);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? TALE_ACCT_OK : db_error(st, what, err, errlen);
}

int
tale_acct_begin(tale_acct_store_t *st, char *err, size_t errlen)
{
    return step_fixed(st, ST_BEGIN, "starting a transaction", err, errlen);
}

int
tale_acct_commit(tale_acct_store_t *st, char *err, size_t errlen)
{
    return step_fixed(st, ST_COMMIT, "committing", err, errlen);
}

void
tale_acct_rollback(tale_acct_store_t *st)
{
    if (!sqlite3_get_autocommit(st->db)) {
        char err[64];
        step_fixed(st, ST_ROLLBACK, "rolling back", err, sizeof(err));
    }
}

int
tale_acct_save_character(tale_acct_store_t *st, int64_t id, const char *state, size_t len, int64_t now, char *err, size_t errlen)
{
    sqlite3_stmt *s = stmt(st, ST_SAVE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_blob64(s, 2, state, len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return step_changes(st, s, "saving a character", err, errlen);
}
