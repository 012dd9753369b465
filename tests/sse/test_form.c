/*
 * test_form.c - the sse plugin's form/query decoder (plugins/sse/form.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"

/* Decode `in` (a C string) and compare with the expected bytes. */
static void
expect_decoded(const char *in, const char *want, size_t want_len)
{
    char out[256];
    long n = tale_form_decode(in, strlen(in), out);
    assert_int_equal(n, (long)want_len);
    assert_memory_equal(out, want, want_len);
}

static void
percent_escapes_decode_to_their_bytes(void **state)
{
    expect_decoded("look%20around", "look around", 11);
    expect_decoded("%41%62%7a", "Abz", 3);
    expect_decoded("%e2%9c%93", "\xe2\x9c\x93", 3); /* UTF-8 check mark, lower-case hex */
    expect_decoded("%E2%9C%93", "\xe2\x9c\x93", 3);
    expect_decoded("100%25", "100%", 4);
    expect_decoded("", "", 0);
}

static void
plus_means_space_but_encoded_plus_is_plus(void **state)
{
    expect_decoded("go+north", "go north", 8);
    expect_decoded("1%2B1", "1+1", 3);
    expect_decoded("++", "  ", 2);
}

static void
malformed_escapes_are_refused(void **state)
{
    char out[32];
    const char *bad[] = {"%", "%4", "abc%", "abc%2", "%zz", "%4g", "%g4", "a%%20", "%-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tale_form_decode(bad[i], strlen(bad[i]), out), -1);
}

static void
truncated_escape_does_not_read_past_the_length(void **state)
{
    /* "%41" cut after "%4": the byte after the slice must not be used. */
    char out[8];
    assert_int_equal(tale_form_decode("%41", 2, out), -1);
    assert_int_equal(tale_form_decode("x%41", 3, out), -1);
}

static void
nul_bytes_decode_and_keep_their_length(void **state)
{
    expect_decoded("a%00b", "a\0b", 3);
    char form[] = "cmd=x%00y";
    char out[16];
    size_t len = 0;
    assert_int_equal(tale_form_get(form, strlen(form), "cmd", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "x\0y", 3);
    /* A raw NUL in the input is just a byte of the value. */
    const char raw[] = {'c', 'm', 'd', '=', 'a', '\0', 'b'};
    assert_int_equal(tale_form_get(raw, sizeof(raw), "cmd", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "a\0b", 3);
}

static void
decoding_in_place_is_safe(void **state)
{
    char buf[] = "a%20b+c%41";
    long n = tale_form_decode(buf, strlen(buf), buf);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "a b cA", 6);
}

static void
get_finds_a_field_among_others(void **state)
{
    const char *form = "cmd=look+at+the+lamp&autocomplete=1";
    char out[64];
    size_t len = 0;
    assert_int_equal(tale_form_get(form, strlen(form), "cmd", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 16);
    assert_memory_equal(out, "look at the lamp", 16);
    assert_int_equal(tale_form_get(form, strlen(form), "autocomplete", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 1);
    assert_int_equal(out[0], '1');
}

static void
names_are_compared_after_decoding_and_exactly(void **state)
{
    const char *form = "c%6Dd=x&cm=y&cmdx=z";
    char out[8];
    size_t len = 0;
    assert_int_equal(tale_form_get(form, strlen(form), "cmd", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 1);
    assert_int_equal(out[0], 'x');
    assert_int_equal(tale_form_get(form, strlen(form), "c", out, sizeof(out), &len), TALE_FORM_MISSING);
}

static void
missing_field_is_reported(void **state)
{
    char out[8];
    size_t len = 0;
    assert_int_equal(tale_form_get("", 0, "cmd", out, sizeof(out), &len), TALE_FORM_MISSING);
    assert_int_equal(tale_form_get("autocomplete=1", 14, "cmd", out, sizeof(out), &len), TALE_FORM_MISSING);
    assert_int_equal(tale_form_get("&&&", 3, "cmd", out, sizeof(out), &len), TALE_FORM_MISSING);
}

static void
field_without_equals_has_an_empty_value(void **state)
{
    char out[8] = "zzzzzzz";
    size_t len = 99;
    assert_int_equal(tale_form_get("cmd&x=1", 7, "cmd", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 0);
    assert_int_equal(tale_form_get("cmd=", 4, "cmd", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 0);
}

static void
empty_pairs_are_skipped(void **state)
{
    char out[8];
    size_t len = 0;
    assert_int_equal(tale_form_get("&&cmd=go&&", 10, "cmd", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(out, "go", 2);
}

static void
duplicate_field_is_refused(void **state)
{
    char out[8];
    size_t len = 0;
    const char *form = "cmd=a&cmd=b";
    assert_int_equal(tale_form_get(form, strlen(form), "cmd", out, sizeof(out), &len), TALE_FORM_DUPLICATE);
    /* Also when the second spelling is encoded. */
    form = "cmd=a&%63md=b";
    assert_int_equal(tale_form_get(form, strlen(form), "cmd", out, sizeof(out), &len), TALE_FORM_DUPLICATE);
    /* Other fields may repeat freely. */
    form = "x=1&x=2&cmd=a";
    assert_int_equal(tale_form_get(form, strlen(form), "cmd", out, sizeof(out), &len), TALE_FORM_OK);
}

static void
malformed_anywhere_in_the_form_is_refused(void **state)
{
    char out[8];
    size_t len = 0;
    const char *cases[] = {"cmd=%zz", "cmd=ok&other=%4", "x%=1&cmd=ok", "cmd=ok&%"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(tale_form_get(cases[i], strlen(cases[i]), "cmd", out, sizeof(out), &len), TALE_FORM_MALFORMED);
}

static void
value_longer_than_the_buffer_is_refused(void **state)
{
    char out[4];
    size_t len = 0;
    assert_int_equal(tale_form_get("cmd=abcde", 9, "cmd", out, sizeof(out), &len), TALE_FORM_TOO_LONG);
    assert_int_equal(tale_form_get("cmd=%61%62%63%64%65", 19, "cmd", out, sizeof(out), &len), TALE_FORM_TOO_LONG);
    assert_int_equal(tale_form_get("cmd=abc", 7, "cmd", out, 3, &len), TALE_FORM_OK);
    assert_int_equal(len, 3);
}

static void
get_respects_the_length_not_a_terminator(void **state)
{
    const char *form = "cmd=north&cmd=south";
    char out[16];
    size_t len = 0;
    /* Only the first pair lies inside the slice. */
    assert_int_equal(tale_form_get(form, 9, "cmd", out, sizeof(out), &len), TALE_FORM_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "north", 5);
}

static void
strerror_names_every_code(void **state)
{
    int codes[] = {TALE_FORM_OK, TALE_FORM_MISSING, TALE_FORM_MALFORMED, TALE_FORM_DUPLICATE, TALE_FORM_TOO_LONG};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_non_null(tale_form_strerror(codes[i]));
    assert_string_equal(tale_form_strerror(TALE_FORM_MALFORMED), "malformed percent-encoding");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percent_escapes_decode_to_their_bytes),
        cmocka_unit_test(plus_means_space_but_encoded_plus_is_plus),
        cmocka_unit_test(malformed_escapes_are_refused),
        cmocka_unit_test(truncated_escape_does_not_read_past_the_length),
        cmocka_unit_test(nul_bytes_decode_and_keep_their_length),
        cmocka_unit_test(decoding_in_place_is_safe),
        cmocka_unit_test(get_finds_a_field_among_others),
        cmocka_unit_test(names_are_compared_after_decoding_and_exactly),
        cmocka_unit_test(missing_field_is_reported),
        cmocka_unit_test(field_without_equals_has_an_empty_value),
        cmocka_unit_test(empty_pairs_are_skipped),
        cmocka_unit_test(duplicate_field_is_refused),
        cmocka_unit_test(malformed_anywhere_in_the_form_is_refused),
        cmocka_unit_test(value_longer_than_the_buffer_is_refused),
        cmocka_unit_test(get_respects_the_length_not_a_terminator),
        cmocka_unit_test(strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
