/*
 * html_text.h - the console plugin's HTML-to-terminal renderer (plugin-internal).
 *
 * Text frames carry the small HTML dialect of PROTOCOL.md (<p>, <pre>, <br>,
 * spans with txt-* classes, entities).  This turns it into lines of plain
 * text, optionally with ANSI SGR attributes for the style classes.  It is a
 * pure function of its input so the unit tests can drive it without a host.
 */
#ifndef TALE_CONSOLE_HTML_TEXT_H
#define TALE_CONSOLE_HTML_TEXT_H

#include <stddef.h>

/* A growable byte buffer; zero-initialise, release with tale_console_buf_free(). */
typedef struct tale_console_buf {
    char *data;
    size_t len, cap;
} tale_console_buf_t;

enum {
    TALE_CONSOLE_ANSI = 1u,       /* emit SGR escape sequences for the style classes */
    TALE_CONSOLE_SKIP_INPUT = 2u, /* drop echoed input (txt-userinput): a terminal already echoed it */
};

/* Append `len` bytes to the buffer (a failed allocation is fatal, tale/alloc.h). */
void tale_console_buf_append(tale_console_buf_t *b, const void *p, size_t len);
void tale_console_buf_free(tale_console_buf_t *b);

/* How to render. */
typedef struct tale_console_render_opts {
    unsigned flags;           /* TALE_CONSOLE_* */
    const char *input_prefix; /* printed before echoed input (txt-userinput) when it is kept; may be NULL */
    unsigned width;           /* wrap lines at word boundaries to this many columns; 0: never wrap */
} tale_console_render_opts_t;

/*
 * Append the plain-text rendering of html[0..len) to `out`: tags stripped,
 * entities decoded, each paragraph (and each <br>) on its own line, runs of
 * white space collapsed outside <pre>, control characters removed (a story or
 * a player must not be able to drive the terminal), and the result ending in
 * a newline when it is not empty.  Echoed input is dropped with
 * TALE_CONSOLE_SKIP_INPUT, else printed after the input prefix, so a
 * transcript reads "> look".  Lines outside <pre> wrap at `width` columns
 * (a word longer than a line overflows rather than being cut).
 */
void tale_console_html_to_text(const char *html, size_t len, const tale_console_render_opts_t *opts, tale_console_buf_t *out);

#endif
