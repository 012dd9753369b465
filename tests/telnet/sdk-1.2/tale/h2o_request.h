/*
 * tale/h2o_request.h - fill a tale_request_t (tale/plugin.h, ABI 1.2) from an
 * h2o request, for HTTP transport plugins.  Header-only, so it compiles
 * against the same h2o the plugin uses; include <h2o.h> (with
 * H2O_USE_LIBUV=0) before it.  What it points to lives in req's pool, so the
 * request struct is valid as long as `req` is.
 */
#ifndef TALE_H2O_REQUEST_H
#define TALE_H2O_REQUEST_H

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <tale/plugin.h>

/* Every header named `name` (lower case), joined with `sep`; {NULL, 0} when absent. */
static inline h2o_iovec_t
tale_h2o_header_join(h2o_req_t *req, const char *name, size_t name_len, const char *sep, size_t sep_len)
{
    h2o_iovec_t out = {NULL, 0};
    ssize_t i = -1;
    while ((i = h2o_find_header_by_str(&req->headers, name, name_len, i)) != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (out.base == NULL) {
            out = v;
            continue;
        }
        char *joined = (char *)h2o_mem_alloc_pool(&req->pool, out.len + sep_len + v.len);
        memcpy(joined, out.base, out.len);
        memcpy(joined + out.len, sep, sep_len);
        memcpy(joined + out.len + sep_len, v.base, v.len);
        out = h2o_iovec_init(joined, out.len + sep_len + v.len);
    }
    return out;
}

/* The value of query parameter `name` in the request's path (raw, not
 * percent-decoded); {NULL, 0} when absent. */
static inline h2o_iovec_t
tale_h2o_query_param(h2o_req_t *req, const char *name, size_t name_len)
{
    if (req->query_at == SIZE_MAX)
        return h2o_iovec_init(NULL, 0);
    const char *q = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    while (q < end) {
        const char *amp = (const char *)memchr(q, '&', (size_t)(end - q));
        const char *pend = amp != NULL ? amp : end;
        if ((size_t)(pend - q) > name_len && memcmp(q, name, name_len) == 0 && q[name_len] == '=')
            return h2o_iovec_init(q + name_len + 1, (size_t)(pend - q) - name_len - 1);
        q = pend + 1;
    }
    return h2o_iovec_init(NULL, 0);
}

/* Fill `rq` from `req`; `flags` are TALE_SESSION_* (SECURE is added on TLS).
 * The peer address is kept in `peer_buf`, which must outlive `rq`. */
static inline void
tale_request_from_h2o(h2o_req_t *req, unsigned flags, tale_request_t *rq, struct sockaddr_storage *peer_buf)
{
    memset(rq, 0, sizeof(*rq));
    rq->size = sizeof(*rq);
    h2o_iovec_t v = tale_h2o_header_join(req, H2O_STRLIT("cookie"), H2O_STRLIT("; "));
    rq->cookie = v.base;
    rq->cookie_len = v.len;
    v = tale_h2o_header_join(req, H2O_STRLIT("origin"), H2O_STRLIT(", "));
    rq->origin = v.base;
    rq->origin_len = v.len;
    rq->host = req->input.authority.base;
    rq->host_len = req->input.authority.len;
    v = tale_h2o_header_join(req, H2O_STRLIT("x-forwarded-for"), H2O_STRLIT(", "));
    rq->forwarded_for = v.base;
    rq->forwarded_for_len = v.len;
    v = tale_h2o_header_join(req, H2O_STRLIT("forwarded"), H2O_STRLIT(", "));
    rq->forwarded = v.base;
    rq->forwarded_len = v.len;
    v = tale_h2o_query_param(req, H2O_STRLIT("key"));
    rq->claim_key = v.base;
    rq->claim_key_len = v.len;
    socklen_t n = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)peer_buf);
    if (n > 0) {
        rq->peer = peer_buf;
        rq->peer_len = (size_t)n;
    }
    if (req->scheme == &H2O_URL_SCHEME_HTTPS)
        flags |= TALE_SESSION_SECURE;
    rq->flags = flags;
}

/* The reason phrase of the statuses session_open() and request_check() return. */
static inline const char *
tale_h2o_reason(int status)
{
    switch (status) {
    case 403:
        return "Forbidden";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* Answer `status` with {"error":"msg"}; msg is one of the host's constant
 * messages (no quote or backslash in it, so nothing to escape). */
static inline int
tale_h2o_send_error(h2o_req_t *req, int status, const char *msg)
{
    size_t cap = strlen(msg) + 16;
    char *body = (char *)h2o_mem_alloc_pool(&req->pool, cap);
    int len = snprintf(body, cap, "{\"error\":\"%s\"}", msg);
    req->res.status = status;
    req->res.reason = tale_h2o_reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    if (status == 429)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("60"));
    h2o_send_inline(req, body, (size_t)len);
    return 0;
}

#endif
