/*
 * telnet.c - tale-bench's telnet scenarios (plugins/telnet), run with
 * --telnet PORT against a host whose telnet plugin listens there:
 *
 *   tcp-ref       the loopback echo with the same request and answer sizes
 *   rtt-telnet    one player: "look" and its whole answer (up to the prompt's
 *                 Go Ahead), interleaved with tcp-ref in blocks so a burst of
 *                 load on the shared machine lands on both
 *   churn-telnet  connect, Enter, first prompt (a new seat), "quit", close
 *   idle-telnet   N connections that never speak: the host's RSS per
 *                 connection, and RSS/fds once they have gone
 *
 * The client refuses every option (so no MCCP2 and no colour: the bytes a
 * plain telnet gets).  Every wait has a deadline.
 */
#include "bench.h"
#include "tcp_ref.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC 1000000000ull
#define WAIT_PER_OP (5 * SEC)
#define BLOCK 50 /* round trips per scenario before switching */

typedef struct tconn {
    int fd;
    bench_buf_t in;
} tconn_t;

/* Read what is there; refuse every option the host offers (WILL -> DONT, DO -> WONT). */
static int
pump(tconn_t *c)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        for (ssize_t i = 0; i + 2 < n; i++) {
            unsigned char *p = (unsigned char *)buf + i;
            if (p[0] == 255 && (p[1] == 251 || p[1] == 253)) {
                unsigned char no[3] = {255, p[1] == 251 ? 254 : 252, p[2]};
                if (write(c->fd, no, 3) != 3)
                    return -1;
            }
        }
        if (bench_buf_append(&c->in, buf, (size_t)n, 1u << 20) != 0)
            bench_buf_consume(&c->in, c->in.len); /* only the tail matters */
    }
}

/* Wait until the input holds `needle` followed later by the prompt's GA. */
static int
wait_for(tconn_t *c, const char *needle, uint64_t deadline)
{
    static const char ga[] = "\xff\xf9";
    while (bench_now_ns() < deadline) {
        const char *at = needle != NULL ? memmem(c->in.p, c->in.len, needle, strlen(needle)) : c->in.p;
        if (at != NULL && memmem(at, c->in.len - (size_t)(at - c->in.p), ga, 2) != NULL)
            return 0;
        if (bench_wait_readable(c->fd, deadline) <= 0 || pump(c) < 0)
            return -1;
    }
    return -1;
}

static int
topen(uint16_t port, tconn_t *c, uint64_t deadline)
{
    memset(c, 0, sizeof(*c));
    if ((c->fd = bench_connect(port)) < 0)
        return -1;
    if (bench_write_all(c->fd, "\r\n", 2, deadline) != 0 || wait_for(c, NULL, deadline) != 0) {
        close(c->fd);
        free(c->in.p);
        return -1;
    }
    return 0;
}

static void
tclose(tconn_t *c)
{
    close(c->fd);
    free(c->in.p);
}

static json_t *
stats_json(const bench_stats_t *s)
{
    return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "n", (json_int_t)s->n, "min_us", s->min_us, "median_us", s->median_us,
                     "p90_us", s->p90_us, "p99_us", s->p99_us, "max_us", s->max_us, "rate", s->rate);
}

static void
row(const char *name, const bench_stats_t *s)
{
    printf("%-13s %7zu %9.1f %9.1f %9.1f %9.1f %9.1f %12.0f\n", name, s->n, s->min_us, s->median_us, s->p90_us, s->p99_us,
           s->max_us, s->rate);
}

int
bench_telnet_run(const bench_telnet_opts_t *o)
{
    int ok = 1;
    json_t *out = json_object();
    printf("%-13s %7s %9s %9s %9s %9s %9s %12s\n", "scenario", "n", "min us", "median us", "p90 us", "p99 us", "max us", "per s");

    /* ---- rtt-telnet against tcp-ref ---- */
    tconn_t c;
    if (topen(o->port, &c, bench_now_ns() + WAIT_PER_OP) != 0) {
        fprintf(stderr, "tale-bench: no telnet session on port %u\n", o->port);
        json_decref(out);
        return 1;
    }
    /* the answer's size, for tcp-ref */
    c.in.len = 0;
    if (bench_write_all(c.fd, "look\r\n", 6, bench_now_ns() + WAIT_PER_OP) != 0 ||
        wait_for(&c, "Exits:", bench_now_ns() + WAIT_PER_OP) != 0) {
        fprintf(stderr, "tale-bench: telnet: no answer to look\n");
        tclose(&c);
        json_decref(out);
        return 1;
    }
    size_t resp_len = c.in.len;
    /* As rtt-ws's one-CPU row: client, host and echo process on one CPU, so
     * the ratio to tcp-ref compares like with like (docs/BENCHMARKS.md). */
    int cpu_a, cpu_b;
    bench_cpu_pair(&cpu_a, &cpu_b);
    int placed = cpu_a >= 0;
    if (placed && bench_place(o->pid, cpu_a, cpu_a) != 0) {
        fprintf(stderr, "tale-bench: cannot pin the host and the client; they run where the scheduler puts them\n");
        placed = 0;
    }
    tale_bench_tcp_ref_t *ref = tale_bench_tcp_ref_open(6, resp_len, placed ? cpu_a : -1);
    /* unmeasured warm-up rounds: page faults, first allocations, caches */
    for (size_t k = 0; k < o->rtt_count / 10 && k < 100; k++) {
        uint64_t ns;
        c.in.len = 0;
        if (bench_write_all(c.fd, "look\r\n", 6, bench_now_ns() + WAIT_PER_OP) != 0 ||
            wait_for(&c, "Exits:", bench_now_ns() + WAIT_PER_OP) != 0 || (ref != NULL && tale_bench_tcp_ref_round(ref, &ns) != 0))
            break;
    }
    uint64_t *st = calloc(o->rtt_count, sizeof(*st)), *sr = calloc(o->rtt_count, sizeof(*sr));
    size_t nt = 0, nr = 0;
    uint64_t busy_t = 0, busy_r = 0, end_by = bench_now_ns() + (uint64_t)(o->duration_s * 2 * SEC);
    while ((nt < o->rtt_count || (ref != NULL && nr < o->rtt_count)) && bench_now_ns() < end_by) {
        for (int k = 0; k < BLOCK && nt < o->rtt_count; k++) {
            c.in.len = 0;
            uint64_t t0 = bench_now_ns();
            if (bench_write_all(c.fd, "look\r\n", 6, t0 + WAIT_PER_OP) != 0 || wait_for(&c, "Exits:", t0 + WAIT_PER_OP) != 0) {
                fprintf(stderr, "tale-bench: rtt-telnet: a look went unanswered\n");
                ok = 0;
                end_by = 0;
                break;
            }
            st[nt++] = bench_now_ns() - t0;
            busy_t += st[nt - 1];
        }
        for (int k = 0; ref != NULL && k < BLOCK && nr < o->rtt_count; k++) {
            uint64_t ns;
            if (tale_bench_tcp_ref_round(ref, &ns) != 0) {
                ok = 0;
                break;
            }
            sr[nr++] = ns;
            busy_r += ns;
        }
    }
    tclose(&c);
    if (placed)
        bench_place_restore();
    bench_stats_t s_t = {0}, s_r = {0};
    if (ref != NULL) {
        tale_bench_tcp_ref_close(ref);
        bench_stats_compute(sr, nr, busy_r, &s_r);
        row("tcp-ref", &s_r);
        json_object_set_new(out, "tcp-ref", stats_json(&s_r));
    } else {
        ok = 0;
    }
    bench_stats_compute(st, nt, busy_t, &s_t);
    row("rtt-telnet", &s_t);
    json_object_set_new(out, "rtt-telnet", stats_json(&s_t));
    free(st);
    free(sr);

    /* ---- churn-telnet ---- */
    long fds0 = bench_proc_fds(o->pid), rss0 = bench_proc_rss_kib(o->pid);
    uint64_t *sc = calloc(o->churn_count, sizeof(*sc));
    size_t nc = 0;
    uint64_t start = bench_now_ns();
    end_by = start + (uint64_t)(o->duration_s * SEC);
    while (nc < o->churn_count && bench_now_ns() < end_by) {
        uint64_t t0 = bench_now_ns();
        if (topen(o->port, &c, t0 + WAIT_PER_OP) != 0) {
            fprintf(stderr, "tale-bench: churn-telnet: a connection got no seat\n");
            ok = 0;
            break;
        }
        sc[nc++] = bench_now_ns() - t0;
        /* quit: the seat goes at once, as a player leaving does */
        bench_write_all(c.fd, "quit\r\n", 6, bench_now_ns() + WAIT_PER_OP);
        uint64_t dl = bench_now_ns() + WAIT_PER_OP;
        while (bench_now_ns() < dl && bench_wait_readable(c.fd, dl) > 0 && pump(&c) == 0)
            ;
        tclose(&c);
    }
    bench_stats_t s_c;
    bench_stats_compute(sc, nc, bench_now_ns() - start, &s_c);
    row("churn-telnet", &s_c);
    json_object_set_new(out, "churn-telnet", stats_json(&s_c));
    free(sc);
    long rss1, fds1;
    bench_wait_settled(o->pid, fds0, bench_now_ns(), bench_now_ns() + 10 * SEC, &rss1, &fds1);
    printf("churn-telnet: RSS %ld -> %ld KiB, fds %ld -> %ld\n", rss0, rss1, fds0, fds1);

    /* ---- idle-telnet ---- */
    if (o->idle_count > 0) {
        int *fds = malloc(o->idle_count * sizeof(*fds));
        size_t n = 0;
        long r0 = bench_proc_rss_kib(o->pid), f0 = bench_proc_fds(o->pid);
        for (; n < o->idle_count; n++)
            if ((fds[n] = bench_connect(o->port)) < 0)
                break;
        usleep(500000);
        long r1 = bench_proc_rss_kib(o->pid), f1 = bench_proc_fds(o->pid);
        /* the player connection still answers with the crowd held */
        uint64_t t0 = bench_now_ns();
        int alive = topen(o->port, &c, t0 + WAIT_PER_OP) == 0;
        double first_us = (double)(bench_now_ns() - t0) / 1000.0;
        if (alive)
            tclose(&c);
        for (size_t i = 0; i < n; i++)
            close(fds[i]);
        free(fds);
        long r2, f2;
        bench_wait_settled(o->pid, f0, bench_now_ns(), bench_now_ns() + 15 * SEC, &r2, &f2);
        double per = n > 0 ? (double)(r1 - r0) * 1024.0 / (double)n : 0;
        printf("idle-telnet: %zu held (host fds %ld -> %ld), RSS %ld -> %ld KiB (%.0f bytes each), a new player seated in %.0f us; "
               "after: RSS %ld KiB, fds %ld\n",
               n, f0, f1, r0, r1, per, first_us, r2, f2);
        json_object_set_new(out, "idle-telnet",
                            json_pack("{s:I,s:I,s:I,s:f,s:b,s:f,s:I,s:I}", "held", (json_int_t)n, "rss0_kib", (json_int_t)r0,
                                      "rss_held_kib", (json_int_t)r1, "bytes_per_conn", per, "player_seated", alive,
                                      "player_seated_us", first_us, "rss_after_kib", (json_int_t)r2, "fds_after", (json_int_t)f2));
        ok = ok && alive && n == o->idle_count;
    }
    if (s_r.median_us > 0)
        printf("rtt-telnet median = %.2f x tcp-ref; p99 = %.2f x tcp-ref; churn-telnet %.0f conn/s\n",
               s_t.median_us / s_r.median_us, s_t.p99_us / s_r.p99_us, s_c.rate);
    if (o->json_path != NULL && json_dump_file(out, o->json_path, JSON_INDENT(2)) != 0)
        fprintf(stderr, "tale-bench: cannot write %s\n", o->json_path);
    json_decref(out);
    return ok ? 0 : 1;
}
