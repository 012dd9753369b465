/*
 * test_ws_deflate.c - permessage-deflate in the ws plugin (plugins/ws/deflate.c)
 * without a socket: which offers are taken and how they are answered, and
 * that what we compress inflates (with zlib directly, as a client would) to
 * the message, with and without context takeover, and that inflating stops
 * at the bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "deflate.h"

static const ws_deflate_conf_t DEFAULT_CONF = {1, 10, 1};

static const char *
answer(const char *offer, const ws_deflate_conf_t *conf, char *buf)
{
    ws_deflate_params_t prm;
    if (!ws_deflate_negotiate(offer, strlen(offer), conf, &prm)) {
        assert_int_equal(prm.on, 0);
        return "";
    }
    ws_deflate_response(&prm, buf, WS_DEFLATE_RESPONSE_MAX);
    return buf;
}

static void
offers_are_parsed_and_answered(void **unused)
{
    static const struct {
        const char *offer, *answer;
    } cases[] = {
        {"permessage-deflate",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
        {"PerMessage-Deflate ;\tclient_max_window_bits",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
        {"permessage-deflate; server_max_window_bits=9",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9"},
        {"permessage-deflate; server_max_window_bits=15",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
        {"permessage-deflate; server_max_window_bits=\"12\"",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
        {"permessage-deflate; server_max_window_bits=\"1\\2\"",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
        {"permessage-deflate; unknown", ""},
        {"permessage-deflate; client_max_window_bits=7", ""},
        {"permessage-deflate; client_max_window_bits=100", ""},
        {"permessage-deflate; client_max_window_bits; client_max_window_bits", ""},
        {"permessage-deflate; client_no_context_takeover=yes", ""},
        {"permessage-deflate; server_max_window_bits=\"123456789012\"", ""},
        {"permessage-deflate; server_max_window_bits=", ""},
        {"permessage-deflate server_max_window_bits", ""},
        {"permessage-deflate; x, permessage-deflate; server_max_window_bits=9",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9"},
        {"a; b=\"x,\\\"y\", permessage-deflate",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
        {"", ""},
        {",,,", ""},
        {"\"", ""},
    };
    char buf[WS_DEFLATE_RESPONSE_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i)
        if (strcmp(answer(cases[i].offer, &DEFAULT_CONF, buf), cases[i].answer) != 0)
            fail_msg("offer '%s': answered '%s', want '%s'", cases[i].offer, buf, cases[i].answer);

    ws_deflate_conf_t off = DEFAULT_CONF;
    off.enabled = 0;
    assert_string_equal(answer("permessage-deflate", &off, buf), "");

    /* context takeover allowed: echo what the client asks, bound its window if it lets us */
    ws_deflate_conf_t keep = {1, 11, 0};
    assert_string_equal(answer("permessage-deflate", &keep, buf), "permessage-deflate; server_max_window_bits=11");
    assert_string_equal(answer("permessage-deflate; client_max_window_bits", &keep, buf),
                        "permessage-deflate; server_max_window_bits=11; client_max_window_bits=11");
    assert_string_equal(answer("permessage-deflate; client_max_window_bits=9; server_no_context_takeover", &keep, buf),
                        "permessage-deflate; server_no_context_takeover; server_max_window_bits=11; client_max_window_bits=9");
}

/* What a client does with a compressed message: append the tail, inflate with its own stream. */
static size_t
client_inflate(z_stream *z, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
    uint8_t *joined = malloc(len + 4);
    memcpy(joined, in, len);
    memcpy(joined + len, tail, 4);
    z->next_in = joined;
    z->avail_in = (uInt)(len + 4);
    z->next_out = out;
    z->avail_out = (uInt)cap;
    assert_int_equal(inflate(z, Z_SYNC_FLUSH), Z_OK);
    assert_int_equal(z->avail_in, 0);
    free(joined);
    return cap - z->avail_out;
}

/* A message like the host's frames: JSON with repeated keys and HTML. */
static size_t
make_frame(char *buf, size_t cap, int n)
{
    return (size_t)snprintf(buf, cap,
                            "{\"type\":\"text\",\"seq\":%d,\"text\":\"<p>You are on the jetty. Gulls wheel over the "
                            "harbour; the lighthouse stands to the north (%d).</p>\\n\",\"special\":[],\"location\":"
                            "\"The Jetty\",\"exits\":\"north, east\"}",
                            n, n * 7);
}

static void
round_trip(const ws_deflate_params_t *prm)
{
    ws_deflate_t *d = ws_deflate_new();
    ws_deflate_conn_t conn = {0}, peer = {0};
    z_stream client;
    memset(&client, 0, sizeof(client));
    assert_int_equal(inflateInit2(&client, -prm->server_bits), Z_OK);
    size_t first_len = 0, later_len = 0;
    for (int i = 0; i < 20; i++) {
        char msg[512];
        uint8_t back[1024];
        size_t len = make_frame(msg, sizeof(msg), i), clen, blen;
        const uint8_t *c;
        assert_int_equal(ws_deflate_compress(d, &conn, prm, (const uint8_t *)msg, len, &c, &clen), 1);
        assert_true(clen < len);
        if (i == 0)
            first_len = clen;
        else
            later_len = clen;
        blen = client_inflate(&client, c, clen, back, sizeof(back));
        assert_int_equal(blen, len);
        assert_memory_equal(back, msg, len);
        if (prm->server_no_takeover)
            inflateReset(&client); /* the client may; it need not */

        /* and the other way: our inflate, as the peer of a connection like
         * ours (its own stream when contexts are kept), reads what we made */
        const uint8_t *text;
        size_t tlen;
        ws_deflate_params_t self = *prm;
        self.client_no_takeover = prm->server_no_takeover;
        self.client_bits = prm->server_bits;
        uint8_t copy[1024];
        memcpy(copy, c, clen);
        assert_int_equal(ws_deflate_inflate(d, &peer, &self, copy, clen, 1024, &text, &tlen), WS_INFLATE_OK);
        assert_int_equal(tlen, len);
        assert_memory_equal(text, msg, len);
    }
    /* with context takeover a later frame refers back to earlier ones */
    if (!prm->server_no_takeover)
        assert_true(later_len < first_len / 2);
    else
        assert_true(later_len > first_len / 2);
    inflateEnd(&client);
    assert_int_equal(conn.tx != NULL, !prm->server_no_takeover);
    assert_int_equal(peer.rx != NULL, !prm->server_no_takeover);
    ws_deflate_conn_release(&conn);
    ws_deflate_conn_release(&peer);
    ws_deflate_free(d);
}

static void
compressed_messages_inflate_back(void **unused)
{
    ws_deflate_params_t shared = {1, 10, 15, 1, 1};
    ws_deflate_params_t keep = {1, 12, 15, 0, 0};
    round_trip(&shared);
    round_trip(&keep);
}

static void
short_or_incompressible_messages_go_plain(void **unused)
{
    ws_deflate_t *d = ws_deflate_new();
    ws_deflate_conn_t conn = {0};
    ws_deflate_params_t prm = {1, 10, 15, 1, 1};
    const uint8_t *c;
    size_t clen;
    uint8_t noise[300];
    assert_int_equal(ws_deflate_compress(d, &conn, &prm, (const uint8_t *)"{\"type\":\"connected\"}", 20, &c, &clen), 0);
    srand(7);
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (uint8_t)rand();
    assert_int_equal(ws_deflate_compress(d, &conn, &prm, noise, sizeof(noise), &c, &clen), 0);
    ws_deflate_free(d);
}

/* A broadcast goes to player after player: the shared stream's result is
 * reused for the same bytes, and never for other bytes, another window or
 * after a connection's own stream wrote the buffer. */
static void
a_broadcast_reuses_the_shared_result_only_when_it_applies(void **unused)
{
    ws_deflate_t *d = ws_deflate_new();
    ws_deflate_conn_t conn = {0};
    ws_deflate_params_t shared = {1, 10, 15, 1, 1}, shared12 = {1, 12, 15, 1, 1}, keep = {1, 10, 15, 0, 0};
    char a[512], b[512];
    size_t alen = make_frame(a, sizeof(a), 1), blen = make_frame(b, sizeof(b), 2);
    uint8_t first[1024], back[1024];
    const uint8_t *c;
    size_t clen, flen;
    assert_int_equal(ws_deflate_compress(d, &conn, &shared, (const uint8_t *)a, alen, &c, &flen), 1);
    memcpy(first, c, flen);
    const ws_deflate_params_t *order[] = {&shared, &keep, &shared, &shared12, &shared};
    const char *msgs[] = {a, a, b, a, a};
    for (size_t i = 0; i < 5; i++) {
        size_t len = msgs[i] == a ? alen : blen;
        assert_int_equal(ws_deflate_compress(d, &conn, order[i], (const uint8_t *)msgs[i], len, &c, &clen), 1);
        if (order[i] == &shared && msgs[i] == a) {
            assert_int_equal(clen, flen);
            assert_memory_equal(c, first, flen);
        }
        if (order[i] != &keep) { /* each on its own inflates back to its message */
            z_stream z;
            memset(&z, 0, sizeof(z));
            assert_int_equal(inflateInit2(&z, -15), Z_OK);
            assert_int_equal(client_inflate(&z, c, clen, back, sizeof(back)), len);
            assert_memory_equal(back, msgs[i], len);
            inflateEnd(&z);
        }
    }
    ws_deflate_conn_release(&conn);
    ws_deflate_free(d);
}

/* Deflate `len` bytes of `fill` the way a client would (tail stripped). */
static uint8_t *
client_deflate(size_t len, uint8_t fill, size_t *outlen)
{
    uint8_t *in = malloc(len);
    memset(in, fill, len);
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len) + 16;
    uint8_t *out = malloc(cap);
    z.next_in = in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
    *outlen = cap - z.avail_out - 4;
    deflateEnd(&z);
    free(in);
    return out;
}

static void
inflating_stops_at_the_bound(void **unused)
{
    ws_deflate_t *d = ws_deflate_new();
    ws_deflate_conn_t conn = {0};
    ws_deflate_params_t prm = {1, 10, 15, 1, 1};
    const uint8_t *text;
    size_t len, tlen;
    uint8_t *bomb = client_deflate(16u << 20, 'a', &len);
    assert_true(len < 32 * 1024);
    assert_int_equal(ws_deflate_inflate(d, &conn, &prm, bomb, len, 65536, &text, &tlen), WS_INFLATE_TOO_BIG);
    free(bomb);
    /* exactly at the bound is fine; one byte more is not */
    uint8_t *at = client_deflate(65536, 'b', &len);
    assert_int_equal(ws_deflate_inflate(d, &conn, &prm, at, len, 65536, &text, &tlen), WS_INFLATE_OK);
    assert_int_equal(tlen, 65536);
    assert_int_equal(ws_deflate_inflate(d, &conn, &prm, at, len, 65535, &text, &tlen), WS_INFLATE_TOO_BIG);
    free(at);
    /* the shared stream is sound after each of those */
    uint8_t *small = client_deflate(100, 'c', &len);
    assert_int_equal(ws_deflate_inflate(d, &conn, &prm, small, len, 65536, &text, &tlen), WS_INFLATE_OK);
    assert_int_equal(tlen, 100);
    assert_int_equal(text[99], 'c');
    /* not deflate data, and data that ends inside a block */
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x12};
    assert_int_equal(ws_deflate_inflate(d, &conn, &prm, junk, sizeof(junk), 65536, &text, &tlen), WS_INFLATE_BAD);
    assert_int_equal(ws_deflate_inflate(d, &conn, &prm, small, len, 65536, &text, &tlen), WS_INFLATE_OK);
    free(small);
    /* an empty compressed message (RFC 7692, 7.2.3.6: the single byte 0x00) */
    static const uint8_t empty[] = {0x00};
    assert_int_equal(ws_deflate_inflate(d, &conn, &prm, empty, sizeof(empty), 65536, &text, &tlen), WS_INFLATE_OK);
    assert_int_equal(tlen, 0);
    ws_deflate_free(d);
}

/* Any header value, however broken, is answered or declined without
 * reading past it; an answer is one we would accept again if offered, and
 * any bytes at all inflate to OK, TOO_BIG or BAD within the bound. */
static void
arbitrary_input_stays_within_bounds(void **unused)
{
    static const char alphabet[] = "permessage-deflate;,= \t\"\\_0123456789client_max_window_bitsserver_no_context_takeover";
    ws_deflate_t *d = ws_deflate_new();
    ws_deflate_conn_t conn = {0};
    ws_deflate_params_t prm = {1, 10, 15, 1, 1};
    unsigned seed = 17;
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)(rand_r(&seed) % 80);
        char *v = malloc(len + 1); /* exact size: ASan sees a read past it */
        for (size_t k = 0; k < len; k++)
            v[k] = i % 4 == 0 ? (char)rand_r(&seed) : alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
        ws_deflate_params_t got;
        if (ws_deflate_negotiate(v, len, &DEFAULT_CONF, &got)) {
            char ans[WS_DEFLATE_RESPONSE_MAX];
            ws_deflate_params_t again;
            size_t n = ws_deflate_response(&got, ans, sizeof(ans));
            assert_true(n > 0 && n < sizeof(ans));
            assert_true(ws_deflate_negotiate(ans, n, &DEFAULT_CONF, &again));
            assert_true(got.server_bits >= WS_DEFLATE_MIN_BITS && got.server_bits <= 10);
        }
        const uint8_t *out;
        size_t outlen;
        ws_inflate_result_t r = ws_deflate_inflate(d, &conn, &prm, (const uint8_t *)v, len, 1000, &out, &outlen);
        assert_true(r == WS_INFLATE_OK || r == WS_INFLATE_TOO_BIG || r == WS_INFLATE_BAD);
        if (r == WS_INFLATE_OK)
            assert_true(outlen <= 1000);
        free(v);
    }
    ws_deflate_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offers_are_parsed_and_answered),
        cmocka_unit_test(compressed_messages_inflate_back),
        cmocka_unit_test(short_or_incompressible_messages_go_plain),
        cmocka_unit_test(a_broadcast_reuses_the_shared_result_only_when_it_applies),
        cmocka_unit_test(inflating_stops_at_the_bound),
        cmocka_unit_test(arbitrary_input_stays_within_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
