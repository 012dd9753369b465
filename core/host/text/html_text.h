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
/* host->frame_location: the frame's location snapshot as a GMCP-shaped JSON
 * object (see plugin.h), `area` naming the story; NULL when it has none. */
char *tale_frame_location_json(const char *json, size_t json_len, const char *area, size_t *len);
/* A stable id for a location title (FNV-1a, 31 bits: Mudlet's room numbers are ints). */
uint32_t tale_location_num(const char *title, size_t len);

#endif
