/*
 * metrics.c - the metrics plugin: the host's counters (host->metrics_write,
 * ABI 1.3) in the Prometheus text exposition format 0.0.4 at a path on the
 * host's listeners, for addresses in an allowlist only.
 *
 * The allowlist is matched against the TCP peer, never against
 * X-Forwarded-For: a scraper talks to the host directly, and a forwarded
 * header is whatever the client wrote.
 */
#include <h2o.h>
#include <tale/alloc.h>
#include <tale/h2o_request.h>
#include <tale/plugin.h>
#include "addr.h"
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PATH "/metrics"
/* The exposition is a few kilobytes; this bounds it should plugins multiply. */
#define MAX_BODY (4u << 20)

typedef struct metrics_plugin {
    tale_plugin_t *self;
    const tale_host_api_t *host;
    const char *path;
    tale_cidr_t *allow;
    size_t n_allow;
} metrics_plugin_t;

typedef struct metrics_handler {
    h2o_handler_t super;
    metrics_plugin_t *p;
} metrics_handler_t;

typedef struct body {
    char *base;
    size_t len, cap;
} body_t;

static void
body_append(void *ctx, const char *text, size_t len)
{
    body_t *b = ctx;
    if (b->len + len > MAX_BODY)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 8192;
        while (cap < b->len + len)
            cap *= 2;
        b->base = tale_xrealloc(b->base, cap);
        b->cap = cap;
    }
    memcpy(b->base + b->len, text, len);
    b->len += len;
}

static int
peer_allowed(metrics_plugin_t *p, h2o_req_t *req)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    tale_addr_t a;
    return len != 0 && tale_addr_from_sockaddr(&a, (struct sockaddr *)&ss, len) == 0 && tale_cidr_match(p->allow, p->n_allow, &a);
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
    metrics_plugin_t *p = ((metrics_handler_t *)self)->p;
    /* only the path itself: /metrics/anything is not ours to answer */
    if (req->path_normalized.len != strlen(p->path))
        return -1;
    if (!peer_allowed(p, req))
        return tale_h2o_send_error(req, 403, "metrics are not served to this address");
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        req->res.status = 405;
        req->res.reason = "Method Not Allowed";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
        h2o_send_inline(req, H2O_STRLIT("{\"error\":\"use GET\"}"));
        return 0;
    }
    body_t b = {0};
    p->host->metrics_write(p->self, body_append, &b);
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; version=0.0.4; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, b.base != NULL ? b.base : "", b.len); /* copies into the request's pool */
    free(b.base);
    return 0;
}

static int
on_mount(tale_plugin_t *self, struct st_h2o_pathconf_t *pathconf, void *data)
{
    metrics_handler_t *h = (metrics_handler_t *)h2o_create_handler(pathconf, sizeof(*h));
    h->super.on_req = on_req;
    h->p = data;
    return 0;
}

static void
free_state(metrics_plugin_t *p)
{
    if (p == NULL)
        return;
    free(p->allow);
    free(p);
}

typedef struct metrics_conf {
    const char *path;
    const char *const *allow; /* NULL-terminated; NULL when not set */
} metrics_conf_t;

static const tale_conf_row_t metrics_conf_rows[] = {
    TALE_CONF_ROW_STRING("path", metrics_conf_t, path, DEFAULT_PATH),
    TALE_CONF_ROW_LIST("allow", metrics_conf_t, allow),
};

/* The allowlist from the config's 'allow' (loopback when empty), or -1
 * with the first entry that is no address, located when the host can. */
static int
parse_allow(metrics_plugin_t *p, const char *const *allow, tale_cidr_t **out, size_t *count, char *err, size_t errlen)
{
    static const char *const loopback[] = {"127.0.0.0/8", "::1", NULL};
    size_t n = 0;
    while (allow != NULL && allow[n] != NULL)
        n++;
    if (n == 0) {
        allow = loopback;
        n = 2;
    }
    tale_cidr_t *list = tale_xcalloc(n, sizeof(*list));
    for (size_t i = 0; i < n; i++) {
        if (tale_cidr_parse(&list[i], allow[i]) == 0)
            continue;
        static const char what[] = "metrics: 'allow' entry '%s' is not an address or a CIDR range (e.g. 10.0.0.0/8, ::1)";
        if (TALE_HOST_HAS(p->host, conf_error))
            p->host->conf_error(p->self, "allow", (int)i, what, allow[i]);
        else
            snprintf(err, errlen, what, allow[i]);
        free(list);
        return -1;
    }
    *out = list;
    *count = n;
    return 0;
}

static int
metrics_init(tale_plugin_t *self, const tale_host_api_t *host, void **state, char *err, size_t errlen)
{
    if (host == NULL || host->abi_major != TALE_ABI_MAJOR || !TALE_HOST_HAS(host, metrics_write) ||
        !TALE_HOST_HAS(host, conf_table)) {
        snprintf(err, errlen, "this host has no metrics (plugin ABI %d.3 or later needed)", TALE_ABI_MAJOR);
        return -1;
    }
    metrics_plugin_t *p = tale_xcalloc(1, sizeof(*p));
    p->self = self;
    p->host = host;
    metrics_conf_t c = {0};
    if (host->conf_table(self, metrics_conf_rows, sizeof(metrics_conf_rows) / sizeof(metrics_conf_rows[0]), &c) != 0) {
        free_state(p);
        return -1; /* the host wrote the located error */
    }
    p->path = c.path;
    if (p->path[0] != '/' || p->path[1] == '\0' || p->path[strlen(p->path) - 1] == '/') {
        snprintf(err, errlen, "metrics: 'path' must start with '/' and not end with one, got '%s'", p->path);
        free_state(p);
        return -1;
    }
    if (parse_allow(p, c.allow, &p->allow, &p->n_allow, err, errlen) != 0) {
        free_state(p);
        return -1;
    }
    *state = p;
    return 0;
}

/* SIGHUP changed our config: the allowlist is read at each request and
 * changes now; the path is mounted once, so a new one waits for a restart.
 * A bad list is refused whole and the running one stays. */
static int
metrics_reload(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    metrics_plugin_t *p = state;
    metrics_conf_t c = {0};
    if (p->host->conf_table(self, metrics_conf_rows, sizeof(metrics_conf_rows) / sizeof(metrics_conf_rows[0]), &c) != 0)
        return -1;
    tale_cidr_t *allow;
    size_t n;
    if (parse_allow(p, c.allow, &allow, &n, err, errlen) != 0)
        return -1;
    free(p->allow);
    p->allow = allow;
    p->n_allow = n;
    p->host->log(self, TALE_LOG_INFO, "serving metrics at %s to %zu address range(s)", p->path, p->n_allow);
    if (strcmp(c.path, p->path) != 0) {
        snprintf(err, errlen, "path");
        return 1;
    }
    return 0;
}

static int
metrics_start(tale_plugin_t *self, void *state, char *err, size_t errlen)
{
    metrics_plugin_t *p = state;
    if (p->host->mount(self, p->path, on_mount, p) != 0)
        return -1;
    p->host->log(self, TALE_LOG_INFO, "serving metrics at %s to %zu address range(s)", p->path, p->n_allow);
    return 0;
}

/* Scrapes are short requests that h2o finishes on its own. */
static void
metrics_stop(tale_plugin_t *self, void *state)
{
}

static void
metrics_destroy(tale_plugin_t *self, void *state)
{
    free_state(state);
}

static const tale_plugin_desc_t desc = {TALE_PLUGIN_DESC_HEADER, "metrics",    "1.0",           metrics_init,
                                        metrics_start,           metrics_stop, metrics_destroy, .reload = metrics_reload};

TALE_EXPORT const tale_plugin_desc_t *
TALE_PLUGIN_ENTRY(void)
{
    return &desc;
}
