/*
 * test_instances.c - many IF instances of one story (issue #14): a hundred
 * worlds of the bundled story, one player each, stay apart; each one evicted
 * (serialised, freed) and brought back into a fresh world
 * (tale_world_restore_bytes, then a join) resumes exactly, its game clock
 * included; restore_bytes refuses damaged bytes with one clear line and
 * leaves the world alone; and a live instance costs under 32 KiB of heap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"
#define N 100
#define INSTANCE_MAX_BYTES (32 * 1024)

typedef struct seat {
    json_t *last; /* the newest frame */
    unsigned long frames;
} seat_t;

static void
emit(void *ctx, json_t *frame)
{
    seat_t *s = ctx;
    json_decref(s->last);
    s->last = frame;
    s->frames++;
}

static const char *
field(const seat_t *s, const char *key)
{
    const char *v = json_string_value(json_object_get(s->last, key));
    return v ? v : "";
}

typedef struct instance {
    tale_world_t *w;
    tale_player_t *p;
    seat_t s;
} instance_t;

static tale_story_t *story;

static int
group_setup(void **state)
{
    (void)state;
    char err[512] = "";
    story = tale_story_load(STORY, err, sizeof err);
    if (story == NULL)
        fail_msg("the bundled story does not load: %s", err);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    tale_story_free(story);
    return 0;
}

static void
start(instance_t *in)
{
    in->w = tale_world_new(story, NULL);
    in->p = tale_player_join(in->w, emit, &in->s);
}

static void
stop(instance_t *in)
{
    tale_world_free(in->w);
    json_decref(in->s.last);
    memset(in, 0, sizeof *in);
}

static void
play(instance_t *in, const char *line)
{
    unsigned long before = in->s.frames;
    tale_player_command(in->p, line, strlen(line));
    if (in->s.frames == before)
        fail_msg("'%s' answered nothing", line);
}

static void
a_hundred_worlds_of_one_story_stay_apart(void **state)
{
    (void)state;
    static instance_t in[N];
    for (size_t i = 0; i < N; i++) {
        start(&in[i]);
        play(&in[i], "north");
        play(&in[i], "east");
        assert_string_equal(field(&in[i].s, "location"), "The Tide Pools");
    }
    /* every other visitor finds the boat and takes it; it leaves only their own world */
    for (size_t i = 0; i < N; i++)
        play(&in[i], "examine pool");
    for (size_t i = 0; i < N; i += 2)
        play(&in[i], "take boat");
    for (size_t i = 0; i < N; i++) {
        play(&in[i], "look");
        if (i % 2 == 0)
            assert_null(strstr(field(&in[i].s, "items"), "toy boat"));
        else
            assert_non_null(strstr(field(&in[i].s, "items"), "toy boat"));
        play(&in[i], "inventory");
        assert_true((strstr(field(&in[i].s, "text"), "toy boat") != NULL) == (i % 2 == 0));
    }
    for (size_t i = 0; i < N; i++)
        stop(&in[i]);
}

/* Instance i's own game: a walk, some waiting, some ticks; no two alike. */
static void
own_game(instance_t *in, size_t i)
{
    play(in, "north");
    if (i % 2)
        play(in, "ask bram about boat");
    if (i % 3 == 0) {
        play(in, "east");
        play(in, "examine pool");
        play(in, "take boat");
    }
    for (size_t k = 0; k < i % 7; k++)
        play(in, "wait");
    for (size_t k = 0; k < i % 5; k++)
        tale_world_tick(in->w);
}

static char *
time_text(instance_t *in)
{
    play(in, "time");
    return strdup(field(&in->s, "text"));
}

static void
each_instance_comes_back_as_it_was_with_its_clock(void **state)
{
    (void)state;
    static instance_t live[N], twin[N];
    char err[512];
    for (size_t i = 0; i < N; i++) {
        start(&live[i]);
        start(&twin[i]);
        own_game(&live[i], i);
        own_game(&twin[i], i);
    }
    for (size_t i = 0; i < N; i++) {
        /* evicted: the bytes are all that is left of it */
        char *before = time_text(&live[i]);
        play(&twin[i], "time");
        size_t len;
        char *saved = tale_world_serialise(live[i].w, &len);
        stop(&live[i]);
        /* back, in a fresh world of the same story */
        live[i].w = tale_world_new(story, NULL);
        if (tale_world_restore_bytes(live[i].w, saved, len, err, sizeof err) != 0)
            fail_msg("instance %zu: %s", i, err);
        live[i].p = tale_player_join(live[i].w, emit, &live[i].s);
        assert_int_equal(live[i].s.frames, 1);
        assert_string_equal(field(&live[i].s, "location"), field(&twin[i].s, "location"));
        char *after = time_text(&live[i]);
        assert_string_equal(after, before);
        /* the clock runs on from the save: the instance and its never-evicted twin keep step */
        play(&live[i], "wait");
        play(&twin[i], "wait");
        tale_world_tick(live[i].w);
        tale_world_tick(twin[i].w);
        free(after);
        after = time_text(&live[i]);
        char *twin_time = time_text(&twin[i]);
        assert_string_equal(after, twin_time);
        assert_string_not_equal(after, before);
        size_t la, lb;
        char *a = tale_world_serialise(live[i].w, &la), *b = tale_world_serialise(twin[i].w, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
        free(saved);
        free(before);
        free(after);
        free(twin_time);
    }
    for (size_t i = 0; i < N; i++) {
        stop(&live[i]);
        stop(&twin[i]);
    }
}

/* Refused with one line that names the bytes, and the world not touched. */
static void
refused(instance_t *in, const char *data, size_t len, const char *why)
{
    char err[512] = "";
    size_t la, lb;
    char *before = tale_world_serialise(in->w, &la);
    assert_int_equal(tale_world_restore_bytes(in->w, data, len, err, sizeof err), -1);
    if (strncmp(err, "save data: ", 11) != 0 || strchr(err, '\n') != NULL || (why && strstr(err, why) == NULL))
        fail_msg("unclear refusal of %zu bytes: '%s' (wanted '%s')", len, err, why ? why : "");
    char *after = tale_world_serialise(in->w, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(before, after, la);
    free(before);
    free(after);
}

static void
restore_bytes_refuses_damaged_saves_clearly(void **state)
{
    (void)state;
    instance_t in = {0}, other = {0};
    start(&in);
    own_game(&in, 3);
    size_t len;
    char *good = tale_world_serialise(in.w, &len);
    play(&in, "west");
    /* every truncation: the save ends with its closing brace, so each is broken */
    for (size_t n = 0; n < len; n++)
        refused(&in, good, n, n == 0 ? "empty" : "corrupt at line");
    refused(&in, NULL, 0, "empty");
    refused(&in, "not a save", 10, "corrupt at line");
    refused(&in, "{\"format\":\"tale-save\"\0junk}", 27, "corrupt at line");
    refused(&in, "[]", 2, "not a Tale Host saved game");
    refused(&in, "{}", 2, "not a Tale Host saved game");
    refused(&in, "{\"format\":\"tale-save\",\"version\":99}", 35, "incompatible version");
    /* garbage: the same seed every run */
    char junk[2048];
    unsigned seed = 14;
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)rand_r(&seed) % sizeof junk;
        for (size_t k = 0; k < n; k++)
            junk[k] = (char)rand_r(&seed);
        junk[0] = (char)(round % 2 ? '{' : junk[0]);
        refused(&in, junk, n, NULL);
    }
    /* one byte changed in a place name: well-formed, wrong for this story */
    char *bent = strdup(good), *at = strstr(bent, "location:");
    assert_non_null(at);
    at[9] = 'Q';
    refused(&in, bent, len, "damaged");
    /* another story's save */
    char err[512] = "";
    tale_world_options_t opt = {0};
    other.w = tale_world_load(TALE_SOURCE_DIR "/tests/engine/fixtures/manor", &opt, err, sizeof err);
    assert_non_null(other.w);
    size_t olen;
    char *theirs = tale_world_serialise(other.w, &olen);
    refused(&in, theirs, olen, "another story");
    /* and the good bytes still restore into the same world */
    assert_int_equal(tale_world_restore_bytes(in.w, good, len, err, sizeof err), 0);
    size_t l2;
    char *again = tale_world_serialise(in.w, &l2);
    assert_int_equal(l2, len);
    assert_memory_equal(again, good, len);
    free(again);
    free(theirs);
    free(bent);
    free(good);
    tale_world_free(other.w);
    stop(&in);
}

/* Whether mallinfo2 sees this process's allocations: not under valgrind or
 * a sanitizer, whose allocators keep their own books. */
static int
heap_measurable(void)
{
    size_t before = mallinfo2().uordblks;
    void *volatile probe = malloc(4096);
    size_t grown = mallinfo2().uordblks - before;
    free(probe);
    return grown >= 4096;
}

/* A memory bound, not a timing: everything the engine holds for one live
 * instance (world, player, its share of the story's rendered text) after a
 * few commands, with no frame held. */
static void
a_live_instance_costs_under_32_kib(void **state)
{
    (void)state;
    static instance_t in[N];
    static const char *const opening[] = {"look", "north", "ask bram about boat", "east", "examine pool", "take boat", "west"};
    if (!heap_measurable()) {
        print_message("malloc is not glibc's here (valgrind, a sanitizer): the heap is not measured\n");
        skip();
    }
    malloc_trim(0);
    size_t before = mallinfo2().uordblks;
    for (size_t i = 0; i < N; i++) {
        start(&in[i]);
        for (size_t c = 0; c < sizeof opening / sizeof opening[0]; c++)
            play(&in[i], opening[c]);
        /* the test's own copy of the newest frame is the host's to hold, not the engine's */
        json_decref(in[i].s.last);
        in[i].s.last = NULL;
    }
    size_t each = (mallinfo2().uordblks - before) / N;
    print_message("heap per live instance: %zu bytes\n", each);
    assert_in_range(each, 1, INSTANCE_MAX_BYTES - 1);
    for (size_t i = 0; i < N; i++)
        stop(&in[i]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        /* first, so the story's rendered text is counted in the instances' share */
        cmocka_unit_test(a_live_instance_costs_under_32_kib),
        cmocka_unit_test(a_hundred_worlds_of_one_story_stay_apart),
        cmocka_unit_test(each_instance_comes_back_as_it_was_with_its_clock),
        cmocka_unit_test(restore_bytes_refuses_damaged_saves_clearly),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
