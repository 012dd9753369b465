/*
 * fuzz_render.c - the style-tag renderer (eng_render_inline, eng_out_story and its cache in
 * core/engine/text.c) on any text, as a story's prose or a player's words.
 *
 * Promises checked: with tags allowed the output holds only <span
 * class='txt-…'> and </span>, balanced; with tags refused it holds no markup
 * at all; a story paragraph (valid UTF-8, as libyaml hands it over) renders
 * to a well-formed text frame.
 */
#include "fuzz_engine.h"
#include "world.h"

#define STORY TALE_SOURCE_DIR "/conf/stories/lighthouse"

static tale_world_t *world;
static tale_player_t *player;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512] = "";
    world = tale_world_load(STORY, NULL, err, sizeof err);
    FUZZ_CHECK(world != NULL, "the bundled story does not load: %s", err);
    player = tale_player_join(world, fuzz_emit, NULL);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (world == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    eng_sbuf_t b = {0};
    eng_render_inline(&b, (const char *)data, size, 1, NULL);
    fuzz_check_html(b.s ? b.s : "");
    FUZZ_CHECK(b.len <= size * 30 + 64, "%zu bytes rendered from %zu", b.len, size);
    eng_sb_free(&b);

    eng_render_inline(&b, (const char *)data, size, 0, NULL);
    FUZZ_CHECK(b.s == NULL || strpbrk(b.s, "<>") == NULL, "markup with tags refused: %s", b.s);
    eng_sb_free(&b);

    /* Story text reaches eng_out_story only through libyaml, which refuses
     * malformed UTF-8, so only such text goes on into a frame. */
    if (!fuzz_utf8_valid(data, size))
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    /* Twice: the second showing is copied from the story-text cache and
     * must be the same bytes.  (The next input's buffer may come back at
     * this address with other text: the cache must notice.) */
    size_t mark0 = player->out.len;
    eng_out_story(player, text);
    size_t mark1 = player->out.len;
    eng_out_story(player, text);
    /* (out.s stays NULL while nothing was written: the engine frees a
     * large output buffer after each frame) */
    FUZZ_CHECK(player->out.len - mark1 == mark1 - mark0 &&
                   (mark1 == mark0 || memcmp(player->out.s + mark0, player->out.s + mark1, mark1 - mark0) == 0),
               "a story text rendered differently the second time");
    eng_player_flush(player); /* emits through fuzz_emit, which checks the frame */
    free(text);
    return 0;
}
