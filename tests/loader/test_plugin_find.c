/*
 * test_plugin_find.c - where the loader finds a plugin's file
 * (tale_plugin_find in core/host/plugin_loader.c).
 *
 * Bare names: plugin_path in order, then the host's own folders; ".so" is
 * added unless already there.  Names with a '/' are paths against the config
 * folder.  A miss names every place searched, and never adds ".so" twice.
 */
#include "host.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s;
    assert_true(vasprintf(&s, f, ap) >= 0);
    va_end(ap);
    return s;
}

static const char *const dirs[] = {"a", "b", "ext", "ext2", "lib"};
static const char *const files[] = {"a/one.so", "b/one.so", "b/two.so", "ext/three.so", "ext/one.so", "lib/four.so"};

/* A folder tree under /tmp: a, b on the plugin path; ext, ext2 the host's own. */
typedef struct tree {
    char tmp[64];
    char real[PATH_MAX];
    char *path[2];
    char *own[3];
    tale_config_t cfg;
} tree_t;

static int
tree_setup(void **state)
{
    tree_t *t = calloc(1, sizeof(*t));
    snprintf(t->tmp, sizeof(t->tmp), "/tmp/tale-find-test-XXXXXX");
    assert_non_null(mkdtemp(t->tmp));
    assert_non_null(realpath(t->tmp, t->real));
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *s = fmt("%s/%s", t->real, dirs[i]);
        assert_int_equal(mkdir(s, 0700), 0);
        free(s);
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *s = fmt("%s/%s", t->real, files[i]);
        FILE *f = fopen(s, "w");
        assert_non_null(f);
        fputs("placeholder\n", f);
        fclose(f);
        free(s);
    }
    t->path[0] = fmt("%s/a", t->real);
    t->path[1] = fmt("%s/b", t->real);
    t->own[0] = fmt("%s/ext", t->real);
    t->own[1] = fmt("%s/ext2", t->real);
    t->cfg.dir = t->real;
    t->cfg.plugin_path = t->path;
    t->cfg.n_plugin_path = 2;
    *state = t;
    return 0;
}

static int
tree_teardown(void **state)
{
    tree_t *t = *state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *s = fmt("%s/%s", t->real, files[i]);
        unlink(s);
        free(s);
    }
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *s = fmt("%s/%s", t->real, dirs[i]);
        rmdir(s);
        free(s);
    }
    rmdir(t->real);
    free(t->path[0]);
    free(t->path[1]);
    free(t->own[0]);
    free(t->own[1]);
    free(t);
    return 0;
}

/* Find `module`; want is relative to the tree, or NULL for a miss. */
static void
expect(tree_t *t, const char *module, const char *want, char *looked, size_t len)
{
    looked[0] = '\0';
    char *found = tale_plugin_find(&t->cfg, module, (const char *const *)t->own, looked, len);
    if (want == NULL) {
        if (found != NULL)
            fail_msg("%s: expected a miss, found %s", module, found);
        return;
    }
    char *s = fmt("%s/%s", t->real, want);
    if (found == NULL)
        fail_msg("%s: expected %s, got a miss (%s)", module, s, looked);
    assert_string_equal(found, s);
    free(s);
    free(found);
}

static void
bare_names_search_plugin_path_then_the_hosts_folders(void **state)
{
    tree_t *t = *state;
    char looked[1024];
    expect(t, "one", "a/one.so", looked, sizeof(looked));       /* plugin_path first, in order */
    expect(t, "two", "b/two.so", looked, sizeof(looked));       /* ... on to the second folder */
    expect(t, "three", "ext/three.so", looked, sizeof(looked)); /* then the host's own */
    expect(t, "two.so", "b/two.so", looked, sizeof(looked));    /* ".so" is not added twice */
}

static void
paths_resolve_against_the_config_folder(void **state)
{
    tree_t *t = *state;
    char looked[1024];
    expect(t, "lib/four.so", "lib/four.so", looked, sizeof(looked));
    expect(t, "./lib/../lib/four.so", "lib/four.so", looked, sizeof(looked)); /* canonical */
    char *abs = fmt("%s/lib/four.so", t->real);
    expect(t, abs, "lib/four.so", looked, sizeof(looked));
    free(abs);
    expect(t, "lib", NULL, looked, sizeof(looked)); /* a bare name: not the folder */
}

static void
a_missing_bare_name_names_every_folder_searched(void **state)
{
    tree_t *t = *state;
    char looked[1024];
    expect(t, "missing2.so", NULL, looked, sizeof(looked));
    char *want = fmt("looked for missing2.so in %s/a, %s/b, %s/ext, %s/ext2", t->real, t->real, t->real, t->real);
    assert_string_equal(looked, want);
    free(want);
    expect(t, "missing2", NULL, looked, sizeof(looked));
    assert_non_null(strstr(looked, "looked for missing2.so in "));
}

static void
a_missing_path_names_the_resolved_file(void **state)
{
    tree_t *t = *state;
    char looked[1024];
    expect(t, "./lib/missing.so", NULL, looked, sizeof(looked));
    char *want = fmt("looked for %s/./lib/missing.so", t->real);
    assert_string_equal(looked, want);
    free(want);
}

static void
a_long_list_of_folders_is_cut_not_overrun(void **state)
{
    tree_t *t = *state;
    char looked[40];
    memset(looked, 'x', sizeof(looked));
    expect(t, "missing", NULL, looked, sizeof(looked));
    assert_true(strlen(looked) < sizeof(looked));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bare_names_search_plugin_path_then_the_hosts_folders, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(paths_resolve_against_the_config_folder, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(a_missing_bare_name_names_every_folder_searched, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(a_missing_path_names_the_resolved_file, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(a_long_list_of_folders_is_cut_not_overrun, tree_setup, tree_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
