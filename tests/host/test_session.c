/*
 * test_session.c - the session layer against a fake engine: seq stamping,
 * the bounded backlog, resume, take-over, IF seat vs MUD seats, cookies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"

typedef struct rec_conn {
    uint64_t seqs[4096];
    size_t n;
    char last[1024];
    int closed_code;
    char closed_reason[256];
} rec_conn_t;

static int
rec_send(void *c, const tale_frame_t *f)
{
    rec_conn_t *rc = c;
    if (rc->n < 4096)
        rc->seqs[rc->n++] = f->seq;
    snprintf(rc->last, sizeof(rc->last), "%.*s", (int)f->len, f->json);
    return 0;
}

static void
rec_close(void *c, int code, const char *reason)
{
    rec_conn_t *rc = c;
    rc->closed_code = code;
    snprintf(rc->closed_reason, sizeof(rc->closed_reason), "%s", reason);
}

static const tale_player_io_t rec_io = {sizeof(tale_player_io_t), rec_send, rec_close, NULL};

/* Connections live in the fixture: teardown closes whatever is still
 * attached, after the test function's stack is gone. */
typedef struct fixture {
    tale_config_t cfg;
    tale_host_t host;
    rec_conn_t conns[2];
} fixture_t;

static int
setup_mode(void **state, int mode)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->cfg.mode = mode;
    f->cfg.tick_ms = 1000;
    f->cfg.limits.session_backlog = 4096;
    f->cfg.limits.max_sessions = 3;
    f->cfg.limits.session_idle_ms = 1000;
    f->cfg.limits.max_input = 64;
    f->cfg.limits.input_rate = 10;
    f->cfg.limits.input_burst = 5;
    f->host.cfg = &f->cfg;
    f->host.loop = h2o_evloop_create();
    f->host.world = tale_world_load("x", NULL, NULL, 0);
    f->host.sessions = tale_sessions_new(&f->host);
    *state = f;
    return 0;
}

static int
setup_if(void **state)
{
    return setup_mode(state, TALE_MODE_IF);
}

static int
setup_mud(void **state)
{
    return setup_mode(state, TALE_MODE_MUD);
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    tale_sessions_free(f->host.sessions, TALE_CLOSE_GOING_AWAY, "bye");
    tale_world_free(f->host.world);
    h2o_evloop_destroy(f->host.loop);
    free(f);
    return 0;
}

static tale_session_t *
new_session(fixture_t *f, char *cookie_out)
{
    char set_cookie[TALE_SET_COOKIE_MAX];
    tale_session_t *s = tale_session_get(f->host.sessions, NULL, 0, TALE_SESSION_CREATE, set_cookie);
    assert_non_null(s);
    if (cookie_out != NULL) {
        /* turn "tale_session=TOKEN; Path=/..." into a Cookie header value */
        char *semi = strchr(set_cookie, ';');
        assert_non_null(semi);
        *semi = '\0';
        strcpy(cookie_out, set_cookie);
    }
    return s;
}

static void
frames_are_stamped_with_consecutive_seqs(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    assert_int_equal(tale_session_attach(s, &rec_io, c, 0), 0);
    assert_int_equal(c->n, 1); /* the welcome frame, held from before the attach */
    tale_session_input(s, "look", 4, 0);
    tale_session_input(s, "wait", 4, 0);
    assert_int_equal(c->n, 3);
    for (size_t i = 0; i < c->n; i++)
        assert_int_equal(c->seqs[i], i + 1);
    assert_non_null(strstr(c->last, "\"seq\":3"));
    assert_non_null(strstr(c->last, "you said wait"));
    assert_int_equal(tale_session_last_seq(s), 3);
}

static void
resume_replays_exactly_the_frames_after_the_given_seq(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *a = &f->conns[0], *b = &f->conns[1];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, a, 0);
    tale_session_input(s, "one", 3, 0);
    tale_session_detach(s, a);
    /* produced while nobody is attached: held */
    tale_session_input(s, "two", 3, 0);
    tale_session_input(s, "three", 5, 0);
    tale_session_attach(s, &rec_io, b, 2);
    assert_int_equal(b->n, 2);
    assert_int_equal(b->seqs[0], 3);
    assert_int_equal(b->seqs[1], 4);
    tale_session_input(s, "four", 4, 0);
    assert_int_equal(b->n, 3);
    assert_int_equal(b->seqs[2], 5);
    assert_int_equal(a->n, 2); /* the detached connection got nothing more */
}

static void
backlog_is_bounded_in_bytes_and_keeps_the_newest(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_input(s, "burst 500", 9, 0); /* ~60 KB of frames, limit 4 KiB */
    tale_session_attach(s, &rec_io, c, 0);
    assert_true(c->n > 10);
    assert_true(c->n < 100);
    assert_int_equal(c->seqs[c->n - 1], 501);
    for (size_t i = 1; i < c->n; i++)
        assert_int_equal(c->seqs[i], c->seqs[i - 1] + 1);
}

static void
a_second_connection_takes_over_the_seat_and_the_first_is_told(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *a = &f->conns[0], *b = &f->conns[1];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, a, 0);
    tale_session_attach(s, &rec_io, b, 0);
    assert_int_equal(a->closed_code, TALE_CLOSE_TAKEN_OVER);
    assert_true(strlen(a->closed_reason) > 0);
    tale_session_input(s, "hello", 5, 0);
    assert_non_null(strstr(b->last, "you said hello"));
    assert_int_equal(a->n, 1);
}

static void
if_mode_has_one_seat_whatever_the_cookie(void **state)
{
    fixture_t *f = *state;
    char cookie[128];
    tale_session_t *s1 = new_session(f, cookie);
    tale_session_t *s2 = new_session(f, NULL);
    assert_ptr_equal(s1, s2);
    assert_ptr_equal(tale_session_get(f->host.sessions, cookie, strlen(cookie), 0, NULL), s1);
    assert_int_equal(tale_sessions_count(f->host.sessions), 1);
}

static void
mud_mode_gives_each_browser_a_seat_up_to_max_sessions(void **state)
{
    fixture_t *f = *state;
    char c1[128], c2[128];
    tale_session_t *s1 = new_session(f, c1);
    tale_session_t *s2 = new_session(f, c2);
    assert_ptr_not_equal(s1, s2);
    assert_ptr_equal(tale_session_get(f->host.sessions, c2, strlen(c2), TALE_SESSION_CREATE, NULL), s2);
    new_session(f, NULL);
    char set_cookie[TALE_SET_COOKIE_MAX];
    assert_null(tale_session_get(f->host.sessions, NULL, 0, TALE_SESSION_CREATE, set_cookie));
    assert_int_equal(tale_sessions_count(f->host.sessions), 3);
}

static void
unknown_or_missing_cookie_finds_no_session_without_create(void **state)
{
    fixture_t *f = *state;
    new_session(f, NULL);
    const char *bad = "tale_session=00000000000000000000000000000000";
    assert_null(tale_session_get(f->host.sessions, bad, strlen(bad), 0, NULL));
    assert_null(tale_session_get(f->host.sessions, NULL, 0, 0, NULL));
    const char *shortc = "tale_session=abc";
    assert_null(tale_session_get(f->host.sessions, shortc, strlen(shortc), 0, NULL));
}

static void
set_cookie_is_httponly_samesite_strict_and_secure_under_tls(void **state)
{
    fixture_t *f = *state;
    char set_cookie[TALE_SET_COOKIE_MAX];
    tale_session_get(f->host.sessions, NULL, 0, TALE_SESSION_CREATE | TALE_SESSION_SECURE, set_cookie);
    assert_non_null(strstr(set_cookie, "tale_session="));
    assert_non_null(strstr(set_cookie, "; HttpOnly"));
    assert_non_null(strstr(set_cookie, "; SameSite=Strict"));
    assert_non_null(strstr(set_cookie, "; Secure"));
    /* 128 bits as hex */
    const char *tok = strchr(set_cookie, '=') + 1;
    assert_int_equal(strcspn(tok, ";"), 32);
}

static void
quit_ends_the_session_and_closes_its_connection(void **state)
{
    fixture_t *f = *state;
    char cookie[128];
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, cookie);
    tale_session_attach(s, &rec_io, c, 0);
    tale_session_input(s, "quit", 4, 0);
    assert_non_null(strstr(c->last, "bye"));
    assert_int_equal(c->closed_code, TALE_CLOSE_SESSION_ENDED);
    assert_null(tale_session_get(f->host.sessions, cookie, strlen(cookie), 0, NULL));
    assert_int_equal(tale_sessions_count(f->host.sessions), 0);
}

static void
autocomplete_input_asks_the_engine_for_suggestions_not_a_command(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    tale_session_input(s, "lo", 2, TALE_INPUT_AUTOCOMPLETE);
    assert_non_null(strstr(c->last, "suggestions for lo"));
    size_t len = 0;
    char *json = tale_session_complete(s, "loo", 3, &len);
    assert_string_equal(json, "[\"look\"]");
    assert_int_equal(len, 8);
    free(json);
}

static void
host_notices_carry_the_location_snapshot(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    char big[65];
    memset(big, 'x', sizeof(big));
    tale_session_input(s, big, sizeof(big), 0); /* a host-made "too long" notice */
    assert_non_null(strstr(c->last, "too long"));
    /* LlamaTale's client reads "location" from every text frame */
    assert_non_null(strstr(c->last, "\"location\":\"The Jetty\""));
    assert_non_null(strstr(c->last, "\"exits\":\"north\""));
}

static void
a_command_flood_is_cut_to_the_burst_with_one_polite_notice(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    size_t before = c->n;
    /* 100 commands inside one loop iteration: the clock does not move */
    int notices = 0;
    for (int i = 0; i < 100; i++) {
        tale_session_input(s, "look", 4, 0);
        if (strstr(c->last, "slow down") != NULL && c->n == before + 5 + 1 + notices)
            notices++;
    }
    assert_int_equal(c->n - before, 5 + 1); /* the burst, then one notice */
    assert_int_equal(notices, 1);
    assert_non_null(strstr(c->last, "faster than the game can follow"));
}

static void
input_over_max_input_is_refused_with_a_message(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    char big[65];
    memset(big, 'x', sizeof(big));
    tale_session_input(s, big, sizeof(big), 0);
    assert_non_null(strstr(c->last, "too long"));
    assert_null(strstr(c->last, "you said"));
    tale_session_input(s, big, 64, 0);
    assert_non_null(strstr(c->last, "you said"));
}

static void
input_with_a_nul_byte_is_refused_not_cut_short(void **state)
{
    fixture_t *f = *state;
    rec_conn_t *c = &f->conns[0];
    tale_session_t *s = new_session(f, NULL);
    tale_session_attach(s, &rec_io, c, 0);
    tale_session_input(s, "lo\0ok", 5, 0);
    assert_non_null(strstr(c->last, "NUL character"));
    assert_null(strstr(c->last, "you said"));
}

static void
cookie_parser_finds_the_named_cookie_among_others(void **state)
{
    size_t len = 0;
    const char *h = "a=1; tale_sessionx=no; tale_session=abc;b=2";
    const char *v = tale_cookie_find(h, strlen(h), "tale_session", &len);
    assert_non_null(v);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "abc", 3);
    assert_null(tale_cookie_find("a=1", 3, "tale_session", &len));
    assert_null(tale_cookie_find(NULL, 0, "tale_session", &len));
    /* a cookie split at the header's length limit is not read past it */
    assert_null(tale_cookie_find("tale_session=abc", 12, "tale_session", &len));
}

int
main(void)
{
    tale_log_level = TALE_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(frames_are_stamped_with_consecutive_seqs, setup_if, teardown),
        cmocka_unit_test_setup_teardown(resume_replays_exactly_the_frames_after_the_given_seq, setup_if, teardown),
        cmocka_unit_test_setup_teardown(backlog_is_bounded_in_bytes_and_keeps_the_newest, setup_if, teardown),
        cmocka_unit_test_setup_teardown(a_second_connection_takes_over_the_seat_and_the_first_is_told, setup_if, teardown),
        cmocka_unit_test_setup_teardown(if_mode_has_one_seat_whatever_the_cookie, setup_if, teardown),
        cmocka_unit_test_setup_teardown(mud_mode_gives_each_browser_a_seat_up_to_max_sessions, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(unknown_or_missing_cookie_finds_no_session_without_create, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(set_cookie_is_httponly_samesite_strict_and_secure_under_tls, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(quit_ends_the_session_and_closes_its_connection, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(autocomplete_input_asks_the_engine_for_suggestions_not_a_command, setup_if,
                                        teardown),
        cmocka_unit_test_setup_teardown(host_notices_carry_the_location_snapshot, setup_if, teardown),
        cmocka_unit_test_setup_teardown(a_command_flood_is_cut_to_the_burst_with_one_polite_notice, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(input_over_max_input_is_refused_with_a_message, setup_mud, teardown),
        cmocka_unit_test_setup_teardown(input_with_a_nul_byte_is_refused_not_cut_short, setup_mud, teardown),
        cmocka_unit_test(cookie_parser_finds_the_named_cookie_among_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
