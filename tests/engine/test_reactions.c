/*
 * test_reactions.c - the story's reactions: put, use, reveal and requires
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
story_reactions_put_use_reveal_requires(void **state)
{
    game_t *g = *state;
    /* the way to the study: key, door, fish for the cat (ribbon back) */
    static const char *const to_study[] = {"e", "take lamp", "w", "take brass key",   "unlock door", "open door", "n",
                                           "d", "take fish", "u", "give fish to cat", "e",           NULL};
    for (int i = 0; to_study[i]; i++)
        cmd(g, to_study[i]);
    assert_string_equal(field(g, "location"), "Study");
    /* replace: the reaction's text instead of the description */
    const char *t = cmd(g, "x painting");
    assert_contains(t, "The eyes follow you.");
    assert_lacks(t, "A portrait.");
    /* requires + otherwise: blocked; "use" is written on the wand, with the cat */
    cmd(g, "take wand");
    cmd(g, "w");
    assert_contains(cmd(g, "use wand on cat"), "The wand is cold.");
    assert_contains(cmd(g, "use wand on door"), "Using the hazel wand on front door does nothing.");
    cmd(g, "e");
    /* put with an item filter: the wrong item is just put */
    assert_contains(cmd(g, "put wand in bowl"), "You put the hazel wand in the stone bowl.");
    assert_lacks(text_of(&g->s), "glows");
    t = cmd(g, "put ribbon in bowl");
    assert_contains(t, "<p>You put the red ribbon in the stone bowl.</p>\n<p>The ribbon glows.</p>");
    assert_string_equal(field(g, "items"), "letter,silver charm"); /* revealed here (story order) */
    cmd(g, "take wand from bowl");
    cmd(g, "w");
    assert_contains(cmd(g, "use wand on cat"), "The cat purrs at the wand.");
    /* a topic that needs a flag, and an NPC that hands a gift back */
    cmd(g, "s");
    cmd(g, "e");
    assert_contains(cmd(g, "ask gardener about charm"), "Keep it safe.");
    t = cmd(g, "give coat to gardener");
    assert_contains(t, "Nice coat. Not my size.");
    assert_contains(t, "Bert hands the wool coat back to you.");
    assert_contains(cmd(g, "i"), "a wool coat");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(story_reactions_put_use_reveal_requires),
    };
    return play_run(tests, argc, argv);
}
