/*
 * fuzz_config.c - the config loader (tale_config_load) on any file content.
 *
 * The file lives in a scratch folder holding what real configs point at
 * (a story folder, the bundled stories), so inputs get past the story
 * check into listeners, limits and plugins.  Promise checked: NULL comes
 * with one located error line; a config that loads has a story and at least
 * one listener and frees cleanly.  tale_yaml_load_mem must agree with the
 * file loader on whether the bytes are YAML at all.
 */
#include "config.h"
#include "fuzz_common.h"

#include <sys/stat.h>

static char cfg_path[128];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = fuzz_tmpdir();
    char path[192];
    snprintf(path, sizeof path, "%s/story", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/stories", dir);
    if (symlink(TALE_SOURCE_DIR "/conf/stories", path) != 0)
        perror("symlink");
    snprintf(cfg_path, sizeof cfg_path, "%s/tale.yaml", dir);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg_path[0])
        LLVMFuzzerInitialize(NULL, NULL);
    fuzz_write_file(cfg_path, data, size);

    char err[512] = "";
    tale_config_t *c = tale_config_load(cfg_path, err, sizeof err);
    int loaded = c != NULL;
    if (c == NULL) {
        fuzz_check_error_line(err);
    } else {
        FUZZ_CHECK(c->story != NULL && c->story[0] == '/', "a loaded config without an absolute story path");
        FUZZ_CHECK(c->n_listeners >= 1, "a loaded config without listeners");
        for (size_t i = 0; i < c->n_plugins; i++)
            FUZZ_CHECK(c->plugins[i].name != NULL && c->plugins[i].name[0], "plugin %zu has no name", i);
        tale_config_free(c);
    }

    tale_yaml_t y;
    char yerr[512] = "";
    int rc = tale_yaml_load_mem(&y, "fuzz.yaml", (const char *)data, size, yerr, sizeof yerr);
    if (rc == 0) {
        FUZZ_CHECK(tale_yaml_root(&y) != NULL, "a loaded document without a root");
        tale_yaml_free(&y);
    } else {
        fuzz_check_error_line(yerr);
        /* what does not parse from memory cannot have loaded from the file */
        FUZZ_CHECK(!loaded, "the file loaded but the same bytes from memory did not: %s", yerr);
    }
    return 0;
}
