/*
 * html_text_test.c - the console plugin's HTML-to-terminal rendering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "html_text.h"

/* Render with `flags` and compare to the exact expected terminal bytes. */
static void
render(const char *html, unsigned flags, const char *prefix, unsigned width, const char *want)
{
    tale_buf_t out = {0};
    tale_html_opts_t opts = {.flags = flags, .input_prefix = prefix, .width = width};
    tale_html_to_text(html, strlen(html), &opts, &out);
    tale_buf_append(&out, "", 1);
    assert_string_equal(out.data, want);
    tale_buf_free(&out);
}

static void
check_prefixed(const char *html, unsigned flags, const char *prefix, const char *want)
{
    render(html, flags, prefix, 0, want);
}

static void
check(const char *html, unsigned flags, const char *want)
{
    render(html, flags, NULL, 0, want);
}

static void
paragraphs_become_lines(void **state)
{
    check("<p>The Jetty</p>\n<p>Weathered planks.</p>\n", 0, "The Jetty\nWeathered planks.\n");
}

static void
empty_paragraph_is_a_blank_line(void **state)
{
    check("<p>one</p>\n<p></p>\n<p>two</p>\n", 0, "one\n\ntwo\n");
}

static void
white_space_collapses_outside_pre(void **state)
{
    check("<p>  a   lot\n of\t space  </p>", 0, "a lot of space\n");
}

static void
pre_keeps_white_space_and_lines(void **state)
{
    check("<pre>  +--+\n  |  |\n  +--+</pre>\n<p>after</p>", 0, "  +--+\n  |  |\n  +--+\nafter\n");
}

static void
br_breaks_the_line(void **state)
{
    check("<p>one<br>two<br/>three</p>", 0, "one\ntwo\nthree\n");
}

static void
entities_are_decoded(void **state)
{
    check("<p>&lt;script&gt; &amp; &quot;q&quot; &#39;s&#39; &#x263A; &#233;&nbsp;x</p>", 0,
          "<script> & \"q\" 's' \xe2\x98\xba \xc3\xa9 x\n");
}

static void
unknown_entities_and_stray_brackets_print_literally(void **state)
{
    check("<p>fish &chips; a &amp b &#xZZ; 3 &lt 4</p>", 0, "fish &chips; a &amp b &#xZZ; 3 &lt 4\n");
    check("<p>1 < 2</p> and a < at the end <", 0, "1 < 2\nand a < at the end <\n");
}

static void
tags_are_stripped_without_ansi(void **state)
{
    check("<p><span class='txt-location'>The Harbour</span> is <span class=\"txt-bright txt-ul\">here</span>.</p>", 0,
          "The Harbour is here.\n");
}

static void
style_classes_map_to_sgr_on_a_terminal(void **state)
{
    check("<p><span class='txt-bright'>b</span><span class='txt-dim'>d</span><span class='txt-it'>i</span>"
          "<span class='txt-ul'>u</span><span class='txt-rev'>r</span><span class='txt-location'>L</span></p>",
          TALE_HTML_ANSI, "\033[0;1mb\033[0;2md\033[0;3mi\033[0;4mu\033[0;7mr\033[0;1;36mL\033[0m\n");
}

static void
nested_styles_restore_the_outer_one(void **state)
{
    check("<p><span class='txt-bright'>a<span class='txt-ul'>b</span>c</span>d</p>", TALE_HTML_ANSI,
          "\033[0;1ma\033[0;1;4mb\033[0;1mc\033[0md\n");
}

static void
space_between_styles_takes_only_shared_attributes(void **state)
{
    /* the underline must not run on under the gap between the words */
    check("<p><span class='txt-ul'>one</span> two</p>", TALE_HTML_ANSI, "\033[0;4mone\033[0m two\n");
}

static void
attributes_reset_before_each_newline(void **state)
{
    check("<p><span class='txt-rev'>a<br>b</span></p>", TALE_HTML_ANSI, "\033[0;7ma\033[0m\n\033[0;7mb\033[0m\n");
}

static void
echoed_input_is_kept_or_skipped(void **state)
{
    const char *html = "<p><span class='txt-userinput'>look</span></p>\n<p>You see a jetty.</p>";
    check(html, 0, "look\nYou see a jetty.\n");
    check(html, TALE_HTML_SKIP_INPUT, "You see a jetty.\n");
    check_prefixed(html, 0, "> ", "> look\nYou see a jetty.\n");
    check_prefixed(html, TALE_HTML_SKIP_INPUT, "> ", "You see a jetty.\n");
    /* the echo marker itself has no look: no escape sequence around the typed text */
    check_prefixed(html, TALE_HTML_ANSI, "> ", "> look\nYou see a jetty.\n");
}

static void
control_characters_never_reach_the_terminal(void **state)
{
    /* raw ESC, BEL, a C1 CSI in UTF-8, and escapes smuggled as entities */
    check("<p>a\033[2Jb\007c\xc2\x9b"
          "31md&#27;[0m&#x9b;e&#0;f</p>",
          TALE_HTML_ANSI, "a[2Jbc31md[0mef\n");
}

static void
comments_and_unknown_tags_are_dropped(void **state)
{
    check("<p>a<!-- hidden <p> -->b<blink>c</blink><img src=x>d</p>", 0, "abcd\n");
}

static void
deep_nesting_stays_bounded(void **state)
{
    char html[8192] = "<p>";
    for (int i = 0; i < 200; i++)
        strcat(html, "<span class='txt-bright'>");
    strcat(html, "x");
    for (int i = 0; i < 200; i++)
        strcat(html, "</span>");
    strcat(html, "y</p>");
    check(html, TALE_HTML_ANSI, "\033[0;1mx\033[0my\n");
}

static void
lines_wrap_at_word_boundaries(void **state)
{
    render("<p>The quick brown fox jumps over the lazy dog</p>", 0, NULL, 20, "The quick brown fox\njumps over the lazy\ndog\n");
    /* exactly the width fits; a word split by markup or an entity moves as one */
    render("<p>12345678901234567890</p>", 0, NULL, 20, "12345678901234567890\n");
    render("<p>aaaa bbbb <span class='txt-it'>Tern</span>&#39;s</p>", TALE_HTML_ANSI, NULL, 12,
           "aaaa bbbb\n\033[0;3mTern\033[0m's\n");
    /* columns count characters, not bytes */
    render("<p>\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9</p>", 0, NULL, 7,
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\n");
    /* a word longer than the line overflows instead of being cut */
    render("<p>a bbbbbbbbbbbb c</p>", 0, NULL, 5, "a\nbbbbbbbbbbbb\nc\n");
}

static void
preformatted_text_never_wraps(void **state)
{
    render("<pre>one two three four</pre>", 0, NULL, 8, "one two three four\n");
}

static void
empty_input_gives_empty_output(void **state)
{
    check("", 0, "");
    check("\n", 0, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paragraphs_become_lines),
        cmocka_unit_test(empty_paragraph_is_a_blank_line),
        cmocka_unit_test(white_space_collapses_outside_pre),
        cmocka_unit_test(pre_keeps_white_space_and_lines),
        cmocka_unit_test(br_breaks_the_line),
        cmocka_unit_test(entities_are_decoded),
        cmocka_unit_test(unknown_entities_and_stray_brackets_print_literally),
        cmocka_unit_test(tags_are_stripped_without_ansi),
        cmocka_unit_test(style_classes_map_to_sgr_on_a_terminal),
        cmocka_unit_test(nested_styles_restore_the_outer_one),
        cmocka_unit_test(space_between_styles_takes_only_shared_attributes),
        cmocka_unit_test(attributes_reset_before_each_newline),
        cmocka_unit_test(echoed_input_is_kept_or_skipped),
        cmocka_unit_test(control_characters_never_reach_the_terminal),
        cmocka_unit_test(comments_and_unknown_tags_are_dropped),
        cmocka_unit_test(deep_nesting_stays_bounded),
        cmocka_unit_test(lines_wrap_at_word_boundaries),
        cmocka_unit_test(preformatted_text_never_wraps),
        cmocka_unit_test(empty_input_gives_empty_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
