/*
 * fuzz_telnet.c - the telnet plugin's protocol core (plugins/telnet/
 * telnet_proto.c) on any bytes from a client, fed in pieces whose sizes the
 * input picks, with the plugin's own opening offers made first.
 *
 * Promises checked (PROTOCOL.md, "Telnet"): every line handed to the game
 * is valid UTF-8 without control characters and within max_line; the
 * buffers never pass max_line / max_subnegotiation; what we send back is
 * bounded by what was received (no amplification, no negotiation loop);
 * NAWS sizes come only from a well-formed NAWS subnegotiation.
 */
#include "telnet_proto.h"

#include "fuzz_common.h"

#include <string.h>

#define MAX_LINE 256
#define MAX_SB 128

typedef struct sink {
    size_t sent;
    size_t lines;
    size_t naws; /* NAWS events: a size came from a NAWS subnegotiation while NAWS was on */
} sink_t;

static void
on_send(void *ctx, const void *bytes, size_t len)
{
    ((sink_t *)ctx)->sent += len;
}

static int
valid_line(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0 || i + n > len || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
            return 0;
        for (size_t k = 1; k < n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += n;
    }
    return 1;
}

static void
on_event(void *ctx, tn_t *tn, int ev, int opt, const char *data, size_t len)
{
    sink_t *s = ctx;
    if (ev == TN_EV_LINE) {
        s->lines++;
        FUZZ_CHECK(len <= MAX_LINE, "a line of %zu bytes passed max_line", len);
        FUZZ_CHECK(valid_line((const unsigned char *)data, len), "a line that is not clean UTF-8 reached the game");
    } else if (ev == TN_EV_NAWS) {
        FUZZ_CHECK(tn_him(tn, TELOPT_NAWS), "a NAWS size taken while NAWS is off");
        s->naws++;
    } else if (ev == TN_EV_GMCP) {
        FUZZ_CHECK(len <= MAX_SB, "a GMCP message of %zu bytes passed max_subnegotiation", len);
    }
}

static const tn_callbacks_t cbs = {on_send, on_event};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    sink_t sink = {0};
    tn_t tn;
    tn_init(&tn, &cbs, &sink, MAX_LINE, MAX_SB);
    /* the plugin's opening offers */
    tn_him_request(&tn, TELOPT_NAWS, 1);
    tn_him_request(&tn, TELOPT_TTYPE, 1);
    tn_us_request(&tn, TELOPT_CHARSET, 1);
    tn_us_request(&tn, TELOPT_GMCP, 1);
    tn_us_request(&tn, TELOPT_MSSP, 1);
    tn_us_request(&tn, TELOPT_MCCP2, 1);
    size_t offers = sink.sent;
    size_t piece = (data[0] % 16) + 1, i = 1;
    while (i < size) {
        size_t n = size - i < piece ? size - i : piece;
        FUZZ_CHECK(tn_feed(&tn, data + i, n) == n, "tn_feed stopped early");
        i += n;
        /* a password prompt in the middle, as a noecho frame would ask */
        if (data[0] & 0x80)
            tn_us_request(&tn, TELOPT_ECHO, (i / piece) & 1);
        FUZZ_CHECK(tn.line_cap <= MAX_LINE && tn.sb_cap <= MAX_SB, "a buffer grew past its limit");
    }
    /* Each received byte can draw at most a few bytes back (a CHARSET
     * answer is the largest: 10 bytes for its 6); negotiation answers are
     * bounded per option; ECHO toggles are ours. */
    size_t echo_toggles = (data[0] & 0x80) ? 3 * (size / piece + 1) : 0;
    FUZZ_CHECK(sink.sent <= offers + 2 * size + 3 * 4 * 256 * 2 + echo_toggles + 6 * 3,
               "sent %zu bytes for %zu received: amplification", sink.sent, size);
    FUZZ_CHECK(tn.width == 0 || sink.naws > 0, "a NAWS size without a NAWS subnegotiation");
    tn_free(&tn);
    return 0;
}
