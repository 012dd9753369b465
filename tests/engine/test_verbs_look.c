/*
 * test_verbs_look.c - the looking verbs: examine, inventory, exits (and flag-gated exits), darkness and light
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
examine_things_people_doors_and_self(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "examine mat"), "It says WELCOME.");
    assert_contains(cmd(g, "inspect door"), "The front door leads north. It is locked.");
    assert_contains(cmd(g, "x me"), "You are a test.");
    assert_contains(cmd(g, "look at flask"), "Full of water.");
    assert_contains(cmd(g, "examine"), "Examine what?");
    assert_contains(cmd(g, "look north"), "<p>The front door.</p>\n<p>The front door is locked.</p>");
    assert_contains(cmd(g, "l e"), "The way east leads to somewhere you have not been.");
    assert_contains(cmd(g, "look up"), "There is no way up from here.");
    cmd(g, "e");
    assert_contains(cmd(g, "x gardener"), "<p>A man with muddy boots.</p>\n<p>Bert is carrying a spade.</p>");
    assert_contains(cmd(g, "x box"), "The wooden box is locked.");
    assert_contains(cmd(g, "x lamp"), "It is lit.");
}

static void
inventory_lists_and_marks(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "i"), "You are carrying: a water flask, a wool coat.");
    cmd(g, "wear coat");
    assert_contains(cmd(g, "inventory"), "a wool coat (worn)");
    cmd(g, "drop all");
    assert_contains(cmd(g, "inv"), "You are empty-handed.");
}

static void
exits_command_and_flag_gated_exits(void **state)
{
    game_t *g = *state;
    const char *t = cmd(g, "exits");
    assert_contains(t, "<span class='txt-bright'>north</span>: The front door. The front door (locked)");
    assert_contains(t, "<span class='txt-bright'>east</span>: to somewhere you have not been");
    to_hall(g);
    assert_contains(cmd(g, "e"), "The cat hisses at you.");
    assert_contains(cmd(g, "u"), "You can&#39;t go up from here."); /* hidden until the flag */
    assert_string_equal(field(g, "exits"), "south,down,east");
}

static void
dark_location_needs_light(void **state)
{
    game_t *g = *state;
    to_hall(g);
    const char *t = cmd(g, "d");
    assert_contains(t, "It is pitch dark. You can&#39;t see a thing.");
    assert_string_equal(field(g, "items"), "");
    assert_contains(cmd(g, "take all"), "It is too dark to see anything to take.");
    cmd(g, "u");
    cmd(g, "s");
    cmd(g, "e");
    cmd(g, "take lamp");
    cmd(g, "w");
    cmd(g, "n");
    t = cmd(g, "d");
    assert_contains(t, "You see: a dried fish.");
    assert_string_equal(field(g, "items"), "dried fish");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(examine_things_people_doors_and_self),
        T(inventory_lists_and_marks),
        T(exits_command_and_flag_gated_exits),
        T(dark_location_needs_light),
    };
    return play_run(tests, argc, argv);
}
