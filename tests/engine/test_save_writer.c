/*
 * test_save_writer.c - the engine's half of an off-loop save (issue #11,
 * finding 7b), without a server: with a save writer set, `save` serialises
 * and hands the bytes over instead of writing, the player hears "Game saved."
 * only when the host reports the write done (for its ticket or a newer one),
 * a restore prefers bytes not yet on disk, and a shared (MUD) world refuses
 * save and load.  Also prints how long serialising the bundled story takes
 * (the part that stays on the loop).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

/* A writer that keeps what it was given and writes nothing. */
typedef struct fake_writer {
    int submits;
    uint64_t ticket;
    char *bytes; /* the newest submitted */
    size_t len;
    int written; /* the host reported bytes on disk: nothing unwritten */
} fake_writer_t;

static int
fake_submit(void *ctx, uint64_t ticket, char *data, size_t len, char *err, size_t errlen)
{
    fake_writer_t *fw = ctx;
    fw->submits++;
    fw->ticket = ticket;
    free(fw->bytes);
    fw->bytes = data;
    fw->len = len;
    fw->written = 0;
    return 0;
}

static const char *
fake_unwritten(void *ctx, size_t *len)
{
    fake_writer_t *fw = ctx;
    if (fw->written || fw->bytes == NULL)
        return NULL;
    *len = fw->len;
    return fw->bytes;
}

typedef struct game {
    tale_world_t *w;
    tale_player_t *p;
    json_t *frames;
    fake_writer_t fw;
    char dir[64];
} game_t;

static void
emit(void *ctx, json_t *frame)
{
    json_array_append_new(ctx, frame);
}

/* Every text frame's HTML since the last clear, joined. */
static char *
texts(game_t *g)
{
    static char buf[16384];
    buf[0] = 0;
    size_t i;
    json_t *f;
    json_array_foreach(g->frames, i, f)
    {
        const char *t = json_string_value(json_object_get(f, "text"));
        if (t && strlen(buf) + strlen(t) < sizeof buf)
            strcat(buf, t);
    }
    return buf;
}

static const char *
cmd(game_t *g, const char *line)
{
    json_array_clear(g->frames);
    tale_player_command(g->p, line, strlen(line));
    return texts(g);
}

static game_t *
game_new(int shared, int with_writer)
{
    game_t *g = calloc(1, sizeof *g);
    strcpy(g->dir, "/tmp/tale-save-writer-XXXXXX");
    assert_non_null(mkdtemp(g->dir));
    char err[1024] = "";
    tale_world_options_t o = {.save_dir = g->dir, .shared = shared};
    g->w = tale_world_load(TALE_FIXTURES "/manor", &o, err, sizeof err);
    if (!g->w)
        fail_msg("fixture does not load: %s", err);
    if (with_writer) {
        tale_save_writer_t sw = {.submit = fake_submit, .unwritten = fake_unwritten, .ctx = &g->fw};
        tale_world_set_save_writer(g->w, &sw);
    }
    g->frames = json_array();
    g->p = tale_player_join(g->w, emit, g->frames);
    return g;
}

static void
game_free(game_t *g)
{
    tale_world_free(g->w);
    json_decref(g->frames);
    free(g->fw.bytes);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", g->dir);
    assert_int_equal(system(rm), 0);
    free(g);
}

static int
save_file_exists(game_t *g)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/world.save", g->dir);
    return stat(path, &st) == 0;
}

static void
save_hands_the_bytes_to_the_writer_and_answers_when_written(void **state)
{
    game_t *g = game_new(0, 1);
    const char *t = cmd(g, "save");
    assert_null(strstr(t, "Game saved."));
    assert_int_equal(g->fw.submits, 1);
    assert_false(save_file_exists(g)); /* the engine wrote nothing itself */
    size_t len = 0;
    char *now = tale_world_serialise(g->w, &len);
    assert_int_equal(len, g->fw.len);
    assert_memory_equal(now, g->fw.bytes, len); /* the same bytes a synchronous save writes */
    free(now);

    json_array_clear(g->frames);
    tale_world_save_done(g->w, g->fw.ticket, 1, NULL);
    assert_non_null(strstr(texts(g), "Game saved."));
    json_array_clear(g->frames);
    tale_world_save_done(g->w, g->fw.ticket, 1, NULL); /* told once */
    assert_int_equal(json_array_size(g->frames), 0);
    game_free(g);
}

static void
a_newer_save_answers_for_an_older_one_it_replaced(void **state)
{
    game_t *g = game_new(0, 1);
    cmd(g, "save");
    uint64_t first = g->fw.ticket;
    cmd(g, "save");
    assert_true(g->fw.ticket > first);
    json_array_clear(g->frames);
    tale_world_save_done(g->w, g->fw.ticket, 1, NULL);
    const char *t = texts(g);
    assert_non_null(strstr(t, "Game saved."));
    assert_null(strstr(strstr(t, "Game saved.") + 1, "Game saved.")); /* one answer */
    game_free(g);
}

static void
a_failed_write_is_reported_to_the_player(void **state)
{
    game_t *g = game_new(0, 1);
    cmd(g, "save");
    json_array_clear(g->frames);
    tale_world_save_done(g->w, g->fw.ticket, 0, "No space left on device");
    assert_non_null(strstr(texts(g), "Saving failed: No space left on device"));
    game_free(g);
}

static void
a_write_finishing_after_the_player_left_tells_nobody(void **state)
{
    game_t *g = game_new(0, 1);
    cmd(g, "save");
    tale_player_leave(g->p);
    g->p = NULL;
    json_array_clear(g->frames);
    tale_world_save_done(g->w, g->fw.ticket, 1, NULL);
    assert_int_equal(json_array_size(g->frames), 0);
    game_free(g);
}

static void
load_prefers_bytes_not_yet_on_disk(void **state)
{
    game_t *g = game_new(0, 1);
    /* an older save on disk, at the start; the newer one still with the writer */
    char err[512];
    tale_world_set_save_writer(g->w, NULL);
    assert_int_equal(tale_world_save(g->w, NULL, err, sizeof err), 0);
    tale_save_writer_t sw = {.submit = fake_submit, .unwritten = fake_unwritten, .ctx = &g->fw};
    tale_world_set_save_writer(g->w, &sw);
    cmd(g, "e");
    json_t *f = json_array_get(g->frames, json_array_size(g->frames) - 1);
    char *there = strdup(json_string_value(json_object_get(f, "location")));
    assert_string_not_equal(there, "Porch");
    cmd(g, "save");
    cmd(g, "w");
    cmd(g, "load");
    f = json_array_get(g->frames, json_array_size(g->frames) - 1);
    assert_string_equal(json_string_value(json_object_get(f, "location")), there);
    /* once written, the file is the save again */
    g->fw.written = 1;
    cmd(g, "load");
    f = json_array_get(g->frames, json_array_size(g->frames) - 1);
    assert_string_not_equal(json_string_value(json_object_get(f, "location")), there);
    free(there);
    game_free(g);
}

static void
a_shared_world_refuses_save_and_load(void **state)
{
    game_t *g = game_new(1, 1);
    assert_non_null(strstr(cmd(g, "save"), "this world is shared by every player"));
    assert_non_null(strstr(cmd(g, "load"), "this world is shared by every player"));
    assert_non_null(strstr(cmd(g, "restore"), "this world is shared by every player"));
    assert_int_equal(g->fw.submits, 0);
    assert_false(save_file_exists(g));
    game_free(g);
}

static void
without_a_writer_save_writes_at_once(void **state)
{
    game_t *g = game_new(0, 0);
    assert_non_null(strstr(cmd(g, "save"), "Game saved."));
    assert_true(save_file_exists(g));
    game_free(g);
}

/* Not an assertion: how long the loop's half of a save takes for the
 * bundled story (printed for docs/BENCHMARKS.md and the report). */
static void
serialising_the_bundled_story_is_timed(void **state)
{
    char err[1024] = "";
    tale_world_options_t o = {.save_dir = "/nonexistent"};
    tale_world_t *w = tale_world_load(TALE_SOURCE_DIR "/conf/stories/lighthouse", &o, err, sizeof err);
    if (!w)
        fail_msg("bundled story does not load: %s", err);
    json_t *frames = json_array();
    tale_player_t *p = tale_player_join(w, emit, frames);
    enum { N = 2000 };
    size_t len = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < N; i++)
        free(tale_world_serialise(w, &len));
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / N;
    printf("# serialise lighthouse (%zu bytes): %.1f us per save, mean of %d\n", len, us, N);
    assert_true(len > 0);
    tale_player_leave(p);
    tale_world_free(w);
    json_decref(frames);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_hands_the_bytes_to_the_writer_and_answers_when_written),
        cmocka_unit_test(a_newer_save_answers_for_an_older_one_it_replaced),
        cmocka_unit_test(a_failed_write_is_reported_to_the_player),
        cmocka_unit_test(a_write_finishing_after_the_player_left_tells_nobody),
        cmocka_unit_test(load_prefers_bytes_not_yet_on_disk),
        cmocka_unit_test(a_shared_world_refuses_save_and_load),
        cmocka_unit_test(without_a_writer_save_writes_at_once),
        cmocka_unit_test(serialising_the_bundled_story_is_timed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
