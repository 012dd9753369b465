/*
 * fuzz_save.c - the save-file reader (tale_world_restore) on any file.
 *
 * One world of the bundled story, with a player, lives across inputs; that
 * is sound because a restore either replaces all saved state or refuses the
 * file and changes nothing.  Promises checked: a refusal is one error line
 * and leaves the world as it was (its save is byte-identical);
 * after an accepted save the game plays on, and saving then restoring the
 * result is accepted again (the reader accepts what the writer writes).
 */
#include "fuzz_engine.h"
#include "world.h"

#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"
#define SAVE_CAP (1 << 20) /* our own saves of the bundled story are ~5 KB */

static tale_world_t *world;
static tale_player_t *player;
static char in_path[128], out_path[128], before_path[128];

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "cannot read back %s", path);
    char *buf = malloc(SAVE_CAP);
    if (buf == NULL)
        abort();
    *len = fread(buf, 1, SAVE_CAP, f);
    fclose(f);
    return buf;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = fuzz_tmpdir();
    snprintf(in_path, sizeof in_path, "%s/in.save", dir);
    snprintf(out_path, sizeof out_path, "%s/out.save", dir);
    snprintf(before_path, sizeof before_path, "%s/before.save", dir);
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
    FUZZ_CHECK(tale_world_save(world, before_path, err, sizeof err) == 0, "cannot save: %s", err);
    if (tale_world_restore(world, in_path, err, sizeof err) != 0) {
        fuzz_check_error_line(err);
        /* refused whole: the world is exactly as before */
        FUZZ_CHECK(tale_world_save(world, out_path, err, sizeof err) == 0, "cannot save: %s", err);
        size_t a, b;
        char *before = slurp(before_path, &a), *after = slurp(out_path, &b);
        FUZZ_CHECK(a == b && memcmp(before, after, a) == 0, "a refused save changed the world");
        free(before);
        free(after);
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
