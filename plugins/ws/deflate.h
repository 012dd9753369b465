/*
 * deflate.h - permessage-deflate (RFC 7692) for the WebSocket transport:
 * choosing an offer from Sec-WebSocket-Extensions, and compressing and
 * inflating whole messages with zlib.
 *
 * Memory per player is the point (the scale budget is 16 KiB for an idle
 * one).  With no context takeover, which is the default, both directions
 * start every message from an empty window, so one deflate stream and one
 * inflate stream serve every connection of the loop (single-threaded: one
 * message is worked on at a time) and a connection holds no zlib state at
 * all.  Only an operator who turns no_context_takeover off pays for a
 * stream per connection and direction, kept while the connection lives.
 */
#ifndef TALE_WS_DEFLATE_H
#define TALE_WS_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#define WS_DEFLATE_MIN_BITS 9 /* zlib's raw deflate refuses an LZ77 window of 2^8 */
#define WS_DEFLATE_MAX_BITS 15
#define WS_DEFLATE_RESPONSE_MAX 128

/* The operator's settings (ws plugin config: deflate, deflate_window_bits, no_context_takeover). */
typedef struct ws_deflate_conf {
    int enabled;
    int window_bits;         /* the largest LZ77 window we compress with */
    int no_context_takeover; /* ask both sides to start every message afresh */
} ws_deflate_conf_t;

/* What was agreed with one client.  All zero: no compression. */
typedef struct ws_deflate_params {
    uint8_t on;
    uint8_t server_bits;        /* the window our deflate uses */
    uint8_t client_bits;        /* the window the client promised to stay within (15 if it made no promise) */
    uint8_t server_no_takeover; /* we reset our deflate stream after every message */
    uint8_t client_no_takeover; /* the client resets its stream: we may inflate each message afresh */
} ws_deflate_params_t;

/*
 * Choose from one Sec-WebSocket-Extensions header value (a list of
 * extension offers, RFC 6455 section 9.1) the first permessage-deflate offer
 * we can accept under conf, and fill *out.  An offer with an unknown, repeated
 * or badly valued parameter is declined (RFC 7692, section 5) and the next one
 * considered; a list element that does not parse is skipped.  Returns 1 when
 * an offer was accepted, 0 when none was (*out is then all zero).
 */
int ws_deflate_negotiate(const char *value, size_t len, const ws_deflate_conf_t *conf, ws_deflate_params_t *out);

/* The Sec-WebSocket-Extensions value that accepts *prm, NUL-terminated in
 * buf (WS_DEFLATE_RESPONSE_MAX bytes are always enough).  Returns its length. */
size_t ws_deflate_response(const ws_deflate_params_t *prm, char *buf, size_t size);

/* The loop-wide zlib state: the shared streams and the work buffers. */
typedef struct ws_deflate ws_deflate_t;
/* One connection's streams, used only while context takeover is on. */
typedef struct ws_deflate_conn {
    void *tx, *rx; /* z_stream *, made on first use */
} ws_deflate_conn_t;

ws_deflate_t *ws_deflate_new(void);
void ws_deflate_free(ws_deflate_t *d);
void ws_deflate_conn_release(ws_deflate_conn_t *c);

/*
 * Compress one outgoing message.  Returns 1 with out and outlen naming the
 * compressed payload (valid until the next ws_deflate_compress call): send
 * it with RSV1 set.  Returns 0 when the message goes out as it is (too short
 * to gain, or it would not shrink).
 */
int ws_deflate_compress(ws_deflate_t *d, ws_deflate_conn_t *c, const ws_deflate_params_t *prm, const uint8_t *in, size_t len,
                        const uint8_t **out, size_t *outlen);

typedef enum ws_inflate_result {
    WS_INFLATE_OK,
    WS_INFLATE_TOO_BIG, /* the message would inflate past max: close 1009 */
    WS_INFLATE_BAD,     /* not a valid deflate stream: close 1007 */
} ws_inflate_result_t;

/* Inflate one incoming RSV1 message, at most max bytes of it: a small
 * message that would inflate past max is cut off as soon as it does, so a
 * zip bomb costs max bytes and no more.  *out stays valid until the next
 * ws_deflate_inflate call. */
ws_inflate_result_t ws_deflate_inflate(ws_deflate_t *d, ws_deflate_conn_t *c, const ws_deflate_params_t *prm, const uint8_t *in,
                                       size_t len, size_t max, const uint8_t **out, size_t *outlen);

#endif
