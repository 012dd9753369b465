/*
 * test_ws_frame_scan.c - the ws plugin's frame-header scanner (ws_scan_feed
 * in plugins/ws/proto.c), with no socket: which headers it refuses, with
 * which close code, how many bytes it lets through first, and that where a
 * read splits the stream changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proto.h"

#define MAX_MESSAGE 65536

/* Append a client frame: header byte b0, a payload length in its shortest
 * form (or the form `form` asks for: 0 shortest, 2 or 8 bytes), a mask key,
 * and `paylen` payload bytes of `fill` when paylen is not 0.  Returns the new
 * end.  `declared` is what the header says; paylen what is actually sent. */
static size_t
put_frame(uint8_t *buf, size_t off, uint8_t b0, uint64_t declared, int form, size_t paylen, uint8_t fill)
{
    buf[off++] = b0;
    if (form == 0)
        form = declared < 126 ? 1 : declared < 65536 ? 2 : 8;
    if (form == 1) {
        buf[off++] = (uint8_t)(0x80 | declared);
    } else {
        buf[off++] = (uint8_t)(0x80 | (form == 2 ? 126 : 127));
        for (int i = form - 1; i >= 0; --i)
            buf[off++] = (uint8_t)(declared >> (8 * i));
    }
    memset(buf + off, 0, 4); /* mask key */
    off += 4;
    memset(buf + off, fill, paylen);
    return off + paylen;
}

/* Feed `len` bytes in reads of `step` bytes; returns the bytes let through. */
static size_t
feed_in_steps(ws_scan_t *s, const uint8_t *data, size_t len, size_t step)
{
    size_t passed = 0, off = 0;
    while (off < len) {
        size_t n = len - off < step ? len - off : step;
        size_t got = ws_scan_feed(s, data + off, n);
        assert_true(got <= n);
        passed += got;
        if (got < n)
            break; /* refused: the rest is never offered again */
        off += n;
    }
    return passed;
}

static uint8_t stream[3 * 70000];

/* Valid traffic passes whole, however the reads split it: a fragmented text
 * message with a ping and a pong between its fragments, 16- and 64-bit
 * lengths, a message of exactly max_message in two fragments, a 125-byte
 * ping, and a close with a code and a reason.  Payload bytes that look like
 * headers are never read as headers. */
static void
valid_stream_passes_whole_at_any_split(void **unused)
{
    size_t len = 0;
    len = put_frame(stream, len, 0x01, 10, 0, 10, 0xff);   /* text, FIN clear */
    len = put_frame(stream, len, 0x89, 125, 0, 125, 0x88); /* ping inside the message */
    len = put_frame(stream, len, 0x8a, 0, 0, 0, 0);        /* pong inside the message */
    len = put_frame(stream, len, 0x80, 300, 0, 300, 0x7f); /* last continuation, 16-bit length */
    len = put_frame(stream, len, 0x02, 60000, 0, 60000, 0x81);
    len = put_frame(stream, len, 0x80, MAX_MESSAGE - 60000, 0, MAX_MESSAGE - 60000, 0x08); /* exactly max_message */
    len = put_frame(stream, len, 0x81, 0, 0, 0, 0);                                        /* empty text */
    len = put_frame(stream, len, 0x88, 5, 0, 5, 0x03);                                     /* close with code and reason */
    static const size_t steps[] = {1, 2, 3, 7, 14, 4096, sizeof(stream)};
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); ++k) {
        ws_scan_t s;
        ws_scan_init(&s, MAX_MESSAGE);
        assert_int_equal(feed_in_steps(&s, stream, len, steps[k]), len);
        assert_int_equal(s.code, 0);
        assert_null(s.reason);
    }
}

typedef struct refusal {
    const char *name;
    int code;
    const char *reason;
} refusal_t;

/* Build case `i` into stream after a valid text frame (so the bytes before
 * the refused header must pass); returns its length, and in *before the
 * bytes that may pass (up to the byte that decides). */
static size_t
build_case(int i, size_t *before, refusal_t *want)
{
    static const refusal_t cases[] = {
        {"ping over 125 bytes", 1002, "control frame payload over 125 bytes"},
        {"close of 126 bytes", 1002, "control frame payload over 125 bytes"},
        {"fragmented ping", 1002, "fragmented control frame"},
        {"fragmented pong", 1002, "fragmented control frame"},
        {"1-byte close", 1002, "close frame with a 1-byte payload"},
        {"64-bit length with its top bit set", 1002, "payload length with the most significant bit set"},
        {"16-bit form for 5 bytes", 1002, "payload length not in its shortest form"},
        {"64-bit form for 300 bytes", 1002, "payload length not in its shortest form"},
        {"unmasked frame", 1002, "client frame not masked"},
        {"RSV1", 1002, "reserved bits set without a negotiated extension"},
        {"opcode 3", 1002, "reserved opcode"},
        {"opcode 0xB", 1002, "reserved opcode"},
        {"continuation without a message", 1002, "continuation frame without a message to continue"},
        {"text inside a fragmented message", 1002, "new data message inside a fragmented one"},
        {"2^63-1 header", 1009, "message too big"},
        {"max_message + 1 header", 1009, "message too big"},
        {"fragments past max_message", 1009, "message too big"},
    };
    if (i >= (int)(sizeof(cases) / sizeof(cases[0])))
        return 0;
    *want = cases[i];
    size_t len = put_frame(stream, 0, 0x81, 4, 0, 4, 'l');
    switch (i) {
    case 0:
        *before = len + 1; /* the length byte decides */
        return put_frame(stream, len, 0x89, 126, 0, 126, 0);
    case 1:
        *before = len + 1;
        return put_frame(stream, len, 0x88, 126, 0, 0, 0);
    case 2:
        *before = len;
        return put_frame(stream, len, 0x09, 2, 0, 2, 0);
    case 3:
        *before = len;
        return put_frame(stream, len, 0x0a, 0, 0, 0, 0);
    case 4:
        *before = len + 1;
        return put_frame(stream, len, 0x88, 1, 0, 1, 3);
    case 5:
        *before = len + 2; /* the first extended-length byte decides */
        return put_frame(stream, len, 0x81, UINT64_C(1) << 63, 0, 0, 0);
    case 6:
        *before = len + 3;
        return put_frame(stream, len, 0x81, 5, 2, 5, 'x');
    case 7:
        *before = len + 9;
        return put_frame(stream, len, 0x81, 300, 8, 300, 'x');
    case 8:
        *before = len + 1;
        len = put_frame(stream, len, 0x81, 4, 0, 0, 0);
        stream[*before] &= 0x7f; /* clear MASK */
        return len;
    case 9:
        *before = len;
        return put_frame(stream, len, 0xc1, 4, 0, 4, 'x');
    case 10:
        *before = len;
        return put_frame(stream, len, 0x83, 4, 0, 4, 'x');
    case 11:
        *before = len;
        return put_frame(stream, len, 0x8b, 0, 0, 0, 0);
    case 12:
        *before = len;
        return put_frame(stream, len, 0x80, 4, 0, 4, 'x');
    case 13:
        len = put_frame(stream, len, 0x01, 2, 0, 2, 'l');
        *before = len;
        return put_frame(stream, len, 0x81, 2, 0, 2, 'k');
    case 14:
        *before = len + 9; /* the last length byte decides; no payload follows */
        return put_frame(stream, len, 0x81, (UINT64_C(1) << 63) - 1, 0, 0, 0);
    case 15:
        *before = len + 9;
        return put_frame(stream, len, 0x81, MAX_MESSAGE + 1, 0, 0, 0);
    default:
        len = put_frame(stream, len, 0x01, 40000, 0, 40000, '(');
        len = put_frame(stream, len, 0x89, 3, 0, 3, 0); /* a ping does not count */
        *before = len + 3;
        return put_frame(stream, len, 0x00, MAX_MESSAGE - 40000 + 1, 0, 0, 0);
    }
}

/* Each broken or oversized header is refused with its code and reason as
 * soon as the byte that decides it is in (no payload needed), after letting
 * through every byte before that one, whatever the reads' sizes; later reads
 * get nothing through. */
static void
refused_headers_get_their_code_before_any_payload(void **unused)
{
    refusal_t want;
    size_t before = 0, len;
    for (int i = 0; (len = build_case(i, &before, &want)) != 0; ++i) {
        static const size_t steps[] = {1, 5, 4096, sizeof(stream)};
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); ++k) {
            ws_scan_t s;
            ws_scan_init(&s, MAX_MESSAGE);
            size_t passed = feed_in_steps(&s, stream, len, steps[k]);
            if (passed != before || s.code != want.code || s.reason == NULL || strcmp(s.reason, want.reason) != 0)
                fail_msg("%s (reads of %zu): passed %zu of %zu (want %zu), code %d (want %d), reason %s", want.name, steps[k],
                         passed, len, before, s.code, want.code, s.reason != NULL ? s.reason : "(none)");
            assert_int_equal(ws_scan_feed(&s, stream, len), 0);
            assert_int_equal(s.code, want.code);
        }
    }
}

/* A smaller max_message counts every fragment; a message that ends resets
 * the count for the next one. */
static void
max_message_counts_fragments_and_resets_per_message(void **unused)
{
    ws_scan_t s;
    size_t len = 0;
    ws_scan_init(&s, 100);
    len = put_frame(stream, len, 0x01, 60, 0, 60, 'a');
    len = put_frame(stream, len, 0x80, 40, 0, 40, 'b'); /* 100: at the limit */
    len = put_frame(stream, len, 0x81, 100, 0, 100, 'c');
    assert_int_equal(ws_scan_feed(&s, stream, len), len);
    assert_int_equal(s.code, 0);
    size_t ok = len;
    len = put_frame(stream, len, 0x01, 40, 0, 40, 'a');
    len = put_frame(stream, len, 0x00, 40, 0, 40, 'b');
    len = put_frame(stream, len, 0x80, 21, 0, 21, 'c'); /* 101 */
    assert_int_equal(ws_scan_feed(&s, stream + ok, len - ok), 2 * (40 + 6) + 1);
    assert_int_equal(s.code, 1009);
}

/* The ws plugin frees an idle connection's wslay context only at a message
 * boundary: fed a byte at a time, the scanner reports one exactly where a
 * frame that completes a message (or a control frame outside a message)
 * ends, never inside a frame or between the fragments of a message, and
 * never once it has refused the stream. */
static void
message_boundary_only_between_whole_messages(void **unused)
{
    size_t ends[8], len = 0;
    int whole[8], n = 0;
    ws_scan_t s;
    ws_scan_init(&s, MAX_MESSAGE);
    assert_true(ws_scan_at_message_boundary(&s));
#define FRAME(b0, paylen, is_whole)                                                                                                \
    do {                                                                                                                           \
        len = put_frame(stream, len, (b0), (paylen), 0, (paylen), 0x81);                                                           \
        ends[n] = len;                                                                                                             \
        whole[n++] = (is_whole);                                                                                                   \
    } while (0)
    FRAME(0x01, 10, 0);  /* text, FIN clear: a message opens */
    FRAME(0x89, 3, 0);   /* ping inside it: still open */
    FRAME(0x80, 300, 1); /* last continuation: whole */
    FRAME(0x89, 0, 1);   /* ping between messages */
    FRAME(0x81, 200, 1); /* text in one frame */
    FRAME(0x02, 70, 0);  /* binary, FIN clear */
    FRAME(0x80, 0, 1);   /* empty last continuation */
    FRAME(0x88, 2, 1);   /* close */
#undef FRAME
    int k = 0;
    for (size_t off = 0; off < len; ++off) {
        assert_int_equal(ws_scan_feed(&s, stream + off, 1), 1);
        int at_end = k < n && off + 1 == ends[k];
        if (ws_scan_at_message_boundary(&s) != (at_end && whole[k]))
            fail_msg("after byte %zu: boundary %d, want %d", off + 1, ws_scan_at_message_boundary(&s), at_end && whole[k]);
        if (at_end)
            ++k;
    }
    put_frame(stream, 0, 0x91, 1, 0, 1, 0); /* RSV1 set: refused */
    assert_int_equal(ws_scan_feed(&s, stream, 7), 0);
    assert_int_not_equal(s.code, 0);
    assert_false(ws_scan_at_message_boundary(&s));
}

/* With permessage-deflate negotiated, RSV1 marks a message's first frame
 * (text or binary, fragmented or not) and nothing else: a continuation or a
 * control frame with it is refused, and so are RSV2 and RSV3 still. */
static void
rsv1_marks_first_frames_only_once_negotiated(void **unused)
{
    static const struct {
        uint8_t first, second; /* two frames; second 0: none */
        const char *reason;    /* NULL: both pass */
    } cases[] = {
        {0xc1, 0, NULL},                                               /* compressed text */
        {0xc2, 0, NULL},                                               /* compressed binary */
        {0x41, 0x80, NULL},                                            /* compressed, fragmented */
        {0x41, 0xc0, "RSV1 set on a continuation or control frame"},   /* RSV1 again on the continuation */
        {0xc9, 0, "RSV1 set on a continuation or control frame"},      /* ping */
        {0xc8, 0, "RSV1 set on a continuation or control frame"},      /* close */
        {0xa1, 0, "reserved bits set without a negotiated extension"}, /* RSV2 */
        {0xd1, 0, "reserved bits set without a negotiated extension"}, /* RSV1 + RSV3 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        ws_scan_t s;
        size_t len = put_frame(stream, 0, cases[i].first, 3, 0, 3, 'x');
        if (cases[i].second != 0)
            len = put_frame(stream, len, cases[i].second, 3, 0, 3, 'y');
        ws_scan_init(&s, MAX_MESSAGE);
        ws_scan_allow_rsv1(&s);
        size_t passed = ws_scan_feed(&s, stream, len);
        if (cases[i].reason == NULL) {
            assert_int_equal(passed, len);
            assert_int_equal(s.code, 0);
        } else {
            assert_int_equal(s.code, 1002);
            assert_string_equal(s.reason, cases[i].reason);
        }
    }
    /* not negotiated: RSV1 alone is refused */
    ws_scan_t s;
    ws_scan_init(&s, MAX_MESSAGE);
    assert_int_equal(ws_scan_feed(&s, stream, put_frame(stream, 0, 0xc1, 3, 0, 3, 'x')), 0);
    assert_int_equal(s.code, 1002);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_stream_passes_whole_at_any_split),
        cmocka_unit_test(refused_headers_get_their_code_before_any_payload),
        cmocka_unit_test(max_message_counts_fragments_and_resets_per_message),
        cmocka_unit_test(message_boundary_only_between_whole_messages),
        cmocka_unit_test(rsv1_marks_first_frames_only_once_negotiated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
