/*
 * sse.c - the Server-Sent Events transport (PROTOCOL.md, "Server-Sent Events").
 *
 *   GET  /tale/eventsource     the player's frames as an event stream
 *   POST /tale/input           cmd=<urlencoded>[&autocomplete=1]
 *   GET  /tale/tabcomplete     ?prefix=<urlencoded>  ->  JSON array of strings
 *
 * The stream is a long-lived h2o generator.  h2o takes one h2o_send() per
 * proceed() callback, so frames from the host collect in `pending` while one
 * buffer (`inflight`) is on the wire; proceed() swaps them.  A buffer is
 * freed once written, so an idle stream holds none, and a burst's memory
 * goes with the burst.
 *
 *   plugins:
 *     - name: sse
 *       module: sse
 *       config: { keepalive: 15s, max_body: 64k, max_backlog: 1m }
 */
#include <tale/alloc.h>
#include <tale/plugin.h>

#include "form.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <h2o.h>
#include <tale/h2o_request.h>

#define KEEPALIVE_COMMENT ": keepalive\n\n"
/* The first bytes of every stream: they carry the headers out at once, so
 * the browser's EventSource opens even when there is no frame to replay. */
#define OPENING_COMMENT ": tale-host\n\n"

enum { PATH_EVENTSOURCE, PATH_INPUT, PATH_TABCOMPLETE, PATH_COUNT };

typedef struct sse_plugin sse_plugin_t;

/* A growable byte buffer, freed once h2o has written it. */
typedef struct sse_buf {
    char *data;
    size_t len, cap;
} sse_buf_t;

typedef struct sse_stream {
    h2o_generator_t super;
    sse_plugin_t *plugin;    /* NULL once the plugin has let go of the stream (destroy) */
    h2o_req_t *req;          /* NULL after h2o's stop() or our final send */
    tale_session_t *session; /* non-NULL while attached */
    struct sse_stream *prev, *next;
    sse_buf_t pending;  /* bytes not yet handed to h2o */
    sse_buf_t inflight; /* bytes h2o holds until the next proceed() */
    h2o_timeout_entry_t keepalive;
    unsigned listed : 1;   /* in plugin->streams */
    unsigned deferred : 1; /* inside the request handler: collect, do not send yet */
    unsigned sending : 1;  /* an h2o_send is waiting for proceed() */
    unsigned ending : 1;   /* send FINAL once pending is out */
    unsigned finished : 1; /* FINAL sent, or h2o stopped us */
} sse_stream_t;

typedef struct sse_mount {
    sse_plugin_t *plugin;
    int kind;
} sse_mount_t;

typedef struct sse_handler {
    h2o_handler_t super;
    sse_plugin_t *plugin;
    int kind;
} sse_handler_t;

struct sse_plugin {
    tale_plugin_t *self;
    const tale_host_api_t *host;
    char *paths[PATH_COUNT];
    sse_mount_t mounts[PATH_COUNT];
    uint64_t keepalive_ms, max_body, max_backlog;
    h2o_evloop_t *loop;
    h2o_timeout_t keepalive; /* one timeout queue, one entry per stream */
    int keepalive_inited;
    int stopping;
    sse_stream_t *streams;
    size_t nstreams;
};

/* ---- buffers ------------------------------------------------------------- */

/* Append n bytes; the callers bound the buffer by max_backlog first. */
static void
buf_append(sse_buf_t *b, const char *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap != 0 ? b->cap : 1024;
        while (cap - b->len < n)
            cap *= 2;
        b->data = tale_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void
buf_appends(sse_buf_t *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

/* ---- the stream ------------------------------------------------------------ */

/* Let go of everything outside the request: session, timer, list.  Idempotent.
 * An event stream has no close codes: its end counts as code 0 ("none") in
 * the host's metrics and access log, unless the server ends it (`code`). */
static void
stream_release_code(sse_stream_t *st, int code)
{
    sse_plugin_t *p = st->plugin;
    if (p == NULL)
        return;
    if (st->session != NULL) {
        tale_session_t *s = st->session;
        st->session = NULL;
        if (TALE_HOST_HAS(p->host, session_closed))
            p->host->session_closed(s, st, code);
        else
            p->host->session_detach(s, st);
    }
    if (h2o_timeout_is_linked(&st->keepalive))
        h2o_timeout_unlink(&st->keepalive);
    if (st->listed) {
        if (st->prev != NULL)
            st->prev->next = st->next;
        else
            p->streams = st->next;
        if (st->next != NULL)
            st->next->prev = st->prev;
        st->prev = st->next = NULL;
        st->listed = 0;
        p->nstreams--;
    }
}

static void
stream_release(sse_stream_t *st)
{
    stream_release_code(st, 0);
}

/*
 * Hand pending bytes to h2o if nothing is in flight.  Once `ending` is set
 * and pending is empty, send FINAL (an empty FINAL is fine; an empty
 * IN_PROGRESS is not, H2O-NOTES 19).
 */
static void
stream_flush(sse_stream_t *st)
{
    if (st->req == NULL || st->finished || st->sending || st->deferred)
        return;
    if (st->pending.len == 0 && !st->ending)
        return;

    sse_buf_t tmp = st->inflight;
    st->inflight = st->pending;
    st->pending = tmp;
    st->pending.len = 0;

    h2o_req_t *req = st->req;
    h2o_iovec_t iov = h2o_iovec_init(st->inflight.data, st->inflight.len);
    h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
    if (st->ending) {
        state = H2O_SEND_STATE_FINAL;
        st->finished = 1;
        st->req = NULL;
        stream_release(st);
    } else {
        st->sending = 1;
    }
    /* The stream lives in the request's pool; hold a reference so that a
     * request torn down inside h2o_send cannot free it under our feet. */
    h2o_mem_addref_shared(st);
    h2o_send(req, &iov, iov.len != 0 ? 1 : 0, state);
    h2o_mem_release_shared(st);
}

/* End the stream cleanly once what is queued has been written. */
static void
stream_end(sse_stream_t *st)
{
    st->ending = 1;
    stream_flush(st);
}

static void
on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    sse_stream_t *st = (sse_stream_t *)g;
    st->sending = 0;
    /* Written: an idle stream (most of a crowd's) keeps no buffer; the next
     * frame allocates one sized for it. */
    free(st->inflight.data);
    st->inflight = (sse_buf_t){NULL, 0, 0};
    stream_flush(st);
}

/* h2o gives up on the response: the client left (at once over HTTP/2, on
 * the next write over HTTP/1.1) or the connection is being torn down. */
static void
on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    sse_stream_t *st = (sse_stream_t *)g;
    st->req = NULL;
    st->finished = 1;
    stream_release(st);
}

/* The request's pool is going away (the last reference to the stream). */
static void
on_dispose(void *obj)
{
    sse_stream_t *st = obj;
    st->req = NULL;
    stream_release(st);
    free(st->pending.data);
    free(st->inflight.data);
}

static void
on_keepalive(h2o_timeout_entry_t *entry)
{
    sse_stream_t *st = H2O_STRUCT_FROM_MEMBER(sse_stream_t, keepalive, entry);
    sse_plugin_t *p = st->plugin;
    /* Also over HTTP/1.1 this write is how a vanished client is noticed.  A
     * client that reads nothing lets even comments pile up: bound them too. */
    if (st->pending.len + st->inflight.len > p->max_backlog) {
        stream_release(st);
        stream_end(st);
        return;
    }
    buf_appends(&st->pending, KEEPALIVE_COMMENT);
    h2o_timeout_link(p->loop, &p->keepalive, &st->keepalive);
    stream_flush(st);
}

/* Append "event: close" so a page that knows it can stop reconnecting; the
 * LlamaTale client ignores events it has no listener for. */
static void
append_close_event(sse_stream_t *st, int code, const char *reason)
{
    char line[64];
    snprintf(line, sizeof(line), "event: close\ndata: {\"code\":%d,\"reason\":\"", code);
    buf_appends(&st->pending, line);
    for (const char *r = reason != NULL ? reason : ""; *r != '\0'; r++) {
        unsigned char c = (unsigned char)*r;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_append(&st->pending, esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            buf_appends(&st->pending, esc);
        } else {
            buf_append(&st->pending, (const char *)&c, 1);
        }
    }
    buf_appends(&st->pending, "\"}\n\n");
}

/* ---- the player-IO vtable ---- */

static int
io_send(void *conn, const tale_frame_t *frame)
{
    sse_stream_t *st = conn;
    if (st->finished || st->ending)
        return -1;
    char head[96];
    int n =
        snprintf(head, sizeof(head), "event: %.32s\nid: %" PRIu64 "\n", frame->event != NULL ? frame->event : "text", frame->seq);
    if (st->pending.len + st->inflight.len + frame->len + (size_t)n + 16 > st->plugin->max_backlog && !st->deferred) {
        /* The client is not reading.  The host detaches us and keeps the
         * frames for a resume; we end the stream. */
        st->plugin->host->log(st->plugin->self, TALE_LOG_WARN, "an event stream fell %zu bytes behind (max_backlog); ending it",
                              st->pending.len + st->inflight.len);
        st->session = NULL;
        stream_end(st);
        return -1;
    }
    buf_append(&st->pending, head, (size_t)n);
    /* The host sends compact JSON, which has no raw line breaks; should one
     * appear, each line gets its own "data:" field, which the browser joins
     * with '\n' (still valid JSON whitespace). */
    const char *p = frame->json, *end = frame->json + frame->len;
    for (;;) {
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        buf_append(&st->pending, "data: ", 6);
        buf_append(&st->pending, p, (size_t)(eol - p));
        buf_append(&st->pending, "\n", 1);
        if (eol >= end)
            break;
        p = eol + 1;
    }
    buf_append(&st->pending, "\n", 1);
    stream_flush(st);
    return 0;
}

static void
io_close(void *conn, int code, const char *reason)
{
    sse_stream_t *st = conn;
    st->session = NULL; /* the host has detached us already */
    if (st->finished || st->ending)
        return;
    append_close_event(st, code, reason);
    stream_end(st);
}

static size_t
io_backlog(void *conn)
{
    sse_stream_t *st = conn;
    return st->pending.len + st->inflight.len;
}

static const tale_player_io_t sse_io = {sizeof(tale_player_io_t), io_send, io_close, io_backlog};

/* ---- request helpers ------------------------------------------------------- */

static void
add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, strlen(value));
}

/* Answer with a JSON body.  `json` must be static or live in req->pool (h2o_send_inline copies it). */
static void
send_json(h2o_req_t *req, int status, const char *reason, const char *json, size_t len)
{
    req->res.status = status;
    req->res.reason = reason;
    add_header(req, H2O_TOKEN_CONTENT_TYPE, "application/json");
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    req->res.content_length = len; /* h2o_send_inline leaves it unset (chunked) */
    h2o_send_inline(req, json, len);
}

static void
send_error(h2o_req_t *req, int status, const char *reason, const char *message)
{
    /* Messages are our own ASCII literals: no escaping needed. */
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", message);
    send_json(req, status, reason, body, (size_t)n);
}

static int
method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static void
send_405(h2o_req_t *req, const char *allow)
{
    add_header(req, H2O_TOKEN_ALLOW, allow);
    send_error(req, 405, "Method Not Allowed", "method not allowed");
}

/* The request's seat through the host, which also checks Host, Origin and
 * the client's address for every endpoint here (one rule for all
 * transports).  NULL after answering the request with the refusal, or with
 * 401 when no seat is named and none is to be created. */
static tale_session_t *
find_session(sse_plugin_t *p, h2o_req_t *req, unsigned flags, char set_cookie[TALE_SET_COOKIE_MAX])
{
    tale_request_t rq;
    struct sockaddr_storage peer;
    tale_request_from_h2o(req, flags, &rq, &peer);
    tale_session_t *s = NULL;
    const char *error = NULL;
    int status = p->host->session_open(p->self, &rq, &s, set_cookie, &error);
    if (status != 0)
        tale_h2o_send_error(req, status, error);
    else if (s == NULL && (flags & TALE_SESSION_CREATE))
        tale_h2o_send_error(req, 503, "no player seat is free");
    else if (s == NULL)
        send_error(req, 401, "Unauthorized", "no session: open the event stream first");
    return s;
}

/* Last-Event-ID as a seq; anything but 1-20 decimal digits that fit means "from the start". */
static uint64_t
last_event_id(h2o_req_t *req)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
    if (i < 0)
        return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    uint64_t seq = 0;
    if (v.len == 0 || v.len > 20)
        return 0;
    for (size_t k = 0; k < v.len; k++) {
        if (v.base[k] < '0' || v.base[k] > '9')
            return 0;
        uint64_t d = (uint64_t)(v.base[k] - '0');
        if (seq > (UINT64_MAX - d) / 10)
            return 0;
        seq = seq * 10 + d;
    }
    return seq;
}

/* ---- GET /tale/eventsource ---------------------------------------------------- */

static int
handle_eventsource(sse_plugin_t *p, h2o_req_t *req)
{
    if (!method_is(req, "GET")) {
        send_405(req, "GET");
        return 0;
    }
    if (p->stopping) {
        send_error(req, 503, "Service Unavailable", "the server is shutting down");
        return 0;
    }
    char set_cookie[TALE_SET_COOKIE_MAX] = "";
    tale_session_t *s = find_session(p, req, TALE_SESSION_CREATE, set_cookie);
    if (s == NULL)
        return 0;

    sse_stream_t *st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), on_dispose);
    memset(st, 0, sizeof(*st));
    st->super.proceed = on_proceed;
    st->super.stop = on_stop;
    st->plugin = p;
    st->req = req;
    st->keepalive.cb = on_keepalive;
    st->deferred = 1; /* the replay during attach only collects bytes */
    buf_appends(&st->pending, OPENING_COMMENT);

    st->next = p->streams;
    if (p->streams != NULL)
        p->streams->prev = st;
    p->streams = st;
    st->listed = 1;
    p->nstreams++;

    st->session = s;
    if (p->host->session_attach(s, &sse_io, st, last_event_id(req)) != 0) {
        st->session = NULL;
        stream_release(st);
        send_error(req, 500, "Internal Server Error", "the session refused the connection");
        return 0;
    }

    req->res.status = 200;
    req->res.reason = "OK";
    add_header(req, H2O_TOKEN_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-cache");
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0, NULL, H2O_STRLIT("no"));
    if (set_cookie[0] != '\0') {
        h2o_iovec_t v = h2o_strdup(&req->pool, set_cookie, strlen(set_cookie));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, v.base, v.len);
    }
    /* A compressing filter would hold events back to fill its blocks. */
    req->compress_hint = H2O_COMPRESS_HINT_DISABLE;
    h2o_start_response(req, &st->super);
    if (st->session != NULL && !st->ending)
        h2o_timeout_link(p->loop, &p->keepalive, &st->keepalive);
    st->deferred = 0;
    stream_flush(st);
    return 0;
}

/* ---- POST /tale/input ------------------------------------------------------- */

static int
content_type_is_form(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return 0; /* browsers' forms and fetch() always say so; a bare body is refused */
    h2o_iovec_t v = req->headers.entries[i].value;
    static const char form[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(form) - 1;
    if (v.len < n || !h2o_lcstris(v.base, n, form, n))
        return 0;
    return v.len == n || v.base[n] == ';' || v.base[n] == ' ';
}

static int
flag_value(const char *v, size_t len)
{
    return !(len == 0 || h2o_memis(v, len, H2O_STRLIT("0")) || h2o_lcstris(v, len, H2O_STRLIT("false")));
}

static int
handle_input(sse_plugin_t *p, h2o_req_t *req)
{
    if (!method_is(req, "POST")) {
        send_405(req, "POST");
        return 0;
    }
    if (req->entity.len > p->max_body) {
        send_error(req, 413, "Payload Too Large", "the request body is too large");
        return 0;
    }
    if (!content_type_is_form(req)) {
        send_error(req, 415, "Unsupported Media Type", "send application/x-www-form-urlencoded");
        return 0;
    }
    tale_session_t *s = find_session(p, req, 0, NULL);
    if (s == NULL)
        return 0;
    const char *body = req->entity.base != NULL ? req->entity.base : "";
    size_t len = req->entity.len;
    char *cmd = h2o_mem_alloc_pool(&req->pool, len + 1);
    size_t cmd_len = 0;
    int rc = tale_form_get(body, len, "cmd", cmd, len + 1, &cmd_len);
    if (rc != TALE_FORM_OK) {
        const char *msg = rc == TALE_FORM_MISSING     ? "missing field: cmd"
                          : rc == TALE_FORM_DUPLICATE ? "cmd given more than once"
                                                      : "malformed percent-encoding in the form";
        send_error(req, 400, "Bad Request", msg);
        return 0;
    }
    if (memchr(cmd, '\0', cmd_len) != NULL) {
        send_error(req, 400, "Bad Request", "cmd contains a NUL byte");
        return 0;
    }
    cmd[cmd_len] = '\0';
    char flag[8];
    size_t flag_len = 0;
    unsigned flags = 0;
    rc = tale_form_get(body, len, "autocomplete", flag, sizeof(flag), &flag_len);
    if (rc == TALE_FORM_OK && flag_value(flag, flag_len))
        flags |= TALE_INPUT_AUTOCOMPLETE;
    else if (rc != TALE_FORM_OK && rc != TALE_FORM_MISSING) {
        send_error(req, 400, "Bad Request", "autocomplete must be 0 or 1");
        return 0;
    }
    p->host->session_input(s, cmd, cmd_len, flags);
    /* No body: start and finish the response in one go.  h2o_send_inline
     * with an empty buffer costs extra syscalls on every command (measured
     * by tale-bench's rtt-sse). */
    static h2o_generator_t no_body = {NULL, NULL};
    req->res.status = 204;
    req->res.reason = "No Content";
    h2o_start_response(req, &no_body);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    return 0;
}

/* ---- GET /tale/tabcomplete ------------------------------------------------------ */

static int
handle_tabcomplete(sse_plugin_t *p, h2o_req_t *req)
{
    if (!method_is(req, "GET")) {
        send_405(req, "GET");
        return 0;
    }
    tale_session_t *s = find_session(p, req, 0, NULL);
    if (s == NULL)
        return 0;
    const char *query = "";
    size_t qlen = 0;
    if (req->query_at != SIZE_MAX) {
        query = req->path.base + req->query_at + 1;
        qlen = req->path.len - req->query_at - 1;
    }
    char *prefix = h2o_mem_alloc_pool(&req->pool, qlen + 1);
    size_t plen = 0;
    int rc = tale_form_get(query, qlen, "prefix", prefix, qlen + 1, &plen);
    if (rc == TALE_FORM_MISSING) {
        plen = 0; /* no prefix: everything completes */
    } else if (rc != TALE_FORM_OK) {
        send_error(req, 400, "Bad Request",
                   rc == TALE_FORM_DUPLICATE ? "prefix given more than once" : "malformed percent-encoding in the query");
        return 0;
    }
    if (memchr(prefix, '\0', plen) != NULL) {
        send_error(req, 400, "Bad Request", "prefix contains a NUL byte");
        return 0;
    }
    prefix[plen] = '\0';
    size_t out_len = 0;
    char *json = p->host->session_complete(s, prefix, plen, &out_len);
    if (json == NULL) {
        send_error(req, 500, "Internal Server Error", "completion failed");
        return 0;
    }
    h2o_iovec_t copy = h2o_strdup(&req->pool, json, out_len);
    p->host->free(json);
    send_json(req, 200, "OK", copy.base, copy.len);
    return 0;
}

/* ---- h2o glue ------------------------------------------------------------- */

static int
on_req(h2o_handler_t *h, h2o_req_t *req)
{
    sse_handler_t *self = (sse_handler_t *)h;
    sse_plugin_t *p = self->plugin;
    const char *path = p->paths[self->kind];
    /* h2o also routes "<path>/anything" here; only the exact path is ours. */
    if (!h2o_memis(req->path_normalized.base, req->path_normalized.len, path, strlen(path))) {
        send_error(req, 404, "Not Found", "not found");
        return 0;
    }
    switch (self->kind) {
    case PATH_EVENTSOURCE:
        return handle_eventsource(p, req);
    case PATH_INPUT:
        return handle_input(p, req);
    default:
        return handle_tabcomplete(p, req);
    }
}

static int
on_mount(tale_plugin_t *self, struct st_h2o_pathconf_t *pathconf, void *data)
{
    sse_mount_t *m = data;
    sse_handler_t *h = (sse_handler_t *)h2o_create_handler(pathconf, sizeof(*h));
    if (h == NULL)
        return -1;
    h->super.on_req = on_req;
    h->plugin = m->plugin;
    h->kind = m->kind;
    return 0;
}

/* ---- lifecycle -------------------------------------------------------------- */

/* The plugin's config keys (docs/CONFIG.md, "sse"). */
typedef struct sse_conf {
    const char *paths[PATH_COUNT]; /* eventsource, input, tabcomplete */
    uint64_t keepalive_ms, max_body, max_backlog;
} sse_conf_t;

static const char *const path_keys[PATH_COUNT] = {"eventsource_path", "input_path", "tabcomplete_path"};

static const tale_conf_row_t sse_conf_rows[] = {
    TALE_CONF_ROW_STRING("eventsource_path", sse_conf_t, paths[0], "/tale/eventsource"),
    TALE_CONF_ROW_STRING("input_path", sse_conf_t, paths[1], "/tale/input"),
    TALE_CONF_ROW_STRING("tabcomplete_path", sse_conf_t, paths[2], "/tale/tabcomplete"),
    TALE_CONF_ROW_DURATION("keepalive", sse_conf_t, keepalive_ms, 15000, 10, 3600 * 1000),
    TALE_CONF_ROW_SIZE("max_body", sse_conf_t, max_body, 64 * 1024, 16, 16 * 1024 * 1024),
    TALE_CONF_ROW_SIZE("max_backlog", sse_conf_t, max_backlog, 1024 * 1024, 4096, INT64_MAX),
};

static void
plugin_free(sse_plugin_t *p)
{
    for (int i = 0; i < PATH_COUNT; i++)
        free(p->paths[i]);
    free(p);
}

static int
sse_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    /* conf_table (ABI 1.3) is the newest call we make. */
    if (!TALE_HOST_HAS(host, conf_table)) {
        snprintf(err, errlen, "the host's API %u.%u is older than the 1.3 this plugin needs", host->abi_major, host->abi_minor);
        return -1;
    }
    sse_plugin_t *p = tale_xcalloc(1, sizeof(*p));
    p->self = self;
    p->host = host;
    sse_conf_t c;
    if (host->conf_table(self, sse_conf_rows, sizeof(sse_conf_rows) / sizeof(sse_conf_rows[0]), &c) != 0)
        goto fail;
    for (int i = 0; i < PATH_COUNT; i++) {
        if (c.paths[i] == NULL || c.paths[i][0] != '/') {
            snprintf(err, errlen, "%s must be a path starting with '/'", path_keys[i]);
            goto fail;
        }
        p->paths[i] = tale_xstrdup(c.paths[i]);
        p->mounts[i] = (sse_mount_t){p, i};
    }
    p->keepalive_ms = c.keepalive_ms;
    p->max_body = c.max_body;
    p->max_backlog = c.max_backlog;
    *state = p;
    return 0;
fail:
    plugin_free(p);
    return -1;
}

static int
sse_start(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    sse_plugin_t *p = state;
    p->loop = p->host->loop(self);
    /* Over HTTP/1.1 a vanished client is only noticed by the second write
     * after it left (the kernel takes the first; the peer's RST fails the
     * next), so the comment goes out every half interval: a disconnect is
     * noticed within one `keepalive` and the stream is never quieter than that. */
    h2o_timeout_init(p->loop, &p->keepalive, p->keepalive_ms / 2);
    p->keepalive_inited = 1;
    for (int i = 0; i < PATH_COUNT; i++)
        if (p->host->mount(self, p->paths[i], on_mount, &p->mounts[i]) != 0)
            return -1;
    p->host->log(self, TALE_LOG_DEBUG, "serving %s, %s, %s (keepalive %" PRIu64 " ms)", p->paths[0], p->paths[1], p->paths[2],
                 p->keepalive_ms);
    return 0;
}

/* End every stream: detach from its session, then FINAL once written. */
static void
sse_stop(tale_plugin_t *self, void *state)
{
    sse_plugin_t *p = state;
    p->stopping = 1;
    size_t n = p->nstreams;
    for (sse_stream_t *st = p->streams, *next; st != NULL; st = next) {
        next = st->next;
        stream_release_code(st, TALE_CLOSE_GOING_AWAY);
        if (!st->ending)
            append_close_event(st, TALE_CLOSE_GOING_AWAY, "The server is shutting down.");
        stream_end(st);
    }
    if (n > 0)
        p->host->log(self, TALE_LOG_INFO, "ended %zu event stream(s)", n);
}

static void
sse_destroy(tale_plugin_t *self, void *state)
{
    sse_plugin_t *p = state;
    /* Streams whose client never took the last bytes still sit in h2o's
     * pools: cut them loose so their dispose does not touch freed state. */
    while (p->streams != NULL) {
        sse_stream_t *st = p->streams;
        stream_release(st);
        st->plugin = NULL;
    }
    if (p->keepalive_inited)
        h2o_timeout_dispose(p->loop, &p->keepalive);
    plugin_free(p);
}

static const tale_plugin_desc_t sse_desc = {TALE_PLUGIN_DESC_HEADER, "sse", "1.0", sse_init, sse_start, sse_stop, sse_destroy};

TALE_EXPORT const tale_plugin_desc_t *
TALE_PLUGIN_ENTRY(void)
{
    return &sse_desc;
}
