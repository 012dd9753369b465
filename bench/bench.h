/*
 * bench.h - shared pieces of tale-bench: clocks, sockets, statistics, the
 * WebSocket and SSE clients, and /proc readers.
 *
 * Everything here is a client: blocking-free sockets driven by poll(), every
 * wait bounded by a deadline, so a hung server ends a scenario with an error
 * instead of hanging the run.
 */
#ifndef TALE_BENCH_H
#define TALE_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <wslay/wslay.h>

/* ---- time ---- */
uint64_t bench_now_ns(void);

/* ---- sockets ---- */
/* Connect to 127.0.0.1:port with TCP_NODELAY; the socket is non-blocking.  -1 on error. */
int bench_connect(uint16_t port);
/* The same without waiting: the connect may still be in progress (poll for
 * POLLOUT, then SO_ERROR).  -1 on error. */
int bench_connect_start(uint16_t port);
/* Write all of buf before the deadline (poll for POLLOUT).  0 or -1. */
int bench_write_all(int fd, const void *buf, size_t len, uint64_t deadline_ns);
/* Wait until fd is readable or the deadline passes: 1 readable, 0 timeout, -1 error. */
int bench_wait_readable(int fd, uint64_t deadline_ns);

/* ---- a growable byte buffer, kept NUL-terminated after its bytes ---- */
typedef struct bench_buf {
    char *p;
    size_t len, cap;
} bench_buf_t;
/* Append n bytes.  -1 when out of memory or when the buffer would have to
 * grow past max bytes (SIZE_MAX: no limit). */
int bench_buf_append(bench_buf_t *b, const void *d, size_t n, size_t max);
/* Drop the first n bytes. */
void bench_buf_consume(bench_buf_t *b, size_t n);

/* ---- HTTP ---- */
/* The value of header `name` in a response head ("\r\nname:", any case),
 * without surrounding blanks, into out.  0, or -1 when it is absent. */
int bench_http_header(const char *head, const char *name, char *out, size_t outlen);

/* The body of POST /tale/input: cmd=<urlencoded command>; its length. */
int bench_form_body(const char *cmd, char *out, size_t outlen);

/* ---- statistics over latency samples (ns) ---- */
typedef struct bench_stats {
    size_t n;
    double min_us, median_us, p90_us, p99_us, max_us;
    double elapsed_s;
    double rate; /* operations per second over the measured window */
} bench_stats_t;
/* Sorts samples in place. */
void bench_stats_compute(uint64_t *samples, size_t n, uint64_t elapsed_ns, bench_stats_t *out);

/* ---- JSON frames: a light field scan, enough for the host's compact objects ---- */
/* Copy the string value of "key" at the top of msg into out ("" if absent). */
void bench_json_str(const char *msg, size_t len, const char *key, char *out, size_t outlen);
/* The unsigned value of "key", or 0 if absent. */
uint64_t bench_json_u64(const char *msg, size_t len, const char *key);

/* ---- WebSocket client (wslay event API over a poll()ed socket) ---- */
typedef struct bench_ws bench_ws_t;
/* Called for every complete text message. */
typedef void (*bench_ws_msg_cb)(void *ud, const char *msg, size_t len);

/* Connect, do the HTTP upgrade (checking Sec-WebSocket-Accept) and return the
 * client.  cookie may be NULL.  On failure NULL with a reason in err. */
bench_ws_t *bench_ws_open(uint16_t port, const char *path, const char *cookie, bench_ws_msg_cb cb, void *ud, uint64_t deadline_ns,
                          char *err, size_t errlen);
/* The pieces of bench_ws_open for an event loop of the caller's own: the
 * upgrade request (its length, or -1) with the Sec-WebSocket-Accept to expect
 * (29 bytes and more); then, with the whole answer head read (and whatever
 * came after it), the client on that socket.  On failure NULL with a reason
 * in err; the socket stays the caller's. */
int bench_ws_request(uint16_t port, const char *path, const char *cookie, char *req, size_t reqlen, char *expect, size_t expectlen);
bench_ws_t *bench_ws_adopt(int fd, char *head, size_t hl, const char *expect, const char *cookie, bench_ws_msg_cb cb, void *ud,
                           char *err, size_t errlen);
/* One recv (after the bytes that came with the answer head) without waiting,
 * dispatching messages: 1 read, 0 nothing yet, -1 failed or closed. */
int bench_ws_read(bench_ws_t *ws);
/* Queue one masked text message and write it out. 0 or -1. */
int bench_ws_send_text(bench_ws_t *ws, const char *msg, size_t len, uint64_t deadline_ns);
/* Read whatever arrives before the deadline (at least one poll), dispatching
 * messages to the callback.  Returns 1 if something was read, 0 on timeout,
 * -1 when the connection failed or was closed. */
int bench_ws_pump(bench_ws_t *ws, uint64_t deadline_ns);
/* The Set-Cookie value's "tale_session=..." pair from the 101 answer ("" if none). */
const char *bench_ws_cookie(const bench_ws_t *ws);
/* Send a close frame (1000) and close the socket without waiting for the echo. */
void bench_ws_close(bench_ws_t *ws);
/* Close the socket and free the client with no close frame. */
void bench_ws_abort(bench_ws_t *ws);
int bench_ws_fd(const bench_ws_t *ws);

/* ---- SSE stream + POST client (HTTP/1.1, keep-alive) ---- */
typedef struct bench_sse bench_sse_t;
/* Called for every complete event with its name and data (data lines joined by \n). */
typedef void (*bench_sse_event_cb)(void *ud, const char *event, const char *data, size_t len);

bench_sse_t *bench_sse_open(uint16_t port, const char *path, bench_sse_event_cb cb, void *ud, uint64_t deadline_ns, char *err,
                            size_t errlen);
/* For an event loop of the caller's own: the GET request (its length, or -1),
 * then the client on a socket whose answer head (and maybe more) is in got.
 * On failure NULL with a reason in err; the socket stays the caller's. */
int bench_sse_request(uint16_t port, const char *path, char *req, size_t reqlen);
bench_sse_t *bench_sse_adopt(int fd, const char *got, size_t len, bench_sse_event_cb cb, void *ud, char *err, size_t errlen);
const char *bench_sse_cookie(const bench_sse_t *s);
int bench_sse_fd(const bench_sse_t *s);
/* Read what the stream has (one read); 1 read, 0 nothing, -1 closed/error. */
int bench_sse_read(bench_sse_t *s);
void bench_sse_close(bench_sse_t *s);

/* A kept-alive connection for POSTs: send a request, read its response later. */
typedef struct bench_http bench_http_t;
bench_http_t *bench_http_open(uint16_t port, char *err, size_t errlen);
/* A client on a socket the caller connected (the connect complete). */
bench_http_t *bench_http_adopt(int fd, uint16_t port);
int bench_http_fd(const bench_http_t *h);
/* Send "POST path" with a form body and the cookie. 0 or -1. */
int bench_http_post(bench_http_t *h, const char *path, const char *cookie, const char *body, size_t len, uint64_t deadline_ns);
/* Read; returns 1 when a complete response is in (status in *status), 0 if
 * not yet, -1 on error/close. */
int bench_http_read_response(bench_http_t *h, int *status);
void bench_http_close(bench_http_t *h);

/* ---- CPU placement for the latency scenarios (place.c) ---- */
/* The first two CPUs this process may use.  -1 when it has only one. */
int bench_cpu_pair(int *a, int *b);
/* Pin this process to client_cpu and every thread of the host to server_cpu;
 * the masks before the first call are kept for bench_place_restore.  0 or -1. */
int bench_place(pid_t host, int client_cpu, int server_cpu);
void bench_place_restore(void);
/* Pin the calling process to one CPU.  0 or -1. */
int bench_pin_self(int cpu);

/* ---- the MUD-scale scenarios (mud.c) ---- */
typedef struct bench_mud_opts {
    uint16_t port;
    pid_t pid;
    const char *json_path;
    size_t players; /* new seats, every tenth over SSE */
    size_t wave;    /* joins started together */
    size_t yellers; /* mud-bystander's yelling players (at most a tenth of the crowd) */
    double rate;    /* their commands per second: the host's input_rate */
    double bystander_s, join_cap_s;
    double reap_min_s, reap_s; /* mud-leave waits at least / at most this long for the reaping */
    double rss_cap_mib;        /* no more joins or yells once the host's RSS passes this (0: no cap) */
    int smoke;
} bench_mud_opts_t;
/* Run mud-join, mud-rss, mud-yell, mud-all, mud-bystander and mud-leave in
 * that order on one crowd; a table on stdout, JSON to o->json_path.  0 when
 * every scenario reported numbers. */
int bench_mud_run(const bench_mud_opts_t *o);

/* ---- the IF-instance scenarios (inst.c) ---- */
typedef struct bench_inst_opts {
    uint16_t port;
    pid_t pid;
    const char *json_path;
    const char *page;     /* the page a new visitor GETs before its WebSocket */
    const char *cmd;      /* the command each stored game plays before it closes */
    const char *data_dir; /* the host's data_dir, to count what is stored there (NULL: not counted) */
    size_t stored;        /* if-return: games created, each returning once */
    size_t live;          /* the host's limits.max_live_worlds */
    size_t visitors;      /* if-visitors: new visitors */
    size_t wave;          /* visitors started together */
    size_t restores;      /* if-restore: evicted games restored one at a time (at most live) */
    double cap_s;         /* time cap of each pass of visitors */
    double rss_cap_mib;   /* no more visitors once the host's RSS passes this (0: no cap) */
    int smoke;
} bench_inst_opts_t;
/* Run if-rss, if-visitors, if-return and if-restore in that order on one
 * host; a table on stdout, JSON to o->json_path.  0 when every scenario
 * reported numbers, 3 when the host gives no game per visitor. */
int bench_inst_run(const bench_inst_opts_t *o);

/* ---- the telnet scenarios (telnet.c) ---- */
typedef struct bench_telnet_opts {
    uint16_t port; /* the telnet plugin's port */
    pid_t pid;
    const char *json_path;
    size_t rtt_count, churn_count;
    size_t idle_count; /* idle-telnet: connections that never speak (0: skip) */
    double duration_s;
} bench_telnet_opts_t;
/* Run tcp-ref + rtt-telnet (interleaved), churn-telnet and idle-telnet; a
 * table on stdout, JSON to o->json_path.  0 when every scenario reported. */
int bench_telnet_run(const bench_telnet_opts_t *o);

/* ---- /proc ---- */
/* A cap on the host's RSS for the load scenarios: a host whose memory grows
 * with the load must not take a shared machine into swap or the OOM killer. */
typedef struct bench_rss_cap {
    pid_t pid;
    double cap_mib; /* 0: no cap */
    uint64_t t_read;
    long peak; /* the highest RSS read, KiB */
    int over;  /* the cap was passed: the load stops there */
} bench_rss_cap_t;
/* Has the host's RSS passed the cap?  Read at most every 250 ms. */
int bench_rss_over(bench_rss_cap_t *c);
/* After a crowd closed: read the host's RSS and fds every 250 ms until, from
 * min_ns on, the fds are back to fds0 and RSS has held still for 3 s (the
 * host reaps and trims later than the closes), or until end_ns.  The last
 * readings in *rss and *fds. */
void bench_wait_settled(pid_t pid, long fds0, uint64_t min_ns, uint64_t end_ns, long *rss, long *fds);
/* A non-blocking connect finished: 0, or its errno. */
int bench_connect_result(int fd);

/* VmRSS in KiB, or -1. */
long bench_proc_rss_kib(pid_t pid);
/* Open fds, or -1. */
long bench_proc_fds(pid_t pid);
/* utime + stime in clock ticks, or -1. */
long long bench_proc_cpu_ticks(pid_t pid);

#endif
