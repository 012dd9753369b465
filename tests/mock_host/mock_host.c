/*
 * mock_host.c - see mock_host.h.  The plugin's opaque tale_plugin_t* is the
 * mock_host_t itself, and its tale_session_t* is the embedded mock_session_t:
 * the plugin never looks inside either, so the casts are private to this file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mock_host.h"
#include "conf_table.h"
#include "html_text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FROM_SELF(self) ((mock_host_t *)(void *)(self))
#define FROM_SESSION(s) H2O_STRUCT_FROM_MEMBER(mock_host_t, session, (mock_session_t *)(void *)(s))

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
log_append(mock_host_t *m, const char *line)
{
    size_t n = strlen(line);
    if (m->log_len + n + 2 > m->log_cap) {
        m->log_cap = (m->log_len + n + 2) * 2;
        m->log = realloc(m->log, m->log_cap);
    }
    memcpy(m->log + m->log_len, line, n);
    m->log_len += n;
    m->log[m->log_len++] = '\n';
    m->log[m->log_len] = '\0';
}

static void
api_log(tale_plugin_t *self, int level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char line[1024];
    int off = snprintf(line, sizeof(line), "%s: ", level >= 0 && level <= 3 ? names[level] : "?");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);
    va_end(ap);
    log_append(FROM_SELF(self), line);
    if (getenv("MOCK_VERBOSE") != NULL)
        fprintf(stderr, "[mock] %s\n", line);
}

/* ---- config: a flat table; errors are "located" at mock.yaml:<index+1>:1 ---- */

static mock_conf_entry_t *
conf_find(mock_host_t *m, const char *key, size_t *index)
{
    for (size_t i = 0; i < m->nconf; ++i) {
        if (strcmp(m->conf[i].key, key) == 0) {
            if (index != NULL)
                *index = i;
            return &m->conf[i];
        }
    }
    return NULL;
}

static int
conf_error(mock_host_t *m, const char *key, const char *what)
{
    size_t idx = 0;
    conf_find(m, key, &idx);
    snprintf(m->err, sizeof(m->err), "mock.yaml:%zu:1: %s: %s", idx + 1, key, what);
    return -1;
}

static int
api_conf_string(tale_plugin_t *self, const char *key, const char *def, const char **out)
{
    mock_host_t *m = FROM_SELF(self);
    mock_conf_entry_t *e = conf_find(m, key, NULL);
    if (e == NULL) {
        *out = def;
        return 0;
    }
    if (e->value == NULL)
        return conf_error(m, key, "expected a string");
    *out = e->value;
    return 0;
}

static int
api_conf_bool(tale_plugin_t *self, const char *key, int def, int *out)
{
    mock_host_t *m = FROM_SELF(self);
    mock_conf_entry_t *e = conf_find(m, key, NULL);
    if (e == NULL) {
        *out = def;
        return 0;
    }
    if (e->value != NULL && (strcmp(e->value, "true") == 0 || strcmp(e->value, "yes") == 0 || strcmp(e->value, "on") == 0)) {
        *out = 1;
        return 0;
    }
    if (e->value != NULL && (strcmp(e->value, "false") == 0 || strcmp(e->value, "no") == 0 || strcmp(e->value, "off") == 0)) {
        *out = 0;
        return 0;
    }
    return conf_error(m, key, "expected true or false");
}

/* Parse "<digits><unit>"; unit looked up in units[] (name, multiplier); "" is the bare number's unit. */
struct unit {
    const char *name;
    uint64_t mult;
};

static int
parse_with_unit(const char *s, const struct unit *units, uint64_t *out)
{
    if (s == NULL || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    for (const struct unit *u = units; u->name != NULL; ++u) {
        if (strcmp(end, u->name) == 0) {
            if (u->mult != 0 && v > UINT64_MAX / u->mult)
                return -1;
            *out = v * u->mult;
            return 0;
        }
    }
    return -1;
}

static int
api_conf_int(tale_plugin_t *self, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    mock_host_t *m = FROM_SELF(self);
    mock_conf_entry_t *e = conf_find(m, key, NULL);
    if (e == NULL) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = e->value != NULL ? strtoll(e->value, &end, 10) : 0;
    if (e->value == NULL || errno != 0 || end == e->value || *end != '\0')
        return conf_error(m, key, "expected an integer");
    if (v < min || v > max)
        return conf_error(m, key, "out of range");
    *out = v;
    return 0;
}

static int
api_conf_size(tale_plugin_t *self, const char *key, uint64_t def, uint64_t *out)
{
    static const struct unit units[] = {{"", 1}, {"k", 1024}, {"m", 1024 * 1024}, {"g", 1024ull * 1024 * 1024}, {NULL, 0}};
    mock_host_t *m = FROM_SELF(self);
    mock_conf_entry_t *e = conf_find(m, key, NULL);
    if (e == NULL) {
        *out = def;
        return 0;
    }
    if (parse_with_unit(e->value, units, out) != 0)
        return conf_error(m, key, "expected a size (512, 64k, 1m, 2g)");
    return 0;
}

static int
api_conf_duration_ms(tale_plugin_t *self, const char *key, uint64_t def, uint64_t *out)
{
    static const struct unit units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {NULL, 0}};
    mock_host_t *m = FROM_SELF(self);
    mock_conf_entry_t *e = conf_find(m, key, NULL);
    if (e == NULL) {
        *out = def;
        return 0;
    }
    if (parse_with_unit(e->value, units, out) != 0)
        return conf_error(m, key, "expected a duration (250ms, 15s, 2m, 1h)");
    return 0;
}

static int
api_conf_string_list(tale_plugin_t *self, const char *key, const char *const **out, size_t *count)
{
    mock_host_t *m = FROM_SELF(self);
    mock_conf_entry_t *e = conf_find(m, key, NULL);
    if (e == NULL) {
        *out = NULL;
        *count = 0;
        return 0;
    }
    if (e->list == NULL) { /* a scalar is a list of one */
        e->list = calloc(2, sizeof(char *));
        e->list[0] = strdup(e->value);
        e->count = 1;
    }
    *out = (const char *const *)e->list;
    *count = e->count;
    return 0;
}

static int
api_conf_path(tale_plugin_t *self, const char *key, const char *def, const char **out)
{
    mock_host_t *m = FROM_SELF(self);
    const char *v = NULL;
    if (api_conf_string(self, key, def, &v) != 0)
        return -1;
    if (v == NULL || v[0] == '/') {
        *out = v;
        return 0;
    }
    /* keep the resolved string alive by storing it as the entry's value */
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s/%s", m->conf_dir, v);
    mock_conf_entry_t *e = conf_find(m, key, NULL);
    if (e == NULL) {
        mock_host_conf_set(m, key, buf);
        e = conf_find(m, key, NULL);
    } else {
        free(e->value);
        e->value = strdup(buf);
    }
    *out = e->value;
    return 0;
}

static int
api_conf_check_keys(tale_plugin_t *self, const char *const *known)
{
    mock_host_t *m = FROM_SELF(self);
    for (size_t i = 0; i < m->nconf; ++i) {
        int ok = 0;
        for (const char *const *k = known; *k != NULL; ++k)
            ok |= strcmp(*k, m->conf[i].key) == 0;
        if (!ok)
            return conf_error(m, m->conf[i].key, "unknown key");
    }
    return 0;
}

static int
conf_out_of_bounds(tale_plugin_t *self, const tale_conf_row_t *row, uint64_t v)
{
    return conf_error(FROM_SELF(self), row->key, "out of range");
}

static int
api_conf_table(tale_plugin_t *self, const tale_conf_row_t *rows, size_t n, void *out)
{
    mock_host_t *m = FROM_SELF(self);
    return tale_conf_table_read(&m->api, self, rows, n, out, conf_out_of_bounds, m->err, sizeof(m->err));
}

/* ---- server ---- */

static struct st_h2o_evloop_t *
api_loop(tale_plugin_t *self)
{
    return FROM_SELF(self)->loop;
}

static struct st_h2o_context_t *
api_context(tale_plugin_t *self)
{
    mock_host_t *m = FROM_SELF(self);
    return m->listening ? &m->ctx : NULL;
}

static int
api_mount(tale_plugin_t *self, const char *path, tale_mount_cb cb, void *data)
{
    mock_host_t *m = FROM_SELF(self);
    for (size_t i = 0; i < m->nmounts; ++i) {
        if (strcmp(m->mounts[i].path, path) == 0) {
            snprintf(m->err, sizeof(m->err), "path %s is already mounted", path);
            return -1;
        }
    }
    if (m->nmounts == MOCK_MAX_MOUNTS) {
        snprintf(m->err, sizeof(m->err), "too many mounts");
        return -1;
    }
    m->mounts[m->nmounts++] = (mock_mount_t){strdup(path), cb, data};
    return 0;
}

static const tale_story_info_t *
api_story_info(tale_plugin_t *self)
{
    return &FROM_SELF(self)->story;
}

/* ---- the session ---- */

static tale_session_t *
api_session_get(tale_plugin_t *self, const char *cookie_header, size_t len, unsigned flags, char set_cookie[TALE_SET_COOKIE_MAX])
{
    mock_host_t *m = FROM_SELF(self);
    ++m->session.get_count;
    if (set_cookie != NULL)
        set_cookie[0] = '\0';
    if (m->refuse_sessions)
        return NULL;
    static const char name[] = "tale_session=mock";
    int has = cookie_header != NULL && memmem(cookie_header, len, name, sizeof(name) - 1) != NULL;
    if (!has) {
        if (!(flags & TALE_SESSION_CREATE))
            return NULL;
        if (set_cookie != NULL)
            snprintf(set_cookie, TALE_SET_COOKIE_MAX, "%s; HttpOnly; SameSite=Strict; Path=/%s", name,
                     (flags & TALE_SESSION_SECURE) ? "; Secure" : "");
    }
    return (tale_session_t *)(void *)&m->session;
}

/* ABI 1.2: the host's checks are tested in tests/host; here a fixture can
 * make the call refuse (open_status) and sees the request's flags and key. */
static int
api_session_open(tale_plugin_t *self, const tale_request_t *rq, tale_session_t **out, char set_cookie[TALE_SET_COOKIE_MAX],
                 const char **error)
{
    mock_host_t *m = FROM_SELF(self);
    *out = NULL;
    if (set_cookie != NULL)
        set_cookie[0] = '\0';
    m->session.last_flags = rq->flags;
    if (m->open_status != 0) {
        *error = "mock refusal";
        return m->open_status;
    }
    *out = api_session_get(self, rq->cookie, rq->cookie_len, rq->flags & (TALE_SESSION_CREATE | TALE_SESSION_SECURE), set_cookie);
    if (*out == NULL && (rq->flags & TALE_SESSION_CREATE)) {
        *error = "no player seat is free";
        return 503;
    }
    if (rq->flags & TALE_SESSION_PEEK)
        *out = NULL;
    return 0;
}

static int
api_request_check(tale_plugin_t *self, const tale_request_t *rq, const char **error)
{
    mock_host_t *m = FROM_SELF(self);
    if (m->open_status == 403) {
        *error = "mock refusal";
        return 403;
    }
    return 0;
}

static int
api_session_attach(tale_session_t *s, const tale_player_io_t *io, void *conn, uint64_t resume_after)
{
    mock_session_t *ms = (mock_session_t *)(void *)s;
    if (io == NULL || io->size < sizeof(tale_player_io_t) || io->send == NULL || io->close == NULL)
        return -1;
    if (ms->io != NULL) {
        const tale_player_io_t *old = ms->io;
        void *oldconn = ms->conn;
        ms->io = NULL;
        ms->conn = NULL;
        ++ms->closes_sent;
        old->close(oldconn, TALE_CLOSE_TAKEN_OVER, "another connection took over this session");
    }
    ms->io = io;
    ms->conn = conn;
    ms->last_resume_after = resume_after;
    ++ms->attach_count;
    for (size_t i = 0; i < ms->nframes && ms->io == io && ms->conn == conn; ++i) {
        mock_frame_t *f = &ms->frames[i];
        if (f->seq <= resume_after)
            continue;
        tale_frame_t fr = {f->seq, f->event, f->json, strlen(f->json)};
        if (io->send(conn, &fr) != 0) {
            ++ms->send_failures;
            ms->io = NULL;
            ms->conn = NULL;
        }
    }
    return 0;
}

static void
api_session_detach(tale_session_t *s, void *conn)
{
    mock_session_t *ms = (mock_session_t *)(void *)s;
    if (ms->conn == conn && ms->io != NULL) {
        ms->io = NULL;
        ms->conn = NULL;
        ++ms->detach_count;
    }
}

static void
api_session_closed(tale_session_t *s, void *conn, int code)
{
    mock_session_t *ms = (mock_session_t *)(void *)s;
    if (ms->conn == conn && ms->io != NULL)
        ms->last_close_code = code;
    api_session_detach(s, conn);
}

/* The mock's only series: what a test can check a plugin passes through. */
static void
api_metrics_write(tale_plugin_t *self, tale_metrics_out_cb out, void *ctx)
{
    mock_host_t *m = FROM_SELF(self);
    char line[128];
    int n = snprintf(line, sizeof(line),
                     "# HELP mock_attaches_total Attaches.\n# TYPE mock_attaches_total counter\nmock_attaches_total %d\n",
                     m->session.attach_count);
    out(ctx, line, (size_t)n);
}

static void
api_session_input(tale_session_t *s, const char *cmd, size_t len, unsigned flags)
{
    mock_session_t *ms = (mock_session_t *)(void *)s;
    if (ms->ninputs == MOCK_MAX_INPUTS) {
        free(ms->inputs[0].cmd);
        memmove(ms->inputs, ms->inputs + 1, sizeof(ms->inputs[0]) * (MOCK_MAX_INPUTS - 1));
        --ms->ninputs;
    }
    char *copy = malloc(len + 1);
    memcpy(copy, cmd, len);
    copy[len] = '\0';
    ms->inputs[ms->ninputs++] = (mock_input_t){copy, flags};
}

static char *
api_session_complete(tale_session_t *s, const char *prefix, size_t len, size_t *out_len)
{
    static const char json[] = "[\"examine\",\"exits\"]";
    char *r = strdup(json);
    *out_len = sizeof(json) - 1;
    return r;
}

static void
api_session_quit(tale_session_t *s)
{
    ++((mock_session_t *)(void *)s)->quit_count;
}

static void
api_request_stop(tale_plugin_t *self, const char *why)
{
    mock_host_t *m = FROM_SELF(self);
    ++m->stop_requests;
    api_log(self, TALE_LOG_INFO, "stop requested: %s", why != NULL ? why : "");
}

static uint64_t
api_session_last_seq(tale_session_t *s)
{
    return ((mock_session_t *)(void *)s)->seq;
}

/* ABI 1.3: the host's own renderer, as the real host uses it; a raw
 * listener opened by mock_host_raw_listen; the raw session is the one seat. */
static int
api_listen(tale_plugin_t *self, const char *key, tale_accept_cb cb, void *data)
{
    mock_host_t *m = FROM_SELF(self);
    const char *spec = NULL;
    for (size_t i = 0; i < m->nconf; ++i)
        if (strcmp(m->conf[i].key, key) == 0)
            spec = m->conf[i].value;
    if (spec == NULL || cb == NULL) {
        snprintf(m->err, sizeof(m->err), "listen: no `%s` in the config", key);
        return -1;
    }
    m->raw_cb = cb;
    m->raw_data = data;
    return 0;
}

static int
api_session_open_raw(tale_plugin_t *self, const void *peer, size_t peer_len, const char *resume, size_t resume_len,
                     tale_session_t **out, char handle[TALE_SET_COOKIE_MAX], const char **error)
{
    mock_host_t *m = FROM_SELF(self);
    if (handle != NULL)
        handle[0] = '\0';
    if (m->open_status != 0 || m->refuse_sessions) {
        *out = NULL;
        *error = "mock refusal";
        return TALE_OPEN_FULL;
    }
    *out = (tale_session_t *)(void *)&m->session;
    return TALE_OPEN_OK;
}

static void
api_session_end(tale_session_t *s, void *conn)
{
    mock_session_t *ms = (mock_session_t *)(void *)s;
    ++ms->end_count;
    if (ms->conn == conn) {
        ms->io = NULL;
        ms->conn = NULL;
    }
}

static const char *
api_session_player_name(tale_session_t *s)
{
    return "Mock";
}

static char *
api_frame_text(tale_plugin_t *self, const tale_frame_t *frame, const tale_text_opts_t *opts, size_t *len, unsigned *special)
{
    return tale_frame_to_text(frame->json, frame->len, opts->flags, opts->width, opts->input_prefix, len, special);
}

static char *
api_frame_location(tale_plugin_t *self, const tale_frame_t *frame, size_t *len)
{
    return tale_frame_location_json(frame->json, frame->len, "Mock Story", NULL, len);
}

/* ---- public ---- */

mock_host_t *
mock_host_new(void)
{
    mock_host_t *m = calloc(1, sizeof(*m));
    signal(SIGPIPE, SIG_IGN); /* as the host does: a dead peer must not kill the process (H2O-NOTES 5) */
    m->api = (tale_host_api_t){
        .size = sizeof(tale_host_api_t),
        .abi_major = TALE_ABI_MAJOR,
        .abi_minor = TALE_ABI_MINOR,
        .log = api_log,
        .conf_string = api_conf_string,
        .conf_bool = api_conf_bool,
        .conf_int = api_conf_int,
        .conf_size = api_conf_size,
        .conf_duration_ms = api_conf_duration_ms,
        .conf_string_list = api_conf_string_list,
        .conf_path = api_conf_path,
        .conf_check_keys = api_conf_check_keys,
        .loop = api_loop,
        .context = api_context,
        .mount = api_mount,
        .story_info = api_story_info,
        .session_get = api_session_get,
        .session_attach = api_session_attach,
        .session_detach = api_session_detach,
        .session_input = api_session_input,
        .session_complete = api_session_complete,
        .session_quit = api_session_quit,
        .session_last_seq = api_session_last_seq,
        .free = free,
        .request_stop = api_request_stop,
        .session_open = api_session_open,
        .request_check = api_request_check,
        .session_closed = api_session_closed,
        .metrics_write = api_metrics_write,
        .conf_table = api_conf_table,
        .listen = api_listen,
        .session_open_raw = api_session_open_raw,
        .session_end = api_session_end,
        .session_player_name = api_session_player_name,
        .frame_text = api_frame_text,
        .frame_location = api_frame_location,
    };
    m->story = (tale_story_info_t){sizeof(tale_story_info_t), "Mock Story", "1.0", "Tester", "t@example.org", "/tmp", "0.0-mock",
                                   (int64_t)time(NULL),       TALE_MODE_IF};
    snprintf(m->conf_dir, sizeof(m->conf_dir), "/tmp");
    m->loop = h2o_evloop_create();
    return m;
}

static void
conf_entry_clear(mock_conf_entry_t *e)
{
    free(e->key);
    free(e->value);
    if (e->list != NULL) {
        for (size_t i = 0; i < e->count; ++i)
            free(e->list[i]);
        free(e->list);
    }
    memset(e, 0, sizeof(*e));
}

static mock_conf_entry_t *
conf_slot(mock_host_t *m, const char *key)
{
    mock_conf_entry_t *e = conf_find(m, key, NULL);
    if (e != NULL) {
        conf_entry_clear(e);
    } else {
        if (m->nconf == MOCK_MAX_CONF)
            abort();
        e = &m->conf[m->nconf++];
    }
    e->key = strdup(key);
    return e;
}

void
mock_host_conf_set(mock_host_t *m, const char *key, const char *value)
{
    mock_conf_entry_t *e = conf_slot(m, key);
    e->value = strdup(value);
}

void
mock_host_conf_set_list(mock_host_t *m, const char *key, const char *const *items)
{
    mock_conf_entry_t *e = conf_slot(m, key);
    size_t n = 0;
    while (items[n] != NULL)
        ++n;
    e->list = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; ++i)
        e->list[i] = strdup(items[i]);
    e->count = n;
}

int
mock_host_init(mock_host_t *m, const tale_plugin_desc_t *desc)
{
    m->desc = desc;
    m->err[0] = '\0';
    if (desc->init((tale_plugin_t *)(void *)m, &m->api, &m->state, m->err, sizeof(m->err)) != 0)
        return -1;
    m->initialised = 1;
    return 0;
}

int
mock_host_start(mock_host_t *m)
{
    m->err[0] = '\0';
    if (m->desc->start((tale_plugin_t *)(void *)m, m->state, m->err, sizeof(m->err)) != 0)
        return -1;
    m->started = 1;
    return 0;
}

static void
on_accept(h2o_socket_t *listener, const char *err)
{
    mock_host_t *m = listener->data;
    if (err != NULL)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock != NULL)
        h2o_accept(&m->accept_ctx, sock);
}

static int
mount_cmp(const void *a, const void *b)
{
    size_t la = strlen(((const mock_mount_t *)a)->path), lb = strlen(((const mock_mount_t *)b)->path);
    return la < lb ? 1 : la > lb ? -1 : 0;
}

static void on_raw_accept(h2o_socket_t *listener, const char *err);

/* A listener on 127.0.0.1 at a free port, accepting with `cb` on the mock loop. */
static h2o_socket_t *
loopback_listener(mock_host_t *m, h2o_socket_cb cb, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    socklen_t slen = sizeof(sa);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &slen) != 0) {
        close(fd);
        return NULL;
    }
    h2o_socket_t *sock = h2o_evloop_socket_create(m->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = m;
    h2o_socket_read_start(sock, cb);
    *port = ntohs(sa.sin_port);
    return sock;
}

int
mock_host_listen(mock_host_t *m)
{
    h2o_config_init(&m->globalconf);
    h2o_hostconf_t *hostconf = h2o_config_register_host(&m->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    qsort(m->mounts, m->nmounts, sizeof(m->mounts[0]), mount_cmp);
    for (size_t i = 0; i < m->nmounts; ++i) {
        h2o_pathconf_t *pc = h2o_config_register_path(hostconf, m->mounts[i].path, 0);
        if (m->mounts[i].cb((tale_plugin_t *)(void *)m, pc, m->mounts[i].data) != 0)
            return -1;
    }
    h2o_context_init(&m->ctx, m->loop, &m->globalconf);
    m->accept_ctx.ctx = &m->ctx;
    m->accept_ctx.hosts = m->globalconf.hosts;

    if ((m->listener = loopback_listener(m, on_accept, &m->port)) == NULL)
        return -1;
    m->listening = 1;
    return m->port;
}

void
mock_host_run(mock_host_t *m, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    for (uint64_t t = now_ms(); t < end; t = now_ms())
        h2o_evloop_run(m->loop, (int32_t)(end - t));
}

int
mock_host_run_until(mock_host_t *m, int (*pred)(mock_host_t *m, void *arg), void *arg, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    int r;
    while (!(r = pred(m, arg)) && now_ms() < end)
        h2o_evloop_run(m->loop, 10);
    return r;
}

static void
on_raw_accept(h2o_socket_t *listener, const char *err)
{
    mock_host_t *m = listener->data;
    if (err != NULL)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock != NULL)
        m->raw_cb((tale_plugin_t *)(void *)m, sock, m->raw_data);
}

int
mock_host_raw_listen(mock_host_t *m)
{
    if (m->raw_cb == NULL)
        return -1;
    int port;
    if ((m->raw_listener = loopback_listener(m, on_raw_accept, &port)) == NULL)
        return -1;
    return port;
}

static uint64_t push_frame(mock_host_t *m, const char *html, const char *special);

uint64_t
mock_host_push_text(mock_host_t *m, const char *html)
{
    return push_frame(m, html, "[]");
}

uint64_t
mock_host_push_special(mock_host_t *m, const char *html, const char *special)
{
    return push_frame(m, html, special);
}

static uint64_t
push_frame(mock_host_t *m, const char *html, const char *special)
{
    mock_session_t *s = &m->session;
    if (s->nframes == MOCK_MAX_FRAMES) {
        free(s->frames[0].event);
        free(s->frames[0].json);
        memmove(s->frames, s->frames + 1, sizeof(s->frames[0]) * (MOCK_MAX_FRAMES - 1));
        --s->nframes;
    }
    uint64_t seq = ++s->seq;
    size_t cap = strlen(html) + strlen(special) + 128;
    char *json = malloc(cap);
    snprintf(json, cap, "{\"type\":\"text\",\"seq\":%llu,\"text\":\"%s\",\"special\":%s}", (unsigned long long)seq, html, special);
    s->frames[s->nframes++] = (mock_frame_t){seq, strdup("text"), json};
    if (s->io != NULL) {
        tale_frame_t fr = {seq, "text", json, strlen(json)};
        if (s->io->send(s->conn, &fr) != 0) {
            ++s->send_failures;
            s->io = NULL;
            s->conn = NULL;
        }
    }
    return seq;
}

void
mock_host_stop(mock_host_t *m, int drain_ms)
{
    if (m->started && !m->stopped) {
        m->stopped = 1;
        m->desc->stop((tale_plugin_t *)(void *)m, m->state);
        if (drain_ms > 0)
            mock_host_run(m, drain_ms);
    }
}

int
mock_host_log_has(mock_host_t *m, const char *needle)
{
    return m->log != NULL && strstr(m->log, needle) != NULL;
}

void
mock_host_free(mock_host_t *m)
{
    mock_host_stop(m, m->listening ? 300 : 0);
    if (m->listener != NULL) {
        h2o_socket_read_stop(m->listener);
        h2o_socket_close(m->listener);
        m->listener = NULL;
    }
    if (m->raw_listener != NULL) {
        h2o_socket_read_stop(m->raw_listener);
        h2o_socket_close(m->raw_listener);
        m->raw_listener = NULL;
        mock_host_run(m, 20);
    }
    if (m->listening)
        mock_host_run(m, 20); /* let closed sockets be disposed */
    /* as in the host: destroy runs while the loop and context still exist */
    if (m->initialised)
        m->desc->destroy((tale_plugin_t *)(void *)m, m->state);
    if (m->listening) {
        h2o_context_dispose(&m->ctx);
        h2o_config_dispose(&m->globalconf);
    }
    h2o_evloop_destroy(m->loop);
    for (size_t i = 0; i < m->nconf; ++i)
        conf_entry_clear(&m->conf[i]);
    for (size_t i = 0; i < m->nmounts; ++i)
        free(m->mounts[i].path);
    for (size_t i = 0; i < m->session.nframes; ++i) {
        free(m->session.frames[i].event);
        free(m->session.frames[i].json);
    }
    for (size_t i = 0; i < m->session.ninputs; ++i)
        free(m->session.inputs[i].cmd);
    free(m->log);
    free(m);
}

int
mock_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)port)};
    /* connect() to a listening loopback socket completes from the backlog, so no loop turn is needed */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

size_t
mock_read_until(mock_host_t *m, int fd, char *buf, size_t cap, const char *until, int ms)
{
    size_t len = 0;
    uint64_t end = now_ms() + (uint64_t)ms;
    buf[0] = '\0';
    while (len + 1 < cap && now_ms() < end) {
        h2o_evloop_run(m->loop, 5);
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
        if (until != NULL && memmem(buf, len, until, strlen(until)) != NULL)
            break;
    }
    return len;
}
