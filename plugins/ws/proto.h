/*
 * proto.h - the pure parts of the WebSocket transport: what a browser's text
 * message asks for, the ?resume= query of a handshake, and the Origin check.
 *
 * No sockets, no host, no h2o: ws.c calls these, and the fuzz targets
 * (tests/fuzz/fuzz_ws_input.c, fuzz_ws_handshake.c) drive them directly.
 */
#ifndef TALE_WS_PROTO_H
#define TALE_WS_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ws_input_kind {
    WS_INPUT_COMMAND,    /* cmd/len/flags name a command for the host */
    WS_INPUT_NOT_OBJECT, /* JSON, but not an object: answer with a notice */
    WS_INPUT_NO_CMD,     /* a JSON object whose "cmd" is missing or not a string: answer with a notice */
} ws_input_kind_t;

typedef struct ws_input {
    const char *cmd; /* points into the message, or into json */
    size_t len;
    unsigned flags; /* TALE_INPUT_* */
    json_t *json;   /* owned; released by ws_input_release */
} ws_input_t;

/* Decode one text message (PROTOCOL.md, "WebSocket"): {"cmd": "...",
 * "autocomplete": 1} gives that command; text that is not JSON at all is a
 * plain command, byte for byte.  Always call ws_input_release afterwards. */
ws_input_kind_t ws_input_decode(const uint8_t *data, size_t len, ws_input_t *in);
void ws_input_release(ws_input_t *in);

/* The query string (after '?', without it): *out is the value of the last
 * resume= pair, or 0 without one.  -1 when a resume value is not a decimal
 * number of at most 64 bits. */
int ws_parse_resume(const char *query, size_t len, uint64_t *out);

/* Cross-site WebSocket hijacking: may a handshake with this Origin header
 * (NULL: none sent) proceed, when the request named `authority` as its host?
 * Yes without an Origin (not a browser, so no victim's cookie), when any is
 * set, when the origin is listed in `allowed`, or when it names the request's
 * own host.  Hosts compare without regard to case, byte by byte. */
int ws_origin_allowed(const char *origin, size_t olen, const char *authority, size_t alen, char *const *allowed, size_t nallowed,
                      int any);

#endif
