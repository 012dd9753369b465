/*
 * test_ws_unit.c - the ws plugin against the mock host (tests/mock_host).
 *
 * Config and descriptor checks need no network.  Handshake and message tests
 * talk to the plugin through a real loopback socket on the mock's h2o loop:
 * the test thread writes a request, then turns the loop while it reads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mock_host.h"

static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ==";

static mock_host_t *
started_host(const char *const *conf)
{
    mock_host_t *m = mock_host_new();
    for (const char *const *kv = conf; kv != NULL && kv[0] != NULL; kv += 2)
        mock_host_conf_set(m, kv[0], kv[1]);
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), 0);
    assert_int_equal(mock_host_start(m), 0);
    assert_true(mock_host_listen(m) > 0);
    return m;
}

/* Send raw bytes and return the HTTP status line's code (or -1). */
static int
http_status(mock_host_t *m, const char *request, char *resp, size_t cap)
{
    int fd = mock_connect(m->port);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
    size_t n = mock_read_until(m, fd, resp, cap, "\r\n\r\n", 2000);
    /* let a body that follows the headers arrive too */
    if (n > 0 && strstr(resp, "101 ") == NULL && strstr(resp, "content-length") != NULL)
        n += mock_read_until(m, fd, resp + n, cap - n, "}", 500);
    close(fd);
    int code = -1;
    if (n >= 12)
        sscanf(resp, "HTTP/1.%*d %d", &code);
    return code;
}

static void
handshake_request(char *buf, size_t cap, const char *method, const char *target, const char *extra)
{
    snprintf(buf, cap,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
             method, target, KEY, extra != NULL ? extra : "");
}

/* ---- a minimal WebSocket client over a blocking socket ---- */

typedef struct wsmsg {
    int opcode;
    char data[70000];
    size_t len;
} wsmsg_t;

/* Read exactly n bytes, turning the mock loop while waiting; 0 or -1 on EOF/timeout. */
static int
read_exact(mock_host_t *m, int fd, void *buf, size_t n, int ms)
{
    size_t got = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (got < n) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0) {
            h2o_evloop_run(m->loop, 5);
        } else {
            ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
            if (r == 0)
                return -1;
            if (r > 0)
                got += (size_t)r;
            else if (errno != EAGAIN && errno != EINTR)
                return -1;
        }
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
            return -1;
    }
    return 0;
}

static int
ws_read(mock_host_t *m, int fd, wsmsg_t *msg, int ms)
{
    uint8_t h[2];
    if (read_exact(m, fd, h, 2, ms) != 0)
        return -1;
    msg->opcode = h[0] & 0x0f;
    uint64_t len = h[1] & 0x7f;
    if (len == 126) {
        uint8_t e[2];
        if (read_exact(m, fd, e, 2, ms) != 0)
            return -1;
        len = ((uint64_t)e[0] << 8) | e[1];
    } else if (len == 127) {
        uint8_t e[8];
        if (read_exact(m, fd, e, 8, ms) != 0)
            return -1;
        len = 0;
        for (int i = 0; i < 8; ++i)
            len = (len << 8) | e[i];
    }
    if (len >= sizeof(msg->data))
        return -1;
    if (read_exact(m, fd, msg->data, (size_t)len, ms) != 0)
        return -1;
    msg->data[len] = '\0';
    msg->len = (size_t)len;
    return 0;
}

/* The close code of a close frame. */
static int
close_code(const wsmsg_t *msg)
{
    return msg->opcode == 8 && msg->len >= 2 ? ((uint8_t)msg->data[0] << 8) | (uint8_t)msg->data[1] : -1;
}

static void
ws_send(int fd, int opcode, const void *data, size_t len)
{
    uint8_t buf[80000];
    size_t off = 0;
    static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    assert_true(len + 14 <= sizeof(buf));
    buf[off++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        buf[off++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        buf[off++] = 0x80 | 126;
        buf[off++] = (uint8_t)(len >> 8);
        buf[off++] = (uint8_t)len;
    } else {
        buf[off++] = 0x80 | 127;
        for (int i = 7; i >= 0; --i)
            buf[off++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(buf + off, mask, 4);
    off += 4;
    for (size_t i = 0; i < len; ++i)
        buf[off + i] = ((const uint8_t *)data)[i] ^ mask[i % 4];
    off += len;
    assert_int_equal(send(fd, buf, off, MSG_NOSIGNAL), (ssize_t)off);
}

/* Open a WebSocket; returns the fd after the 101 (headers copied to `headers` if given). */
static int
ws_open(mock_host_t *m, const char *target, const char *extra, char *headers, size_t cap)
{
    char req[1024], resp[4096];
    handshake_request(req, sizeof(req), "GET", target, extra);
    int fd = mock_connect(m->port);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    /* read the response head byte by byte so no frame bytes are swallowed */
    size_t n = 0;
    while (n + 1 < sizeof(resp) && (n < 4 || memcmp(resp + n - 4, "\r\n\r\n", 4) != 0)) {
        if (read_exact(m, fd, resp + n, 1, 2000) != 0)
            break;
        ++n;
    }
    resp[n] = '\0';
    assert_non_null(strstr(resp, "HTTP/1.1 101"));
    assert_non_null(strstr(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")); /* RFC 6455's sample accept key */
    if (headers != NULL)
        snprintf(headers, cap, "%s", resp);
    return fd;
}

static int
inputs_at_least(mock_host_t *m, void *arg)
{
    return m->session.ninputs >= (size_t)(uintptr_t)arg;
}

/* ---- descriptor and config ---- */

static void
descriptor_has_the_versions_and_callbacks(void **unused)
{
    const tale_plugin_desc_t *d = tale_plugin_entry();
    assert_int_equal(d->abi_major, TALE_ABI_MAJOR);
    assert_int_equal(d->abi_minor, TALE_ABI_MINOR);
    assert_int_equal(d->size, sizeof(tale_plugin_desc_t));
    assert_string_equal(d->h2o_version, H2O_VERSION);
    assert_string_equal(d->name, "ws");
    assert_non_null(d->version);
    assert_non_null(d->init);
    assert_non_null(d->start);
    assert_non_null(d->stop);
    assert_non_null(d->destroy);
}

static void
default_config_mounts_tale_ws(void **unused)
{
    mock_host_t *m = mock_host_new();
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), 0);
    assert_int_equal(mock_host_start(m), 0);
    assert_int_equal(m->nmounts, 1);
    assert_string_equal(m->mounts[0].path, "/tale/ws");
    mock_host_free(m);
}

static void
custom_path_is_mounted(void **unused)
{
    mock_host_t *m = mock_host_new();
    mock_host_conf_set(m, "path", "/game/socket");
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), 0);
    assert_int_equal(mock_host_start(m), 0);
    assert_string_equal(m->mounts[0].path, "/game/socket");
    mock_host_free(m);
}

static void
expect_init_error(const char *key, const char *value, const char *needle)
{
    mock_host_t *m = mock_host_new();
    mock_host_conf_set(m, key, value);
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    if (strstr(m->err, needle) == NULL)
        fail_msg("error for %s=%s was \"%s\", expected it to contain \"%s\"", key, value, m->err, needle);
    mock_host_free(m);
}

static void
unknown_key_is_refused_with_its_location(void **unused)
{
    expect_init_error("max_mesage", "1k", "mock.yaml:1:1: max_mesage: unknown key");
}

static void
malformed_values_are_refused(void **unused)
{
    expect_init_error("max_message", "lots", "max_message: expected a size");
    expect_init_error("max_backlog", "-3", "max_backlog: expected a size");
    expect_init_error("ping_interval", "soon", "ping_interval: expected a duration");
    expect_init_error("idle_timeout", "1x", "idle_timeout: expected a duration");
    expect_init_error("path", "tale/ws", "path must start with '/'");
    expect_init_error("max_message", "8", "max_message must be at least");
    expect_init_error("max_backlog", "100", "max_backlog must be at least");
}

static void
idle_timeout_must_exceed_ping_interval(void **unused)
{
    mock_host_t *m = mock_host_new();
    mock_host_conf_set(m, "ping_interval", "30s");
    mock_host_conf_set(m, "idle_timeout", "10s");
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    assert_non_null(strstr(m->err, "idle_timeout must be longer than ping_interval"));
    mock_host_free(m);
}

static void
mount_conflict_fails_start(void **unused)
{
    mock_host_t *m = mock_host_new();
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), 0);
    m->mounts[m->nmounts++] = (mock_mount_t){strdup("/tale/ws"), NULL, NULL};
    assert_int_equal(mock_host_start(m), -1);
    assert_non_null(strstr(m->err, "already mounted"));
    mock_host_free(m);
}

/* ---- handshake refusals ---- */

static void
refusals_get_their_status(void **unused)
{
    mock_host_t *m = started_host(NULL);
    char req[1024], resp[4096];

    handshake_request(req, sizeof(req), "POST", "/tale/ws", "Content-Length: 0\r\n");
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 405);
    assert_non_null(strcasestr(resp, "allow: GET"));
    assert_non_null(strstr(resp, "{\"error\":"));

    snprintf(req, sizeof(req), "GET /tale/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 426);
    assert_non_null(strcasestr(resp, "upgrade: websocket"));

    snprintf(req, sizeof(req),
             "GET /tale/ws HTTP/1.0\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
             KEY);
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 426);

    snprintf(req, sizeof(req),
             "GET /tale/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n");
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 400);

    snprintf(req, sizeof(req),
             "GET /tale/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n");
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 400);

    snprintf(req, sizeof(req),
             "GET /tale/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 8\r\n\r\n",
             KEY);
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 426);
    assert_non_null(strcasestr(resp, "sec-websocket-version: 13"));

    /* the host's refusals (Host, Origin, seat rules, per-address limits) pass through as they are */
    m->open_status = 403;
    handshake_request(req, sizeof(req), "GET", "/tale/ws", "Origin: http://evil.example\r\n");
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 403);
    assert_non_null(strstr(resp, "{\"error\":\"mock refusal\"}"));
    m->open_status = 429;
    handshake_request(req, sizeof(req), "GET", "/tale/ws", NULL);
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 429);
    assert_non_null(strcasestr(resp, "retry-after: 60"));
    m->open_status = 0;

    handshake_request(req, sizeof(req), "GET", "/tale/ws?resume=12x", NULL);
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 400);

    handshake_request(req, sizeof(req), "GET", "/tale/ws/deeper", NULL);
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 404);

    m->refuse_sessions = 1;
    handshake_request(req, sizeof(req), "GET", "/tale/ws", NULL);
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 503);
    assert_int_equal(m->session.attach_count, 0);
    mock_host_free(m);
}

static void
the_handshake_asks_the_host_for_a_seat_with_create(void **unused)
{
    mock_host_t *m = started_host(NULL);
    int fd = ws_open(m, "/tale/ws", "Origin: http://127.0.0.1\r\n", NULL, 0);
    close(fd);
    mock_host_run(m, 50);
    assert_int_equal(m->session.attach_count, 1);
    assert_true(m->session.last_flags & TALE_SESSION_CREATE);
    mock_host_free(m);
}

static void
allowed_origins_moved_to_the_top_level(void **unused)
{
    mock_host_t *m = mock_host_new();
    mock_host_conf_set(m, "allowed_origins", "https://friend.example");
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    assert_non_null(strstr(m->err, "top level"));
    mock_host_free(m);
}

static void
a_custom_path_serves(void **unused)
{
    static const char *const conf[] = {"path", "/play/socket", NULL};
    mock_host_t *m = started_host(conf);
    int fd = ws_open(m, "/play/socket", NULL, NULL, 0);
    close(fd);
    char req[1024], resp[4096];
    handshake_request(req, sizeof(req), "GET", "/tale/ws", NULL);
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 404);
    mock_host_free(m);
}

/* ---- a connection's life ---- */

static void
connected_then_held_frames_then_live_frames(void **unused)
{
    mock_host_t *m = started_host(NULL);
    mock_host_push_text(m, "<p>welcome</p>");
    char head[4096];
    int fd = ws_open(m, "/tale/ws", NULL, head, sizeof(head));
    assert_non_null(strcasestr(head, "set-cookie: tale_session=mock; HttpOnly; SameSite=Strict; Path=/"));
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_int_equal(msg->opcode, 1);
    assert_string_equal(msg->data, "{\"type\":\"connected\"}");
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_non_null(strstr(msg->data, "\"seq\":1,\"text\":\"<p>welcome</p>\""));
    mock_host_push_text(m, "<p>a tick</p>");
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_non_null(strstr(msg->data, "\"seq\":2,\"text\":\"<p>a tick</p>\""));
    assert_int_equal(m->session.last_resume_after, 0);
    free(msg);
    close(fd);
    mock_host_free(m);
}

/* This process's write system calls so far (/proc/self/io, syscw), or -1. */
static long long
write_syscalls(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    long long n = -1;
    char line[128];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "syscw: %lld", &n) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return n;
}

/* Frames queued before the plugin writes leave in one write system call:
 * header and payload of each, and all of them together.  h2o 2.2.5's own
 * websocket layer wrote each frame as two writes, and a client woke for the
 * header alone.  Counted with the kernel's per-process write counter: the
 * mock host runs in this process, and nothing else here writes meanwhile. */
static void
frames_queued_together_leave_in_one_write(void **unused)
{
    mock_host_t *m = started_host(NULL);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0); /* connected */
    mock_host_run(m, 20);                           /* let that write complete */
    long long before = write_syscalls();
    if (before < 0) {
        free(msg);
        close(fd);
        mock_host_free(m);
        skip(); /* no per-process I/O accounting in this kernel */
    }
    mock_host_push_text(m, "<p>one</p>");
    mock_host_push_text(m, "<p>two</p>");
    mock_host_push_text(m, "<p>three</p>");
    struct pollfd pfd = {fd, POLLIN, 0};
    for (int i = 0; i < 400 && poll(&pfd, 1, 0) == 0; i++)
        h2o_evloop_run(m->loop, 5);
    mock_host_run(m, 20); /* any write that would still follow */
    assert_int_equal(write_syscalls() - before, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ws_read(m, fd, msg, 2000), 0);
        assert_int_equal(msg->opcode, 1);
    }
    assert_non_null(strstr(msg->data, "<p>three</p>"));
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
a_known_cookie_gets_no_new_one_even_in_a_second_cookie_header(void **unused)
{
    mock_host_t *m = started_host(NULL);
    char head[4096];
    int fd = ws_open(m, "/tale/ws", "Cookie: theme=dark\r\nCookie: tale_session=mock\r\n", head, sizeof(head));
    assert_null(strcasestr(head, "set-cookie"));
    assert_int_equal(m->session.attach_count, 1);
    close(fd);
    mock_host_free(m);
}

static void
resume_replays_only_later_frames(void **unused)
{
    mock_host_t *m = started_host(NULL);
    for (int i = 0; i < 3; ++i)
        mock_host_push_text(m, "<p>x</p>");
    int fd = ws_open(m, "/tale/ws?v=2&resume=2", "Cookie: tale_session=mock\r\n", NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_string_equal(msg->data, "{\"type\":\"connected\"}");
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_non_null(strstr(msg->data, "\"seq\":3,"));
    assert_int_equal(m->session.last_resume_after, 2);
    /* nothing else is pending */
    assert_int_equal(ws_read(m, fd, msg, 200), -1);
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
input_forms_reach_the_session(void **unused)
{
    mock_host_t *m = started_host(NULL);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0); /* connected */

    static const char cmd[] = "{\"cmd\":\"look around\"}", ac[] = "{\"cmd\":\"ex\",\"autocomplete\":1}", plain[] = "open the door";
    ws_send(fd, 1, cmd, strlen(cmd));
    ws_send(fd, 1, ac, strlen(ac));
    ws_send(fd, 1, plain, strlen(plain));
    assert_true(mock_host_run_until(m, inputs_at_least, (void *)3, 2000));
    assert_string_equal(m->session.inputs[0].cmd, "look around");
    assert_int_equal(m->session.inputs[0].flags, 0);
    assert_string_equal(m->session.inputs[1].cmd, "ex");
    assert_int_equal(m->session.inputs[1].flags, TALE_INPUT_AUTOCOMPLETE);
    assert_string_equal(m->session.inputs[2].cmd, "open the door");
    assert_int_equal(m->session.inputs[2].flags, 0);

    /* JSON that is not an object, and a non-string cmd: a text frame, and the connection stays */
    ws_send(fd, 1, "[1,2]", 5);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_non_null(strstr(msg->data, "\"type\":\"text\""));
    assert_non_null(strstr(msg->data, "must be an object"));
    assert_null(strstr(msg->data, "\"seq\""));
    ws_send(fd, 1, "{\"cmd\":5}", 9);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_non_null(strstr(msg->data, "must be a string"));
    ws_send(fd, 1, cmd, strlen(cmd));
    assert_true(mock_host_run_until(m, inputs_at_least, (void *)4, 2000));
    assert_int_equal(m->session.ninputs, 4);
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
binary_message_closes_1003(void **unused)
{
    mock_host_t *m = started_host(NULL);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    ws_send(fd, 2, "\x01\x02", 2);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_int_equal(close_code(msg), 1003);
    assert_int_equal(m->session.detach_count, 1);
    assert_int_equal(m->session.last_close_code, 1003); /* session_closed (ABI 1.3) tells the host */
    ws_send(fd, 8, "\x03\xeb", 2);
    assert_int_equal(ws_read(m, fd, msg, 2000), -1); /* the server closes the socket */
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
oversized_message_closes_1009(void **unused)
{
    static const char *const conf[] = {"max_message", "1k", NULL};
    mock_host_t *m = started_host(conf);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    char big[2000];
    memset(big, 'a', sizeof(big));
    ws_send(fd, 1, big, sizeof(big));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_int_equal(close_code(msg), 1009);
    assert_int_equal(m->session.ninputs, 0);
    free(msg);
    close(fd);
    mock_host_free(m);
}

/* A command, then in the same write a ping header declaring 126 bytes
 * (RFC 6455, 5.5: at most 125): the command is run, then close 1002 with a
 * reason, then the socket is closed, with none of the ping's payload sent. */
static void
broken_header_after_a_command_closes_1002_once_the_command_ran(void **unused)
{
    mock_host_t *m = started_host(NULL);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    static const uint8_t bytes[] = {0x81, 0x84, 0, 0, 0, 0, 'l', 'o', 'o', 'k', 0x89, 0x80 | 126, 0, 126, 0, 0, 0, 0};
    assert_int_equal(send(fd, bytes, sizeof(bytes), MSG_NOSIGNAL), (ssize_t)sizeof(bytes));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_int_equal(close_code(msg), 1002);
    assert_string_equal(msg->data + 2, "control frame payload over 125 bytes");
    assert_int_equal(m->session.ninputs, 1);
    assert_int_equal(ws_read(m, fd, msg, 2000), -1); /* the server closes the socket */
    free(msg);
    close(fd);
    mock_host_free(m);
}

/* A header declaring more than max_message, with no payload after it: close
 * 1009 at once, not at the idle timeout. */
static void
header_over_max_message_closes_1009_before_any_payload(void **unused)
{
    static const char *const conf[] = {"max_message", "1k", NULL};
    mock_host_t *m = started_host(conf);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    static const uint8_t header[] = {0x81, 0x80 | 126, 0x04, 0x01}; /* 1025 bytes; not even the mask key follows */
    assert_int_equal(send(fd, header, sizeof(header), MSG_NOSIGNAL), (ssize_t)sizeof(header));
    assert_int_equal(ws_read(m, fd, msg, 500), 0);
    assert_int_equal(close_code(msg), 1009);
    assert_int_equal(ws_read(m, fd, msg, 2000), -1);
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
invalid_utf8_closes_1007(void **unused)
{
    mock_host_t *m = started_host(NULL);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    ws_send(fd, 1, "look \xff\xfe", 7);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_int_equal(close_code(msg), 1007);
    assert_int_equal(m->session.ninputs, 0);
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
take_over_closes_the_old_connection_4001(void **unused)
{
    mock_host_t *m = started_host(NULL);
    wsmsg_t *msg = malloc(sizeof(*msg));
    int a = ws_open(m, "/tale/ws", NULL, NULL, 0);
    assert_int_equal(ws_read(m, a, msg, 2000), 0);
    int b = ws_open(m, "/tale/ws", "Cookie: tale_session=mock\r\n", NULL, 0);
    assert_int_equal(ws_read(m, a, msg, 2000), 0);
    assert_int_equal(close_code(msg), TALE_CLOSE_TAKEN_OVER);
    assert_non_null(strstr(msg->data + 2, "took over"));
    /* input on the old connection after take-over goes nowhere; the new one plays */
    assert_int_equal(ws_read(m, b, msg, 2000), 0);
    assert_string_equal(msg->data, "{\"type\":\"connected\"}");
    ws_send(b, 1, "{\"cmd\":\"wait\"}", 14);
    assert_true(mock_host_run_until(m, inputs_at_least, (void *)1, 2000));
    assert_string_equal(m->session.inputs[0].cmd, "wait");
    free(msg);
    close(a);
    close(b);
    mock_host_free(m);
}

static void
stop_closes_with_1001_and_refuses_new_handshakes(void **unused)
{
    mock_host_t *m = started_host(NULL);
    wsmsg_t *msg = malloc(sizeof(*msg));
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    m->stopped = 1;
    m->desc->stop((tale_plugin_t *)(void *)m, m->state);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_int_equal(close_code(msg), 1001);
    char req[1024], resp[4096];
    handshake_request(req, sizeof(req), "GET", "/tale/ws", NULL);
    assert_int_equal(http_status(m, req, resp, sizeof(resp)), 503);
    ws_send(fd, 8, "\x03\xe9", 2);
    assert_int_equal(ws_read(m, fd, msg, 2000), -1);
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
silent_peer_is_dropped_after_idle_timeout(void **unused)
{
    static const char *const conf[] = {"ping_interval", "100ms", "idle_timeout", "400ms", NULL};
    mock_host_t *m = started_host(conf);
    wsmsg_t *msg = malloc(sizeof(*msg));
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    int pings = 0, r;
    /* never answer: we see pings, then the server hangs up */
    while ((r = ws_read(m, fd, msg, 2000)) == 0)
        pings += msg->opcode == 9;
    assert_true(pings >= 2);
    assert_true(mock_host_log_has(m, "dropping a connection silent for"));
    assert_int_equal(m->session.detach_count, 1);
    assert_int_equal(m->session.last_close_code, TALE_CLOSE_ABNORMAL);
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
answering_pings_keeps_the_connection(void **unused)
{
    static const char *const conf[] = {"ping_interval", "100ms", "idle_timeout", "400ms", NULL};
    mock_host_t *m = started_host(conf);
    wsmsg_t *msg = malloc(sizeof(*msg));
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    int pongs = 0;
    while (pongs < 10 && ws_read(m, fd, msg, 1000) == 0) {
        if (msg->opcode == 9) {
            ws_send(fd, 10, msg->data, msg->len);
            ++pongs;
        }
    }
    assert_int_equal(pongs, 10); /* ~1 s, well past idle_timeout */
    assert_int_equal(m->session.detach_count, 0);
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
client_that_does_not_read_is_closed_1008(void **unused)
{
    static const char *const conf[] = {"max_backlog", "64k", NULL};
    mock_host_t *m = started_host(conf);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    static char html[4001];
    memset(html, 'z', sizeof(html) - 1);
    /* 4 kB frames, flushed as we go, until the kernel buffers are full and
     * the plugin's own queue is over max_backlog (bounded: 20,000 frames) */
    int i;
    for (i = 0; i < 20000 && m->session.io != NULL; ++i) {
        mock_host_push_text(m, html);
        if (i % 16 == 0)
            h2o_evloop_run(m->loop, 0);
        if (m->session.io != NULL && m->session.io->backlog(m->session.conn) > 64 * 1024)
            break;
    }
    assert_true(i < 20000);
    assert_false(mock_host_log_has(m, "does not read")); /* over the limit starts a clock, nothing more */
    mock_host_run(m, 600);                               /* still not reading after the grace */
    assert_true(mock_host_log_has(m, "closing a connection that does not read"));
    assert_null(m->session.io); /* detached: the session stays for a resume */
    assert_int_equal(m->session.detach_count, 1);
    assert_int_equal(m->session.last_close_code, TALE_CLOSE_POLICY);
    /* The close frame cannot get through a full socket: after the close grace
     * the server drops the socket with its write still pending. */
    mock_host_run(m, 2300);
    static char sink[1 << 16];
    size_t total = 0;
    ssize_t n;
    do {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 2000) != 1)
            break;
        n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        total += n > 0 ? (size_t)n : 0;
    } while (n > 0 && total < (256u << 20));
    assert_int_equal(n, 0); /* EOF after what the kernel held */
    close(fd);
    mock_host_free(m);
}

static void
a_burst_over_max_backlog_to_a_reading_client_is_fine(void **unused)
{
    static const char *const conf[] = {"max_backlog", "1k", NULL};
    mock_host_t *m = started_host(conf);
    static char html[201];
    memset(html, 'b', sizeof(html) - 1);
    for (int i = 0; i < 100; ++i) /* a 25 kB replay for a 1 kB max_backlog */
        mock_host_push_text(m, html);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    wsmsg_t *msg = malloc(sizeof(*msg));
    for (int i = 0; i < 101; ++i)
        assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_non_null(strstr(msg->data, "\"seq\":100,"));
    mock_host_run(m, 500);
    assert_non_null(m->session.io);
    assert_false(mock_host_log_has(m, "does not read"));
    free(msg);
    close(fd);
    mock_host_free(m);
}

static void
queue_past_the_hard_cap_closes_at_once(void **unused)
{
    static const char *const conf[] = {"max_backlog", "1k", NULL};
    mock_host_t *m = started_host(conf);
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    mock_host_run(m, 50); /* the 101 is out; from here the loop does not turn, so nothing is written */
    static char html[4001];
    memset(html, 'h', sizeof(html) - 1);
    int i;
    for (i = 0; i < 2000 && m->session.send_failures == 0; ++i)
        mock_host_push_text(m, html);
    assert_int_equal(m->session.send_failures, 1); /* the host is told at once... */
    assert_true(i > 1000 && i < 1100);             /* ...at 4 MB, the floor of the hard cap */
    assert_true(mock_host_log_has(m, "closing a connection that does not read"));
    close(fd);
    mock_host_free(m);
}

static void
host_api_1_3_is_needed_and_other_majors_are_refused(void **unused)
{
    mock_host_t *m = mock_host_new();
    m->api.size = offsetof(tale_host_api_t, conf_table) + sizeof(m->api.conf_table); /* a 1.3 host */
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), 0);
    mock_host_free(m);

    m = mock_host_new();
    m->api.size = offsetof(tale_host_api_t, request_check) + sizeof(m->api.request_check); /* a 1.2 host: no conf_table */
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    assert_non_null(strstr(m->err, "is not the one this plugin was built for"));
    mock_host_free(m);

    m = mock_host_new();
    m->api.conf_table = NULL; /* in the table but not provided: TALE_HOST_HAS says no */
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    mock_host_free(m);

    m = mock_host_new();
    m->api.abi_major = TALE_ABI_MAJOR + 1;
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    assert_non_null(strstr(m->err, "host API"));
    mock_host_free(m);

    m = mock_host_new();
    m->api.size = offsetof(tale_host_api_t, free); /* too short to hold what we call */
    assert_int_equal(mock_host_init(m, tale_plugin_entry()), -1);
    mock_host_free(m);
}

/* A connection still open after the drain is closed by destroy, and no timer
 * of the plugin is left linked (h2o_context_dispose would assert). */
static void
destroy_closes_connections_left_after_the_drain(void **unused)
{
    mock_host_t *m = started_host(NULL);
    wsmsg_t *msg = malloc(sizeof(*msg));
    int fd = ws_open(m, "/tale/ws", NULL, NULL, 0);
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    mock_host_stop(m, 50); /* the close frame goes out; we never answer it */
    assert_int_equal(ws_read(m, fd, msg, 2000), 0);
    assert_int_equal(close_code(msg), 1001);
    mock_host_free(m); /* destroy, then context dispose */
    struct pollfd pfd = {fd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 2000), 1);
    char b[16];
    assert_int_equal(recv(fd, b, sizeof(b), MSG_DONTWAIT), 0); /* EOF: the server closed the socket */
    free(msg);
    close(fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(descriptor_has_the_versions_and_callbacks),
        cmocka_unit_test(default_config_mounts_tale_ws),
        cmocka_unit_test(custom_path_is_mounted),
        cmocka_unit_test(unknown_key_is_refused_with_its_location),
        cmocka_unit_test(malformed_values_are_refused),
        cmocka_unit_test(idle_timeout_must_exceed_ping_interval),
        cmocka_unit_test(mount_conflict_fails_start),
        cmocka_unit_test(refusals_get_their_status),
        cmocka_unit_test(the_handshake_asks_the_host_for_a_seat_with_create),
        cmocka_unit_test(allowed_origins_moved_to_the_top_level),
        cmocka_unit_test(a_custom_path_serves),
        cmocka_unit_test(connected_then_held_frames_then_live_frames),
        cmocka_unit_test(frames_queued_together_leave_in_one_write),
        cmocka_unit_test(a_known_cookie_gets_no_new_one_even_in_a_second_cookie_header),
        cmocka_unit_test(resume_replays_only_later_frames),
        cmocka_unit_test(input_forms_reach_the_session),
        cmocka_unit_test(binary_message_closes_1003),
        cmocka_unit_test(oversized_message_closes_1009),
        cmocka_unit_test(broken_header_after_a_command_closes_1002_once_the_command_ran),
        cmocka_unit_test(header_over_max_message_closes_1009_before_any_payload),
        cmocka_unit_test(invalid_utf8_closes_1007),
        cmocka_unit_test(take_over_closes_the_old_connection_4001),
        cmocka_unit_test(stop_closes_with_1001_and_refuses_new_handshakes),
        cmocka_unit_test(silent_peer_is_dropped_after_idle_timeout),
        cmocka_unit_test(answering_pings_keeps_the_connection),
        cmocka_unit_test(client_that_does_not_read_is_closed_1008),
        cmocka_unit_test(a_burst_over_max_backlog_to_a_reading_client_is_fine),
        cmocka_unit_test(queue_past_the_hard_cap_closes_at_once),
        cmocka_unit_test(host_api_1_3_is_needed_and_other_majors_are_refused),
        cmocka_unit_test(destroy_closes_connections_left_after_the_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
