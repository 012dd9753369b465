/*
 * fuzz_character.c - a character's saved state (tale_player_state_restore,
 * accounts: issue #15) on any bytes.
 *
 * A fresh shared world of the bundled story for each input, with a guest who
 * holds the satchel (so "another player has it" is reachable) and a named
 * character the bytes are restored into.  Promises checked: a refusal is one
 * error line, says nothing to the player and leaves the world as it was; an
 * accepted character answers one frame, plays on (commands, a tick), and what
 * it serialises to is accepted again by a new join of the same name and
 * serialises to the same bytes (the reader accepts what the writer writes,
 * and nothing drifts).
 */
#include "fuzz_engine.h"

#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"
#define NAME "Wilma"

static tale_story_t *story;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512] = "";
    story = tale_story_load(STORY, err, sizeof err);
    FUZZ_CHECK(story != NULL, "the bundled story does not load: %s", err);
    return 0;
}

static tale_player_t *
join_named(tale_world_t *w, fuzz_frames_t *fr)
{
    const char *why = NULL;
    tale_player_t *p = tale_player_join_as(w, NAME, fuzz_emit, fr, &why);
    FUZZ_CHECK(p != NULL, "'%s' may not join: %s", NAME, why ? why : "?");
    return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (story == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    tale_world_options_t opt = {.shared = 1};
    tale_world_t *w = tale_world_new(story, &opt);
    fuzz_frames_t guest_fr = {0, 0}, fr = {0, 0};
    tale_player_t *guest = tale_player_join(w, fuzz_emit, &guest_fr);
    tale_player_set_guest(guest, 1);
    tale_player_t *p = join_named(w, &fr);
    size_t before_len, after_len;
    char *before = tale_world_serialise(w, &before_len);
    char err[512] = "";
    fr.text = fr.data = 0;
    if (tale_player_state_restore(p, (const char *)data, size, err, sizeof err) != 0) {
        fuzz_check_error_line(err);
        FUZZ_CHECK(fr.text == 0 && fr.data == 0, "a refused character was told something");
        char *after = tale_world_serialise(w, &after_len);
        FUZZ_CHECK(after_len == before_len && memcmp(before, after, after_len) == 0, "a refused character changed the world");
        free(after);
        free(before);
        tale_world_free(w);
        return 0;
    }
    free(before);
    FUZZ_CHECK(fr.text == 1, "an accepted character got %d text frames", fr.text);
    fuzz_play(p, &fr, "look", "a character restore");
    fuzz_play(p, &fr, "inventory", "a character restore");
    fuzz_play(p, &fr, "time", "a character restore");
    fuzz_play(p, &fr, "wait", "a character restore");
    tale_world_tick(w);
    size_t len1, len2;
    char *saved = tale_player_state_serialise(p, &len1);
    tale_player_leave(p);
    fuzz_frames_t fr2 = {0, 0};
    tale_player_t *again = join_named(w, &fr2);
    FUZZ_CHECK(tale_player_state_restore(again, saved, len1, err, sizeof err) == 0, "our own character is refused: %s", err);
    char *resaved = tale_player_state_serialise(again, &len2);
    FUZZ_CHECK(len1 == len2 && memcmp(saved, resaved, len1) == 0, "a character changed on its way back:\n%s\n%s", saved, resaved);
    free(saved);
    free(resaved);
    tale_world_free(w);
    return 0;
}
