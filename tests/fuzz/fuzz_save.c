/*
 * fuzz_save.c - the save-file reader (tale_world_restore) on any file.
 *
 * One world of the bundled story, with a player, lives across inputs; that
 * is sound because a restore either replaces all saved state or refuses the
 * file and changes nothing.  Promises checked: a refusal is one error line;
 * after an accepted save the game plays on, and saving then restoring the
 * result is accepted again (the reader accepts what the writer writes).
 */
#include "fuzz_engine.h"
#include "world.h"

#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"

static tale_world_t *world;
static tale_player_t *player;
static char in_path[128], out_path[128];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = fuzz_tmpdir();
    snprintf(in_path, sizeof in_path, "%s/in.save", dir);
    snprintf(out_path, sizeof out_path, "%s/out.save", dir);
    char err[512] = "";
    tale_world_options_t opt = {dir, 0};
    world = tale_world_load(STORY, &opt, err, sizeof err);
    FUZZ_CHECK(world != NULL, "the bundled story does not load: %s", err);
    player = tale_player_join(world, fuzz_emit, NULL);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (world == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    fuzz_write_file(in_path, data, size);
    char err[512] = "";
    if (tale_world_restore(world, in_path, err, sizeof err) != 0) {
        fuzz_check_error_line(err);
        return 0;
    }
    fuzz_frames_t fr = {0, 0};
    player->ctx = &fr; /* count this look's frames (engine-internal field; this target is white-box) */
    tale_player_command(player, "look", 4);
    player->ctx = NULL;
    FUZZ_CHECK(fr.text == 1, "look after a restore emitted %d text frames", fr.text);
    FUZZ_CHECK(tale_world_save(world, out_path, err, sizeof err) == 0, "cannot save a restored game: %s", err);
    FUZZ_CHECK(tale_world_restore(world, out_path, err, sizeof err) == 0, "our own save is refused: %s", err);
    return 0;
}
