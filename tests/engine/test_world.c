/*
 * test_world.c - a world's life: joining, ticks (wandering and emoting NPCs), the whole walkthrough to the ending
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
join_emits_welcome_motd_and_look(void **state)
{
    game_t *g = *state;
    json_t *f = json_array_get(g->s.frames, 0);
    assert_non_null(f);
    const char *t = json_string_value(json_object_get(f, "text"));
    assert_contains(t, "<p>Welcome to <span class='txt-bright'>Test Manor</span>.</p>\n");
    assert_contains(t, "<p>Today&#39;s motd <span class='txt-it'>is</span> here.</p>\n");
    assert_contains(t, "<p><span class='txt-location'>Porch</span></p>\n");
    assert_string_equal(json_string_value(json_object_get(f, "location")), "Porch");
    assert_string_equal(json_string_value(json_object_get(f, "location_image")), "porch.svg");
    assert_string_equal(json_string_value(json_object_get(f, "items")), "brass key,iron key");
    assert_string_equal(json_string_value(json_object_get(f, "exits")), "north,east");
    assert_string_equal(json_string_value(json_object_get(f, "npcs")), "");
    assert_int_equal(json_integer_value(json_object_get(f, "turns")), 0);
    assert_true(json_is_array(json_object_get(f, "special")));
}

static void
ticks_wander_npcs_and_emote(void **state)
{
    game_t *g = *state;
    cmd(g, "e"); /* Bert is in the garden; he wanders every 3 ticks */
    json_array_clear(g->s.frames);
    tale_world_tick(g->w);
    tale_world_tick(g->w);
    assert_int_equal(json_array_size(g->s.frames), 0);
    tale_world_tick(g->w);
    assert_contains(text_of(&g->s), "Bert goes west.");
    /* room news is one frame for the room: no snapshot, the panel waits for the next command */
    assert_null(json_object_get(last_frame(&g->s, "text"), "npcs"));
    cmd(g, "look");
    assert_string_equal(field(g, "npcs"), "");
    cmd(g, "w");
    assert_string_equal(field(g, "npcs"), "Bert");
    json_array_clear(g->s.frames);
    for (int i = 0; i < 3; i++)
        tale_world_tick(g->w);
    assert_contains(text_of(&g->s), "Bert goes east.");

    /* the cat emotes every 2 ticks, to players in the hall only; its lines
     * went on while nobody watched (ticks 2, 4, 6), so tick 8 has the second */
    cmd(g, "take brass key");
    cmd(g, "unlock door");
    cmd(g, "open door");
    cmd(g, "n");
    json_array_clear(g->s.frames);
    tale_world_tick(g->w);
    tale_world_tick(g->w);
    assert_int_equal(json_array_size(g->s.frames), 1);
    assert_contains(text_of(&g->s), "<p>Tibbles stares at you.</p>");
    json_array_clear(g->s.frames);
    tale_world_tick(g->w);
    tale_world_tick(g->w);
    assert_contains(text_of(&g->s), "<p>Tibbles washes a paw.</p>");
}

static void
walkthrough_reaches_the_ending(void **state)
{
    game_t *g = *state;
    static const char *const steps[] = {"take all",  "e",
                                        "take lamp", "unlock box with iron key",
                                        "open box",  "take coin",
                                        "w",         "unlock door",
                                        "open door", "n",
                                        "d",         "take fish",
                                        "u",         "give fish to cat",
                                        "e",         "read letter",
                                        "w",         "u",
                                        NULL};
    for (int i = 0; steps[i]; i++) {
        const char *t = cmd(g, steps[i]);
        assert_lacks(t, "The coin is home.");
    }
    assert_contains(text_of(&g->s), "<span class='txt-location'>Attic</span>");
    const char *t = cmd(g, "drop coin");
    assert_contains(t, "<p><span class='txt-bright'>The coin is home.</span> The End.</p>");
    assert_contains(t, "You have finished the story in 19 turns.");
    assert_lacks(cmd(g, "look"), "The coin is home.");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(join_emits_welcome_motd_and_look),
        T(ticks_wander_npcs_and_emote),
        T(walkthrough_reaches_the_ending),
    };
    return play_run(tests, argc, argv);
}
