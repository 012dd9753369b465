/*
 * test_yaml_doc.c - the located YAML layer: unit parsers, loading errors and
 * the typed getters the config loader and plugins use.
 */
#include "yaml_doc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- unit parsers ---- */

static void
sizes_with_units(void **state)
{
    static const struct {
        const char *in;
        uint64_t want;
    } ok[] = {
        {"0", 0},
        {"512", 512},
        {"3b", 3},
        {"64k", 65536},
        {"64K", 65536},
        {"64kb", 65536},
        {"64KB", 65536},
        {"1m", 1048576},
        {"1MB", 1048576},
        {"2g", 2147483648ull},
        {"2Gb", 2147483648ull},
        {"18446744073709551615", UINT64_MAX},
        {"17179869183g", 17179869183ull << 30}, /* the largest whole number of gigabytes */
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 12345;
        if (tale_parse_size(ok[i].in, &v) != 0)
            fail_msg("size '%s' should parse", ok[i].in);
        assert_int_equal(v, ok[i].want);
    }
}

static void
sizes_junk_and_overflow(void **state)
{
    static const char *const bad[] = {
        "",
        "k",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1 k",
        "1.5m",
        "1kk",
        "1t",
        "0x10",
        "1kib",
        "1e3",
        "k1",
        "12q",
        "18446744073709551616", /* UINT64_MAX + 1 */
        "17179869184g",         /* 2^34 * 2^30 = 2^64 */
        "18014398509481984k",   /* 2^54 * 2^10 */
        "99999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 7;
        if (tale_parse_size(bad[i], &v) != -1)
            fail_msg("size '%s' should be refused", bad[i]);
    }
    uint64_t v;
    assert_int_equal(tale_parse_size(NULL, &v), -1);
}

static void
durations_with_units(void **state)
{
    static const struct {
        const char *in;
        uint64_t want;
    } ok[] = {
        {"250ms", 250},
        {"0ms", 0},
        {"15s", 15000},
        {"5", 5000}, /* a bare number is seconds */
        {"0", 0},
        {"2m", 120000},
        {"1h", 3600000},
        {"18446744073709551615ms", UINT64_MAX},
        {"5124095576030h", 5124095576030ull * 3600000},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 12345;
        if (tale_parse_duration_ms(ok[i].in, &v) != 0)
            fail_msg("duration '%s' should parse", ok[i].in);
        assert_int_equal(v, ok[i].want);
    }
}

static void
durations_junk_and_overflow(void **state)
{
    static const char *const bad[] = {
        "",
        "s",
        "ms",
        "-1s",
        "+1s",
        "1.5s",
        "1 s",
        " 1s",
        "1S",
        "1M",
        "1H",
        "1d",
        "1sec",
        "1mss",
        "soon",
        "18446744073709551615",   /* seconds: x1000 overflows */
        "18446744073709551616ms", /* UINT64_MAX + 1 */
        "5124095576031h",         /* one hour past the limit */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 7;
        if (tale_parse_duration_ms(bad[i], &v) != -1)
            fail_msg("duration '%s' should be refused", bad[i]);
    }
}

/* ---- loading ---- */

static tale_yaml_t *
load(const char *text)
{
    static tale_yaml_t y;
    char err[512] = "";
    if (tale_yaml_load_mem(&y, "t.yaml", text, strlen(text), err, sizeof(err)) != 0)
        fail_msg("should load: %s", err);
    return &y;
}

static void
expect_load_error(const char *text, const char *want)
{
    tale_yaml_t y;
    char err[512] = "";
    assert_int_equal(tale_yaml_load_mem(&y, "t.yaml", text, strlen(text), err, sizeof(err)), -1);
    assert_string_equal(err, want);
    assert_null(y.file); /* failure leaves nothing to free */
}

static void
load_errors_are_located(void **state)
{
    expect_load_error("a: 1\nb: [1, 2\n", "t.yaml:3:1: did not find expected ',' or ']' (while parsing a flow sequence "
                                          "that started at line 2, column 4)");
    expect_load_error("a:\n\tb: 1\n", "t.yaml:2:1: found character that cannot start any token (while scanning for "
                                      "the next token that started at line 2, column 1)");
    expect_load_error("", "t.yaml:1:1: the document is empty");
    expect_load_error("# only a comment\n", "t.yaml:1:1: the document is empty");
    expect_load_error("a: 1\n---\nb: 2\n", "t.yaml:3:1: expected a single YAML document, found a second one");
    expect_load_error("a: *nowhere\n", "t.yaml:1:4: found undefined alias");
    /* invalid UTF-8 on line 2: a reader error, located from its byte offset */
    expect_load_error("a: 1\nb: \xff\n", "t.yaml:2:4: invalid leading UTF-8 octet (byte #FF)");
}

static void
duplicate_keys_are_refused_anywhere(void **state)
{
    expect_load_error("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: duplicate key 'a' (first at line 1, column 1)");
    /* nested in a sequence, and the earliest duplicate is the one reported */
    expect_load_error("list:\n  - x: 1\n    y: 2\n    y: 3\n    x: 4\n",
                      "t.yaml:4:5: duplicate key 'y' (first at line 3, column 5)");
    expect_load_error("m: {k: 1, k: 2}\n", "t.yaml:1:11: duplicate key 'k' (first at line 1, column 5)");
}

static void
load_file_errors(void **state)
{
    tale_yaml_t y;
    char err[512];
    assert_int_equal(tale_yaml_load(&y, "/nonexistent/tale.yaml", err, sizeof(err)), -1);
    assert_string_equal(err, "/nonexistent/tale.yaml:1:1: cannot read file: No such file or directory");
    assert_int_equal(tale_yaml_load(&y, "/tmp", err, sizeof(err)), -1);
    assert_string_equal(err, "/tmp:1:1: cannot read file: it is a folder");

    char path[] = "/tmp/tale-yaml-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "key: value\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    assert_int_equal(tale_yaml_load(&y, path, err, sizeof(err)), 0);
    assert_string_equal(y.file, path);
    const char *s;
    assert_int_equal(tale_yaml_string(&y, tale_yaml_root(&y), "key", 1, NULL, &s, err, sizeof(err)), 0);
    assert_string_equal(s, "value");
    tale_yaml_free(&y);
    tale_yaml_free(&y); /* safe twice */
    unlink(path);
}

static void
errf_points_at_nodes(void **state)
{
    tale_yaml_t *y = load("top:\n  inner: [a, b]\n");
    char err[256];
    yaml_node_t *root = tale_yaml_root(y);
    yaml_node_t *key;
    yaml_node_t *top = tale_yaml_get(y, root, "top", &key);
    assert_non_null(top);
    assert_string_equal((const char *)key->data.scalar.value, "top");
    yaml_node_t *inner = tale_yaml_get(y, top, "inner", NULL);
    tale_yaml_errf(y, inner, err, sizeof(err), "look %s", "here");
    assert_string_equal(err, "t.yaml:2:10: look here");
    tale_yaml_errf(y, NULL, err, sizeof(err), "start");
    assert_string_equal(err, "t.yaml:1:1: start");
    /* a short buffer is cut, still terminated */
    char tiny[8];
    tale_yaml_errf(y, inner, tiny, sizeof(tiny), "long message");
    assert_string_equal(tiny, "t.yaml:");

    assert_string_equal(tale_yaml_type_name(root), "a mapping");
    assert_string_equal(tale_yaml_type_name(inner), "a sequence");
    assert_string_equal(tale_yaml_type_name(key), "a scalar");
    assert_null(tale_yaml_get(y, inner, "x", NULL)); /* not a mapping */
    assert_null(tale_yaml_get(y, NULL, "x", NULL));
    tale_yaml_free(y);
}

/* ---- getters ---- */

static const char doc[] = "name: lighthouse\n"
                          "on: true\n"
                          "off: False\n"
                          "yes_word: yes\n"
                          "port: 8180\n"
                          "neg: -5\n"
                          "huge: 99999999999999999999\n"
                          "word: abc\n"
                          "size: 64k\n"
                          "time: 15s\n"
                          "nothing:\n"
                          "quoted: \"42\"\n"
                          "list: [a, b, c]\n"
                          "one: solo\n"
                          "badlist: [a, [b]]\n"
                          "map: {k: v}\n";

#define ERR_IS(want) assert_string_equal(err, want)

static void
getters_read_values_and_defaults(void **state)
{
    tale_yaml_t *y = load(doc);
    yaml_node_t *r = tale_yaml_root(y);
    char err[512] = "";
    const char *s;
    int b;
    int64_t i;
    uint64_t u;

    assert_int_equal(tale_yaml_string(y, r, "name", 1, NULL, &s, err, sizeof(err)), 0);
    assert_string_equal(s, "lighthouse");
    assert_int_equal(tale_yaml_string(y, r, "absent", 0, "dflt", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "dflt");
    assert_int_equal(tale_yaml_string(y, r, "port", 0, NULL, &s, err, sizeof(err)), 0); /* numbers are strings too */
    assert_string_equal(s, "8180");

    assert_int_equal(tale_yaml_bool(y, r, "on", 0, 0, &b, err, sizeof(err)), 0);
    assert_int_equal(b, 1);
    assert_int_equal(tale_yaml_bool(y, r, "off", 0, 1, &b, err, sizeof(err)), 0);
    assert_int_equal(b, 0);
    assert_int_equal(tale_yaml_bool(y, r, "absent", 0, 1, &b, err, sizeof(err)), 0);
    assert_int_equal(b, 1);

    assert_int_equal(tale_yaml_int(y, r, "port", 1, 0, 0, 65535, &i, err, sizeof(err)), 0);
    assert_int_equal(i, 8180);
    assert_int_equal(tale_yaml_int(y, r, "neg", 0, 0, -10, 10, &i, err, sizeof(err)), 0);
    assert_int_equal(i, -5);
    assert_int_equal(tale_yaml_int(y, r, "quoted", 0, 0, 0, 100, &i, err, sizeof(err)), 0);
    assert_int_equal(i, 42);
    assert_int_equal(tale_yaml_int(y, r, "absent", 0, 77, 0, 100, &i, err, sizeof(err)), 0);
    assert_int_equal(i, 77);

    assert_int_equal(tale_yaml_size(y, r, "size", 0, 0, &u, err, sizeof(err)), 0);
    assert_int_equal(u, 65536);
    assert_int_equal(tale_yaml_size(y, r, "absent", 0, 9, &u, err, sizeof(err)), 0);
    assert_int_equal(u, 9);
    assert_int_equal(tale_yaml_duration_ms(y, r, "time", 0, 0, &u, err, sizeof(err)), 0);
    assert_int_equal(u, 15000);
    assert_int_equal(tale_yaml_duration_ms(y, r, "absent", 0, 250, &u, err, sizeof(err)), 0);
    assert_int_equal(u, 250);

    const char **list;
    size_t n;
    assert_int_equal(tale_yaml_string_list(y, r, "list", &list, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[0], "a");
    assert_string_equal(list[2], "c");
    assert_null(list[3]);
    free(list);
    assert_int_equal(tale_yaml_string_list(y, r, "one", &list, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0], "solo");
    assert_null(list[1]);
    free(list);
    assert_int_equal(tale_yaml_string_list(y, r, "absent", &list, &n, err, sizeof(err)), 0);
    assert_null(list);
    assert_int_equal(n, 0);

    /* a NULL subtree (a plugin without config:) reads as all defaults */
    assert_int_equal(tale_yaml_string(y, NULL, "name", 0, "d", &s, err, sizeof(err)), 0);
    assert_string_equal(s, "d");
    assert_int_equal(tale_yaml_check_keys(y, NULL, (const char *const[]){"a", NULL}, err, sizeof(err)), 0);
    assert_string_equal(err, ""); /* nothing above wrote an error */
    tale_yaml_free(y);
}

static void
getters_report_located_errors(void **state)
{
    tale_yaml_t *y = load(doc);
    yaml_node_t *r = tale_yaml_root(y);
    char err[512];
    const char *s;
    int b;
    int64_t i;
    uint64_t u;

    assert_int_equal(tale_yaml_string(y, r, "absent", 1, NULL, &s, err, sizeof(err)), -1);
    ERR_IS("t.yaml:1:1: missing key 'absent' (expected a string)");
    assert_int_equal(tale_yaml_string(y, r, "list", 0, NULL, &s, err, sizeof(err)), -1);
    ERR_IS("t.yaml:13:7: expected a string for 'list', got a sequence");
    assert_int_equal(tale_yaml_string(y, r, "nothing", 0, NULL, &s, err, sizeof(err)), -1);
    ERR_IS("t.yaml:11:9: expected a string for 'nothing', got null");
    assert_int_equal(tale_yaml_bool(y, r, "yes_word", 0, 0, &b, err, sizeof(err)), -1);
    ERR_IS("t.yaml:4:11: expected a boolean (true or false) for 'yes_word', got 'yes'");
    assert_int_equal(tale_yaml_int(y, r, "port", 0, 0, 0, 1023, &i, err, sizeof(err)), -1);
    ERR_IS("t.yaml:5:7: expected an integer from 0 to 1023 for 'port', got '8180'");
    assert_int_equal(tale_yaml_int(y, r, "huge", 0, 0, INT64_MIN, INT64_MAX, &i, err, sizeof(err)), -1);
    ERR_IS("t.yaml:7:7: expected an integer from -9223372036854775808 to 9223372036854775807 for 'huge', got "
           "'99999999999999999999'");
    assert_int_equal(tale_yaml_int(y, r, "word", 0, 0, 0, 10, &i, err, sizeof(err)), -1);
    ERR_IS("t.yaml:8:7: expected an integer from 0 to 10 for 'word', got 'abc'");
    assert_int_equal(tale_yaml_int(y, r, "map", 1, 0, 0, 10, &i, err, sizeof(err)), -1);
    ERR_IS("t.yaml:16:6: expected an integer from 0 to 10 for 'map', got a mapping");
    assert_int_equal(tale_yaml_size(y, r, "word", 0, 0, &u, err, sizeof(err)), -1);
    ERR_IS("t.yaml:8:7: expected a size (like 512, 64k, 1m, 2g) for 'word', got 'abc'");
    assert_int_equal(tale_yaml_duration_ms(y, r, "size", 0, 0, &u, err, sizeof(err)), -1);
    ERR_IS("t.yaml:9:7: expected a duration (like 250ms, 15s, 2m, 1h) for 'size', got '64k'");
    const char **list;
    size_t n;
    assert_int_equal(tale_yaml_string_list(y, r, "badlist", &list, &n, err, sizeof(err)), -1);
    ERR_IS("t.yaml:15:14: expected a string in 'badlist', got a sequence");
    assert_null(list);
    assert_int_equal(tale_yaml_string_list(y, r, "map", &list, &n, err, sizeof(err)), -1);
    ERR_IS("t.yaml:16:6: expected a string or a sequence of strings for 'map', got a mapping");

    static const char *const known[] = {"name", "on", "off", NULL};
    assert_int_equal(tale_yaml_check_keys(y, r, known, err, sizeof(err)), -1);
    ERR_IS("t.yaml:4:1: unknown key 'yes_word' (expected one of: name, on, off)");
    assert_int_equal(tale_yaml_expect_map(y, tale_yaml_get(y, r, "list", NULL), "a mapping of things", err, sizeof(err)), -1);
    ERR_IS("t.yaml:13:7: expected a mapping of things, got a sequence");
    assert_int_equal(tale_yaml_expect_seq(y, tale_yaml_get(y, r, "one", NULL), "a list of things", err, sizeof(err)), -1);
    ERR_IS("t.yaml:14:6: expected a list of things, got 'solo'");
    assert_int_equal(tale_yaml_expect_map(y, r, "x", err, sizeof(err)), 0);
    assert_int_equal(tale_yaml_expect_seq(y, tale_yaml_get(y, r, "list", NULL), "x", err, sizeof(err)), 0);
    tale_yaml_free(y);
}

static void
check_keys_refuses_non_scalar_keys(void **state)
{
    tale_yaml_t *y = load("a: 1\n? [x]\n: 2\n");
    char err[256];
    static const char *const known[] = {"a", NULL};
    assert_int_equal(tale_yaml_check_keys(y, tale_yaml_root(y), known, err, sizeof(err)), -1);
    ERR_IS("t.yaml:2:3: expected a key (one of: a), got a sequence");
    tale_yaml_free(y);
}

/* Values echoed into messages keep the message one printable line. */
static void
messages_escape_and_shorten_values(void **state)
{
    tale_yaml_t *y = load("nl: \"two\\nlines\\tand\\x1b[31m\"\n"
                          "\"bad\\nkey\": 1\n"
                          "long: \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                          "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                          "\xc3\xa9\xc3\xa9\"\n");
    yaml_node_t *r = tale_yaml_root(y);
    char err[512];
    int64_t i;
    assert_int_equal(tale_yaml_int(y, r, "nl", 0, 0, 0, 1, &i, err, sizeof(err)), -1);
    ERR_IS("t.yaml:1:5: expected an integer from 0 to 1 for 'nl', got 'two\\nlines\\tand\\x1B[31m'");
    static const char *const known[] = {"nl", "long", NULL};
    assert_int_equal(tale_yaml_check_keys(y, r, known, err, sizeof(err)), -1);
    ERR_IS("t.yaml:2:1: unknown key 'bad\\nkey' (expected one of: nl, long)");
    /* 25 two-byte characters: cut to 18 whole ones (36 bytes), never half of one */
    assert_int_equal(tale_yaml_int(y, r, "long", 0, 0, 0, 1, &i, err, sizeof(err)), -1);
    ERR_IS("t.yaml:3:7: expected an integer from 0 to 1 for 'long', got '"
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...'");
    tale_yaml_free(y);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes_with_units),
        cmocka_unit_test(sizes_junk_and_overflow),
        cmocka_unit_test(durations_with_units),
        cmocka_unit_test(durations_junk_and_overflow),
        cmocka_unit_test(load_errors_are_located),
        cmocka_unit_test(duplicate_keys_are_refused_anywhere),
        cmocka_unit_test(load_file_errors),
        cmocka_unit_test(errf_points_at_nodes),
        cmocka_unit_test(getters_read_values_and_defaults),
        cmocka_unit_test(getters_report_located_errors),
        cmocka_unit_test(check_keys_refuses_non_scalar_keys),
        cmocka_unit_test(messages_escape_and_shorten_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
