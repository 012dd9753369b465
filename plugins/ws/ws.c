/*
 * ws.c - the WebSocket transport: GET /tale/ws (PROTOCOL.md, "WebSocket").
 *
 * A thin plugin: it upgrades the request with h2o, frames each of the
 * session's frames as one text message with wslay, and forwards player input
 * to the host.  Sessions, JSON frames and the game live in the host.
 *
 * Threading and re-entrancy (H2O-NOTES 15, 16): the host calls io->send and
 * io->close from anywhere, including from inside our own message callback (an
 * input that produces output), so those only queue into wslay and arm a
 * zero-delay timer; the timer calls h2o_websocket_proceed().  A connection is
 * freed in exactly one place, the callback h2o makes with arg == NULL, or by
 * drop_conn() from a timer when the peer has gone silent.
 *
 * Timers use the request's h2o context (zero_timeout, hundred_ms_timeout), so
 * the plugin owns no h2o_timeout_t and has nothing to dispose before the host
 * destroys the loop; every entry is unlinked when the last connection goes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <h2o.h>
#include <h2o/websocket.h>
#include <jansson.h>
#include <wslay/wslay.h>

#include <tale/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_CLOSE_GRACE_MS 2000         /* how long a closing connection may wait for the peer's close frame */
#define WS_BACKLOG_GRACE_MS 300        /* how long the queue may stay over max_backlog before we call the client stuck */
#define WS_BACKLOG_HARD_MIN (4u << 20) /* the queue never grows past max(4 x max_backlog, this) */
#define WS_REASON_MAX 123              /* a close frame's payload is at most 125 bytes, 2 of them the code */

typedef struct ws_plugin {
    tale_plugin_t *self;
    const tale_host_api_t *host;
    char *path;
    uint64_t max_message;
    uint64_t max_backlog;
    uint64_t ping_ms; /* 0: no pings */
    uint64_t idle_ms; /* 0: never drop a silent peer */
    char **origins;   /* extra allowed Origin values besides the request's own host */
    size_t norigins;
    int any_origin; /* allowed_origins contains "*" */

    h2o_linklist_t conns;
    size_t nconns;
    h2o_context_t *ctx; /* learned from the first request; the one the host runs */
    h2o_timeout_entry_t sweep;
    int stopping;
} ws_plugin_t;

typedef struct ws_conn {
    ws_plugin_t *p;
    h2o_websocket_conn_t *ws;
    tale_session_t *session; /* NULL once detached (by us or by the host) */
    h2o_linklist_t link;
    h2o_timeout_entry_t flush;
    uint64_t last_rx; /* loop time of the peer's last message (any opcode) */
    uint64_t last_ping;
    uint64_t close_deadline; /* while closing: drop the socket at this time */
    uint64_t over_since;     /* when the queue went over max_backlog (0: it is not) */
    int closing;
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

static void io_close(void *conn, int code, const char *reason);

static uint64_t
now_ms(ws_plugin_t *p)
{
    return h2o_now(p->ctx->loop);
}

/* ---- connection lifetime ---- */

static void
detach_session(ws_conn_t *c)
{
    if (c->session != NULL) {
        tale_session_t *s = c->session;
        c->session = NULL;
        c->p->host->session_detach(s, c);
    }
}

/* Forget the connection (the caller then closes c->ws or is inside h2o's NULL callback). */
static void
conn_free(ws_conn_t *c)
{
    ws_plugin_t *p = c->p;
    detach_session(c);
    if (h2o_timeout_is_linked(&c->flush))
        h2o_timeout_unlink(&c->flush);
    h2o_linklist_unlink(&c->link);
    --p->nconns;
    if (p->nconns == 0 && h2o_timeout_is_linked(&p->sweep))
        h2o_timeout_unlink(&p->sweep);
    free(c);
}

/* Close the socket now, without a close handshake.  Only from a timer, never
 * from inside an h2o websocket callback (H2O-NOTES 16). */
static void
drop_conn(ws_conn_t *c)
{
    h2o_websocket_conn_t *ws = c->ws;
    conn_free(c);
    h2o_websocket_close(ws);
}

static void
on_flush(h2o_timeout_entry_t *entry)
{
    ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, flush, entry);
    /* may call on_ws_msg(NULL) and free c */
    h2o_websocket_proceed(c->ws);
}

/* Write what is queued on the next loop turn.  Before the 101 has gone out
 * (sock == NULL) h2o proceeds by itself once the upgrade completes. */
static void
schedule_flush(ws_conn_t *c)
{
    if (c->ws->sock != NULL && !h2o_timeout_is_linked(&c->flush))
        h2o_timeout_link(c->p->ctx->loop, &c->p->ctx->zero_timeout, &c->flush);
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
    /* fails only when a close is already queued or sent (e.g. wslay's own 1009); that one stands */
    wslay_event_queue_close(c->ws->ws_ctx, (uint16_t)code, (const uint8_t *)reason, len);
    c->close_deadline = now_ms(c->p) + WS_CLOSE_GRACE_MS;
    schedule_flush(c);
}

static void
log_stuck_pinger(ws_conn_t *c)
{
    c->p->host->log(c->p->self, TALE_LOG_WARN, "closing a connection that does not read (it only pings): %zu bytes queued",
                    wslay_event_get_queued_msg_length(c->ws->ws_ctx));
}

static void
close_stuck(ws_conn_t *c, size_t queued)
{
    c->p->host->log(c->p->self, TALE_LOG_WARN, "closing a connection that does not read: %zu bytes queued (max_backlog %llu)",
                    queued, (unsigned long long)c->p->max_backlog);
    begin_close(c, TALE_CLOSE_POLICY, "too much output queued: the client is not reading");
}

/*
 * Note the size of the outgoing queue after something was added to it (our
 * text message, or a pong wslay queued for the peer's ping).  h2o 2.2.5
 * writes one frame per loop turn, so a burst (a resume replay, a long answer)
 * sits in wslay's queue for a moment even when the client reads well.  Being
 * over max_backlog therefore only starts a clock; the sweep closes the
 * connection (1008) if the queue is still over WS_BACKLOG_GRACE_MS later.
 * Returns -1 past the hard cap, which bounds a connection's memory: the
 * caller must close at once.
 */
static int
note_backlog(ws_conn_t *c)
{
    size_t queued = wslay_event_get_queued_msg_length(c->ws->ws_ctx);
    if (queued <= c->p->max_backlog)
        return 0;
    uint64_t hard = c->p->max_backlog * 4 > WS_BACKLOG_HARD_MIN ? c->p->max_backlog * 4 : WS_BACKLOG_HARD_MIN;
    if (queued > hard)
        return -1;
    if (c->over_since == 0)
        c->over_since = now_ms(c->p);
    return 0;
}

/* Queue one text message.  Returns -1 when the message was not taken. */
static int
queue_text(ws_conn_t *c, const char *s, size_t len)
{
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)s, len};
    if (c->closing || wslay_event_queue_msg(c->ws->ws_ctx, &msg) != 0)
        return -1;
    if (note_backlog(c) != 0) {
        close_stuck(c, wslay_event_get_queued_msg_length(c->ws->ws_ctx));
        return -1;
    }
    schedule_flush(c);
    return 0;
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
    ws_conn_t *c = conn;
    return wslay_event_get_queued_msg_length(c->ws->ws_ctx);
}

static const tale_player_io_t ws_io = {sizeof(tale_player_io_t), io_send, io_close, io_backlog};

/* ---- input ---- */

static void
send_notice(ws_conn_t *c, const char *json, size_t len)
{
    if (queue_text(c, json, len) != 0)
        detach_session(c);
}

static int
is_truthy(json_t *v)
{
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0) ||
           (json_is_string(v) && strcmp(json_string_value(v), "1") == 0) || (json_is_real(v) && json_real_value(v) != 0);
}

/* One text message from the browser: {"cmd":…[,"autocomplete":1]} or a plain command. */
static void
handle_text(ws_conn_t *c, const uint8_t *data, size_t len)
{
    if (c->session == NULL || c->closing)
        return;
    json_error_t jerr;
    json_t *v = json_loadb((const char *)data, len, JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        c->p->host->session_input(c->session, (const char *)data, len, 0);
        return;
    }
    json_t *cmd = json_is_object(v) ? json_object_get(v, "cmd") : NULL;
    if (!json_is_object(v)) {
        send_notice(c, NOT_OBJECT_MSG, sizeof(NOT_OBJECT_MSG) - 1);
    } else if (!json_is_string(cmd)) {
        send_notice(c, NO_CMD_MSG, sizeof(NO_CMD_MSG) - 1);
    } else {
        unsigned flags = is_truthy(json_object_get(v, "autocomplete")) ? TALE_INPUT_AUTOCOMPLETE : 0;
        c->p->host->session_input(c->session, json_string_value(cmd), json_string_length(cmd), flags);
    }
    json_decref(v);
}

/* h2o calls this for every complete message, and with arg == NULL once the
 * connection is over (then, and only then, we free it). */
static void
on_ws_msg(h2o_websocket_conn_t *ws, const struct wslay_event_on_msg_recv_arg *arg)
{
    ws_conn_t *c = ws->data;
    if (c == NULL) { /* orphaned by ws_destroy */
        if (arg == NULL)
            h2o_websocket_close(ws);
        return;
    }
    if (arg == NULL) {
        conn_free(c);
        h2o_websocket_close(ws);
        return;
    }
    c->last_rx = now_ms(c->p);
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        handle_text(c, arg->msg, arg->msg_length);
        break;
    case WSLAY_BINARY_FRAME:
        detach_session(c);
        begin_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not accepted");
        break;
    case WSLAY_CONNECTION_CLOSE:
        /* wslay answers the close itself; the session stays resumable */
        detach_session(c);
        if (!c->closing) {
            c->closing = 1;
            c->close_deadline = c->last_rx + WS_CLOSE_GRACE_MS;
        }
        break;
    default:
        /* ping (wslay has queued the pong) and pong: the peer is alive.  A
         * peer that pings and never reads would grow the queue with pongs:
         * past the hard cap, abort the connection from inside the callback
         * the way h2o allows (H2O-NOTES 16): h2o then calls us with NULL. */
        if (note_backlog(c) != 0) {
            log_stuck_pinger(c);
            detach_session(c);
            wslay_event_shutdown_read(c->ws->ws_ctx);
            wslay_event_shutdown_write(c->ws->ws_ctx);
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
    for (node = p->conns.next; node != &p->conns; node = next) {
        next = node->next;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, node);
        if (c->ws->sock == NULL)
            continue; /* the 101 is still being written; h2o owns it until then */
        if (c->closing) {
            if (now >= c->close_deadline)
                drop_conn(c);
        } else if (p->idle_ms != 0 && now - c->last_rx >= p->idle_ms) {
            p->host->log(p->self, TALE_LOG_INFO, "dropping a connection silent for %llu ms",
                         (unsigned long long)(now - c->last_rx));
            drop_conn(c);
        } else if (c->over_since != 0 && wslay_event_get_queued_msg_length(c->ws->ws_ctx) <= p->max_backlog) {
            c->over_since = 0; /* it caught up */
        } else if (c->over_since != 0 && now - c->over_since >= WS_BACKLOG_GRACE_MS) {
            detach_session(c); /* the session keeps its frames for a resume */
            close_stuck(c, wslay_event_get_queued_msg_length(c->ws->ws_ctx));
        } else if (p->ping_ms != 0 && now - c->last_ping >= p->ping_ms) {
            struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
            if (wslay_event_queue_msg(c->ws->ws_ctx, &ping) == 0)
                schedule_flush(c);
            c->last_ping = now;
        }
    }
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

/* The Cookie header; several of them (allowed, if unusual) are joined with "; ". */
static h2o_iovec_t
cookie_header(h2o_req_t *req)
{
    h2o_iovec_t all = h2o_iovec_init(NULL, 0);
    for (ssize_t i = -1; (i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("cookie"), i)) != -1;) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (all.base == NULL) {
            all = v;
        } else {
            all = h2o_concat(&req->pool, all, h2o_iovec_init(H2O_STRLIT("; ")), v);
        }
    }
    return all;
}

/* Cross-site WebSocket hijacking: a browser always sends Origin, so a foreign
 * page's handshake is refused unless the origin names this very host (or is
 * listed).  No Origin at all means a non-browser client, which has no cookie
 * of a victim to abuse. */
/* Host names compare without regard to case on both sides (h2o_lcstris
 * lower-cases only its first argument), byte by byte: a header may hold a
 * NUL, which must not end the comparison early (strncasecmp would). */
static int
same_host_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (h2o_tolower(a[i]) != h2o_tolower(b[i]))
            return 0;
    return 1;
}

static int
origin_allowed(ws_plugin_t *p, h2o_req_t *req)
{
    h2o_iovec_t origin = find_header(req, H2O_STRLIT("origin"));
    if (origin.base == NULL || p->any_origin)
        return 1;
    for (size_t i = 0; i < p->norigins; ++i)
        if (same_host_ci(origin.base, origin.len, p->origins[i], strlen(p->origins[i])))
            return 1;
    const char *sep = memmem(origin.base, origin.len, "://", 3);
    if (sep == NULL || req->input.authority.len == 0)
        return 0;
    const char *host = sep + 3;
    size_t hlen = origin.len - (size_t)(host - origin.base);
    return same_host_ci(host, hlen, req->input.authority.base, req->input.authority.len);
}

/* ?resume=<seq>: 0 when absent, -1 when malformed. */
static int
parse_resume(h2o_req_t *req, uint64_t *out)
{
    *out = 0;
    if (req->query_at == SIZE_MAX)
        return 0;
    const char *q = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pend = amp != NULL ? amp : end;
        if ((size_t)(pend - q) >= 7 && memcmp(q, "resume=", 7) == 0) {
            const char *d = q + 7;
            if (d == pend || pend - d > 20)
                return -1;
            uint64_t v = 0;
            for (; d < pend; ++d) {
                if (*d < '0' || *d > '9' || v > (UINT64_MAX - (uint64_t)(*d - '0')) / 10)
                    return -1;
                v = v * 10 + (uint64_t)(*d - '0');
            }
            *out = v;
        }
        q = pend + 1;
    }
    return 0;
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
    if (!origin_allowed(p, req))
        return send_error(req, 403, "Forbidden", "cross-origin WebSocket handshake refused");
    uint64_t resume_after;
    if (parse_resume(req, &resume_after) != 0)
        return send_error(req, 400, "Bad Request", "resume must be a sequence number");

    h2o_iovec_t cookie = cookie_header(req);
    char set_cookie[TALE_SET_COOKIE_MAX];
    unsigned flags = TALE_SESSION_CREATE | (req->scheme == &H2O_URL_SCHEME_HTTPS ? TALE_SESSION_SECURE : 0);
    set_cookie[0] = '\0';
    tale_session_t *session = p->host->session_get(p->self, cookie.base, cookie.len, flags, set_cookie);
    if (session == NULL)
        return send_error(req, 503, "Service Unavailable", "no player seat is free");
    if (set_cookie[0] != '\0') {
        size_t n = strnlen(set_cookie, TALE_SET_COOKIE_MAX);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, h2o_strdup(&req->pool, set_cookie, n).base, n);
    }

    if (p->ctx == NULL)
        p->ctx = req->conn->ctx;
    ws_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return send_error(req, 503, "Service Unavailable", "out of memory");
    c->p = p;
    c->flush.cb = on_flush;
    c->last_rx = c->last_ping = now_ms(p);
    h2o_linklist_insert(&p->conns, &c->link);
    ++p->nconns;
    if (!h2o_timeout_is_linked(&p->sweep))
        h2o_timeout_link(p->ctx->loop, &p->ctx->hundred_ms_timeout, &p->sweep);

    /* The 101 goes out asynchronously; until then sock is NULL and whatever we
     * queue waits in wslay for h2o's first proceed. */
    c->ws = h2o_upgrade_to_websocket(req, client_key, c, on_ws_msg);
    wslay_event_config_set_max_recv_msg_length(c->ws->ws_ctx, p->max_message);
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

static int
ws_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    static const char *const known[] = {"path",         "max_message",     "max_backlog", "ping_interval",
                                        "idle_timeout", "allowed_origins", NULL};
    /* We call nothing newer than ABI 1.0, so a 1.0 table (ending at `free`) is enough. */
    if (host == NULL || host->abi_major != TALE_ABI_MAJOR || host->size < offsetof(tale_host_api_t, free) + sizeof(host->free)) {
        snprintf(err, errlen, "ws: host API %u.x is not the one this plugin was built for (%d.%d)",
                 host != NULL ? host->abi_major : 0, TALE_ABI_MAJOR, TALE_ABI_MINOR);
        return -1;
    }
    ws_plugin_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "ws: out of memory");
        return -1;
    }
    p->self = self;
    p->host = host;
    h2o_linklist_init_anchor(&p->conns);
    p->sweep.cb = on_sweep;

    const char *path;
    const char *const *origins;
    size_t norigins;
    /* the getters write a located message into err themselves */
    if (host->conf_check_keys(self, known) != 0 || host->conf_string(self, "path", "/tale/ws", &path) != 0 ||
        host->conf_size(self, "max_message", 64 * 1024, &p->max_message) != 0 ||
        host->conf_size(self, "max_backlog", 1024 * 1024, &p->max_backlog) != 0 ||
        host->conf_duration_ms(self, "ping_interval", 30000, &p->ping_ms) != 0 ||
        host->conf_duration_ms(self, "idle_timeout", 75000, &p->idle_ms) != 0 ||
        host->conf_string_list(self, "allowed_origins", &origins, &norigins) != 0)
        goto fail;
    if (path == NULL || path[0] != '/') {
        snprintf(err, errlen, "ws: path must start with '/'");
        goto fail;
    }
    if (p->max_message < 16) {
        snprintf(err, errlen, "ws: max_message must be at least 16 bytes");
        goto fail;
    }
    if (p->max_backlog < 1024) {
        snprintf(err, errlen, "ws: max_backlog must be at least 1k");
        goto fail;
    }
    if (p->ping_ms != 0 && p->idle_ms != 0 && p->idle_ms <= p->ping_ms) {
        /* otherwise a healthy but quiet client is dropped before it is ever pinged */
        snprintf(err, errlen, "ws: idle_timeout must be longer than ping_interval");
        goto fail;
    }
    p->path = strdup(path);
    p->origins = calloc(norigins + 1, sizeof(char *));
    for (size_t i = 0; i < norigins; ++i) {
        p->origins[i] = strdup(origins[i]);
        p->any_origin |= strcmp(origins[i], "*") == 0;
    }
    p->norigins = norigins;
    *state = p;
    return 0;

fail:
    ws_destroy(self, p);
    return -1;
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
        detach_session(c);
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
        if (c->ws->sock != NULL) {
            drop_conn(c);
        } else {
            /* h2o still owns the half-done upgrade; forget our side only */
            c->ws->data = NULL;
            conn_free(c);
        }
    }
    if (h2o_timeout_is_linked(&p->sweep))
        h2o_timeout_unlink(&p->sweep);
    if (p->origins != NULL)
        for (size_t i = 0; i < p->norigins; ++i)
            free(p->origins[i]);
    free(p->origins);
    free(p->path);
    free(p);
}

static const tale_plugin_desc_t ws_desc = {TALE_PLUGIN_DESC_HEADER, "ws", "1.0.0", ws_init, ws_start, ws_stop, ws_destroy};

TALE_EXPORT const tale_plugin_desc_t *
TALE_PLUGIN_ENTRY(void)
{
    return &ws_desc;
}
