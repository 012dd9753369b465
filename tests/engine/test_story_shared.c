/*
 * test_story_shared.c - one loaded story, several worlds (story.h): each
 * world keeps its own state (positions, items, doors, clock), and the story
 * outlives the caller's reference for as long as a world holds one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"

typedef struct seat {
    tale_player_t *p;
    json_t *last; /* the newest frame this player received */
} seat_t;

/* Keeps only the newest frame: its location snapshot is what the tests read. */
static void
emit(void *ctx, json_t *frame)
{
    seat_t *s = ctx;
    json_decref(s->last);
    s->last = frame;
}

/* The player's location and the items listed there, from the newest frame. */
static const char *
where(const seat_t *s)
{
    return json_string_value(json_object_get(s->last, "location"));
}

static const char *
items_here(const seat_t *s)
{
    return json_string_value(json_object_get(s->last, "items"));
}

static const char *
text(const seat_t *s)
{
    return json_string_value(json_object_get(s->last, "text"));
}

static tale_story_t *
manor(void)
{
    char err[512] = "";
    tale_story_t *st = tale_story_load(TALE_FIXTURES "/manor", err, sizeof err);
    if (st == NULL)
        fail_msg("fixture does not load: %s", err);
    return st;
}

/* Two worlds of one story, a player in each. */
typedef struct twins {
    tale_story_t *st;
    tale_world_t *a, *b;
    seat_t sa, sb;
} twins_t;

static int
setup(void **state)
{
    twins_t *t = calloc(1, sizeof(*t));
    t->st = manor();
    t->a = tale_world_new(t->st, NULL);
    t->b = tale_world_new(t->st, NULL);
    t->sa.p = tale_player_join(t->a, emit, &t->sa);
    t->sb.p = tale_player_join(t->b, emit, &t->sb);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    twins_t *t = *state;
    tale_world_free(t->a);
    tale_world_free(t->b);
    tale_story_free(t->st);
    json_decref(t->sa.last);
    json_decref(t->sb.last);
    free(t);
    return 0;
}

static void
moving_in_one_world_does_not_move_the_other(void **state)
{
    twins_t *t = *state;
    assert_string_equal(where(&t->sa), "Porch");
    assert_string_equal(where(&t->sb), "Porch");

    tale_player_command(t->sa.p, "east", 4);
    assert_string_equal(where(&t->sa), "Garden");
    tale_player_command(t->sb.p, "look", 4);
    assert_string_equal(where(&t->sb), "Porch");
    /* a world holds only its own players: nobody "arrives" in b */
    assert_null(strstr(text(&t->sb), "arrives"));
}

static void
items_and_doors_change_in_one_world_only(void **state)
{
    twins_t *t = *state;
    tale_player_command(t->sa.p, "take brass key", 14);
    tale_player_command(t->sa.p, "unlock door with brass key", 26);
    tale_player_command(t->sa.p, "open door", 9);
    tale_player_command(t->sa.p, "north", 5);
    assert_string_equal(where(&t->sa), "Hall");

    tale_player_command(t->sb.p, "look", 4);
    assert_non_null(strstr(items_here(&t->sb), "brass key"));
    tale_player_command(t->sb.p, "north", 5);
    assert_string_equal(where(&t->sb), "Porch");
    assert_non_null(strstr(text(&t->sb), "locked"));
}

/* The caller may drop its reference at once: each world holds its own, and a
 * world made after another was freed still begins where the story does. */
static void
the_story_lives_as_long_as_a_world_holds_it(void **state)
{
    (void)state;
    tale_story_t *st = manor();
    tale_world_t *a = tale_world_new(st, NULL);
    seat_t sa = {0};
    sa.p = tale_player_join(a, emit, &sa);
    tale_player_command(sa.p, "take brass key", 14);
    tale_world_t *b = tale_world_new(st, NULL);
    tale_story_free(st);
    tale_world_free(a);

    seat_t sb = {0};
    sb.p = tale_player_join(b, emit, &sb);
    assert_string_equal(tale_world_meta(b)->name, "Test Manor");
    assert_non_null(strstr(items_here(&sb), "brass key"));
    tale_world_free(b);
    json_decref(sa.last);
    json_decref(sb.last);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(moving_in_one_world_does_not_move_the_other, setup, teardown),
        cmocka_unit_test_setup_teardown(items_and_doors_change_in_one_world_only, setup, teardown),
        cmocka_unit_test(the_story_lives_as_long_as_a_world_holds_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
