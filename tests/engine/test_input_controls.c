/*
 * test_input_controls.c - control characters and invisible Unicode format
 * controls (bidi overrides, zero-width characters, tags...) typed by one
 * player never reach another player's frame (issue #11, finding 7c).  The
 * engine strips them from every line of input where it validates UTF-8
 * (core/engine/parser.c), before echo, speech, "again" and completion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

typedef struct two {
    tale_world_t *w;
    tale_player_t *speaker, *listener;
    json_t *said, *heard; /* every frame each one received */
} two_t;

static void
emit(void *ctx, json_t *frame)
{
    json_array_append_new(ctx, frame);
}

/* Two players in the fixture manor's porch (MUD-style: one world, two seats). */
static int
setup(void **state)
{
    two_t *t = calloc(1, sizeof *t);
    char err[1024] = "";
    tale_world_options_t o = {.save_dir = NULL, .max_input = 200};
    if (t == NULL || (t->w = tale_world_load(TALE_FIXTURES "/manor", &o, err, sizeof err)) == NULL)
        fail_msg("fixture does not load: %s", err);
    t->said = json_array();
    t->heard = json_array();
    t->speaker = tale_player_join(t->w, emit, t->said);
    t->listener = tale_player_join(t->w, emit, t->heard);
    *state = t;
    return 0;
}

static int
teardown(void **state)
{
    two_t *t = *state;
    tale_world_free(t->w);
    json_decref(t->said);
    json_decref(t->heard);
    free(t);
    return 0;
}

/* The text of every frame in a sink, joined. */
static char *
all_text(json_t *frames)
{
    size_t cap = 1, i;
    json_t *f;
    json_array_foreach(frames, i, f) cap += json_string_length(json_object_get(f, "text"));
    char *s = calloc(1, cap);
    assert_non_null(s);
    json_array_foreach(frames, i, f)
    {
        const char *x = json_string_value(json_object_get(f, "text"));
        if (x != NULL)
            strcat(s, x);
    }
    return s;
}

/* The speaker says `line`; returns what the listener's frames held (caller frees). */
static char *
say(two_t *t, const char *line)
{
    json_array_clear(t->heard);
    tale_player_command(t->speaker, line, strlen(line));
    return all_text(t->heard);
}

#define assert_contains(hay, needle)                                                                                               \
    do {                                                                                                                           \
        if (!strstr((hay), (needle)))                                                                                              \
            fail_msg("expected to find\n  %s\nin\n  %s", (needle), (hay));                                                         \
    } while (0)

static void
a_bidi_override_in_say_does_not_reach_the_listener(void **state)
{
    two_t *t = *state;
    /* "say hello <U+202E>dlrow": shown to others as "hello world" reversed */
    char *heard = say(t, "say hello \xe2\x80\xae"
                         "dlrow");
    assert_contains(heard, "hello dlrow");
    assert_null(strstr(heard, "\xe2\x80\xae"));
    free(heard);
    char *said = all_text(t->said);
    assert_null(strstr(said, "\xe2\x80\xae")); /* nor the speaker's own echo */
    free(said);
}

/* Every range of Unicode's Cf category the engine strips, both ends, and the
 * C0 and C1 controls: "say a<X>b" is heard as "ab". */
static void
every_format_and_control_character_is_stripped(void **state)
{
    two_t *t = *state;
    static const uint32_t hidden[] = {
        0x01,   0x07,   0x08,   0x0b,    0x1b,    0x1f,    0x7f,    0x80,    0x85,    0x9b,    0x9f,    0xad,   0x600,
        0x605,  0x61c,  0x6dd,  0x70f,   0x890,   0x8e2,   0x180e,  0x200b,  0x200c,  0x200d,  0x200e,  0x200f, 0x202a,
        0x202b, 0x202c, 0x202d, 0x202e,  0x2060,  0x2061,  0x2064,  0x2066,  0x2067,  0x2068,  0x2069,  0x206f, 0xfeff,
        0xfff9, 0xfffa, 0xfffb, 0x110bd, 0x110cd, 0x13430, 0x1bca0, 0x1d173, 0xe0001, 0xe0020, 0xe0041, 0xe007f};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        char line[32];
        char utf8[5] = "";
        uint32_t c = hidden[i];
        if (c < 0x80)
            snprintf(utf8, sizeof utf8, "%c", (char)c);
        else if (c < 0x800)
            snprintf(utf8, sizeof utf8, "%c%c", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
        else if (c < 0x10000)
            snprintf(utf8, sizeof utf8, "%c%c%c", 0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
        else
            snprintf(utf8, sizeof utf8, "%c%c%c%c", 0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f),
                     0x80 | (c & 0x3f));
        snprintf(line, sizeof line, "say x%sy%sz", utf8, utf8);
        char *heard = say(t, line);
        if (strstr(heard, "xyz") == NULL)
            fail_msg("U+%04X was not stripped: %s", (unsigned)c, heard);
        free(heard);
    }
}

/* Visible characters next to the stripped ranges, TAB, and text in other
 * scripts arrive unchanged. */
static void
visible_characters_and_tab_are_kept(void **state)
{
    two_t *t = *state;
    /* U+00AC, U+00AE, U+2010 (hyphen), U+2030, U+2070, U+FEFE is unassigned but not Cf, U+1F600 */
    char *heard = say(t, "say caf\xc3\xa9 \xc2\xac\xc2\xae \xe2\x80\x90\xe2\x80\xb0\xe2\x81\xb0 \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85 "
                         "\xf0\x9f\x98\x80 a\tb");
    assert_contains(heard, "caf\xc3\xa9 \xc2\xac\xc2\xae \xe2\x80\x90\xe2\x80\xb0\xe2\x81\xb0 \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85 "
                           "\xf0\x9f\x98\x80 a\tb");
    free(heard);
}

/* A line of nothing but invisible characters is an empty line; hidden
 * characters around a command do not stop it from being understood. */
static void
hidden_characters_around_a_command_are_ignored(void **state)
{
    two_t *t = *state;
    json_array_clear(t->said);
    tale_player_command(t->speaker, "\xe2\x80\x8b\xe2\x80\xae\x1b", 7);
    char *said = all_text(t->said);
    assert_contains(said, "Say something!");
    free(said);
    json_array_clear(t->said);
    const char *look = "\xe2\x80\xae l\xe2\x80\x8book \xef\xbb\xbf";
    tale_player_command(t->speaker, look, strlen(look));
    said = all_text(t->said);
    assert_contains(said, "<span class='txt-userinput'>look</span>");
    assert_contains(said, "txt-location");
    free(said);
}

/* "again" repeats the cleaned line, and completion ignores hidden characters. */
static void
again_and_completion_see_the_cleaned_line(void **state)
{
    two_t *t = *state;
    char *heard = say(t, "say psst\xe2\x81\xa6!");
    assert_contains(heard, "psst!");
    free(heard);
    heard = say(t, "again");
    assert_contains(heard, "psst!");
    assert_null(strstr(heard, "\xe2\x81\xa6"));
    free(heard);
    json_t *c = tale_player_complete(t->speaker, "\xe2\x80\x8bloo", 6);
    int found = 0;
    size_t i;
    json_t *v;
    json_array_foreach(c, i, v) found |= strcmp(json_string_value(v), "look") == 0;
    json_decref(c);
    assert_true(found);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(a_bidi_override_in_say_does_not_reach_the_listener),
        T(every_format_and_control_character_is_stripped),
        T(visible_characters_and_tab_are_kept),
        T(hidden_characters_around_a_command_are_ignored),
        T(again_and_completion_see_the_cleaned_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
