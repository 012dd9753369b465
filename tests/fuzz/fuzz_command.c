/*
 * fuzz_command.c - the command parser: tale_player_command and
 * tale_player_complete on arbitrary bytes, in the bundled story.
 *
 * An input is a script: each line (up to MAX_LINES) is first completed as a
 * prefix, then run as a command, then the world ticks - so inputs reach deep
 * game states (the seed corpus is the walkthrough); a line that starts with a
 * TAB is typed by a second player.  Each line is also asked for as an
 * in-band suggestion (tale_player_suggest).  Loading the story
 * costs more than most scripts, so the world is loaded once and reset per
 * input by restoring a save taken right after loading (a restore replaces
 * all changing state; fuzz_save checks that saves round-trip).  Promises
 * checked: one text frame per command and per suggestion, frames well formed with only engine
 * markup, completions are arrays of strings.
 */
#include "fuzz_engine.h"

#define MAX_LINES 100
#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"

static tale_world_t *w;
static char snapshot[128];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512] = "";
    /* no save_dir: the game's own save and load commands answer that saving is off */
    tale_world_options_t opt = {NULL, 256};
    w = tale_world_load(STORY, &opt, err, sizeof err);
    FUZZ_CHECK(w != NULL, "the bundled story does not load: %s", err);
    snprintf(snapshot, sizeof snapshot, "%s/start.save", fuzz_tmpdir());
    FUZZ_CHECK(tale_world_save(w, snapshot, err, sizeof err) == 0, "cannot save the start: %s", err);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    if (w == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    FUZZ_CHECK(tale_world_restore(w, snapshot, err, sizeof err) == 0, "cannot restore the start: %s", err);
    /* a line starting with TAB is typed by a second player (MUD paths: say,
     * tell, give, arrivals, load refused while others are present) */
    fuzz_frames_t fr[2] = {{0, 0}, {0, 0}};
    tale_player_t *pl[2] = {tale_player_join(w, fuzz_emit, &fr[0]), NULL};
    FUZZ_CHECK(pl[0] != NULL, "cannot join");

    const char *s = (const char *)data, *end = s + size;
    for (int n = 0; s <= end && n < MAX_LINES; n++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        const char *line = s;
        int who = 0;
        if (len > 0 && line[0] == '\t') {
            who = 1;
            line++;
            len--;
            if (pl[1] == NULL) {
                pl[1] = tale_player_join(w, fuzz_emit, &fr[1]);
                FUZZ_CHECK(pl[1] != NULL, "a second player cannot join");
            }
        }
        tale_player_t *p = pl[who];

        json_t *c = tale_player_complete(p, line, len);
        FUZZ_CHECK(json_is_array(c), "completion did not return an array");
        size_t i;
        json_t *v;
        json_array_foreach(c, i, v) FUZZ_CHECK(json_is_string(v), "a completion that is not a string");
        json_decref(c);
        fr[who].text = 0;
        tale_player_suggest(p, line, len);
        FUZZ_CHECK(fr[who].text == 1, "a suggestion emitted %d text frames", fr[who].text);

        fr[who].text = 0;
        int rc = tale_player_command(p, line, len);
        FUZZ_CHECK(fr[who].text == 1, "a command emitted %d text frames", fr[who].text);
        if (rc == TALE_CMD_QUIT) {
            /* the host ends that session; the first player's end ends the script */
            tale_player_leave(p);
            pl[who] = NULL;
            if (who == 0)
                break;
        } else {
            FUZZ_CHECK(rc == TALE_CMD_OK, "unknown command result %d", rc);
        }
        tale_world_tick(w);
        if (!nl)
            break;
        s = nl + 1;
    }
    for (int k = 0; k < 2; k++)
        tale_player_leave(pl[k]);
    return 0;
}
