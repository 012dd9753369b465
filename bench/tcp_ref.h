/* tcp_ref.h - the loopback TCP ping-pong every ratio is taken against. */
#ifndef TALE_BENCH_TCP_REF_H
#define TALE_BENCH_TCP_REF_H

#include "bench.h"

/* After `warm` unmeasured round trips, run up to `count` (req_len bytes out, resp_len back) within
 * max_s seconds; latencies in ns go to samples (room for count).  Returns 0,
 * or -1 if the exchange failed (samples so far are kept in *n_out). */
int tale_bench_tcp_ref(size_t req_len, size_t resp_len, size_t warm, size_t count, double max_s, uint64_t *samples, size_t *n_out,
                       uint64_t *elapsed_out);

#endif
