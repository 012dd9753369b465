/*
 * test_verbs_use.c - using things: read, wear, wield, eat, drink
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
read_wear_wield_eat_drink(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "read flask"), "There is nothing written on the water flask.");
    assert_contains(cmd(g, "read"), "Read what?");
    assert_contains(cmd(g, "wear coat"), "You are now wearing the wool coat.");
    assert_contains(cmd(g, "wear coat"), "You are already wearing the wool coat.");
    assert_contains(cmd(g, "remove coat"), "You take off the wool coat.");
    assert_contains(cmd(g, "remove coat"), "You aren&#39;t wearing the wool coat.");
    assert_contains(cmd(g, "wear flask"), "You can&#39;t wear that.");
    assert_contains(cmd(g, "eat flask"), "You can&#39;t eat that.");
    assert_contains(cmd(g, "drink water"), "You drink the water flask.");
    assert_contains(cmd(g, "drink water"), "You see no water here."); /* gone */
    cmd(g, "e");
    assert_contains(cmd(g, "wield stick"), "You aren&#39;t carrying the walking stick.");
    cmd(g, "take stick");
    assert_contains(cmd(g, "wield stick"),
                    "<p>You are now wielding the walking stick.</p>\n<p>You swing it <span class='txt-it'>once</span>.</p>");
    /* <clear> in story text becomes the frame's "clear" special, not text */
    json_t *sp = json_object_get(last_frame(&g->s, "text"), "special");
    assert_int_equal(json_array_size(sp), 1);
    assert_string_equal(json_string_value(json_array_get(sp, 0)), "clear");
    assert_contains(cmd(g, "unwield stick"), "You stop wielding the walking stick.");
    assert_contains(cmd(g, "unwield stick"), "You aren&#39;t wielding the walking stick.");
    assert_contains(cmd(g, "use stick"), "You can&#39;t think of a way to use the walking stick.");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(read_wear_wield_eat_drink),
    };
    return play_run(tests, argc, argv);
}
