/*
 * text.h - text and rendering (text.c): a growable string, HTML escaping,
 * story text and engine messages rendered into a player's output, and the
 * text frame that carries it with the player's location snapshot.
 */
#ifndef TALE_ENGINE_TEXT_H
#define TALE_ENGINE_TEXT_H

#include "engine.h"

#include <stdarg.h>

/* ---- growable string ---- */
typedef struct eng_sbuf {
    char *s;
    size_t len, cap;
} eng_sbuf_t;
void eng_sb_adds(eng_sbuf_t *b, const char *s);
void eng_sb_printf(eng_sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eng_sb_free(eng_sbuf_t *b);
/* A new formatted string (free() it); a failed allocation is fatal. */
char *eng_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append s escaped for HTML/XML text and attributes. */
void eng_sb_escape(eng_sbuf_t *b, const char *s, size_t n);
/* A count with thousands separators: "9,990". */
void eng_sb_count(eng_sbuf_t *b, size_t n);
/* One paragraph of engine text (eng_out_p's format) into b, for no one player. */
void eng_sb_p(eng_sbuf_t *b, const char *fmt, ...);
void eng_sb_vp(eng_sbuf_t *b, const char *fmt, va_list ap);
/* A player's line of speech (eng_out_speech's markup) into b. */
void eng_sb_speech(eng_sbuf_t *b, const char *who, const char *verb, const char *text);
/* A frame for many players: {"type":"text","text":html,"special":[]}, no
 * snapshot; html is repaired to UTF-8 in place. */
json_t *eng_news_frame(char *html, size_t len);

void eng_out_story(tale_player_t *p, const char *text);
/* One paragraph.  fmt is engine text (style tags allowed); %s inserts raw
 * text (escaped, tags shown literally), %S story text (tags rendered), %d int,
 * %ld long. */
void eng_out_p(tale_player_t *p, const char *fmt, ...);
void eng_out_vp(tale_player_t *p, const char *fmt, va_list ap);
/* A line of speech: "<who> says: “text”" marked as speech.  story set: an
 * NPC speaking story text (tags rendered); else a player's words (escaped). */
void eng_out_speech(tale_player_t *p, const char *who, const char *verb, const char *text, int story);
void eng_out_raw(tale_player_t *p, const char *html);
void eng_out_special(tale_player_t *p, const char *special);
/* inline rendering: tags (if allow) to spans, the rest escaped */
void eng_render_inline(eng_sbuf_t *b, const char *s, size_t n, int allow_tags, tale_player_t *p);
/* Send the player's collected output as one text frame. */
void eng_player_flush(tale_player_t *p);
/* The same, with one more field (takes `value`). */
void eng_player_flush_with(tale_player_t *p, const char *key, json_t *value);

/* The story's rendered-text cache (freed with the story). */
void eng_story_html_free(tale_story_t *st);

#endif
