/*
 * html_text.h - the host's HTML-to-terminal renderer (host->frame_text, ABI 1.3;
 * moved here from the console plugin, which now uses the service).
 *
 * Text frames carry the small HTML dialect of PROTOCOL.md (<p>, <pre>, <br>,
 * spans with txt-* classes, entities).  This turns it into lines of plain
 * text, optionally with ANSI SGR attributes for the style classes.  It is a
 * pure function of its input so the unit tests can drive it without a host.
 */
#ifndef TALE_HOST_HTML_TEXT_H
#define TALE_HOST_HTML_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <tale/buf.h>

enum {
    TALE_HTML_ANSI = 1u,       /* emit SGR escape sequences for the style classes */
    TALE_HTML_SKIP_INPUT = 2u, /* drop echoed input (txt-userinput): a terminal already echoed it */
};

/* How to render. */
typedef struct tale_html_opts {
    unsigned flags;           /* TALE_CONSOLE_* */
    const char *input_prefix; /* printed before echoed input (txt-userinput) when it is kept; may be NULL */
    unsigned width;           /* wrap lines at word boundaries to this many columns; 0: never wrap */
} tale_html_opts_t;

/*
 * Append the plain-text rendering of html[0..len) to `out`: tags stripped,
 * entities decoded, each paragraph (and each <br>) on its own line, runs of
 * white space collapsed outside <pre>, control characters removed (a story or
 * a player must not be able to drive the terminal), and the result ending in
 * a newline when it is not empty.  Echoed input is dropped with
 * TALE_HTML_SKIP_INPUT, else printed after the input prefix, so a
 * transcript reads "> look".  Lines outside <pre> wrap at `width` columns
 * (a word longer than a line overflows rather than being cut).
 */
void tale_html_to_text(const char *html, size_t len, const tale_html_opts_t *opts, tale_buf_t *out);

/*
 * host->frame_text on a frame's JSON: the "text" of a text frame rendered
 * with tale_html_to_text (flags are TALE_TEXT_*, which equal TALE_HTML_*),
 * or a one-line note for a data frame.  *special gets TALE_FRAME_* bits.
 * Returns a malloc'd buffer, or NULL (len 0) when there is nothing to show.
 */
char *tale_frame_to_text(const char *json, size_t json_len, unsigned flags, unsigned width, const char *input_prefix, size_t *len,
                         unsigned *special);
/* The same through a full jansson parse: what tale_frame_to_text falls back
 * to on a frame its scan does not expect (and what the tests compare it with). */
char *tale_frame_to_text_tree(const char *json, size_t json_len, unsigned flags, unsigned width, const char *input_prefix,
                              size_t *len, unsigned *special);
/* Where a frame's room is in the story, for the map (the host answers from
 * the engine; this library knows no engine).  Rooms are handles >= 0. */
typedef struct tale_room_lookup {
    /* the room a frame names by title and visible exits ("north,east"), or -1 */
    int (*find)(void *ctx, const char *title, size_t len, const char *exits);
    /* the room's stable key (its id in the story), hashed into its number */
    const char *(*key)(void *ctx, int room);
    /* where the exit `dir` of `room` leads, or -1 */
    int (*target)(void *ctx, int room, const char *dir);
    void *ctx;
} tale_room_lookup_t;
/* host->frame_location: the frame's location snapshot as a GMCP-shaped JSON
 * object (see plugin.h), `area` naming the story; NULL when it has none.
 * With `rooms` (may be NULL) the number is that of the room's key and the
 * exits carry their destinations' numbers; without, the number is the title's
 * and the exits carry 0 ("not known"). */
char *tale_frame_location_json(const char *json, size_t json_len, const char *area, const tale_room_lookup_t *rooms, size_t *len);
/* A stable number for a room's key or title (FNV-1a, 31 bits: Mudlet's room numbers are ints). */
uint32_t tale_location_num(const char *key, size_t len);

#endif
