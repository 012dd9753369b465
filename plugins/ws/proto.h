/*
 * proto.h - the pure parts of the WebSocket transport: what a browser's text
 * message asks for, the ?resume= query of a handshake, the Origin check, and
 * the frame-header scanner that refuses a broken or oversized frame at its
 * header.
 *
 * No sockets, no host, no h2o: ws.c calls these, and the fuzz targets
 * (tests/fuzz/fuzz_ws_input.c, fuzz_ws_handshake.c, fuzz_ws_frames.c) drive
 * them directly.
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

/*
 * The frame-header scanner.  Every byte the client sends passes through
 * ws_scan_feed before wslay reads it; the scanner follows the frame
 * boundaries (RFC 6455, 5.2) across reads and decides at the header, before
 * any payload has arrived, what wslay would only notice later or answer
 * badly: a header that breaks the RFC (close 1002) and a data frame that
 * would take its message past max_message (close 1009).  It reads each
 * header byte once and skips payloads by their length: O(bytes), no
 * allocation, no copy.
 */
typedef struct ws_scan {
    uint64_t max_message; /* the longest message accepted (sum of its fragments) */
    uint64_t len;         /* the current frame's payload length, as read so far */
    uint64_t left;        /* payload bytes of the current frame still to pass */
    uint64_t msg_len;     /* payload declared so far by the fragments of the open data message */
    uint8_t state;        /* which part of a frame the next byte belongs to (proto.c) */
    uint8_t b0;           /* the current frame's first header byte: FIN, RSV, opcode */
    uint8_t need;         /* extended-length or mask-key bytes still to come */
    uint8_t ext;          /* 2 or 8: the size of the extended length being read */
    uint8_t in_msg;       /* a fragmented data message is open: only continuations may follow */
    uint8_t rsv1_ok;      /* permessage-deflate was negotiated: RSV1 may mark a message's first frame */
    int code;             /* 0 while the stream is sound; else the close code (1002, 1009), for good */
    const char *reason;   /* why, for the close frame (a constant, at most 123 bytes) */
} ws_scan_t;

/* Start scanning a new connection's stream. */
void ws_scan_init(ws_scan_t *s, uint64_t max_message);

/* Let RSV1 mark a compressed message (RFC 7692, 6): on the first frame of a
 * data message only, never on a continuation or control frame. */
void ws_scan_allow_rsv1(ws_scan_t *s);

/* Scan the next `len` bytes of the stream.  Returns how many of them may go
 * on to the frame parser: all of them while the stream is sound; when a byte
 * settles that a header is refused, only the bytes before it (so the parser
 * never holds a whole refused header), with s->code and s->reason set.  Once
 * refused, every later call returns 0. */
size_t ws_scan_feed(ws_scan_t *s, const uint8_t *data, size_t len);

/* 1 when everything scanned so far ends a whole message: no frame is half
 * passed on and no fragmented message is open, so a frame parser that has
 * taken all of it holds no state worth keeping. */
int ws_scan_at_message_boundary(const ws_scan_t *s);

#endif
