/*
 * ws.c - the WebSocket transport: GET /tale/ws (PROTOCOL.md, "WebSocket").
 *
 * A thin plugin: it upgrades the request, frames each of the session's
 * frames as one text message with wslay, and forwards player input to the
 * host.  Sessions, JSON frames and the game live in the host; what a message
 * or a handshake means is decided in proto.c.
 *
 * The plugin drives the upgraded socket and its wslay context itself rather
 * than through h2o's websocket.c: h2o 2.2.5 hands wslay one write buffer and
 * refuses the next chunk while a write is in flight, so every frame left as
 * two writes a loop turn apart (the header, then the payload) and a command's
 * answer took two TCP segments.  Here wslay's chunks are gathered into one
 * buffer and written with one h2o_socket_write: a frame, or every frame queued
 * while the previous write was in flight, goes out in one writev.
 *
 * Re-entrancy: the host calls io->send and io->close from anywhere, including
 * from inside our own message callback (an input that produces output), so
 * those only queue into wslay.  Inside proceed() the queue is written before
 * proceed returns; from elsewhere a zero-delay timer calls proceed().  A
 * connection is freed in exactly two places: at the end of proceed() when
 * the WebSocket is over, and by conn_destroy() from a timer (the sweep, the
 * plugin's destroy).  Never from inside a wslay callback.
 *
 * Timers use the request's h2o context (zero_timeout, hundred_ms_timeout), so
 * the plugin owns no h2o_timeout_t and has nothing to dispose before the host
 * destroys the loop; every entry is unlinked when the last connection goes.
 *
 * Reading: every byte passes the frame-header scanner (ws_scan_feed in
 * proto.c) on its way into wslay.  A header that breaks RFC 6455, or declares
 * a message over max_message, is refused before wslay sees all of it and
 * before any payload is waited for: the connection is failed (RFC 6455,
 * 7.1.7) with close 1002 or 1009, then the socket is closed once that frame
 * is written.  wslay itself would drop the TCP connection without a close
 * frame (or answer an empty one) on such headers, and wait for the payload
 * of an oversized one.
 */
#include <h2o.h>
#include <h2o/http1.h>
#include <h2o/websocket.h>
#include <openssl/evp.h>
#include <wslay/wslay.h>

#include <tale/alloc.h>
#include <tale/plugin.h>
#include <tale/h2o_request.h>

#include "deflate.h"
#include "proto.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_CLOSE_GRACE_MS 2000         /* how long a closing connection may wait for the peer's close frame */
#define WS_BACKLOG_GRACE_MS 300        /* how long the queue may stay over max_backlog before we call the client stuck */
#define WS_BACKLOG_HARD_MIN (4u << 20) /* the queue never grows past max(4 x max_backlog, this) */
#define WS_REASON_MAX 123              /* a close frame's payload is at most 125 bytes, 2 of them the code */
#define WS_GATHER_MAX (64u << 10)      /* bytes gathered for one write (a frame is never split to keep to it) */
#define WS_IDLE_RELEASE_MS 2000        /* a connection quiet this long gives its wslay context back */

typedef struct ws_plugin {
    tale_plugin_t *self;
    const tale_host_api_t *host;
    char *path;
    uint64_t max_message;
    uint64_t max_backlog;
    uint64_t ping_ms; /* 0: no pings */
    uint64_t idle_ms; /* 0: never drop a silent peer */
    ws_deflate_conf_t deflate_conf;
    ws_deflate_t *deflate; /* the loop's zlib streams and buffers (deflate.h) */

    h2o_linklist_t conns;
    size_t nconns;
    h2o_context_t *ctx; /* learned from the first request; the one the host runs */
    h2o_timeout_entry_t sweep;
    int stopping;
} ws_plugin_t;

typedef struct ws_conn {
    ws_plugin_t *p;     /* NULL once ws_destroy orphaned a connection still being upgraded */
    h2o_socket_t *sock; /* NULL until the 101 has been written */
    /* NULL while idle (release_idle): wslay's context is some 8.5 KiB,
     * most of a quiet player's cost.  Use ws_ctx(), which makes it again. */
    wslay_event_context_ptr wslay;
    tale_session_t *session; /* NULL once detached (by us or by the host) */
    h2o_linklist_t link;
    h2o_timeout_entry_t flush;
    struct {
        char *base;
        size_t len, cap;
    } out;            /* wslay's chunks for the next write; in flight while the socket is writing */
    uint64_t last_rx; /* loop time of the peer's last message (any opcode) */
    uint64_t last_io; /* loop time of the last read or completed write */
    uint64_t last_ping;
    uint64_t close_deadline; /* while closing: drop the socket at this time */
    uint64_t over_since;     /* when the queue went over max_backlog (0: it is not) */
    ws_scan_t scan;          /* frame boundaries of what the peer sent, as handed to wslay */
    ws_deflate_params_t pmd; /* permessage-deflate as negotiated (all zero: not) */
    ws_deflate_conn_t zs;    /* own zlib streams, only with context takeover */
    int closing;
    /* A close asked for while messages are still queued waits for them:
     * wslay sends control frames before queued data, so queuing it at once
     * would cut off the last frames (a quit's "Goodbye"). */
    int close_waiting;
    uint16_t close_code;
    uint8_t close_reason[WS_REASON_MAX];
    size_t close_reason_len;
    int in_proceed;
} ws_conn_t;

typedef struct ws_handler {
    h2o_handler_t super;
    ws_plugin_t *p;
} ws_handler_t;

static const char CONNECTED_MSG[] = "{\"type\":\"connected\"}";
/* Answers to input we cannot use.  Built here, not by the host, so they carry no seq. */
static const char NOT_OBJECT_MSG[] = "{\"type\":\"text\",\"text\":\"<p>Input not understood: JSON input must be an object "
                                     "such as {&quot;cmd&quot;: &quot;look&quot;}.</p>\\n\",\"special\":[]}";
static const char NO_CMD_MSG[] = "{\"type\":\"text\",\"text\":\"<p>Input not understood: &quot;cmd&quot; must be a "
                                 "string.</p>\\n\",\"special\":[]}";

static void proceed(ws_conn_t *c);
static wslay_event_context_ptr ws_ctx(ws_conn_t *c);

static uint64_t
now_ms(ws_plugin_t *p)
{
    return h2o_now(p->ctx->loop);
}

/* ---- connection lifetime ---- */

/* `code` is how the connection ends, for the host's metrics and access log
 * (a host before ABI 1.3 just detaches). */
static void
detach_session(ws_conn_t *c, int code)
{
    if (c->session != NULL) {
        tale_session_t *s = c->session;
        c->session = NULL;
        if (TALE_HOST_HAS(c->p->host, session_closed))
            c->p->host->session_closed(s, c, code);
        else
            c->p->host->session_detach(s, c);
    }
}

/* Close the socket (if the upgrade got that far) and free the connection.
 * Never from inside a wslay callback: the context is freed here. */
static void
conn_destroy(ws_conn_t *c)
{
    ws_plugin_t *p = c->p;
    if (p != NULL) {
        detach_session(c, TALE_CLOSE_ABNORMAL);
        h2o_linklist_unlink(&c->link);
        --p->nconns;
        if (p->nconns == 0 && h2o_timeout_is_linked(&p->sweep))
            h2o_timeout_unlink(&p->sweep);
    }
    if (h2o_timeout_is_linked(&c->flush))
        h2o_timeout_unlink(&c->flush);
    if (c->sock != NULL)
        h2o_socket_close(c->sock);
    if (c->wslay != NULL)
        wslay_event_context_free(c->wslay);
    ws_deflate_conn_release(&c->zs);
    free(c->out.base);
    free(c);
}

static void
on_flush(h2o_timeout_entry_t *entry)
{
    ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, flush, entry);
    proceed(c); /* may free c */
}

/* Get what was queued written.  Inside proceed() that happens before it
 * returns; before the 101 has gone out (sock == NULL) the first proceed, once
 * the upgrade completes, picks it up; otherwise on this loop turn's timers. */
static void
schedule_flush(ws_conn_t *c)
{
    if (c->sock != NULL && !c->in_proceed && !h2o_timeout_is_linked(&c->flush))
        h2o_timeout_link(c->p->ctx->loop, &c->p->ctx->zero_timeout, &c->flush);
}

/* Queue the waiting close once every message queued before it has left
 * wslay's queue (the close grace bounds how long that may take). */
static void
queue_close_when_drained(ws_conn_t *c)
{
    if (!c->close_waiting || wslay_event_get_queued_msg_count(ws_ctx(c)) != 0)
        return;
    c->close_waiting = 0;
    /* fails only when a close is already queued or sent (e.g. wslay's own 1009); that one stands */
    wslay_event_queue_close(c->wslay, c->close_code, c->close_reason, c->close_reason_len);
}

static void
begin_close(ws_conn_t *c, int code, const char *reason)
{
    if (c->closing)
        return;
    c->closing = 1;
    size_t len = reason != NULL ? strlen(reason) : 0;
    if (len > WS_REASON_MAX)
        len = WS_REASON_MAX;
    c->close_code = (uint16_t)code;
    memcpy(c->close_reason, reason, len);
    c->close_reason_len = len;
    c->close_waiting = 1;
    queue_close_when_drained(c);
    c->close_deadline = now_ms(c->p) + WS_CLOSE_GRACE_MS;
    schedule_flush(c);
}

/* Fail the connection (RFC 6455, 7.1.7): read nothing more, queue the close
 * frame (unless a close is already queued: that one stands), and leave the
 * rest to proceed(), which closes the socket once the frame is written.  The
 * sweep drops it after the close grace if the peer never takes the frame.
 * The session stays resumable. */
static void
fail_connection(ws_conn_t *c, int code, const char *reason)
{
    c->p->host->log(c->p->self, TALE_LOG_INFO, "closing a connection that broke the WebSocket protocol: %d %s", code, reason);
    detach_session(c, code);
    wslay_event_shutdown_read(ws_ctx(c));
    begin_close(c, code, reason);
}

static void
close_stuck(ws_conn_t *c, size_t queued)
{
    c->p->host->log(c->p->self, TALE_LOG_WARN, "closing a connection that does not read: %zu bytes queued (max_backlog %llu)",
                    queued, (unsigned long long)c->p->max_backlog);
    begin_close(c, TALE_CLOSE_POLICY, "too much output queued: the client is not reading");
}

/* Bytes waiting for the client: in wslay's queue and in the write in flight. */
static size_t
backlog(ws_conn_t *c)
{
    return (c->wslay != NULL ? wslay_event_get_queued_msg_length(c->wslay) : 0) + c->out.len;
}

/*
 * Note the size of the outgoing queue after something was added to it (our
 * text message, or a pong wslay queued for the peer's ping).  A burst (a
 * resume replay, a long answer) may sit in the queue for a moment even when
 * the client reads well, so being over max_backlog only starts a clock; the
 * sweep closes the connection (1008) if the queue is still over
 * WS_BACKLOG_GRACE_MS later.  Returns -1 past the hard cap, which bounds a
 * connection's memory: the caller must close at once.
 */
static int
note_backlog(ws_conn_t *c)
{
    size_t queued = backlog(c);
    if (queued <= c->p->max_backlog)
        return 0;
    uint64_t hard = c->p->max_backlog * 4 > WS_BACKLOG_HARD_MIN ? c->p->max_backlog * 4 : WS_BACKLOG_HARD_MIN;
    if (queued > hard)
        return -1;
    if (c->over_since == 0)
        c->over_since = now_ms(c->p);
    return 0;
}

/* Make room for `len` more bytes in the gathered write. */
static void
out_reserve(ws_conn_t *c, size_t len)
{
    if (c->out.cap - c->out.len >= len)
        return;
    size_t cap = c->out.cap != 0 ? c->out.cap : 1024;
    while (cap - c->out.len < len)
        cap *= 2;
    c->out.base = tale_xrealloc(c->out.base, cap);
    c->out.cap = cap;
}

/*
 * The common case of a frame to the client, without wslay: nothing is
 * queued in wslay or being written, so the frame can go straight into the
 * next write, header and payload (a server's frames are unmasked: RFC 6455,
 * 5.1).  It saves wslay's copy of the message and, for a quiet player whose
 * context was given back, making a context again: a broadcast to ten
 * thousand idle players would otherwise allocate some 85 MB at once.
 * Returns 0 when the frame was taken, 1 when it must go through wslay.
 */
static int
append_text_frame(ws_conn_t *c, const char *s, size_t len, uint8_t rsv)
{
    if (c->sock == NULL || h2o_socket_is_writing(c->sock) || c->out.len + len > WS_GATHER_MAX ||
        (c->wslay != NULL && (wslay_event_get_queued_msg_count(c->wslay) != 0 || wslay_event_want_write(c->wslay) ||
                              wslay_event_get_close_sent(c->wslay))))
        return 1;
    uint8_t head[10];
    size_t n = 0;
    head[n++] = (uint8_t)(0x81 | rsv << 4); /* FIN, RSV1 if compressed, text */
    if (len < 126) {
        head[n++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        head[n++] = 126;
        head[n++] = (uint8_t)(len >> 8);
        head[n++] = (uint8_t)len;
    } else {
        head[n++] = 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            head[n++] = (uint8_t)((uint64_t)len >> shift);
    }
    out_reserve(c, n + len);
    memcpy(c->out.base + c->out.len, head, n);
    memcpy(c->out.base + c->out.len + n, s, len);
    c->out.len += n + len;
    return 0;
}

/* Queue one text message.  Returns -1 when the message was not taken. */
static int
queue_text(ws_conn_t *c, const char *s, size_t len)
{
    if (c->closing)
        return -1;
    const uint8_t *data = (const uint8_t *)s;
    uint8_t rsv = WSLAY_RSV_NONE;
    if (c->pmd.on && ws_deflate_compress(c->p->deflate, &c->zs, &c->pmd, data, len, &data, &len) == 1)
        rsv = WSLAY_RSV1_BIT;
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, data, len};
    if (append_text_frame(c, (const char *)data, len, rsv) != 0 && wslay_event_queue_msg_ex(ws_ctx(c), &msg, rsv) != 0)
        return -1;
    if (note_backlog(c) != 0) {
        close_stuck(c, backlog(c));
        return -1;
    }
    schedule_flush(c);
    return 0;
}

/* ---- the socket and wslay ---- */

static void
on_recv(h2o_socket_t *sock, const char *err)
{
    ws_conn_t *c = sock->data;
    if (err != NULL) {
        conn_destroy(c);
        return;
    }
    c->last_io = now_ms(c->p);
    proceed(c);
}

static void
on_write_complete(h2o_socket_t *sock, const char *err)
{
    ws_conn_t *c = sock->data;
    if (err != NULL) {
        conn_destroy(c);
        return;
    }
    c->last_io = now_ms(c->p);
    c->out.len = 0;
    proceed(c); /* frees the buffer if nothing more was gathered */
}

static ssize_t
wslay_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *data)
{
    ws_conn_t *c = data;
    if (c->sock == NULL || c->sock->input->size == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > c->sock->input->size)
        len = c->sock->input->size;
    /* hand over only what the scanner lets through; proceed() fails the connection once wslay returns */
    len = ws_scan_feed(&c->scan, (const uint8_t *)c->sock->input->bytes, len);
    if (len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(buf, c->sock->input->bytes, len);
    h2o_buffer_consume(&c->sock->input, len);
    return (ssize_t)len;
}

/* wslay hands over a frame in pieces (header, payload); keep them all for
 * one write.  Only called from proceed() while no write is in flight. */
static ssize_t
wslay_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    ws_conn_t *c = user;
    if (c->sock == NULL || c->out.len >= WS_GATHER_MAX) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    out_reserve(c, len);
    memcpy(c->out.base + c->out.len, data, len);
    c->out.len += len;
    return (ssize_t)len;
}

static void on_message(ws_conn_t *c, const struct wslay_event_on_msg_recv_arg *arg);

static void
wslay_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    on_message(user, arg);
}

static const struct wslay_event_callbacks wslay_callbacks = {
    .recv_callback = wslay_recv_cb,
    .send_callback = wslay_send_cb,
    .on_msg_recv_callback = wslay_msg_cb,
};

/* The connection's wslay context; made afresh after release_idle gave it back. */
static wslay_event_context_ptr
ws_ctx(ws_conn_t *c)
{
    if (c->wslay == NULL) {
        if (wslay_event_context_server_init(&c->wslay, &wslay_callbacks, c) != 0)
            tale_oom(sizeof(*c)); /* wslay fails here only when out of memory */
        wslay_event_config_set_max_recv_msg_length(c->wslay, c->p->max_message);
        if (c->pmd.on)
            wslay_event_config_set_allowed_rsv_bits(c->wslay, WSLAY_RSV1_BIT);
    }
    return c->wslay;
}

/*
 * Free the wslay context of a connection with nothing under way: nothing
 * queued, written or read but not parsed, the peer's frames all whole, no
 * close begun.  wslay then holds only its empty buffers, and a fresh
 * context (ws_ctx()) is the same connection.  Called from the sweep, so a
 * player who is sent frames often keeps its context.
 */
static int
release_idle(ws_conn_t *c, uint64_t now)
{
    if (c->wslay == NULL || c->closing || c->close_waiting || now - c->last_io < WS_IDLE_RELEASE_MS || c->out.len != 0 ||
        h2o_socket_is_writing(c->sock) || h2o_timeout_is_linked(&c->flush) || c->sock->input->size != 0 ||
        !ws_scan_at_message_boundary(&c->scan) || c->scan.code != 0 || wslay_event_want_write(c->wslay) ||
        wslay_event_get_queued_msg_count(c->wslay) != 0 || !wslay_event_get_read_enabled(c->wslay) ||
        !wslay_event_get_write_enabled(c->wslay) || wslay_event_get_close_received(c->wslay) ||
        wslay_event_get_close_sent(c->wslay))
        return 0;
    wslay_event_context_free(c->wslay);
    c->wslay = NULL;
    return 1;
}

/*
 * Move the connection as far as it goes: read what arrived (answers queue
 * as it is read), gather what is queued, and write it in one go.  Ends the
 * connection once wslay wants neither to read nor to write (the close
 * handshake is done, or a callback shut it down).  May free c.
 */
static void
proceed(ws_conn_t *c)
{
    if (c->wslay == NULL && c->sock->input->size == 0) {
        /* A quiet player's context stays given back when all there is to do
         * is write frames appended without wslay (append_text_frame). */
        if (c->out.len != 0 && !h2o_socket_is_writing(c->sock)) {
            h2o_iovec_t buf = h2o_iovec_init(c->out.base, c->out.len);
            h2o_socket_write(c->sock, &buf, 1, on_write_complete);
        } else if (c->out.len == 0 && !h2o_socket_is_writing(c->sock)) {
            free(c->out.base);
            c->out.base = NULL;
            c->out.cap = 0;
        }
        h2o_socket_read_start(c->sock, on_recv);
        return;
    }
    ws_ctx(c); /* input came to a connection that gave its context back */
    c->in_proceed = 1;
    for (;;) {
        int progress = 0;
        if (!h2o_socket_is_writing(c->sock) && wslay_event_want_write(c->wslay)) {
            size_t before = c->out.len;
            if (wslay_event_send(c->wslay) != 0)
                goto Close;
            progress = c->out.len != before;
        }
        if (c->close_waiting && wslay_event_get_queued_msg_count(c->wslay) == 0) {
            queue_close_when_drained(c);
            progress = 1;
        }
        if (c->sock->input->size != 0 && wslay_event_want_read(c->wslay)) {
            if (wslay_event_recv(c->wslay) != 0) {
                /* Out of memory, or a frame wslay's parser refused (it queues an empty
                 * close then); the scanner refuses all of those first.  Write what is
                 * queued and close, as for a failed connection. */
                c->p->host->log(c->p->self, TALE_LOG_WARN, "wslay refused the input; closing the connection");
                detach_session(c, WSLAY_CODE_PROTOCOL_ERROR);
                if (!c->closing) {
                    c->closing = 1;
                    c->close_deadline = now_ms(c->p) + WS_CLOSE_GRACE_MS;
                }
            } else if (c->scan.code != 0 && wslay_event_want_read(c->wslay)) {
                fail_connection(c, c->scan.code, c->scan.reason);
            }
            progress = 1;
        }
        if (!progress)
            break;
    }
    c->in_proceed = 0;
    if (c->out.len != 0 && !h2o_socket_is_writing(c->sock)) {
        h2o_iovec_t buf = h2o_iovec_init(c->out.base, c->out.len);
        h2o_socket_write(c->sock, &buf, 1, on_write_complete);
    } else if (c->out.len == 0 && c->out.base != NULL && !h2o_socket_is_writing(c->sock)) {
        /* An idle player holds no write buffer: with thousands connected
         * that is most of them, and the next frame costs one malloc. */
        free(c->out.base);
        c->out.base = NULL;
        c->out.cap = 0;
    }
    if (wslay_event_want_read(c->wslay)) {
        h2o_socket_read_start(c->sock, on_recv);
    } else if (h2o_socket_is_writing(c->sock) || wslay_event_want_write(c->wslay)) {
        h2o_socket_read_stop(c->sock);
    } else {
        conn_destroy(c);
    }
    return;
Close:
    conn_destroy(c);
}

/* The 101 is written (sock == NULL: it could not be). */
static void
on_upgraded(void *data, h2o_socket_t *sock, size_t reqsize)
{
    ws_conn_t *c = data;
    if (sock == NULL || c->p == NULL) {
        if (sock != NULL) /* orphaned by ws_destroy: nobody wants it any more */
            h2o_socket_close(sock);
        conn_destroy(c);
        return;
    }
    c->sock = sock;
    sock->data = c;
    h2o_buffer_consume(&sock->input, reqsize);
    proceed(c);
}

/* ---- the player-IO vtable ---- */

static int
io_send(void *conn, const tale_frame_t *frame)
{
    ws_conn_t *c = conn;
    if (queue_text(c, frame->json, frame->len) != 0) {
        c->session = NULL; /* the host detaches us on -1 */
        return -1;
    }
    return 0;
}

static void
io_close(void *conn, int code, const char *reason)
{
    ws_conn_t *c = conn;
    c->session = NULL; /* already detached by the host */
    begin_close(c, code, reason);
}

static size_t
io_backlog(void *conn)
{
    return backlog(conn);
}

static const tale_player_io_t ws_io = {sizeof(tale_player_io_t), io_send, io_close, io_backlog};

/* ---- input ---- */

static void
send_notice(ws_conn_t *c, const char *json, size_t len)
{
    if (queue_text(c, json, len) != 0)
        detach_session(c, TALE_CLOSE_POLICY);
}

/* One text message from the browser: {"cmd":…[,"autocomplete":1]} or a plain command. */
static void
handle_text(ws_conn_t *c, const uint8_t *data, size_t len)
{
    if (c->session == NULL || c->closing)
        return;
    ws_input_t in;
    switch (ws_input_decode(data, len, &in)) {
    case WS_INPUT_COMMAND:
        c->p->host->session_input(c->session, in.cmd, in.len, in.flags);
        break;
    case WS_INPUT_NOT_OBJECT:
        send_notice(c, NOT_OBJECT_MSG, sizeof(NOT_OBJECT_MSG) - 1);
        break;
    case WS_INPUT_NO_CMD:
        send_notice(c, NO_CMD_MSG, sizeof(NO_CMD_MSG) - 1);
        break;
    }
    ws_input_release(&in);
}

static int
is_utf8(const uint8_t *s, size_t len)
{
    for (size_t i = 0, k; i < len; i += k)
        if ((k = tale_utf8_seq_len(s + i, len - i)) == 0)
            return 0;
    return 1;
}

/* A compressed text message (RSV1): inflate it within max_message, then
 * check the UTF-8 that wslay could not check on the compressed bytes. */
static void
handle_compressed_text(ws_conn_t *c, const uint8_t *data, size_t len)
{
    const uint8_t *text;
    size_t text_len;
    if (c->session == NULL || c->closing)
        return; /* nobody to give it to: not worth inflating */
    switch (ws_deflate_inflate(c->p->deflate, &c->zs, &c->pmd, data, len, c->p->max_message, &text, &text_len)) {
    case WS_INFLATE_OK:
        if (!is_utf8(text, text_len))
            fail_connection(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8 in a text message");
        else
            handle_text(c, text, text_len);
        break;
    case WS_INFLATE_TOO_BIG:
        fail_connection(c, WSLAY_CODE_MESSAGE_TOO_BIG, "message too big once inflated");
        break;
    case WS_INFLATE_BAD:
        fail_connection(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid compressed data");
        break;
    }
}

/* wslay calls this for every complete message. */
static void
on_message(ws_conn_t *c, const struct wslay_event_on_msg_recv_arg *arg)
{
    c->last_rx = now_ms(c->p);
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        if (arg->rsv & WSLAY_RSV1_BIT)
            handle_compressed_text(c, arg->msg, arg->msg_length);
        else
            handle_text(c, arg->msg, arg->msg_length);
        break;
    case WSLAY_BINARY_FRAME:
        detach_session(c, WSLAY_CODE_UNSUPPORTED_DATA);
        begin_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not accepted");
        break;
    case WSLAY_CONNECTION_CLOSE:
        /* wslay answers the close itself; the session stays resumable */
        detach_session(c, wslay_event_get_status_code_received(c->wslay));
        if (!c->closing) {
            c->closing = 1;
            c->close_deadline = c->last_rx + WS_CLOSE_GRACE_MS;
        }
        break;
    default:
        /* ping (wslay has queued the pong) and pong: the peer is alive.  A
         * peer that pings and never reads would grow the queue with pongs:
         * past the hard cap, shut wslay down, and proceed() ends the
         * connection once this callback has returned. */
        if (note_backlog(c) != 0) {
            c->p->host->log(c->p->self, TALE_LOG_WARN, "closing a connection that does not read (it only pings): %zu bytes queued",
                            backlog(c));
            detach_session(c, TALE_CLOSE_POLICY);
            wslay_event_shutdown_read(c->wslay);
            wslay_event_shutdown_write(c->wslay);
        }
        break;
    }
}

/* ---- pings, idle peers, close deadlines: one sweep over all connections ---- */

static void
on_sweep(h2o_timeout_entry_t *entry)
{
    ws_plugin_t *p = H2O_STRUCT_FROM_MEMBER(ws_plugin_t, sweep, entry);
    uint64_t now = now_ms(p);
    h2o_linklist_t *node, *next;
    size_t released = 0;
    for (node = p->conns.next; node != &p->conns; node = next) {
        next = node->next;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, node);
        if (c->sock == NULL)
            continue; /* the 101 is still being written; h2o owns the socket until then */
        if (c->closing) {
            if (now >= c->close_deadline)
                conn_destroy(c);
        } else if (p->idle_ms != 0 && now - c->last_rx >= p->idle_ms) {
            p->host->log(p->self, TALE_LOG_INFO, "dropping a connection silent for %llu ms",
                         (unsigned long long)(now - c->last_rx));
            conn_destroy(c);
        } else if (c->over_since != 0 && backlog(c) <= p->max_backlog) {
            c->over_since = 0; /* it caught up */
        } else if (c->over_since != 0 && now - c->over_since >= WS_BACKLOG_GRACE_MS) {
            detach_session(c, TALE_CLOSE_POLICY); /* the session keeps its frames for a resume */
            close_stuck(c, backlog(c));
        } else if (p->ping_ms != 0 && now - c->last_ping >= p->ping_ms) {
            struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
            if (wslay_event_queue_msg(ws_ctx(c), &ping) == 0)
                schedule_flush(c);
            c->last_ping = now;
        } else {
            released += (size_t)release_idle(c, now);
        }
    }
    if (released != 0)
        p->host->log(p->self, TALE_LOG_DEBUG, "gave back the wslay context of %zu idle connection(s)", released);
    if (p->nconns != 0)
        h2o_timeout_link(p->ctx->loop, &p->ctx->hundred_ms_timeout, &p->sweep);
}

/* ---- the handshake ---- */

static int
send_error(h2o_req_t *req, int status, const char *reason, const char *msg)
{
    size_t cap = strlen(msg) + 16;
    char *body = h2o_mem_alloc_pool(&req->pool, cap);
    int len = snprintf(body, cap, "{\"error\":\"%s\"}", msg); /* msg is one of our constants: no escaping needed */
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, (size_t)len);
    return 0;
}

static h2o_iovec_t
find_header(h2o_req_t *req, const char *name, size_t len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    return i == -1 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

/* RFC 6455, 4.2.2: base64(SHA-1(key + GUID)).  h2o 2.2.5 declares
 * h2o_websocket_create_accept_key but its library does not export it. */
static void
make_accept_key(char dst[29], const char *client_key)
{
    static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char src[24 + sizeof(GUID) - 1], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    memcpy(src, client_key, 24); /* h2o_is_websocket_handshake checked the length */
    memcpy(src + 24, GUID, sizeof(GUID) - 1);
    EVP_Digest(src, sizeof(src), md, &mdlen, EVP_sha1(), NULL);
    h2o_base64_encode(dst, md, mdlen, 0);
    dst[28] = '\0';
}

/* permessage-deflate: take the first offer we can (each header in turn,
 * as a client may split its list over several) and answer it. */
static void
negotiate_deflate(ws_plugin_t *p, h2o_req_t *req, ws_conn_t *c)
{
    ssize_t i = -1;
    if (!p->deflate_conf.enabled)
        return;
    while ((i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("sec-websocket-extensions"), i)) != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (ws_deflate_negotiate(v.base, v.len, &p->deflate_conf, &c->pmd)) {
            char answer[WS_DEFLATE_RESPONSE_MAX];
            size_t n = ws_deflate_response(&c->pmd, answer, sizeof(answer));
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sec-websocket-extensions"), 0, NULL,
                                  h2o_strdup(&req->pool, answer, n).base, n);
            ws_scan_allow_rsv1(&c->scan);
            if (p->deflate == NULL)
                p->deflate = ws_deflate_new();
            return;
        }
    }
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
    ws_plugin_t *p = ((ws_handler_t *)self)->p;
    size_t plen = strlen(p->path);

    /* the mount is a prefix; only the exact path is ours (anything below it is a 404) */
    if (!(req->path_normalized.len == plen || (req->path_normalized.len == plen + 1 && req->path_normalized.base[plen] == '/')))
        return -1;
    if (p->stopping)
        return send_error(req, 503, "Service Unavailable", "the server is shutting down");
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET"));
        return send_error(req, 405, "Method Not Allowed", "a WebSocket handshake is a GET request");
    }
    /* h2o can upgrade only HTTP/1.1 (H2O-NOTES 12); browsers open an HTTP/1.1 connection for it */
    if (req->version != 0x101 || req->upgrade.base == NULL ||
        !h2o_lcstris(req->upgrade.base, req->upgrade.len, H2O_STRLIT("websocket"))) {
        /* HTTP/2 forbids connection-specific headers such as Upgrade (RFC 9113, 8.2.2) */
        if (req->version < 0x200)
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL, H2O_STRLIT("websocket"));
        return send_error(req, 426, "Upgrade Required", "this path needs an HTTP/1.1 WebSocket upgrade");
    }
    const char *client_key;
    if (h2o_is_websocket_handshake(req, &client_key) != 0 || client_key == NULL)
        return send_error(req, 400, "Bad Request", "missing or malformed Sec-WebSocket-Key");
    h2o_iovec_t version = find_header(req, H2O_STRLIT("sec-websocket-version"));
    if (version.base == NULL)
        return send_error(req, 400, "Bad Request", "missing Sec-WebSocket-Version");
    if (!h2o_memis(version.base, version.len, H2O_STRLIT("13"))) {
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sec-websocket-version"), 0, NULL, H2O_STRLIT("13"));
        return send_error(req, 426, "Upgrade Required", "only WebSocket version 13 is supported");
    }
    uint64_t resume_after = 0;
    if (req->query_at != SIZE_MAX &&
        ws_parse_resume(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1, &resume_after) != 0)
        return send_error(req, 400, "Bad Request", "resume must be a sequence number");

    /* Host, Origin, the client's address and the seat rules: the host decides
     * (before the upgrade, so a refusal is a plain 403/429/503 with JSON). */
    tale_request_t rq;
    struct sockaddr_storage peer;
    tale_request_from_h2o(req, TALE_SESSION_CREATE, &rq, &peer);
    char set_cookie[TALE_SET_COOKIE_MAX];
    tale_session_t *session = NULL;
    const char *error = NULL;
    int status = p->host->session_open(p->self, &rq, &session, set_cookie, &error);
    if (status != 0 || session == NULL)
        return tale_h2o_send_error(req, status != 0 ? status : 503, error != NULL ? error : "no player seat is free");

    if (p->ctx == NULL)
        p->ctx = req->conn->ctx;
    ws_conn_t *c = tale_xcalloc(1, sizeof(*c));
    ws_scan_init(&c->scan, p->max_message);
    negotiate_deflate(p, req, c);

    if (set_cookie[0] != '\0') {
        size_t n = strnlen(set_cookie, TALE_SET_COOKIE_MAX);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, h2o_strdup(&req->pool, set_cookie, n).base, n);
    }

    c->p = p;
    c->flush.cb = on_flush;
    c->last_rx = c->last_ping = c->last_io = now_ms(p);
    h2o_linklist_insert(&p->conns, &c->link);
    ++p->nconns;
    if (!h2o_timeout_is_linked(&p->sweep))
        h2o_timeout_link(p->ctx->loop, &p->ctx->hundred_ms_timeout, &p->sweep);

    /* The 101 goes out asynchronously; until it has (on_upgraded), what we
     * queue waits in wslay. */
    char accept_key[29];
    make_accept_key(accept_key, client_key);
    req->res.status = 101;
    req->res.reason = "Switching Protocols";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL, H2O_STRLIT("websocket"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sec-websocket-accept"), 0, NULL, accept_key,
                          strlen(accept_key));
    h2o_http1_upgrade(req, NULL, 0, on_upgraded, c);

    queue_text(c, CONNECTED_MSG, sizeof(CONNECTED_MSG) - 1);
    c->session = session;
    if (p->host->session_attach(session, &ws_io, c, resume_after) != 0) {
        c->session = NULL;
        begin_close(c, 1011, "the session could not be attached");
    }
    return 0;
}

static int
on_mount(tale_plugin_t *self, struct st_h2o_pathconf_t *pathconf, void *data)
{
    ws_handler_t *h = (ws_handler_t *)h2o_create_handler(pathconf, sizeof(*h));
    h->super.on_req = on_req;
    h->p = data;
    return 0;
}

/* ---- plugin lifecycle ---- */

static void ws_destroy(tale_plugin_t *self, void *state);

/* The plugin's config keys (docs/CONFIG.md, "ws"). */
typedef struct ws_conf {
    const char *path;
    uint64_t max_message, max_backlog, ping_ms, idle_ms;
    const char *const *origins; /* moved to the top level: refused when given */
    int deflate, no_context_takeover;
    int64_t window_bits;
} ws_conf_t;

static const tale_conf_row_t ws_conf_rows[] = {
    TALE_CONF_ROW_STRING("path", ws_conf_t, path, "/tale/ws"),
    TALE_CONF_ROW_SIZE("max_message", ws_conf_t, max_message, 64 * 1024, 0, 0),
    TALE_CONF_ROW_SIZE("max_backlog", ws_conf_t, max_backlog, 1024 * 1024, 0, 0),
    TALE_CONF_ROW_DURATION("ping_interval", ws_conf_t, ping_ms, 30000, 0, 0),
    TALE_CONF_ROW_DURATION("idle_timeout", ws_conf_t, idle_ms, 75000, 0, 0),
    TALE_CONF_ROW_LIST("allowed_origins", ws_conf_t, origins),
    TALE_CONF_ROW_BOOL("deflate", ws_conf_t, deflate, 1),
    TALE_CONF_ROW_INT("deflate_window_bits", ws_conf_t, window_bits, 10, WS_DEFLATE_MIN_BITS, WS_DEFLATE_MAX_BITS),
    TALE_CONF_ROW_BOOL("no_context_takeover", ws_conf_t, no_context_takeover, 1),
};

/* A key's value the table accepted but this plugin does not: located when
 * the host can (ABI 1.3 conf_error).  Returns -1. */
static int
conf_refuse(ws_plugin_t *p, const char *key, char *err, size_t errlen, const char *msg)
{
    if (TALE_HOST_HAS(p->host, conf_error))
        return p->host->conf_error(p->self, key, -1, "ws: %s", msg);
    snprintf(err, errlen, "ws: %s", msg);
    return -1;
}

/* Read and check the keys; 0 with *c filled, or -1 with a reason in err. */
static int
read_conf(ws_plugin_t *p, ws_conf_t *c, char *err, size_t errlen)
{
    /* the host writes a located message into err itself */
    if (p->host->conf_table(p->self, ws_conf_rows, sizeof(ws_conf_rows) / sizeof(ws_conf_rows[0]), c) != 0)
        return -1;
    if (c->origins != NULL)
        return conf_refuse(p, "allowed_origins", err, errlen,
                           "allowed_origins moved to the top level of the config, where it applies to every transport");
    if (c->path == NULL || c->path[0] != '/')
        return conf_refuse(p, "path", err, errlen, "path must start with '/'");
    if (c->max_message < 16)
        return conf_refuse(p, "max_message", err, errlen, "max_message must be at least 16 bytes");
    if (c->max_backlog < 1024)
        return conf_refuse(p, "max_backlog", err, errlen, "max_backlog must be at least 1k");
    /* otherwise a healthy but quiet client is dropped before it is ever pinged */
    if (c->ping_ms != 0 && c->idle_ms != 0 && c->idle_ms <= c->ping_ms)
        return conf_refuse(p, "idle_timeout", err, errlen, "idle_timeout must be longer than ping_interval");
    return 0;
}

static int
ws_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    /* conf_table (ABI 1.3) is the newest call we need. */
    if (host == NULL || host->abi_major != TALE_ABI_MAJOR || !TALE_HOST_HAS(host, conf_table)) {
        snprintf(err, errlen, "ws: host API %u.%u is not the one this plugin was built for (%d.%d)",
                 host != NULL ? host->abi_major : 0, host != NULL ? host->abi_minor : 0, TALE_ABI_MAJOR, TALE_ABI_MINOR);
        return -1;
    }
    ws_plugin_t *p = tale_xcalloc(1, sizeof(*p));
    p->self = self;
    p->host = host;
    h2o_linklist_init_anchor(&p->conns);
    p->sweep.cb = on_sweep;

    ws_conf_t c;
    if (read_conf(p, &c, err, errlen) != 0) {
        ws_destroy(self, p);
        return -1;
    }
    p->max_message = c.max_message;
    p->max_backlog = c.max_backlog;
    p->ping_ms = c.ping_ms;
    p->idle_ms = c.idle_ms;
    p->deflate_conf.enabled = c.deflate;
    p->deflate_conf.window_bits = (int)c.window_bits;
    p->deflate_conf.no_context_takeover = c.no_context_takeover;
    p->path = tale_xstrdup(c.path);
    *state = p;
    return 0;
}

/* SIGHUP changed our config.  The sweep reads ping_interval, idle_timeout
 * and max_backlog at each pass, so they apply to every connection now;
 * max_message is fixed into a connection's parser when it opens, so it
 * applies to new ones.  The path is mounted once and the deflate settings
 * size the loop's zlib streams: those wait for a restart. */
static int
ws_reload(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    ws_plugin_t *p = state;
    ws_conf_t c;
    if (read_conf(p, &c, err, errlen) != 0)
        return -1;
    p->max_message = c.max_message;
    p->max_backlog = c.max_backlog;
    p->ping_ms = c.ping_ms;
    p->idle_ms = c.idle_ms;
    size_t used = 0;
    err[0] = '\0';
    const struct {
        const char *key;
        int differs;
    } fixed[] = {
        {"path", strcmp(c.path, p->path) != 0},
        {"deflate", c.deflate != p->deflate_conf.enabled},
        {"deflate_window_bits", c.window_bits != p->deflate_conf.window_bits},
        {"no_context_takeover", c.no_context_takeover != p->deflate_conf.no_context_takeover},
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (fixed[i].differs && used < errlen)
            used += snprintf(err + used, errlen - used, "%s%s", used > 0 ? ", " : "", fixed[i].key);
    return used > 0 ? 1 : 0;
}

static int
ws_start(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    ws_plugin_t *p = state;
    return p->host->mount(self, p->path, on_mount, p);
}

static void
ws_stop(tale_plugin_t *self, void *state)
{
    ws_plugin_t *p = state;
    p->stopping = 1;
    for (h2o_linklist_t *node = p->conns.next; node != &p->conns; node = node->next) {
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, node);
        detach_session(c, TALE_CLOSE_GOING_AWAY);
        begin_close(c, TALE_CLOSE_GOING_AWAY, "the server is shutting down");
    }
}

static void
ws_destroy(tale_plugin_t *self, void *state)
{
    ws_plugin_t *p = state;
    if (p == NULL)
        return;
    /* Runs after the drain while the loop and context still exist (plugin.h):
     * whatever outlived the drain is closed now, so no timer entry of ours is
     * linked when the host disposes the context. */
    while (!h2o_linklist_is_empty(&p->conns)) {
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, p->conns.next);
        if (c->sock != NULL) {
            conn_destroy(c);
        } else {
            /* h2o still owns the half-done upgrade and will call on_upgraded:
             * forget our side only, and let that call free the rest */
            detach_session(c, TALE_CLOSE_GOING_AWAY);
            h2o_linklist_unlink(&c->link);
            --p->nconns;
            if (h2o_timeout_is_linked(&c->flush))
                h2o_timeout_unlink(&c->flush);
            c->p = NULL;
        }
    }
    if (h2o_timeout_is_linked(&p->sweep))
        h2o_timeout_unlink(&p->sweep);
    ws_deflate_free(p->deflate);
    free(p->path);
    free(p);
}

static const tale_plugin_desc_t ws_desc = {TALE_PLUGIN_DESC_HEADER, "ws", "1.0.0", ws_init, ws_start, ws_stop, ws_destroy,
                                           .reload = ws_reload};

TALE_EXPORT const tale_plugin_desc_t *
TALE_PLUGIN_ENTRY(void)
{
    return &ws_desc;
}
