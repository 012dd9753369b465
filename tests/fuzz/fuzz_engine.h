/*
 * fuzz_engine.h - what every engine-facing target checks about the frames
 * the engine emits (engine.h, PROTOCOL.md): each is an object with a type;
 * a text frame carries its HTML as a string, and that HTML holds only the
 * engine's own markup (docs/STORY-FORMAT.md, "markup") - every other '<' from
 * a story or a player arrives escaped.
 */
#ifndef TALE_FUZZ_ENGINE_H
#define TALE_FUZZ_ENGINE_H

#include "engine.h"
#include "fuzz_common.h"

typedef struct fuzz_frames {
    int text, data;
} fuzz_frames_t;

/* Length of the engine tag at s (a '<'), or 0 when it is not one we emit. */
static inline size_t
fuzz_engine_tag(const char *s)
{
    static const char *const fixed[] = {"<p>", "</p>", "<pre>", "</pre>", "</span>", "<b>", "</b>", NULL};
    for (int i = 0; fixed[i]; i++)
        if (strncmp(s, fixed[i], strlen(fixed[i])) == 0)
            return strlen(fixed[i]);
    /* <span class='txt-…'> (style tags, speech) and <p class='txt-…'> (the suggestion list) */
    static const char span[] = "<span class='txt-", para[] = "<p class='txt-";
    size_t i;
    if (strncmp(s, span, sizeof span - 1) == 0)
        i = sizeof span - 1;
    else if (strncmp(s, para, sizeof para - 1) == 0)
        i = sizeof para - 1;
    else
        return 0;
    while ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-')
        i++;
    return s[i] == '\'' && s[i + 1] == '>' ? i + 2 : 0;
}

/* Every '<' and '>' in html belongs to an engine tag, and spans balance. */
static inline void
fuzz_check_html(const char *html)
{
    int spans = 0;
    for (const char *s = html; *s;) {
        if (*s == '>')
            FUZZ_CHECK(0, "a bare '>' at offset %zu in: %s", (size_t)(s - html), html);
        if (*s != '<') {
            s++;
            continue;
        }
        size_t n = fuzz_engine_tag(s);
        FUZZ_CHECK(n > 0, "unescaped markup at offset %zu in: %s", (size_t)(s - html), html);
        if (strncmp(s, "<span", 5) == 0)
            spans++;
        else if (strncmp(s, "</span>", 7) == 0)
            FUZZ_CHECK(--spans >= 0, "a </span> without a <span> in: %s", html);
        s += n;
    }
    FUZZ_CHECK(spans == 0, "%d <span> left open in: %s", spans, html);
}

static inline void
fuzz_emit(void *ctx, json_t *frame)
{
    fuzz_frames_t *fr = ctx;
    FUZZ_CHECK(json_is_object(frame), "a frame that is not an object");
    const char *type = json_string_value(json_object_get(frame, "type"));
    FUZZ_CHECK(type != NULL, "a frame without a type");
    if (strcmp(type, "text") == 0) {
        json_t *text = json_object_get(frame, "text");
        /* jansson refuses a string that is not UTF-8, so the key goes missing */
        FUZZ_CHECK(json_is_string(text), "a text frame without its text (not UTF-8?): %s", json_dumps(frame, JSON_COMPACT));
        fuzz_check_html(json_string_value(text));
        FUZZ_CHECK(json_is_array(json_object_get(frame, "special")), "a text frame without special");
        json_t *comp = json_object_get(frame, "completions"), *v;
        size_t i;
        if (comp != NULL) {
            FUZZ_CHECK(json_is_array(comp), "completions that are not an array");
            json_array_foreach(comp, i, v) FUZZ_CHECK(json_is_string(v), "a completion that is not a string");
        }
        if (fr)
            fr->text++;
    } else {
        FUZZ_CHECK(strcmp(type, "data") == 0, "an unknown frame type %s", type);
        if (fr)
            fr->data++;
    }
    /* the host serialises every frame; it must be able to */
    char *s = json_dumps(frame, JSON_COMPACT);
    FUZZ_CHECK(s != NULL, "a frame jansson cannot serialise");
    free(s);
    json_decref(frame);
}

/* One command must answer with one text frame (`after` says after what, for the report). */
static inline void
fuzz_play(tale_player_t *p, fuzz_frames_t *fr, const char *cmd, const char *after)
{
    fr->text = 0;
    tale_player_command(p, cmd, strlen(cmd));
    FUZZ_CHECK(fr->text == 1, "'%s' after %s emitted %d text frames", cmd, after, fr->text);
}

#endif
