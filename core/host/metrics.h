/*
 * metrics.h - the host's counters for the metrics plugin (issue #17).  Plain
 * uint64 increments: everything that touches them runs on the one loop
 * thread.  Gauges that are cheap to compute (sessions, RSS, descriptors) are
 * read when the exposition is written, not kept up to date.
 */
#ifndef TALE_METRICS_H
#define TALE_METRICS_H

#include <h2o.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tale_host;
struct tale_plugin;

/* Distinct close codes counted per transport; the last slot takes the rest. */
#define TALE_METRICS_CODES 12
#define TALE_METRICS_BUCKETS 12

/* A Prometheus histogram over fixed bounds (seconds). */
typedef struct tale_histogram {
    uint64_t counts[TALE_METRICS_BUCKETS]; /* not cumulative: written out as running sums */
    uint64_t count;
    double sum;
} tale_histogram_t;

/* What one transport plugin carried; kept in its tale_plugin_t. */
typedef struct tale_plugin_metrics {
    int transport;      /* it has opened a seat: its series are written from then on */
    uint64_t connects;  /* connections attached to a session */
    uint64_t connected; /* attached now */
    uint64_t seats;     /* sessions whose latest opening came through this transport */
    uint64_t frames_out, bytes_out;
    uint64_t commands;
    uint64_t refused;  /* frames the transport would not take (its queue was full): the connection went */
    uint64_t resumes;  /* attaches asking to resume after a seq */
    uint64_t replayed; /* held frames sent again on those resumes */
    struct {
        int code; /* 0: the transport had none (an event stream's end); -1: any other (the last slot) */
        uint64_t n;
    } closes[TALE_METRICS_CODES];
    size_t n_closes; /* slots in use */
} tale_plugin_metrics_t;

typedef struct tale_metrics {
    tale_histogram_t command_seconds;
    tale_histogram_t loop_lag_seconds;
    uint64_t rate_limited;     /* commands dropped by limits.input_rate */
    uint64_t backlog_dropped;  /* held frames dropped over session_backlog / total_backlog */
    uint64_t http_by_class[6]; /* HTTP responses by status class: [1] 1xx .. [5] 5xx, [0] other */
    /* loop lag: a periodic timer compares when it fires with when it was due */
    h2o_timeout_t lag_timeout;
    h2o_timeout_entry_t lag_entry;
    struct timespec lag_armed;
} tale_metrics_t;

void tale_metrics_closed(tale_plugin_metrics_t *m, int code);
void tale_metrics_observe(tale_histogram_t *hist, const double *bounds, double seconds);
/* Bounds of the two histograms (seconds, TALE_METRICS_BUCKETS each). */
extern const double tale_metrics_command_bounds[TALE_METRICS_BUCKETS];
extern const double tale_metrics_lag_bounds[TALE_METRICS_BUCKETS];

/* Seconds since `t0` on the monotonic clock. */
double tale_metrics_since(const struct timespec *t0);

/* Start and stop the loop-lag timer (server.c, around the run). */
void tale_metrics_start(struct tale_host *h);
void tale_metrics_stop(struct tale_host *h);

/* The whole exposition (Prometheus text format 0.0.4) through `out`, a line
 * or a few at a time. */
void tale_metrics_write(struct tale_host *h, void (*out)(void *ctx, const char *text, size_t len), void *ctx);

#endif
