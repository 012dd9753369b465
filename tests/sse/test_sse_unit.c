/*
 * test_sse_unit.c - the sse plugin against the mock host (tests/mock_host),
 * driven through real loopback sockets: config checks, the event stream
 * (headers, framing, Last-Event-ID, keepalive, take-over, stop, disconnect,
 * flat memory), POST /tale/input and GET /tale/tabcomplete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mock_host.h"

#define FORM "Content-Type: application/x-www-form-urlencoded\r\n"
#define COOKIE "Cookie: tale_session=mock\r\n"

static mock_host_t *
new_host(const char *const *conf)
{
    mock_host_t *m = mock_host_new();
    for (size_t i = 0; conf != NULL && conf[i] != NULL; i += 2)
        mock_host_conf_set(m, conf[i], conf[i + 1]);
    return m;
}

/* A host with the plugin initialised, started and listening. */
static mock_host_t *
serving_host(const char *const *conf)
{
    mock_host_t *m = new_host(conf);
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), 0);
    assert_int_equal(mock_host_start(m), 0);
    assert_true(mock_host_listen(m) > 0);
    return m;
}

static void
send_all(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        s += n;
        len -= (size_t)n;
    }
}

/* One request with "Connection: close"; the whole response lands in buf. */
static size_t
exchange(mock_host_t *m, const char *request, char *buf, size_t cap)
{
    int fd = mock_connect(m->port);
    assert_true(fd >= 0);
    send_all(fd, request);
    size_t n = mock_read_until(m, fd, buf, cap, NULL, 2000);
    close(fd);
    mock_host_run(m, 5);
    return n;
}

/* Open an event stream; returns the fd with the headers and opening comment read into buf. */
static int
open_stream(mock_host_t *m, const char *extra_headers, char *buf, size_t cap)
{
    int fd = mock_connect(m->port);
    assert_true(fd >= 0);
    char req[512];
    snprintf(req, sizeof(req), "GET /tale/eventsource HTTP/1.1\r\nHost: localhost\r\n%s\r\n", extra_headers);
    send_all(fd, req);
    mock_read_until(m, fd, buf, cap, ": tale-host\n\n", 2000);
    return fd;
}

static int
is_detached(mock_host_t *m, void *arg)
{
    return m->session.io == NULL;
}

/* ---- config ---- */

static void
init_refuses_an_unknown_key(void **state)
{
    const char *conf[] = {"keepalive", "15s", "max_bodyy", "1k", NULL};
    mock_host_t *m = new_host(conf);
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    assert_non_null(strstr(m->err, "max_bodyy"));
    mock_host_free(m);
}

static void
init_refuses_out_of_range_values(void **state)
{
    const char *bad[][2] = {{"keepalive", "1ms"},  {"keepalive", "2h"},          {"max_body", "8"},
                            {"max_backlog", "1k"}, {"input_path", "tale/input"}, {"keepalive", "soon"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *conf[] = {bad[i][0], bad[i][1], NULL};
        mock_host_t *m = new_host(conf);
        assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
        assert_true(m->err[0] != '\0');
        mock_host_free(m);
    }
}

static void
start_mounts_the_three_paths(void **state)
{
    mock_host_t *m = serving_host(NULL);
    int seen = 0;
    for (size_t i = 0; i < m->nmounts; i++) {
        seen |= strcmp(m->mounts[i].path, "/tale/eventsource") == 0 ? 1 : 0;
        seen |= strcmp(m->mounts[i].path, "/tale/input") == 0 ? 2 : 0;
        seen |= strcmp(m->mounts[i].path, "/tale/tabcomplete") == 0 ? 4 : 0;
    }
    assert_int_equal(m->nmounts, 3);
    assert_int_equal(seen, 7);
    mock_host_free(m);
}

static void
paths_can_be_configured(void **state)
{
    const char *conf[] = {"eventsource_path", "/game/events", "input_path", "/game/in", "tabcomplete_path", "/game/tab", NULL};
    mock_host_t *m = serving_host(conf);
    char buf[4096];
    exchange(m, "POST /game/in HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" COOKIE FORM "Content-Length: 8\r\n\r\ncmd=look", buf,
             sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 204"));
    assert_int_equal(m->session.ninputs, 1);
    assert_string_equal(m->session.inputs[0].cmd, "look");
    mock_host_free(m);
}

/* ---- the event stream ---- */

static void
stream_has_the_headers_and_frames_events(void **state)
{
    mock_host_t *m = serving_host(NULL);
    mock_host_push_text(m, "<p>held</p>"); /* held before the stream opens: replayed */
    char buf[8192];
    int fd = open_stream(m, "", buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "content-type: text/event-stream"));
    assert_non_null(strstr(buf, "cache-control: no-cache"));
    assert_non_null(strstr(buf, "x-accel-buffering: no"));
    assert_non_null(strstr(buf, "set-cookie: tale_session=mock; HttpOnly; SameSite=Strict"));
    assert_null(strstr(buf, "Secure"));
    assert_int_equal(m->session.attach_count, 1);
    assert_int_equal(m->session.last_resume_after, 0);
    if (strstr(buf, "event: text\nid: 1\n") == NULL)
        mock_read_until(m, fd, buf, sizeof(buf), "<p>held</p>\",\"special\":[]}\n\n", 1000);
    assert_non_null(
        strstr(buf, "event: text\nid: 1\ndata: {\"type\":\"text\",\"seq\":1,\"text\":\"<p>held</p>\",\"special\":[]}\n\n"));

    mock_host_push_text(m, "<p>live</p>");
    mock_read_until(m, fd, buf, sizeof(buf), "\n\n", 1000);
    assert_non_null(
        strstr(buf, "event: text\nid: 2\ndata: {\"type\":\"text\",\"seq\":2,\"text\":\"<p>live</p>\",\"special\":[]}\n\n"));
    close(fd);
    mock_host_free(m);
}

static void
last_event_id_is_passed_as_resume_after(void **state)
{
    mock_host_t *m = serving_host(NULL);
    char buf[4096];
    int fd = open_stream(m, COOKIE "Last-Event-ID: 42\r\n", buf, sizeof(buf));
    assert_int_equal(m->session.last_resume_after, 42);
    assert_null(strstr(buf, "set-cookie"));
    close(fd);
    fd = open_stream(m, COOKIE "Last-Event-ID: 4x2\r\n", buf, sizeof(buf));
    assert_int_equal(m->session.last_resume_after, 0);
    close(fd);
    fd = open_stream(m, COOKIE "Last-Event-ID: 99999999999999999999999\r\n", buf, sizeof(buf));
    assert_int_equal(m->session.last_resume_after, 0);
    close(fd);
    mock_host_free(m);
}

static void
keepalive_comment_is_sent_every_interval(void **state)
{
    const char *conf[] = {"keepalive", "40ms", NULL};
    mock_host_t *m = serving_host(conf);
    char buf[4096];
    int fd = open_stream(m, "", buf, sizeof(buf));
    size_t n = mock_read_until(m, fd, buf, sizeof(buf), ": keepalive\n\n", 1000);
    assert_non_null(strstr(buf, ": keepalive\n\n"));
    n = mock_read_until(m, fd, buf, sizeof(buf), ": keepalive\n\n", 1000);
    assert_true(n > 0);
    assert_non_null(strstr(buf, ": keepalive\n\n"));
    close(fd);
    mock_host_free(m);
}

static void
taken_over_stream_ends_with_a_close_event(void **state)
{
    mock_host_t *m = serving_host(NULL);
    char buf[4096], buf2[4096];
    int first = open_stream(m, COOKIE, buf, sizeof(buf));
    int second = open_stream(m, COOKIE, buf2, sizeof(buf2));
    assert_int_equal(m->session.closes_sent, 1);
    /* the first response ends: close event, then the chunked terminator */
    mock_read_until(m, first, buf, sizeof(buf), "0\r\n\r\n", 1000);
    assert_non_null(strstr(buf, "event: close\ndata: {\"code\":4001,"));
    assert_non_null(strstr(buf, "0\r\n\r\n"));
    /* the second one is live */
    mock_host_push_text(m, "<p>to the new one</p>");
    mock_read_until(m, second, buf2, sizeof(buf2), "to the new one", 1000);
    assert_non_null(strstr(buf2, "to the new one"));
    close(first);
    close(second);
    mock_host_free(m);
}

static void
stop_ends_every_stream_and_detaches(void **state)
{
    mock_host_t *m = serving_host(NULL);
    char buf[4096];
    int fd = open_stream(m, "", buf, sizeof(buf));
    assert_non_null(m->session.io);
    mock_host_stop(m, 0);
    assert_null(m->session.io);
    assert_int_equal(m->session.detach_count, 1);
    assert_int_equal(m->session.last_close_code, TALE_CLOSE_GOING_AWAY);
    mock_read_until(m, fd, buf, sizeof(buf), "0\r\n\r\n", 1000);
    assert_non_null(strstr(buf, "event: close\ndata: {\"code\":1001,"));
    assert_non_null(strstr(buf, "0\r\n\r\n"));
    /* no new streams while stopping */
    close(fd);
    exchange(m, "GET /tale/eventsource HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 503"));
    assert_non_null(strstr(buf, "{\"error\":"));
    mock_host_free(m);
}

static void
client_disconnect_detaches_the_session(void **state)
{
    const char *conf[] = {"keepalive", "30ms", NULL};
    mock_host_t *m = serving_host(conf);
    char buf[4096];
    int fd = open_stream(m, "", buf, sizeof(buf));
    assert_non_null(m->session.io);
    m->session.last_close_code = -1;
    close(fd);
    /* over HTTP/1.1 the next keepalive write notices */
    assert_true(mock_host_run_until(m, is_detached, NULL, 2000));
    assert_int_equal(m->session.detach_count, 1);
    assert_int_equal(m->session.last_close_code, 0); /* an event stream has no close code */
    mock_host_free(m);
}

static void
memory_stays_flat_over_many_frames(void **state)
{
    mock_host_t *m = serving_host(NULL);
    static char buf[1 << 16];
    int fd = open_stream(m, "", buf, sizeof(buf));
    char want[64];
    /* warm up: let buffers and h2o's pools reach their working size */
    for (int i = 0; i < 2000; i++) {
        uint64_t seq = mock_host_push_text(m, "<p>The lamp flickers.</p>");
        if (i % 100 == 99) {
            snprintf(want, sizeof(want), "\"seq\":%llu,", (unsigned long long)seq);
            mock_read_until(m, fd, buf, sizeof(buf), want, 2000);
        }
    }
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 100000; i++) {
        uint64_t seq = mock_host_push_text(m, "<p>The lamp flickers.</p>");
        if (i % 100 == 99) {
            snprintf(want, sizeof(want), "\"seq\":%llu,", (unsigned long long)seq);
            mock_read_until(m, fd, buf, sizeof(buf), want, 2000);
            assert_non_null(strstr(buf, want));
        }
    }
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(m->session.send_failures, 0);
    assert_non_null(m->session.io);
    assert_true(m->session.io->backlog(m->session.conn) < 4096);
    long grown = (long)after.uordblks - (long)before.uordblks;
    print_message("heap in use changed by %ld bytes over 100000 frames\n", grown);
    assert_true(grown < 64 * 1024);
    close(fd);
    mock_host_free(m);
}

static void
client_that_stops_reading_is_cut_at_max_backlog(void **state)
{
    const char *conf[] = {"max_backlog", "4k", NULL};
    mock_host_t *m = serving_host(conf);
    char buf[8192], html[1025];
    memset(html, 'x', sizeof(html) - 1);
    html[sizeof(html) - 1] = '\0';
    int fd = open_stream(m, "", buf, sizeof(buf));
    /* No loop turn between pushes: h2o never calls proceed, so everything
     * after the first frame queues in the plugin, as for a client that
     * does not read. */
    int pushed = 0;
    for (; pushed < 10 && m->session.io != NULL; pushed++)
        mock_host_push_text(m, html);
    assert_int_equal(m->session.send_failures, 1);
    assert_null(m->session.io);
    assert_true(mock_host_log_has(m, "max_backlog"));
    /* what was queued still goes out, then the stream ends cleanly */
    static char all[1 << 16];
    size_t n = mock_read_until(m, fd, all, sizeof(all), "\r\n0\r\n\r\n", 2000);
    assert_non_null(strstr(all, "\r\n0\r\n\r\n"));
    int delivered = 0;
    for (const char *p = all; (p = strstr(p, "event: text\n")) != NULL; p++)
        delivered++;
    assert_true(pushed >= 3);
    assert_int_equal(delivered, pushed - 1); /* every accepted frame, whole; the refused one is held by the host */
    assert_true(n > (size_t)(pushed - 1) * 1024);
    close(fd);
    mock_host_free(m);
}

/* ---- POST /tale/input ---- */

static void
input_forwards_the_decoded_command(void **state)
{
    mock_host_t *m = serving_host(NULL);
    char buf[4096];
    exchange(
        m,
        "POST /tale/input HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" COOKIE
        "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: 25\r\n\r\ncmd=look+at+the%20lamp%21",
        buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 204"));
    assert_null(strstr(buf, "transfer-encoding")); /* a 204 has no body, not even an empty chunk */
    assert_int_equal(m->session.ninputs, 1);
    assert_string_equal(m->session.inputs[0].cmd, "look at the lamp!");
    assert_int_equal(m->session.inputs[0].flags, 0);

    exchange(m,
             "POST /tale/input HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" COOKIE
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\n\r\ncmd=ex&autocomplete=1",
             buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 204"));
    assert_int_equal(m->session.ninputs, 2);
    assert_string_equal(m->session.inputs[1].cmd, "ex");
    assert_int_equal(m->session.inputs[1].flags, TALE_INPUT_AUTOCOMPLETE);
    mock_host_free(m);
}

static void
input_errors_are_json_with_their_status(void **state)
{
    const char *conf[] = {"max_body", "64", NULL};
    mock_host_t *m = serving_host(conf);
    char buf[4096], req[1024];
    struct {
        const char *headers, *body, *status;
    } cases[] = {
        {FORM, "cmd=look", "HTTP/1.1 401"},                                  /* no cookie */
        {FORM "Cookie: tale_session=other\r\n", "cmd=look", "HTTP/1.1 401"}, /* unknown session */
        {COOKIE FORM, "cmd=%zz", "HTTP/1.1 400"},                            /* malformed */
        {COOKIE FORM, "cmd=lo%2", "HTTP/1.1 400"},                           /* truncated escape */
        {COOKIE FORM, "say=hi", "HTTP/1.1 400"},                             /* no cmd */
        {COOKIE FORM, "cmd=a&cmd=b", "HTTP/1.1 400"},                        /* ambiguous */
        {COOKIE FORM, "cmd=a%00b", "HTTP/1.1 400"},                          /* NUL byte */
        {COOKIE FORM, "cmd=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "HTTP/1.1 413"}, /* 68 > 64 */
        {COOKIE "Content-Type: application/json\r\n", "{\"cmd\":1}", "HTTP/1.1 415"},
        {COOKIE, "cmd=look", "HTTP/1.1 415"}, /* no Content-Type: a form always says it is one */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(req, sizeof(req), "POST /tale/input HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
                 cases[i].headers, strlen(cases[i].body), cases[i].body);
        exchange(m, req, buf, sizeof(buf));
        if (strstr(buf, cases[i].status) == NULL)
            fail_msg("case %zu (%s): got %.80s", i, cases[i].body, buf);
        assert_non_null(strstr(buf, "content-type: application/json"));
        assert_non_null(strstr(buf, "\r\n\r\n{\"error\":\""));
    }
    assert_int_equal(m->session.ninputs, 0);

    exchange(m, "GET /tale/input HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" COOKIE "\r\n", buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 405"));
    assert_non_null(strstr(buf, "allow: POST"));
    assert_non_null(strstr(buf, "{\"error\":\""));
    exchange(m, "GET /tale/input/more HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" COOKIE "\r\n", buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 404"));
    mock_host_free(m);
}

/* ---- GET /tale/tabcomplete ---- */

static void
tabcomplete_answers_the_hosts_json(void **state)
{
    mock_host_t *m = serving_host(NULL);
    char buf[4096];
    exchange(m, "GET /tale/tabcomplete?prefix=ex HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" COOKIE "\r\n", buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "content-type: application/json"));
    if (strstr(buf, "\r\n\r\n[\"examine\",\"exits\"]") == NULL)
        fail_msg("got: %s", buf);
    exchange(m, "GET /tale/tabcomplete?prefix=ex HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 401"));
    exchange(m, "GET /tale/tabcomplete?prefix=%g HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" COOKIE "\r\n", buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 400"));
    exchange(m, "POST /tale/tabcomplete HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" COOKIE "Content-Length: 0\r\n\r\n", buf,
             sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 405"));
    assert_non_null(strstr(buf, "allow: GET"));
    mock_host_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_refuses_an_unknown_key),
        cmocka_unit_test(init_refuses_out_of_range_values),
        cmocka_unit_test(start_mounts_the_three_paths),
        cmocka_unit_test(paths_can_be_configured),
        cmocka_unit_test(stream_has_the_headers_and_frames_events),
        cmocka_unit_test(last_event_id_is_passed_as_resume_after),
        cmocka_unit_test(keepalive_comment_is_sent_every_interval),
        cmocka_unit_test(taken_over_stream_ends_with_a_close_event),
        cmocka_unit_test(stop_ends_every_stream_and_detaches),
        cmocka_unit_test(client_disconnect_detaches_the_session),
        cmocka_unit_test(memory_stays_flat_over_many_frames),
        cmocka_unit_test(client_that_stops_reading_is_cut_at_max_backlog),
        cmocka_unit_test(input_forwards_the_decoded_command),
        cmocka_unit_test(input_errors_are_json_with_their_status),
        cmocka_unit_test(tabcomplete_answers_the_hosts_json),
    };
    /* as the real host does (H2O-NOTES 5): a vanished client must not kill us */
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
