/*
 * inst.c - the IF-instance scenarios (issue #14): a host in `mode: if` with
 * `instances: per_visitor`, where every visitor without a cookie gets a game
 * of their own and a tale_session cookie, and comes back to that game with it
 * (restored from the data_dir if the host evicted it meanwhile).
 *
 * Every visitor is driven from one epoll loop, as mud.c's crowd is: one
 * socket per visitor, none waited on alone, no threads.  Visitors run in
 * passes, each pass in waves (a wave starts when the last one is done or has
 * timed out), each pass bounded by a time cap.  The scenarios run in this
 * order on one host: if-rss, if-visitors, if-return, if-restore.
 */
#include "bench.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEC 1000000000ull
#define MS 1000000ull
#define VISIT_WAIT (10 * SEC)  /* one visitor's errand that takes longer has timed out */
#define PAGE_MAX (1024 * 1024) /* a page answer larger than this is not the story page */
#define HEAD_MAX 8192

enum { K_PAGE, K_WS };
enum { S_IDLE, S_CONNECTING, S_READING, S_OPEN, S_CLOSED };
/* What a visitor does in a pass, each ending at a first text frame:
 * E_FIRST GETs the page, opens its WebSocket, closes after the first text;
 * E_PLAY opens, plays one command, closes after its answer; E_STAY opens and
 * stays; E_RETURN comes back with its cookie and closes after the first text. */
enum { E_FIRST, E_PLAY, E_STAY, E_RETURN };

typedef struct visitor {
    int fd, kind, state, errand, failed, done;
    bench_buf_t in; /* the page answer, or the upgrade's answer head */
    bench_ws_t *ws;
    char expect[32]; /* Sec-WebSocket-Accept */
    char cookie[256];
    uint64_t t_start, t_page, t_first, t_text, t_sent, t_answer;
} visitor_t;

static struct inst {
    const bench_inst_opts_t *o;
    int ep;
    visitor_t *v;
    size_t n, failed;
    size_t new_cookie;   /* returns answered with a cookie other than theirs: a new game, not theirs */
    char error[256];     /* the first failure, for the report */
    bench_rss_cap_t cap; /* o->rss_cap_mib on the host */
} I;

static void
note_error(const visitor_t *v, const char *what)
{
    if (I.error[0] == '\0')
        snprintf(I.error, sizeof(I.error), "visitor %zu: %.200s", (size_t)(v - I.v) + 1, what);
}

static int
host_over(void)
{
    return bench_rss_over(&I.cap);
}

/* Close the socket; a WebSocket says goodbye with a close frame unless it failed. */
static void
drop(visitor_t *v, int abort)
{
    if (v->ws != NULL) {
        if (abort)
            bench_ws_abort(v->ws);
        else
            bench_ws_close(v->ws);
        v->ws = NULL;
        v->fd = -1;
    }
    if (v->fd >= 0)
        close(v->fd);
    v->fd = -1;
    v->state = S_CLOSED;
    free(v->in.p);
    v->in = (bench_buf_t){0};
}

static void
visitor_fail(visitor_t *v, const char *why)
{
    if (v->failed)
        return;
    note_error(v, why);
    v->failed = 1;
    I.failed++;
    drop(v, 1);
}

static void
on_ws(void *ud, const char *msg, size_t len)
{
    visitor_t *v = ud;
    uint64_t now = bench_now_ns();
    char type[16];
    bench_json_str(msg, len, "type", type, sizeof(type));
    if (v->t_first == 0)
        v->t_first = now;
    if (strcmp(type, "text") != 0)
        return;
    if (v->t_text == 0)
        v->t_text = now;
    /* The engine echoes a command in its answer; tick output has no echo. */
    if (v->t_sent != 0 && v->t_answer == 0 && memmem(msg, len, "txt-userinput", 13) != NULL)
        v->t_answer = now;
}

static int
watch(visitor_t *v, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.ptr = v};
    return epoll_ctl(I.ep, op, v->fd, &ev);
}

static void
conn_start(visitor_t *v, int kind)
{
    v->kind = kind;
    v->fd = bench_connect_start(I.o->port);
    if (v->fd < 0 || watch(v, EPOLLOUT, EPOLL_CTL_ADD) != 0) {
        char why[128];
        snprintf(why, sizeof(why), "connect: %s", strerror(errno));
        visitor_fail(v, why);
        return;
    }
    v->state = S_CONNECTING;
}

static void
visitor_start(visitor_t *v, int errand)
{
    v->errand = errand;
    v->done = v->failed = 0;
    v->t_start = bench_now_ns();
    v->t_page = v->t_first = v->t_text = v->t_sent = v->t_answer = 0;
    conn_start(v, errand == E_FIRST ? K_PAGE : K_WS);
}

/* The errand's next step after frames came: play the command, close, or be done. */
static void
advance(visitor_t *v)
{
    if (v->done || v->t_text == 0)
        return;
    if (v->errand == E_PLAY && v->t_answer == 0) {
        if (v->t_sent == 0) {
            json_t *m = json_pack("{s:s}", "cmd", I.o->cmd);
            char *msg = json_dumps(m, JSON_COMPACT);
            v->t_sent = bench_now_ns();
            int rc = msg ? bench_ws_send_text(v->ws, msg, strlen(msg), v->t_sent + SEC) : -1;
            free(msg);
            json_decref(m);
            if (rc != 0)
                visitor_fail(v, "WebSocket send failed");
        }
        return;
    }
    v->done = 1;
    if (v->errand != E_STAY)
        drop(v, 0);
}

static void
on_connected(visitor_t *v)
{
    int err = bench_connect_result(v->fd);
    if (err != 0) {
        char why[128];
        snprintf(why, sizeof(why), "connect: %s", strerror(err));
        visitor_fail(v, why);
        return;
    }
    char req[1024];
    int rl;
    if (v->kind == K_PAGE) /* the server closes after the answer: its end is the end of the page */
        rl = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n", I.o->page, I.o->port);
    else
        rl = bench_ws_request(I.o->port, "/tale/ws", v->cookie, req, sizeof(req), v->expect, sizeof(v->expect));
    if (rl < 0 || (size_t)rl >= sizeof(req) || bench_write_all(v->fd, req, (size_t)rl, bench_now_ns() + SEC) != 0 ||
        watch(v, EPOLLIN, EPOLL_CTL_MOD) != 0) {
        visitor_fail(v, "cannot send the request");
        return;
    }
    v->state = S_READING;
}

/* The whole page is in: a 200 (its cookie kept, if it set one), then the WebSocket. */
static void
page_done(visitor_t *v)
{
    char *eoh = memmem(v->in.p, v->in.len, "\r\n\r\n", 4);
    if (eoh == NULL || strncmp(v->in.p, "HTTP/1.1 200", 12) != 0) {
        char why[160];
        int line = v->in.len ? (int)strcspn(v->in.p, "\r\n") : 0;
        snprintf(why, sizeof(why), "GET %s answered: %.*s", I.o->page, line < 80 ? line : 80, line ? v->in.p : "");
        visitor_fail(v, why);
        return;
    }
    eoh[2] = '\0';
    char setc[512];
    v->cookie[0] = '\0';
    if (bench_http_header(v->in.p, "Set-Cookie", setc, sizeof(setc)) == 0 && strncmp(setc, "tale_session=", 13) == 0)
        snprintf(v->cookie, sizeof(v->cookie), "%.*s", (int)strcspn(setc, ";"), setc);
    drop(v, 0);
    v->t_page = bench_now_ns();
    conn_start(v, K_WS);
}

static void
on_upgrade(visitor_t *v)
{
    char err[256], had[256];
    snprintf(had, sizeof(had), "%s", v->cookie);
    v->ws = bench_ws_adopt(v->fd, v->in.p, v->in.len, v->expect, v->cookie[0] ? v->cookie : NULL, on_ws, v, err, sizeof(err));
    free(v->in.p);
    v->in = (bench_buf_t){0};
    if (v->ws == NULL) {
        visitor_fail(v, err);
        return;
    }
    v->state = S_OPEN;
    snprintf(v->cookie, sizeof(v->cookie), "%s", bench_ws_cookie(v->ws));
    if (v->cookie[0] == '\0') {
        visitor_fail(v, "the 101 set no tale_session cookie");
        return;
    }
    if (v->errand == E_RETURN && strcmp(had, v->cookie) != 0) {
        I.new_cookie++;
        visitor_fail(v, "came back with its cookie and got another one: a new game, not its own");
        return;
    }
    /* Frames that came with the head are read now: epoll will not say so. */
    if (bench_ws_read(v->ws) < 0)
        visitor_fail(v, "WebSocket closed after the upgrade");
    else
        advance(v);
}

static void
on_readable(visitor_t *v)
{
    if (v->state == S_OPEN) {
        if (bench_ws_read(v->ws) < 0)
            visitor_fail(v, "WebSocket closed by the host");
        else
            advance(v);
        return;
    }
    char tmp[16384];
    ssize_t r = recv(v->fd, tmp, sizeof(tmp), 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r < 0 || (r == 0 && v->kind == K_WS)) {
        visitor_fail(v, r == 0 ? "closed before the upgrade answer" : "read failed");
        return;
    }
    if (r == 0) {
        page_done(v);
        return;
    }
    if (bench_buf_append(&v->in, tmp, (size_t)r, v->kind == K_PAGE ? PAGE_MAX : HEAD_MAX) != 0) {
        visitor_fail(v, "answer too large");
        return;
    }
    if (v->kind == K_WS && memmem(v->in.p, v->in.len, "\r\n\r\n", 4) != NULL)
        on_upgrade(v);
}

static void
turn(int ms)
{
    host_over();
    struct epoll_event ev[512];
    int n = epoll_wait(I.ep, ev, 512, ms);
    for (int i = 0; i < n; i++) {
        visitor_t *v = ev[i].data.ptr;
        if (v->failed || v->state == S_CLOSED)
            continue; /* an earlier event of this turn ended it */
        if (v->state == S_CONNECTING)
            on_connected(v);
        else
            on_readable(v);
    }
}

/* ---- passes ---- */

typedef struct pass {
    size_t asked, started, done;
    uint64_t t0, t_end; /* the first start, the last finish */
    const char *stop;   /* why the pass ended early, or NULL */
} pass_t;

/* Run the errand for vs[0..n) in waves of `wave`.  A wave ends when each of
 * its visitors is done or has failed (VISIT_WAIT at most); the pass stops at
 * the cap, at the RSS cap, or when most of a wave failed. */
static pass_t
run_pass(visitor_t **vs, size_t n, int errand, size_t wave)
{
    pass_t p = {.asked = n, .t0 = bench_now_ns()};
    uint64_t cap = p.t0 + (uint64_t)(I.o->cap_s * 1e9);
    p.t_end = p.t0;
    while (p.started < n && p.stop == NULL) {
        if (bench_now_ns() >= cap) {
            p.stop = "the time cap";
            break;
        }
        if (host_over()) {
            p.stop = "the host's RSS cap";
            break;
        }
        size_t first = p.started, k = n - first < wave ? n - first : wave;
        for (size_t i = first; i < first + k; i++)
            visitor_start(vs[i], errand);
        p.started += k;
        uint64_t wave_end = bench_now_ns() + VISIT_WAIT;
        for (;;) {
            size_t waiting = 0;
            for (size_t i = first; i < first + k; i++)
                waiting += !vs[i]->failed && !vs[i]->done;
            if (waiting == 0)
                break;
            if (bench_now_ns() >= wave_end) {
                for (size_t i = first; i < first + k; i++)
                    if (!vs[i]->failed && !vs[i]->done)
                        visitor_fail(vs[i], "errand not done within 10 s");
                break;
            }
            turn(wave == 1 ? 1 : 5);
        }
        size_t bad = 0;
        for (size_t i = first; i < first + k; i++) {
            bad += vs[i]->failed;
            if (vs[i]->done) {
                p.done++;
                uint64_t t = vs[i]->t_answer ? vs[i]->t_answer : vs[i]->t_text;
                if (t > p.t_end)
                    p.t_end = t;
            }
        }
        if (bad * 2 > k)
            p.stop = "most of a wave failed";
    }
    return p;
}

/* Latencies of the done visitors of vs[0..n): from the start to the first
 * text frame (`first` 0) or to the first frame of any kind (1). */
static json_t *
latency(visitor_t **vs, size_t n, int any, bench_stats_t *st)
{
    uint64_t *s = calloc(n + 1, sizeof(*s));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (vs[i]->done)
            s[k++] = (any ? vs[i]->t_first : vs[i]->t_text) - vs[i]->t_start;
    bench_stats_compute(s, k, 0, st);
    free(s);
    return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f}", "n", (json_int_t)k, "median_us", st->median_us, "p90_us", st->p90_us, "p99_us",
                     st->p99_us, "max_us", st->max_us, "min_us", st->min_us);
}

static json_t *
pass_json(const pass_t *p)
{
    double el = (double)(p->t_end - p->t0) / 1e9;
    json_t *j = json_pack("{s:I,s:I,s:I,s:f,s:f}", "asked", (json_int_t)p->asked, "started", (json_int_t)p->started, "done",
                          (json_int_t)p->done, "elapsed_s", el, "per_s", el > 0 ? (double)p->done / el : 0.0);
    if (p->stop)
        json_object_set_new(j, "stopped_by", json_string(p->stop));
    return j;
}

/* Wait until the host's CPU time stands (nearly) still: under 5 % of a CPU
 * for a second, so a queue of saves it drains across loop turns is written
 * before the next measurement.  At most cap; the time it took. */
static double
host_idle(uint64_t cap)
{
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t t0 = bench_now_ns(), end = t0 + cap;
    long long last = bench_proc_cpu_ticks(I.o->pid);
    while (bench_now_ns() < end) {
        usleep(1000000);
        long long now = bench_proc_cpu_ticks(I.o->pid);
        if (now < 0 || last < 0 || (double)(now - last) < 0.05 * (double)hz)
            break;
        last = now;
    }
    return (double)(bench_now_ns() - t0) / 1e9;
}

/* How long a wait for the host to settle may take: a smoke run has a CI
 * test's timeout to keep. */
static uint64_t
settle_cap(void)
{
    return I.o->smoke ? 10 * SEC : 30 * SEC;
}

/* Read frames until none has come for quiet_ms: the welcome backlogs are in. */
static void
quiet(unsigned quiet_ms, uint64_t cap)
{
    uint64_t end = bench_now_ns() + cap;
    while (bench_now_ns() < end) {
        struct epoll_event ev;
        if (epoll_wait(I.ep, &ev, 1, 0) == 0) {
            usleep(quiet_ms * 1000);
            if (epoll_wait(I.ep, &ev, 1, 0) == 0)
                return;
        }
        turn(10);
    }
}

static long long disk_files, disk_bytes;

static int
disk_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
    if (flag == FTW_F) {
        disk_files++;
        disk_bytes += sb->st_size;
    }
    return 0;
}

/* What the host keeps in its data_dir: files and bytes (-1: not counted). */
static json_t *
disk_json(void)
{
    disk_files = disk_bytes = 0;
    if (I.o->data_dir == NULL || nftw(I.o->data_dir, disk_one, 16, FTW_PHYS) != 0)
        return json_pack("{s:I,s:I}", "files", (json_int_t)-1, "bytes", (json_int_t)-1);
    return json_pack("{s:I,s:I}", "files", (json_int_t)disk_files, "bytes", (json_int_t)disk_bytes);
}

/* ---- the scenarios ---- */

/* A range of the visitor array as pointers, in order or in the order given. */
static visitor_t **
range(size_t from, size_t n)
{
    visitor_t **vs = calloc(n + 1, sizeof(*vs));
    for (size_t i = 0; i < n; i++)
        vs[i] = &I.v[from + i];
    return vs;
}

/* Two visitors one after the other: each must get a game and a cookie of its
 * own.  A host without per-visitor instances refuses the second (the one IF
 * seat is taken) or hands both the same seat. */
static const char *
probe(size_t at)
{
    visitor_t **vs = range(at, 2);
    pass_t p = run_pass(vs, 2, E_PLAY, 1);
    static char why[320];
    const char *r = NULL;
    if (p.done != 2) {
        snprintf(why, sizeof(why), "the host gives a second visitor no game of its own: %s", I.error);
        r = why;
    } else if (strcmp(vs[0]->cookie, vs[1]->cookie) == 0) {
        r = "two visitors got the same tale_session cookie";
    } else if (vs[0]->t_answer == 0) {
        r = "a visitor's command got no answer";
    }
    free(vs);
    return r;
}

static json_t *
sc_rss(size_t at, size_t n, long rss0, long fds0)
{
    visitor_t **vs = range(at, n);
    pass_t p = run_pass(vs, n, E_STAY, I.o->wave);
    quiet(1000, settle_cap());
    long rss_conn = bench_proc_rss_kib(I.o->pid), fds_conn = bench_proc_fds(I.o->pid);
    for (size_t i = 0; i < n; i++)
        if (vs[i]->done && !vs[i]->failed)
            drop(vs[i], 0);
    /* The connections go; the instances stay live.  Wait until the fds are
     * back and RSS has held still for 3 s (the host trims freed memory
     * periodically), at most 30 s (smoke: 10 s). */
    long rss = rss_conn, fds = fds_conn;
    bench_wait_settled(I.o->pid, fds0, 0, bench_now_ns() + settle_cap(), &rss, &fds);
    double per_conn = p.done ? (double)(rss_conn - rss0) / (double)p.done : 0;
    double per_live = p.done ? (double)(rss - rss0) / (double)p.done : 0;
    printf("if-rss         %zu of %zu games: RSS %ld KiB before, %ld KiB with them connected (%.1f KiB each), %ld KiB live with "
           "their connections closed (%.1f KiB each); fds %ld -> %ld -> %ld%s%s\n",
           p.done, n, rss0, rss_conn, per_conn, rss, per_live, fds0, fds_conn, fds, p.stop ? "; stopped by " : "",
           p.stop ? p.stop : "");
    json_t *j = json_pack("{s:b,s:I,s:I,s:I,s:f,s:I,s:f,s:I,s:I,s:I}", "ok", p.done > 0 && rss > 0, "games", (json_int_t)p.done,
                          "rss_start_kib", (json_int_t)rss0, "rss_connected_kib", (json_int_t)rss_conn, "kib_per_game_connected",
                          per_conn, "rss_live_kib", (json_int_t)rss, "kib_per_game_live", per_live, "fds_start", (json_int_t)fds0,
                          "fds_connected", (json_int_t)fds_conn, "fds_end", (json_int_t)fds);
    json_object_set_new(j, "pass", pass_json(&p));
    free(vs);
    return j;
}

static json_t *
sc_visitors(size_t at, size_t n)
{
    visitor_t **vs = range(at, n);
    pass_t p = run_pass(vs, n, E_FIRST, I.o->wave);
    bench_stats_t st, pg;
    json_t *lat = latency(vs, n, 0, &st);
    uint64_t *s = calloc(n + 1, sizeof(*s));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (vs[i]->done)
            s[k++] = vs[i]->t_page - vs[i]->t_start;
    bench_stats_compute(s, k, 0, &pg);
    free(s);
    double el = (double)(p.t_end - p.t0) / 1e9, rate = el > 0 ? (double)p.done / el : 0;
    printf("if-visitors    %zu of %zu new visitors in %.1f s: %.0f visitors/s; visit (GET %s + WebSocket + first text) median "
           "%.2f ms, p99 %.2f ms; the page alone median %.2f ms%s%s\n",
           p.done, n, el, rate, I.o->page, st.median_us / 1000, st.p99_us / 1000, pg.median_us / 1000,
           p.stop ? "; stopped by " : "", p.stop ? p.stop : "");
    json_t *j =
        json_pack("{s:b,s:f,s:o,s:f}", "ok", p.done > 0, "visitors_per_s", rate, "visit", lat, "page_median_us", pg.median_us);
    json_object_set_new(j, "pass", pass_json(&p));
    free(vs);
    return j;
}

/* if-return: n games created (each plays a command and closes); with
 * `live` of them in memory at most, the rest go to disk.  Then each comes
 * back once: the last `live` created first (still live if the host evicts
 * the least recently used), then the others (restored from disk).  Which
 * were live is told by that order only. */
static json_t *
sc_return(size_t at, size_t n, size_t live)
{
    if (live > n)
        live = n;
    visitor_t **vs = range(at, n);
    pass_t made = run_pass(vs, n, E_PLAY, I.o->wave);
    bench_stats_t mk;
    json_t *made_lat = latency(vs, n, 0, &mk);
    double idle_s = host_idle(settle_cap());
    json_t *disk = disk_json();
    double el = (double)(made.t_end - made.t0) / 1e9;
    printf("if-return      made %zu of %zu games (a visit and `%s` each) in %.1f s: %.0f/s; host idle %.1f s later; data_dir: %lld "
           "files, %.1f MiB%s%s\n",
           made.done, n, I.o->cmd, el, el > 0 ? (double)made.done / el : 0, idle_s, disk_files, (double)disk_bytes / 1048576.0,
           made.stop ? "; stopped by " : "", made.stop ? made.stop : "");
    /* The order of return: the live ones first, so returning the others
     * (each restore evicts one) cannot evict them before their turn. */
    visitor_t **back = calloc(n + 1, sizeof(*back));
    size_t k = 0;
    for (size_t i = n - live; i < n; i++)
        if (vs[i]->done)
            back[k++] = vs[i];
    size_t k_live = k;
    for (size_t i = 0; i < n - live; i++)
        if (vs[i]->done)
            back[k++] = vs[i];
    pass_t p1 = run_pass(back, k_live, E_RETURN, I.o->wave);
    pass_t p2 = run_pass(back + k_live, k - k_live, E_RETURN, I.o->wave);
    bench_stats_t all, lv, rs, any;
    json_t *j_all = latency(back, k, 0, &all), *j_live = latency(back, k_live, 0, &lv),
           *j_rest = latency(back + k_live, k - k_live, 0, &rs), *j_any = latency(back, k, 1, &any);
    size_t done = p1.done + p2.done;
    printf("if-return      %zu of %zu came back (WebSocket with the cookie -> first text): median %.2f ms, p99 %.2f ms; the %zu "
           "live: median %.2f ms, p99 %.2f ms; the %zu restored: median %.2f ms, p99 %.2f ms; first frame of any kind median "
           "%.2f ms%s%s\n",
           done, k, all.median_us / 1000, all.p99_us / 1000, lv.n, lv.median_us / 1000, lv.p99_us / 1000, rs.n, rs.median_us / 1000,
           rs.p99_us / 1000, any.median_us / 1000, p1.stop || p2.stop ? "; stopped by " : "",
           p1.stop   ? p1.stop
           : p2.stop ? p2.stop
                     : "");
    json_t *j = json_pack("{s:b,s:I,s:I,s:o,s:o,s:f,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "ok", done > 0, "games", (json_int_t)n, "live",
                          (json_int_t)live, "make", pass_json(&made), "make_visit", made_lat, "host_idle_s", idle_s, "disk", disk,
                          "return", j_all, "return_live", j_live, "return_restored", j_rest, "return_first_frame", j_any,
                          "pass_live", pass_json(&p1), "pass_restored", pass_json(&p2));
    free(back);
    free(vs);
    return j;
}

/* if-restore: evicted games come back one at a time, nothing else going on.
 * Then the same games, live now, come back once more the same way: the
 * difference is the host's restore, the rest is the connection's own cost. */
static json_t *
sc_restore(size_t at, size_t n)
{
    double idle_s = host_idle(settle_cap());
    visitor_t **vs = calloc(n + 1, sizeof(*vs));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (I.v[at + i].cookie[0] && !I.v[at + i].failed)
            vs[k++] = &I.v[at + i];
    pass_t p = run_pass(vs, k, E_RETURN, 1);
    bench_stats_t st, any, lv;
    json_t *lat = latency(vs, k, 0, &st), *first = latency(vs, k, 1, &any);
    size_t k_live = 0;
    for (size_t i = 0; i < k; i++)
        if (vs[i]->done)
            vs[k_live++] = vs[i];
    pass_t pl = run_pass(vs, k_live, E_RETURN, 1);
    json_t *live = latency(vs, k_live, 0, &lv);
    printf("if-restore     %zu of %zu evicted games restored one at a time (connect with the cookie -> first text, client side, "
           "loopback): median %.0f us, p90 %.0f us, p99 %.0f us; first frame of any kind median %.0f us; the same %zu games "
           "again, live: median %.0f us (host idle %.1f s before)%s%s\n",
           p.done, k, st.median_us, st.p90_us, st.p99_us, any.median_us, pl.done, lv.median_us, idle_s,
           p.stop ? "; stopped by " : "", p.stop ? p.stop : "");
    json_t *j = json_pack("{s:b,s:o,s:o,s:o,s:f}", "ok", p.done > 0, "restore", lat, "first_frame", first, "live_again", live,
                          "host_idle_s", idle_s);
    json_object_set_new(j, "pass", pass_json(&p));
    free(vs);
    return j;
}

/* ---- targets (issue #14) ---- */

static json_t *
targets(json_t *sc, int judged)
{
    json_t *arr = json_array();
    struct {
        const char *what, *scenario, *key, *sub;
        double limit;
        int at_least;
        double scale;
        const char *unit;
    } t[] = {
        {"new visitors >= 2,000/s", "if-visitors", "visitors_per_s", NULL, 2000, 1, 1, "/s"},
        {"return first frame p99 <= 10 ms", "if-return", "return", "p99_us", 10, 0, 1e-3, " ms"},
        {"RSS with the live games <= 64 MiB", "if-rss", "rss_live_kib", NULL, 64, 0, 1.0 / 1024, " MiB"},
        {"restore median <= 200 us", "if-restore", "restore", "median_us", 200, 0, 1, " us"},
    };
    printf("targets (issue #14)%s\n", judged ? "" : ": smaller counts than the issue's, not judged");
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        json_t *v = json_object_get(json_object_get(sc, t[i].scenario), t[i].key);
        if (t[i].sub)
            v = json_object_get(v, t[i].sub);
        const char *verdict = "no figure";
        double x = 0;
        if (json_is_number(v)) {
            x = json_number_value(v) * t[i].scale;
            verdict = !judged ? "-" : (t[i].at_least ? x >= t[i].limit : x <= t[i].limit) ? "met" : "MISSED";
        }
        printf("  %-36s %-9s %.1f%s\n", t[i].what, verdict, x, t[i].unit);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:f}", "target", t[i].what, "verdict", verdict, "value", x));
    }
    return arr;
}

int
bench_inst_run(const bench_inst_opts_t *o)
{
    memset(&I, 0, sizeof(I));
    I.o = o;
    I.cap = (bench_rss_cap_t){.pid = o->pid, .cap_mib = o->rss_cap_mib};
    size_t warm = o->live / 50 < 20 ? (o->live / 50 > 2 ? o->live / 50 : 2) : 20;
    size_t restores = o->restores < o->live ? o->restores : o->live;
    if (restores > o->stored)
        restores = o->stored;
    /* The visitors, in the order the passes use them: the probe's two, the
     * warm-up, if-rss, if-visitors, if-return (if-restore comes back as some of if-return's). */
    size_t at_warm = 2, at_rss = at_warm + warm, at_vis = at_rss + o->live, at_ret = at_vis + o->visitors;
    I.n = at_ret + o->stored;
    I.v = calloc(I.n, sizeof(visitor_t));
    I.ep = epoll_create1(EPOLL_CLOEXEC);
    if (I.v == NULL || I.ep < 0) {
        fprintf(stderr, "tale-bench: instances: %s\n", strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < I.n; i++)
        I.v[i].fd = -1;
    printf("\nIF instances: %zu stored games, %zu live at most, %zu new visitors, waves of %zu, host pid %d\n", o->stored, o->live,
           o->visitors, o->wave, (int)o->pid);
    fflush(stdout);
    const char *missing = probe(0);
    if (missing != NULL) {
        printf("if-*           feature missing: %s\n", missing);
        json_t *root = json_pack("{s:s,s:s}", "tool", "tale-bench", "feature_missing", missing);
        if (o->json_path)
            json_dump_file(root, o->json_path, JSON_INDENT(2));
        json_decref(root);
        free(I.v);
        close(I.ep);
        return 3;
    }
    /* Warm-up: a few games made and closed, so the start of if-rss is a host
     * that has served visitors (code faulted in, pools made), not one fresh
     * from exec. */
    visitor_t **wv = range(at_warm, warm);
    run_pass(wv, warm, E_PLAY, o->wave);
    free(wv);
    host_idle(10 * SEC);
    long rss0 = bench_proc_rss_kib(o->pid), fds0 = bench_proc_fds(o->pid);

    json_t *sc = json_object();
    fprintf(stderr, "tale-bench: if-rss\n");
    json_object_set_new(sc, "if-rss", sc_rss(at_rss, o->live, rss0, fds0));
    fflush(stdout);
    fprintf(stderr, "tale-bench: if-visitors\n");
    json_object_set_new(sc, "if-visitors", sc_visitors(at_vis, o->visitors));
    fflush(stdout);
    fprintf(stderr, "tale-bench: if-return\n");
    json_object_set_new(sc, "if-return", sc_return(at_ret, o->stored, o->live));
    fflush(stdout);
    /* The live games came back first, so they were evicted since: restore those. */
    fprintf(stderr, "tale-bench: if-restore\n");
    size_t live = o->live < o->stored ? o->live : o->stored;
    json_object_set_new(sc, "if-restore", sc_restore(at_ret + o->stored - live, restores));
    fflush(stdout);

    int ok = 1;
    const char *key;
    json_t *v;
    json_object_foreach(sc, key, v) ok = ok && json_is_true(json_object_get(v, "ok"));
    /* The targets are for its counts: smaller runs are not judged. */
    int judged = !o->smoke && o->stored >= 10000 && o->live >= 1000 && o->visitors >= 5000;
    json_t *root = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:b}", "tool", "tale-bench", "stored", (json_int_t)o->stored, "live",
                             (json_int_t)o->live, "visitors", (json_int_t)o->visitors, "wave", (json_int_t)o->wave, "nproc",
                             (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "smoke", o->smoke);
    json_object_set_new(root, "targets", targets(sc, judged));
    json_object_set_new(root, "instances", sc);
    json_object_set_new(root, "host_rss_peak_kib", json_integer(I.cap.peak));
    json_object_set_new(root, "failed_visitors", json_integer((json_int_t)I.failed));
    if (I.new_cookie)
        json_object_set_new(root, "returns_given_another_game", json_integer((json_int_t)I.new_cookie));
    if (I.error[0]) {
        json_object_set_new(root, "first_error", json_string(I.error));
        printf("first failure: %s (%zu visitors failed in all)\n", I.error, I.failed);
    }
    if (o->json_path && json_dump_file(root, o->json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        fprintf(stderr, "tale-bench: cannot write %s\n", o->json_path);
    json_decref(root);
    for (size_t i = 0; i < I.n; i++)
        if (I.v[i].state != S_CLOSED && I.v[i].fd >= 0)
            drop(&I.v[i], 1);
    free(I.v);
    close(I.ep);
    return ok ? 0 : 1;
}
