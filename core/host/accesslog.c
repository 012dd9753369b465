/*
 * accesslog.c - the access log: formatting, buffering, reopening
 * (accesslog.h says when lines reach the file).
 *
 * combined: the Apache/nginx "combined" format for HTTP requests, which log
 * tools read as is; a player connection's end is a line of the same shape
 * with the transport as its method, the close code as its status and the
 * frame bytes as its size, then the duration, frames and commands:
 *   127.0.0.1 - - [07/Dec/2026:20:04:48 +0000] "GET /tale/ws HTTP/1.1" 101 0 "-" "Mozilla/5.0"
 *   127.0.0.1 - - [07/Dec/2026:20:09:12 +0000] "END ws" 1000 52814 "-" "-" 264.112 s, 131 frames, 40 commands
 * json: one object per line (docs/CONFIG.md lists the fields).
 */
#include "accesslog.h"
#include "log.h"
#include <tale/alloc.h>
#include <tale/plugin.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ACCESSLOG_FLUSH_BYTES (32 * 1024)
#define ACCESSLOG_FLUSH_MS 1000
/* One line is bounded whatever the request: long fields are cut. */
#define FIELD_MAX 1024
#define LINE_MAX_BYTES (4 * 6 * FIELD_MAX) /* three escaped fields and the rest */

struct tale_accesslog {
    h2o_evloop_t *loop;
    char *path; /* NULL: stderr */
    int fd;
    int format;
    char *buf;
    size_t len;
    int write_failed; /* said once until a write works again */
    h2o_timeout_t flush_timeout;
    h2o_timeout_entry_t flush_entry;
};

static int
open_path(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        snprintf(err, errlen, "access_log: cannot open %s: %s", path, strerror(errno));
    return fd;
}

static void
on_flush_timer(h2o_timeout_entry_t *entry)
{
    tale_accesslog_t *log = H2O_STRUCT_FROM_MEMBER(tale_accesslog_t, flush_entry, entry);
    tale_accesslog_flush(log);
}

tale_accesslog_t *
tale_accesslog_open(h2o_evloop_t *loop, const char *path, int format, char *err, size_t errlen)
{
    int to_stderr = path == NULL || strcmp(path, "stderr") == 0;
    int fd = to_stderr ? STDERR_FILENO : open_path(path, err, errlen);
    if (fd < 0)
        return NULL;
    tale_accesslog_t *log = tale_xcalloc(1, sizeof(*log));
    log->loop = loop;
    log->path = to_stderr ? NULL : tale_xstrdup(path);
    log->fd = fd;
    log->format = format;
    log->buf = tale_xmalloc(ACCESSLOG_FLUSH_BYTES + LINE_MAX_BYTES);
    if (loop != NULL) {
        h2o_timeout_init(loop, &log->flush_timeout, ACCESSLOG_FLUSH_MS);
        log->flush_entry.cb = on_flush_timer;
    }
    return log;
}

void
tale_accesslog_flush(tale_accesslog_t *log)
{
    if (log->flush_entry.cb != NULL && h2o_timeout_is_linked(&log->flush_entry))
        h2o_timeout_unlink(&log->flush_entry);
    size_t off = 0;
    while (off < log->len) {
        ssize_t n = write(log->fd, log->buf + off, log->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!log->write_failed)
                tale_error("accesslog", "writing to %s: %s; dropping lines until a write works", log->path ? log->path : "stderr",
                           n < 0 ? strerror(errno) : "nothing written");
            log->write_failed = 1;
            break;
        }
        off += (size_t)n;
        log->write_failed = 0;
    }
    log->len = 0;
}

void
tale_accesslog_free(tale_accesslog_t *log)
{
    if (log == NULL)
        return;
    tale_accesslog_flush(log);
    if (log->flush_entry.cb != NULL)
        h2o_timeout_dispose(log->loop, &log->flush_timeout);
    if (log->path != NULL)
        close(log->fd);
    free(log->path);
    free(log->buf);
    free(log);
}

int
tale_accesslog_reopen(tale_accesslog_t *log)
{
    tale_accesslog_flush(log);
    if (log->path == NULL)
        return 0;
    char err[512];
    int fd = open_path(log->path, err, sizeof(err));
    if (fd < 0) {
        tale_error("accesslog", "%s; still writing to the old file", err);
        return -1;
    }
    close(log->fd);
    log->fd = fd;
    tale_info("accesslog", "reopened %s", log->path);
    return 0;
}

/* ---- formatting ---------------------------------------------------------- */

/* Room for one more line is always there: lines are at most LINE_MAX_BYTES
 * and the buffer is flushed once ACCESSLOG_FLUSH_BYTES are waiting. */
static void
put(tale_accesslog_t *log, const char *s, size_t n)
{
    if (log->len + n > ACCESSLOG_FLUSH_BYTES + LINE_MAX_BYTES - 1)
        n = ACCESSLOG_FLUSH_BYTES + LINE_MAX_BYTES - 1 - log->len;
    memcpy(log->buf + log->len, s, n);
    log->len += n;
}

static void putf(tale_accesslog_t *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
putf(tale_accesslog_t *log, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(log, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A client-supplied value, escaped for the format and cut at FIELD_MAX:
 * combined escapes '"', '\' and control bytes as \xHH (as nginx does), json
 * as JSON strings want.  NULL is "-" (combined) or null (json, no quotes). */
static void
put_value(tale_accesslog_t *log, const char *s, size_t n)
{
    int json = log->format == TALE_ACCESSLOG_JSON;
    if (s == NULL) {
        put(log, json ? "null" : "\"-\"", json ? 4 : 3);
        return;
    }
    char out[FIELD_MAX * 6 + 2];
    size_t o = 0;
    out[o++] = '"';
    if (n > FIELD_MAX)
        n = FIELD_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            if (json) {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else {
                o += (size_t)sprintf(out + o, "\\x%02X", c);
            }
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)sprintf(out + o, json ? "\\u%04x" : "\\x%02X", c);
        } else {
            out[o++] = (char)c; /* UTF-8 passes through; JSON takes it raw */
        }
    }
    out[o++] = '"';
    put(log, out, o);
}

static void
put_time(tale_accesslog_t *log)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char t[64];
    size_t n;
    if (log->format == TALE_ACCESSLOG_JSON) {
        n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(t + n, sizeof(t) - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    } else {
        n = strftime(t, sizeof(t), "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
    }
    put(log, t, n);
}

static void
put_client(tale_accesslog_t *log, const tale_addr_t *client)
{
    char a[TALE_ADDR_STRLEN] = "-";
    if (client != NULL && client->family != 0)
        tale_addr_format(client, a);
    put(log, a, strlen(a));
}

static void
line_done(tale_accesslog_t *log)
{
    put(log, "\n", 1);
    if (log->len >= ACCESSLOG_FLUSH_BYTES)
        tale_accesslog_flush(log);
    else if (log->flush_entry.cb != NULL && !h2o_timeout_is_linked(&log->flush_entry))
        h2o_timeout_link(log->loop, &log->flush_timeout, &log->flush_entry);
    else if (log->flush_entry.cb == NULL)
        tale_accesslog_flush(log);
}

static const char *
header(h2o_req_t *req, const h2o_token_t *token, size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    if (i < 0)
        return NULL;
    *len = req->headers.entries[i].value.len;
    return req->headers.entries[i].value.base;
}

void
tale_accesslog_request(tale_accesslog_t *log, h2o_req_t *req, const tale_addr_t *client)
{
    size_t ref_len = 0, ua_len = 0;
    const char *ref = header(req, H2O_TOKEN_REFERER, &ref_len);
    const char *ua = header(req, H2O_TOKEN_USER_AGENT, &ua_len);
    char proto[32];
    snprintf(proto, sizeof(proto), "HTTP/%d.%d", req->version >> 8, req->version & 0xff);
    if (req->version >= 0x200)
        snprintf(proto, sizeof(proto), "HTTP/%d", req->version >> 8);
    struct timeval now;
    gettimeofday(&now, NULL);
    double secs = (double)(now.tv_sec - req->timestamps.request_begin_at.tv_sec) +
                  (double)(now.tv_usec - req->timestamps.request_begin_at.tv_usec) / 1e6;
    if (req->timestamps.request_begin_at.tv_sec == 0 || secs < 0)
        secs = 0;
    int status = req->res.status;
    if (log->format == TALE_ACCESSLOG_JSON) {
        put(log, "{\"time\":\"", 9);
        put_time(log);
        put(log, "\",\"type\":\"http\",\"client\":\"", 26);
        put_client(log, client);
        put(log, "\",\"method\":", 11);
        put_value(log, req->input.method.base, req->input.method.len);
        put(log, ",\"path\":", 8);
        put_value(log, req->input.path.base, req->input.path.len);
        putf(log, ",\"protocol\":\"%s\",\"status\":%d,\"bytes\":%llu,\"duration\":%.6f,\"referer\":", proto, status,
             (unsigned long long)req->bytes_sent, secs);
        put_value(log, ref, ref_len);
        put(log, ",\"user_agent\":", 14);
        put_value(log, ua, ua_len);
        put(log, "}", 1);
    } else {
        put_client(log, client);
        put(log, " - - ", 5);
        put_time(log);
        /* the request line as one quoted field: method, path and protocol */
        char rl[FIELD_MAX];
        int n = snprintf(rl, sizeof(rl), "%.*s %.*s %s", (int)(req->input.method.len < 32 ? req->input.method.len : 32),
                         req->input.method.base, (int)(req->input.path.len < FIELD_MAX ? req->input.path.len : FIELD_MAX),
                         req->input.path.base, proto);
        put(log, " ", 1);
        put_value(log, rl, n > 0 ? ((size_t)n < sizeof(rl) ? (size_t)n : sizeof(rl) - 1) : 0);
        putf(log, " %d %llu ", status, (unsigned long long)req->bytes_sent);
        put_value(log, ref, ref_len);
        put(log, " ", 1);
        put_value(log, ua, ua_len);
    }
    line_done(log);
}

void
tale_accesslog_conn(tale_accesslog_t *log, const tale_accesslog_conn_t *c)
{
    if (log->format == TALE_ACCESSLOG_JSON) {
        put(log, "{\"time\":\"", 9);
        put_time(log);
        put(log, "\",\"type\":\"connection\",\"client\":\"", 32);
        put_client(log, c->client);
        put(log, "\",\"transport\":", 14);
        put_value(log, c->transport, strlen(c->transport));
        putf(log, ",\"code\":%d,\"bytes\":%llu,\"frames\":%llu,\"commands\":%llu,\"duration\":%.3f}", c->code,
             (unsigned long long)c->bytes, (unsigned long long)c->frames, (unsigned long long)c->commands,
             (double)c->duration_ms / 1000.0);
    } else {
        put_client(log, c->client);
        put(log, " - - ", 5);
        put_time(log);
        char rl[96];
        int n = snprintf(rl, sizeof(rl), "END %s", c->transport);
        put(log, " ", 1);
        put_value(log, rl, n > 0 ? ((size_t)n < sizeof(rl) ? (size_t)n : sizeof(rl) - 1) : 0);
        putf(log, " %d %llu \"-\" \"-\" %.3f s, %llu frames, %llu commands", c->code, (unsigned long long)c->bytes,
             (double)c->duration_ms / 1000.0, (unsigned long long)c->frames, (unsigned long long)c->commands);
    }
    line_done(log);
}
