/*
 * test_telnet_proto.c - the telnet plugin's protocol core (plugins/telnet/
 * telnet_proto.c): line assembly, option negotiation without loops (RFC
 * 1143), subnegotiation decoding and the limits, byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "telnet_proto.h"

typedef struct rec {
    unsigned char sent[65536];
    size_t nsent;
    char lines[16][256];
    size_t nlines;
    int events[64];
    int event_opts[64];
    size_t nevents;
    char gmcp[256];
} rec_t;

static void
on_send(void *ctx, const void *bytes, size_t len)
{
    rec_t *r = ctx;
    assert_true(r->nsent + len <= sizeof(r->sent));
    memcpy(r->sent + r->nsent, bytes, len);
    r->nsent += len;
}

static void
on_event(void *ctx, tn_t *tn, int ev, int opt, const char *data, size_t len)
{
    rec_t *r = ctx;
    if (r->nevents < 64) {
        r->events[r->nevents] = ev;
        r->event_opts[r->nevents++] = opt;
    }
    if (ev == TN_EV_LINE && r->nlines < 16) {
        snprintf(r->lines[r->nlines++], 256, "%.*s", (int)len, data);
    } else if (ev == TN_EV_GMCP) {
        snprintf(r->gmcp, sizeof(r->gmcp), "%.*s", (int)len, data);
    }
}

static const tn_callbacks_t cbs = {on_send, on_event};

typedef struct fixture {
    tn_t tn;
    rec_t r;
} fixture_t;

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    tn_init(&f->tn, &cbs, &f->r, 64, 32);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    tn_free(&f->tn);
    free(f);
    return 0;
}

static void
feed(fixture_t *f, const void *p, size_t len)
{
    assert_int_equal(tn_feed(&f->tn, p, len), len);
}

#define FEED(f, lit) feed(f, lit, sizeof(lit) - 1)

static int
has_event(const rec_t *r, int ev, int opt)
{
    for (size_t i = 0; i < r->nevents; i++)
        if (r->events[i] == ev && r->event_opts[i] == opt)
            return 1;
    return 0;
}

static void
line_ends_are_cr_lf_lf_cr_nul_or_cr(void **state)
{
    fixture_t *f = *state;
    FEED(f, "look\r\nnorth\nsouth\r\0east\rwest\r\n");
    assert_int_equal(f->r.nlines, 5);
    assert_string_equal(f->r.lines[0], "look");
    assert_string_equal(f->r.lines[1], "north");
    assert_string_equal(f->r.lines[2], "south");
    assert_string_equal(f->r.lines[3], "east");
    assert_string_equal(f->r.lines[4], "west");
}

static void
a_line_split_across_reads_is_one_line(void **state)
{
    fixture_t *f = *state;
    FEED(f, "lo");
    FEED(f, "ok\r");
    FEED(f, "\n");
    assert_int_equal(f->r.nlines, 1);
    assert_string_equal(f->r.lines[0], "look");
}

static void
controls_and_nul_never_reach_a_line_and_backspace_erases(void **state)
{
    fixture_t *f = *state;
    FEED(f, "lo\x1b[31mok\0x\bs\x7f\x7f!\r\n");
    assert_int_equal(f->r.nlines, 1);
    /* ESC dropped (its "[31m" stays as text), NUL dropped; BS erases "x", DEL "s" and then "k" */
    assert_string_equal(f->r.lines[0], "lo[31mo!");
}

static void
invalid_utf8_becomes_question_marks(void **state)
{
    fixture_t *f = *state;
    FEED(f, "caf\xe9 \xc3\xa9t\xc3\xa9 \xed\xa0\x80 \xc0\xaf\r\n");
    assert_int_equal(f->r.nlines, 1);
    assert_string_equal(f->r.lines[0], "caf? \xc3\xa9t\xc3\xa9 ??? ??");
}

static void
an_over_long_line_is_dropped_to_its_end_and_reported_once(void **state)
{
    fixture_t *f = *state;
    char big[300];
    memset(big, 'x', sizeof(big));
    feed(f, big, sizeof(big));
    feed(f, big, sizeof(big));
    FEED(f, "\r\nlook\r\n");
    assert_int_equal(f->r.nlines, 1);
    assert_string_equal(f->r.lines[0], "look");
    size_t reports = 0;
    for (size_t i = 0; i < f->r.nevents; i++)
        reports += f->r.events[i] == TN_EV_LINE_TOO_LONG;
    assert_int_equal(reports, 1);
    assert_true(f->tn.line_cap <= 64);
}

static void
iac_iac_in_data_is_a_255_byte_replaced_as_invalid_utf8(void **state)
{
    fixture_t *f = *state;
    FEED(f, "a\xff\xff"
            "b\r\n");
    assert_string_equal(f->r.lines[0], "a?b");
}

static void
an_unknown_option_is_refused_and_a_repeated_request_is_not_answered_forever(void **state)
{
    fixture_t *f = *state;
    /* DO 99, many times: WONT 99 a few times, then silence */
    for (int i = 0; i < 1000; i++)
        FEED(f, "\xff\xfd\x63");
    assert_true(f->r.nsent >= 3);
    assert_true(f->r.nsent <= 3 * 4);
    assert_memory_equal(f->r.sent, "\xff\xfc\x63", 3);
    assert_false(tn_us(&f->tn, 99));
    /* WILL 98: DONT */
    f->r.nsent = 0;
    FEED(f, "\xff\xfb\x62");
    assert_int_equal(f->r.nsent, 3);
    assert_memory_equal(f->r.sent, "\xff\xfe\x62", 3);
}

static void
our_offer_accepted_is_not_answered_again(void **state)
{
    fixture_t *f = *state;
    tn_us_request(&f->tn, TELOPT_GMCP, 1);
    assert_int_equal(f->r.nsent, 3);
    assert_memory_equal(f->r.sent, "\xff\xfb\xc9", 3);
    FEED(f, "\xff\xfd\xc9"); /* DO GMCP: agreed, nothing sent back (no loop) */
    assert_int_equal(f->r.nsent, 3);
    assert_true(tn_us(&f->tn, TELOPT_GMCP));
    assert_true(has_event(&f->r, TN_EV_US_ON, TELOPT_GMCP));
    FEED(f, "\xff\xfd\xc9"); /* again: already YES, ignored */
    assert_int_equal(f->r.nsent, 3);
    /* asking again while YES sends nothing either */
    tn_us_request(&f->tn, TELOPT_GMCP, 1);
    assert_int_equal(f->r.nsent, 3);
}

static void
our_offer_refused_stays_off_without_an_answer(void **state)
{
    fixture_t *f = *state;
    tn_us_request(&f->tn, TELOPT_MCCP2, 1);
    FEED(f, "\xff\xfe\x56"); /* DONT MCCP2 */
    assert_int_equal(f->r.nsent, 3);
    assert_false(tn_us(&f->tn, TELOPT_MCCP2));
    assert_false(has_event(&f->r, TN_EV_US_ON, TELOPT_MCCP2));
}

static void
echo_is_only_ours_when_we_ask_and_turns_off_cleanly(void **state)
{
    fixture_t *f = *state;
    FEED(f, "\xff\xfd\x01"); /* DO ECHO, unasked: refused */
    assert_memory_equal(f->r.sent, "\xff\xfc\x01", 3);
    f->r.nsent = 0;
    tn_us_request(&f->tn, TELOPT_ECHO, 1); /* a password prompt */
    assert_memory_equal(f->r.sent, "\xff\xfb\x01", 3);
    FEED(f, "\xff\xfd\x01");
    assert_true(tn_us(&f->tn, TELOPT_ECHO));
    tn_us_request(&f->tn, TELOPT_ECHO, 0);
    assert_memory_equal(f->r.sent + 3, "\xff\xfc\x01", 3);
    FEED(f, "\xff\xfe\x01"); /* DONT ECHO confirms: nothing more */
    assert_int_equal(f->r.nsent, 6);
    assert_false(tn_us(&f->tn, TELOPT_ECHO));
}

static void
wantno_with_opposite_queued_follows_rfc1143(void **state)
{
    fixture_t *f = *state;
    tn_us_request(&f->tn, TELOPT_GMCP, 1);
    FEED(f, "\xff\xfd\xc9");
    tn_us_request(&f->tn, TELOPT_GMCP, 0); /* WONT sent: WANTNO */
    tn_us_request(&f->tn, TELOPT_GMCP, 1); /* queued */
    assert_int_equal(f->r.nsent, 6);
    FEED(f, "\xff\xfe\xc9"); /* DONT: then WILL goes out for the queued request */
    assert_int_equal(f->r.nsent, 9);
    assert_memory_equal(f->r.sent + 6, "\xff\xfb\xc9", 3);
    FEED(f, "\xff\xfd\xc9");
    assert_true(tn_us(&f->tn, TELOPT_GMCP));
    assert_int_equal(f->r.nsent, 9);
}

static void
naws_and_ttype_and_mtts_are_read(void **state)
{
    fixture_t *f = *state;
    tn_him_request(&f->tn, TELOPT_NAWS, 1);
    tn_him_request(&f->tn, TELOPT_TTYPE, 1);
    FEED(f, "\xff\xfb\x1f\xff\xfa\x1f\x00\x78\x00\x28\xff\xf0");
    assert_int_equal(f->tn.width, 120);
    assert_int_equal(f->tn.height, 40);
    FEED(f, "\xff\xfb\x18");
    size_t before = f->r.nsent;
    FEED(f, "\xff\xfa\x18\x00MUDLET\xff\xf0");
    /* the next TTYPE SEND goes out (MTTS cycling) */
    assert_true(f->r.nsent > before);
    assert_memory_equal(f->r.sent + before, "\xff\xfa\x18\x01\xff\xf0", 6);
    FEED(f, "\xff\xfa\x18\x00XTERM-256COLOR\xff\xf0");
    FEED(f, "\xff\xfa\x18\x00MTTS 13\xff\xf0");
    assert_string_equal(f->tn.ttype[0], "MUDLET");
    assert_int_equal(f->tn.mtts, 13);
    assert_true(tn_client_ansi(&f->tn));
}

static void
ttype_of_a_dumb_terminal_means_no_colour(void **state)
{
    fixture_t *f = *state;
    tn_him_request(&f->tn, TELOPT_TTYPE, 1);
    FEED(f, "\xff\xfb\x18\xff\xfa\x18\x00"
            "DUMB\xff\xf0\xff\xfa\x18\x00"
            "DUMB\xff\xf0");
    assert_int_equal(f->tn.ttype_cycle, 1);
    assert_false(tn_client_ansi(&f->tn));
}

static void
a_subnegotiation_for_an_option_not_agreed_is_ignored(void **state)
{
    fixture_t *f = *state;
    FEED(f, "\xff\xfa\x1f\x00\x78\x00\x28\xff\xf0");
    assert_int_equal(f->tn.width, 0);
    FEED(f, "\xff\xfa\xc9"
            "Core.Hello {}\xff\xf0");
    assert_string_equal(f->r.gmcp, "");
}

static void
gmcp_messages_arrive_whole_with_iac_unescaped(void **state)
{
    fixture_t *f = *state;
    tn_us_request(&f->tn, TELOPT_GMCP, 1);
    FEED(f, "\xff\xfd\xc9\xff\xfa\xc9"
            "Core.Hello {\"client\":\"x\xff\xffy\"}\xff\xf0");
    assert_string_equal(f->r.gmcp, "Core.Hello {\"client\":\"x\xffy\"}");
}

static void
an_over_long_subnegotiation_is_dropped_and_bounded(void **state)
{
    fixture_t *f = *state;
    tn_us_request(&f->tn, TELOPT_GMCP, 1);
    FEED(f, "\xff\xfd\xc9\xff\xfa\xc9");
    char big[4096];
    memset(big, 'a', sizeof(big));
    for (int i = 0; i < 256; i++) /* 1 MiB */
        feed(f, big, sizeof(big));
    FEED(f, "\xff\xf0look\r\n");
    assert_string_equal(f->r.gmcp, "");
    assert_true(has_event(&f->r, TN_EV_SB_TOO_LONG, TELOPT_GMCP));
    assert_true(f->tn.sb_cap <= 32);
    assert_int_equal(f->r.nlines, 1);
    assert_string_equal(f->r.lines[0], "look");
}

static void
a_subnegotiation_missing_its_se_ends_at_the_next_command(void **state)
{
    fixture_t *f = *state;
    tn_him_request(&f->tn, TELOPT_NAWS, 1);
    FEED(f, "\xff\xfb\x1f\xff\xfa\x1f\x00\x50\xff\xfd\x63look\r\n");
    assert_int_equal(f->tn.width, 0);
    assert_int_equal(f->r.nlines, 1);
    assert_string_equal(f->r.lines[0], "look");
}

static void
charset_request_from_the_client_is_answered(void **state)
{
    fixture_t *f = *state;
    FEED(f, "\xff\xfb\x2a"); /* WILL CHARSET: agreed */
    size_t before = f->r.nsent;
    FEED(f, "\xff\xfa\x2a\x01;ISO-8859-1;UTF-8\xff\xf0");
    assert_true(f->tn.utf8);
    assert_memory_equal(f->r.sent + before, "\xff\xfa\x2a\x02UTF-8\xff\xf0", 10);
}

static void
sent_subnegotiations_double_iac(void **state)
{
    fixture_t *f = *state;
    tn_send_sb(&f->tn, TELOPT_GMCP,
               "a\xff"
               "b",
               3);
    assert_int_equal(f->r.nsent, 3 + 4 + 2);
    assert_memory_equal(f->r.sent,
                        "\xff\xfa\xc9"
                        "a\xff\xff"
                        "b\xff\xf0",
                        9);
}

static void
stop_from_an_event_stops_the_feed(void **state)
{
    fixture_t *f = *state;
    tn_stop(&f->tn);
    assert_int_equal(tn_feed(&f->tn, "look\r\n", 6), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(line_ends_are_cr_lf_lf_cr_nul_or_cr),
        T(a_line_split_across_reads_is_one_line),
        T(controls_and_nul_never_reach_a_line_and_backspace_erases),
        T(invalid_utf8_becomes_question_marks),
        T(an_over_long_line_is_dropped_to_its_end_and_reported_once),
        T(iac_iac_in_data_is_a_255_byte_replaced_as_invalid_utf8),
        T(an_unknown_option_is_refused_and_a_repeated_request_is_not_answered_forever),
        T(our_offer_accepted_is_not_answered_again),
        T(our_offer_refused_stays_off_without_an_answer),
        T(echo_is_only_ours_when_we_ask_and_turns_off_cleanly),
        T(wantno_with_opposite_queued_follows_rfc1143),
        T(naws_and_ttype_and_mtts_are_read),
        T(ttype_of_a_dumb_terminal_means_no_colour),
        T(a_subnegotiation_for_an_option_not_agreed_is_ignored),
        T(gmcp_messages_arrive_whole_with_iac_unescaped),
        T(an_over_long_subnegotiation_is_dropped_and_bounded),
        T(a_subnegotiation_missing_its_se_ends_at_the_next_command),
        T(charset_request_from_the_client_is_answered),
        T(sent_subnegotiations_double_iac),
        T(stop_from_an_event_stops_the_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
