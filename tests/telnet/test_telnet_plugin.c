/*
 * test_telnet_plugin.c - the telnet plugin (plugins/telnet/telnet.c) against
 * the mock host, through a real loopback socket: what the engine cannot
 * produce yet (a "noecho" password prompt, a "clear"), the seat opening on
 * the first line, the goodbye on a close, and config refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock_host.h"

static int
attached(mock_host_t *m, void *arg)
{
    return m->session.io != NULL;
}

static int
inputs_at_least(mock_host_t *m, void *arg)
{
    return m->session.ninputs >= *(size_t *)arg;
}

typedef struct fixture {
    mock_host_t *m;
    int fd;
    char buf[65536];
    size_t len;
} fixture_t;

/* Read until `until` shows up in everything read so far (bytes kept in f->buf). */
static int
read_until(fixture_t *f, const char *until, size_t ulen)
{
    for (int i = 0; i < 200; i++) {
        if (memmem(f->buf, f->len, until, ulen) != NULL)
            return 1;
        size_t n = mock_read_until(f->m, f->fd, f->buf + f->len, sizeof(f->buf) - f->len - 1, NULL, 10);
        f->len += n;
    }
    return memmem(f->buf, f->len, until, ulen) != NULL;
}

static void
send_bytes(fixture_t *f, const void *p, size_t len)
{
    assert_int_equal(write(f->fd, p, len), (ssize_t)len);
}

/* The plugin listening on a loopback port, one client connected and greeted;
 * `max_backlog` (NULL: the default) is the plugin's. */
static int
setup_with(void **state, const char *max_backlog)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->m = mock_host_new();
    mock_host_conf_set(f->m, "listen", "127.0.0.1:0");
    if (max_backlog != NULL)
        mock_host_conf_set(f->m, "max_backlog", max_backlog);
    assert_int_equal(mock_host_init(f->m, tale_plugin_entry()), 0);
    assert_int_equal(mock_host_start(f->m), 0);
    int port = mock_host_raw_listen(f->m);
    assert_true(port > 0);
    f->fd = mock_connect(port);
    assert_true(f->fd >= 0);
    assert_true(read_until(f, "press Enter", 11));
    *state = f;
    return 0;
}

static int
setup(void **state)
{
    return setup_with(state, NULL);
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    if (f->fd >= 0)
        close(f->fd);
    mock_host_free(f->m);
    free(f);
    return 0;
}

static void
the_first_line_opens_the_seat_and_becomes_input(void **state)
{
    fixture_t *f = *state;
    send_bytes(f, "look\r\n", 6);
    size_t one = 1;
    assert_true(mock_host_run_until(f->m, inputs_at_least, &one, 2000));
    assert_string_equal(f->m->session.inputs[0].cmd, "look");
    assert_int_equal(f->m->session.attach_count, 1);
}

static void
noecho_turns_echo_off_for_exactly_the_next_line(void **state)
{
    fixture_t *f = *state;
    send_bytes(f, "\r\n", 2);
    assert_true(mock_host_run_until(f->m, attached, NULL, 2000));
    mock_host_push_special(f->m, "<p>Password?</p>", "[\"noecho\"]");
    assert_true(read_until(f, "Password?", 9));
    assert_non_null(memmem(f->buf, f->len, "\xff\xfb\x01", 3)); /* IAC WILL ECHO */
    f->len = 0;
    send_bytes(f, "\xff\xfd\x01" /* DO ECHO */ "hunter2\r\n", 12);
    size_t one = 1;
    assert_true(mock_host_run_until(f->m, inputs_at_least, &one, 2000));
    assert_string_equal(f->m->session.inputs[0].cmd, "hunter2");
    assert_true(read_until(f, "\xff\xfc\x01", 3)); /* IAC WONT ECHO after the secret */
    /* and the next line is an ordinary one: no renegotiation */
    f->len = 0;
    send_bytes(f, "look\r\n", 6);
    size_t two = 2;
    assert_true(mock_host_run_until(f->m, inputs_at_least, &two, 2000));
    mock_host_run(f->m, 50);
    f->len += mock_read_until(f->m, f->fd, f->buf, sizeof(f->buf) - 1, NULL, 50);
    assert_null(memmem(f->buf, f->len, "\xff\xfb\x01", 3));
}

static void
clear_is_only_sent_with_colour(void **state)
{
    fixture_t *f = *state;
    send_bytes(f, "\r\n", 2);
    assert_true(mock_host_run_until(f->m, attached, NULL, 2000));
    f->len = 0;
    mock_host_push_special(f->m, "<p>Fresh screen.</p>", "[\"clear\"]");
    assert_true(read_until(f, "Fresh screen.", 13));
    assert_null(memmem(f->buf, f->len, "\033[2J", 4)); /* no TTYPE/MTTS: plain text */
}

static void
a_close_from_the_host_says_why_and_closes(void **state)
{
    fixture_t *f = *state;
    send_bytes(f, "\r\n", 2);
    assert_true(mock_host_run_until(f->m, attached, NULL, 2000));
    const tale_player_io_t *io = f->m->session.io;
    void *conn = f->m->session.conn;
    f->m->session.io = NULL;
    f->m->session.conn = NULL;
    io->close(conn, TALE_CLOSE_SESSION_ENDED, "You have left the game.");
    assert_true(read_until(f, "[You have left the game.]\r\n", 27));
    /* the server closes: read returns 0 */
    char c;
    ssize_t n = -1;
    for (int i = 0; i < 100 && n != 0; i++) {
        mock_host_run(f->m, 10);
        n = recv(f->fd, &c, 1, MSG_DONTWAIT);
    }
    assert_int_equal(n, 0);
}

static int
detached_or_ended(mock_host_t *m, void *arg)
{
    return m->session.detach_count > 0 || m->session.end_count > 0;
}

/* A client that goes away hands its seat back to linger (session_closed),
 * not to end at once: an accounts login may take the character back. */
static void
a_dropped_client_lingers(void **state)
{
    fixture_t *f = *state;
    send_bytes(f, "\r\n", 2);
    assert_true(mock_host_run_until(f->m, attached, NULL, 2000));
    /* read everything first: closing with unread bytes would send a reset, not a close */
    mock_host_run(f->m, 50);
    while (mock_read_until(f->m, f->fd, f->buf, sizeof(f->buf) - 1, NULL, 50) > 0)
        ;
    close(f->fd);
    f->fd = -1;
    assert_true(mock_host_run_until(f->m, detached_or_ended, NULL, 2000));
    assert_int_equal(f->m->session.detach_count, 1);
    assert_int_equal(f->m->session.last_close_code, TALE_CLOSE_NORMAL);
    assert_int_equal(f->m->session.end_count, 0);
}

/* A client that stops reading is cut off for it, and its seat ends at once. */
static void
a_client_that_never_reads_is_ended(void **state)
{
    fixture_t *f = *state;
    send_bytes(f, "\r\n", 2);
    assert_true(mock_host_run_until(f->m, attached, NULL, 2000));
    char html[1100];
    memset(html, 'x', sizeof(html) - 1);
    memcpy(html, "<p>", 3);
    html[sizeof(html) - 1] = '\0';
    /* bounded: 8 MB at most, far past the socket buffers and max_backlog (16k) */
    for (int i = 0; i < 8000 && f->m->session.end_count == 0; i++) {
        mock_host_push_text(f->m, html);
        if (i % 50 == 0)
            mock_host_run(f->m, 1);
    }
    assert_true(mock_host_run_until(f->m, detached_or_ended, NULL, 2000));
    assert_int_equal(f->m->session.end_count, 1);
    assert_int_equal(f->m->session.detach_count, 0);
}

static int
setup_small_backlog(void **state)
{
    return setup_with(state, "16k");
}

static void
config_refusals_are_clear(void **state)
{
    static const struct {
        const char *key, *value, *want;
    } bad[] = {
        {"color", "sometimes", "color must be auto, always or never"},
        {"max_backlog", "1k", "max_backlog must be at least 16k"},
        {"max_line", "8", "max_line and max_subnegotiation must be between 64 and 1m"},
        {"prompt", "\x1b[31m> ", "prompt must not contain control characters"},
        {"tls_cert", "/nonexistent.pem", "tls_cert and tls_key go together"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mock_host_t *m = mock_host_new();
        mock_host_conf_set(m, "listen", "127.0.0.1:0");
        mock_host_conf_set(m, bad[i].key, bad[i].value);
        assert_int_not_equal(mock_host_init(m, tale_plugin_entry()), 0);
        assert_non_null(strstr(m->err, bad[i].want));
        mock_host_free(m);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_first_line_opens_the_seat_and_becomes_input, setup, teardown),
        cmocka_unit_test_setup_teardown(noecho_turns_echo_off_for_exactly_the_next_line, setup, teardown),
        cmocka_unit_test_setup_teardown(clear_is_only_sent_with_colour, setup, teardown),
        cmocka_unit_test_setup_teardown(a_close_from_the_host_says_why_and_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(a_dropped_client_lingers, setup, teardown),
        cmocka_unit_test_setup_teardown(a_client_that_never_reads_is_ended, setup_small_backlog, teardown),
        cmocka_unit_test(config_refusals_are_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
