/*
 * fuzz_ws_frames.c - the ws plugin's frame-header scanner (ws_scan_feed in
 * plugins/ws/proto.c) on any byte stream from a client, and wslay behind it
 * as the plugin drives it.
 *
 * The first input byte picks the size of the reads (1 to 64 bytes); the rest
 * is what the client sends after the handshake.  Promises checked:
 * - the verdict and the bytes let through do not depend on how reads split
 *   the stream (checked alone, and with wslay reading as in ws.c);
 * - a refused stream names 1002 or 1009 with a reason and lets through fewer
 *   bytes than it was offered; a sound one lets everything through;
 * - wslay, fed only what the scanner let through, never fails the stream
 *   (wslay_event_recv never returns an error: its WSLAY_ERR_PROTO path drops
 *   the TCP connection with no close frame) and never closes with 1009 on
 *   its own: the scanner refuses all of those first, with a proper close.
 */
#include "proto.h"

#include <wslay/wslay.h>

#include "fuzz_common.h"

#define MAX_MESSAGE 4096 /* over 125, so wslay never counts a control frame as too big */

typedef struct feed {
    ws_scan_t scan;
    const uint8_t *data;
    size_t len, off, step;
} feed_t;

/* wslay's read: the next `step` bytes at most, through the scanner, as in ws.c. */
static ssize_t
recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    feed_t *f = user;
    size_t n = f->len - f->off;
    if (n > f->step)
        n = f->step;
    if (n > len)
        n = len;
    n = ws_scan_feed(&f->scan, f->data + f->off, n);
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(buf, f->data + f->off, n);
    f->off += n;
    return (ssize_t)n;
}

/* Whatever wslay writes back (pongs, its close) is taken and dropped. */
static ssize_t
send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    return (ssize_t)len;
}

static void
msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = 1 + data[0] % 64;
    const uint8_t *stream = data + 1;
    size_t len = size - 1;

    /* the scanner alone, in one read */
    ws_scan_t whole;
    ws_scan_init(&whole, MAX_MESSAGE);
    size_t passed = ws_scan_feed(&whole, stream, len);
    FUZZ_CHECK(passed <= len, "let through %zu of %zu bytes", passed, len);
    FUZZ_CHECK(whole.code == 0 || whole.code == 1002 || whole.code == 1009, "close code %d", whole.code);
    FUZZ_CHECK((whole.code == 0) == (passed == len), "code %d with %zu of %zu bytes through", whole.code, passed, len);
    FUZZ_CHECK(whole.code == 0 || (whole.reason != NULL && whole.reason[0] != 0 && strlen(whole.reason) <= 123),
               "a refusal without a usable reason");

    /* the scanner alone, in reads of `step` bytes: the same verdict after the same bytes */
    ws_scan_t split;
    ws_scan_init(&split, MAX_MESSAGE);
    size_t through = 0;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step, got = ws_scan_feed(&split, stream + off, n);
        through += got;
        if (got < n)
            break;
    }
    FUZZ_CHECK(through == passed && split.code == whole.code && split.reason == whole.reason,
               "reads of %zu bytes: %zu through, code %d; in one read: %zu through, code %d", step, through, split.code, passed,
               whole.code);

    /* the same reads through wslay, as the plugin drives it */
    struct wslay_event_callbacks cb = {.recv_callback = recv_cb, .send_callback = send_cb, .on_msg_recv_callback = msg_cb};
    feed_t f = {.data = stream, .len = len, .step = step};
    ws_scan_init(&f.scan, MAX_MESSAGE);
    wslay_event_context_ptr ctx;
    FUZZ_CHECK(wslay_event_context_server_init(&ctx, &cb, &f) == 0, "wslay context");
    wslay_event_config_set_max_recv_msg_length(ctx, MAX_MESSAGE);
    size_t before;
    do {
        before = f.off;
        int r = wslay_event_recv(ctx);
        FUZZ_CHECK(r == 0, "wslay failed the stream (%d) after %zu bytes the scanner let through", r, f.off);
        FUZZ_CHECK(wslay_event_send(ctx) == 0, "wslay could not write");
    } while (f.off != before && wslay_event_want_read(ctx));
    if (wslay_event_get_close_sent(ctx) && !wslay_event_get_close_received(ctx)) /* an echo of the peer's code is fine */
        FUZZ_CHECK(wslay_event_get_status_code_sent(ctx) != 1009, "wslay closed with 1009 itself");
    if (wslay_event_want_read(ctx)) /* wslay read on to the scanner's verdict */
        FUZZ_CHECK(f.off == passed && f.scan.code == whole.code, "wslay took %zu bytes, not the %zu let through", f.off, passed);
    wslay_event_context_free(ctx);
    return 0;
}
