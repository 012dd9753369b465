/*
 * mud.c - the MUD-scale scenarios: N players, each a new seat, all in the
 * start room, driven from one epoll loop (one thread, one socket per player,
 * none of them ever waited on alone), so 10,000 players cost the client
 * 10,000 sockets and no threads.
 *
 * Every tenth player is an EventSource stream with a kept-alive connection
 * for its POSTs; the rest are WebSockets.  The scenarios run in order on the
 * same crowd: join, rss, yell, all, bystander, leave.  Each is bounded by a
 * count and by time: a slow host shortens a scenario and the report says so.
 */
#include "bench.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEC 1000000000ull
#define MS 1000000ull
#define JOIN_WAIT (10 * SEC)  /* a join that takes longer has timed out (the "joins time out after 10 s") */
#define PHASE_WAIT (30 * SEC) /* yell, all: until the last player has it, at most this */
#define HEAD_MAX 8192

enum { K_WS, K_SSE, K_POST };
enum { S_IDLE, S_CONNECTING, S_HEAD, S_OPEN, S_DEAD };

struct player;

typedef struct mconn {
    int fd, kind, state;
    struct player *pl;
    bench_buf_t head; /* the answer head while S_HEAD */
} mconn_t;

typedef struct player {
    mconn_t c;    /* the WebSocket or the event stream */
    mconn_t post; /* SSE players: the kept-alive POST connection */
    bench_ws_t *ws;
    bench_sse_t *es;
    bench_http_t *h;
    char expect[32]; /* Sec-WebSocket-Accept */
    int failed, posting;
    char queued[64]; /* a command waiting for the POST connection to (re)connect */
    uint64_t t_start, t_joined, t_mark, t_sent, t_answer;
    size_t answers;
} player_t;

/* One run's crowd and counters: the message callbacks see only their player. */
static struct mud {
    const bench_mud_opts_t *o;
    int ep;
    player_t *pl;
    size_t n, started, joined, failed, marked;
    size_t answers, refused; /* frames echoing a command; "slow down" notices */
    uint64_t t_frame;        /* the newest frame anyone read */
    char marker[48];
    size_t marker_len;
    player_t *bystander;
    uint64_t *by_sent, *by_lat;
    size_t by_cap, by_n_sent;
    char error[256];     /* the first failure, for the report */
    bench_rss_cap_t cap; /* o->rss_cap_mib on the host */
} M;

static int
host_over(void)
{
    return bench_rss_over(&M.cap);
}

static void
note_error(const player_t *p, const char *what)
{
    if (M.error[0] == '\0')
        snprintf(M.error, sizeof(M.error), "player %zu: %.200s", (size_t)(p - M.pl) + 1, what);
}

static void
conn_close(mconn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = S_DEAD;
    free(c->head.p);
    c->head = (bench_buf_t){0};
}

/* Free a player's clients and close its sockets (a client owns its socket). */
static void
player_drop(player_t *p, int abort)
{
    if (p->ws || p->es)
        p->c.fd = -1;
    if (p->h)
        p->post.fd = -1;
    if (abort)
        bench_ws_abort(p->ws);
    else
        bench_ws_close(p->ws);
    bench_sse_close(p->es);
    bench_http_close(p->h);
    p->ws = NULL;
    p->es = NULL;
    p->h = NULL;
    conn_close(&p->c);
    conn_close(&p->post);
}

/* A failed player's socket may be why: no WebSocket close handshake then. */
static void
player_fail(player_t *p, const char *why)
{
    if (p->failed)
        return;
    note_error(p, why);
    p->failed = 1;
    M.failed++;
    player_drop(p, 1);
}

static int
live(const player_t *p)
{
    return !p->failed && p->t_joined != 0;
}

/* Every text frame of every player comes here. */
static void
on_frame(player_t *p, const char *type, const char *m, size_t len)
{
    if (strcmp(type, "text") != 0)
        return;
    uint64_t now = bench_now_ns();
    M.t_frame = now;
    if (p->t_joined == 0) {
        p->t_joined = now;
        M.joined++;
    }
    if (M.marker_len && p->t_mark == 0 && memmem(m, len, M.marker, M.marker_len) != NULL) {
        p->t_mark = now;
        M.marked++;
    }
    /* The engine echoes each command in its answer; tick output and other
     * players' speech carry no echo. */
    if (memmem(m, len, "txt-userinput", 13) != NULL) {
        p->answers++;
        p->t_answer = now;
        M.answers++;
        if (p == M.bystander && p->answers <= M.by_n_sent)
            M.by_lat[p->answers - 1] = now - M.by_sent[p->answers - 1];
    } else if (memmem(m, len, "slow down", 9) != NULL) {
        M.refused++;
    }
}

static void
on_ws(void *ud, const char *msg, size_t len)
{
    char type[16];
    bench_json_str(msg, len, "type", type, sizeof(type));
    on_frame(ud, type, msg, len);
}

static void
on_sse(void *ud, const char *event, const char *data, size_t len)
{
    on_frame(ud, event, data, len);
}

static int
watch(mconn_t *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(M.ep, op, c->fd, &ev);
}

static int
conn_start(player_t *p, mconn_t *c, int kind)
{
    c->pl = p;
    c->kind = kind;
    c->fd = bench_connect_start(M.o->port);
    if (c->fd < 0 || watch(c, EPOLLOUT, EPOLL_CTL_ADD) != 0) {
        char why[128];
        snprintf(why, sizeof(why), "connect: %s", strerror(errno));
        player_fail(p, why);
        return -1;
    }
    c->state = S_CONNECTING;
    return 0;
}

static void
player_start(player_t *p, int kind)
{
    p->c.fd = p->post.fd = -1;
    p->t_start = bench_now_ns();
    M.started++;
    conn_start(p, &p->c, kind);
}

static int
post_cmd(player_t *p, const char *cmd)
{
    char body[512];
    int bl = bench_form_body(cmd, body, sizeof(body));
    if (bench_http_post(p->h, "/tale/input", bench_sse_cookie(p->es), body, (size_t)bl, bench_now_ns() + SEC) != 0)
        return -1;
    p->posting = 1;
    return 0;
}

/* The connect finished: send the request (a few hundred bytes: the socket's
 * empty send buffer takes it at once). */
static void
on_connected(mconn_t *c)
{
    player_t *p = c->pl;
    int err = bench_connect_result(c->fd);
    if (err != 0) {
        char why[128];
        snprintf(why, sizeof(why), "connect: %s", strerror(err));
        player_fail(p, why);
        return;
    }
    if (c->kind == K_POST) {
        p->h = bench_http_adopt(c->fd, M.o->port);
        c->state = S_OPEN;
        if (p->h == NULL || watch(c, EPOLLIN, EPOLL_CTL_MOD) != 0)
            player_fail(p, "POST connection");
        else if (p->queued[0] && post_cmd(p, p->queued) != 0)
            player_fail(p, "POST failed");
        p->queued[0] = '\0';
        return;
    }
    char req[1024];
    int rl = c->kind == K_WS ? bench_ws_request(M.o->port, "/tale/ws", NULL, req, sizeof(req), p->expect, sizeof(p->expect))
                             : bench_sse_request(M.o->port, "/tale/eventsource", req, sizeof(req));
    if (rl < 0 || bench_write_all(c->fd, req, (size_t)rl, bench_now_ns() + SEC) != 0 || watch(c, EPOLLIN, EPOLL_CTL_MOD) != 0) {
        player_fail(p, "cannot send the request");
        return;
    }
    c->state = S_HEAD;
}

static void
on_head(mconn_t *c)
{
    player_t *p = c->pl;
    char tmp[4096], err[256];
    ssize_t r = recv(c->fd, tmp, sizeof(tmp), 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        player_fail(p, r == 0 ? "closed before the answer head" : "read of the answer head failed");
        return;
    }
    if (bench_buf_append(&c->head, tmp, (size_t)r, HEAD_MAX) != 0) {
        player_fail(p, "answer head too large");
        return;
    }
    if (memmem(c->head.p, c->head.len, "\r\n\r\n", 4) == NULL)
        return;
    if (c->kind == K_WS)
        p->ws = bench_ws_adopt(c->fd, c->head.p, c->head.len, p->expect, NULL, on_ws, p, err, sizeof(err));
    else
        p->es = bench_sse_adopt(c->fd, c->head.p, c->head.len, on_sse, p, err, sizeof(err));
    free(c->head.p);
    c->head = (bench_buf_t){0};
    if (p->ws == NULL && p->es == NULL) {
        player_fail(p, err);
        return;
    }
    c->state = S_OPEN;
    /* Frames that came with the head are read now: epoll will not say so. */
    if (p->ws && bench_ws_read(p->ws) < 0)
        player_fail(p, "WebSocket closed after the upgrade");
    /* A browser's EventSource page opens a second connection for its POSTs. */
    if (p->es && !p->failed)
        conn_start(p, &p->post, K_POST);
}

static void
on_readable(mconn_t *c)
{
    player_t *p = c->pl;
    if (c->kind == K_WS) {
        if (bench_ws_read(p->ws) < 0)
            player_fail(p, "WebSocket closed by the host");
    } else if (c->kind == K_SSE) {
        if (bench_sse_read(p->es) < 0)
            player_fail(p, "event stream closed by the host");
    } else {
        int status = 0, r;
        while ((r = bench_http_read_response(p->h, &status)) == 1) {
            p->posting = 0;
            if (status / 100 != 2) {
                char why[64];
                snprintf(why, sizeof(why), "POST /tale/input answered %d", status);
                note_error(p, why);
            }
        }
        if (r < 0) {
            /* The host closes idle kept-alive connections; a browser opens
             * another for its next POST, and so do we.  One closed under a
             * POST lost that command. */
            if (p->posting)
                note_error(p, "POST connection closed before its answer");
            p->posting = 0;
            bench_http_close(p->h);
            p->h = NULL;
            c->fd = -1;
            conn_close(c);
        }
    }
}

/* One turn of the loop: wait up to ms for sockets, handle what is ready. */
static void
turn(int ms)
{
    host_over();
    struct epoll_event ev[512];
    int n = epoll_wait(M.ep, ev, 512, ms);
    for (int i = 0; i < n; i++) {
        mconn_t *c = ev[i].data.ptr;
        if (c->pl->failed)
            continue; /* an earlier event of this turn ended it */
        switch (c->state) {
        case S_CONNECTING:
            on_connected(c);
            break;
        case S_HEAD:
            on_head(c);
            break;
        case S_OPEN:
            on_readable(c);
            break;
        default:
            break;
        }
    }
}

/* Read until nothing has come for quiet_ms (the crowd's broadcasts are in),
 * at most cap.  The time it took. */
static uint64_t
settle(unsigned quiet_ms, uint64_t cap)
{
    uint64_t t0 = bench_now_ns(), end = t0 + cap;
    M.t_frame = t0;
    while (bench_now_ns() < end && bench_now_ns() - M.t_frame < quiet_ms * MS)
        turn(10);
    return bench_now_ns() - t0;
}

/* One command from one player: a WebSocket message, or a POST (one at a
 * time per connection, as a browser's fetch queue would keep it).  0 or -1. */
static int
send_cmd(player_t *p, const char *cmd)
{
    if (!live(p))
        return -1;
    p->t_sent = bench_now_ns();
    if (p->ws) {
        json_t *m = json_pack("{s:s}", "cmd", cmd);
        char *msg = json_dumps(m, JSON_COMPACT);
        int rc = msg ? bench_ws_send_text(p->ws, msg, strlen(msg), p->t_sent + SEC) : -1;
        free(msg);
        json_decref(m);
        if (rc != 0)
            player_fail(p, "WebSocket send failed");
        return rc;
    }
    if (p->posting || p->queued[0])
        return -1;
    if (p->h != NULL) {
        if (post_cmd(p, cmd) == 0)
            return 0;
        player_fail(p, "POST failed");
        return -1;
    }
    snprintf(p->queued, sizeof(p->queued), "%s", cmd);
    return p->post.state == S_CONNECTING || conn_start(p, &p->post, K_POST) == 0 ? 0 : -1;
}

static size_t
count_live(void)
{
    size_t n = 0;
    for (size_t i = 0; i < M.started; i++)
        n += live(&M.pl[i]);
    return n;
}

static json_t *
stats_json(uint64_t *s, size_t n, bench_stats_t *st)
{
    bench_stats_compute(s, n, 0, st);
    return json_pack("{s:I,s:f,s:f,s:f,s:f}", "n", (json_int_t)n, "median_ms", st->median_us / 1000, "p90_ms", st->p90_us / 1000,
                     "p99_ms", st->p99_us / 1000, "max_ms", st->max_us / 1000);
}

/* ---- the scenarios ---- */

/* mud-join: N new seats in waves; a wave waits for its last join or for its
 * timeouts.  Joining stops early when most of a wave timed out. */
static json_t *
sc_join(void)
{
    const bench_mud_opts_t *o = M.o;
    uint64_t start = bench_now_ns(), cap = start + (uint64_t)(o->join_cap_s * 1e9);
    const char *stop = NULL;
    while (M.started < M.n && !stop) {
        if (bench_now_ns() >= cap) {
            stop = "the join time cap";
            break;
        }
        if (host_over()) {
            stop = "the host's RSS cap";
            break;
        }
        size_t first = M.started, k = M.n - first < o->wave ? M.n - first : o->wave;
        for (size_t i = first; i < first + k; i++)
            player_start(&M.pl[i], i % 10 == 9 ? K_SSE : K_WS);
        uint64_t wave_end = bench_now_ns() + JOIN_WAIT;
        for (;;) {
            size_t waiting = 0;
            for (size_t i = first; i < first + k; i++)
                waiting += !M.pl[i].failed && M.pl[i].t_joined == 0;
            if (waiting == 0)
                break;
            uint64_t now = bench_now_ns();
            if (now >= wave_end || now >= cap) {
                for (size_t i = first; i < first + k; i++)
                    if (!M.pl[i].failed && M.pl[i].t_joined == 0)
                        player_fail(&M.pl[i], "no welcome text within 10 s");
                break;
            }
            turn(5);
        }
        size_t bad = 0;
        for (size_t i = first; i < first + k; i++)
            bad += M.pl[i].failed;
        if (bad * 2 > k)
            stop = "most of a wave failed";
    }
    /* Join times in order of starting; seats/s over blocks of the first and last joins. */
    size_t n = 0, block = M.n / 10 < 1000 ? (M.n / 10 ? M.n / 10 : 1) : 1000;
    uint64_t *s = calloc(M.started + 1, sizeof(*s)), last = start;
    player_t **order = calloc(M.started + 1, sizeof(*order));
    for (size_t i = 0; i < M.started; i++)
        if (M.pl[i].t_joined) {
            order[n] = &M.pl[i];
            s[n++] = M.pl[i].t_joined - M.pl[i].t_start;
            if (M.pl[i].t_joined > last)
                last = M.pl[i].t_joined;
        }
    double rate_first = 0, rate_last = 0;
    if (n >= block) {
        uint64_t a = order[block - 1]->t_joined - order[0]->t_start;
        uint64_t b = order[n - 1]->t_joined - order[n - block]->t_start;
        rate_first = a ? (double)block / ((double)a / 1e9) : 0;
        rate_last = b ? (double)block / ((double)b / 1e9) : 0;
    }
    double el = (double)(last - start) / 1e9, rate = el > 0 ? (double)n / el : 0;
    bench_stats_t st;
    json_t *j = json_pack("{s:I,s:I,s:I,s:f,s:f,s:I,s:f,s:f,s:f}", "asked", (json_int_t)M.n, "started", (json_int_t)M.started,
                          "joined", (json_int_t)n, "elapsed_s", el, "seats_per_s", rate, "block", (json_int_t)block,
                          "first_block_seats_per_s", rate_first, "last_block_seats_per_s", rate_last, "last_over_first_cost",
                          rate_last > 0 ? rate_first / rate_last : 0);
    json_object_set_new(j, "join", stats_json(s, n, &st));
    json_object_set_new(j, "ok", json_boolean(n > 0));
    if (stop)
        json_object_set_new(j, "stopped_by", json_string(stop));
    printf("mud-join       %zu of %zu seats in %.1f s: %.0f seats/s; first %zu %.0f/s, last %zu %.0f/s (cost last/first %.2f x); "
           "join median %.1f ms, p99 %.1f ms%s%s\n",
           n, M.n, el, rate, block, rate_first, block, rate_last, rate_last > 0 ? rate_first / rate_last : 0, st.median_us / 1000,
           st.p99_us / 1000, stop ? "; stopped by " : "", stop ? stop : "");
    free(s);
    free(order);
    return j;
}

static json_t *
sc_rss(long rss0, long fds0)
{
    uint64_t waited = settle(1000, PHASE_WAIT);
    size_t n = count_live();
    long rss = bench_proc_rss_kib(M.o->pid), fds = bench_proc_fds(M.o->pid);
    double per = n ? (double)(rss - rss0) / (double)n : 0;
    printf("mud-rss        RSS %ld -> %ld KiB, fds %ld -> %ld with %zu idle players: %.1f KiB per player (settled %.1f s)\n", rss0,
           rss, fds0, fds, n, per, (double)waited / 1e9);
    return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:f,s:f}", "ok", n > 0 && rss > 0, "players", (json_int_t)n, "rss_start_kib",
                     (json_int_t)rss0, "rss_kib", (json_int_t)rss, "fds_start", (json_int_t)fds0, "fds", (json_int_t)fds,
                     "kib_per_player", per, "settle_s", (double)waited / 1e9);
}

static void
new_marker(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (uint32_t)bench_now_ns();
    M.marker_len = (size_t)snprintf(M.marker, sizeof(M.marker), "mudbench%08x", r);
    M.marked = 0;
    for (size_t i = 0; i < M.started; i++)
        M.pl[i].t_mark = 0;
}

/* The first live WebSocket player at or after index from. */
static player_t *
live_ws(size_t from)
{
    for (size_t i = from; i < M.started; i++)
        if (live(&M.pl[i]) && M.pl[i].ws)
            return &M.pl[i];
    return NULL;
}

/* mud-yell: one yell; how long until the last player has it. */
static json_t *
sc_yell(void)
{
    settle(500, 10 * SEC);
    player_t *y = live_ws(0);
    size_t n = count_live();
    if (y == NULL) {
        printf("mud-yell       FAILED: no live player\n");
        return json_pack("{s:b,s:s}", "ok", 0, "error", "no live player");
    }
    new_marker();
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "yell %s", M.marker);
    uint64_t t0 = bench_now_ns(), end = t0 + PHASE_WAIT;
    if (send_cmd(y, cmd) != 0) {
        printf("mud-yell       FAILED: the yell could not be sent\n");
        M.marker_len = 0;
        return json_pack("{s:b,s:s}", "ok", 0, "error", "the yell could not be sent");
    }
    while (M.marked < n && bench_now_ns() < end && count_live() > M.marked)
        turn(5);
    uint64_t *s = calloc(M.started + 1, sizeof(*s));
    size_t k = 0;
    for (size_t i = 0; i < M.started; i++)
        if (M.pl[i].t_mark)
            s[k++] = M.pl[i].t_mark - t0;
    bench_stats_t st;
    json_t *dist = stats_json(s, k, &st);
    int all = k == n;
    printf("mud-yell       %zu of %zu players had the yell; the last after %.1f ms (median %.1f ms)%s\n", k, n, st.max_us / 1000,
           st.median_us / 1000, all ? "" : "; the rest not within 30 s");
    M.marker_len = 0;
    free(s);
    return json_pack("{s:b,s:I,s:I,s:f,s:o}", "ok", k > 0, "players", (json_int_t)n, "reached", (json_int_t)k, "last_ms",
                     all ? st.max_us / 1000 : -1.0, "arrival", dist);
}

/* mud-all: every player sends `look` at once; until the last answer. */
static json_t *
sc_all(void)
{
    settle(500, 10 * SEC);
    size_t n = 0, sent = 0;
    size_t *base = calloc(M.started + 1, sizeof(*base));
    for (size_t i = 0; i < M.started; i++)
        base[i] = M.pl[i].answers;
    uint64_t t0 = bench_now_ns(), end = t0 + PHASE_WAIT;
    for (size_t i = 0; i < M.started; i++)
        if (live(&M.pl[i])) {
            n++;
            sent += send_cmd(&M.pl[i], "look") == 0;
        }
    uint64_t t_sent = bench_now_ns();
    size_t got = 0;
    while (bench_now_ns() < end) {
        got = 0;
        for (size_t i = 0; i < M.started; i++)
            got += M.pl[i].answers > base[i];
        if (got >= sent)
            break;
        turn(5);
    }
    uint64_t *s = calloc(M.started + 1, sizeof(*s)), last = t0;
    size_t k = 0;
    for (size_t i = 0; i < M.started; i++)
        if (M.pl[i].answers > base[i]) {
            s[k++] = M.pl[i].t_answer - M.pl[i].t_sent;
            if (M.pl[i].t_answer > last)
                last = M.pl[i].t_answer;
        }
    bench_stats_t st;
    json_t *lat = stats_json(s, k, &st);
    int all = k == sent && sent == n;
    double last_ms = (double)(last - t0) / 1e6;
    printf("mud-all        %zu of %zu players answered (%zu sent in %.1f ms); the last answer after %.1f ms; per player median "
           "%.1f ms, "
           "p99 %.1f ms%s\n",
           k, n, sent, (double)(t_sent - t0) / 1e6, last_ms, st.median_us / 1000, st.p99_us / 1000,
           all ? "" : "; the rest not within 30 s");
    free(s);
    free(base);
    return json_pack("{s:b,s:I,s:I,s:I,s:f,s:f,s:o}", "ok", k > 0, "players", (json_int_t)n, "sent", (json_int_t)sent, "answered",
                     (json_int_t)k, "last_ms", all ? last_ms : -1.0, "send_ms", (double)(t_sent - t0) / 1e6, "latency", lat);
}

/* mud-bystander: yellers at their rate limit; one other player sends `look`
 * every 100 ms.  Answers the bystander has not had when the window and a
 * grace period are over count as timed out. */
static json_t *
sc_bystander(void)
{
    const bench_mud_opts_t *o = M.o;
    settle(500, 10 * SEC);
    size_t n = count_live(), want = o->yellers < n / 10 ? o->yellers : n / 10;
    player_t **yell = calloc(want + 1, sizeof(*yell));
    uint64_t *next = calloc(want + 1, sizeof(*next));
    size_t k = 0, i = 0, *base = calloc(want + 1, sizeof(*base));
    player_t *by = NULL;
    for (; i < M.started && (k < want || by == NULL); i++) {
        if (!live(&M.pl[i]))
            continue;
        if (by == NULL && M.pl[i].ws)
            by = &M.pl[i];
        else if (k < want)
            yell[k++] = &M.pl[i];
    }
    if (by == NULL || k == 0) {
        printf("mud-bystander  FAILED: not enough live players\n");
        free(yell);
        free(next);
        free(base);
        return json_pack("{s:b,s:s}", "ok", 0, "error", "not enough live players");
    }
    M.by_cap = (size_t)(o->bystander_s * 10) + 2;
    M.by_sent = calloc(M.by_cap, sizeof(uint64_t));
    M.by_lat = calloc(M.by_cap, sizeof(uint64_t));
    M.by_n_sent = 0;
    by->answers = 0;
    M.bystander = by;
    uint64_t t0 = bench_now_ns(), end = t0 + (uint64_t)(o->bystander_s * 1e9), gap = (uint64_t)(1e9 / o->rate), by_next = t0;
    for (size_t j = 0; j < k; j++) {
        next[j] = t0 + gap * j / k; /* spread over one interval, as independent players would be */
        base[j] = yell[j]->answers;
    }
    size_t yells = 0, skipped = 0, refused0 = M.refused;
    while (bench_now_ns() < end && !host_over()) {
        uint64_t now = bench_now_ns();
        for (size_t j = 0; j < k; j++)
            if (next[j] <= now) {
                next[j] += gap;
                if (send_cmd(yell[j], "yell hey") == 0)
                    yells++;
                else
                    skipped++;
            }
        if (by_next <= now && M.by_n_sent < M.by_cap) {
            by_next += 100 * MS;
            M.by_sent[M.by_n_sent] = bench_now_ns();
            if (send_cmd(by, "look") == 0)
                M.by_n_sent++;
        }
        turn(1);
    }
    double window = (double)(bench_now_ns() - t0) / 1e9;
    /* Grace: the answers already asked for, at most JOIN_WAIT more. */
    uint64_t grace = bench_now_ns() + JOIN_WAIT;
    while (by->answers < M.by_n_sent && bench_now_ns() < grace && live(by))
        turn(5);
    uint64_t stop = bench_now_ns();
    size_t answered = by->answers < M.by_n_sent ? by->answers : M.by_n_sent, timed_out = M.by_n_sent - answered;
    for (size_t j = answered; j < M.by_n_sent; j++)
        M.by_lat[j] = stop - M.by_sent[j]; /* a lower bound: the answer never came */
    size_t yell_answers = 0;
    for (size_t j = 0; j < k; j++)
        yell_answers += yell[j]->answers - base[j];
    M.bystander = NULL;
    if (M.cap.over)
        printf("mud-bystander  the yelling stopped early: the host's RSS passed %.0f MiB\n", o->rss_cap_mib);
    bench_stats_t st;
    json_t *lat = stats_json(M.by_lat, M.by_n_sent, &st);
    printf("mud-bystander  %zu yellers at %.0f/s for %.1f s: %zu yells sent (%zu not: a POST pending), %zu answered, %zu refused "
           "(slow down); bystander look: %zu of %zu answered, median %.1f ms, p99 %.1f ms%s\n",
           k, o->rate, window, yells, skipped, yell_answers, M.refused - refused0, answered, M.by_n_sent, st.median_us / 1000,
           st.p99_us / 1000, timed_out ? " (unanswered looks counted at the time they were given up)" : "");
    json_t *j =
        json_pack("{s:b,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "ok", answered > 0, "players", (json_int_t)n, "yellers",
                  (json_int_t)k, "rate", o->rate, "window_s", window, "yells_sent", (json_int_t)yells, "yells_skipped",
                  (json_int_t)skipped, "yells_answered", (json_int_t)yell_answers, "refused", (json_int_t)(M.refused - refused0),
                  "looks", (json_int_t)M.by_n_sent, "looks_timed_out", (json_int_t)timed_out, "look", lat);
    free(M.by_sent);
    free(M.by_lat);
    M.by_sent = M.by_lat = NULL;
    free(yell);
    free(next);
    free(base);
    return j;
}

/* mud-leave: everyone closes; RSS and fds once the host has reaped them. */
static json_t *
sc_leave(long rss0, long fds0)
{
    const bench_mud_opts_t *o = M.o;
    long rss_full = bench_proc_rss_kib(o->pid), fds_full = bench_proc_fds(o->pid);
    size_t n = 0;
    for (size_t i = 0; i < M.started; i++) {
        player_t *p = &M.pl[i];
        if (p->failed)
            continue;
        n += live(p);
        player_drop(p, 0); /* a WebSocket says goodbye with a close frame, as a closing page does */
        p->failed = 1;     /* gone: no more events for it */
    }
    /* Wait at least the reaping delay, then until the fds are back, RSS
     * stops falling, or the cap. */
    uint64_t t0 = bench_now_ns(), min = t0 + (uint64_t)(o->reap_min_s * 1e9), end = t0 + (uint64_t)(o->reap_s * 1e9);
    long rss = rss_full, fds = fds_full;
    /* Seats whose close the host saw later fade, and are trimmed, up to a
     * linger and a trim interval after the others. */
    bench_wait_settled(o->pid, fds0, min, end, &rss, &fds);
    double el = (double)(bench_now_ns() - t0) / 1e9;
    double rss_pct = rss0 > 0 ? 100.0 * (double)(rss - rss0) / (double)rss0 : 0;
    double fds_pct = fds0 > 0 ? 100.0 * (double)(fds - fds0) / (double)fds0 : 0;
    printf(
        "mud-leave      %zu players closed; after %.1f s: RSS %ld -> %ld -> %ld KiB (%+.1f %% of the start), fds %ld -> %ld -> %ld "
        "(%+.1f %%)\n",
        n, el, rss0, rss_full, rss, rss_pct, fds0, fds_full, fds, fds_pct);
    return json_pack("{s:b,s:I,s:f,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:f}", "ok", rss > 0 && fds > 0, "players", (json_int_t)n,
                     "waited_s", el, "rss_start_kib", (json_int_t)rss0, "rss_full_kib", (json_int_t)rss_full, "rss_end_kib",
                     (json_int_t)rss, "rss_pct", rss_pct, "fds_start", (json_int_t)fds0, "fds_full", (json_int_t)fds_full,
                     "fds_end", (json_int_t)fds, "fds_pct", fds_pct);
}

int
bench_mud_run(const bench_mud_opts_t *o)
{
    memset(&M, 0, sizeof(M));
    M.o = o;
    M.cap = (bench_rss_cap_t){.pid = o->pid, .cap_mib = o->rss_cap_mib};
    M.n = o->players;
    M.pl = calloc(M.n, sizeof(player_t));
    M.ep = epoll_create1(EPOLL_CLOEXEC);
    if (M.pl == NULL || M.ep < 0) {
        fprintf(stderr, "tale-bench: mud: %s\n", strerror(errno));
        return 1;
    }
    long rss0 = bench_proc_rss_kib(o->pid), fds0 = bench_proc_fds(o->pid);
    printf("\nMUD at %zu players (every tenth over SSE), waves of %zu, host pid %d\n", M.n, o->wave, (int)o->pid);
    fflush(stdout);
    json_t *sc = json_object();
    static const char *const names[] = {"mud-join", "mud-rss", "mud-yell", "mud-all", "mud-bystander", "mud-leave"};
    for (int i = 0; i < 6; i++) {
        fprintf(stderr, "tale-bench: %s\n", names[i]);
        json_t *r = i == 0   ? sc_join()
                    : i == 1 ? sc_rss(rss0, fds0)
                    : i == 2 ? sc_yell()
                    : i == 3 ? sc_all()
                    : i == 4 ? sc_bystander()
                             : sc_leave(rss0, fds0);
        json_object_set_new(sc, names[i], r);
        fflush(stdout);
    }
    int ok = 1;
    const char *key;
    json_t *v;
    json_object_foreach(sc, key, v) ok = ok && json_is_true(json_object_get(v, "ok"));
    json_t *root = json_pack("{s:s,s:I,s:I,s:b,s:o}", "tool", "tale-bench", "players", (json_int_t)M.n, "nproc",
                             (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "smoke", o->smoke, "mud", sc);
    json_object_set_new(root, "host_rss_peak_kib", json_integer(M.cap.peak));
    if (M.cap.over)
        json_object_set_new(root, "stopped_by_rss_cap_mib", json_real(o->rss_cap_mib));
    if (M.error[0]) {
        json_object_set_new(root, "first_error", json_string(M.error));
        printf("first failure: %s (%zu players failed in all)\n", M.error, M.failed);
    }
    if (o->json_path && json_dump_file(root, o->json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        fprintf(stderr, "tale-bench: cannot write %s\n", o->json_path);
    json_decref(root);
    for (size_t i = 0; i < M.started; i++)
        if (!M.pl[i].failed)
            player_fail(&M.pl[i], "end of run");
    free(M.pl);
    close(M.ep);
    return ok ? 0 : 1;
}
