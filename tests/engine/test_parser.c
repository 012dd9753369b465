/*
 * test_parser.c - the parser: directions, articles, "it", the "Which key?" question, unknown words, long input, completion and
 * suggestions, typos and "again", random input (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static int
has(json_t *arr, const char *s)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (strcmp(json_string_value(json_array_get(arr, i)), s) == 0)
            return 1;
    return 0;
}

static json_t *
complete(game_t *g, const char *prefix)
{
    return tale_player_complete(g->p, prefix, strlen(prefix));
}

static uint32_t
rnd(uint32_t *st)
{
    /* xorshift32: the same sequence on every run, so a failure reproduces */
    *st ^= *st << 13;
    *st ^= *st >> 17;
    *st ^= *st << 5;
    return *st;
}

static void
directions_and_abbreviations(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "e"), "<span class='txt-location'>Garden</span>");
    assert_string_equal(field(g, "location"), "Garden");
    assert_contains(cmd(g, "go west"), "<span class='txt-location'>Porch</span>");
    assert_contains(cmd(g, "east"), "Garden");
    assert_contains(cmd(g, "go to w"), "Porch");
    assert_contains(cmd(g, "s"), "You can&#39;t go south from here.");
    assert_contains(cmd(g, "go sideways"), "&#39;sideways&#39; is not a direction.");
    assert_contains(cmd(g, "go"), "Go where?");
    assert_contains(cmd(g, "n"), "The front door is locked.");
    assert_string_equal(field(g, "location"), "Porch");
}

static void
articles_ignored_and_case_folded(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "  TAKE   The Brass  Key.  "), "You take the brass key.");
    assert_contains(cmd(g, "drop a brass key"), "You drop the brass key.");
    assert_contains(cmd(g, "x an iron key"), "A heavy iron key.");
}

static void
it_means_the_last_thing_named(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "drop it"), "I don&#39;t know what &#39;it&#39; means here");
    cmd(g, "x brass key");
    assert_contains(cmd(g, "take it"), "You take the brass key.");
    assert_contains(cmd(g, "drop it"), "You drop the brass key.");
    cmd(g, "take brass key");
    assert_contains(cmd(g, "unlock door"), "You unlock the front door with the brass key.");
    assert_contains(cmd(g, "open it"), "You open the front door.");
}

static void
ambiguous_noun_asks_and_the_answer_completes(void **state)
{
    game_t *g = *state;
    const char *t = cmd(g, "take key");
    assert_contains(t, "<p>Which key: the brass key or the iron key?</p>");
    assert_int_equal(turns(g), 0);
    assert_contains(cmd(g, "the iron one"), "You take the iron key.");
    assert_int_equal(turns(g), 1);
    /* an answer inside a two-noun command keeps the rest of it */
    cmd(g, "take brass key");
    cmd(g, "e");
    cmd(g, "unlock box with iron key");
    cmd(g, "open box");
    assert_contains(cmd(g, "put key in box"), "Which key: the brass key or the iron key?");
    assert_contains(cmd(g, "brass"), "You put the brass key in the wooden box.");
}

static void
question_is_dropped_by_a_new_command(void **state)
{
    game_t *g = *state;
    cmd(g, "take key");
    assert_contains(cmd(g, "look"), "<span class='txt-location'>Porch</span>");
    /* and a non-answer afterwards is an ordinary (unknown) command */
    assert_contains(cmd(g, "brass"), "I don&#39;t know the verb &#39;brass&#39;.");
}

static void
unknown_verb_and_noun_get_helpful_lines(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "xyzzy"), "I don&#39;t know the verb &#39;xyzzy&#39;. <span class='txt-dim'>Type</span> help");
    assert_contains(cmd(g, "take unicorn"), "I don&#39;t know what &#39;unicorn&#39; is.");
    assert_contains(cmd(g, "take fish"), "You see no fish here.");
    assert_contains(cmd(g, ""), "Say something!");
    assert_contains(cmd(g, "   "), "Say something!");
    assert_int_equal(turns(g), 0);
}

static void
long_input_is_refused_without_echo(void **state)
{
    game_t *g = *state;
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    const char *t = cmd(g, big);
    assert_contains(t, "That is too long: commands are at most 200 characters.");
    assert_lacks(t, "aaaaaaaaaaaaaaaaaaaaaaaa");
}

static void
suggest_lists_completions_escaped_with_the_array_and_snapshot(void **state)
{
    game_t *g = *state;
    json_array_clear(g->s.frames);
    tale_player_suggest(g->p, "ta", 2);
    assert_int_equal(json_array_size(g->s.frames), 1);
    json_t *f = last_frame(&g->s, "text");
    assert_contains(text_of(&g->s), "Suggestions:");
    assert_contains(text_of(&g->s), "<p class='txt-monospaced'>take &nbsp; talk</p>");
    json_t *c = json_object_get(f, "completions");
    assert_int_equal(json_array_size(c), 2);
    assert_string_equal(json_string_value(json_array_get(c, 0)), "take");
    assert_non_null(json_object_get(f, "location"));
    assert_non_null(json_object_get(f, "exits"));

    json_array_clear(g->s.frames);
    tale_player_suggest(g->p, "<zz", 3);
    assert_contains(text_of(&g->s), "No matching commands.");
    assert_int_equal(json_array_size(json_object_get(last_frame(&g->s, "text"), "completions")), 0);
}

static void
completion_verbs_nouns_directions(void **state)
{
    game_t *g = *state;
    json_t *r = complete(g, "ta");
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(json_string_value(json_array_get(r, 0)), "take");
    assert_string_equal(json_string_value(json_array_get(r, 1)), "talk");
    json_decref(r);
    r = complete(g, "TAK");
    assert_int_equal(json_array_size(r), 1);
    assert_string_equal(json_string_value(json_array_get(r, 0)), "take");
    json_decref(r);

    r = complete(g, "u");
    /* verbs first (sorted), then directions */
    assert_int_equal(json_array_size(r), 4);
    assert_string_equal(json_string_value(json_array_get(r, 0)), "unlock");
    assert_string_equal(json_string_value(json_array_get(r, 3)), "up");
    json_decref(r);

    r = complete(g, "take ");
    assert_int_equal(json_array_size(r), 2);
    assert_true(has(r, "take brass key"));
    assert_true(has(r, "take iron key"));
    json_decref(r);

    r = complete(g, "drop w");
    assert_int_equal(json_array_size(r), 2);
    assert_true(has(r, "drop water flask"));
    assert_true(has(r, "drop wool coat"));
    json_decref(r);

    r = complete(g, "go so");
    assert_int_equal(json_array_size(r), 3);
    assert_true(has(r, "go south"));
    assert_true(has(r, "go southeast"));
    assert_true(has(r, "go southwest"));
    json_decref(r);

    /* a multi-word name half typed, and the second noun of a command */
    r = complete(g, "take brass k");
    assert_int_equal(json_array_size(r), 1);
    assert_string_equal(json_string_value(json_array_get(r, 0)), "take brass key");
    json_decref(r);
    r = complete(g, "put flask in wool");
    assert_int_equal(json_array_size(r), 1);
    assert_string_equal(json_string_value(json_array_get(r, 0)), "put flask in wool coat");
    json_decref(r);

    r = complete(g, "unlock ");
    assert_true(has(r, "unlock front door"));
    json_decref(r);

    r = complete(g, "");
    assert_true(has(r, "look") && has(r, "@teststyles") && has(r, "north") && has(r, "out"));
    json_decref(r);

    r = complete(g, "frob ");
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);
}

static void
typos_again_talk_and_light(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "again"), "There is nothing to repeat yet.");
    assert_contains(cmd(g, "tkae brass key"), "I don&#39;t know the verb &#39;tkae&#39;. Did you mean "
                                              "<span class='txt-bright'>take</span>?");
    assert_contains(cmd(g, "exmaine mat"), "Did you mean <span class='txt-bright'>examine</span>?");
    assert_contains(cmd(g, "zz"), "<span class='txt-dim'>Type</span> help"); /* too short to guess */
    assert_contains(cmd(g, "x mat"), "It says WELCOME.");
    long t0 = turns(g);
    assert_contains(cmd(g, "again"), "It says WELCOME.");
    assert_contains(cmd(g, "g"), "It says WELCOME.");
    assert_int_equal(turns(g), t0 + 2);
    cmd(g, "say Hello Again");
    assert_contains(cmd(g, "g"), "say: <span class='txt-player-speech'>\xe2\x80\x9cHello Again\xe2\x80\x9d");

    cmd(g, "e");
    cmd(g, "take lamp");
    assert_contains(cmd(g, "light coat"), "You can&#39;t light the wool coat.");
    assert_contains(cmd(g, "light lamp"), "The oil lamp is already lit.");
    assert_contains(cmd(g, "extinguish lamp"), "You put out the oil lamp.");
    assert_contains(cmd(g, "douse lamp"), "The oil lamp isn&#39;t lit.");
    assert_contains(cmd(g, "light lamp"), "You light the oil lamp.");
    cmd(g, "w");
    cmd(g, "take brass key");
    cmd(g, "unlock door");
    cmd(g, "open door");
    cmd(g, "n");
    assert_contains(cmd(g, "talk to cat"), "Mrrrow?");
    assert_contains(cmd(g, "talk to the cat about fish"), "The cat&#39;s ears prick up.");
    assert_contains(cmd(g, "talk"), "Talk to whom?");
    cmd(g, "d");
    assert_contains(cmd(g, "extinguish lamp"), "<p>You put out the oil lamp.</p>\n<p>It is now pitch dark.</p>");
    assert_contains(cmd(g, "look"), "It is pitch dark.");
}

static void
random_input_always_gets_one_safe_frame(void **state)
{
    game_t *g = *state;
    static const char *const words[] = {
        "take",  "drop",  "put",  "give",  "open",   "close",    "lock",   "unlock", "go",    "look",  "x",        "i",
        "say",   "tell",  "ask",  "emote", "read",   "wear",     "remove", "wield",  "eat",   "drink", "use",      "n",
        "s",     "e",     "w",    "u",     "d",      "in",       "out",    "the",    "a",     "it",    "all",      "to",
        "about", "with",  "from", "on",    "key",    "brass",    "iron",   "door",   "box",   "coin",  "cat",      "me",
        "lamp",  "fish",  "coat", "flask", "tester", "<script>", "%s%n%d", "\"",     "&amp;", "'",     "\xff\xfe", "caf\xc3\xa9",
        "#i0.0", "#d0.0", "#x",   "@cls",  "help",   "map",      "brief",  "who",    "wait",  "time",  "exits",    NULL};
    size_t nwords = 0;
    while (words[nwords])
        nwords++;
    uint32_t st = 0x2545f491;
    for (int i = 0; i < 3000; i++) {
        char line[256] = "";
        size_t len = 0;
        int n = 1 + (int)(rnd(&st) % 5);
        for (int k = 0; k < n; k++)
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", k ? " " : "", words[rnd(&st) % nwords]);
        int rc;
        const char *t = cmd_rc(g, line, &rc);
        assert_non_null(t);
        assert_lacks(t, "<script");
        assert_non_null(json_object_get(last_frame(&g->s, "text"), "location"));
        if (i % 50 == 0)
            tale_world_tick(g->w);
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(directions_and_abbreviations),
        T(articles_ignored_and_case_folded),
        T(it_means_the_last_thing_named),
        T(ambiguous_noun_asks_and_the_answer_completes),
        T(question_is_dropped_by_a_new_command),
        T(unknown_verb_and_noun_get_helpful_lines),
        T(long_input_is_refused_without_echo),
        T(completion_verbs_nouns_directions),
        T(suggest_lists_completions_escaped_with_the_array_and_snapshot),
        T(random_input_always_gets_one_safe_frame),
        T(typos_again_talk_and_light),
    };
    return play_run(tests, argc, argv);
}
