/*
 * test_verbs_meta.c - the game itself: wait, time and turns, help for every command, motd, license, brief, who, map, @cls and quit
 * (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
wait_time_and_turns(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "time"), "It is 09:30 on day 1.");
    assert_contains(cmd(g, "wait"), "Time passes.");
    assert_int_equal(turns(g), 1);
    cmd(g, "z");
    assert_int_equal(turns(g), 2);
    /* two turns of two minutes, and a tick of one */
    tale_world_tick(g->w);
    assert_contains(cmd(g, "time"), "It is 09:35 on day 1. <span class='txt-dim'>Turns taken: 2.</span>");
    cmd(g, "inventory");
    cmd(g, "help");
    assert_int_equal(turns(g), 2); /* informational commands take no time */
}

static void
help_for_every_command(void **state)
{
    game_t *g = *state;
    const char *list = cmd(g, "help");
    static const char *const all[] = {
        "look",  "examine",     "inventory", "take",   "drop",       "put",     "give", "open",  "close", "lock", "unlock",  "go",
        "exits", "say",         "tell",      "ask",    "emote",      "yell",    "wait", "who",   "help",  "motd", "license", "time",
        "brief", "read",        "wear",      "remove", "wield",      "unwield", "eat",  "drink", "map",   "save", "load",    "quit",
        "@cls",  "@teststyles", "talk",      "light",  "extinguish", "again",   "use",  "enter", "leave", NULL};
    char *copy = strdup(list);
    for (int i = 0; all[i]; i++) {
        assert_contains(copy, all[i]);
        char line[64];
        snprintf(line, sizeof line, "help %s", all[i]);
        const char *t = cmd(g, line);
        char want[96];
        snprintf(want, sizeof want, "<p><span class='txt-bright'>%s", all[i]);
        assert_contains(t, want);
    }
    free(copy);
    assert_contains(cmd(g, "help i"), "<span class='txt-bright'>inventory</span>");
    assert_contains(cmd(g, "help north"), "<span class='txt-bright'>go &lt;direction&gt;");
    assert_contains(cmd(g, "help frobnicate"), "There is no command &#39;frobnicate&#39;.");
}

static void
motd_license_brief_who(void **state)
{
    game_t *g = *state;
    assert_contains(cmd(g, "motd"), "Today&#39;s motd <span class='txt-it'>is</span> here.");
    const char *t = cmd(g, "license");
    assert_contains(t, "<span class='txt-bright'>Test Manor</span> 1.0 by Tale Host tests");
    assert_contains(t, "Free for testing.");
    assert_contains(cmd(g, "brief"), "Brief mode is on");
    assert_contains(cmd(g, "e"), "A garden."); /* a first visit is always in full */
    assert_lacks(cmd(g, "w"), "A porch.");
    t = cmd(g, "e");
    assert_lacks(t, "A garden.");
    assert_contains(t, "Garden");
    assert_contains(cmd(g, "brief off"), "Brief mode is off");
    assert_contains(cmd(g, "brief maybe"), "brief on, brief off");
    t = cmd(g, "who");
    assert_contains(t, "Tester <span class='txt-dim'>(you)</span>");
}

static void
map_sends_an_svg_data_frame_and_text(void **state)
{
    game_t *g = *state;
    cmd(g, "e");
    const char *t = cmd(g, "map");
    assert_contains(t, "You sketch a map of the 2 places you have visited.");
    assert_int_equal(json_array_size(g->s.frames), 2);
    json_t *d = json_array_get(g->s.frames, 0); /* the picture comes before the words */
    assert_string_equal(json_string_value(json_object_get(d, "type")), "data");
    assert_string_equal(json_string_value(json_object_get(d, "id")), "map-image");
    const char *url = json_string_value(json_object_get(d, "data"));
    const char *prefix = "data:image/svg+xml;base64,";
    assert_int_equal(strncmp(url, prefix, strlen(prefix)), 0);
    const char *b64 = url + strlen(prefix);
    size_t n = strlen(b64);
    unsigned char *svg = calloc(1, n);
    int len = EVP_DecodeBlock(svg, (const unsigned char *)b64, (int)n);
    assert_true(len > 0);
    assert_contains((char *)svg, "<svg xmlns='http://www.w3.org/2000/svg'");
    assert_contains((char *)svg, ">Porch</text>");
    assert_contains((char *)svg, ">Garden</text>");
    assert_lacks((char *)svg, "Hall"); /* not visited */
    free(svg);
}

static void
cls_sends_clear_and_quit_ends(void **state)
{
    game_t *g = *state;
    cmd(g, "@cls");
    json_t *sp = json_object_get(last_frame(&g->s, "text"), "special");
    assert_int_equal(json_array_size(sp), 1);
    assert_string_equal(json_string_value(json_array_get(sp, 0)), "clear");
    int rc;
    const char *t = cmd_rc(g, "quit", &rc);
    assert_int_equal(rc, TALE_CMD_QUIT);
    assert_contains(t, "Goodbye, Tester.");
    assert_int_equal(json_array_size(json_object_get(last_frame(&g->s, "text"), "special")), 0);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(wait_time_and_turns),           T(help_for_every_command),
        T(motd_license_brief_who),        T(map_sends_an_svg_data_frame_and_text),
        T(cls_sends_clear_and_quit_ends),
    };
    return play_run(tests, argc, argv);
}
