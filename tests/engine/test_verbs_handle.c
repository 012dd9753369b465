/*
 * test_verbs_handle.c - the handling verbs: take and drop (one and all), put in containers, give to NPCs
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
take_and_drop_one_and_all(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "take"), "Take what?");
    const char *t = cmd(g, "take all");
    assert_contains(t, "You take the brass key.");
    assert_contains(t, "You take the iron key.");
    assert_lacks(t, "doormat");
    assert_string_equal(field(g, "items"), "");
    assert_contains(cmd(g, "take all"), "There is nothing here to take.");
    assert_contains(cmd(g, "get brass key"), "You already have the brass key.");
    assert_contains(cmd(g, "take mat"), "The doormat is fixed in place.");
    assert_contains(cmd(g, "pick up mat"), "The doormat is fixed in place.");
    assert_contains(cmd(g, "drop brass key"), "You drop the brass key.");
    assert_contains(cmd(g, "drop brass key"), "You aren&#39;t carrying the brass key.");
    t = cmd(g, "drop all");
    assert_contains(t, "You drop the iron key.");
    assert_contains(t, "You drop the water flask.");
    assert_contains(cmd(g, "drop all"), "You have nothing to drop.");
    assert_contains(cmd(g, "take me"), "You can&#39;t take yourself.");
}

static void
put_in_containers(void **state)
{
    game_t *g = *state;
    cmd(g, "take iron key");
    cmd(g, "e");
    assert_contains(cmd(g, "put flask in box"), "The wooden box is closed.");
    assert_contains(cmd(g, "open box"), "The wooden box is locked.");
    assert_contains(cmd(g, "unlock box"), "You unlock the wooden box with the iron key.");
    const char *t = cmd(g, "open box");
    assert_contains(t, "You open the wooden box.");
    assert_contains(t, "In the wooden box you see: a gold coin.");
    assert_contains(cmd(g, "put flask in box"), "You put the water flask in the wooden box.");
    assert_contains(cmd(g, "look in box"), "In the wooden box you see: a gold coin, a water flask.");
    assert_contains(cmd(g, "put coat in flask"), "You can&#39;t put things in the water flask.");
    assert_contains(cmd(g, "put box in box"), "You can&#39;t put the wooden box inside itself.");
    assert_contains(cmd(g, "put coat"), "Put what in what?");
    assert_contains(cmd(g, "take coin from box"), "You take the gold coin.");
    assert_contains(cmd(g, "close box"), "You close the wooden box.");
    assert_contains(cmd(g, "close box"), "The wooden box is already closed.");
    assert_contains(cmd(g, "lock box"), "You lock the wooden box with the iron key.");
}

static void
give_to_npcs(void **state)
{
    game_t *g = *state;
    to_hall(g);
    assert_contains(cmd(g, "give coat to cat"), "The cat sniffs and turns away.");
    assert_contains(cmd(g, "give fish to cat"), "You see no fish here.");
    assert_contains(cmd(g, "give coat"), "Give what to whom?");
    cmd(g, "d");
    assert_contains(cmd(g, "take fish"), "You see no fish here."); /* dark */
    cmd(g, "u");
    cmd(g, "s");
    cmd(g, "e");
    cmd(g, "take lamp");
    cmd(g, "w");
    cmd(g, "n");
    cmd(g, "d");
    assert_contains(cmd(g, "take fish"), "You take the dried fish.");
    cmd(g, "u");
    const char *t = cmd(g, "give fish to the cat");
    assert_contains(t, "You give the dried fish to Tibbles.");
    assert_contains(t, "<span class='txt-npc-name'>Tibbles</span> says: <span class='txt-npc-speech'>\xe2\x80\x9cPurr.");
    assert_contains(t, "Tibbles gives you the red ribbon.");
    assert_contains(cmd(g, "i"), "a red ribbon");
    assert_contains(cmd(g, "give ribbon to me"), "You can&#39;t give anything to yourself.");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(take_and_drop_one_and_all),
        T(put_in_containers),
        T(give_to_npcs),
    };
    return play_run(tests, argc, argv);
}
