/*
 * echo.c - the smallest useful Tale Host transport, and the template for
 * writing your own.  It builds against the installed SDK only (see Makefile).
 *
 *   POST /echo          body: one command per line, e.g. "look"
 *   -> 200, application/x-ndjson: every frame the command(s) produced, one
 *      JSON object per line, exactly the bytes the host serialised.
 *
 * The player is named by the `tale_session` cookie; a request without one
 * gets a seat (and a Set-Cookie) plus the held backlog, so the first answer
 * starts with the welcome text.  Use `curl -c jar -b jar` to keep playing.
 *
 * Each request is a short-lived "connection": attach a vtable that buffers
 * frames, feed the input, detach, answer.  The host delivers frames
 * synchronously during session_input(), which is what makes this simple.
 * Note that in IF mode there is one seat, so a request takes it over from any
 * browser attached to it (that browser is told and closed): this transport is
 * for scripts and tests, not for sharing a game with a browser.
 *
 * Config (the plugin's `config:` mapping in tale.yaml):
 *   path: /echo        where to mount (default /echo)
 */
#include <h2o.h>
#include <stdlib.h>
#include <string.h>
#include <tale/plugin.h>
#include <tale/h2o_request.h>

/* Everything the plugin keeps between calls: allocated in init, freed in destroy. */
typedef struct echo {
    tale_plugin_t *self;         /* our handle: passed back on every host call */
    const tale_host_api_t *host; /* valid from init until destroy returns */
    const char *path;            /* owned by the host's config, valid as long as host */
} echo_t;

/* Our h2o handler: h2o allocates it (h2o_create_handler) and frees it with the config. */
typedef struct echo_handler {
    h2o_handler_t super; /* first: h2o hands us this pointer back */
    echo_t *echo;
} echo_handler_t;

/* One request's "connection": lives on the stack of on_req, so it must be
 * detached before on_req returns. */
typedef struct echo_conn {
    char *buf; /* newline-delimited frames, malloc'd */
    size_t len, cap;
    int closed; /* the host closed us (e.g. the player typed "quit") */
    int failed; /* out of memory: answer 500 */
} echo_conn_t;

/* ---- the player-IO vtable ---------------------------------------------- */

/* The frame's bytes are only valid during this call: copy them. */
static int
conn_send(void *c, const tale_frame_t *frame)
{
    echo_conn_t *conn = c;
    size_t need = conn->len + frame->len + 1;
    if (need > conn->cap) {
        size_t cap = conn->cap > 0 ? conn->cap : 4096;
        while (cap < need)
            cap *= 2;
        char *grown = realloc(conn->buf, cap);
        if (grown == NULL) {
            conn->failed = 1;
            return -1; /* the host detaches us; on_req answers 500 */
        }
        conn->buf = grown;
        conn->cap = cap;
    }
    memcpy(conn->buf + conn->len, frame->json, frame->len);
    conn->len += frame->len;
    conn->buf[conn->len++] = '\n';
    return 0;
}

/* The host has already detached us and the session may be gone (quit ends
 * it): remember that, so on_req does not touch the session again. */
static void
conn_close(void *c, int code, const char *reason)
{
    echo_conn_t *conn = c;
    conn->closed = 1;
}

/* static const: the host keeps this pointer while we are attached. */
static const tale_player_io_t echo_io = {
    .size = sizeof(tale_player_io_t),
    .send = conn_send,
    .close = conn_close,
    .backlog = NULL, /* optional: we never hold bytes back */
};

/* ---- HTTP --------------------------------------------------------------- */

static void
send_error(h2o_req_t *req, int status, const char *reason, const char *json_body)
{
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_send_inline(req, json_body, strlen(json_body));
}

static int
on_req(h2o_handler_t *h, h2o_req_t *req)
{
    echo_t *echo = ((echo_handler_t *)h)->echo;
    const tale_host_api_t *host = echo->host;

    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("POST"));
        send_error(req, 405, "Method Not Allowed", "{\"error\":\"POST a command\"}");
        return 0;
    }

    if (req->entity.len == 0) {
        send_error(req, 400, "Bad Request", "{\"error\":\"POST a command in the body\"}");
        return 0;
    }

    /* Find or make the player's session.  The host checks Host, Origin and
     * the client's address and applies the seat rules (ABI 1.2); a refusal
     * comes back as the status to answer. */
    tale_request_t rq;
    struct sockaddr_storage peer;
    tale_request_from_h2o(req, TALE_SESSION_CREATE, &rq, &peer);
    char set_cookie[TALE_SET_COOKIE_MAX];
    tale_session_t *s = NULL;
    const char *error = NULL;
    int status = host->session_open(echo->self, &rq, &s, set_cookie, &error);
    if (status != 0 || s == NULL) {
        tale_h2o_send_error(req, status != 0 ? status : 503, error != NULL ? error : "no seat available");
        return 0;
    }
    if (set_cookie[0] != '\0') {
        /* h2o keeps the pointer, not the bytes: copy into the request's pool */
        h2o_iovec_t v = h2o_strdup(&req->pool, set_cookie, SIZE_MAX);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, v.base, v.len);
    }

    /* A new player gets everything held (the welcome text); a returning one
     * only what this request produces. */
    echo_conn_t conn = {0};
    uint64_t resume_after = set_cookie[0] != '\0' ? 0 : host->session_last_seq(s);
    if (host->session_attach(s, &echo_io, &conn, resume_after) != 0) {
        send_error(req, 500, "Internal Server Error", "{\"error\":\"cannot attach\"}");
        return 0;
    }

    /* The body is fully buffered by h2o (capped by limits.max_request_body).
     * Each non-empty line is one command; the frames arrive in conn_send. */
    const char *p = req->entity.base, *end = p + req->entity.len;
    while (p < end && !conn.closed && !conn.failed) {
        const char *nl = memchr(p, '\n', end - p);
        const char *eol = nl != NULL ? nl : end;
        size_t n = eol - p;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > 0)
            host->session_input(s, p, n, 0);
        p = eol + 1;
    }

    /* Detach before conn goes out of scope.  After close() the session may be
     * freed already, so only detach while the host still has us. */
    if (!conn.closed)
        host->session_detach(s, &conn);

    if (conn.failed) {
        free(conn.buf);
        send_error(req, 500, "Internal Server Error", "{\"error\":\"out of memory\"}");
        return 0;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/x-ndjson"));
    h2o_send_inline(req, conn.buf != NULL ? conn.buf : "", conn.len); /* copies the bytes */
    free(conn.buf);
    return 0;
}

/* The host calls this once it registers our path (after every plugin's start). */
static int
on_mount(tale_plugin_t *self, struct st_h2o_pathconf_t *pathconf, void *data)
{
    echo_handler_t *h = (echo_handler_t *)h2o_create_handler(pathconf, sizeof(*h));
    h->super.on_req = on_req;
    h->echo = data;
    return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Read and check config; nothing may listen or mount yet. */
static int
echo_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    /* The getters write a located "file:line:column: ..." into err themselves. */
    static const char *const known[] = {"path", NULL};
    const char *path;
    /* session_open (ABI 1.2) is the newest host call we make: refuse an older host. */
    if (!TALE_HOST_HAS(host, session_open)) {
        snprintf(err, errlen, "needs a host with plugin ABI 1.2 (this one speaks %u.%u)", host->abi_major, host->abi_minor);
        return -1;
    }
    if (host->conf_check_keys(self, known) != 0 || host->conf_string(self, "path", "/echo", &path) != 0)
        return -1;
    if (path[0] != '/') {
        snprintf(err, errlen, "path must start with '/', got \"%s\"", path);
        return -1;
    }
    echo_t *echo = calloc(1, sizeof(*echo));
    if (echo == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    echo->self = self;
    echo->host = host;
    echo->path = path;
    *state = echo;
    return 0;
}

/* Claim our path.  mount() fails (with its reason in err) if another plugin has it. */
static int
echo_start(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    echo_t *echo = state;
    if (echo->host->mount(self, echo->path, on_mount, echo) != 0)
        return -1;
    echo->host->log(self, TALE_LOG_INFO, "POST commands to %s", echo->path);
    return 0;
}

/* Nothing to close: a request never outlives on_req, so no player is left. */
static void
echo_stop(tale_plugin_t *self, void *state)
{
}

static void
echo_destroy(tale_plugin_t *self, void *state)
{
    free(state);
}

static const tale_plugin_desc_t echo_desc = {
    TALE_PLUGIN_DESC_HEADER, "echo", "1.0", echo_init, echo_start, echo_stop, echo_destroy,
};

/* The one exported symbol. */
TALE_EXPORT const tale_plugin_desc_t *
TALE_PLUGIN_ENTRY(void)
{
    return &echo_desc;
}
