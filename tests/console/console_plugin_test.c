/*
 * console_plugin_test.c - the console transport against the mock host.
 *
 * Each test puts a pipe (or a file) on fd 0 and a pipe on fd 1, so the plugin
 * reads and prints exactly as it does in a terminal session, and checks what
 * reached the session and what reached "the screen".
 */
#include <errno.h>
#include <fcntl.h>
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

#include <pty.h>
#include <signal.h>
#include <termios.h>

typedef struct fixture {
    mock_host_t *m;
    int saved_in, saved_out; /* the test runner's own stdin/stdout */
    int in_w;                /* we write the player's typing here (-1: stdin is a file) */
    int out_r;               /* and read the screen here */
    char screen[65536];
    size_t screen_len;
} fixture_t;

/* Put `in_fd` on fd 0 and a fresh pipe on fd 1; load the plugin into a mock host. */
static fixture_t *
fixture_new(int in_fd, int in_w)
{
    fixture_t *f = calloc(1, sizeof(*f));
    int out[2];
    assert_non_null(f);
    assert_int_equal(pipe(out), 0);
    fflush(stdout);
    f->saved_in = dup(0);
    f->saved_out = dup(1);
    assert_true(dup2(in_fd, 0) == 0 && dup2(out[1], 1) == 1);
    close(in_fd);
    close(out[1]);
    f->in_w = in_w;
    f->out_r = out[0];
    fcntl(f->out_r, F_SETFL, O_NONBLOCK);
    f->m = mock_host_new();
    return f;
}

/* A pseudo-terminal as the player's terminal: its slave is fd 0 and fd 1, we hold the master. */
static fixture_t *
fixture_pty(int *slave_out)
{
    int master, slave;
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
    fflush(stdout);
    f->saved_in = dup(0);
    f->saved_out = dup(1);
    assert_true(dup2(slave, 0) == 0 && dup2(slave, 1) == 1);
    *slave_out = slave;
    f->in_w = -1;
    f->out_r = master; /* typing goes in, and the screen comes out, through the master */
    fcntl(master, F_SETFL, O_NONBLOCK);
    setenv("TERM", "xterm", 1);
    unsetenv("NO_COLOR");
    f->m = mock_host_new();
    return f;
}

static fixture_t *
fixture_pipe(void)
{
    int in[2];
    assert_int_equal(pipe(in), 0);
    return fixture_new(in[0], in[1]);
}

/* Start the plugin and turn the loop until it has taken its seat. */
static void
start(fixture_t *f)
{
    assert_int_equal(mock_host_init(f->m, tale_plugin_entry()), 0);
    assert_int_equal(mock_host_start(f->m), 0);
    for (int i = 0; i < 50 && f->m->session.attach_count == 0; i++)
        mock_host_run(f->m, 10);
    assert_int_equal(f->m->session.attach_count, 1);
}

static void
type(fixture_t *f, const char *s)
{
    assert_int_equal(write(f->in_w, s, strlen(s)), (ssize_t)strlen(s));
}

static void
end_input(fixture_t *f)
{
    close(f->in_w);
    f->in_w = -1;
}

static int
inputs_at_least(mock_host_t *m, void *arg)
{
    return m->session.ninputs >= *(size_t *)arg;
}

static int
quit_asked(mock_host_t *m, void *arg)
{
    return m->session.quit_count > 0;
}

static void
wait_inputs(fixture_t *f, size_t n)
{
    assert_true(mock_host_run_until(f->m, inputs_at_least, &n, 2000));
}

/* Everything printed so far, NUL-terminated. */
static const char *
screen(fixture_t *f)
{
    mock_host_run(f->m, 5);
    for (;;) {
        ssize_t n = read(f->out_r, f->screen + f->screen_len, sizeof(f->screen) - 1 - f->screen_len);
        if (n <= 0)
            break;
        f->screen_len += (size_t)n;
    }
    f->screen[f->screen_len] = '\0';
    return f->screen;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    if (f == NULL)
        return 0;
    mock_host_free(f->m);
    fflush(stdout);
    dup2(f->saved_in, 0);
    dup2(f->saved_out, 1);
    close(f->saved_in);
    close(f->saved_out);
    if (f->in_w >= 0)
        close(f->in_w);
    close(f->out_r);
    free(f);
    return 0;
}

static void
takes_the_seat_with_the_whole_backlog(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    /* the mock puts the html into the JSON as is: "\\n" is the JSON escape of a newline */
    mock_host_push_text(f->m, "<p>Welcome to the island.</p>\\n");
    start(f);
    assert_int_equal(f->m->session.get_count, 1);
    assert_int_equal(f->m->session.last_resume_after, 0);
    assert_string_equal(screen(f), "Welcome to the island.\n");
}

static void
lines_become_trimmed_session_input(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    type(f, "look\n  take lamp  \r\n\n   \nnor");
    wait_inputs(f, 2);
    type(f, "th\n");
    wait_inputs(f, 3);
    assert_int_equal(f->m->session.ninputs, 3);
    assert_string_equal(f->m->session.inputs[0].cmd, "look");
    assert_string_equal(f->m->session.inputs[1].cmd, "take lamp");
    assert_string_equal(f->m->session.inputs[2].cmd, "north");
    assert_int_equal(f->m->session.inputs[0].flags, 0);
    assert_int_equal(f->m->session.quit_count, 0);
}

static void
end_of_input_sends_the_last_line_and_quits(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    type(f, "wait\nquit without newline");
    end_input(f);
    assert_true(mock_host_run_until(f->m, quit_asked, NULL, 2000));
    assert_int_equal(f->m->session.ninputs, 2);
    assert_string_equal(f->m->session.inputs[1].cmd, "quit without newline");
    assert_int_equal(f->m->session.quit_count, 1);
}

static void
text_frames_print_as_plain_lines(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    mock_host_push_text(f->m, "<p><span class='txt-location'>The Jetty</span></p>\\n"
                              "<p>Planks &amp; nets, and <span class='txt-it'>salt</span>.</p>\\n");
    /* stdout is a pipe, not a terminal: no escape sequences, no prompt */
    assert_string_equal(screen(f), "The Jetty\nPlanks & nets, and salt.\n");
}

static void
data_frames_print_a_one_line_note(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    static const char json[] = "{\"type\":\"data\",\"seq\":1,\"id\":\"map-image\",\"data\":\"data:image/svg+xml;base64,PHN2Zy8+\"}";
    tale_frame_t fr = {1, "data", json, sizeof(json) - 1};
    assert_int_equal(f->m->session.io->send(f->m->session.conn, &fr), 0);
    assert_string_equal(screen(f), "[image/svg+xml for #map-image: 34 bytes; open the web client to see it]\n");
}

static void
a_frame_that_is_not_json_is_reported_not_fatal(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    tale_frame_t fr = {1, "text", "{not json", 9};
    assert_int_equal(f->m->session.io->send(f->m->session.conn, &fr), 0);
    static const char json[] = "{\"type\":\"text\",\"seq\":2,\"text\":\"<p>Still here.</p>\"}";
    tale_frame_t ok = {2, "text", json, sizeof(json) - 1};
    assert_int_equal(f->m->session.io->send(f->m->session.conn, &ok), 0);
    assert_non_null(strstr(screen(f), "Still here."));
}

static void
over_long_lines_are_refused_whole(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    char big[10000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(write(f->in_w, big, sizeof(big)), (ssize_t)sizeof(big));
    type(f, "tail of the long line\nlook\n");
    wait_inputs(f, 1);
    mock_host_run(f->m, 20);
    assert_int_equal(f->m->session.ninputs, 1);
    assert_string_equal(f->m->session.inputs[0].cmd, "look");
    assert_non_null(strstr(screen(f), "too long"));
}

static void
being_closed_prints_the_reason_and_stops_reading(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    const tale_player_io_t *io = f->m->session.io;
    void *conn = f->m->session.conn;
    f->m->session.io = NULL; /* as the host does: detached before close() */
    io->close(conn, TALE_CLOSE_TAKEN_OVER, "another connection took over this session");
    type(f, "look\n");
    mock_host_run(f->m, 50);
    assert_int_equal(f->m->session.ninputs, 0);
    assert_string_equal(screen(f), "[another connection took over this session]\n");
    assert_int_equal(f->m->stop_requests, 0); /* being replaced is not the end of the game */
}

static void
the_end_of_an_if_game_stops_the_host_like_a_terminal_program(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    const tale_player_io_t *io = f->m->session.io;
    void *conn = f->m->session.conn;
    f->m->session.io = NULL;
    io->close(conn, TALE_CLOSE_SESSION_ENDED, "The game has ended.");
    assert_int_equal(f->m->stop_requests, 0); /* never from inside the host's call */
    for (int i = 0; i < 20 && f->m->stop_requests == 0; i++)
        mock_host_run(f->m, 10);
    assert_int_equal(f->m->stop_requests, 1); /* host->request_stop (ABI 1.1) */
    assert_string_equal(screen(f), "[The game has ended.]\n");
}

static void
stdin_as_a_plain_file_is_played_through(void **state)
{
    char path[] = "/tmp/tale-console-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    static const char script[] = "north\nexamine pool\ntake boat\n";
    assert_int_equal(write(fd, script, sizeof(script) - 1), (ssize_t)sizeof(script) - 1);
    lseek(fd, 0, SEEK_SET);
    fixture_t *f = *state = fixture_new(fd, -1);
    start(f);
    assert_true(mock_host_run_until(f->m, quit_asked, NULL, 2000));
    assert_int_equal(f->m->session.ninputs, 3);
    assert_string_equal(f->m->session.inputs[1].cmd, "examine pool");
}

static void
stdin_from_dev_null_quits_at_once(void **state)
{
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    fixture_t *f = *state = fixture_new(fd, -1);
    start(f);
    assert_true(mock_host_run_until(f->m, quit_asked, NULL, 2000));
    assert_int_equal(f->m->session.ninputs, 0);
}

static int
echo_is_on(int fd)
{
    struct termios t;
    assert_int_equal(tcgetattr(fd, &t), 0);
    return (t.c_lflag & ECHO) != 0;
}

static void
on_a_terminal_noecho_hides_only_the_next_line(void **state)
{
    int slave;
    fixture_t *f = *state = fixture_pty(&slave);
    start(f);
    assert_non_null(strstr(screen(f), "> ")); /* a terminal gets a prompt */
    static const char json[] = "{\"type\":\"text\",\"seq\":1,\"text\":\"<p>Password?</p>\",\"special\":[\"noecho\"]}";
    tale_frame_t fr = {1, "text", json, sizeof(json) - 1};
    assert_int_equal(f->m->session.io->send(f->m->session.conn, &fr), 0);
    assert_false(echo_is_on(slave));
    assert_int_equal(write(f->out_r, "hunter2\n", 8), 8);
    wait_inputs(f, 1);
    assert_true(echo_is_on(slave));
    assert_int_equal(write(f->out_r, "look\n", 5), 5);
    wait_inputs(f, 2);
    assert_string_equal(f->m->session.inputs[0].cmd, "hunter2");
    const char *out = screen(f);
    assert_non_null(strstr(out, "Password?"));
    assert_null(strstr(out, "hunter2"));  /* the secret never showed */
    assert_non_null(strstr(out, "look")); /* the next line is echoed again */
    close(slave);
}

static void
on_a_terminal_stopping_restores_echo(void **state)
{
    int slave;
    fixture_t *f = *state = fixture_pty(&slave);
    start(f);
    static const char json[] = "{\"type\":\"text\",\"seq\":1,\"text\":\"<p>Secret?</p>\",\"special\":[\"noecho\"]}";
    tale_frame_t fr = {1, "text", json, sizeof(json) - 1};
    assert_int_equal(f->m->session.io->send(f->m->session.conn, &fr), 0);
    assert_false(echo_is_on(slave));
    mock_host_stop(f->m, 0); /* e.g. SIGINT while the secret is being typed */
    assert_true(echo_is_on(slave));
    close(slave);
}

static void
stop_detaches_from_the_session(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    start(f);
    mock_host_stop(f->m, 0);
    assert_int_equal(f->m->session.detach_count, 1);
    assert_null(f->m->session.io);
}

static void
no_seat_is_logged_and_nothing_is_read(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    f->m->refuse_sessions = 1;
    assert_int_equal(mock_host_init(f->m, tale_plugin_entry()), 0);
    assert_int_equal(mock_host_start(f->m), 0);
    mock_host_run(f->m, 30);
    type(f, "look\n");
    mock_host_run(f->m, 30);
    assert_int_equal(f->m->session.attach_count, 0);
    assert_int_equal(f->m->session.ninputs, 0);
    assert_true(mock_host_log_has(f->m, "no seat"));
}

static void
unknown_config_key_is_refused(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    mock_host_conf_set(f->m, "promt", "$ ");
    assert_int_equal(mock_host_init(f->m, tale_plugin_entry()), -1);
    assert_non_null(strstr(f->m->err, "promt"));
}

/* The output backlog's bounds are checked at init, with the key named. */
static void
output_backlog_limits_are_checked(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    mock_host_conf_set(f->m, "max_backlog", "1k");
    assert_int_equal(mock_host_init(f->m, tale_plugin_entry()), -1);
    assert_non_null(strstr(f->m->err, "max_backlog must be at least 4k"));
}

static void
drain_timeout_is_bounded(void **state)
{
    fixture_t *f = *state = fixture_pipe();
    mock_host_conf_set(f->m, "drain_timeout", "2m");
    assert_int_equal(mock_host_init(f->m, tale_plugin_entry()), -1);
    assert_non_null(strstr(f->m->err, "drain_timeout must be at most 1m"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(takes_the_seat_with_the_whole_backlog, teardown),
        cmocka_unit_test_teardown(lines_become_trimmed_session_input, teardown),
        cmocka_unit_test_teardown(end_of_input_sends_the_last_line_and_quits, teardown),
        cmocka_unit_test_teardown(text_frames_print_as_plain_lines, teardown),
        cmocka_unit_test_teardown(data_frames_print_a_one_line_note, teardown),
        cmocka_unit_test_teardown(a_frame_that_is_not_json_is_reported_not_fatal, teardown),
        cmocka_unit_test_teardown(over_long_lines_are_refused_whole, teardown),
        cmocka_unit_test_teardown(being_closed_prints_the_reason_and_stops_reading, teardown),
        cmocka_unit_test_teardown(the_end_of_an_if_game_stops_the_host_like_a_terminal_program, teardown),
        cmocka_unit_test_teardown(stdin_as_a_plain_file_is_played_through, teardown),
        cmocka_unit_test_teardown(stdin_from_dev_null_quits_at_once, teardown),
        cmocka_unit_test_teardown(on_a_terminal_noecho_hides_only_the_next_line, teardown),
        cmocka_unit_test_teardown(on_a_terminal_stopping_restores_echo, teardown),
        cmocka_unit_test_teardown(stop_detaches_from_the_session, teardown),
        cmocka_unit_test_teardown(no_seat_is_logged_and_nothing_is_read, teardown),
        cmocka_unit_test_teardown(unknown_config_key_is_refused, teardown),
        cmocka_unit_test_teardown(output_backlog_limits_are_checked, teardown),
        cmocka_unit_test_teardown(drain_timeout_is_bounded, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
