/*
 * sse.c - HTTP/1.1 clients: an EventSource stream reader (chunked or not) and
 * a kept-alive connection for POST /tale/input.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 8192
#define EVENT_MAX (4u << 20) /* one event larger than this is a server bug: fail the stream */

/* Buffers grow to at most this: one event larger than EVENT_MAX is a server bug. */
#define BUF_MAX (EVENT_MAX * 2)

/* ---- the event stream ---- */

struct bench_sse {
    int fd;
    int chunked;
    /* dechunking: bytes left in the current chunk, or -1 while reading a size line */
    long long chunk_left;
    int need_crlf;
    bench_buf_t raw;  /* received, not yet dechunked */
    bench_buf_t body; /* dechunked, not yet parsed into events */
    bench_buf_t data; /* the current event's data lines */
    char event[64];
    bench_sse_event_cb cb;
    void *ud;
    char cookie[256];
};

/* Parse every complete event (terminated by a blank line) in s->body. */
static void
parse_events(bench_sse_t *s)
{
    size_t off = 0;
    for (;;) {
        char *nl = memchr(s->body.p + off, '\n', s->body.len - off);
        if (nl == NULL)
            break;
        char *line = s->body.p + off;
        size_t ll = (size_t)(nl - line);
        off += ll + 1;
        if (ll > 0 && line[ll - 1] == '\r')
            ll--;
        if (ll == 0) {
            if (s->data.len > 0 || s->event[0]) {
                if (s->cb)
                    s->cb(s->ud, s->event[0] ? s->event : "message", s->data.p ? s->data.p : "", s->data.len);
                s->data.len = 0;
                s->event[0] = '\0';
            }
            continue;
        }
        if (line[0] == ':')
            continue; /* comment: keepalive */
        size_t fl = 0;
        while (fl < ll && line[fl] != ':')
            fl++;
        const char *val = fl < ll ? line + fl + 1 : line + ll;
        size_t vl = (size_t)(line + ll - val);
        if (vl > 0 && *val == ' ')
            val++, vl--;
        if (fl == 4 && memcmp(line, "data", 4) == 0) {
            if (s->data.len > 0)
                bench_buf_append(&s->data, "\n", 1, BUF_MAX);
            bench_buf_append(&s->data, val, vl, BUF_MAX);
        } else if (fl == 5 && memcmp(line, "event", 5) == 0) {
            snprintf(s->event, sizeof(s->event), "%.*s", (int)vl, val);
        }
    }
    bench_buf_consume(&s->body, off);
}

/* Move what can be dechunked from raw into body.  -1 on a malformed stream or its end. */
static int
dechunk(bench_sse_t *s)
{
    if (!s->chunked) {
        if (bench_buf_append(&s->body, s->raw.p, s->raw.len, BUF_MAX) != 0)
            return -1;
        s->raw.len = 0;
        return 0;
    }
    size_t off = 0;
    for (;;) {
        if (s->need_crlf) {
            if (s->raw.len - off < 2)
                break;
            off += 2;
            s->need_crlf = 0;
        }
        if (s->chunk_left < 0) {
            char *nl = memmem(s->raw.p + off, s->raw.len - off, "\r\n", 2);
            if (nl == NULL)
                break;
            s->chunk_left = strtoll(s->raw.p + off, NULL, 16);
            off = (size_t)(nl - s->raw.p) + 2;
            if (s->chunk_left == 0)
                return -1; /* last chunk: the server ended the stream */
        }
        size_t avail = s->raw.len - off;
        if (avail == 0)
            break;
        size_t take = avail < (size_t)s->chunk_left ? avail : (size_t)s->chunk_left;
        if (bench_buf_append(&s->body, s->raw.p + off, take, BUF_MAX) != 0)
            return -1;
        off += take;
        s->chunk_left -= (long long)take;
        if (s->chunk_left == 0) {
            s->chunk_left = -1;
            s->need_crlf = 1;
        }
    }
    bench_buf_consume(&s->raw, off);
    return 0;
}

int
bench_sse_request(uint16_t port, const char *path, char *req, size_t reqlen)
{
    int rl = snprintf(req, reqlen,
                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nOrigin: http://127.0.0.1:%u\r\nAccept: text/event-stream\r\n"
                      "Cache-Control: no-cache\r\n\r\n",
                      path, port, port);
    return rl > 0 && (size_t)rl < reqlen ? rl : -1;
}

bench_sse_t *
bench_sse_adopt(int fd, const char *got, size_t len, bench_sse_event_cb cb, void *ud, char *err, size_t errlen)
{
    const char *eoh = memmem(got, len, "\r\n\r\n", 4);
    if (eoh == NULL || len > BUF_MAX) {
        snprintf(err, errlen, "incomplete stream answer");
        return NULL;
    }
    bench_sse_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = fd;
    s->cb = cb;
    s->ud = ud;
    s->chunk_left = -1;
    size_t hl = (size_t)(eoh - got) + 4;
    char *head = strndup(got, hl - 2);
    if (head == NULL || strncmp(head, "HTTP/1.1 200", 12) != 0) {
        snprintf(err, errlen, "stream refused: %.*s", head ? (int)strcspn(head, "\r\n") : 0, head ? head : "");
        free(head);
        goto err;
    }
    char v[512];
    if (bench_http_header(head, "Transfer-Encoding", v, sizeof(v)) == 0 && strcasestr(v, "chunked"))
        s->chunked = 1;
    if (bench_http_header(head, "Set-Cookie", v, sizeof(v)) == 0)
        snprintf(s->cookie, sizeof(s->cookie), "%.*s", (int)strcspn(v, ";"), v);
    free(head);
    if (bench_buf_append(&s->raw, got + hl, len - hl, BUF_MAX) != 0 || dechunk(s) != 0) {
        snprintf(err, errlen, "stream ended at once");
        goto err;
    }
    parse_events(s);
    return s;
err:
    s->fd = -1; /* the caller keeps its socket */
    bench_sse_close(s);
    return NULL;
}

bench_sse_t *
bench_sse_open(uint16_t port, const char *path, bench_sse_event_cb cb, void *ud, uint64_t deadline_ns, char *err, size_t errlen)
{
    int fd = bench_connect(port);
    if (fd < 0) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        return NULL;
    }
    char req[512];
    int rl = bench_sse_request(port, path, req, sizeof(req));
    bench_buf_t got = {0};
    if (rl < 0 || bench_write_all(fd, req, (size_t)rl, deadline_ns) != 0) {
        snprintf(err, errlen, "write stream request: %s", strerror(errno));
        goto err;
    }
    while (got.len == 0 || memmem(got.p, got.len, "\r\n\r\n", 4) == NULL) {
        if (got.len > HEAD_MAX) {
            snprintf(err, errlen, "stream answer header too large");
            goto err;
        }
        if (bench_wait_readable(fd, deadline_ns) <= 0) {
            snprintf(err, errlen, "no stream answer before the deadline");
            goto err;
        }
        char tmp[4096];
        ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
        if (r == 0) {
            snprintf(err, errlen, "connection closed before the stream answer");
            goto err;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            snprintf(err, errlen, "read stream answer: %s", strerror(errno));
            goto err;
        }
        if (bench_buf_append(&got, tmp, (size_t)r, BUF_MAX) != 0) {
            snprintf(err, errlen, "out of memory");
            goto err;
        }
    }
    bench_sse_t *s = bench_sse_adopt(fd, got.p, got.len, cb, ud, err, errlen);
    free(got.p);
    if (s != NULL)
        return s;
    close(fd);
    return NULL;
err:
    free(got.p);
    close(fd);
    return NULL;
}

const char *
bench_sse_cookie(const bench_sse_t *s)
{
    return s->cookie;
}

int
bench_sse_fd(const bench_sse_t *s)
{
    return s->fd;
}

int
bench_sse_read(bench_sse_t *s)
{
    char tmp[65536];
    ssize_t r = recv(s->fd, tmp, sizeof(tmp), 0);
    if (r == 0)
        return -1;
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (bench_buf_append(&s->raw, tmp, (size_t)r, BUF_MAX) != 0 || dechunk(s) != 0)
        return -1;
    parse_events(s);
    return 1;
}

void
bench_sse_close(bench_sse_t *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->raw.p);
    free(s->body.p);
    free(s->data.p);
    free(s);
}

/* ---- POST on a kept-alive connection ---- */

struct bench_http {
    int fd;
    uint16_t port;
    bench_buf_t in;
};

bench_http_t *
bench_http_adopt(int fd, uint16_t port)
{
    bench_http_t *h = calloc(1, sizeof(*h));
    if (h != NULL) {
        h->fd = fd;
        h->port = port;
    }
    return h;
}

bench_http_t *
bench_http_open(uint16_t port, char *err, size_t errlen)
{
    bench_http_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->port = port;
    if ((h->fd = bench_connect(port)) < 0) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        free(h);
        return NULL;
    }
    return h;
}

int
bench_http_fd(const bench_http_t *h)
{
    return h->fd;
}

int
bench_http_post(bench_http_t *h, const char *path, const char *cookie, const char *body, size_t len, uint64_t deadline_ns)
{
    char req[2048];
    int rl = snprintf(req, sizeof(req),
                      "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nOrigin: http://127.0.0.1:%u\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\nCookie: %s\r\n\r\n%.*s",
                      path, h->port, h->port, len, cookie, (int)len, body);
    if (rl <= 0 || (size_t)rl >= sizeof(req))
        return -1;
    return bench_write_all(h->fd, req, (size_t)rl, deadline_ns);
}

/* Length of the first complete response in b, or 0 if incomplete; status into *status. */
static size_t
response_complete(const bench_buf_t *b, int *status)
{
    if (b->len < 12)
        return 0;
    char *eoh = memmem(b->p, b->len, "\r\n\r\n", 4);
    if (eoh == NULL)
        return 0;
    size_t hl = (size_t)(eoh - b->p) + 4;
    *status = atoi(b->p + 9);
    char head[HEAD_MAX], v[64];
    snprintf(head, sizeof(head), "%.*s", (int)(hl - 2), b->p);
    if (bench_http_header(head, "Content-Length", v, sizeof(v)) == 0) {
        size_t cl = strtoull(v, NULL, 10);
        return b->len >= hl + cl ? hl + cl : 0;
    }
    if (bench_http_header(head, "Transfer-Encoding", v, sizeof(v)) == 0 && strcasestr(v, "chunked")) {
        /* Small answers: complete once the last-chunk marker arrived. */
        const char *body = b->p + hl;
        size_t bl = b->len - hl;
        if (bl >= 5 && memcmp(body, "0\r\n\r\n", 5) == 0)
            return hl + 5;
        char *end = memmem(body, bl, "\r\n0\r\n\r\n", 7);
        return end ? (size_t)(end - b->p) + 7 : 0;
    }
    return hl; /* 204/304 or a header-only answer */
}

int
bench_http_read_response(bench_http_t *h, int *status)
{
    size_t n;
    for (;;) {
        if ((n = response_complete(&h->in, status)) > 0) {
            bench_buf_consume(&h->in, n);
            return 1;
        }
        char tmp[16384];
        ssize_t r = recv(h->fd, tmp, sizeof(tmp), 0);
        if (r == 0)
            return -1;
        if (r < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (bench_buf_append(&h->in, tmp, (size_t)r, BUF_MAX) != 0)
            return -1;
    }
}

void
bench_http_close(bench_http_t *h)
{
    if (h == NULL)
        return;
    close(h->fd);
    free(h->in.p);
    free(h);
}
