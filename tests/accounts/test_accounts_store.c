/*
 * test_accounts_store.c - the accounts store (core/host/accounts_store.c),
 * the worker on a real h2o loop and the login rate limits (accounts.c), and
 * the login dialogue (accounts_dialogue.c) driven synchronously.  Argon2id
 * runs at libsodium's minimum cost here: the cost is a parameter, the code
 * paths are the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "accounts_dialogue.h"
#include "accounts_store.h"

static char *
temp_db(void)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/tale-acct-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    return path;
}

static void
remove_db(const char *path)
{
    char p[96];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static void
test_name_rules(void **state)
{
    (void)state;
    char out[TALE_ACCT_NAME_MAX + 1], err[256], sk[TALE_ACCT_NAME_MAX + 1];
    assert_int_equal(tale_acct_name_canon("mARY", 4, out, err, sizeof(err)), 0);
    assert_string_equal(out, "Mary");
    /* the engine's rule (engine.h, tale_name_shape_check), word for word */
    static const struct {
        const char *name, *canon, *why;
    } cases[] = {
        {"ann", "Ann", NULL},
        {"mary-ann", "Mary-Ann", NULL},
        {"o'neil", "O'Neil", NULL},
        {"aBCDEFGHIJKLMNOPQRST", "Abcdefghijklmnopqrst", NULL}, /* 20 */
        {"Al", NULL, "3 to 20"},
        {"abcdefghijklmnopqrstu", NULL, "3 to 20"},
        {"", NULL, "3 to 20"},
        {"M\xc3\xa1ry", NULL, "plain letters"},
        {"Ma ry", NULL, "no spaces"},
        {"Mary1", NULL, "digits"},
        {"-Ann", NULL, "between two"},
        {"Ann-", NULL, "between two"},
        {"Ma--ry", NULL, "between two"},
        {"Ma-'ry", NULL, "between two"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        size_t len = strlen(cases[i].name);
        int rc = tale_acct_name_canon(cases[i].name, len, out, err, sizeof(err));
        assert_int_equal(rc, tale_name_shape_check(cases[i].name, len, &why));
        if (cases[i].canon != NULL) {
            assert_int_equal(rc, 0);
            assert_string_equal(out, cases[i].canon);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(err, why);
            assert_non_null(strstr(err, cases[i].why));
        }
    }
    /* a NUL inside the typed bytes is not a letter */
    assert_int_equal(tale_acct_name_canon("Ma\0ry", 5, out, err, sizeof(err)), -1);
    tale_acct_name_skeleton("Marn", sk);
    assert_string_equal(sk, "mam");
    tale_acct_name_skeleton("Vvendy", sk);
    assert_string_equal(sk, "wendy");
    tale_acct_name_skeleton("Clave", sk);
    assert_string_equal(sk, "dave");
    tale_acct_name_skeleton("Ma-R'n", sk); /* separators do not tell names apart */
    assert_string_equal(sk, "mam");
}

static void
test_store_accounts(void **state)
{
    (void)state;
    char err[256], hash[crypto_pwhash_STRBYTES];
    char *path = temp_db();
    tale_acct_store_t *st = tale_acct_store_open(path, 1000, err, sizeof(err));
    assert_non_null(st);
    assert_int_equal(tale_acct_hash("secret123", 9, hash, sizeof(hash)), 0);
    assert_non_null(strstr(hash, "$argon2id$"));
    int64_t id = 0;
    assert_int_equal(tale_acct_create(st, "Mary", hash, 100, 3, &id, err, sizeof(err)), TALE_ACCT_OK);
    assert_true(id > 0);
    /* same name in another case, and a look-alike, are taken */
    assert_int_equal(tale_acct_create(st, "MARY", hash, 100, 3, NULL, err, sizeof(err)), TALE_ACCT_TAKEN);
    assert_int_equal(tale_acct_create(st, "Dave", hash, 100, 3, NULL, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_create(st, "Clave", hash, 100, 3, NULL, err, sizeof(err)), TALE_ACCT_TAKEN);
    assert_int_equal(tale_acct_create(st, "Ma-Ry", hash, 100, 3, NULL, err, sizeof(err)), TALE_ACCT_TAKEN);
    assert_int_equal(tale_acct_create(st, "D'Ave", hash, 100, 3, NULL, err, sizeof(err)), TALE_ACCT_TAKEN);
    /* a name that is SQL stays a name (no string-built SQL anywhere) */
    assert_int_equal(tale_acct_create(st, "x'); DROP TABLE accounts; --", hash, 100, 3, NULL, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_count(st), 3);
    assert_int_equal(tale_acct_create(st, "Zed", hash, 100, 3, NULL, err, sizeof(err)), TALE_ACCT_FULL);

    tale_acct_record_t r;
    assert_int_equal(tale_acct_get(st, "mary", &r, err, sizeof(err)), TALE_ACCT_OK);
    assert_string_equal(r.name, "Mary");
    assert_int_equal(r.id, id);
    assert_null(r.state);
    assert_true(tale_acct_verify(r.pwhash, "secret123", 9));
    assert_false(tale_acct_verify(r.pwhash, "secret124", 9));
    tale_acct_record_clear(&r);
    assert_int_equal(tale_acct_get(st, "Nobody", &r, err, sizeof(err)), TALE_ACCT_NOT_FOUND);

    /* lock, unlock */
    int locked = 0;
    assert_int_equal(tale_acct_set_locked(st, "MARY", 1, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_is_locked(st, id, &locked, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(locked, 1);
    assert_int_equal(tale_acct_set_locked(st, "mary", 0, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_is_locked(st, id, &locked, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(locked, 0);
    assert_int_equal(tale_acct_set_locked(st, "Nobody", 1, err, sizeof(err)), TALE_ACCT_NOT_FOUND);

    /* saves in one transaction; the newest wins; a deleted account's is refused */
    assert_int_equal(tale_acct_begin(st, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_save_character(st, id, "one", 3, 200, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_save_character(st, id, "two\0x", 5, 201, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_save_character(st, 9999, "ghost", 5, 201, err, sizeof(err)), TALE_ACCT_NOT_FOUND);
    assert_int_equal(tale_acct_commit(st, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_get(st, "Mary", &r, err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(r.state_len, 5);
    assert_memory_equal(r.state, "two\0x", 5);
    tale_acct_record_clear(&r);

    assert_int_equal(tale_acct_delete(st, "mary", err, sizeof(err)), TALE_ACCT_OK);
    assert_int_equal(tale_acct_delete(st, "mary", err, sizeof(err)), TALE_ACCT_NOT_FOUND);
    tale_acct_store_close(st);

    /* the character went with its account (foreign key), and the file is whole */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM characters", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 0);
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
    remove_db(path);
}

static void
test_rate_limits(void **state)
{
    (void)state;
    char err[256];
    tale_accounts_t *a = tale_accounts_new(NULL, ":memory:", 10, 3, 2, err, sizeof(err));
    assert_non_null(a);
    uint64_t t = 1000000;
    assert_int_equal(tale_accounts_login_wait(a, "mary", "10.0.0.1", t), 0);
    tale_accounts_login_failed(a, "mary", "10.0.0.1", t);
    tale_accounts_login_failed(a, "mary", "10.0.0.2", t);
    assert_int_equal(tale_accounts_login_wait(a, "mary", "10.0.0.3", t), 0);
    tale_accounts_login_failed(a, "mary", "10.0.0.3", t);
    /* the third failure for the account blocks it for a minute, from any address */
    assert_int_equal(tale_accounts_login_wait(a, "mary", "10.0.0.9", t), 60);
    assert_int_equal(tale_accounts_login_wait(a, "mary", "10.0.0.9", t + 30000), 30);
    assert_int_equal(tale_accounts_login_wait(a, "dave", "10.0.0.9", t), 0);
    assert_int_equal(tale_accounts_login_wait(a, "mary", NULL, t + 60000), 0);
    /* the next block in a row is twice as long */
    for (int i = 0; i < 3; i++)
        tale_accounts_login_failed(a, "mary", NULL, t + 61000);
    assert_int_equal(tale_accounts_login_wait(a, "mary", NULL, t + 61000), 120);
    /* a success resets the account's backoff */
    tale_accounts_login_ok(a, "mary");
    assert_int_equal(tale_accounts_login_wait(a, "mary", NULL, t + 62000), 0);
    /* per address: four times the account's limit, on any accounts, blocks the address */
    char name[16];
    for (int i = 0; i < 11; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        tale_accounts_login_failed(a, name, "10.9.9.9", t);
    }
    assert_int_equal(tale_accounts_login_wait(a, "eve", "10.9.9.9", t), 0);
    tale_accounts_login_failed(a, "zoe", "10.9.9.9", t);
    assert_int_equal(tale_accounts_login_wait(a, "eve", "10.9.9.9", t), 60);
    /* creation: two an hour per address */
    assert_int_equal(tale_accounts_create_wait(a, "10.1.1.1", t), 0);
    tale_accounts_created(a, "10.1.1.1", t);
    tale_accounts_created(a, "10.1.1.1", t + 1000);
    assert_int_equal(tale_accounts_create_wait(a, "10.1.1.1", t + 1000), 3599);
    assert_int_equal(tale_accounts_create_wait(a, "10.1.1.2", t + 1000), 0);
    assert_int_equal(tale_accounts_create_wait(a, "10.1.1.1", t + 3600000), 0);
    tale_accounts_free(a);
}

/* ---- the worker on a loop ------------------------------------------------ */

typedef struct got {
    int n;
    int status[8];
    char name[8][TALE_ACCT_NAME_MAX + 1];
    char *state;
} got_t;

static void
on_result(void *owner, tale_acct_result_t *r)
{
    got_t *g = owner;
    g->status[g->n] = r->status;
    snprintf(g->name[g->n], sizeof(g->name[0]), "%s", r->name);
    if (r->state != NULL) {
        free(g->state);
        g->state = r->state;
        r->state = NULL;
    }
    g->n++;
}

static void
run_until(h2o_evloop_t *loop, got_t *g, int n)
{
    for (int i = 0; i < 2000 && g->n < n; i++)
        h2o_evloop_run(loop, 10);
    assert_int_equal(g->n, n);
}

static void
test_worker(void **state)
{
    (void)state;
    char err[256];
    char *path = temp_db();
    h2o_evloop_t *loop = h2o_evloop_create();
    tale_accounts_t *a = tale_accounts_new(loop, path, 100, 5, 0, err, sizeof(err));
    assert_non_null(a);
    got_t g = {0}, cancelled = {0};
    assert_int_equal(tale_accounts_create(a, "wendy", "password1", 9, on_result, &g), 0);
    run_until(loop, &g, 1);
    assert_int_equal(g.status[0], TALE_ACCT_OK);
    assert_int_equal(tale_accounts_login(a, "WENDY", "password1", 9, on_result, &g), 0);
    assert_int_equal(tale_accounts_login(a, "Wendy", "password2", 9, on_result, &g), 0);
    assert_int_equal(tale_accounts_login(a, "Nobody", "password1", 9, on_result, &g), 0);
    /* an owner that went away hears nothing */
    assert_int_equal(tale_accounts_login(a, "Wendy", "password1", 9, on_result, &cancelled), 0);
    tale_accounts_cancel(a, &cancelled);
    run_until(loop, &g, 4);
    assert_int_equal(g.status[1], TALE_ACCT_OK);
    assert_string_equal(g.name[1], "wendy");
    assert_int_equal(g.status[2], TALE_ACCT_BAD_PASSWORD);
    assert_int_equal(g.status[3], TALE_ACCT_NOT_FOUND);
    for (int i = 0; i < 50 && tale_accounts_pending(a) != 0; i++)
        h2o_evloop_run(loop, 10);
    assert_int_equal(cancelled.n, 0);
    /* saves: the newest of a burst lands, written by the worker */
    int64_t id = 1;
    for (int i = 0; i < 20; i++) {
        char *s = malloc(16);
        int len = snprintf(s, 16, "state %d", i);
        tale_accounts_save(a, id, s, (size_t)len);
    }
    assert_int_equal(tale_accounts_password(a, "wendy", "password1", 9, "newpassword", 11, on_result, &g), 0);
    run_until(loop, &g, 5);
    assert_int_equal(g.status[4], TALE_ACCT_OK);
    assert_int_equal(tale_accounts_login(a, "wendy", "newpassword", 11, on_result, &g), 0);
    run_until(loop, &g, 6);
    assert_int_equal(g.status[5], TALE_ACCT_OK);
    assert_non_null(g.state);
    assert_string_equal(g.state, "state 19");
    /* a full queue refuses at once */
    int refused = 0;
    for (int i = 0; i < TALE_ACCOUNTS_QUEUE_MAX + 5; i++)
        if (tale_accounts_check(a, id, NULL, NULL) != 0)
            refused++;
    assert_true(refused >= 5);
    tale_accounts_free(a);
    h2o_evloop_destroy(loop);
    free(g.state);
    remove_db(path);
}

/* ---- the dialogue, synchronously ----------------------------------------- */

typedef struct seat {
    char said[4096];
    int noecho;
    int in, created;
    char taken_name[32];
} seat_t;

static void
d_say(void *ctx, const char *text, int noecho)
{
    seat_t *s = ctx;
    size_t n = strlen(s->said);
    snprintf(s->said + n, sizeof(s->said) - n, "%s\n", text);
    s->noecho = noecho;
}

static int
d_name_free(void *ctx, const char *name, char *why, size_t whylen)
{
    (void)ctx;
    if (strcmp(name, "Guard") == 0) {
        snprintf(why, whylen, "Someone in the game is called Guard already.");
        return -1;
    }
    return 0;
}

static void
d_logged_in(void *ctx, tale_acct_result_t *r, int created)
{
    seat_t *s = ctx;
    s->in = 1;
    s->created = created;
    snprintf(s->taken_name, sizeof(s->taken_name), "%s", r->name);
}

static const tale_dialogue_ops_t ops = {d_say, d_name_free, d_logged_in};

/* One line typed at `now`; what the dialogue answers to it is in the seat's `said`. */
static void
type_at(tale_dialogue_t *d, const char *line, uint64_t now)
{
    ((seat_t *)d->ctx)->said[0] = '\0';
    assert_int_equal(tale_dialogue_input(d, line, strlen(line), now), 1);
}

static void
type(tale_dialogue_t *d, const char *line)
{
    type_at(d, line, 1000);
}

static void
test_dialogue(void **state)
{
    (void)state;
    char err[256];
    tale_accounts_t *a = tale_accounts_new(NULL, ":memory:", 100, 2, 0, err, sizeof(err));
    assert_non_null(a);
    seat_t s = {0};
    tale_dialogue_t d;
    tale_dialogue_init(&d, &ops, &s, a, 1, "127.0.0.1");
    tale_dialogue_greet(&d);
    assert_non_null(strstr(s.said, "create"));
    type(&d, "dance");
    assert_non_null(strstr(s.said, "login"));
    type(&d, "create");
    type(&d, "G1");
    assert_non_null(strstr(s.said, "3 to 20 letters"));
    type(&d, "Gu-");
    assert_non_null(strstr(s.said, "between two"));
    type(&d, "guard");
    assert_non_null(strstr(s.said, "Guard already"));
    type(&d, "mira");
    assert_int_equal(s.noecho, 1);
    type(&d, "short");
    assert_non_null(strstr(s.said, "8 to 128"));
    assert_int_equal(s.noecho, 1);
    type(&d, "longenough");
    assert_int_equal(s.noecho, 1);
    type(&d, "different1");
    assert_non_null(strstr(s.said, "differ"));
    type(&d, "longenough");
    type(&d, "longenough");
    assert_int_equal(s.in, 1);
    assert_int_equal(s.created, 1);
    assert_string_equal(s.taken_name, "Mira");
    assert_false(tale_dialogue_active(&d));
    /* a game command is not the dialogue's */
    assert_int_equal(tale_dialogue_input(&d, "look", 4, 1000), 0);
    tale_dialogue_clear(&d);

    /* a second seat: wrong password and unknown account read the same */
    seat_t t = {0};
    tale_dialogue_init(&d, &ops, &t, a, 1, "127.0.0.2");
    type(&d, "login");
    type(&d, "mira");
    type(&d, "wrongpassword");
    assert_non_null(strstr(t.said, "Wrong name or password.\n"));
    type(&d, "login");
    type(&d, "nobody");
    type(&d, "wrongpassword");
    assert_non_null(strstr(t.said, "Wrong name or password.\n"));
    /* the second failure for Mira blocks the account (limit 2 a minute) */
    type(&d, "login");
    type(&d, "mira");
    type(&d, "wrongagain");
    type(&d, "login");
    type(&d, "mira");
    assert_non_null(strstr(t.said, "try again in 60 seconds"));
    assert_false(t.in);
    tale_dialogue_clear(&d);

    /* once the block is over the right password gets in, and `password` changes it */
    seat_t u = {0};
    tale_dialogue_init(&d, &ops, &u, a, 1, "127.0.0.3");
    type_at(&d, "login", 61000);
    type_at(&d, "MIRA", 61000);
    type_at(&d, "longenough", 61000);
    assert_int_equal(u.in, 1);
    assert_int_equal(u.created, 0);
    type(&d, "password");
    assert_int_equal(u.noecho, 1);
    type(&d, "longenough");
    type(&d, "evenlonger");
    type(&d, "evenlonger");
    assert_string_equal(u.said, "Your password is changed.\n");
    type(&d, "create");
    assert_non_null(strstr(u.said, "logged in as Mira"));
    tale_dialogue_clear(&d);
    tale_accounts_free(a);
}

int
main(void)
{
    tale_acct_hash_cost(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_rules), cmocka_unit_test(test_store_accounts), cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_worker),     cmocka_unit_test(test_dialogue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
