/*
 * fuzz_story.c - the story loader (tale_world_load) on any story.yaml.
 *
 * The story folder is a scratch folder whose resources/ is the bundled
 * story's, so pictures named by real stories exist.  Promise checked: NULL
 * comes with one located error line; a story that loads can be joined,
 * looked at, completed, ticked and left, and every frame is well formed.
 */
#include "fuzz_engine.h"

#include <sys/stat.h>

static char story_dir[128], story_file[160];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    snprintf(story_dir, sizeof story_dir, "%s/story", fuzz_tmpdir());
    mkdir(story_dir, 0700);
    char res[192];
    snprintf(res, sizeof res, "%s/resources", story_dir);
    if (symlink(TALE_SOURCE_DIR "/conf/stories/lighthouse/resources", res) != 0)
        perror("symlink");
    snprintf(story_file, sizeof story_file, "%s/story.yaml", story_dir);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!story_dir[0])
        LLVMFuzzerInitialize(NULL, NULL);
    fuzz_write_file(story_file, data, size);

    char err[512] = "";
    tale_world_options_t opt = {NULL, 0};
    tale_world_t *w = tale_world_load(story_dir, &opt, err, sizeof err);
    if (w == NULL) {
        fuzz_check_error_line(err);
        return 0;
    }
    const tale_story_meta_t *m = tale_world_meta(w);
    FUZZ_CHECK(m != NULL && m->name != NULL, "a loaded story without a name");
    fuzz_frames_t fr = {0, 0};
    tale_player_t *p = tale_player_join(w, fuzz_emit, &fr);
    FUZZ_CHECK(p != NULL, "cannot join a story that loaded");
    FUZZ_CHECK(fr.text >= 1, "joining emitted no text frame");
    static const char *const cmds[] = {"look", "inventory", "examine all", "north", "take all", "help", NULL};
    for (int i = 0; cmds[i]; i++) {
        fr.text = 0;
        tale_player_command(p, cmds[i], strlen(cmds[i]));
        FUZZ_CHECK(fr.text == 1, "'%s' emitted %d text frames", cmds[i], fr.text);
    }
    json_t *c = tale_player_complete(p, "ex", 2);
    FUZZ_CHECK(json_is_array(c), "completion did not return an array");
    json_decref(c);
    tale_world_tick(w);
    tale_player_leave(p);
    tale_world_free(w);
    return 0;
}
