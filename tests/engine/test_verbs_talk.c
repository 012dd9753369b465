/*
 * test_verbs_talk.c - talking: NPC topics, emote and yell, what other players see and hear
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

typedef struct second {
    tale_player_t *p;
    sink_t s;
} second_t;

static void
talking_to_npcs(void **state)
{
    game_t *g = *state;
    to_hall(g);
    assert_contains(text_of(&g->s), "<span class='txt-npc-name'>Tibbles</span> says: <span class='txt-npc-speech'>"
                                    "\xe2\x80\x9cMrrrow?\xe2\x80\x9d</span>");
    assert_contains(cmd(g, "ask cat about the fish"), "The cat&#39;s ears prick up.");
    assert_contains(cmd(g, "ask tibbles about food"), "The cat&#39;s ears prick up.");
    assert_contains(cmd(g, "ask cat about weather"), "The cat ignores you.");
    assert_contains(cmd(g, "ask cat"), "Mrrrow?");
    assert_contains(cmd(g, "ask"), "Ask whom?");
    assert_contains(cmd(g, "ask door about fish"), "front door can&#39;t answer questions.");
    const char *t = cmd(g, "say Hello to the cat");
    assert_contains(t, "<span class='txt-player-name'>You</span> say: <span class='txt-player-speech'>\xe2\x80\x9cHello");
    assert_contains(t, "Mrrrow?");
    assert_contains(cmd(g, "say fish please to cat"), "The cat&#39;s ears prick up.");
    assert_contains(cmd(g, "tell cat about fish"), "The cat&#39;s ears prick up.");
    assert_contains(cmd(g, "tell nobody hi"), "Tell whom?");
    assert_contains(cmd(g, "say"), "Say what?");
}

static void
emote_and_yell(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "emote dances a <b>jig</b>"), "<p>Tester dances a &lt;b&gt;jig&lt;/b&gt;</p>");
    assert_contains(cmd(g, "emote"), "Emote what?");
    assert_contains(cmd(g, "yell HELLO"), "<span class='txt-player-name'>You</span> yell: ");
    assert_contains(cmd(g, "shout"), "You yell wordlessly.");
}

static void
other_players_see_arrivals_speech_and_emotes(void **state)
{
    game_t *g = *state;
    second_t b = {.s.frames = json_array()};
    json_array_clear(g->s.frames);
    b.p = tale_player_join(g->w, emit, &b.s);
    assert_contains(text_of(&b.s), "<span class='txt-location'>Porch</span>");
    assert_contains(text_of(&b.s), "Tester is here.");
    assert_contains(text_of(&g->s), "Tester 2 appears.");
    assert_null(json_object_get(last_frame(&g->s, "text"), "npcs")); /* room news: no snapshot */
    assert_string_equal(json_string_value(json_object_get(last_frame(&g->s, "text"), "type")), "text");
    cmd(g, "look");
    assert_string_equal(json_string_value(json_object_get(last_frame(&g->s, "text"), "npcs")), "Tester 2");

    json_array_clear(b.s.frames);
    cmd(g, "say hello there");
    assert_contains(text_of(&b.s), "<span class='txt-player-name'>Tester</span> says: <span class='txt-player-speech'>"
                                   "\xe2\x80\x9chello there");
    cmd(g, "emote waves");
    assert_contains(text_of(&b.s), "<p>Tester waves</p>");
    cmd(g, "take brass key");
    assert_contains(text_of(&b.s), "Tester takes the brass key.");
    cmd(g, "e");
    assert_contains(text_of(&b.s), "Tester goes east.");
    json_array_clear(b.s.frames);
    cmd(g, "say only the garden hears this");
    assert_int_equal(json_array_size(b.s.frames), 0);
    cmd(g, "yell everyone hears this");
    assert_contains(text_of(&b.s), "yells: ");
    json_array_clear(b.s.frames);
    cmd(g, "tell tester 2 psst");
    assert_contains(text_of(&b.s), "<span class='txt-player-name'>Tester</span> tells you: <span class='txt-player-speech'>"
                                   "\xe2\x80\x9cpsst\xe2\x80\x9d");
    assert_contains(text_of(&g->s), "You tell Tester 2");
    /* a restore would move everyone: refused while others are here */
    assert_contains(cmd(g, "load"), "You can&#39;t restore a game while other players are in the world.");
    assert_contains(cmd(g, "who"), "Tester 2 <span class='txt-dim'>(Porch)</span>");

    /* giving between players */
    cmd(g, "w");
    cmd(g, "give brass key to tester 2");
    assert_contains(text_of(&g->s), "You give the brass key to Tester 2.");
    assert_contains(text_of(&b.s), "Tester gives you the brass key.");

    /* a player who leaves leaves their things behind */
    json_array_clear(g->s.frames);
    tale_player_leave(b.p);
    assert_contains(text_of(&g->s), "Tester 2 leaves the game.");
    assert_contains(cmd(g, "look"), "a brass key");
    json_decref(b.s.frames);
}

/* tell's refusals say what went wrong; the shorthands glue to their words */
static void
tell_refusals_and_shorthands(void **state)
{
    game_t *g = *state;
    second_t b = {.s.frames = json_array()};
    b.p = tale_player_join(g->w, emit, &b.s);
    assert_contains(cmd(g, "tell"), "Tell whom?");
    assert_contains(cmd(g, "tell Zed hi"), "Tell whom? There is no player called Zed in the game");
    assert_contains(cmd(g, "tell tester hi"), "You can&#39;t tell yourself anything.");
    assert_contains(cmd(g, "tell me hi"), "You can&#39;t tell yourself anything.");
    assert_contains(cmd(g, "tell tester 2"), "Tell Tester 2 what?");
    json_array_clear(b.s.frames);
    assert_contains(cmd(g, ":waves happily"), "<p>Tester waves happily</p>");
    assert_contains(text_of(&b.s), "<p>Tester waves happily</p>");
    assert_contains(cmd(g, "'hello"), "say: <span class='txt-player-speech'>\xe2\x80\x9chello");
    assert_contains(text_of(&b.s), "Tester</span> says: ");
    /* a burst of tells, then a pause: the clock is the host's */
    tale_world_set_now(g->w, 1000000);
    int sent = 0;
    for (int i = 0; i < 20; i++)
        sent += strstr(cmd(g, "tell tester 2 spam"), "You tell Tester 2") != NULL;
    assert_int_equal(sent, 8);
    assert_contains(text_of(&g->s), "You are sending messages too fast");
    tale_world_set_now(g->w, 1000000 + 3000);
    assert_contains(cmd(g, "tell tester 2 later"), "You tell Tester 2");
    tale_player_leave(b.p);
    json_decref(b.s.frames);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(talking_to_npcs),
        T(emote_and_yell),
        T(other_players_see_arrivals_speech_and_emotes),
        T(tell_refusals_and_shorthands),
    };
    return play_run(tests, argc, argv);
}
