/*
 * main.c - tale-bench: runs every scenario against a running tale-host and
 * prints one table (ratios against a raw TCP ping-pong) plus a JSON file.
 *
 *   tale-bench --port P --pid PID [--host-bin BIN --config FILE] [--json FILE] [--smoke] ...
 *   tale-bench --port P --pid PID --mud N [--json FILE] ...   (the MUD-scale scenarios, mud.c)
 *   tale-bench --port P --pid PID --instances N [--json FILE] ...   (the IF-instance scenarios, inst.c)
 *
 * Every scenario is bounded in count and in time (--duration per scenario),
 * so a slow or broken server shortens the run instead of hanging it.
 */
#include "bench.h"
#include "tcp_ref.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC 1000000000ull
#define WAIT_PER_OP (5 * SEC) /* one command, connection or answer may take this long at most */

typedef struct opts {
    uint16_t port;
    pid_t pid;
    const char *json_path, *host_bin, *config, *cmd;
    const char *only; /* comma-separated scenario names, NULL: all */
    size_t rtt_count, pipeline_count, window, churn_count, starts;
    double duration_s, idle_s, reap_wait_s;
    int smoke;
} opts_t;

/* ---- results ---- */

typedef struct snap {
    char label[48];
    long rss_kib, fds;
} snap_t;

typedef struct result {
    const char *name;
    const char *unit; /* what `rate` counts per second */
    int ok;
    char error[256];
    bench_stats_t st;
    size_t errors; /* failed operations that were not counted */
    int skipped;   /* could not run on this machine (one CPU): not a failure */
} result_t;

/* The latency rows come twice: client and server on one CPU (the headline:
 * it compares the work), and on two CPUs (what cross-CPU wake-ups add on
 * this machine; place.c).  Each set has its own tcp-ref. */
enum { R_TCP, R_RTT_WS, R_RTT_SSE, R_TCP2, R_RTT_WS2, R_RTT_SSE2, R_PIPE, R_CHURN, R_STARTUP, R_COUNT };
#define IS_LATENCY(i) ((i) <= R_RTT_SSE2)
#define REF_OF(i) ((i) < R_TCP2 ? R_TCP : R_TCP2)
static const char *const row_names[R_COUNT] = {"tcp-ref",      "rtt-ws",      "rtt-sse",  "tcp-ref/2cpu", "rtt-ws/2cpu",
                                               "rtt-sse/2cpu", "pipeline-ws", "churn-ws", "startup"};
/* The --only name each row answers to. */
static const char *const row_tags[R_COUNT] = {"tcp-ref", "rtt-ws",      "rtt-sse",  "tcp-ref", "rtt-ws",
                                              "rtt-sse", "pipeline-ws", "churn-ws", "startup"};

typedef struct run {
    opts_t o;
    result_t r[R_COUNT];
    snap_t snaps[16];
    size_t n_snaps;
    int idle_ok;
    double idle_cpu_pct, idle_window_s;
    size_t req_len, resp_len;                /* the command message and its answer frame, bytes */
    int echo;                                /* the host echoes input: answers carry txt-userinput */
    double churn_first_us, churn_last_us;    /* median connection time of churn's first and last tenth */
    char loadavg_start[64], loadavg_end[64]; /* /proc/loadavg: other work on the machine skews every figure */
} run_t;

static void
read_loadavg(char *out, size_t len)
{
    FILE *f = fopen("/proc/loadavg", "r");
    out[0] = '\0';
    if (f != NULL) {
        if (fgets(out, (int)len, f) == NULL)
            out[0] = '\0';
        fclose(f);
    }
    out[strcspn(out, "\n")] = '\0';
}

static void
snapshot(run_t *run, const char *label)
{
    if (run->n_snaps == sizeof(run->snaps) / sizeof(run->snaps[0]))
        return;
    snap_t *s = &run->snaps[run->n_snaps++];
    snprintf(s->label, sizeof(s->label), "%s", label);
    s->rss_kib = bench_proc_rss_kib(run->o.pid);
    s->fds = bench_proc_fds(run->o.pid);
}

/* ---- one player's view of its frames, shared by the WS and SSE scenarios ---- */

typedef struct player {
    int echo;             /* count only text frames that echo input as answers */
    int connected;        /* {"type":"connected"} seen */
    uint64_t last_seq;    /* newest seq seen */
    size_t frames;        /* every frame with a seq */
    size_t texts;         /* text frames */
    size_t answers;       /* text frames that answer a command */
    size_t last_len;      /* bytes of the newest answer */
    int last_has_echo;    /* the newest answer carried the echoed input */
    size_t last_text_len; /* bytes of the newest text frame, answer or not */
    uint64_t t_answer;    /* when the newest answer was read */
    uint64_t t_frame;     /* when the newest frame was read */
} player_t;

static void
player_frame(player_t *p, const char *type, const char *json, size_t len)
{
    uint64_t seq = bench_json_u64(json, len, "seq");
    p->t_frame = bench_now_ns();
    if (strcmp(type, "connected") == 0) {
        p->connected = 1;
        return;
    }
    if (seq == 0)
        return;
    p->frames++;
    if (seq > p->last_seq)
        p->last_seq = seq;
    if (strcmp(type, "text") != 0)
        return;
    p->texts++;
    p->last_text_len = len;
    /* Tick output (NPC emotes, wanderers) is text too; when the host echoes
     * the command, only a frame with the echo is the answer to it. */
    int has_echo = memmem(json, len, "txt-userinput", 13) != NULL;
    if (p->echo && !has_echo)
        return;
    p->answers++;
    p->last_has_echo = has_echo;
    p->last_len = len;
    p->t_answer = p->t_frame;
}

static void
on_ws_msg(void *ud, const char *msg, size_t len)
{
    char type[32];
    bench_json_str(msg, len, "type", type, sizeof(type));
    player_frame(ud, type, msg, len);
}

static void
on_sse_event(void *ud, const char *event, const char *data, size_t len)
{
    player_frame(ud, event, data, len);
}

/* Read until at least one text frame came and then nothing for quiet_ms: the welcome backlog is in. */
static int
ws_settle(bench_ws_t *ws, player_t *p, unsigned quiet_ms)
{
    uint64_t end_by = bench_now_ns() + WAIT_PER_OP;
    while (bench_now_ns() < end_by) {
        uint64_t quiet_until = p->texts ? p->t_frame + quiet_ms * 1000000ull : end_by;
        int r = bench_ws_pump(ws, quiet_until < end_by ? quiet_until : end_by);
        if (r < 0)
            return -1;
        if (r == 0 && p->texts > 0)
            return 0;
    }
    return -1;
}

static bench_ws_t *
ws_open_settled(run_t *run, player_t *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->echo = run->echo;
    bench_ws_t *ws = bench_ws_open(run->o.port, "/tale/ws", NULL, on_ws_msg, p, bench_now_ns() + WAIT_PER_OP, err, errlen);
    if (ws == NULL)
        return NULL;
    if (ws_settle(ws, p, 50) != 0) {
        snprintf(err, errlen, "no welcome text frame within %llu s", WAIT_PER_OP / SEC);
        bench_ws_close(ws);
        return NULL;
    }
    return ws;
}

/* Send cmd and wait for its answer; latency in *ns.  0 or -1. */
static int
ws_command(bench_ws_t *ws, player_t *p, const char *msg, size_t len, uint64_t *ns)
{
    size_t before = p->answers;
    uint64_t t0 = bench_now_ns(), deadline = t0 + WAIT_PER_OP;
    if (bench_ws_send_text(ws, msg, len, deadline) != 0)
        return -1;
    while (p->answers == before)
        if (bench_ws_pump(ws, deadline) <= 0)
            return -1;
    *ns = p->t_answer - t0;
    return 0;
}

/* ---- scenarios ---- */

/* Unmeasured rounds before a latency scenario: a tenth of the count, at most 100. */
static size_t
warmup_rounds(size_t count)
{
    return count / 10 < 100 ? count / 10 : 100;
}

/* One command on a fresh connection tells the sizes for tcp-ref and whether
 * answers echo the input (then tick frames can be told apart from answers). */
static int
probe(run_t *run, const char *msg, size_t len)
{
    char err[256];
    player_t p;
    run->echo = 0;
    bench_ws_t *ws = ws_open_settled(run, &p, err, sizeof(err));
    if (ws == NULL) {
        fprintf(stderr, "tale-bench: probe: %s\n", err);
        return -1;
    }
    /* Look for an answer that echoes the input for up to a second: a tick
     * frame that happens to arrive first must not decide this. */
    size_t texts = p.texts;
    p.answers = 0; /* the welcome counted as answers while p.echo was 0 */
    uint64_t deadline = bench_now_ns() + SEC;
    int rc = bench_ws_send_text(ws, msg, len, deadline);
    p.echo = 1;
    while (rc == 0 && p.answers == 0 && bench_now_ns() < deadline)
        if (bench_ws_pump(ws, deadline) < 0)
            rc = -1;
    if (rc == 0 && p.answers > 0) {
        run->echo = 1;
        run->resp_len = p.last_len;
    } else if (rc == 0 && p.texts > texts) {
        run->resp_len = p.last_text_len; /* no echo: any text frame answers */
    } else {
        rc = -1;
    }
    run->req_len = len;
    bench_ws_close(ws);
    return rc;
}

/* POST one command and wait both for its answer on the stream and for the
 * POST's own response (it must be read before the next request).  0 or -1. */
static int
sse_command(bench_sse_t *es, bench_http_t *h, player_t *p, const char *body, size_t bl, uint64_t *ns, char *err, size_t errlen)
{
    size_t before = p->answers;
    int status = 0, have_resp = 0;
    uint64_t t0 = bench_now_ns(), deadline = t0 + WAIT_PER_OP;
    if (bench_http_post(h, "/tale/input", bench_sse_cookie(es), body, bl, deadline) != 0) {
        snprintf(err, errlen, "POST failed");
        return -1;
    }
    while ((p->answers == before || !have_resp) && bench_now_ns() < deadline) {
        struct pollfd pf[2] = {{.fd = bench_sse_fd(es), .events = POLLIN}, {.fd = bench_http_fd(h), .events = POLLIN}};
        if (poll(pf, 2, (int)((deadline - bench_now_ns()) / 1000000 + 1)) < 0 && errno != EINTR)
            break;
        if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && bench_sse_read(es) < 0)
            break;
        if ((pf[1].revents & (POLLIN | POLLHUP | POLLERR)) && !have_resp) {
            int hr = bench_http_read_response(h, &status);
            if (hr < 0)
                break;
            have_resp = hr;
        }
    }
    if (p->answers == before || !have_resp || status / 100 != 2) {
        if (have_resp && status / 100 != 2)
            snprintf(err, errlen, "POST /tale/input refused with status %d", status);
        else
            snprintf(err, errlen, "%s", !have_resp ? "no POST response" : "no answer on the event stream");
        return -1;
    }
    *ns = p->t_answer - t0;
    return 0;
}

/* One latency scenario's open connection(s): tcp-ref, rtt-ws or rtt-sse. */
typedef struct lat {
    int kind;       /* R_TCP, R_RTT_WS, R_RTT_SSE */
    int server_cpu; /* where tcp-ref's echo process runs (-1: anywhere) */
    result_t *r;
    uint64_t *s;
    size_t n;
    uint64_t busy_ns; /* time spent in this scenario's own rounds: its rate is n / busy */
    int live;
    tale_bench_tcp_ref_t *tcp;
    bench_ws_t *ws;
    bench_sse_t *es;
    bench_http_t *h;
    player_t p;
    const char *msg;
    size_t len;
    char body[512];
    int bl;
} lat_t;

static int
lat_round(lat_t *l, uint64_t *ns)
{
    switch (l->kind) {
    case R_TCP:
        if (tale_bench_tcp_ref_round(l->tcp, ns) != 0) {
            snprintf(l->r->error, sizeof(l->r->error), "ping-pong failed after %zu round trips", l->n);
            return -1;
        }
        return 0;
    case R_RTT_WS:
        if (ws_command(l->ws, &l->p, l->msg, l->len, ns) != 0) {
            snprintf(l->r->error, sizeof(l->r->error), "command %zu got no answer", l->n + 1);
            return -1;
        }
        return 0;
    default:
        return sse_command(l->es, l->h, &l->p, l->body, (size_t)l->bl, ns, l->r->error, sizeof(l->r->error));
    }
}

static int
lat_open(run_t *run, lat_t *l, result_t *r, const char *msg, size_t len)
{
    l->msg = msg;
    l->len = len;
    l->r = r;
    char *err = l->r->error;
    size_t errlen = sizeof(l->r->error);
    if (l->kind == R_TCP) {
        if ((l->tcp = tale_bench_tcp_ref_open(run->req_len, run->resp_len, l->server_cpu)) == NULL)
            snprintf(err, errlen, "cannot start the echo server: %s", strerror(errno));
        return l->tcp ? 0 : -1;
    }
    if (l->kind == R_RTT_WS) {
        l->ws = ws_open_settled(run, &l->p, err, errlen);
        return l->ws ? 0 : -1;
    }
    l->p.echo = run->echo;
    uint64_t deadline = bench_now_ns() + WAIT_PER_OP;
    if ((l->es = bench_sse_open(run->o.port, "/tale/eventsource", on_sse_event, &l->p, deadline, err, errlen)) == NULL ||
        (l->h = bench_http_open(run->o.port, err, errlen)) == NULL)
        return -1;
    l->bl = bench_form_body(run->o.cmd, l->body, sizeof(l->body));
    /* Welcome text first: read until it came and the stream went quiet. */
    while (bench_now_ns() < deadline) {
        uint64_t until = l->p.texts ? l->p.t_frame + 50000000ull : deadline;
        int w = bench_wait_readable(bench_sse_fd(l->es), until < deadline ? until : deadline);
        if (w < 0 || (w > 0 && bench_sse_read(l->es) < 0)) {
            snprintf(err, errlen, "event stream closed before the welcome text");
            return -1;
        }
        if (w == 0 && l->p.texts > 0)
            return 0;
    }
    snprintf(err, errlen, "no welcome text on the event stream");
    return -1;
}

static void
lat_close(lat_t *l)
{
    tale_bench_tcp_ref_close(l->tcp);
    bench_ws_close(l->ws);
    bench_http_close(l->h);
    bench_sse_close(l->es);
    free(l->s);
}

/*
 * tcp-ref, rtt-ws and rtt-sse, interleaved in blocks of LAT_BLOCK round trips.
 * This machine is shared (other builds, other tests): run one after the
 * other, a burst of load would land on one scenario and skew the ratios.
 * Interleaved, all three see the same conditions.  `first` is R_TCP (all
 * on one CPU) or R_TCP2 (the client on one CPU, the host and the echo
 * process on the other); the host is pinned for the scenario and let go
 * afterwards.
 */
#define LAT_BLOCK 50

static void
sc_latency(run_t *run, const char *msg, size_t len, const int want[3], int first)
{
    lat_t l[3] = {{.kind = R_TCP}, {.kind = R_RTT_WS}, {.kind = R_RTT_SSE}};
    size_t count = run->o.rtt_count, warm = warmup_rounds(count);
    int a, b, two = first == R_TCP2;
    if (bench_cpu_pair(&a, &b) != 0 && two) {
        for (int i = 0; i < 3; i++) {
            run->r[first + i].skipped = 1;
            snprintf(run->r[first + i].error, sizeof(run->r[first + i].error), "skipped: this process may use one CPU only");
        }
        return;
    }
    int server = two ? b : a;
    if (bench_place(run->o.pid, a, server) != 0)
        fprintf(stderr, "tale-bench: cannot pin the host and the client (%s); they run where the scheduler puts them\n",
                strerror(errno));
    for (int i = 0; i < 3; i++) {
        if (!want[i])
            continue;
        l[i].server_cpu = server;
        l[i].live = lat_open(run, &l[i], &run->r[first + i], msg, len) == 0;
        l[i].s = calloc(count, sizeof(uint64_t));
        /* Unmeasured warm-up rounds first: page faults, first allocations, caches. */
        uint64_t ns;
        for (size_t k = 0; l[i].live && k < warm; k++)
            l[i].live = lat_round(&l[i], &ns) == 0;
    }
    uint64_t end_by = bench_now_ns() + (uint64_t)(3 * run->o.duration_s * 1e9);
    for (int more = 1; more && bench_now_ns() < end_by;) {
        more = 0;
        for (int i = 0; i < 3; i++) {
            uint64_t t0 = bench_now_ns();
            for (int k = 0; l[i].live && k < LAT_BLOCK && l[i].n < count; k++) {
                if (lat_round(&l[i], &l[i].s[l[i].n]) != 0)
                    l[i].live = 0;
                else
                    l[i].n++;
            }
            l[i].busy_ns += bench_now_ns() - t0;
            more |= l[i].live && l[i].n < count;
        }
    }
    for (int i = 0; i < 3; i++) {
        if (!want[i])
            continue;
        bench_stats_compute(l[i].s, l[i].n, l[i].busy_ns, &l[i].r->st);
        l[i].r->ok = l[i].n > 0 && l[i].r->error[0] == '\0';
        lat_close(&l[i]);
    }
    bench_place_restore();
}

static void
sc_pipeline_ws(run_t *run, const char *msg, size_t len)
{
    result_t *r = &run->r[R_PIPE];
    r->unit = "frames/s";
    player_t p;
    bench_ws_t *ws = ws_open_settled(run, &p, r->error, sizeof(r->error));
    if (ws == NULL)
        return;
    size_t total = run->o.pipeline_count, sent = 0, base = p.answers;
    /* Per-command latency under load: when each answer arrives, counted from its send. */
    uint64_t *sent_at = calloc(total, sizeof(uint64_t)), *s = calloc(total, sizeof(uint64_t));
    uint64_t start = bench_now_ns(), end_by = start + (uint64_t)(run->o.duration_s * 1e9), last_progress = start;
    size_t got = 0;
    while (got < total && bench_now_ns() < end_by) {
        while (sent < total && sent - got < run->o.window) {
            sent_at[sent] = bench_now_ns();
            if (bench_ws_send_text(ws, msg, len, bench_now_ns() + WAIT_PER_OP) != 0) {
                snprintf(r->error, sizeof(r->error), "send %zu failed", sent + 1);
                goto done;
            }
            sent++;
        }
        int pr = bench_ws_pump(ws, bench_now_ns() + WAIT_PER_OP);
        if (pr < 0) {
            snprintf(r->error, sizeof(r->error), "connection failed after %zu answers", got);
            break;
        }
        size_t now_got = p.answers - base;
        if (now_got > sent)
            now_got = sent; /* more answers than commands: an unrecognised tick frame; never count it */
        for (; got < now_got; got++)
            s[got] = p.t_answer - sent_at[got];
        if (pr > 0)
            last_progress = bench_now_ns();
        else if (bench_now_ns() - last_progress > WAIT_PER_OP) {
            snprintf(r->error, sizeof(r->error), "stalled after %zu of %zu answers", got, sent);
            break;
        }
    }
done:
    bench_stats_compute(s, got, bench_now_ns() - start, &r->st);
    r->ok = got > 0 && r->error[0] == '\0';
    free(s);
    free(sent_at);
    bench_ws_close(ws);
}

/*
 * Connection churn of a returning player: connect, handshake, first frame,
 * close, again and again.  The first connection takes a seat; every later one
 * presents its cookie and ?resume=<newest seq - 1>, so it gets exactly one
 * held frame back, the way a page that reloads or reconnects does.  This
 * measures the transport and the resume path; creating a new seat per
 * connection would measure the engine's player joins instead (each a room
 * broadcast), which is not what a connection costs.
 */
static void
sc_churn_ws(run_t *run)
{
    result_t *r = &run->r[R_CHURN];
    r->unit = "conn/s";
    uint64_t *s = calloc(run->o.churn_count, sizeof(*s)), start = bench_now_ns(),
             end_by = start + (uint64_t)(run->o.duration_s * 1e9);
    size_t n = 0;
    char err[256], cookie[256] = "", path[64] = "/tale/ws";
    uint64_t last_seq = 0;
    while (n < run->o.churn_count && bench_now_ns() < end_by) {
        player_t p = {0};
        uint64_t t0 = bench_now_ns(), deadline = t0 + WAIT_PER_OP;
        if (last_seq > 1)
            snprintf(path, sizeof(path), "/tale/ws?resume=%llu", (unsigned long long)(last_seq - 1));
        bench_ws_t *ws = bench_ws_open(run->o.port, path, cookie[0] ? cookie : NULL, on_ws_msg, &p, deadline, err, sizeof(err));
        if (ws == NULL) {
            snprintf(r->error, sizeof(r->error), "connection %zu: %.200s", n + 1, err);
            break;
        }
        /* The first held frame proves the seat was found and resumed. */
        while (p.frames == 0)
            if (bench_ws_pump(ws, deadline) <= 0)
                break;
        if (cookie[0] == '\0')
            snprintf(cookie, sizeof(cookie), "%s", bench_ws_cookie(ws));
        if (p.last_seq > last_seq)
            last_seq = p.last_seq;
        bench_ws_close(ws);
        if (p.frames == 0) {
            snprintf(r->error, sizeof(r->error), "connection %zu: no first frame", n + 1);
            break;
        }
        s[n++] = bench_now_ns() - t0;
    }
    uint64_t elapsed = bench_now_ns() - start;
    /* Does a connection cost more as more players have come and gone?  Compare the ends. */
    size_t tenth = n / 10 ? n / 10 : n;
    if (n > 0) {
        bench_stats_t a, b;
        uint64_t *tmp = calloc(tenth, sizeof(*tmp));
        memcpy(tmp, s, tenth * sizeof(*tmp));
        bench_stats_compute(tmp, tenth, 0, &a);
        memcpy(tmp, s + n - tenth, tenth * sizeof(*tmp));
        bench_stats_compute(tmp, tenth, 0, &b);
        run->churn_first_us = a.median_us;
        run->churn_last_us = b.median_us;
        free(tmp);
    }
    bench_stats_compute(s, n, elapsed, &r->st);
    r->ok = n > 0 && r->error[0] == '\0';
    free(s);
}

static void
sc_idle_cpu(run_t *run)
{
    player_t p;
    char err[256];
    bench_ws_t *ws = ws_open_settled(run, &p, err, sizeof(err));
    if (ws == NULL) {
        fprintf(stderr, "tale-bench: idle: %s\n", err);
        return;
    }
    long long c0 = bench_proc_cpu_ticks(run->o.pid);
    uint64_t t0 = bench_now_ns(), end = t0 + (uint64_t)(run->o.idle_s * 1e9);
    /* Keep reading: tick output (emotes) must not pile up unread. */
    while (bench_now_ns() < end)
        if (bench_ws_pump(ws, end) < 0)
            break;
    long long c1 = bench_proc_cpu_ticks(run->o.pid);
    double el = (double)(bench_now_ns() - t0) / 1e9;
    if (c0 >= 0 && c1 >= 0 && el > 0) {
        run->idle_ok = 1;
        run->idle_window_s = el;
        run->idle_cpu_pct = 100.0 * (double)(c1 - c0) / (double)sysconf(_SC_CLK_TCK) / el;
    }
    bench_ws_close(ws);
}

/* Start the host, wait for "listening on http://127.0.0.1:PORT" on its
 * stderr and a successful connect, then SIGTERM it.  Latency in *ns. */
static int
start_once(const opts_t *o, uint64_t *ns, char *err, size_t errlen)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    uint64_t t0 = bench_now_ns(), deadline = t0 + 10 * SEC;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pfd[1], 2);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        execl(o->host_bin, o->host_bin, "--config", o->config, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char log[16384];
    size_t ll = 0;
    int port = 0, rc = -1, fd = -1;
    while (port == 0 && bench_now_ns() < deadline && ll + 1 < sizeof(log)) {
        if (bench_wait_readable(pfd[0], deadline) <= 0)
            break;
        ssize_t r = read(pfd[0], log + ll, sizeof(log) - 1 - ll);
        if (r <= 0)
            break;
        ll += (size_t)r;
        log[ll] = '\0';
        const char *m = strstr(log, "listening on http://127.0.0.1:");
        if (m && strchr(m, '\n'))
            port = atoi(m + strlen("listening on http://127.0.0.1:"));
    }
    if (port > 0 && (fd = bench_connect((uint16_t)port)) >= 0) {
        *ns = bench_now_ns() - t0;
        rc = 0;
        close(fd);
    } else {
        snprintf(err, errlen, "host did not listen: %.200s", log);
    }
    kill(pid, SIGTERM);
    /* Drain its stderr while it shuts down so it never blocks on logging; bounded at 8 s. */
    int status = 0;
    uint64_t stop_by = bench_now_ns() + 8 * SEC;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (bench_now_ns() > stop_by) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        if (bench_wait_readable(pfd[0], bench_now_ns() + 10000000ull) > 0 && read(pfd[0], log, sizeof(log)) <= 0)
            usleep(1000);
    }
    close(pfd[0]);
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        snprintf(err, errlen, "host did not exit 0 after SIGTERM (status %d)", status);
        rc = -1;
    }
    return rc;
}

static void
sc_startup(run_t *run)
{
    result_t *r = &run->r[R_STARTUP];
    if (run->o.host_bin == NULL || run->o.config == NULL) {
        snprintf(r->error, sizeof(r->error), "needs --host-bin and --config");
        return;
    }
    uint64_t *s = calloc(run->o.starts, sizeof(*s)), start = bench_now_ns();
    size_t n = 0;
    for (size_t i = 0; i < run->o.starts; i++) {
        if (start_once(&run->o, &s[n], r->error, sizeof(r->error)) != 0)
            break;
        n++;
    }
    bench_stats_compute(s, n, bench_now_ns() - start, &r->st);
    r->ok = n > 0 && r->error[0] == '\0';
    free(s);
}

/* ---- output ---- */

static double
ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static void
print_table(const run_t *run)
{
    printf("\ntale-bench: command \"%s\" (%zu B message, %zu B answer frame)%s\n", run->o.cmd, run->req_len, run->resp_len,
           run->echo ? ", answers told from tick output by the echoed input" : "");
    printf("load average (1/5/15 min, runnable/total, last pid) before: %s, after: %s\n", run->loadavg_start, run->loadavg_end);
    printf("%-12s %7s %9s %9s %9s %9s %9s %12s %9s %9s\n", "scenario", "n", "min us", "median us", "p90 us", "p99 us", "max us",
           "rate", "median/ref", "p99/ref");
    for (int i = 0; i < R_COUNT; i++) {
        const result_t *r = &run->r[i];
        if (!r->ok) {
            printf("%-12s %7s  %s%s\n", r->name, "-", r->skipped ? "" : "FAILED: ", r->error[0] ? r->error : "not run");
            continue;
        }
        char rate[32];
        snprintf(rate, sizeof(rate), "%.0f %s", r->st.rate, r->unit);
        if (i == R_STARTUP)
            snprintf(rate, sizeof(rate), "-");
        printf("%-12s %7zu %9.1f %9.1f %9.1f %9.1f %9.1f %12s", r->name, r->st.n, r->st.min_us, r->st.median_us, r->st.p90_us,
               r->st.p99_us, r->st.max_us, rate);
        const result_t *ref = &run->r[REF_OF(i)];
        if (IS_LATENCY(i))
            printf(" %9.2f %9.2f", ratio(r->st.median_us, ref->st.median_us), ratio(r->st.p99_us, ref->st.p99_us));
        printf("\n");
    }
    if (run->r[R_CHURN].ok)
        printf("churn-ws: median connection %.1f us over the first tenth, %.1f us over the last tenth\n", run->churn_first_us,
               run->churn_last_us);
    printf("\nfootprint (pid %d)\n%-28s %10s %5s\n", (int)run->o.pid, "when", "RSS KiB", "fds");
    for (size_t i = 0; i < run->n_snaps; i++)
        printf("%-28s %10ld %5ld\n", run->snaps[i].label, run->snaps[i].rss_kib, run->snaps[i].fds);
    if (run->idle_ok)
        printf("idle CPU with one client connected: %.2f %% of a core over %.1f s\n", run->idle_cpu_pct, run->idle_window_s);
    else
        printf("idle CPU: FAILED\n");
}

/* The targets, checked against this run's numbers (information only: never a test assertion). */
static json_t *
targets(const run_t *run, int print)
{
    const result_t *R = run->r;
    long rss_start = run->n_snaps ? run->snaps[0].rss_kib : -1;
    /* Churn's end state against the moment before it started. */
    const snap_t *first = NULL, *last = run->n_snaps ? &run->snaps[run->n_snaps - 1] : NULL;
    for (size_t i = 0; i < run->n_snaps; i++)
        if (strcmp(run->snaps[i].label, "before churn-ws") == 0)
            first = &run->snaps[i];
    struct {
        const char *what;
        int known, met;
        char value[96];
    } t[12];
    int n = 0;
#define T(w, k, m, ...)                                                                                                            \
    do {                                                                                                                           \
        t[n].what = (w);                                                                                                           \
        t[n].known = (k);                                                                                                          \
        t[n].met = (m);                                                                                                            \
        snprintf(t[n].value, sizeof(t[n].value), __VA_ARGS__);                                                                     \
        n++;                                                                                                                       \
    } while (0)
    /* The latency targets, once per placement, each against its own tcp-ref. */
    static const char *const lat_what[2][3] = {
        {"rtt-ws median <= 1.5 x tcp-ref", "rtt-ws p99 <= 3 x tcp-ref", "rtt-sse median <= 3 x tcp-ref"},
        {"2cpu: rtt-ws median <= 1.5 x", "2cpu: rtt-ws p99 <= 3 x", "2cpu: rtt-sse median <= 3 x"}};
    for (int k = 0; k < 2; k++) {
        const result_t *tcp = &R[k ? R_TCP2 : R_TCP], *ws = tcp + 1, *sse = tcp + 2;
        double wm = ratio(ws->st.median_us, tcp->st.median_us), wp = ratio(ws->st.p99_us, tcp->st.p99_us);
        double sm = ratio(sse->st.median_us, tcp->st.median_us);
        T(lat_what[k][0], ws->ok && tcp->ok, wm <= 1.5, "%.2f x", wm);
        T(lat_what[k][1], ws->ok && tcp->ok, wp <= 3, "%.2f x", wp);
        T(lat_what[k][2], sse->ok && tcp->ok, sm <= 3, "%.2f x", sm);
    }
    T("pipeline-ws >= 30000 frames/s", R[R_PIPE].ok, R[R_PIPE].st.rate >= 30000, "%.0f frames/s", R[R_PIPE].st.rate);
    T("churn-ws >= 2000 conn/s", R[R_CHURN].ok, R[R_CHURN].st.rate >= 2000, "%.0f conn/s", R[R_CHURN].st.rate);
    int churn_known = first != NULL && first != last && first->rss_kib > 0;
    T("RSS and fds back after churn", churn_known,
      churn_known && last->fds <= first->fds && last->rss_kib <= first->rss_kib + first->rss_kib / 10,
      "start %ld KiB/%ld fds, end %ld KiB/%ld fds", first ? first->rss_kib : 0, first ? first->fds : 0, last ? last->rss_kib : 0,
      last ? last->fds : 0);
    T("RSS <= 8 MiB after start", rss_start > 0, rss_start <= 8192, "%ld KiB", rss_start);
    T("idle CPU <= 0.5 %", run->idle_ok, run->idle_cpu_pct <= 0.5, "%.2f %%", run->idle_cpu_pct);
    json_t *arr = json_array();
    if (print)
        printf("\ntargets\n");
    for (int i = 0; i < n; i++) {
        const char *verdict = !t[i].known ? "unknown" : t[i].met ? "met" : "MISSED";
        if (print)
            printf("  %-34s %-8s %s\n", t[i].what, verdict, t[i].value);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "target", t[i].what, "verdict", verdict, "value", t[i].value));
    }
    const result_t *su = &R[R_STARTUP];
    const char *sv = !su->ok ? "unknown" : su->st.median_us <= 50000 ? "met" : "MISSED";
    char v[64];
    snprintf(v, sizeof(v), "%.1f ms median of %zu", su->st.median_us / 1000, su->st.n);
    if (print)
        printf("  %-34s %-8s %s\n", "start-up <= 50 ms median", sv, v);
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "target", "start-up <= 50 ms median", "verdict", sv, "value", v));
    return arr;
#undef T
}

static int
write_json(const run_t *run, const char *path)
{
    json_t *root = json_object(), *sc = json_object(), *fp = json_array();
    json_object_set_new(root, "tool", json_string("tale-bench"));
    json_object_set_new(root, "command", json_string(run->o.cmd));
    json_object_set_new(root, "request_bytes", json_integer((json_int_t)run->req_len));
    json_object_set_new(root, "answer_bytes", json_integer((json_int_t)run->resp_len));
    json_object_set_new(root, "smoke", json_boolean(run->o.smoke));
    json_object_set_new(root, "nproc", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(root, "loadavg_start", json_string(run->loadavg_start));
    json_object_set_new(root, "loadavg_end", json_string(run->loadavg_end));
    for (int i = 0; i < R_COUNT; i++) {
        const result_t *r = &run->r[i];
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_boolean(r->ok));
        if (r->error[0])
            json_object_set_new(o, "error", json_string(r->error));
        json_object_set_new(o, "n", json_integer((json_int_t)r->st.n));
        json_object_set_new(o, "elapsed_s", json_real(r->st.elapsed_s));
        json_object_set_new(o, "min_us", json_real(r->st.min_us));
        json_object_set_new(o, "median_us", json_real(r->st.median_us));
        json_object_set_new(o, "p90_us", json_real(r->st.p90_us));
        json_object_set_new(o, "p99_us", json_real(r->st.p99_us));
        json_object_set_new(o, "max_us", json_real(r->st.max_us));
        if (i != R_STARTUP) {
            json_object_set_new(o, "rate", json_real(r->st.rate));
            json_object_set_new(o, "rate_unit", json_string(r->unit));
        }
        if (i == R_CHURN) {
            json_object_set_new(o, "first_tenth_median_us", json_real(run->churn_first_us));
            json_object_set_new(o, "last_tenth_median_us", json_real(run->churn_last_us));
        }
        if (IS_LATENCY(i)) {
            json_object_set_new(o, "placement", json_string(i < R_TCP2 ? "one CPU" : "two CPUs"));
            json_object_set_new(o, "median_ratio", json_real(ratio(r->st.median_us, run->r[REF_OF(i)].st.median_us)));
            json_object_set_new(o, "p99_ratio", json_real(ratio(r->st.p99_us, run->r[REF_OF(i)].st.p99_us)));
        }
        json_object_set_new(sc, r->name, o);
    }
    for (size_t i = 0; i < run->n_snaps; i++)
        json_array_append_new(fp, json_pack("{s:s,s:I,s:I}", "when", run->snaps[i].label, "rss_kib",
                                            (json_int_t)run->snaps[i].rss_kib, "fds", (json_int_t)run->snaps[i].fds));
    json_t *foot = json_pack("{s:o,s:b}", "snapshots", fp, "idle_ok", run->idle_ok);
    if (run->idle_ok) {
        json_object_set_new(foot, "idle_cpu_pct", json_real(run->idle_cpu_pct));
        json_object_set_new(foot, "idle_window_s", json_real(run->idle_window_s));
    }
    json_object_set_new(sc, "footprint", foot);
    json_object_set_new(root, "scenarios", sc);
    json_object_set_new(root, "targets", targets(run, 0));
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc;
}

/* ---- main ---- */

static void
usage(FILE *f)
{
    fprintf(f, "usage: tale-bench --port PORT --pid PID [options]\n"
               "  --host-bin BIN --config FILE  start-up scenario: start BIN --config FILE --starts times\n"
               "  --json FILE         write the results as JSON\n"
               "  --cmd TEXT          the command to send (default \"look\")\n"
               "  --rtt-count N       round trips per latency scenario (default 10000)\n"
               "  --pipeline-count N  commands in pipeline-ws (default 20000), --window N in flight (default 32)\n"
               "  --churn-count N     connections in churn-ws (default 2000)\n"
               "  --starts N          host starts for start-up time (default 7)\n"
               "  --duration S        time cap per scenario, seconds (default 10)\n"
               "  --idle S            idle CPU window, seconds (default 10)\n"
               "  --reap-wait S       wait after churn before the last footprint (default 0)\n"
               "  --only LIST         run only these scenarios (tcp-ref,rtt-ws,rtt-sse,pipeline-ws,footprint,startup,\n"
               "                      churn-ws); the rest report \"not run\"\n"
               "tcp-ref, rtt-ws and rtt-sse run twice, the host pinned: client and server on one CPU, then on\n"
               "two CPUs (rows .../2cpu), each set against its own tcp-ref (docs/BENCHMARKS.md, Placement).\n"
               "  --smoke             tiny counts: does every scenario work and report\n"
               "  --mud N             instead: the MUD-scale scenarios with N new seats (every tenth over SSE),\n"
               "                      mud-join, mud-rss, mud-yell, mud-all, mud-bystander, mud-leave (docs/BENCHMARKS.md)\n"
               "  --mud-wave N        joins started together (default 100)\n"
               "  --mud-yellers N     mud-bystander's yellers (default 1000, at most a tenth of the players)\n"
               "  --mud-rate R        their commands per second: the host's input_rate (default 20)\n"
               "  --mud-window S      mud-bystander's yelling time (default 10)\n"
               "  --mud-join-cap S    mud-join's time cap (default 120)\n"
               "  --mud-reap-min S    mud-leave waits at least this long (the host's limits.linger, plus a\n"
               "                      second; default 3) and --mud-reap S at most (default 30)\n"
               "  --mud-rss-cap MIB   no more joins or yells once the host's RSS passes this (default 6144; 0: none)\n"
               "  --instances N       instead: the IF-instance scenarios against a host with instances: per_visitor,\n"
               "                      if-rss, if-visitors, if-return (N stored games), if-restore (docs/BENCHMARKS.md)\n"
               "  --inst-live N       the host's limits.max_live_worlds (default 1000)\n"
               "  --inst-visitors N   if-visitors' new visitors (default 5000)\n"
               "  --inst-wave N       visitors started together (default 100)\n"
               "  --inst-restores N   if-restore's restores, one at a time (default 1000, at most --inst-live)\n"
               "  --inst-page PATH    the page a new visitor GETs first (default /tale/)\n"
               "  --inst-data-dir DIR the host's data_dir: count the files stored there\n"
               "  --inst-cap S        time cap of each pass of visitors (default 120)\n"
               "  --smoke with --instances: 20 live, 50 visitors, waves of 10, 20 restores unless given\n");
}

int
main(int argc, char **argv)
{
    run_t run = {.o = {.cmd = "look",
                       .rtt_count = 10000,
                       .pipeline_count = 20000,
                       .window = 32,
                       .churn_count = 2000,
                       .starts = 7,
                       .duration_s = 10,
                       .idle_s = 10}};
    for (int i = 0; i < R_COUNT; i++) {
        run.r[i].name = row_names[i];
        run.r[i].unit = "cmd/s";
    }
    run.r[R_TCP].unit = run.r[R_TCP2].unit = "rt/s";
    static const struct option lo[] = {{"port", 1, 0, 'p'},
                                       {"pid", 1, 0, 'P'},
                                       {"json", 1, 0, 'j'},
                                       {"host-bin", 1, 0, 'b'},
                                       {"config", 1, 0, 'c'},
                                       {"cmd", 1, 0, 'C'},
                                       {"rtt-count", 1, 0, 'r'},
                                       {"pipeline-count", 1, 0, 'l'},
                                       {"window", 1, 0, 'w'},
                                       {"churn-count", 1, 0, 'n'},
                                       {"starts", 1, 0, 's'},
                                       {"duration", 1, 0, 'd'},
                                       {"idle", 1, 0, 'i'},
                                       {"reap-wait", 1, 0, 'R'},
                                       {"only", 1, 0, 'o'},
                                       {"smoke", 0, 0, 'S'},
                                       {"help", 0, 0, 'h'},
                                       {"mud", 1, 0, 'M'},
                                       {"mud-wave", 1, 0, 'W'},
                                       {"mud-yellers", 1, 0, 'Y'},
                                       {"mud-rate", 1, 0, 'T'},
                                       {"mud-window", 1, 0, 'B'},
                                       {"mud-join-cap", 1, 0, 'J'},
                                       {"mud-reap-min", 1, 0, 'm'},
                                       {"mud-reap", 1, 0, 'E'},
                                       {"mud-rss-cap", 1, 0, 'X'},
                                       {"instances", 1, 0, 1000},
                                       {"inst-live", 1, 0, 1001},
                                       {"inst-visitors", 1, 0, 1002},
                                       {"inst-wave", 1, 0, 1003},
                                       {"inst-restores", 1, 0, 1004},
                                       {"inst-page", 1, 0, 1005},
                                       {"inst-data-dir", 1, 0, 1006},
                                       {"inst-cap", 1, 0, 1007},
                                       {"telnet", 1, 0, 1100},
                                       {"telnet-idle", 1, 0, 1101},
                                       {0, 0, 0, 0}};
    bench_mud_opts_t mud = {.wave = 100,
                            .yellers = 1000,
                            .rate = 20,
                            .bystander_s = 10,
                            .join_cap_s = 120,
                            .reap_min_s = 3,
                            .reap_s = 30,
                            .rss_cap_mib = 6144};
    bench_inst_opts_t inst = {
        .live = 1000, .visitors = 5000, .wave = 100, .restores = 1000, .page = "/tale/", .cap_s = 120, .rss_cap_mib = 6144};
    bench_telnet_opts_t telnet = {.idle_count = 5000};
    int c, smoke = 0;
    /* --smoke sets small defaults first, so explicit counts given with it still win. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--smoke") == 0)
            smoke = 1;
    if (smoke) {
        run.o.smoke = 1;
        run.o.rtt_count = 20;
        run.o.pipeline_count = 200;
        run.o.window = 8;
        run.o.churn_count = 20;
        run.o.starts = 2;
        run.o.duration_s = 5;
        run.o.idle_s = 1;
        inst.live = 20;
        inst.visitors = 50;
        inst.wave = 10;
        inst.restores = 20;
        telnet.idle_count = 100;
    }
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'p':
            run.o.port = (uint16_t)atoi(optarg);
            break;
        case 'P':
            run.o.pid = (pid_t)atoi(optarg);
            break;
        case 'j':
            run.o.json_path = optarg;
            break;
        case 'b':
            run.o.host_bin = optarg;
            break;
        case 'c':
            run.o.config = optarg;
            break;
        case 'C':
            run.o.cmd = optarg;
            break;
        case 'r':
            run.o.rtt_count = strtoul(optarg, NULL, 10);
            break;
        case 'l':
            run.o.pipeline_count = strtoul(optarg, NULL, 10);
            break;
        case 'w':
            run.o.window = strtoul(optarg, NULL, 10);
            break;
        case 'n':
            run.o.churn_count = strtoul(optarg, NULL, 10);
            break;
        case 's':
            run.o.starts = strtoul(optarg, NULL, 10);
            break;
        case 'd':
            run.o.duration_s = atof(optarg);
            break;
        case 'i':
            run.o.idle_s = atof(optarg);
            break;
        case 'R':
            run.o.reap_wait_s = atof(optarg);
            break;
        case 'o':
            run.o.only = optarg;
            break;
        case 'S':
            break;
        case 'M':
            mud.players = strtoul(optarg, NULL, 10);
            break;
        case 'W':
            mud.wave = strtoul(optarg, NULL, 10);
            break;
        case 'Y':
            mud.yellers = strtoul(optarg, NULL, 10);
            break;
        case 'T':
            mud.rate = atof(optarg);
            break;
        case 'B':
            mud.bystander_s = atof(optarg);
            break;
        case 'J':
            mud.join_cap_s = atof(optarg);
            break;
        case 'm':
            mud.reap_min_s = atof(optarg);
            break;
        case 'E':
            mud.reap_s = atof(optarg);
            break;
        case 'X':
            mud.rss_cap_mib = inst.rss_cap_mib = atof(optarg);
            break;
        case 1000:
            inst.stored = strtoul(optarg, NULL, 10);
            break;
        case 1001:
            inst.live = strtoul(optarg, NULL, 10);
            break;
        case 1002:
            inst.visitors = strtoul(optarg, NULL, 10);
            break;
        case 1003:
            inst.wave = strtoul(optarg, NULL, 10);
            break;
        case 1004:
            inst.restores = strtoul(optarg, NULL, 10);
            break;
        case 1005:
            inst.page = optarg;
            break;
        case 1006:
            inst.data_dir = optarg;
            break;
        case 1007:
            inst.cap_s = atof(optarg);
            break;
        case 1100:
            telnet.port = (uint16_t)atoi(optarg);
            break;
        case 1101:
            telnet.idle_count = strtoul(optarg, NULL, 10);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (run.o.port == 0 || run.o.pid <= 0 || run.o.rtt_count == 0 || run.o.pipeline_count == 0 || run.o.window == 0 ||
        run.o.churn_count == 0 || run.o.starts == 0 || run.o.duration_s <= 0) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (mud.players > 0) {
        if (mud.wave == 0 || mud.rate <= 0 || mud.bystander_s <= 0 || mud.join_cap_s <= 0 || mud.reap_s <= 0) {
            usage(stderr);
            return 2;
        }
        mud.port = run.o.port;
        mud.pid = run.o.pid;
        mud.json_path = run.o.json_path;
        mud.smoke = smoke;
        return bench_mud_run(&mud);
    }
    if (telnet.port != 0) {
        telnet.pid = run.o.pid;
        telnet.json_path = run.o.json_path;
        telnet.rtt_count = run.o.rtt_count;
        telnet.churn_count = run.o.churn_count;
        telnet.duration_s = run.o.duration_s;
        return bench_telnet_run(&telnet);
    }
    if (inst.stored > 0) {
        if (inst.live == 0 || inst.wave == 0 || inst.cap_s <= 0) {
            usage(stderr);
            return 2;
        }
        inst.port = run.o.port;
        inst.pid = run.o.pid;
        inst.json_path = run.o.json_path;
        inst.cmd = run.o.cmd;
        inst.smoke = smoke;
        return bench_inst_run(&inst);
    }

    /* The browser's message shape: {"cmd":"..."}. */
    json_t *m = json_pack("{s:s}", "cmd", run.o.cmd);
    char *msg = json_dumps(m, JSON_COMPACT);
    size_t len = strlen(msg);
    json_decref(m);

    read_loadavg(run.loadavg_start, sizeof(run.loadavg_start));
    snapshot(&run, "after start");
    if (probe(&run, msg, len) != 0) {
        fprintf(stderr, "tale-bench: the host gave no answer to \"%s\" over WebSocket; running what can run\n", run.o.cmd);
        run.req_len = len;
        run.resp_len = 1024;
    }
#define WANT(name) (run.o.only == NULL || strstr(only, "," name ",") != NULL)
    char only[256];
    snprintf(only, sizeof(only), ",%s,", run.o.only ? run.o.only : "");
    int want_lat[3] = {WANT("tcp-ref"), WANT("rtt-ws"), WANT("rtt-sse")};
    if (want_lat[0] || want_lat[1] || want_lat[2]) {
        fprintf(stderr, "tale-bench: tcp-ref, rtt-ws, rtt-sse (interleaved), on one CPU\n");
        sc_latency(&run, msg, len, want_lat, R_TCP);
        fprintf(stderr, "tale-bench: tcp-ref, rtt-ws, rtt-sse (interleaved), on two CPUs\n");
        sc_latency(&run, msg, len, want_lat, R_TCP2);
        snapshot(&run, "after rtt-ws, rtt-sse");
    }
    if (WANT("pipeline-ws")) {
        fprintf(stderr, "tale-bench: pipeline-ws\n");
        sc_pipeline_ws(&run, msg, len);
        snapshot(&run, "after pipeline-ws");
    }
    if (WANT("footprint")) {
        fprintf(stderr, "tale-bench: idle cpu (%.0f s)\n", run.o.idle_s);
        sc_idle_cpu(&run);
        snapshot(&run, "after idle");
    }
    /* Start-up runs before churn so churn's end state is the last footprint. */
    if (WANT("startup")) {
        fprintf(stderr, "tale-bench: startup\n");
        sc_startup(&run);
    }
    if (WANT("churn-ws")) {
        snapshot(&run, "before churn-ws");
        fprintf(stderr, "tale-bench: churn-ws\n");
        sc_churn_ws(&run);
        snapshot(&run, "after churn-ws");
        if (run.o.reap_wait_s > 0) {
            usleep((useconds_t)(run.o.reap_wait_s * 1e6));
            char label[48];
            snprintf(label, sizeof(label), "after churn-ws + %.1f s", run.o.reap_wait_s);
            snapshot(&run, label);
        }
    }
#undef WANT
    read_loadavg(run.loadavg_end, sizeof(run.loadavg_end));

    print_table(&run);
    json_decref(targets(&run, 1));
    if (run.o.json_path && write_json(&run, run.o.json_path) != 0)
        fprintf(stderr, "tale-bench: cannot write %s\n", run.o.json_path);
    free(msg);

    /* Success: every scenario that was asked for reported numbers. */
    int all = run.n_snaps > 0 && run.snaps[0].rss_kib > 0;
    if (run.o.only == NULL || strstr(only, ",footprint,") != NULL)
        all = all && run.idle_ok;
    for (int i = 0; i < R_COUNT; i++) {
        char tag[32];
        snprintf(tag, sizeof(tag), ",%s,", row_tags[i]);
        if ((run.o.only == NULL || strstr(only, tag) != NULL) && !run.r[i].skipped)
            all = all && run.r[i].ok;
    }
    return all ? 0 : 1;
}
