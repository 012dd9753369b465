/*
 * fuzz_save.c - the save-file reader (tale_world_restore) on any file.
 *
 * One world of the bundled story, with a player, lives across inputs and is
 * reset to the same start (a save taken after loading) before each.  Promises checked: a refusal is one error line
 * and leaves the world as it was (its save is byte-identical); the same bytes
 * restored from memory (tale_world_restore_bytes) get the same verdict and,
 * when accepted, make the same world, as does the jansson reader alone
 * (eng_world_restore_tree: the flat reader only ever takes a shortcut),
 * and the flat writer writes the jansson writer's bytes for it;
 * after an accepted save the game plays on (commands, a tick, a second
 * player picking up a saved seat), and saving then restoring the result is
 * accepted again (the reader accepts what the writer writes).
 */
#include "fuzz_engine.h"
#include "engine/world.h"

#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"
#define SAVE_CAP (1 << 20) /* our own saves of the bundled story are ~5 KB */

static tale_world_t *world;
static tale_player_t *player;
static char in_path[128], out_path[128], before_path[128], start_path[128];
static fuzz_frames_t frames;

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
    snprintf(start_path, sizeof start_path, "%s/start.save", dir);
    char err[512] = "";
    tale_world_options_t opt = {dir, 0};
    world = tale_world_load(STORY, &opt, err, sizeof err);
    FUZZ_CHECK(world != NULL, "the bundled story does not load: %s", err);
    player = tale_player_join(world, fuzz_emit, &frames);
    FUZZ_CHECK(tale_world_save(world, start_path, err, sizeof err) == 0, "cannot save the start: %s", err);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (world == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    char err[512] = "";
    /* every input starts from the same game, so a finding replays from its file alone */
    FUZZ_CHECK(tale_world_restore(world, start_path, err, sizeof err) == 0, "cannot restore the start: %s", err);
    int bytes_rc = tale_world_restore_bytes(world, (const char *)data, size, err, sizeof err);
    if (bytes_rc != 0)
        fuzz_check_error_line(err);
    size_t bytes_len;
    char *bytes_world = tale_world_serialise(world, &bytes_len);
    FUZZ_CHECK(tale_world_restore(world, start_path, err, sizeof err) == 0, "cannot restore the start: %s", err);
    char tree_err[512] = "";
    int tree_rc = eng_world_restore_tree(world, (const char *)data, size, tree_err, sizeof tree_err);
    FUZZ_CHECK((tree_rc == 0) == (bytes_rc == 0), "the jansson reader says %d, the flat one %d", tree_rc, bytes_rc);
    FUZZ_CHECK(bytes_rc == 0 || strcmp(tree_err, err) == 0, "the readers refuse with other errors: %s / %s", tree_err, err);
    size_t tree_len;
    char *tree_world = tale_world_serialise(world, &tree_len);
    FUZZ_CHECK(tree_len == bytes_len && memcmp(tree_world, bytes_world, tree_len) == 0, "the two readers made other worlds");
    free(tree_world);
    tree_world = eng_world_serialise_tree(world, &tree_len);
    FUZZ_CHECK(tree_len == bytes_len && memcmp(tree_world, bytes_world, tree_len) == 0, "the two writers wrote other bytes");
    free(tree_world);
    FUZZ_CHECK(tale_world_restore(world, start_path, err, sizeof err) == 0, "cannot restore the start: %s", err);
    fuzz_write_file(in_path, data, size);
    FUZZ_CHECK(tale_world_save(world, before_path, err, sizeof err) == 0, "cannot save: %s", err);
    int file_rc = tale_world_restore(world, in_path, err, sizeof err);
    FUZZ_CHECK((file_rc == 0) == (bytes_rc == 0), "restore from a file says %d, from memory %d", file_rc, bytes_rc);
    size_t file_len;
    char *file_world = tale_world_serialise(world, &file_len);
    FUZZ_CHECK(file_len == bytes_len && memcmp(file_world, bytes_world, file_len) == 0,
               "the same save restored from memory made another world");
    free(file_world);
    free(bytes_world);
    if (file_rc != 0) {
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
    /* the restored numbers (clock, turns, positions) meet the game's arithmetic */
    fuzz_play(player, &frames, "look", "a restore");
    fuzz_play(player, &frames, "time", "a restore");
    fuzz_play(player, &frames, "inventory", "a restore");
    fuzz_play(player, &frames, "wait", "a restore");
    tale_world_tick(world);
    /* a second seat picks up its saved state on joining (pending players) */
    fuzz_frames_t fr2 = {0, 0};
    tale_player_t *p2 = tale_player_join(world, fuzz_emit, &fr2);
    FUZZ_CHECK(p2 != NULL, "a second player cannot join");
    fuzz_play(p2, &fr2, "look", "a restore");
    tale_player_leave(p2);
    FUZZ_CHECK(tale_world_save(world, out_path, err, sizeof err) == 0, "cannot save a restored game: %s", err);
    FUZZ_CHECK(tale_world_restore(world, out_path, err, sizeof err) == 0, "our own save is refused: %s", err);
    return 0;
}
