/*
 * test_story_load.c - a broken story is refused with one located line.
 *
 * One fixture folder per fault under fixtures/errors/; each case asserts the
 * exact "file:line:column: message", so a loader change that moves the
 * pointer off the faulty node fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>

#include "engine.h"

typedef struct fault {
    const char *dir;
    const char *where; /* "line:column" */
    const char *message;
} fault_t;

static const fault_t faults[] = {
    {"bad-yaml", "20:1", "did not find expected ',' or ']' (while parsing a flow sequence that started at line 19, column 11)"},
    {"door-sides-disagree", "13:46", "the door between 'a' and 'b' has a different state or key on each side"},
    {"duplicate-id", "18:9", "id 'b' is already used"},
    {"exit-to-missing-location", "13:37", "exit 'north' of location 'a' leads to unknown location 'libary'"},
    {"flag-never-set", "13:50", "flag 'dragon-slain' is required here but nothing sets it"},
    {"goal-without-ending", "18:3", "missing key 'ending' (expected a string)"},
    {"item-in-non-container", "25:9", "item 'gem' is put in 'rock', which is not a container"},
    {"item-in-two-places", "22:5", "item 'lamp' is placed in two places ('location' and 'player'); give exactly one"},
    {"item-without-place", "18:5", "item 'ghost' has no place: give one of location, in, npc, player: true, nowhere: true"},
    {"key-opens-nothing", "22:5", "item 'key' is a key but no door or container uses it"},
    {"locked-door-without-key", "13:55", "a locked door needs a 'key' (an item id)"},
    {"missing-required-key", "14:5", "missing key 'title' (expected a string)"},
    {"no-locations", "8:12", "a story needs at least one location under 'locations'"},
    {"unknown-direction", "13:22",
     "unknown direction 'upward' (expected one of: north, south, east, west, northeast, northwest, southeast, southwest, up, "
     "down, in, out)"},
    {"unknown-key", "22:5",
     "unknown key 'takable' (expected one of: id, name, aliases, description, location, in, npc, player, nowhere, takeable, "
     "fixed, container, closed, locked, key, is_key, wearable, wieldable, edible, drinkable, text, light, lit, on)"},
    {"unknown-npc-in-route", "22:36", "unknown location 'kitchen' in 'route'"},
};
#define NFAULTS (sizeof faults / sizeof faults[0])

static void
fault_is_located(void **state)
{
    const fault_t *f = *state;
    char dir[512], want[1024], err[1024] = "";
    snprintf(dir, sizeof dir, "%s/errors/%s", TALE_FIXTURES, f->dir);
    snprintf(want, sizeof want, "%s/story.yaml:%s: %s", dir, f->where, f->message);
    tale_world_t *w = tale_world_load(dir, NULL, err, sizeof err);
    assert_null(w);
    assert_string_equal(err, want);
    /* one line: no newline inside the message */
    assert_null(strchr(err, '\n'));
}

static void
missing_story_file_is_reported(void **state)
{
    char err[1024] = "";
    assert_null(tale_world_load(TALE_FIXTURES "/no-such-story", NULL, err, sizeof err));
    assert_non_null(strstr(err, TALE_FIXTURES "/no-such-story/story.yaml"));
}

static void
every_fixture_has_a_case(void **state)
{
    DIR *d = opendir(TALE_FIXTURES "/errors");
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int found = 0;
        for (size_t i = 0; i < NFAULTS; i++)
            found |= strcmp(faults[i].dir, e->d_name) == 0;
        if (!found)
            fail_msg("fixture %s has no case in test_story_load.c", e->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, NFAULTS);
}

static void
good_fixture_loads(void **state)
{
    char err[1024] = "";
    tale_world_t *w = tale_world_load(TALE_FIXTURES "/manor", NULL, err, sizeof err);
    assert_non_null(w);
    const tale_story_meta_t *m = tale_world_meta(w);
    assert_string_equal(m->name, "Test Manor");
    assert_string_equal(m->version, "1.0");
    assert_string_equal(m->author, "Tale Host tests");
    assert_string_equal(m->author_email, "tests@example.org");
    assert_non_null(strstr(m->resources_dir, "manor/resources"));
    tale_world_free(w);
}

/* The example in docs/STORY-FORMAT.md must load: the doc cannot drift from the loader. */
static void
documented_example_loads(void **state)
{
    FILE *f = fopen(TALE_SOURCE_DIR "/docs/STORY-FORMAT.md", "r");
    assert_non_null(f);
    char tmpl[] = "/tmp/tale-docstory-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char path[600];
    snprintf(path, sizeof path, "%s/story.yaml", tmpl);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    char line[1024];
    int in = 0, lines = 0;
    while (fgets(line, sizeof line, f)) {
        if (!in && strncmp(line, "```yaml", 7) == 0) {
            in = 1;
            continue;
        }
        if (in && strncmp(line, "```", 3) == 0)
            break;
        if (in) {
            fputs(line, out);
            lines++;
        }
    }
    fclose(f);
    fclose(out);
    assert_true(lines > 50);
    char err[1024] = "";
    tale_world_t *w = tale_world_load(tmpl, NULL, err, sizeof err);
    if (!w)
        fail_msg("docs example does not load: %s", err);
    assert_string_equal(tale_world_meta(w)->name, "The Small House");
    tale_world_free(w);
    unlink(path);
    rmdir(tmpl);
}

/* Load text as a story; return 1 if it loaded, 0 if it failed with one located line. */
static int
load_text(const char *dir, const char *text, size_t len)
{
    char path[600], err[1024] = "";
    snprintf(path, sizeof path, "%s/story.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(text, 1, len, f);
    fclose(f);
    tale_world_t *w = tale_world_load(dir, NULL, err, sizeof err);
    if (w) {
        tale_world_free(w);
        return 1;
    }
    /* "<path>:<line>:<column>: <message>" */
    size_t pl = strlen(path);
    if (strncmp(err, path, pl) != 0 || err[pl] != ':')
        fail_msg("error does not name the file: %s", err);
    unsigned line, col;
    char rest[8];
    if (sscanf(err + pl, ":%u:%u: %7s", &line, &col, rest) != 3 || line == 0 || col == 0)
        fail_msg("error is not located: %s", err);
    assert_null(strchr(err, '\n'));
    return 0;
}

/* Every prefix of the fixture and the fixture minus any one line: each
 * loads, or fails with a located line -- never a crash or an unlocated error. */
static void
damaged_stories_fail_cleanly(void **state)
{
    FILE *f = fopen(TALE_FIXTURES "/manor/story.yaml", "r");
    assert_non_null(f);
    static char text[65536];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    char tmpl[] = "/tmp/tale-damaged-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    static char buf[65536];
    int loaded = 0, refused = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i != len && text[i] != '\n')
            continue;
        /* the prefix up to this line */
        if (load_text(tmpl, text, i))
            loaded++;
        else
            refused++;
        /* the whole text without the next line */
        size_t next = i < len ? i + 1 : len;
        const char *nl = strchr(text + next, '\n');
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        memcpy(buf, text, next);
        memcpy(buf + next, text + end, len - end);
        if (load_text(tmpl, buf, next + (len - end)))
            loaded++;
        else
            refused++;
    }
    assert_true(refused > 100);
    assert_true(loaded > 0);
    char path[600];
    snprintf(path, sizeof path, "%s/story.yaml", tmpl);
    unlink(path);
    rmdir(tmpl);
}

int
main(int argc, char **argv)
{
    struct CMUnitTest tests[NFAULTS + 5];
    static char names[NFAULTS][96];
    size_t n = 0;
    for (size_t i = 0; i < NFAULTS; i++) {
        snprintf(names[i], sizeof names[i], "error_%s", faults[i].dir);
        tests[n++] = (struct CMUnitTest){names[i], fault_is_located, NULL, NULL, (void *)&faults[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(missing_story_file_is_reported);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(every_fixture_has_a_case);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(good_fixture_loads);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(documented_example_loads);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(damaged_stories_fail_cleanly);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return _cmocka_run_group_tests("story_load", tests, n, NULL, NULL);
}
