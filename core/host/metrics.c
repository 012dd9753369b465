/*
 * metrics.c - the host's counters and their Prometheus text exposition
 * (format 0.0.4).  Names follow Prometheus' conventions: base units
 * (seconds, bytes), `_total` on counters, process_* for the process
 * collector's usual series.
 */
#include "metrics.h"
#include "host.h"
#include "session.h"
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A command answers in well under a millisecond; a slow one (a big save, a
 * crowded room) in tens of them. */
const double tale_metrics_command_bounds[TALE_METRICS_BUCKETS] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                                  0.005,   0.01,   0.025,   0.05,   0.1,   0.25};
/* The loop should never lag a human-noticeable time: 1 ms is normal jitter,
 * 100 ms is a stall every player feels. */
const double tale_metrics_lag_bounds[TALE_METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                              0.05,   0.1,   0.25,   0.5,   1,    2.5};

/* How often the lag timer fires. */
#define LAG_INTERVAL_MS 250

void
tale_metrics_closed(tale_plugin_metrics_t *m, int code)
{
    size_t i = 0;
    while (i < m->n_closes && m->closes[i].code != code)
        i++;
    if (i == m->n_closes) {
        if (i < TALE_METRICS_CODES - 1) {
            m->closes[i].code = code;
            m->n_closes++;
        } else {
            /* the last slot is "other": a client choosing odd codes cannot grow the series */
            i = TALE_METRICS_CODES - 1;
            m->closes[i].code = -1;
            m->n_closes = TALE_METRICS_CODES;
        }
    }
    m->closes[i].n++;
}

void
tale_metrics_observe(tale_histogram_t *hist, const double *bounds, double seconds)
{
    size_t i = 0;
    while (i < TALE_METRICS_BUCKETS && seconds > bounds[i])
        i++;
    if (i < TALE_METRICS_BUCKETS)
        hist->counts[i]++;
    hist->count++;
    hist->sum += seconds;
}

double
tale_metrics_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- loop lag ------------------------------------------------------------ */

static void
on_lag(h2o_timeout_entry_t *entry)
{
    tale_metrics_t *m = H2O_STRUCT_FROM_MEMBER(tale_metrics_t, lag_entry, entry);
    tale_host_t *h = H2O_STRUCT_FROM_MEMBER(tale_host_t, metrics, m);
    double late = tale_metrics_since(&m->lag_armed) - LAG_INTERVAL_MS / 1000.0;
    tale_metrics_observe(&m->loop_lag_seconds, tale_metrics_lag_bounds, late > 0 ? late : 0);
    clock_gettime(CLOCK_MONOTONIC, &m->lag_armed);
    h2o_timeout_link(h->loop, &m->lag_timeout, &m->lag_entry);
}

void
tale_metrics_start(tale_host_t *h)
{
    tale_metrics_t *m = &h->metrics;
    h2o_timeout_init(h->loop, &m->lag_timeout, LAG_INTERVAL_MS);
    m->lag_entry.cb = on_lag;
    /* h2o counts the timeout from its cached loop time, which may be behind
     * the clock at start: the first sample can come early, and on_lag
     * counts an early firing as no lag */
    clock_gettime(CLOCK_MONOTONIC, &m->lag_armed);
    h2o_timeout_link(h->loop, &m->lag_timeout, &m->lag_entry);
}

void
tale_metrics_stop(tale_host_t *h)
{
    tale_metrics_t *m = &h->metrics;
    if (m->lag_entry.cb == NULL)
        return;
    if (h2o_timeout_is_linked(&m->lag_entry))
        h2o_timeout_unlink(&m->lag_entry);
    h2o_timeout_dispose(h->loop, &m->lag_timeout);
    m->lag_entry.cb = NULL;
}

/* ---- exposition ---------------------------------------------------------- */

typedef struct writer {
    void (*out)(void *ctx, const char *text, size_t len);
    void *ctx;
} writer_t;

static void emitf(writer_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
emitf(writer_t *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    w->out(w->ctx, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void
family(writer_t *w, const char *name, const char *type, const char *help)
{
    emitf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the format wants it: backslash, quote and newline escaped. */
static void
label_value(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in != '\0' && o + 3 < cap; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

/* One counter or gauge per transport plugin, from a field of its metrics. */
static void
per_transport(writer_t *w, tale_host_t *h, const char *name, const char *type, const char *help, size_t offset)
{
    family(w, name, type, help);
    for (size_t i = 0; i < h->n_plugins; i++) {
        if (!h->plugins[i].metrics.transport)
            continue;
        char t[160];
        label_value(h->plugins[i].conf->name, t, sizeof(t));
        uint64_t v = *(const uint64_t *)((const char *)&h->plugins[i].metrics + offset);
        emitf(w, "%s{transport=\"%s\"} %llu\n", name, t, (unsigned long long)v);
    }
}

static void
histogram(writer_t *w, const char *name, const char *help, const tale_histogram_t *hist, const double *bounds)
{
    family(w, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i < TALE_METRICS_BUCKETS; i++) {
        cum += hist->counts[i];
        emitf(w, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
    }
    emitf(w, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name, (unsigned long long)hist->count, name, hist->sum,
          name, (unsigned long long)hist->count);
}

/* Resident set size from /proc/self/statm (pages); 0 when unreadable. */
static uint64_t
rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f == NULL)
        return 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    return n == 2 ? resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

/* Open descriptors: the entries of /proc/self/fd, less the one reading it. */
static uint64_t
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    uint64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0;
}

#define FIELD(f) offsetof(tale_plugin_metrics_t, f)

void
tale_metrics_write(tale_host_t *h, void (*out)(void *ctx, const char *text, size_t len), void *ctx)
{
    writer_t w = {out, ctx};
    const tale_metrics_t *m = &h->metrics;

    family(&w, "tale_build_info", "gauge", "The host's version and plugin ABI; always 1.");
    emitf(&w, "tale_build_info{version=\"%s\",abi=\"%d.%d\"} 1\n", TALE_VERSION, TALE_ABI_MAJOR, TALE_ABI_MINOR);

    per_transport(&w, h, "tale_connections_total", "counter", "Player connections attached to a seat, by transport.",
                  FIELD(connects));
    per_transport(&w, h, "tale_connections", "gauge", "Player connections attached now, by transport.", FIELD(connected));
    per_transport(&w, h, "tale_seats", "gauge", "Seats (sessions) by the transport they were last opened through.", FIELD(seats));
    family(&w, "tale_disconnects_total", "counter",
           "Player connections that ended, by transport and close code (none: the transport has no codes; other: any code "
           "past the first few seen).");
    for (size_t i = 0; i < h->n_plugins; i++) {
        char t[160];
        label_value(h->plugins[i].conf->name, t, sizeof(t));
        const tale_plugin_metrics_t *pm = &h->plugins[i].metrics;
        for (size_t j = 0; j < pm->n_closes; j++) {
            char code[16];
            if (pm->closes[j].code == 0)
                strcpy(code, "none");
            else if (pm->closes[j].code == -1)
                strcpy(code, "other");
            else
                snprintf(code, sizeof(code), "%d", pm->closes[j].code);
            emitf(&w, "tale_disconnects_total{transport=\"%s\",code=\"%s\"} %llu\n", t, code, (unsigned long long)pm->closes[j].n);
        }
    }
    per_transport(&w, h, "tale_frames_sent_total", "counter", "Frames handed to player connections, by transport.",
                  FIELD(frames_out));
    per_transport(&w, h, "tale_frame_sent_bytes_total", "counter",
                  "Bytes of frame JSON handed to player connections (before the transport's framing), by transport.",
                  FIELD(bytes_out));
    per_transport(&w, h, "tale_commands_total", "counter", "Player input lines received, by transport.", FIELD(commands));
    per_transport(&w, h, "tale_frames_refused_total", "counter",
                  "Frames a transport would not take because the connection's queue was full (the connection was dropped).",
                  FIELD(refused));
    per_transport(&w, h, "tale_resumes_total", "counter", "Connections that resumed after a frame they had seen.", FIELD(resumes));
    per_transport(&w, h, "tale_resumed_frames_total", "counter", "Held frames sent again to resuming connections.",
                  FIELD(replayed));

    histogram(&w, "tale_command_duration_seconds", "Time the engine took to handle one player command.", &m->command_seconds,
              tale_metrics_command_bounds);
    family(&w, "tale_input_rate_limited_total", "counter", "Commands dropped by limits.input_rate.");
    emitf(&w, "tale_input_rate_limited_total %llu\n", (unsigned long long)m->rate_limited);
    family(&w, "tale_backlog_dropped_frames_total", "counter",
           "Held frames dropped to stay within limits.session_backlog and limits.total_backlog.");
    emitf(&w, "tale_backlog_dropped_frames_total %llu\n", (unsigned long long)m->backlog_dropped);
    family(&w, "tale_sessions", "gauge", "Seats (sessions) open, attached or not.");
    emitf(&w, "tale_sessions %zu\n", h->sessions != NULL ? tale_sessions_count(h->sessions) : 0);
    family(&w, "tale_held_bytes", "gauge", "Bytes of frames held by all sessions for resume.");
    emitf(&w, "tale_held_bytes %zu\n", h->sessions != NULL ? tale_sessions_held_bytes(h->sessions) : 0);
    family(&w, "tale_tcp_connections", "gauge", "Accepted TCP connections open (any path, any state).");
    emitf(&w, "tale_tcp_connections %zu\n", h->n_conns);
    family(&w, "tale_http_responses_total", "counter", "HTTP responses by status class.");
    static const char *const classes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (size_t i = 0; i < 6; i++)
        emitf(&w, "tale_http_responses_total{code=\"%s\"} %llu\n", classes[i], (unsigned long long)m->http_by_class[i]);
    histogram(&w, "tale_event_loop_lag_seconds", "How late a periodic timer on the event loop fired.", &m->loop_lag_seconds,
              tale_metrics_lag_bounds);

    family(&w, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    emitf(&w, "process_resident_memory_bytes %llu\n", (unsigned long long)rss_bytes());
    family(&w, "process_open_fds", "gauge", "Number of open file descriptors.");
    emitf(&w, "process_open_fds %llu\n", (unsigned long long)open_fds());
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        family(&w, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        emitf(&w, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
    family(&w, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    emitf(&w, "process_start_time_seconds %lld\n", (long long)h->start_time);
}
