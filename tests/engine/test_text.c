/*
 * test_text.c - text and rendering: story HTML escaped, style tags, paragraphs and <pre>, a player's input escaped, story text
 * shown again the same (fixtures/manor, played in-process: play.h).
 */
#include "play.h"

static void
look_describes_and_escapes_story_html(void **state)
{
    game_t *g = *state;
    const char *t = cmd(g, "look");
    assert_contains(t, "<p><span class='txt-userinput'>look</span></p>\n");
    assert_contains(t, "<p>A porch. &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends.</p>\n");
    assert_lacks(t, "<script>");
    assert_contains(t, "<p>You see: a brass key, an iron key.</p>");
    assert_contains(t, "Exits: north, east.");
    assert_int_equal(turns(g), 1);
    assert_contains(cmd(g, "l"), "<span class='txt-location'>Porch</span>");
}

static void
style_tags_paragraphs_and_pre_render(void **state)
{
    game_t *g = *state;
    to_hall(g);
    const char *t = text_of(&g->s);
    assert_contains(t, "<p>A hall with <span class='txt-bright'>bright</span> walls.</p>\n");
    assert_contains(t, "<pre>PRE  FORMATTED\nline two</pre>\n");
    t = cmd(g, "@teststyles");
    assert_contains(t, "<span class='txt-location'>location</span>");
    assert_contains(t, "<span class='txt-dim'>dim</span>");
    assert_contains(t, "<span class='txt-ul'>underlined</span>");
    assert_contains(t, "<span class='txt-rev'>reverse</span>");
    assert_contains(t, "<span class='txt-monospaced'>monospaced</span>");
    assert_contains(t, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_lacks(t, "<script>");
}

static void
player_input_is_escaped(void **state)
{
    game_t *g = *state;
    const char *t = cmd(g, "say <script>alert('x')</script> & <bright>hi</bright>");
    assert_contains(t, "<span class='txt-userinput'>say &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                       "&lt;bright&gt;hi&lt;/bright&gt;</span>");
    assert_contains(t, "<span class='txt-player-speech'>\xe2\x80\x9c&lt;script&gt;");
    assert_lacks(t, "<script>");
    assert_lacks(t, "<span class='txt-bright'>hi");
    t = cmd(g, "take <img src=x>");
    assert_contains(t, "I don&#39;t know what &#39;&lt;img src=x&gt;&#39; is.");
    /* invalid UTF-8 cannot break the JSON frame */
    t = cmd(g, "say caf\xc3 \xff!");
    assert_contains(t, "caf? ?!");
}

/* Story text is rendered once and copied afterwards (text.c): a second
 * showing must be the same HTML and ask for the same specials. */
static void
story_text_shown_again_is_the_same(void **state)
{
    game_t *g = *state;
    char *first = strdup(cmd(g, "look"));
    assert_string_equal(cmd(g, "look"), first);
    free(first);
    cmd(g, "e");
    cmd(g, "take stick");
    for (int i = 0; i < 2; i++) {
        assert_contains(cmd(g, "wield stick"), "<p>You swing it <span class='txt-it'>once</span>.</p>");
        json_t *sp = json_object_get(last_frame(&g->s, "text"), "special");
        assert_int_equal(json_array_size(sp), 1);
        assert_string_equal(json_string_value(json_array_get(sp, 0)), "clear");
        cmd(g, "unwield stick");
    }
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(look_describes_and_escapes_story_html),
        T(style_tags_paragraphs_and_pre_render),
        T(player_input_is_escaped),
        T(story_text_shown_again_is_the_same),
    };
    return play_run(tests, argc, argv);
}
