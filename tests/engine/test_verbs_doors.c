/*
 * test_verbs_doors.c - doors and boxes: lock, unlock, open and close, both sides of a door together
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
doors_lock_unlock_open_close_both_sides(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "open door"), "The front door is locked.");
    assert_contains(cmd(g, "unlock door"), "You don&#39;t have the key to the front door.");
    cmd(g, "take all");
    assert_contains(cmd(g, "unlock door with iron key"), "The iron key doesn&#39;t fit the front door.");
    assert_contains(cmd(g, "unlock door with brass key"), "You unlock the front door with the brass key.");
    assert_contains(cmd(g, "unlock door"), "The front door isn&#39;t locked.");
    assert_contains(cmd(g, "n"), "The front door is closed.");
    assert_contains(cmd(g, "open front door"), "You open the front door.");
    assert_contains(cmd(g, "open door"), "The front door is already open.");
    assert_contains(cmd(g, "lock door"), "You need to close the front door first.");
    cmd(g, "n");
    /* the other side is the same door */
    assert_contains(cmd(g, "close door"), "You close the front door.");
    assert_contains(cmd(g, "lock door"), "You lock the front door with the brass key.");
    assert_contains(cmd(g, "lock door"), "The front door is already locked.");
    assert_contains(cmd(g, "s"), "The front door is locked.");
    assert_contains(cmd(g, "open cat"), "You can&#39;t open Tibbles.");
    assert_contains(cmd(g, "close"), "Close what?");
    assert_contains(cmd(g, "lock flask"), "You can&#39;t lock water flask.");
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(doors_lock_unlock_open_close_both_sides),
    };
    return play_run(tests, argc, argv);
}
