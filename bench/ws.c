/*
 * ws.c - a WebSocket client: our own HTTP upgrade over a non-blocking socket,
 * then wslay: its event API frames what we send (masking, control frames),
 * its frame API reads what the server sends.
 *
 * Why not the event API for reading too: it checks every byte of a text
 * message against a UTF-8 decoder and copies the message into a fresh
 * allocation, 1-2 us per 500-byte answer here.  That is client work, and
 * tcp-ref's client does none of it, so it would be charged to the host in
 * every ratio.  The frame API still checks the framing (and tells a protocol
 * error); the strict UTF-8 check belongs to the integration tests, which use
 * the npm `ws` client.
 */
#include "bench.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_HEAD_MAX 8192

struct bench_ws {
    int fd;
    wslay_event_context_ptr ctx;  /* sending */
    wslay_frame_context_ptr rctx; /* receiving */
    /* The message being received (fragments joined) and the frame being read. */
    bench_buf_t msg;
    int msg_opcode;      /* of the message's first frame; 0: none in progress */
    uint64_t frame_left; /* payload bytes of the current frame still to come */
    int frame_opcode, frame_fin;
    uint8_t ctl[125]; /* a control frame's payload (never fragmented, at most 125 bytes) */
    size_t ctl_len;
    /* Bytes that arrived with the 101 answer, after its header: wslay reads them first. */
    char *pre;
    size_t pre_len, pre_off;
    bench_ws_msg_cb cb;
    void *ud;
    int failed;
    uint64_t rng; /* xorshift state for masks: a benchmark needs unpredictable enough, not secret */
    char cookie[256];
    /* wslay hands a frame over in pieces (header, then payload): gather them
     * and write once, as a browser does, so a frame is one TCP segment. */
    bench_buf_t out;
    /* One recv per pump, after poll said readable, as tcp-ref's client does:
     * reading again until EAGAIN would charge the host for a syscall that is
     * the client's own. */
    int did_recv;
};

/* wslay's frame layer asks for bytes: first those that came with the 101,
 * then one recv per pump.  -1 means "nothing now" (WSLAY_ERR_WANT_READ); a
 * closed or broken connection also marks the client failed. */
static ssize_t
on_frame_recv(uint8_t *buf, size_t len, int flags, void *user_data)
{
    bench_ws_t *ws = user_data;
    if (ws->pre_off < ws->pre_len) {
        size_t n = ws->pre_len - ws->pre_off;
        if (n > len)
            n = len;
        memcpy(buf, ws->pre + ws->pre_off, n);
        ws->pre_off += n;
        return (ssize_t)n;
    }
    if (ws->did_recv)
        return -1;
    for (;;) {
        ssize_t r = recv(ws->fd, buf, len, 0);
        if (r > 0) {
            ws->did_recv = 1;
            return r;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            ws->failed = 1;
        return -1;
    }
}

/* The frame layer never sends: the event context does. */
static ssize_t
on_frame_send(const uint8_t *data, size_t len, int flags, void *user_data)
{
    return -1;
}

/* Nor does the event context read. */
static ssize_t
on_event_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user_data)
{
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
}

static ssize_t
on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user_data)
{
    bench_ws_t *ws = user_data;
    if (bench_buf_append(&ws->out, data, len, SIZE_MAX) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

/* Let wslay frame everything queued, then write it in one go. */
static int
ws_flush(bench_ws_t *ws, uint64_t deadline_ns)
{
    if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) != 0)
        return -1;
    int rc = ws->out.len ? bench_write_all(ws->fd, ws->out.p, ws->out.len, deadline_ns) : 0;
    ws->out.len = 0;
    return rc;
}

static int
on_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user_data)
{
    bench_ws_t *ws = user_data;
    for (size_t i = 0; i < len; i++) {
        ws->rng ^= ws->rng << 13;
        ws->rng ^= ws->rng >> 7;
        ws->rng ^= ws->rng << 17;
        buf[i] = (uint8_t)ws->rng;
    }
    return 0;
}

/* A whole frame has arrived: deliver a finished text message, answer a ping,
 * note a close.  Data frames may be fragments of one message. */
static void
on_frame(bench_ws_t *ws)
{
    switch (ws->frame_opcode) {
    case WSLAY_PING: {
        struct wslay_event_msg pong = {WSLAY_PONG, ws->ctl, ws->ctl_len};
        if (wslay_event_queue_msg(ws->ctx, &pong) != 0)
            ws->failed = 1;
        break;
    }
    case WSLAY_PONG:
        break;
    case WSLAY_CONNECTION_CLOSE:
        ws->failed = 1;
        break;
    default:
        if (ws->frame_fin) {
            if (ws->msg_opcode == WSLAY_TEXT_FRAME && ws->cb != NULL)
                ws->cb(ws->ud, ws->msg.p, ws->msg.len);
            ws->msg.len = 0;
            ws->msg_opcode = 0;
        }
        break;
    }
}

/* Read what the socket has into frames and messages.  0, or -1 on a protocol
 * error or a closed connection. */
static int
read_frames(bench_ws_t *ws)
{
    for (;;) {
        struct wslay_frame_iocb io;
        ssize_t r = wslay_frame_recv(ws->rctx, &io);
        if (r == WSLAY_ERR_WANT_READ)
            return ws->failed ? -1 : 0;
        if (r < 0)
            return -1;
        if (ws->frame_left == 0) { /* a new frame */
            ws->frame_opcode = io.opcode;
            ws->frame_fin = io.fin;
            ws->frame_left = io.payload_length;
            ws->ctl_len = 0;
            if (io.opcode >= 0x8) {
                if (io.payload_length > sizeof(ws->ctl) || !io.fin)
                    return -1; /* RFC 6455 5.5 */
            } else if (io.opcode == WSLAY_CONTINUATION_FRAME ? ws->msg_opcode == 0 : ws->msg_opcode != 0) {
                return -1; /* a continuation of nothing, or a new message inside one */
            } else if (io.opcode != WSLAY_CONTINUATION_FRAME) {
                ws->msg_opcode = io.opcode;
            }
        }
        if (io.data_length > ws->frame_left)
            return -1;
        ws->frame_left -= io.data_length;
        if (ws->frame_opcode >= 0x8) {
            memcpy(ws->ctl + ws->ctl_len, io.data, io.data_length);
            ws->ctl_len += io.data_length;
        } else if (bench_buf_append(&ws->msg, io.data, io.data_length, SIZE_MAX) != 0) {
            return -1;
        }
        if (ws->frame_left == 0)
            on_frame(ws);
        if (ws->failed)
            return -1;
    }
}

/* Keep only the "tale_session=<token>" pair of a Set-Cookie value. */
static void
cookie_pair(const char *set_cookie, char *out, size_t outlen)
{
    size_t n = strcspn(set_cookie, ";");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, set_cookie, n);
    out[n] = '\0';
}

static void
fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s%s%s", what, errno ? ": " : "", errno ? strerror(errno) : "");
}

int
bench_ws_request(uint16_t port, const char *path, const char *cookie, char *req, size_t reqlen, char *expect, size_t expectlen)
{
    uint8_t raw[16];
    if (getrandom(raw, sizeof(raw), 0) != sizeof(raw) || expectlen < 29)
        return -1;
    char key[32];
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
    char cat[128];
    snprintf(cat, sizeof(cat), "%s%s", key, WS_GUID);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, strlen(cat), sha);
    EVP_EncodeBlock((unsigned char *)expect, sha, sizeof(sha));
    int rl = snprintf(req, reqlen,
                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nOrigin: http://127.0.0.1:%u\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                      path, port, port, key, cookie && *cookie ? "Cookie: " : "", cookie && *cookie ? cookie : "",
                      cookie && *cookie ? "\r\n" : "");
    return rl > 0 && (size_t)rl < reqlen ? rl : -1;
}

bench_ws_t *
bench_ws_adopt(int fd, char *head, size_t hl, const char *expect, const char *cookie, bench_ws_msg_cb cb, void *ud, char *err,
               size_t errlen)
{
    char *eoh = memmem(head, hl, "\r\n\r\n", 4);
    if (eoh == NULL || hl > WS_HEAD_MAX) {
        snprintf(err, errlen, "incomplete upgrade answer");
        return NULL;
    }
    size_t hdr_len = (size_t)(eoh - head) + 4;
    eoh[2] = '\0'; /* keep the last header's \r\n for bench_http_header */
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        snprintf(err, errlen, "upgrade refused: %.*s", (int)strcspn(head, "\r\n"), head);
        return NULL;
    }
    char accept[128], setc[512];
    if (bench_http_header(head, "Sec-WebSocket-Accept", accept, sizeof(accept)) != 0 || strcmp(accept, expect) != 0) {
        snprintf(err, errlen, "bad Sec-WebSocket-Accept (want %s)", expect);
        return NULL;
    }
    bench_ws_t *ws = calloc(1, sizeof(*ws));
    if (ws == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ws->fd = fd;
    ws->cb = cb;
    ws->ud = ud;
    /* Whatever followed the header is WebSocket data: wslay reads it first. */
    ws->pre_len = hl - hdr_len;
    if (ws->pre_len > 0 && (ws->pre = malloc(ws->pre_len)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(ws);
        return NULL;
    }
    if (ws->pre_len > 0)
        memcpy(ws->pre, head + hdr_len, ws->pre_len);
    if (getrandom(&ws->rng, sizeof(ws->rng), 0) != sizeof(ws->rng))
        ws->rng = (uint64_t)bench_now_ns();
    ws->rng |= 1; /* xorshift must not start at 0 */
    if (bench_http_header(head, "Set-Cookie", setc, sizeof(setc)) == 0)
        cookie_pair(setc, ws->cookie, sizeof(ws->cookie));
    else if (cookie)
        snprintf(ws->cookie, sizeof(ws->cookie), "%s", cookie);

    static const struct wslay_event_callbacks cbs = {on_event_recv, on_send, on_genmask, NULL, NULL, NULL, NULL};
    static const struct wslay_frame_callbacks fcbs = {on_frame_send, on_frame_recv, NULL};
    if (wslay_event_context_client_init(&ws->ctx, &cbs, ws) != 0) {
        snprintf(err, errlen, "wslay init failed");
        goto err;
    }
    if (wslay_frame_context_init(&ws->rctx, &fcbs, ws) != 0) {
        wslay_event_context_free(ws->ctx);
        snprintf(err, errlen, "wslay init failed");
        goto err;
    }
    return ws;
err:
    free(ws->pre);
    free(ws);
    return NULL;
}

bench_ws_t *
bench_ws_open(uint16_t port, const char *path, const char *cookie, bench_ws_msg_cb cb, void *ud, uint64_t deadline_ns, char *err,
              size_t errlen)
{
    errno = 0;
    int fd = bench_connect(port);
    if (fd < 0) {
        fail(err, errlen, "connect");
        return NULL;
    }
    char req[1024], expect[64];
    int rl = bench_ws_request(port, path, cookie, req, sizeof(req), expect, sizeof(expect));
    if (rl < 0 || bench_write_all(fd, req, (size_t)rl, deadline_ns) != 0) {
        fail(err, errlen, "write upgrade request");
        goto err;
    }

    /* Read until the end of the response header; whatever follows is WebSocket data. */
    char head[WS_HEAD_MAX + 1];
    size_t hl = 0;
    while (memmem(head, hl, "\r\n\r\n", 4) == NULL) {
        if (hl == WS_HEAD_MAX) {
            snprintf(err, errlen, "upgrade answer header over %d bytes", WS_HEAD_MAX);
            goto err;
        }
        int w = bench_wait_readable(fd, deadline_ns);
        if (w <= 0) {
            snprintf(err, errlen, "no upgrade answer before the deadline");
            goto err;
        }
        ssize_t r = recv(fd, head + hl, WS_HEAD_MAX - hl, 0);
        if (r == 0) {
            snprintf(err, errlen, "connection closed during the upgrade");
            goto err;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            fail(err, errlen, "read upgrade answer");
            goto err;
        }
        hl += (size_t)r;
        head[hl] = '\0';
    }
    bench_ws_t *ws = bench_ws_adopt(fd, head, hl, expect, cookie, cb, ud, err, errlen);
    if (ws != NULL)
        return ws;
err:
    close(fd);
    return NULL;
}

int
bench_ws_send_text(bench_ws_t *ws, const char *msg, size_t len, uint64_t deadline_ns)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)msg, len};
    if (ws->failed || wslay_event_queue_msg(ws->ctx, &m) != 0)
        return -1;
    /* bench_write_all waits for room; the server may block on us meanwhile
     * only if we never read, and the pipeline reads between sends. */
    return ws_flush(ws, deadline_ns);
}

int
bench_ws_pump(bench_ws_t *ws, uint64_t deadline_ns)
{
    if (ws->failed)
        return -1;
    if (ws->pre_off >= ws->pre_len) {
        int w = bench_wait_readable(ws->fd, deadline_ns);
        if (w < 0)
            return -1;
        if (w == 0)
            return 0;
    }
    return bench_ws_read(ws);
}

int
bench_ws_read(bench_ws_t *ws)
{
    if (ws->failed)
        return -1;
    ws->did_recv = 0;
    if (read_frames(ws) != 0)
        return -1;
    /* pongs are queued: flush them. */
    if (ws_flush(ws, bench_now_ns() + 1000000000ull) != 0)
        return -1;
    return 1;
}

const char *
bench_ws_cookie(const bench_ws_t *ws)
{
    return ws->cookie;
}

int
bench_ws_fd(const bench_ws_t *ws)
{
    return ws->fd;
}

void
bench_ws_abort(bench_ws_t *ws)
{
    if (ws != NULL)
        ws->failed = 1;
    bench_ws_close(ws);
}

void
bench_ws_close(bench_ws_t *ws)
{
    if (ws == NULL)
        return;
    if (!ws->failed) {
        wslay_event_queue_close(ws->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
        ws_flush(ws, bench_now_ns() + 1000000000ull);
    }
    wslay_event_context_free(ws->ctx);
    wslay_frame_context_free(ws->rctx);
    close(ws->fd);
    free(ws->msg.p);
    free(ws->out.p);
    free(ws->pre);
    free(ws);
}
