/*
 * test_instances.c - the index of stored per-visitor games (instances.c):
 * names that do not show the token, stores and restores through the save
 * worker (the newest bytes readable until written, removal after writes),
 * the scan of an earlier run's folder, and expiry oldest-first by count
 * and by bytes, with live games spared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "games_dir.h"
#include "instances.h"
#include "log.h"
#include "saver.h"
#include <tale/plugin.h>

typedef struct fixture {
    char dir[64];
    char worlds[96];
} fixture_t;

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/tale-instances-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->worlds, sizeof(f->worlds), "%s/worlds", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    games_dir_remove(f->dir);
    free(f);
    return 0;
}

static tale_instances_t *
open_index(fixture_t *f, uint64_t max_stored, uint64_t max_bytes, tale_saver_t *sv)
{
    char err[512] = "";
    tale_instances_t *ti = tale_instances_new(f->worlds, max_stored, max_bytes, sv, NULL, NULL, err, sizeof(err));
    if (ti == NULL)
        fail_msg("cannot open the index: %s", err);
    return ti;
}

/* A token as session.c makes them: 32 hex digits. */
static void
token_of(int i, char out[33])
{
    snprintf(out, 33, "%08x%08xdeadbeef%08x", i, i * 7919, i * 31);
}

static void
store_text(tale_instances_t *ti, tale_inst_t *in, const char *text)
{
    char err[256] = "";
    if (tale_inst_store(ti, in, 1, strdup(text), strlen(text), err, sizeof(err)) != 0)
        fail_msg("store failed: %s", err);
}

static tale_inst_t *
stored_game(tale_instances_t *ti, int i, const char *text)
{
    char tok[33];
    token_of(i, tok);
    tale_inst_t *in = tale_instances_add(ti, tok, 32);
    store_text(ti, in, text);
    return in;
}

static int
file_of(fixture_t *f, int i, char *buf, size_t cap)
{
    char tok[33], name[TALE_INST_NAME + 1], path[512];
    token_of(i, tok);
    tale_inst_name_of(tok, 32, name);
    snprintf(path, sizeof(path), "%s/%s/world.save", f->worlds, name);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return 1;
}

/* Back-date game i's file: a restart orders the stored games by mtime. */
static void
age(fixture_t *f, int i, time_t secs)
{
    char tok[33], name[TALE_INST_NAME + 1], path[512];
    token_of(i, tok);
    tale_inst_name_of(tok, 32, name);
    snprintf(path, sizeof(path), "%s/%s/world.save", f->worlds, name);
    struct timespec ts[2] = {{.tv_sec = time(NULL) - secs}, {.tv_sec = time(NULL) - secs}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
names_are_the_sha256_of_the_token_and_never_show_it(void **state)
{
    fixture_t *f = *state;
    char name[TALE_INST_NAME + 1];
    tale_inst_name_of("abc", 3, name);
    /* the well-known SHA-256 of "abc" */
    assert_string_equal(name, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    tale_instances_t *ti = open_index(f, 10, 1 << 20, NULL);
    char tok[33];
    token_of(1, tok);
    tale_inst_t *in = stored_game(ti, 1, "{\"x\":1}");
    assert_non_null(strstr(tale_inst_dir(in), f->worlds));
    assert_null(strstr(tale_inst_dir(in), tok));
    DIR *d = opendir(f->worlds);
    assert_non_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        entries++;
        assert_null(strstr(e->d_name, tok));
        assert_int_equal(strlen(e->d_name), TALE_INST_NAME);
    }
    closedir(d);
    assert_int_equal(entries, 1);
    assert_ptr_equal(tale_instances_find(ti, tok, 32), in);
    assert_null(tale_instances_find(ti, "00000000000000000000000000000000", 32));
    tale_instances_free(ti);
}

static void
a_new_game_is_not_stored_until_saved_and_forgetting_it_leaves_nothing(void **state)
{
    fixture_t *f = *state;
    tale_instances_t *ti = open_index(f, 10, 1 << 20, NULL);
    tale_inst_t *in = tale_instances_add(ti, "0123456789abcdef0123456789abcdef", 32);
    assert_false(tale_inst_stored(in));
    assert_int_equal(tale_instances_stored_count(ti), 0);
    assert_ptr_equal(tale_instances_find(ti, "0123456789abcdef0123456789abcdef", 32), in);
    tale_inst_forget(ti, in);
    assert_null(tale_instances_find(ti, "0123456789abcdef0123456789abcdef", 32));
    tale_instances_free(ti);
}

static void
a_restart_finds_the_stored_games_and_removes_interrupted_first_saves(void **state)
{
    fixture_t *f = *state;
    tale_instances_t *ti = open_index(f, 10, 1 << 20, NULL);
    for (int i = 0; i < 4; i++)
        stored_game(ti, i, "{\"game\":\"saved\"}");
    tale_instances_free(ti);
    /* a kill during a game's first save leaves a folder with a temp file only */
    char leftover[256];
    snprintf(leftover, sizeof(leftover), "%s/%064d", f->worlds, 7);
    assert_int_equal(mkdir(leftover, 0750), 0);
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s/world.save.tmp.abcdef", leftover);
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    fclose(fp);

    ti = open_index(f, 10, 1 << 20, NULL);
    assert_int_equal(tale_instances_stored_count(ti), 4);
    assert_int_equal(tale_instances_stored_bytes(ti), 4 * strlen("{\"game\":\"saved\"}"));
    for (int i = 0; i < 4; i++) {
        char tok[33];
        token_of(i, tok);
        tale_inst_t *in = tale_instances_find(ti, tok, 32);
        assert_non_null(in);
        assert_true(tale_inst_stored(in));
        assert_null(tale_inst_unwritten(in, NULL)); /* on disk: a restore reads the file */
    }
    struct stat st;
    assert_int_not_equal(stat(leftover, &st), 0);
    tale_instances_free(ti);
}

static void
over_the_count_cap_the_oldest_saves_go_first_and_live_games_stay(void **state)
{
    fixture_t *f = *state;
    tale_instances_t *ti = open_index(f, 3, 1 << 20, NULL);
    tale_inst_t *g[4];
    char buf[64];
    for (int i = 0; i < 3; i++)
        g[i] = stored_game(ti, i, "{}");
    tale_inst_set_owner(g[0], g[0]);       /* the oldest save is a live game */
    store_text(ti, g[1], "{\"again\":1}"); /* saved again: now the newest */
    g[3] = stored_game(ti, 3, "{}");
    /* over 3: g[0] is live, g[1] was saved since: g[2] goes */
    assert_int_equal(tale_instances_stored_count(ti), 3);
    assert_true(file_of(f, 0, buf, sizeof(buf)));
    assert_true(file_of(f, 1, buf, sizeof(buf)));
    assert_false(file_of(f, 2, buf, sizeof(buf)));
    assert_true(file_of(f, 3, buf, sizeof(buf)));
    char tok[33];
    token_of(2, tok);
    assert_null(tale_instances_find(ti, tok, 32));
    stored_game(ti, 4, "{}");
    /* g[0] still live: g[1] is the oldest that may go */
    assert_true(file_of(f, 0, buf, sizeof(buf)));
    assert_false(file_of(f, 1, buf, sizeof(buf)));
    assert_int_equal(tale_instances_stored_count(ti), 3);
    tale_instances_free(ti);
}

static void
over_the_byte_cap_the_oldest_saves_go_first(void **state)
{
    fixture_t *f = *state;
    char big[401], buf[512];
    memset(big, 'x', 400);
    big[0] = '"';
    big[399] = '"';
    big[400] = '\0';
    tale_instances_t *ti = open_index(f, 100, 1000, NULL);
    for (int i = 0; i < 2; i++)
        stored_game(ti, i, big);
    assert_int_equal(tale_instances_stored_bytes(ti), 800);
    stored_game(ti, 2, big); /* 1200 > 1000: the oldest goes */
    assert_int_equal(tale_instances_stored_count(ti), 2);
    assert_int_equal(tale_instances_stored_bytes(ti), 800);
    assert_false(file_of(f, 0, buf, sizeof(buf)));
    assert_true(file_of(f, 1, buf, sizeof(buf)));
    assert_true(file_of(f, 2, buf, sizeof(buf)));
    tale_instances_free(ti);

    /* the caps apply to what a restart finds, too: the older file goes */
    age(f, 1, 100);
    age(f, 2, 10);
    ti = open_index(f, 1, 1000, NULL);
    assert_int_equal(tale_instances_stored_count(ti), 1);
    assert_false(file_of(f, 1, buf, sizeof(buf)));
    assert_true(file_of(f, 2, buf, sizeof(buf)));
    tale_instances_free(ti);
}

static void
through_the_worker_the_newest_bytes_stay_readable_until_written_and_removal_comes_last(void **state)
{
    fixture_t *f = *state;
    h2o_evloop_t *loop = h2o_evloop_create();
    char err[256] = "", buf[64];
    tale_saver_t *sv = tale_saver_new(loop, NULL, NULL, NULL, err, sizeof(err));
    assert_non_null(sv);
    tale_instances_t *ti = open_index(f, 10, 1 << 20, sv);
    tale_inst_t *a = stored_game(ti, 1, "{\"v\":1}");
    store_text(ti, a, "{\"v\":2}");
    size_t len = 0;
    const char *un = tale_inst_unwritten(a, &len);
    assert_non_null(un); /* until the worker reports: the restore source */
    assert_int_equal(len, 7);
    assert_memory_equal(un, "{\"v\":2}", 7);
    tale_inst_t *b = stored_game(ti, 2, "{\"v\":1}");
    tale_inst_remove(ti, b); /* queued after b's write: b ends up gone */
    tale_saver_finish(sv);   /* drains the queue and reports */
    assert_null(tale_inst_unwritten(a, NULL));
    assert_true(file_of(f, 1, buf, sizeof(buf)));
    assert_string_equal(buf, "{\"v\":2}");
    assert_false(file_of(f, 2, buf, sizeof(buf)));
    assert_int_equal(tale_instances_stored_count(ti), 1);
    /* after the worker stopped (shutdown), stores write at once */
    store_text(ti, a, "{\"v\":3}");
    assert_true(file_of(f, 1, buf, sizeof(buf)));
    assert_string_equal(buf, "{\"v\":3}");
    tale_instances_free(ti);
    tale_saver_free(sv);
    h2o_evloop_destroy(loop);
}

/* Written saves stay in memory within the cache's byte budget, the least
 * recently put away dropped first; a game back in memory leaves it. */
static void
written_saves_stay_cached_within_the_budget_least_recent_first_out(void **state)
{
    fixture_t *f = *state;
    h2o_evloop_t *loop = h2o_evloop_create();
    char err[256] = "";
    tale_saver_t *sv = tale_saver_new(loop, NULL, NULL, NULL, err, sizeof(err));
    assert_non_null(sv);
    tale_instances_t *ti = open_index(f, 10, 1 << 20, sv);
    tale_instances_set_cache(ti, 20); /* room for two saves of 7 bytes, not three */
    tale_inst_t *a = stored_game(ti, 1, "{\"v\":1}");
    tale_inst_t *b = stored_game(ti, 2, "{\"v\":2}");
    assert_int_equal(tale_instances_cached_count(ti), 0); /* queued, not written yet: not cache */
    for (int i = 0; i < 500 && tale_instances_cached_count(ti) < 2; i++)
        h2o_evloop_run(loop, 10);
    assert_int_equal(tale_instances_cached_count(ti), 2);
    size_t len = 0;
    assert_memory_equal(tale_inst_unwritten(a, &len), "{\"v\":1}", 7);
    tale_inst_t *c = stored_game(ti, 3, "{\"v\":3}");
    for (int i = 0; i < 500 && tale_inst_unwritten(a, NULL) != NULL; i++)
        h2o_evloop_run(loop, 10);
    assert_null(tale_inst_unwritten(a, NULL)); /* the oldest went for the newest */
    assert_int_equal(tale_instances_cached_count(ti), 2);
    assert_memory_equal(tale_inst_unwritten(b, &len), "{\"v\":2}", 7);
    assert_memory_equal(tale_inst_unwritten(c, &len), "{\"v\":3}", 7);
    tale_inst_uncache(b);
    assert_null(tale_inst_unwritten(b, NULL));
    assert_int_equal(tale_instances_cached_count(ti), 1);
    tale_instances_set_cache(ti, 0);
    assert_null(tale_inst_unwritten(c, NULL));
    tale_saver_finish(sv);
    tale_instances_free(ti);
    tale_saver_free(sv);
    h2o_evloop_run(loop, 0);
    h2o_evloop_destroy(loop);
}

int
main(void)
{
    tale_log_level = TALE_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(names_are_the_sha256_of_the_token_and_never_show_it, setup, teardown),
        cmocka_unit_test_setup_teardown(a_new_game_is_not_stored_until_saved_and_forgetting_it_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(a_restart_finds_the_stored_games_and_removes_interrupted_first_saves, setup, teardown),
        cmocka_unit_test_setup_teardown(over_the_count_cap_the_oldest_saves_go_first_and_live_games_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(over_the_byte_cap_the_oldest_saves_go_first, setup, teardown),
        cmocka_unit_test_setup_teardown(written_saves_stay_cached_within_the_budget_least_recent_first_out, setup, teardown),
        cmocka_unit_test_setup_teardown(through_the_worker_the_newest_bytes_stay_readable_until_written_and_removal_comes_last,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
