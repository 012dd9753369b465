/*
 * play.h - the harness of the engine's play tests (test_parser.c,
 * test_text.c, test_verbs_*.c, test_reactions.c, test_world.c, test_save.c):
 * the engine played in-process against fixtures/manor, one player per test
 * with a fresh world and save folder, every frame kept.  Static inline so
 * each test file takes only what it uses.
 */
#ifndef TALE_TEST_ENGINE_PLAY_H
#define TALE_TEST_ENGINE_PLAY_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

typedef struct sink {
    json_t *frames; /* every frame this player received, in order */
} sink_t;

typedef struct game {
    tale_world_t *w;
    tale_player_t *p;
    sink_t s;
    char save_dir[64];
} game_t;

static inline void
emit(void *ctx, json_t *frame)
{
    sink_t *s = ctx;
    json_array_append_new(s->frames, frame);
}

static inline tale_world_t *
load(const char *save_dir)
{
    char err[1024] = "";
    tale_world_options_t o = {.save_dir = save_dir, .max_input = 200};
    tale_world_t *w = tale_world_load(TALE_FIXTURES "/manor", &o, err, sizeof err);
    if (!w)
        fail_msg("fixture does not load: %s", err);
    return w;
}

static inline int
setup(void **state)
{
    game_t *g = calloc(1, sizeof *g);
    strcpy(g->save_dir, "/tmp/tale-engine-test-XXXXXX");
    if (!mkdtemp(g->save_dir))
        return -1;
    g->w = load(g->save_dir);
    g->s.frames = json_array();
    g->p = tale_player_join(g->w, emit, &g->s);
    *state = g;
    return 0;
}

static inline int
teardown(void **state)
{
    game_t *g = *state;
    tale_world_free(g->w);
    json_decref(g->s.frames);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g->save_dir);
    if (system(cmd) != 0)
        return -1;
    free(g);
    return 0;
}

static inline json_t *
last_frame(sink_t *s, const char *type)
{
    for (size_t i = json_array_size(s->frames); i-- > 0;) {
        json_t *f = json_array_get(s->frames, i);
        if (strcmp(json_string_value(json_object_get(f, "type")), type) == 0)
            return f;
    }
    return NULL;
}

static inline const char *
text_of(sink_t *s)
{
    json_t *f = last_frame(s, "text");
    return f ? json_string_value(json_object_get(f, "text")) : "";
}

/* Run a command; check it produced exactly one text frame; return its HTML. */
static inline const char *
cmd_rc(game_t *g, const char *line, int *rc)
{
    json_array_clear(g->s.frames);
    *rc = tale_player_command(g->p, line, strlen(line));
    size_t texts = 0;
    for (size_t i = 0; i < json_array_size(g->s.frames); i++)
        texts += strcmp(json_string_value(json_object_get(json_array_get(g->s.frames, i), "type")), "text") == 0;
    if (texts != 1)
        fail_msg("'%s' produced %zu text frames", line, texts);
    return text_of(&g->s);
}

static inline const char *
cmd(game_t *g, const char *line)
{
    int rc;
    const char *t = cmd_rc(g, line, &rc);
    assert_int_equal(rc, TALE_CMD_OK);
    return t;
}

#define assert_contains(hay, needle)                                                                                               \
    do {                                                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                                                    \
        if (!strstr(h_, n_))                                                                                                       \
            fail_msg("expected to find\n  %s\nin\n  %s", n_, h_);                                                                  \
    } while (0)
#define assert_lacks(hay, needle)                                                                                                  \
    do {                                                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                                                    \
        if (strstr(h_, n_))                                                                                                        \
            fail_msg("did not expect\n  %s\nin\n  %s", n_, h_);                                                                    \
    } while (0)

static inline const char *
field(game_t *g, const char *name)
{
    return json_string_value(json_object_get(last_frame(&g->s, "text"), name));
}

static inline long
turns(game_t *g)
{
    return (long)json_integer_value(json_object_get(last_frame(&g->s, "text"), "turns"));
}

/* from the porch: through the front door into the hall */
static inline void
to_hall(game_t *g)
{
    cmd(g, "take brass key");
    cmd(g, "unlock door");
    cmd(g, "open door");
    assert_contains(cmd(g, "north"), "<span class='txt-location'>Hall</span>");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* Every play test file's main: run its tests, or only those matching argv[1]. */
#define play_run(tests, argc, argv)                                                                                                \
    ((argc) > 1 ? cmocka_set_test_filter((argv)[1]) : (void)0, cmocka_run_group_tests(tests, NULL, NULL))

#endif
