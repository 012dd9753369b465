/*
 * fuzz_command.c - the command parser: tale_player_command and
 * tale_player_complete on arbitrary bytes, in the bundled story.
 *
 * An input is a script: each line (up to MAX_LINES) is first completed as a
 * prefix, then run as a command, then the world ticks - so inputs reach deep
 * game states (the seed corpus is the walkthrough).  The world is loaded
 * afresh per input so every crash replays from its file alone.  Promises
 * checked: one text frame per command, frames well formed with only engine
 * markup, completions are arrays of strings.
 */
#include "fuzz_engine.h"

#define MAX_LINES 200
#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    tale_world_options_t opt = {NULL, 256};
    tale_world_t *w = tale_world_load(STORY, &opt, err, sizeof err);
    FUZZ_CHECK(w != NULL, "the bundled story does not load: %s", err);
    fuzz_frames_t fr = {0, 0};
    tale_player_t *p = tale_player_join(w, fuzz_emit, &fr);
    FUZZ_CHECK(p != NULL, "cannot join");

    const char *s = (const char *)data, *end = s + size;
    for (int n = 0; s <= end && n < MAX_LINES; n++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

        json_t *c = tale_player_complete(p, s, len);
        FUZZ_CHECK(json_is_array(c), "completion did not return an array");
        size_t i;
        json_t *v;
        json_array_foreach(c, i, v) FUZZ_CHECK(json_is_string(v), "a completion that is not a string");
        json_decref(c);

        fr.text = 0;
        int rc = tale_player_command(p, s, len);
        FUZZ_CHECK(fr.text == 1, "a command emitted %d text frames", fr.text);
        if (rc == TALE_CMD_QUIT)
            break; /* the host ends the session here */
        FUZZ_CHECK(rc == TALE_CMD_OK, "unknown command result %d", rc);
        tale_world_tick(w);
        if (!nl)
            break;
        s = nl + 1;
    }
    tale_player_leave(p);
    tale_world_free(w);
    return 0;
}
