/*
 * test_json_compact.c - tale_json_compact writes what
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes, byte for byte, and
 * fails where it fails; a few outputs are also spelled out, so the tests
 * say what the bytes are and not only that both writers agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_compact.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY)

/* Both writers give the same bytes and length; takes ownership of v. */
static void
assert_same_as_jansson(json_t *v)
{
    char *want = json_dumps(v, DUMP_FLAGS);
    size_t len = (size_t)-1;
    char *got = tale_json_compact(v, &len);
    assert_non_null(want);
    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len + 1); /* the NUL too */
    free(got);
    free(want);
    json_decref(v);
}

/* tale_json_compact writes exactly `expect`, and so does jansson; takes
 * ownership of v. */
static void
assert_written_as(json_t *v, const char *expect, size_t expect_len)
{
    size_t len = 0;
    char *got = tale_json_compact(v, &len);
    assert_non_null(got);
    assert_int_equal(len, expect_len);
    assert_memory_equal(got, expect, len);
    free(got);
    assert_same_as_jansson(v);
}

/* tale_json_compact refuses v; takes ownership of v. */
static void
assert_refused(json_t *v)
{
    size_t len = 7;
    assert_null(tale_json_compact(v, &len));
    json_decref(v);
}

static const char frame_text[] = "<p><span class='txt-userinput'>look</span></p>\n<p>The jetty creaks under you. Gulls \"argue\" "
                                 "over a crate of fish; a sign reads <b>NO MOORING</b> &amp; the path goes north.</p>\n";

static void
a_game_frame_is_written_exactly_as_json_dumps(void **state)
{
    json_t *frame = json_object();
    json_object_set_new(frame, "type", json_string("text"));
    json_object_set_new(frame, "text", json_string(frame_text));
    json_object_set_new(frame, "special", json_array());
    json_object_set_new(frame, "turns", json_integer(1));
    json_object_set_new(frame, "location", json_string("The Jetty"));
    json_object_set_new(frame, "location_image", json_string("jetty.svg"));
    json_object_set_new(frame, "npcs", json_string(""));
    json_object_set_new(frame, "items", json_string(""));
    json_object_set_new(frame, "exits", json_string("north"));
    json_object_set_new(frame, "seq", json_integer(2)); /* on_emit stamps it last */
    const char *expect = "{\"type\":\"text\",\"text\":\"<p><span class='txt-userinput'>look</span></p>\\n<p>The jetty creaks under "
                         "you. Gulls \\\"argue\\\" over a crate of fish; a sign reads <b>NO MOORING</b> &amp; the path goes "
                         "north.</p>\\n\",\"special\":[],\"turns\":1,\"location\":\"The Jetty\",\"location_image\":\"jetty.svg\","
                         "\"npcs\":\"\",\"items\":\"\",\"exits\":\"north\",\"seq\":2}";
    assert_written_as(frame, expect, strlen(expect));
}

static void
each_escape_is_written_as_jansson_spells_it(void **state)
{
    static const char in[] = "\\ \" \b \f \n \r \t / \x01 \x1f \x7f";
    static const char expect[] = "\"\\\\ \\\" \\b \\f \\n \\r \\t / \\u0001 \\u001F \x7f\"";
    assert_written_as(json_stringn(in, sizeof in - 1), expect, sizeof expect - 1);
}

static void
every_control_byte_alone_and_amid_text_matches_jansson(void **state)
{
    for (int c = 0; c < 0x20; c++) {
        char one = (char)c;
        assert_same_as_jansson(json_stringn(&one, 1));
        char amid[] = "abc?defghijk";
        amid[3] = (char)c;
        assert_same_as_jansson(json_stringn(amid, sizeof amid - 1));
        char key[] = "k?";
        key[1] = (char)c;
        json_t *o = json_object();
        json_object_setn_new(o, key, 2, json_integer(c));
        assert_same_as_jansson(o);
    }
    char all[0x80];
    for (int c = 0; c < 0x80; c++)
        all[c] = (char)c;
    assert_same_as_jansson(json_stringn(all, sizeof all));
}

/* The scan reads eight bytes at a time: an escape or a multi-byte
 * character at every offset of strings of every short length, so each one
 * lands at each place in a word and in the byte-wise tail. */
static void
special_bytes_at_every_offset_are_found(void **state)
{
    static const char *specials[] = {"\"", "\\", "\n", "\x1f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "/"};
    char buf[64];
    for (size_t s = 0; s < sizeof specials / sizeof specials[0]; s++) {
        size_t sl = strlen(specials[s]);
        for (size_t n = 0; n + sl <= 40; n++) {
            for (size_t at = 0; at <= n; at++) {
                memset(buf, 'x', n);
                memmove(buf + at + sl, buf + at, n - at);
                memcpy(buf + at, specials[s], sl);
                assert_same_as_jansson(json_stringn(buf, n + sl));
            }
        }
    }
}

static void
an_embedded_nul_in_a_string_is_escaped_not_an_end(void **state)
{
    static const char expect[] = "\"a\\u0000b\\u0000\"";
    assert_written_as(json_stringn("a\0b\0", 4), expect, sizeof expect - 1);
}

static void
an_embedded_nul_in_a_key_is_escaped_not_an_end(void **state)
{
    json_t *o = json_object();
    json_object_setn_new(o, "k\0ey", 4, json_true());
    json_object_setn_new(o, "k", 1, json_false()); /* a different key that a C string would confuse with it */
    static const char expect[] = "{\"k\\u0000ey\":true,\"k\":false}";
    assert_written_as(o, expect, sizeof expect - 1);
}

static void
utf8_of_two_three_and_four_bytes_is_copied_as_is(void **state)
{
    /* U+0080 U+07FF U+0800 U+D7FF U+E000 U+FFFF U+10000 U+10FFFF, then é € 😀 amid ASCII */
    static const char in[] = "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"
                             " caf\xc3\xa9 5\xe2\x82\xac \xf0\x9f\x98\x80!";
    char expect[sizeof in + 2];
    snprintf(expect, sizeof expect, "\"%s\"", in);
    assert_written_as(json_string(in), expect, strlen(expect));
    json_t *o = json_object();
    json_object_set_new(o, "cl\xc3\xa9", json_string("\xe2\x82\xac"));
    assert_same_as_jansson(o);
}

static void
empty_object_array_and_string(void **state)
{
    assert_written_as(json_object(), "{}", 2);
    assert_written_as(json_array(), "[]", 2);
    assert_written_as(json_string(""), "\"\"", 2);
    json_t *o = json_object();
    json_object_set_new(o, "", json_string(""));
    assert_written_as(o, "{\"\":\"\"}", 7);
}

static void
nested_containers_keep_their_order(void **state)
{
    const char *text = "{\"z\":[1,[2,[3,{}]],{\"b\":{\"c\":[]},\"a\":null}],\"y\":{\"x\":[true,false,\"w\"]},\"a\":[[[[[]]]]]}";
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    assert_non_null(v);
    assert_written_as(v, text, strlen(text));
}

static void
integers_up_to_int64_min_and_max_are_written_in_full(void **state)
{
    static const json_int_t values[] = {
        0, 1, -1, 9, 10, -10, 99, 100, 4294967295LL, -4294967296LL, INT64_MAX, INT64_MAX - 1, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        assert_same_as_jansson(json_integer(values[i]));
    assert_written_as(json_integer(INT64_MIN), "-9223372036854775808", 20);
    assert_written_as(json_integer(INT64_MAX), "9223372036854775807", 19);
}

static void
reals_are_written_as_jansson_writes_them(void **state)
{
    static const double values[] = {0.0,   -0.0,    1.0,    -1.5,    0.1,  3.141592653589793,
                                    1e300, -1e-300, 5e-324, DBL_MAX, 1e22, 123456789.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        assert_same_as_jansson(json_real(values[i]));
    json_t *a = json_array();
    json_array_append_new(a, json_real(2.5));
    json_array_append_new(a, json_integer(2));
    assert_written_as(a, "[2.5,2]", 7);
}

static void
true_false_and_null(void **state)
{
    assert_written_as(json_true(), "true", 4);
    assert_written_as(json_false(), "false", 5);
    assert_written_as(json_null(), "null", 4);
    assert_written_as(json_pack("[bbn]", 1, 0), "[true,false,null]", 17);
}

static void
output_bigger_than_the_first_buffer_grows(void **state)
{
    size_t n = 300000;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (i % 7 == 0) ? '\n' : (i % 11 == 0) ? '\x01' : 'a'; /* escapes grow the output past the reservation */
    json_t *a = json_array();
    json_array_append_new(a, json_stringn(big, n));
    for (int i = 0; i < 10000; i++)
        json_array_append_new(a, json_integer(i));
    assert_same_as_jansson(a);
    free(big);
}

static void
the_deepest_document_jansson_parses_is_written(void **state)
{
    size_t d = JSON_PARSER_MAX_DEPTH;
    char *text = malloc(2 * d);
    assert_non_null(text);
    memset(text, '[', d);
    memset(text + d, ']', d);
    json_error_t err;
    json_t *v = json_loadb(text, 2 * d, 0, &err);
    assert_non_null(v);
    assert_written_as(v, text, 2 * d);
    free(text);
}

static void
nesting_past_the_parser_limit_is_refused(void **state)
{
    json_t *v = json_array();
    for (int i = 0; i < JSON_PARSER_MAX_DEPTH; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, v);
        v = outer;
    }
    assert_refused(v);
}

/* jansson refuses cycles too (json_dumps gives NULL); here the depth limit
 * stops it.  The cycle is broken before the values are freed. */
static void
a_cycle_is_refused_like_json_dumps(void **state)
{
    json_t *a = json_array(), *o = json_object();
    json_array_append(a, o);
    json_object_set(o, "back", a);
    assert_null(json_dumps(a, DUMP_FLAGS));
    size_t len = 0;
    assert_null(tale_json_compact(a, &len));
    json_object_clear(o);
    json_decref(o);
    json_decref(a);
}

/* Only the _nocheck setters make these; jansson's dumper fails on such a
 * string, and so do we. */
static void
a_string_that_is_not_utf8_is_refused_like_json_dumps(void **state)
{
    static const char *bad[] = {
        "\x80",             /* a continuation byte first */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x9f\xbf",     /* overlong 3-byte */
        "\xed\xa0\x80",     /* a surrogate */
        "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80", /* no such lead byte */
        "\xff",
        "\xe2\x82", /* cut short */
        "\xc3(",    /* not a continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "ok \"then\" %s", bad[i]);
        json_t *s = json_stringn_nocheck(buf, (size_t)n);
        assert_null(json_dumps(s, DUMP_FLAGS));
        assert_refused(s);
    }
}

/* Here jansson 2.14 ignores the error and writes the key cut short, without
 * its closing quote: not JSON.  We refuse instead (json_compact.c). */
static void
a_key_that_is_not_utf8_is_refused(void **state)
{
    json_t *o = json_object();
    json_object_setn_nocheck(o, "ab\xff", 3, json_true());
    assert_refused(o);
}

static void
a_missing_value_is_refused_and_the_length_is_optional(void **state)
{
    size_t len = 0;
    assert_null(tale_json_compact(NULL, &len));
    json_t *v = json_string("x");
    char *s = tale_json_compact(v, NULL);
    assert_string_equal(s, "\"x\"");
    free(s);
    json_decref(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_game_frame_is_written_exactly_as_json_dumps),
        cmocka_unit_test(each_escape_is_written_as_jansson_spells_it),
        cmocka_unit_test(every_control_byte_alone_and_amid_text_matches_jansson),
        cmocka_unit_test(special_bytes_at_every_offset_are_found),
        cmocka_unit_test(an_embedded_nul_in_a_string_is_escaped_not_an_end),
        cmocka_unit_test(an_embedded_nul_in_a_key_is_escaped_not_an_end),
        cmocka_unit_test(utf8_of_two_three_and_four_bytes_is_copied_as_is),
        cmocka_unit_test(empty_object_array_and_string),
        cmocka_unit_test(nested_containers_keep_their_order),
        cmocka_unit_test(integers_up_to_int64_min_and_max_are_written_in_full),
        cmocka_unit_test(reals_are_written_as_jansson_writes_them),
        cmocka_unit_test(true_false_and_null),
        cmocka_unit_test(output_bigger_than_the_first_buffer_grows),
        cmocka_unit_test(the_deepest_document_jansson_parses_is_written),
        cmocka_unit_test(nesting_past_the_parser_limit_is_refused),
        cmocka_unit_test(a_cycle_is_refused_like_json_dumps),
        cmocka_unit_test(a_string_that_is_not_utf8_is_refused_like_json_dumps),
        cmocka_unit_test(a_key_that_is_not_utf8_is_refused),
        cmocka_unit_test(a_missing_value_is_refused_and_the_length_is_optional),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
